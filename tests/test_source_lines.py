"""The one reader of source lines: inline suppressions and code frames both read through it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pe_policy.catalog import Catalog
from pe_policy.document import CheckedFile
from pe_policy.engine.pack import RuleSet
from pe_policy.filters import apply_suppressions
from pe_policy.findings import Finding, Location, Severity
from pe_policy.pipeline import CheckResult
from pe_policy.source_lines import SOURCE_MAX_BYTES, SourceLines


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "a.yml").write_text("one\ntwo\n", encoding="utf-8")
    (tmp_path / "outside.yml").write_text("secret plans\n", encoding="utf-8")
    return tmp_path / "repo"


def test_known_text_comes_first_and_is_never_read_again(root: Path) -> None:
    sources = SourceLines(root, {"a.yml": "known\ntext", "b.yml": ["as", "lines"]})
    assert sources.lines("a.yml") == ["known", "text"]
    assert sources.line("b.yml", 2) == "lines" and sources.text("b.yml") == "as\nlines"


def test_a_file_inside_the_root_is_read_once(root: Path) -> None:
    sources = SourceLines(root)
    assert sources.line("a.yml", 2) == "two"
    (root / "a.yml").write_text("changed\n", encoding="utf-8")
    assert sources.lines("a.yml") == ["one", "two"]  # cached per path
    assert sources.line("a.yml", 3) is None and sources.line("a.yml", 0) is None


@pytest.mark.parametrize("path", ["../outside.yml", "sub/../../outside.yml", "link.yml", "{abs}"])
def test_never_reads_outside_the_root(root: Path, path: str) -> None:
    (root / "link.yml").symlink_to(root.parent / "outside.yml")
    path = path.format(abs=root.parent / "outside.yml")
    sources = SourceLines(root)
    assert sources.lines(path) == [] and sources.text(path) == ""


def test_a_missing_or_unreadable_file_has_no_lines(root: Path) -> None:
    (root / "binary.yml").write_bytes(b"a\x00b")
    (root / "loop.yml").symlink_to(root / "loop.yml")
    sources = SourceLines(root)
    for path in ("missing.yml", "binary.yml", "loop.yml", "", "nul\x00.yml"):
        assert sources.lines(path) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_never_blocks_on_a_fifo(root: Path) -> None:
    os.mkfifo(root / "pipe.yml")  # opening it for reading would wait for a writer
    assert SourceLines(root).lines("pipe.yml") == []


def test_one_cap(root: Path) -> None:
    (root / "big.yml").write_text("x" * 101, encoding="utf-8")
    assert SourceLines(root, max_bytes=100).lines("big.yml") == []
    assert SourceLines(root, max_bytes=101).lines("big.yml") == ["x" * 101]
    assert SOURCE_MAX_BYTES == 16 * 1024 * 1024


def test_code_frames_read_through_it(root: Path) -> None:
    result = CheckResult(findings=[], catalog=Catalog(), root=root,
                         sources={"known.yml": ["from the run"]})
    assert result.source_line("known.yml", 1) == "from the run"
    assert result.source_line("a.yml", 2) == "two"
    assert result.source_line("../outside.yml", 1) is None
    assert result.source_line(str(root.parent / "outside.yml"), 1) is None


def test_suppressions_read_through_it(root: Path) -> None:
    """A finding pointing into a file the run did not load: its comments are read (inside
    the root), never those of a file outside it."""
    comment = "x: 1  # pe-policy: ignore[PE-X-001] accepted in review\n"
    (root / "plan.tf").write_text(comment, encoding="utf-8")
    (root.parent / "outside.yml").write_text(comment, encoding="utf-8")
    findings = [Finding("PE-X-001", Severity.HIGH, "m", Location(path, 1))
                for path in ("plan.tf", "../outside.yml")]
    inside, outside = apply_suppressions(findings, [CheckedFile("a.yml", "workflow", "one\n")],
                                         root, RuleSet())
    assert inside.suppressed and not outside.suppressed


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths")
def test_the_root_may_be_relative(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root.parent)
    assert SourceLines(Path("repo")).line("a.yml", 1) == "one"
