"""The `.tf` parser reads what Terraform reads, never drops a block, and rejects with a location.

HashiCorp's own HCL parser (pygohcl: the Go library Terraform uses, through cffi) is the
reference: what it accepts, pe-policy loads; what it rejects, pe-policy rejects.
"""

from __future__ import annotations

import re
from pathlib import Path

import pygohcl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pe_policy.findings import ParseError
from pe_policy.loaders import load_text
from pe_policy.loaders.hcl import _check_accounted, parse_blocks
from pe_policy.pipeline import check
from tests.conftest import FIXTURES, REPO, line_of

CORPUS = REPO / "tests" / "corpus" / "terraform"
LANGUAGE = CORPUS / "valid" / "language"


def hashicorp_accepts(text: str) -> bool:
    try:
        pygohcl.loads(text)
    except pygohcl.HCLParseError:
        return False
    except (pygohcl.HCLInternalError, pygohcl.UnknownFunctionError, pygohcl.ValidationError):
        return True  # parsed; what failed is evaluation, which Terraform does later
    return True


def test_heredoc_end_marker_with_trailing_spaces_hides_nothing(tmp_path: Path) -> None:
    """The issue's file: one trailing space after `POLICY` used to hide both blocks."""
    path = LANGUAGE / "heredoc_end_marker_spaces.tf"
    assert "POLICY  \n" in path.read_text()
    assert hashicorp_accepts(path.read_text())
    result = check([path], REPO)
    found = {(f.rule_id, f.location.line) for f in result.active}
    assert ("PE-TF-001", line_of(path, '"Action": "*"')) in found
    assert ("PE-TF-002", line_of(path, 'cidr_blocks = ["0.0.0.0/0"]')) in found
    assert not result.problems


def test_terraform_language_forms_load_with_their_values() -> None:
    text = (LANGUAGE / "expressions.tf").read_text()
    assert hashicorp_accepts(text)
    doc = load_text(text, "expressions.tf", "terraform")
    values = {b["address"]: b["values"] for b in doc.input["blocks"]}
    local = values["locals"]
    assert local["arn"] == '${provider::aws::arn_parse("arn:aws:iam::444455556666:role/example")}'
    assert local["ids"] == "${aws_instance.web[*].id}"
    assert local["upper_names"].startswith("${{ for k, v in var.users : upper(k) => v")
    assert local["escaped"] == "$${not_interpolated} \"quoted\"\t"
    assert local["greeting"] == 'Hello, %{ if var.name != "" }${var.name}%{ else }unnamed%{ endif }!'
    assert local["negative"] == -1
    policy = values["aws_iam_policy.trimmed"]["policy"]
    assert policy.startswith('{\n  "Version"')  # `<<-` removed the common indentation


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ('resource "a" "b" {\n  x = 1 y = 2\n}\n', 2, 9, "missing newline"),
        ('resource "a" "b" { x = 1\n}\n', 1, 20, "single-argument block"),
        ('resource "a" "b" {\n  x = 1 }\n', 2, 9, "missing newline before"),
        ('resource "a" "b" {\n  x = "abc\n  def"\n}\n', 2, 7, "multi-line string"),
        ('variable "x" {\n  default = [1, 2\n}\n', 3, 1, "syntax error"),
        ('resource "a" "b" {\n  tags = {\n    a = 1\n\nresource "c" "d" {\n}\n', 5, 1, "syntax error"),
        ('locals {\n  a = 1\n}\n}\n', 4, 1, "syntax error"),
    ],
)
def test_invalid_hcl_is_rejected_with_line_and_column(text: str, line: int, column: int,
                                                      message: str) -> None:
    assert not hashicorp_accepts(text)
    with pytest.raises(ParseError) as caught:
        load_text(text, "main.tf", "terraform")
    assert (caught.value.line, caught.value.column) == (line, column)
    assert message in caught.value.message


def test_a_block_the_parse_did_not_produce_is_an_error() -> None:
    """The independent accounting: a top-level block opening missing from the walk fails."""
    text = 'resource "a" "b" {\n}\n\nresource "c" "d" {\n}\n'
    blocks, walker, root = parse_blocks(text, "main.tf")
    assert len(blocks) == 2
    _check_accounted(walker, root, {blocks[0][0].start_byte, blocks[1][0].start_byte})
    with pytest.raises(ParseError) as caught:
        _check_accounted(walker, root, {blocks[0][0].start_byte})
    assert caught.value.line == 4


def test_block_openings_inside_heredocs_and_strings_are_text() -> None:
    text = ('resource "local_file" "x" {\n  content = <<EOT\nresource "not" "real" {\nEOT\n'
            '  other = "resource \\"a\\" \\"b\\" {"\n}\n')
    assert hashicorp_accepts(text)
    doc = load_text(text, "main.tf", "terraform")
    assert [b["address"] for b in doc.input["blocks"]] == ["local_file.x"]


# -------------------------------------------------- agreement with HashiCorp's parser

_SEEDS = [p.read_text() for p in sorted([*FIXTURES.rglob("*.tf"), *(CORPUS / "valid").rglob("*.tf")])]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(_SEEDS))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert"]))
        if action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 12)):]
        else:
            text = text[:at] + draw(st.sampled_from(['"', "{", "}", "[", "]", "=", "\n", "${", " ",
                                                     "<<EOF\n", "#", ",", "(", ")"])) + text[at:]
    return text


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_accepts_what_hashicorp_accepts_and_rejects_what_it_rejects(text: str) -> None:
    try:
        load_text(text, "main.tf", "terraform")
        accepted = True
    except ParseError as exc:
        assert exc.line >= 1
        accepted = False
    reference = hashicorp_accepts(text)
    if reference and not accepted:
        # HCL-valid but not Terraform: top-level attributes, duplicate addresses, label counts
        with pytest.raises(ParseError) as caught:
            load_text(text, "main.tf", "terraform")
        assert any(word in caught.value.message for word in
                   ("top level", "declared twice", "labels", "already defined")), caught.value.message
    else:
        assert accepted == reference, text


# --------------------------------------------------------------------------- the corpus

VALID = sorted(p for p in [*(CORPUS / "valid").rglob("*.tf"), *FIXTURES.rglob("*.tf")]
               if "syntax" not in p.parts)  # fixtures/terraform/bad/syntax: invalid on purpose
INVALID = sorted((CORPUS / "invalid").glob("*.tf"))
# valid HCL that Terraform rejects when it reads the configuration (HashiCorp's parser
# alone accepts them): where pe-policy says so
TERRAFORM_LEVEL = {"resource_without_name.tf": (1, "two labels"),
                   "top_level_argument.tf": (1, "top level")}


def test_the_corpus_is_large_and_written_from_the_documentation() -> None:
    assert len([p for p in VALID if CORPUS in p.parents]) >= 300
    assert len(INVALID) >= 10


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_valid_file_loads(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert hashicorp_accepts(text)
    doc = load_text(text, path.relative_to(REPO).as_posix(), "terraform")
    blocks, _, _ = parse_blocks(text, "x.tf")
    assert len(doc.input["blocks"]) == len(blocks) > 0


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_every_invalid_file_is_rejected_where_hashicorp_rejects_it(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    with pytest.raises(ParseError) as caught:
        load_text(text, path.name, "terraform")
    assert caught.value.column is not None
    if path.name in TERRAFORM_LEVEL:
        line, word = TERRAFORM_LEVEL[path.name]
        assert hashicorp_accepts(text)
        assert caught.value.line == line and word in caught.value.message
        return
    try:
        pygohcl.loads(text)
    except pygohcl.HCLParseError as exc:
        said = str(exc)
    else:
        raise AssertionError(f"HashiCorp's parser accepts {path.name}")
    reference = re.search(r":(\d+),(\d+)", said)
    assert reference is not None, said
    # the same line as HashiCorp's parser (an unclosed `{` is reported where the block it
    # swallowed begins, the line HashiCorp names too)
    assert caught.value.line == int(reference.group(1)), (caught.value, said)


def test_attributes_and_blocks_of_the_same_name_are_all_read() -> None:
    """`ingress { }` then `ingress = [...]` (attributes as blocks): one list, nothing dropped,
    each item at its own line; the SSH rule in the attribute form is found."""
    path = LANGUAGE / "attributes_as_blocks.tf"
    assert hashicorp_accepts(path.read_text())
    result = check([path], REPO)
    found = [(f.rule_id, f.location.line) for f in result.active if f.rule_id == "PE-TF-002"]
    assert found == [("PE-TF-002", line_of(path, 'cidr_blocks      = ["0.0.0.0/0"]'))]
    doc = load_text(path.read_text(), "a.tf", "terraform")
    ingress = doc.input["blocks"][0]["values"]["ingress"]
    assert [rule["from_port"] for rule in ingress] == [443, 22]
