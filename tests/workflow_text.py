"""Workflows written inline in the tests: load them, expect a refusal, find a column; one they share."""

from __future__ import annotations

import textwrap

import pytest

from pe_policy.document import Document
from pe_policy.findings import ParseError
from pe_policy.loaders import load_text

# A small workflow that loads and is judged like any other (its action is not pinned by SHA):
# the tests of files, outputs and hostile input check it beside what they are about
GOOD_WORKFLOW = """\
name: CI
on:
  pull_request:
permissions:
  contents: read
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make lint
"""


def load(text: str, kind: str = "workflow", path: str = ".github/workflows/ci.yml") -> Document:
    """`text` as written in a test (indented, triple-quoted), loaded as `kind`."""
    return load_text(textwrap.dedent(text).lstrip(), path, kind)


def refused(text: str, kind: str = "workflow") -> ParseError:
    """The ParseError loading `text` raises (the test fails if it loads)."""
    with pytest.raises(ParseError) as caught:
        load(text, kind)
    return caught.value


def steps(on: str, body: str) -> str:
    """A workflow of one job `a` on ubuntu-latest whose `steps:` are `body` (indented as steps)."""
    return (f"on: {on}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
            + textwrap.indent(textwrap.dedent(body).strip("\n"), "      ") + "\n")


def position_of(doc: Document, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """1-based line and column of the `occurrence`-th `needle` in the file, found independently."""
    text = doc.text or ""
    offset = -1
    for _ in range(occurrence + 1):
        offset = text.index(needle, offset + 1)
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1
