"""The workflow / action loader: typed model, positions, and errors at the right line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pe_policy.engine.pack import load_ruleset
from pe_policy.loaders import load_file, load_text
from pe_policy.models.workflow import CompositeAction, Workflow
from pe_policy.pipeline import check

from .conftest import FIXTURES, REPO, line_of
from .workflow_text import load
from .workflow_text import refused as parse_error

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"


def test_on_key_stays_a_string_key() -> None:
    doc = load("""
        on:
          push: {branches: [main]}
          pull_request:
        jobs: {}
    """)
    assert "on" in doc.input and True not in doc.input
    assert isinstance(doc.model, Workflow)
    assert doc.model.triggers == ["push", "pull_request"]
    assert load("on: push\njobs: {}\n").model.triggers == ["push"]
    assert load("on: [push, pull_request]\njobs: {}\n").model.triggers == [
        "push", "pull_request"]


def test_yaml_1_2_scalars() -> None:
    doc = load("""
        on: push
        jobs:
          a:
            runs-on: ubuntu-latest
            continue-on-error: yes
            timeout-minutes: 010
            steps: [{run: echo}]
    """)
    job = doc.input["jobs"]["a"]
    assert job["continue-on-error"] == "yes"  # YAML 1.1 would say True: GitHub says it's a string
    assert job["timeout-minutes"] == 10


def test_positions_of_nested_nodes() -> None:
    text = textwrap.dedent(f"""
        on: push
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@{SHA}
              - name: Test
                run: |
                  pip install .
                  pytest
    """).lstrip()
    doc = load_text(text, ".github/workflows/ci.yml", "workflow")
    lines = text.splitlines()
    uses = doc.location(("jobs", "build", "steps", 0, "uses"))
    assert lines[uses.line - 1].strip().startswith("- uses:")
    assert uses.column == lines[uses.line - 1].index("uses") + 1
    assert doc.location(("jobs", "build", "steps", 1, "run"), snippet="pytest").line == len(lines)
    # a path that does not exist falls back to its nearest located ancestor
    assert doc.location(("jobs", "build", "steps", 1, "with", "x")).line == uses.line + 1


def test_anchors_aliases_and_merge_keys() -> None:
    text = textwrap.dedent("""
        on: push
        permissions: {}
        jobs:
          lint: &job
            runs-on: ubuntu-latest
            timeout-minutes: 15
            permissions: {contents: read}
            steps: &steps
              - uses: actions/checkout@v4
              - run: ruff check .
          types:
            <<: *job
            timeout-minutes: 5
            steps: *steps
    """).lstrip()
    doc = load_text(text, "anchors.yml", "workflow")
    model = doc.model
    assert isinstance(model, Workflow)
    assert model.jobs["lint"].runs_on == "ubuntu-latest"
    assert model.jobs["types"].timeout_minutes == 5  # the job's own key wins over the merge
    assert model.jobs["types"].permissions == {"contents": "read"}
    assert [s.run for s in model.jobs["types"].steps] == [None, "ruff check ."]
    assert "<<" not in doc.input["jobs"]["types"]
    lines = text.splitlines()
    # the aliased copy is located at the alias, the original at its own line
    assert lines[doc.location(("jobs", "lint", "steps", 0, "uses")).line - 1].strip() == (
        "- uses: actions/checkout@v4")
    assert lines[doc.location(("jobs", "types", "steps", 0, "uses")).line - 1].strip() == (
        "steps: *steps")


def test_unpinned_action_behind_an_alias_is_reported_at_both_uses(tmp_repo: Path) -> None:
    workflow = tmp_repo / ".github" / "workflows" / "ci.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(textwrap.dedent("""
        on: workflow_dispatch
        permissions: {}
        jobs:
          a:
            runs-on: ubuntu-latest
            steps: &steps
              - uses: actions/checkout@v4
          b:
            runs-on: ubuntu-latest
            steps: *steps
    """).lstrip(), encoding="utf-8")
    ruleset = load_ruleset([REPO / "policies" / "workflow"])
    result = check([workflow], tmp_repo, ruleset=ruleset)
    assert sorted(f.location.line for f in result.active if f.rule_id == "PE-WF-002") == [
        line_of(workflow, "actions/checkout@v4"), line_of(workflow, "steps: *steps")]


@pytest.mark.parametrize(
    ("text", "needle", "words"),
    [
        ("on: push\njobs:\n  build:\n    runs-on: x\n    steps: make test\n", "steps:",
         ["jobs.build.steps", "list"]),
        ("on: push\njobs:\n  build:\n    needs: 5\n    steps: []\n", "needs:",
         ["jobs.build.needs"]),
        ("on: push\njobs:\n  a:\n    steps:\n      - run: make\n      - 7\n", "- 7",
         ["jobs.a.steps.1"]),
        ("on: push\njobs:\n  a:\n    permissions: {contents: [read]}\n", "permissions:",
         ["jobs.a.permissions"]),
        ("on: push\njobs: [build, test]\n", "jobs:", ["jobs"]),
    ],
    ids=["steps-string", "needs-int", "step-not-mapping", "permission-list", "jobs-list"],
)
def test_type_errors_at_the_offending_line(text: str, needle: str, words: list[str],
                                           tmp_path: Path) -> None:
    error = parse_error(text)
    source = tmp_path / "ci.yml"
    source.write_text(text, encoding="utf-8")
    assert error.line == line_of(source, needle)
    for word in words:
        assert word in error.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("", 1),
        ("- on: push\n", 1),
        ("on: push\njobs:\n  a:\n\tsteps: []\n", 4),
        ("on: push\njobs:\n  a: {steps: [\n", 4),
        ("on: push\njobs:\n  a:\n    steps: *missing\n", 4),
    ],
    ids=["empty", "top-level-list", "tab", "unclosed-flow", "unknown-alias"],
)
def test_malformed_files_raise_parse_error_with_line(text: str, line: int) -> None:
    assert parse_error(text).line == line


def test_parse_error_becomes_a_finding_not_a_traceback(tmp_repo: Path) -> None:
    workflow = tmp_repo / ".github" / "workflows" / "broken.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("on: push\njobs:\n  build:\n    steps: make test\n", encoding="utf-8")
    ruleset = load_ruleset([REPO / "policies" / "workflow"])
    result = check([workflow], tmp_repo, ruleset=ruleset)
    assert [(f.rule_id, f.location.line) for f in result.findings] == [("PE-PARSE", 4)]


def test_composite_action() -> None:
    path = FIXTURES / "workflow" / "good" / ".github" / "actions" / "setup-python-env" / "action.yml"
    doc = load_file(path, "action.yml", "action")
    model = doc.model
    assert isinstance(model, CompositeAction) and model.runs is not None
    assert model.runs.using == "composite"
    assert len(model.runs.steps or []) == 2
    assert doc.location(("runs", "steps", 1, "run")).line == line_of(path, "run: |")
    [script] = model.scripts
    assert script.path == ["runs", "steps", 1, "run"] and script.job is None and script.step == 1


def test_action_errors_name_the_action_metadata() -> None:
    error = parse_error("name: x\nruns:\n  using: composite\n  steps: run this\n", "action")
    assert error.line == 4 and "action metadata" in error.message


def test_unknown_keys_are_kept() -> None:
    doc = load("""
        on: push
        jobs:
          a:
            runs-on: ubuntu-latest
            services: {db: {image: postgres}}
            x-custom: 1
            steps: [{run: make, x-step: 2}]
    """)
    assert doc.input["jobs"]["a"]["x-custom"] == 1
    assert doc.input["jobs"]["a"]["steps"][0]["x-step"] == 2




def test_expressions_behind_aliases_and_merge_keys_are_read_where_they_land() -> None:
    """The loader reads a file's expressions from what load_yaml recorded, in the file's order,
    only when the data is a tree of the file's own nodes: an alias or a merge key puts a
    string at a second path, which only the walk of the data finds."""
    doc = load("""
        on: push
        env: &env
          TITLE: ${{ github.event.issue.title }}
        jobs:
          a: &job
            runs-on: ubuntu-latest
            if: github.event_name == 'push'
            steps:
              - run: echo "${{ github.head_ref }}"
          b:
            <<: *job
            env: *env
    """)
    assert [use["path"] for use in doc.input["expressions"]] == [
        ["env", "TITLE"], ["jobs", "a", "if"], ["jobs", "a", "steps", 0, "run"],
        ["jobs", "b", "if"], ["jobs", "b", "steps", 0, "run"], ["jobs", "b", "env", "TITLE"]]
    # the copies are placed where they land: the mapping that merges them, the alias
    lines = (doc.text or "").splitlines()
    located = {tuple(use["path"]): lines[use["line"] - 1].strip()
               for use in doc.input["expressions"]}
    assert located[("jobs", "b", "if")] == "b:"
    assert located[("jobs", "b", "env", "TITLE")] == "env: *env"


@pytest.mark.parametrize(
    ("text", "irregular"),
    [
        ("on: push\njobs: {}\n", set()),
        ("on: push\nenv: &e {A: x}\njobs: {a: {runs-on: x, env: *e}}\n", {"alias"}),
        ("on: push\njobs:\n  a: &j {runs-on: x}\n  b: {<<: *j}\n", {"alias", "merge"}),
        ("on: push\njobs: {}\n---\nenv: {A: '${{ x }}'}\n", {"documents"}),
    ],
)
def test_yaml_reports_what_makes_the_data_more_than_the_files_tree(
        text: str, irregular: set[str]) -> None:
    from pe_policy.loaders.yaml_source import load_yaml

    found: set[str] = set()
    load_yaml(text, "ci.yml", irregular=found, multi="documents" in irregular)
    assert found == irregular


def test_a_second_document_is_refused_not_dropped() -> None:
    """GitHub reads one workflow per file (zizmor refuses the file too): what follows a `---`
    with content would go unchecked, so the file is a PE-PARSE at that line."""
    from pe_policy.findings import ParseError

    text = ("on: push\njobs: {a: {runs-on: x, steps: [run: make]}}\n---\n"
            "on: pull_request_target\njobs: {b: {runs-on: x, steps: [run: 'echo ${{ github.head_ref }}']}}\n")
    with pytest.raises(ParseError) as refused:
        load_text(text, "ci.yml", "workflow")
    assert (refused.value.line, refused.value.column) == (3, 1)
    assert "second YAML document" in str(refused.value)
    # an empty document after the workflow (a stray `---` at the end) loses nothing
    assert load_text(text.split("---")[0] + "---\n", "ci.yml", "workflow").input["on"] == "push"


def test_fast_span_is_the_dataclass_span() -> None:
    """new_span fills Span's fields without its __init__: it must make the same object."""
    from pe_policy.document import Span
    from pe_policy.loaders.yaml_source import new_span

    made = new_span(3, 5, 4, None)
    assert made == Span(3, 5, 4, None) and hash(made) == hash(Span(3, 5, 4, None))
    assert vars(made) == vars(Span(3, 5, 4, None))


def test_parses_shared_across_documents_are_copied_for_each() -> None:
    """An expression or a script parsed once per process is shared by every document with the
    same text: what one document's reader (or a rule) does to its lists leaves the others'."""
    import copy

    text = """
        on: push
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - if: contains(fromJSON('["a", "b"]'), github.event.issue.title)
                run: echo "t=${{ github.head_ref }}" >> "$GITHUB_OUTPUT"; make test "$X"
    """
    first = load(text)
    before = copy.deepcopy(first.input)
    use = first.input["expressions"][0]
    assert use["functions"] and use["contexts"]  # what is changed below is there
    use["ast"].clear()
    use["contexts"][0]["parts"].append("changed")
    use["contexts"][0]["functions"].append("changed")
    use["functions"][0]["arguments"][0].clear()
    use["functions"][0]["functions"].append("changed")
    script = first.input["scripts"][0]
    assert script["commands"] and script["writes"]
    for command in script["commands"]:
        command["arguments"].append("changed")
        command["variables"].append("changed")
    for write in script["writes"]:
        write["names"].append("changed")
        write["variables"].append("changed")
    assert load(text).input == before
