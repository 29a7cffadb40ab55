"""The YAML/JSON position parser: spans for every node, YAML 1.2 keys, hostile shapes."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pe_policy.findings import ParseError
from pe_policy.loaders.yaml_source import MAX_DEPTH, load_yaml

WORKFLOW = """\
name: CI
on:
  push:
    branches: [main]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: |
          make test
"""


def test_every_node_has_the_line_of_its_key() -> None:
    data, spans = load_yaml(WORKFLOW, "ci.yml")
    assert "on" in data  # not True: YAML 1.2 keeps `on` a string
    assert spans[("on",)].line == 2
    assert spans[("on", "push", "branches", 0)].line == 4
    assert spans[("on", "push", "branches", 0)].column == 16
    assert spans[("jobs", "build", "runs-on")].line == 7
    assert spans[("jobs", "build", "steps", 0, "uses")].line == 9
    assert spans[("jobs", "build", "steps", 0, "uses")].column == 9
    assert spans[("jobs", "build", "steps", 1, "run")].line == 10
    assert data["jobs"]["build"]["steps"][1]["run"] == "make test\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v: yes", "yes"),
        ("v: on", "on"),
        ("v: true", True),
        ("v: False", False),
        ("v: ~", None),
        ("v: 0o17", 15),
        ("v: 0x1f", 31),
        ("v: 1.5e3", 1500.0),
        ("v: '42'", "42"),
        ("v: 42", 42),
        ("v: !!str 42", "42"),
        ("v: !Ref Bucket", "Bucket"),
    ],
)
def test_scalars_resolve_with_the_yaml_12_core_schema(text: str, expected: object) -> None:
    data, _ = load_yaml(text, "x.yml")
    assert data["v"] == expected
    assert type(data["v"]) is type(expected)


def test_special_floats() -> None:
    data, _ = load_yaml("a: .inf\nb: -.inf\nc: .nan", "x.yml")
    assert data["a"] == math.inf and data["b"] == -math.inf and math.isnan(data["c"])


def test_anchors_and_merge_keys() -> None:
    data, spans = load_yaml("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n", "x.yml")
    assert data["derived"] == {"x": 1, "y": 3}
    assert spans[("derived", "y")].line == 4


def test_syntax_error_has_line_and_column() -> None:
    with pytest.raises(ParseError) as info:
        load_yaml("a: 1\nb: [1, 2\nc: 3\n", "bad.yml")
    err = info.value
    assert err.path == "bad.yml"
    assert err.line == 3
    assert "invalid YAML" in err.message


def test_line_offset_shifts_positions_and_errors() -> None:
    _, spans = load_yaml("a: 1\nb: 2\n", "doc.md", line_offset=10)
    assert spans[("b",)].line == 12
    with pytest.raises(ParseError) as info:
        load_yaml("a: 1\nb: [\n", "doc.md", line_offset=10)
    assert info.value.line > 10


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(ParseError) as info:
        load_yaml("\n".join(lines), "bomb.yml")
    assert "alias" in info.value.message


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_deep_nesting_is_an_error_not_a_crash(depth: int) -> None:
    """The behaviour, not a wording: whichever of our limit or PyYAML's own stops it first, the
    result is a ParseError that names the file and says the nesting is the problem."""
    with pytest.raises(ParseError) as info:
        load_yaml("[" * depth + "]" * depth, "deep.yml")
    assert info.value.path == "deep.yml"
    assert info.value.line >= 1
    assert re.search(r"nest|depth|deep", info.value.message), info.value.message


def test_non_scalar_key_is_an_error() -> None:
    with pytest.raises(ParseError):
        load_yaml("? [a, b]\n: 1\n", "x.yml")


def test_multi_document() -> None:
    docs, spans = load_yaml("a: 1\n---\nb: 2\n", "x.yml", multi=True)
    assert docs == [{"a": 1}, {"b": 2}]
    assert spans[(1, "b")].line == 3


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_arbitrary_text_gives_data_or_parse_error(text: str) -> None:
    try:
        load_yaml(text, "fuzz.yml")
    except ParseError as exc:
        assert exc.line >= 1


_yaml_ish = st.lists(
    st.sampled_from(["a:", " b:", "  - c", "- [", "]", "{", "}", "&x", "*x", "<<: *x", ": ",
                     "'q", '"', "|", ">", "\t", "#", "---", "...", "!!str", "? ", "\n", "  ", "0x"]),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_yaml_ish)
def test_yaml_shaped_noise_gives_data_or_parse_error(text: str) -> None:
    try:
        load_yaml(text, "fuzz.yml")
    except ParseError as exc:
        assert exc.line >= 1
