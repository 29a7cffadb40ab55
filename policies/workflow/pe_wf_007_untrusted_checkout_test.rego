package pe.workflow.untrusted_checkout_test

import data.pe.workflow.untrusted_checkout
import rego.v1

checkout_head := {"uses": "actions/checkout@0123", "with": {"ref": "${{ github.event.pull_request.head.sha }}"}}

# A parsed `${{ }}` in the input `with.<name>` of step `step` of job `b`, as the loader gives it
# (the fields the rule reads): the contexts in it (dotted, `flows` as given) and its AST.
with_expression(step, name, ordinal, text, contexts, ast) := {
	"path": ["jobs", "b", "steps", step, "with", name], "at": ["jobs", "b", "steps", step, "with", name, ordinal],
	"scope": "step", "job": "b", "step": step, "where": "with", "name": name, "key_path": ["with", name],
	"text": text, "offset": 0, "ast": ast, "functions": [],
	"contexts": [{"path": path, "parts": split(path, "."), "flows": flows} | some [path, flows] in contexts],
}

context_ast(path) := {"type": "context", "path": path, "parts": split(path, ".")}

# the expression of checkout_head's ref
head_sha := with_expression(0, "ref", 0, checkout_head["with"].ref, [["github.event.pull_request.head.sha", true]], context_ast("github.event.pull_request.head.sha"))

test_checkout_head_then_run_is_denied_at_ref if {
	results := untrusted_checkout.deny with input as {"on": ["pull_request_target"], "jobs": {"b": {"steps": [checkout_head, {"name": "Install", "run": "npm ci"}]}}, "expressions": [head_sha]}
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
	full_name := "github.event.pull_request.head.repo.full_name"
	parsed := with_expression(0, "repository", 0, fork["with"].repository, [[full_name, true]], context_ast(full_name))
	count(untrusted_checkout.deny) == 1 with input as {"on": {"pull_request_target": {}}, "jobs": {"b": {"steps": [fork, {"uses": "./.github/actions/build"}]}}, "expressions": [parsed]}
}

# judged from the parsed expression, not its text: the head's SHA only compared (it never
# becomes the ref), or named in a string literal, is not a checkout of the head; a head
# context in any spelling, or chosen by `&&`/`||`, is
test_checkout_ref_is_judged_from_its_parsed_expression if {
	wf := {"on": ["pull_request_target"], "jobs": {"b": {"steps": [checkout_head, {"run": "make"}]}}}
	compared := with_expression(0, "ref", 0, "${{ github.event.pull_request.head.sha == github.sha && 'main' || 'dev' }}", [["github.event.pull_request.head.sha", false], ["github.sha", false]], null)
	count(untrusted_checkout.deny) == 0 with input as object.union(wf, {"expressions": [compared]})
	literal := with_expression(0, "ref", 0, "${{ inputs.ref || 'github.head_ref' }}", [["inputs.ref", true]], null)
	count(untrusted_checkout.deny) == 0 with input as object.union(wf, {"expressions": [literal]})
	chosen := with_expression(0, "ref", 0, "${{ github.event_name == 'pull_request_target' && GitHub.Event.Pull_Request.Head.SHA || github.sha }}", [["github.event_name", false], ["github.event.pull_request.head.sha", true], ["github.sha", true]], null)
	count(untrusted_checkout.deny) == 1 with input as object.union(wf, {"expressions": [chosen]})
}

test_checkout_of_the_pull_request_ref_written_out_is_denied if {
	merge := {"uses": "actions/checkout@0123", "with": {"ref": "refs/pull/${{ github.event.number }}/merge"}}
	wf := {"on": ["pull_request_target"], "jobs": {"b": {"steps": [merge, {"run": "make"}]}}}
	number := with_expression(0, "ref", 0, "${{ github.event.number }}", [["github.event.number", true]], context_ast("github.event.number"))
	count(untrusted_checkout.deny) == 1 with input as object.union(wf, {"expressions": [number]})
	formatted := {"uses": "actions/checkout@0123", "with": {"ref": "${{ format('refs/pull/{0}/head', github.event.number) }}"}}
	call := {"type": "call", "name": "format", "arguments": [{"type": "literal", "value": "refs/pull/{0}/head"}, context_ast("github.event.number")]}
	format_expression := with_expression(0, "ref", 0, formatted["with"].ref, [["github.event.number", true]], call)
	count(untrusted_checkout.deny) == 1 with input as {"on": ["pull_request_target"], "jobs": {"b": {"steps": [formatted, {"run": "make"}]}}, "expressions": [format_expression]}
}

# the code-running actions by their parsed name: any case, any ref, a block scalar's spaces
test_code_running_action_after_checkout_is_denied if {
	count(untrusted_checkout.deny) == 0 with input as {"on": ["pull_request_target"], "jobs": {"b": {"steps": [checkout_head, {"uses": "docker/build-push-action-lint@v1"}]}}, "expressions": [head_sha]}
	every uses in ["Docker/Build-Push-Action@v6", " docker/bake-action@0123\n", "github/codeql-action/autobuild@v3"] {
		count(untrusted_checkout.deny) == 1 with input as {"on": ["pull_request_target"], "jobs": {"b": {"steps": [checkout_head, {"uses": uses}]}}, "expressions": [head_sha]}
	}
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

run_id := with_expression(0, "run-id", 0, "${{ github.event.workflow_run.id }}", [["github.event.workflow_run.id", true]], context_ast("github.event.workflow_run.id"))

test_workflow_run_artifact_into_workspace_then_run_is_denied if {
	results := untrusted_checkout.deny with input as {"on": {"workflow_run": {"workflows": ["ci"]}}, "jobs": {"b": {"steps": [download_triggering, {"name": "Report", "run": "./report.sh"}]}}, "expressions": [run_id]}
	count(results) == 1
	some r in results
	r.path == ["jobs", "b", "steps", 0, "uses"]
	contains(r.msg, "'Report'")
}

# the run id judged from the parsed expression: `workflow_run` in a string literal is not
# the triggering run's id
test_artifact_of_another_run_is_allowed if {
	other := json.patch(download_triggering, [{"op": "replace", "path": "/with/run-id", "value": "${{ inputs.run_id || 'workflow_run' }}"}])
	parsed := with_expression(0, "run-id", 0, other["with"]["run-id"], [["inputs.run_id", true]], null)
	count(untrusted_checkout.deny) == 0 with input as {"on": ["workflow_run"], "jobs": {"b": {"steps": [other, {"run": "./report.sh"}]}}, "expressions": [parsed]}
}

# a path under `${{ runner.temp }}` (parsed: any spacing, quoted) is outside the workspace; a
# path that only mentions it (`${{ runner.temp }}` later in it, or another context) is not
test_workflow_run_artifact_into_runner_temp_is_allowed if {
	temp := with_expression(0, "path", 0, "${{ runner.temp }}", [["runner.temp", true]], context_ast("runner.temp"))
	every case in [
		["${{ runner.temp }}/artifacts", [run_id, temp]],
		["'${{runner.temp}}/artifacts'", [run_id, object.union(temp, {"text": "${{runner.temp}}", "offset": 1})]],
		["/tmp/artifacts", [run_id]],
		["${RUNNER_TEMP}/artifacts", [run_id]],
	] {
		into_temp := json.patch(download_triggering, [{"op": "add", "path": "/with/path", "value": case[0]}])
		count(untrusted_checkout.deny) == 0 with input as {"on": ["workflow_run"], "jobs": {"b": {"steps": [into_temp, {"run": "cat \"$RUNNER_TEMP/artifacts/pr.txt\""}]}}, "expressions": case[1]}
	}
}

test_workflow_run_artifact_into_a_path_that_only_names_runner_temp_is_denied if {
	into_workspace := json.patch(download_triggering, [{"op": "add", "path": "/with/path", "value": "dist/${{ runner.temp }}"}])
	temp := object.union(
		with_expression(0, "path", 0, "${{ runner.temp }}", [["runner.temp", true]], context_ast("runner.temp")),
		{"offset": 5}, # after `dist/`
	)
	count(untrusted_checkout.deny) == 1 with input as {"on": ["workflow_run"], "jobs": {"b": {"steps": [into_workspace, {"run": "./report.sh"}]}}, "expressions": [run_id, temp]}
	other := json.patch(download_triggering, [{"op": "add", "path": "/with/path", "value": "${{ runner.tool_cache }}/x"}])
	cache := with_expression(0, "path", 0, "${{ runner.tool_cache }}", [["runner.tool_cache", true]], context_ast("runner.tool_cache"))
	count(untrusted_checkout.deny) == 1 with input as {"on": ["workflow_run"], "jobs": {"b": {"steps": [other, {"run": "./report.sh"}]}}, "expressions": [run_id, cache]}
}

# a `gh run download` command of the shell model: its arguments and what each expands
gh_download(arguments, expansions) := {"scope": "step", "job": "b", "step": 0, "commands": [{"name": "gh", "arguments": arguments, "expansions": expansions, "text": "gh run download", "at": ["jobs", "b", "steps", 0, "run", "commands", 0]}]}

run_temp := {"path": ["jobs", "b", "steps", 0, "run"], "at": ["jobs", "b", "steps", 0, "run", 0], "where": "run", "ast": context_ast("runner.temp")}

test_gh_run_download_then_run_is_denied if {
	wf := {"on": ["workflow_run"], "jobs": {"b": {"steps": [{"run": "gh run download"}, {"run": "./dist/publish.sh"}]}}, "expressions": [run_temp]}
	results := untrusted_checkout.deny with input as object.union(wf, {"scripts": [gh_download(["run", "download", "\"$RUN_ID\"", "-n", "dist"], [[], [], [{"variable": "RUN_ID", "offset": 1}], [], []])]})
	{r.path | some r in results} == {["jobs", "b", "steps", 0, "run", "commands", 0]}
	into_temp := gh_download(["run", "download", "-D", "${{ runner.temp }}/dist"], [[], [], [], [{"expression": run_temp.at, "offset": 0}]])
	count(untrusted_checkout.deny) == 0 with input as object.union(wf, {"scripts": [into_temp]})
}

# where the directory goes, as the shell model says: `$RUNNER_TEMP` (quoted or not) or a
# parsed `${{ runner.temp }}` first in it is the temp directory; a single-quoted
# '$RUNNER_TEMP' (no expansion: a directory of that name in the workspace), another
# variable whose name starts alike, or the variable later in the path are not
test_gh_run_download_directory_is_read_from_the_shell_model if {
	wf := {"on": ["workflow_run"], "jobs": {"b": {"steps": [{"run": "gh run download"}, {"run": "./dist/publish.sh"}]}}, "expressions": [run_temp]}
	every case in [
		["-D", "\"$RUNNER_TEMP/pr\"", [{"variable": "RUNNER_TEMP", "offset": 1}]],
		["--dir", "${RUNNER_TEMP}/pr-$RUN_ID", [{"variable": "RUNNER_TEMP", "offset": 0}, {"variable": "RUN_ID", "offset": 18}]],
		["--dir=\"${{ runner.temp }}/pr\"", null, [{"expression": run_temp.at, "offset": 7}]],
		["-D", "/tmp/pr", []],
	] {
		script := downloads_into(case)
		count(untrusted_checkout.deny) == 0 with input as object.union(wf, {"scripts": [script]})
	}
	every case in [
		["-D", "$RUNNER_TEMP/pr", []],
		["-D", "\"$RUNNER_TEMPLATES/pr\"", [{"variable": "RUNNER_TEMPLATES", "offset": 1}]],
		["-D", "dist/$RUNNER_TEMP", [{"variable": "RUNNER_TEMP", "offset": 5}]],
		["--dir=dist/${{ runner.temp }}", null, [{"expression": run_temp.at, "offset": 11}]],
	] {
		script := downloads_into(case)
		count(untrusted_checkout.deny) == 1 with input as object.union(wf, {"scripts": [script]})
	}
}

# `gh run download` with [flag, directory, expansions of the directory] (directory null: the
# flag is `--dir=...`, one argument)
downloads_into(case) := gh_download(["run", "download", case[0]], [[], [], case[2]]) if {
	case[1] == null
} else := gh_download(["run", "download", case[0], case[1]], [[], [], [], case[2]])

unzip(arguments) := {"scope": "step", "job": "b", "step": 1, "commands": [{"name": "unzip", "arguments": arguments, "expansions": [[] | some _ in arguments], "text": "unzip pr.zip", "at": ["x"]}]}

test_github_script_download_then_unzip_in_workspace_is_denied if {
	fetch := {"uses": "actions/github-script@v7", "with": {"script": "await github.rest.actions.downloadArtifact({...})"}}
	wf := {"on": ["workflow_run"], "jobs": {"b": {"steps": [fetch, {"run": "unzip pr.zip"}, {"run": "./comment.sh"}]}}}
	count(untrusted_checkout.deny) == 1 with input as object.union(wf, {"scripts": [unzip(["pr.zip"])]})
	count(untrusted_checkout.deny) == 0 with input as object.union(wf, {"scripts": [unzip(["pr.zip", "-d", "/tmp/pr"])]})
}

test_artifact_download_outside_workflow_run_is_allowed if {
	count(untrusted_checkout.deny) == 0 with input as {"on": ["push"], "jobs": {"b": {"steps": [download_triggering, {"run": "make"}]}}, "expressions": [run_id]}
}
