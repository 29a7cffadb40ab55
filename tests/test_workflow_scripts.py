"""`run:` scripts read as bash (tree-sitter-bash): variables, commands, writes to GitHub's files.

Scripts after GitHub's docs ("Workflow commands for GitHub Actions": setting an environment
variable, adding a system path, setting an output parameter, multiline strings).
"""

from __future__ import annotations

from typing import Any

from pe_policy.document import Document
from pe_policy.models.workflow import Workflow

from .workflow_text import load, position_of, steps

WORKFLOW_COMMANDS = """
    on: pull_request_target
    jobs:
      build:
        runs-on: ubuntu-latest
        steps:
          - name: Set the value
            id: step_one
            env:
              TITLE: ${{ github.event.pull_request.title }}
            run: |
              echo "action_state=yellow" >> "$GITHUB_ENV"
              echo "PR_TITLE=$TITLE" >> $GITHUB_ENV
              echo "$HOME/.local/bin" >> ${GITHUB_PATH}
              echo "head=${{ github.head_ref }}" | tee -a "$GITHUB_OUTPUT"
              {
                echo 'JSON_RESPONSE<<EOF'
                curl https://example.com
                echo EOF
              } >> "$GITHUB_ENV"
              cat <<EOF >> "$GITHUB_OUTPUT"
              body=${{ github.event.pull_request.body }}
              EOF
              printf '%s\\n' "$ACTION_STATE" > notes.txt
"""


def writes(doc: Document) -> list[tuple[Any, ...]]:
    [script] = doc.input["scripts"]
    return [(w["file"], w["command"], w["names"], w["variables"], w["expressions"])
            for w in script["writes"]]


def test_writes_to_github_files() -> None:
    doc = load(WORKFLOW_COMMANDS)
    run = ["jobs", "build", "steps", 0, "run"]
    assert writes(doc) == [
        ("GITHUB_ENV", "echo", ["action_state"], [], []),
        ("GITHUB_ENV", "echo", ["PR_TITLE"], ["TITLE"], []),
        ("GITHUB_PATH", "echo", [], ["HOME"], []),
        ("GITHUB_OUTPUT", "tee", ["head"], [], [[*run, 0]]),
        ("GITHUB_ENV", "compound_statement", ["JSON_RESPONSE"], [], []),
        ("GITHUB_OUTPUT", "cat", ["body"], [], [[*run, 1]]),
    ]
    # the expression a write names is one of the file's parsed expressions
    [script] = doc.input["scripts"]
    ats = [use["at"] for use in doc.input["expressions"]]
    assert all(at in ats for write in script["writes"] for at in write["expressions"])
    title = script["writes"][1]
    assert (title["line"], title["column"]) == position_of(doc, 'echo "PR_TITLE')
    assert doc.location(title["at"]).line == title["line"]


def test_variables_and_commands() -> None:
    doc = load(WORKFLOW_COMMANDS)
    [script] = doc.input["scripts"]
    assert script["shell"] == "bash" and script["parsed"] and script["complete"]
    names = [(v["name"], v["quoted"]) for v in script["variables"]]
    assert names == [("GITHUB_ENV", True), ("TITLE", True), ("GITHUB_ENV", False),
                     ("HOME", True), ("GITHUB_PATH", False), ("GITHUB_OUTPUT", True),
                     ("GITHUB_ENV", True), ("GITHUB_OUTPUT", True), ("ACTION_STATE", True)]
    for variable in script["variables"]:
        line, column = variable["line"], variable["column"]
        assert doc.lines[line - 1][column - 1:variable["end_column"] - 1] == variable["text"]
    commands = [(c["name"], c["arguments"]) for c in script["commands"]]
    assert ("curl", ["https://example.com"]) in commands
    assert ("printf", ["%s\\n", '"$ACTION_STATE"']) in commands
    model = doc.model
    assert isinstance(model, Workflow)
    assert model.scripts[0].writes[1].names == ["PR_TITLE"]


LOGIN = """
    on: push
    jobs:
      publish:
        runs-on: ubuntu-latest
        env:
          REGISTRY_TOKEN: ${{ secrets.REGISTRY_TOKEN }}
        steps:
          - run: |
              echo "$REGISTRY_TOKEN" | docker login ghcr.io -u "$GITHUB_ACTOR" --password-stdin
              echo "token=$REGISTRY_TOKEN" >> .npmrc
              echo "::add-mask::$REGISTRY_TOKEN"
              digest=$(printf '%s' "$REGISTRY_TOKEN" | sha256sum)
              echo "using ${REGISTRY_TOKEN} for $GITHUB_REPOSITORY" >&2
              if [ -n "$DEBUG" ]; then echo "token: $REGISTRY_TOKEN"; fi
"""


def test_where_each_command_prints() -> None:
    """A command's output goes to the next command of a pipeline, a file, a substitution, or
    the job log (stderr included): what PE-WF-008 needs to tell a leak from a login."""
    [script] = load(LOGIN).input["scripts"]
    printed = [(c["name"], c["stdout"], c["variables"]) for c in script["commands"]]
    assert printed == [
        ("echo", "pipe", ["REGISTRY_TOKEN"]),
        ("docker", "log", ["GITHUB_ACTOR"]),
        ("echo", "file", ["REGISTRY_TOKEN"]),
        ("echo", "log", ["REGISTRY_TOKEN"]),
        ("printf", "pipe", ["REGISTRY_TOKEN"]),
        ("sha256sum", "captured", []),
        ("echo", "log", ["REGISTRY_TOKEN", "GITHUB_REPOSITORY"]),
        ("echo", "log", ["REGISTRY_TOKEN"]),
    ]


DOWNLOADS = """
    on:
      workflow_run:
        workflows: [ci]
        types: [completed]
    jobs:
      report:
        runs-on: ubuntu-latest
        steps:
          - env:
              RUN_ID: ${{ github.event.workflow_run.id }}
              GH_TOKEN: ${{ github.token }}
            run: |
              gh run download "$RUN_ID" -n coverage -D "$RUNNER_TEMP/coverage"
              gh run download ${{ github.event.workflow_run.id }} --dir=${{ runner.temp }}/pr
              unzip pr.zip -d ${RUNNER_TEMP}/pr-$RUN_ID
              unzip pr.zip -d /tmp/pr
"""


def test_what_each_argument_expands_and_where() -> None:
    """Per argument, its variables and `${{ }}` with their offsets into the argument as
    written: what PE-WF-007 needs to tell a download into `$RUNNER_TEMP` from one into the
    workspace, without reading the argument's text."""
    doc = load(DOWNLOADS)
    [script] = doc.input["scripts"]
    run = ["jobs", "report", "steps", 0, "run"]
    assert [(c["arguments"], c["expansions"]) for c in script["commands"]] == [
        (["run", "download", '"$RUN_ID"', "-n", "coverage", "-D", '"$RUNNER_TEMP/coverage"'],
         [[], [], [{"variable": "RUN_ID", "offset": 1}], [], [], [],
          [{"variable": "RUNNER_TEMP", "offset": 1}]]),
        (["run", "download", "${{ github.event.workflow_run.id }}", "--dir=${{ runner.temp }}/pr"],
         [[], [], [{"expression": [*run, 0], "offset": 0}],
          [{"expression": [*run, 1], "offset": 6}]]),
        (["pr.zip", "-d", "${RUNNER_TEMP}/pr-$RUN_ID"],
         [[], [], [{"variable": "RUNNER_TEMP", "offset": 0}, {"variable": "RUN_ID", "offset": 18}]]),
        (["pr.zip", "-d", "/tmp/pr"], []),  # nothing expands: no list per argument
    ]
    # the `at` of an expansion is one of the file's parsed expressions
    temp = [e for e in doc.input["expressions"] if e["at"] == [*run, 1]]
    assert [e["ast"] for e in temp] == [
        {"type": "context", "path": "runner.temp", "parts": ["runner", "temp"]}]
    model = doc.model
    assert isinstance(model, Workflow)
    [parsed] = model.scripts
    assert parsed.commands[1].expansions[3][0].offset == 6

def test_shell_is_chosen_as_github_chooses_it() -> None:
    doc = load("""
        on: push
        defaults:
          run:
            shell: bash --noprofile --norc -eo pipefail {0}
        jobs:
          linux:
            runs-on: ubuntu-latest
            steps:
              - run: echo "$A"
              - shell: python
                run: print(1)
          windows:
            runs-on: windows-latest
            steps:
              - run: echo $env:A
          windows-bash:
            runs-on: [self-hosted, windows]
            defaults: {run: {shell: sh}}
            steps:
              - run: echo "$B" >> $GITHUB_ENV
    """)
    shells = [(s["job"], s["step"], s["shell"], s["parsed"]) for s in doc.input["scripts"]]
    # the workflow default wins over the runner's; a job's default over the workflow's
    assert shells == [("linux", 0, "bash", True), ("linux", 1, "python", False),
                      ("windows", 0, "bash", True), ("windows-bash", 0, "sh", True)]


def test_windows_runner_defaults_to_pwsh() -> None:
    doc = load("""
        on: push
        jobs:
          windows:
            runs-on: windows-latest
            steps:
              - run: echo "x=1" >> $env:GITHUB_OUTPUT
    """)
    [script] = doc.input["scripts"]
    assert (script["shell"], script["parsed"], script["writes"]) == ("pwsh", False, [])


def test_scalar_run_and_broken_bash() -> None:
    doc = load(steps("push", """
              - run: true
              - run: |
                  if [ "$X" = 1 ]; then
                    echo "unterminated
    """))
    first, second = doc.input["scripts"]
    assert first["complete"] and [c["name"] for c in first["commands"]] == ["true"]
    assert not second["complete"] and second["errors"]


def test_composite_action_scripts() -> None:
    doc = load("""
        name: Setup
        runs:
          using: composite
          steps:
            - shell: bash
              run: echo "VERSION=${{ inputs.version }}" >> "$GITHUB_ENV"
    """, kind="action", path="action.yml")
    [script] = doc.input["scripts"]
    assert (script["scope"], script["step"]) == ("step", 0)
    assert script["writes"][0]["expressions"] == [["runs", "steps", 0, "run", 0]]
