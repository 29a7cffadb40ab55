"""Every `${{ }}` of a workflow or action parsed into the model, at its exact line and column.

The workflows are written after the examples in GitHub's docs (expressions, contexts,
security hardening, reusable workflows, composite actions).
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pe_policy.document import Document
from pe_policy.findings import ParseError
from pe_policy.loaders import load_text
from pe_policy.loaders.expressions import ExpressionSyntaxError, find_templates, parse_expression
from pe_policy.models.workflow import CompositeAction, Workflow

from .workflow_text import load, position_of, refused, steps


def refs(doc: Document, where: str | None = None) -> list[dict[str, Any]]:
    return [ref for use in doc.input["expressions"] if where in (None, use["where"])
            for ref in use["contexts"]]


ISSUE_TRIAGE = """
    name: Issue triage
    on:
      issues:
        types: [opened, edited]
    env:
      ISSUE_TITLE: ${{ github.event.issue.title }}
    jobs:
      triage:
        runs-on: ${{ matrix.os }}
        if: github.event.issue.user.login != 'dependabot[bot]' && contains(github.event.issue.labels.*.name, 'bug')
        strategy:
          matrix:
            os: ${{ fromJSON(vars.RUNNERS) }}
        env:
          BODY: ${{ github.event.issue.body }}
        steps:
          - uses: actions/github-script@v7
            with:
              script: |
                const title = "${{ github.event.issue.title }}";
                console.log(${{ toJSON(github.event) }})
          - name: Label
            if: ${{ success() && github.event['issue'].state == 'open' }}
            run: >
              gh issue edit "${{ github.event.issue.number }}"
              --add-label "${{ steps.classify.outputs.label }}"
            env:
              GH_TOKEN: ${{ secrets.GITHUB_TOKEN }}
              HAS_KEY: "${{ secrets.API_KEY && 'yes' || 'no' }}"
"""


def test_each_expression_is_placed_and_located() -> None:
    doc = load(ISSUE_TRIAGE)
    uses = doc.input["expressions"]
    placed = [(u["scope"], u["job"], u["step"], u["where"], u["name"]) for u in uses]
    assert placed == [
        ("workflow", None, None, "env", "ISSUE_TITLE"),
        ("job", "triage", None, "runs-on", None),
        ("job", "triage", None, "if", None),
        ("job", "triage", None, "matrix", None),
        ("job", "triage", None, "env", "BODY"),
        ("step", "triage", 0, "with", "script"),
        ("step", "triage", 0, "with", "script"),
        ("step", "triage", 1, "if", None),
        ("step", "triage", 1, "run", None),
        ("step", "triage", 1, "run", None),
        ("step", "triage", 1, "env", "GH_TOKEN"),
        ("step", "triage", 1, "env", "HAS_KEY"),
    ]
    for use in uses:
        if not use["implicit"]:
            assert (use["line"], use["column"]) == position_of(
                doc, use["text"], sum(1 for u in uses[:uses.index(use)] if u["text"] == use["text"]))
        # the source map knows each expression's own span
        located = doc.location(use["at"])
        assert (located.line, located.column) == (use["line"], use["column"])
    assert uses[5]["key_path"] == ["with", "script"]
    assert uses[3]["key_path"] == ["strategy", "matrix", "os"]


def test_context_references_carry_path_functions_and_columns() -> None:
    doc = load(ISSUE_TRIAGE)
    seen = {(r["path"], tuple(r["functions"]), r["flows"]) for r in refs(doc)}
    assert ("github.event.issue.labels.*.name", ("contains",), False) in seen
    assert ("github.event", ("toJSON",), True) in seen
    assert ("vars.runners", ("fromJSON",), True) in seen
    assert ("github.event.issue.state", (), False) in seen  # `['issue']` reads as `.issue`
    assert ("secrets.api_key", (), False) in seen  # only tested: `&&` never yields it
    assert ("secrets.github_token", (), True) in seen
    for ref in refs(doc):
        line, column = ref["line"], ref["column"]
        assert (doc.lines[line - 1][column - 1:ref["end_column"] - 1] == ref["text"]), ref
    [label] = [r for r in refs(doc, "run") if r["path"] == "steps.classify.outputs.label"]
    assert (label["line"], label["column"]) == position_of(doc, "steps.classify.outputs.label")


def test_condition_without_braces_is_an_expression() -> None:
    doc = load(ISSUE_TRIAGE)
    [condition] = [u for u in doc.input["expressions"] if u["where"] == "if" and u["scope"] == "job"]
    assert condition["implicit"] and condition["whole"]
    assert condition["ast"]["op"] == "&&"
    assert condition["ast"]["left"] == {
        "type": "binary", "op": "!=",
        "left": {"type": "context", "path": "github.event.issue.user.login",
                 "parts": ["github", "event", "issue", "user", "login"]},
        "right": {"type": "literal", "value": "dependabot[bot]"}}
    [contains] = condition["functions"]
    assert contains["name"] == "contains" and contains["arguments"][1] == {
        "type": "literal", "value": "bug"}
    assert (contains["line"], contains["column"]) == position_of(doc, "contains(")


def test_condition_in_a_block_scalar_is_not_whole() -> None:
    """`if: |` with `${{ }}` and a line break: a non-empty string, always true on GitHub."""
    doc = load("""
        on: pull_request
        jobs:
          a:
            runs-on: ubuntu-latest
            if: |
              ${{ github.actor == 'dependabot[bot]' }}
            steps: [{run: make}]
    """)
    [use] = doc.input["expressions"]
    assert not use["implicit"] and not use["whole"]
    assert (use["line"], use["column"]) == position_of(doc, "${{") == (6, 7)
    assert use["offset"] == 0  # the block's value starts with it


def test_each_expression_says_where_it_starts_in_its_string() -> None:
    """`offset`: what comes before a `${{ }}` in its string is `value[:offset]` (PE-WF-007
    reads a path under `${{ runner.temp }}` from it), counted in the value, not the file."""
    doc = load("""
        on: workflow_run
        jobs:
          a:
            runs-on: ubuntu-latest
            if: github.event.workflow_run.conclusion == 'success'
            steps:
              - uses: actions/download-artifact@v4
                with:
                  path: "dist/${{ runner.temp }}/${{ github.run_id }}"
              - run: |
                  echo start
                  echo "${{ github.sha }}"
    """)
    found = {(use["where"], use["text"]): use["offset"] for use in doc.input["expressions"]}
    path = "dist/${{ runner.temp }}/${{ github.run_id }}"
    script = 'echo start\necho "${{ github.sha }}"\n'
    assert found == {
        ("if", "github.event.workflow_run.conclusion == 'success'"): 0,  # implicit: all of it
        ("with", "${{ runner.temp }}"): path.index("${{ runner"),
        ("with", "${{ github.run_id }}"): path.index("${{ github"),
        ("run", "${{ github.sha }}"): script.index("${{"),
    }


def test_multiline_expression_is_located_token_by_token() -> None:
    doc = load(steps("pull_request_target", """
              - run: |
                  echo "${{
                    github.event.pull_request.head.ref
                  }}"
                  echo '${{ format('{0} ''quoted'' }}', github.head_ref) }}'
    """))
    first, second = doc.input["expressions"]
    assert (first["line"], first["column"], first["end_line"]) == (*position_of(doc, "${{"), 9)
    [ref] = first["contexts"]
    assert (ref["line"], ref["column"]) == position_of(doc, "github.event") == (8, 13)
    assert second["functions"][0]["arguments"][0] == {"type": "literal",
                                                      "value": "{0} 'quoted' }}"}
    assert (second["contexts"][0]["line"], second["contexts"][0]["column"]) == position_of(
        doc, "github.head_ref")


def test_quoted_and_folded_scalars_keep_columns() -> None:
    doc = load(steps("push", """
              - run: "echo \\"${{ github.ref_name }}\\" \\u00e9 ${{ github.sha }}"
              - run: 'it''s ${{ github.actor }}'
              - run: >-
                  folded ${{ github.base_ref }}
                  text ${{ github.workflow }}
    """))
    for ref in refs(doc):
        assert (ref["line"], ref["column"]) == position_of(doc, ref["text"]), ref


def test_expression_in_place_of_a_mapping_or_sequence() -> None:
    doc = load("""
        on: workflow_dispatch
        jobs:
          setup:
            runs-on: ubuntu-latest
            outputs:
              inputs: ${{ steps.x.outputs.inputs }}
            steps: [{id: x, run: echo}]
          call:
            needs: setup
            uses: octo-org/example-repo/.github/workflows/reusable.yml@v1
            with: ${{ fromJSON(needs.setup.outputs.inputs) }}
            secrets: inherit
          matrix:
            needs: setup
            runs-on: ubuntu-latest
            strategy: ${{ fromJSON(needs.setup.outputs.strategy) }}
            services: ${{ fromJSON(needs.setup.outputs.services) }}
            env: ${{ fromJSON(needs.setup.outputs.env) }}
            steps:
              - uses: ./.github/actions/build
                with: ${{ fromJSON(needs.setup.outputs.inputs) }}
    """)
    model = doc.model
    assert isinstance(model, Workflow)
    assert model.jobs["call"].with_ == "${{ fromJSON(needs.setup.outputs.inputs) }}"
    assert model.jobs["matrix"].steps[0].with_ == model.jobs["call"].with_
    wholes = [(u["job"], u["where"], u["whole"], u["name"]) for u in doc.input["expressions"]
              if u["where"] != "outputs"]
    assert wholes == [("call", "with", True, None), ("matrix", "strategy", True, None),
                      ("matrix", "services", True, None), ("matrix", "env", True, None),
                      ("matrix", "with", True, None)]


def test_composite_action_inputs_and_steps() -> None:
    doc = load("""
        name: Greet
        description: Greets someone
        inputs:
          who:
            description: Who to greet
            default: ${{ github.actor }}
        outputs:
          greeting:
            value: ${{ steps.greet.outputs.text }}
        runs:
          using: composite
          steps:
            - id: greet
              if: inputs.who != ''
              shell: bash
              run: echo "text=Hello ${{ inputs.who }}" >> "$GITHUB_OUTPUT"
    """, kind="action", path="action.yml")
    assert isinstance(doc.model, CompositeAction)
    placed = [(u["scope"], u["step"], u["where"], u["name"], [r["path"] for r in u["contexts"]])
              for u in doc.input["expressions"]]
    assert placed == [
        ("action", None, "inputs", "who", ["github.actor"]),
        ("action", None, "outputs", "greeting", ["steps.greet.outputs.text"]),
        ("step", 0, "if", None, ["inputs.who"]),
        ("step", 0, "run", None, ["inputs.who"]),
    ]
    assert len(doc.model.expressions) == 4
    assert doc.model.expressions[3].contexts[0].path == "inputs.who"


def test_an_if_input_is_not_a_condition() -> None:
    doc = load(steps("push", """
              - uses: some/action@v1
                with: {if: not an expression}
    """))
    assert doc.input["expressions"] == []


@pytest.mark.parametrize(
    ("line", "needle", "words"),
    [
        ("      - run: echo ${{ github.event.issue.title", "${{", ["never closed"]),
        ("      - run: echo ${{ github.event. }}", ". }}", ["property name"]),
        ("      - run: echo ${{ contains(github.ref) }}", "contains", ["2 arguments"]),
        ("      - if: github.ref == 'refs/heads/main' &&", "&&|", ["end of expression"]),
        ("      - run: echo ${{ github.ref ==== 'x' }}", "== 'x'", ["unexpected"]),
    ],
    ids=["unclosed", "dangling-dot", "arity", "dangling-operator", "bad-operator"],
)
def test_invalid_expression_is_a_parse_error_at_its_column(line: str, needle: str,
                                                           words: list[str]) -> None:
    text = f"on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n{line}\n"
    with pytest.raises(ParseError) as caught:
        load_text(text, "ci.yml", "workflow")
    error = caught.value
    # where the parser stopped: the token it could not take, or (`|`) just after the needle
    column = line.index(needle.rstrip("|")) + 1 + (len(needle) - 1 if needle.endswith("|") else 0)
    assert (error.line, error.column) == (6, column), error
    assert "invalid expression" in error.message
    for word in words:
        assert word in error.message


def test_parser_precedence_literals_and_errors() -> None:
    ast = parse_expression("!a || b && c == 1 < 2").ast
    assert ast["op"] == "||" and ast["left"]["type"] == "not"
    assert ast["right"]["op"] == "&&" and ast["right"]["right"]["op"] == "=="
    assert ast["right"]["right"]["right"]["op"] == "<"
    values = [parse_expression(text).ast["value"] for text in
              ("null", "true", "FALSE", "0xff", "-2.99e-2", "711", "'It''s open source!'", "1e999")]
    # a number JSON cannot hold (the Rego engines read JSON) stays as written
    assert values == [None, True, False, 255, -0.0299, 711, "It's open source!", "1e999"]
    deep = "(" * 100 + "a" + ")" * 100
    with pytest.raises(ExpressionSyntaxError, match="nested deeper"):
        parse_expression(deep)
    assert [t.start for t in find_templates("a ${{ '}}' }} b ${{ x }}")] == [2, 16]


def test_dynamic_index_and_call_results() -> None:
    parsed = parse_expression("fromJSON(needs.a.outputs.m)[matrix.os].name || env[inputs.key]")
    paths = [(c.parts, c.flows, c.dynamic) for c in parsed.contexts]
    assert paths == [(["needs", "a", "outputs", "m"], True, False),
                     (["matrix", "os"], False, False),
                     (["env", "*"], True, True),
                     (["inputs", "key"], False, False)]




def test_contexts_carry_their_parts_as_written() -> None:
    """`parts` are lower-cased for comparing (GitHub's contexts are case-insensitive);
    `written` keeps what the file wrote, for messages that name it (PE-WF-008 names the
    secret as written), whatever the spelling: `.Name`, `['Name']`, `[ 'Name' ]`."""
    doc = load("""
        on: push
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - run: |
                  deploy ${{ secrets.Api_Key }} ${{ Secrets[ 'Deploy-Token' ] }}
                  echo ${{ env.Release_Tag }} ${{ matrix[inputs.Os] }} ${{ github.Event.Issue[0] }}
    """)
    written = [(r["parts"], r["written"]) for r in refs(doc, "run")]
    assert written == [
        (["secrets", "api_key"], ["secrets", "Api_Key"]),
        (["secrets", "deploy-token"], ["Secrets", "Deploy-Token"]),
        (["env", "release_tag"], ["env", "Release_Tag"]),
        (["matrix", "*"], ["matrix", "*"]),
        (["inputs", "os"], ["inputs", "Os"]),
        (["github", "event", "issue", "0"], ["github", "Event", "Issue", "0"]),
    ]
# --------------------------------------------------------------------------- generated expressions

FUZZ = settings(max_examples=max(200, settings.default.max_examples), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
NAMES = st.sampled_from(["github", "env", "inputs", "steps", "matrix", "secrets", "needs"])
PROPERTIES = st.sampled_from(["event", "title", "head_ref", "my-step", "outputs", "x_1", "*"])
LITERALS = st.sampled_from(["null", "true", "false", "711", "-9.2", "0xff", "'it''s'", "''"])


@st.composite
def expression(draw: st.DrawFn, depth: int = 0) -> tuple[str, list[str]]:
    """Expression text and the dotted paths of the contexts in it, in order."""
    choice = draw(st.integers(0, 2 if depth > 3 else 6))
    if choice == 0:
        return draw(LITERALS), []
    if choice in (1, 2):
        parts = [draw(NAMES), *draw(st.lists(PROPERTIES, max_size=3))]
        text = parts[0] + "".join(
            draw(st.sampled_from([f".{p}", f"['{p}']" if p != "*" else "[*]"])) for p in parts[1:])
        return text, [".".join(p.lower() for p in parts)]
    left, left_paths = draw(expression(depth + 1))
    if choice == 3:
        return f"!{left}", left_paths
    if choice == 4:
        return f"({left})", left_paths
    right, right_paths = draw(expression(depth + 1))
    if choice == 5:
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "&&", "||"]))
        space = draw(st.sampled_from(["", " ", "\n  "]))
        return f"{left}{space}{op}{space}{right}", left_paths + right_paths
    name = draw(st.sampled_from(["contains", "startsWith", "format", "join", "toJSON"]))
    arguments = [left, right] if name != "toJSON" else [left]
    return f"{name}({', '.join(arguments)})", left_paths + (right_paths if name != "toJSON" else [])


@FUZZ
@given(expression())
def test_generated_expressions_parse_to_their_contexts(generated: tuple[str, list[str]]) -> None:
    text, paths = generated
    parsed = parse_expression(text)
    assert [".".join(c.parts) for c in parsed.contexts] == paths
    for context in parsed.contexts:  # offsets point at the reference itself
        written = text[context.start:context.end]
        assert written.split(".")[0].split("[")[0].lower() == context.parts[0]


@FUZZ
@given(expression(), st.sampled_from(["run: {}", "if: {}", "uses: a/b@v1\n        with: {{x: {}}}"]),
       st.sampled_from(["echo ", "", "é "]))
def test_generated_expressions_are_located_in_a_workflow(generated: tuple[str, list[str]],
                                                         form: str, before: str) -> None:
    text, paths = generated
    # a double-quoted YAML scalar: line breaks and non-ASCII text become escapes to map through
    value = json.dumps(before + "${{ " + text + " }}")
    line = "      - " + form.format(value)
    workflow = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n" + line + "\n"
    doc = load_text(workflow, "ci.yml", "workflow")
    [use] = doc.input["expressions"]
    assert [c["path"] for c in use["contexts"]] == paths
    for context in use["contexts"]:
        source_line = workflow.splitlines()[context["line"] - 1]
        # the reference starts where the file has its first character
        assert source_line[context["column"] - 1] == context["text"][0]


@FUZZ
@given(st.text(st.sampled_from("abc.()[]*!<>=&|',0x 9-_\n"), max_size=40))
def test_any_text_parses_or_is_a_syntax_error(text: str) -> None:
    try:
        parse_expression(text)
    except ExpressionSyntaxError as exc:
        assert 0 <= exc.offset <= len(text)


def test_descriptions_are_parsed_as_github_parses_them() -> None:
    """The runner refuses an action.yml over an expression in an input's description
    ("Unrecognized named-value: 'github'"): `${{ }}` is parsed wherever it is written."""
    doc = load("""
        name: Release
        on:
          workflow_dispatch:
            inputs:
              ref: {description: "A ref, e.g. ${{ github.sha }}"}
          workflow_call:
            outputs:
              version:
                value: ${{ jobs.build.outputs.version }}
        jobs:
          build:
            runs-on: ubuntu-latest
            outputs:
              version: ${{ steps.v.outputs.version }}
            steps: [{id: v, run: echo "version=1" >> "$GITHUB_OUTPUT"}]
    """)
    assert [(u["where"], u["key_path"]) for u in doc.input["expressions"]] == [
        ("on", ["on", "workflow_dispatch", "inputs", "ref", "description"]),
        ("on", ["on", "workflow_call", "outputs", "version", "value"]),
        ("outputs", ["outputs", "version"])]
    action = """
        name: Checkout
        description: Checks out
        inputs:
          token:
            description: Defaults to ${{ }}
            default: ${{ github.token }}
        runs: {using: node20, main: dist/index.js}
    """
    error = refused(action, kind="action")
    assert "inputs.token.description: invalid expression: empty expression" in error.message
    # where an expression should have been: at the closing braces
    line = textwrap.dedent(action).lstrip().splitlines()[4]
    assert (error.line, error.column) == (5, line.index("}}") + 1)


def test_docker_action_and_job_containers() -> None:
    action = load("""
        name: Hello
        description: Greets
        inputs:
          who: {description: Who, required: true}
        runs:
          using: docker
          image: Dockerfile
          args: ["--who", "${{ inputs.who }}"]
          env:
            GREETING: Hello ${{ inputs.who }}
    """, kind="action", path="action.yml")
    assert [(u["scope"], u["where"], u["name"], u["key_path"]) for u in action.input["expressions"]] == [
        ("action", "args", None, ["args", 1]), ("action", "env", "GREETING", ["env", "GREETING"])]
    doc = load("""
        on: push
        jobs:
          a:
            runs-on: ubuntu-latest
            container:
              image: ghcr.io/octo-org/app:${{ github.sha }}
              credentials:
                username: ${{ github.actor }}
                password: ${{ secrets.GHCR_TOKEN }}
            services:
              db:
                image: postgres:16
                env: {POSTGRES_PASSWORD: "${{ secrets.DB_PASSWORD }}"}
            steps: [{run: make}]
    """)
    assert [(u["where"], u["key_path"]) for u in doc.input["expressions"]] == [
        ("container", ["container", "image"]),
        ("container", ["container", "credentials", "username"]),
        ("container", ["container", "credentials", "password"]),
        ("services", ["services", "db", "env", "POSTGRES_PASSWORD"])]


def test_case_predicates_do_not_flow() -> None:
    parsed = parse_expression("case(github.event_name == 'push', github.ref_name, "
                              "inputs.deploy, github.head_ref, 'none')")
    assert [(".".join(c.parts), c.flows) for c in parsed.contexts] == [
        ("github.event_name", False), ("github.ref_name", True), ("inputs.deploy", False),
        ("github.head_ref", True)]
