"""Which repository a command works in (`discover.repo_root`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pe_policy.discover import find_root, repo_root


@pytest.fixture
def nested(tmp_repo: Path) -> Path:
    (tmp_repo / "a" / "b").mkdir(parents=True)
    (tmp_repo / "a" / "b" / "ci.yml").write_text("x: 1\n", encoding="utf-8")
    return tmp_repo


def test_explicit_root_wins_resolved(nested: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(nested / "a")
    assert repo_root(Path("b"), nested / "a" / "b" / "ci.yml") == (nested / "a" / "b").resolve()


@pytest.mark.parametrize("anchor", ["a/b/ci.yml", "a/b", "a"])
def test_the_repository_around_the_anchor(nested: Path, anchor: str) -> None:
    assert repo_root(None, nested / anchor) == nested.resolve()


def test_a_bare_file_name_is_found_from_the_current_directory(
        nested: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(nested / "a" / "b")
    assert repo_root(None, Path("ci.yml")) == nested.resolve()
    assert repo_root(None, Path.cwd()) == nested.resolve()


def test_outside_any_repository_the_start_is_the_root(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    if find_root(tmp_path) != tmp_path.resolve():
        pytest.skip("the temporary directory lies inside a repository")
    assert repo_root(None, tmp_path / "plain") == (tmp_path / "plain").resolve()
