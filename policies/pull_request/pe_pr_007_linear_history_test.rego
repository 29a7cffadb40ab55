package pe.pull_request.linear_history_test

import data.pe.pull_request.linear_history
import rego.v1

a := "1111111111111111111111111111111111111111"

b := "2222222222222222222222222222222222222222"

m := "3333333333333333333333333333333333333333"

test_linear_commits_pass if {
	count(linear_history.deny) == 0 with input as {"unknown": {}, "commits": [
		{"sha": b, "subject": "feat: b", "parents": [a]},
		{"sha": m, "subject": "feat: c", "parents": [b]},
	]}
}

test_merge_commit_is_denied_at_its_parents if {
	results := linear_history.deny with input as {"unknown": {}, "commits": [
		{"sha": b, "subject": "feat: b", "parents": [a]},
		{"sha": m, "subject": "Merge branch 'main'", "parents": [b, a]},
	]}
	count(results) == 1
	some r in results
	r.path == ["commits", 1, "parents"]
	contains(r.msg, "333333333333")
}

test_commit_without_subject_is_still_named if {
	results := linear_history.deny with input as {"unknown": {}, "commits": [{"sha": m, "parents": [b, a]}]}
	some r in results
	startswith(r.msg, "commit 333333333333 is a merge commit")
}

test_unknown_parents_is_one_info if {
	results := linear_history.deny with input as {
		"unknown": {"commit_parents": "gh does not report commit parents"},
		"commits": [{"sha": b}, {"sha": m}],
	}
	count(results) == 1
	some r in results
	r.severity == "info"
}

test_no_commits_is_one_info if {
	results := linear_history.deny with input as {"unknown": {"commits": "no commit list"}}
	count(results) == 1
}

test_some_commits_without_parents_are_listed if {
	results := linear_history.deny with input as {"unknown": {}, "commits": [{"sha": b, "parents": [a]}, {"sha": m}]}
	count(results) == 1
	some r in results
	r.severity == "info"
	contains(r.msg, "333333333333")
}
