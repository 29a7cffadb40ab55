package pe.workflow.untrusted_checkout_test

import data.pe.workflow.untrusted_checkout
import rego.v1

checkout_head := {"uses": "actions/checkout@0123", "with": {"ref": "${{ github.event.pull_request.head.sha }}"}}

test_checkout_head_then_run_is_denied_at_ref if {
	results := untrusted_checkout.deny with input as {"on": ["pull_request_target"], "jobs": {"b": {"steps": [checkout_head, {"name": "Install", "run": "npm ci"}]}}}
	count(results) == 1
	some r in results
	r.path == ["jobs", "b", "steps", 0, "with", "ref"]
	contains(r.msg, "'Install'")
}

test_checkout_head_without_running_it_is_allowed if {
	count(untrusted_checkout.deny) == 0 with input as {"on": ["pull_request_target"], "jobs": {"b": {"steps": [checkout_head]}}}
}

test_checkout_of_base_is_allowed if {
	count(untrusted_checkout.deny) == 0 with input as {"on": ["pull_request_target"], "jobs": {"b": {"steps": [{"uses": "actions/checkout@0123"}, {"run": "make"}]}}}
}

test_pull_request_trigger_is_not_privileged if {
	count(untrusted_checkout.deny) == 0 with input as {"on": ["pull_request"], "jobs": {"b": {"steps": [checkout_head, {"run": "make"}]}}}
}

test_local_action_after_fork_checkout_is_denied if {
	fork := {"uses": "actions/checkout@0123", "with": {"repository": "${{ github.event.pull_request.head.repo.full_name }}"}}
	count(untrusted_checkout.deny) == 1 with input as {"on": {"pull_request_target": {}}, "jobs": {"b": {"steps": [fork, {"uses": "./.github/actions/build"}]}}}
}

test_workflow_run_gh_pr_checkout_is_denied if {
	command := {"name": "gh", "arguments": ["pr", "checkout", "\"$PR\""], "text": "gh pr checkout \"$PR\"", "at": ["jobs", "b", "steps", 0, "run", "commands", 0]}
	script := {"scope": "step", "job": "b", "step": 0, "path": ["jobs", "b", "steps", 0, "run"], "commands": [command]}
	results := untrusted_checkout.deny with input as {"on": {"workflow_run": {"workflows": ["ci"]}}, "jobs": {"b": {"steps": [{"run": "gh pr checkout \"$PR\""}, {"run": "make test"}]}}, "scripts": [script]}
	some r in results
	r.path == script.path
	r.snippet == command.text
}

test_git_fetch_of_the_head_ref_is_denied_and_of_main_is_not if {
	command := {"name": "git", "arguments": ["fetch", "origin", "${{ github.head_ref }}"], "text": "git fetch origin ${{ github.head_ref }}", "at": ["c"], "line": 3, "column": 1, "end_line": 3, "end_column": 40}
	head := {"job": "b", "step": 0, "where": "run", "line": 3, "column": 18, "end_line": 3, "end_column": 40, "contexts": [{"path": "github.head_ref"}]}
	other := object.union(head, {"line": 9, "end_line": 9})
	wf := {"on": ["pull_request_target"], "jobs": {"b": {"steps": [{"run": "x"}, {"run": "make"}]}}, "scripts": [{"job": "b", "step": 0, "path": ["jobs", "b", "steps", 0, "run"], "commands": [command]}]}
	count(untrusted_checkout.deny) == 1 with input as object.union(wf, {"expressions": [head]})
	count(untrusted_checkout.deny) == 0 with input as object.union(wf, {"expressions": [other]})
}

download_triggering := {"uses": "actions/download-artifact@v4", "with": {"run-id": "${{ github.event.workflow_run.id }}", "github-token": "${{ github.token }}"}}

test_workflow_run_artifact_into_workspace_then_run_is_denied if {
	results := untrusted_checkout.deny with input as {"on": {"workflow_run": {"workflows": ["ci"]}}, "jobs": {"b": {"steps": [download_triggering, {"name": "Report", "run": "./report.sh"}]}}}
	count(results) == 1
	some r in results
	r.path == ["jobs", "b", "steps", 0, "uses"]
	contains(r.msg, "'Report'")
}

test_workflow_run_artifact_into_runner_temp_is_allowed if {
	into_temp := json.patch(download_triggering, [{"op": "add", "path": "/with/path", "value": "${{ runner.temp }}/artifacts"}])
	count(untrusted_checkout.deny) == 0 with input as {"on": ["workflow_run"], "jobs": {"b": {"steps": [into_temp, {"run": "cat \"$RUNNER_TEMP/artifacts/pr.txt\""}]}}}
}

gh_download(arguments) := {"scope": "step", "job": "b", "step": 0, "commands": [{"name": "gh", "arguments": arguments, "text": "gh run download", "at": ["jobs", "b", "steps", 0, "run", "commands", 0]}]}

test_gh_run_download_then_run_is_denied if {
	wf := {"on": ["workflow_run"], "jobs": {"b": {"steps": [{"run": "gh run download"}, {"run": "./dist/publish.sh"}]}}}
	results := untrusted_checkout.deny with input as object.union(wf, {"scripts": [gh_download(["run", "download", "$RUN_ID", "-n", "dist"])]})
	{r.path | some r in results} == {["jobs", "b", "steps", 0, "run", "commands", 0]}
	count(untrusted_checkout.deny) == 0 with input as object.union(wf, {"scripts": [gh_download(["run", "download", "-D", "${{ runner.temp }}/dist"])]})
}

unzip(arguments) := {"scope": "step", "job": "b", "step": 1, "commands": [{"name": "unzip", "arguments": arguments, "text": "unzip pr.zip", "at": ["x"]}]}

test_github_script_download_then_unzip_in_workspace_is_denied if {
	fetch := {"uses": "actions/github-script@v7", "with": {"script": "await github.rest.actions.downloadArtifact({...})"}}
	wf := {"on": ["workflow_run"], "jobs": {"b": {"steps": [fetch, {"run": "unzip pr.zip"}, {"run": "./comment.sh"}]}}}
	count(untrusted_checkout.deny) == 1 with input as object.union(wf, {"scripts": [unzip(["pr.zip"])]})
	count(untrusted_checkout.deny) == 0 with input as object.union(wf, {"scripts": [unzip(["pr.zip", "-d", "/tmp/pr"])]})
}

test_artifact_download_outside_workflow_run_is_allowed if {
	count(untrusted_checkout.deny) == 0 with input as {"on": ["push"], "jobs": {"b": {"steps": [download_triggering, {"run": "make"}]}}}
}
