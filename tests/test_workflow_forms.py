"""Every form GitHub's parser accepts is read; what it refuses is a PE-PARSE at the right place.

Workflows after GitHub's docs (workflow syntax, reusable workflows, YAML anchors); the list of
top-level keys comes from SchemaStore's schema vendored in schemas/vendor/schemastore/.
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from pathlib import Path

import pytest

from pe_policy.engine.pack import load_ruleset
from pe_policy.loaders import load_text
from pe_policy.loaders.workflow import vendored_schema, workflow_keys
from pe_policy.models.workflow import CompositeAction, Workflow
from pe_policy.pipeline import check

from .conftest import REPO, line_of
from .workflow_text import load, refused


def test_scalars_of_any_type_where_github_reads_text() -> None:
    doc = load("""
        name: 2024
        run-name: 1.10
        on: push
        jobs:
          a:
            name: true
            runs-on: ubuntu-latest
            steps:
              - run: true
              - name: 0x10
                run: 42
                shell: bash
                working-directory: 7
              - id: 1
                if: false
                continue-on-error: true
                timeout-minutes: 5
                run: echo
    """)
    model = doc.model
    assert isinstance(model, Workflow)
    # as written, not as YAML typed it (1.10 is not 1.1, 0x10 is not 16)
    assert (model.name, model.run_name, model.jobs["a"].name) == ("2024", "1.10", "true")
    first, second, third = model.jobs["a"].steps
    assert (first.run, second.name, second.run, second.working_directory) == (
        "true", "0x10", "42", "7")
    assert (third.id, third.if_, third.continue_on_error, third.timeout_minutes) == (
        "1", False, True, 5)
    assert doc.input["jobs"]["a"]["steps"][0]["run"] == "true"  # what Rego rules see too
    assert [s["commands"][0]["name"] for s in doc.input["scripts"]] == ["true", "42", "echo"]


def test_expressions_in_place_of_mappings_and_sequences() -> None:
    doc = load("""
        on: workflow_dispatch
        defaults: ${{ fromJSON(vars.DEFAULTS) }}
        jobs:
          setup:
            runs-on: ${{ fromJSON(vars.RUNNER_LABELS) }}
            outputs: ${{ fromJSON(vars.OUTPUTS) }}
            container: ${{ fromJSON(vars.CONTAINER) }}
            services: ${{ fromJSON(vars.SERVICES) }}
            strategy: ${{ fromJSON(vars.STRATEGY) }}
            env: ${{ fromJSON(vars.ENV) }}
            timeout-minutes: ${{ fromJSON(vars.TIMEOUT) }}
            continue-on-error: ${{ vars.LENIENT == 'true' }}
            steps:
              - uses: actions/setup-node@v4
                with: ${{ fromJSON(vars.NODE_INPUTS) }}
                env: ${{ fromJSON(vars.STEP_ENV) }}
          call:
            uses: octo-org/example-repo/.github/workflows/reusable.yml@main
            with: ${{ fromJSON(vars.CALL_INPUTS) }}
            secrets: ${{ fromJSON(vars.CALL_SECRETS) }}
    """)
    model = doc.model
    assert isinstance(model, Workflow)
    assert model.jobs["setup"].steps[0].with_ == "${{ fromJSON(vars.NODE_INPUTS) }}"
    assert model.jobs["call"].secrets == "${{ fromJSON(vars.CALL_SECRETS) }}"
    wheres = [use["where"] for use in doc.input["expressions"]]
    assert wheres == ["defaults", "runs-on", "outputs", "container", "services", "strategy", "env",
                      "timeout-minutes", "continue-on-error", "with", "env", "with", "secrets"]
    assert all(use["whole"] and use["name"] is None for use in doc.input["expressions"])


def test_anchors_and_merge_keys_keep_expressions() -> None:
    text = textwrap.dedent("""
        on: pull_request
        jobs:
          test: &test
            runs-on: ubuntu-latest
            env: &env
              PR_TITLE: ${{ github.event.pull_request.title }}
            steps: &steps
              - run: echo "$PR_TITLE" ${{ github.event.pull_request.body }}
          lint:
            <<: *test
            env:
              <<: *env
              EXTRA: ${{ github.head_ref }}
            steps: *steps
    """).lstrip()
    doc = load_text(text, "ci.yml", "workflow")
    located = {(tuple(use["path"]), use["line"]) for use in doc.input["expressions"]}
    lines = text.splitlines()
    body = next(i for i, line in enumerate(lines, 1) if "pull_request.body" in line)
    assert (("jobs", "test", "steps", 0, "run"), body) in located
    # the aliased copy is located at the alias: where a finding about the lint job belongs
    alias = next(i for i, line in enumerate(lines, 1) if "steps: *steps" in line)
    assert (("jobs", "lint", "steps", 0, "run"), alias) in located
    names = sorted(use["name"] for use in doc.input["expressions"]
                   if use["job"] == "lint" and use["where"] == "env")
    assert names == ["EXTRA", "PR_TITLE"]


def test_action_scalars_and_expressions() -> None:
    doc = load("""
        name: 123
        description: 4.5
        inputs:
          retries: {description: Retries, default: 3, required: false}
        runs:
          using: composite
          steps:
            - run: true
              shell: bash
            - uses: actions/cache@v4
              with: ${{ fromJSON(inputs.cache) }}
    """, kind="action", path="action.yml")
    assert isinstance(doc.model, CompositeAction)
    assert (doc.model.name, doc.model.description) == ("123", "4.5")
    assert doc.model.runs is not None and doc.model.runs.steps[0].run == "true"


@pytest.mark.parametrize(
    ("text", "needle", "words"),
    [
        ("on: push\nfoo: 1\njobs:\n  a:\n    runs-on: x\n    steps: [{run: x}]\n", "foo:",
         ["unknown top-level key 'foo'", "run-name"]),
        ("on: push\njobs:\n  build:\n    steps: [{run: make}]\n", "build:",
         ["jobs.build", "neither `runs-on` nor `uses`"]),
        ("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: a\n        run: b\n",
         "run: b", ["key 'run' is already defined"]),
        ("on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: a}]\n  a:\n    runs-on: y\n",
         "a:", ["key 'a' is already defined"]),
    ],
    ids=["unknown-top-level-key", "job-without-runs-on-or-uses", "duplicate-step-key",
         "duplicate-job"],
)
def test_what_github_refuses(text: str, needle: str, words: list[str], tmp_path: Path) -> None:
    error = refused(text)
    source = tmp_path / "ci.yml"
    source.write_text(text, encoding="utf-8")
    occurrence = 2 if "already defined" in words[0] and needle == "a:" else 1
    assert error.line == line_of(source, needle, occurrence), error
    line = text.splitlines()[error.line - 1]
    assert error.column == line.index(needle) + 1
    for word in words:
        assert word in error.message


def test_refused_file_is_a_finding_and_the_others_are_still_checked(tmp_repo: Path) -> None:
    workflows = tmp_repo / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        "on: push\nx-defaults: &d {runs-on: ubuntu-latest}\njobs:\n  a:\n    <<: *d\n"
        "    steps: [{run: make}]\n", encoding="utf-8")
    (workflows / "good.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps: [{uses: actions/checkout@v4}]\n", encoding="utf-8")
    ruleset = load_ruleset([REPO / "policies" / "workflow"])
    result = check([workflows / "bad.yml", workflows / "good.yml"], tmp_repo, ruleset=ruleset)
    parse = [(f.location.path, f.location.line, f.location.column) for f in result.findings
             if f.rule_id == "PE-PARSE"]
    assert parse == [(".github/workflows/bad.yml", 2, 1)]
    assert any(f.rule_id == "PE-WF-002" and f.location.path.endswith("good.yml")
               for f in result.findings)


def test_vendored_schema_is_the_one_recorded() -> None:
    readme = vendored_schema("README.md").read_text(encoding="utf-8")
    recorded = dict(re.findall(r"\| `([\w.-]+\.json)` \| \S+ \| `([0-9a-f]{64})` \|", readme))
    assert set(recorded) == {"github-workflow.json", "github-action.json"}
    for name, digest in recorded.items():
        assert hashlib.sha256(vendored_schema(name).read_bytes()).hexdigest() == digest
    assert vendored_schema("LICENSE").read_text(encoding="utf-8").lstrip().startswith(
        "Apache License")
    schema = json.loads(vendored_schema("github-workflow.json").read_text(encoding="utf-8"))
    assert schema["additionalProperties"] is False  # what makes an unknown key a refusal
    assert {"on", "jobs", "run-name", "permissions"} <= workflow_keys()
