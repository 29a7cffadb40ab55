"""Dataclass methods compiled once per interpreter (`pe_policy.method_cache`).

The `pe-policy` command keeps the code `dataclasses` compiles in the user cache.  These
tests run the real command and real interpreters: a second run compiles nothing and reports
the same as a run without the cache; the cached code is what runs (a doctored entry shows
through), but only from a file this user owns and no one else may write; and the classes it
builds behave as the ones `dataclasses` builds alone.
"""

from __future__ import annotations

import json
import marshal
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / "fixtures" / "workflow" / "bad" / ".github" / "workflows" / "untrusted-input.yml"
CACHE_NAME = f"dataclass-methods-{sys.implementation.cache_tag}.marshal"

pytestmark = pytest.mark.skipif(not hasattr(os, "geteuid"), reason="the cache needs POSIX owners")


def _check(cache: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pe_policy", "check", "--format", "json", "--root", str(REPO),
         str(WORKFLOW)],
        capture_output=True, text=True, cwd=REPO, check=False,
        env={**os.environ, "PE_POLICY_CACHE_DIR": cache})


def _findings(run: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    return json.loads(run.stdout)["findings"]


def test_second_run_compiles_nothing_and_reports_the_same(tmp_path: Path) -> None:
    without = _check("")
    first = _check(str(tmp_path))
    table_file = tmp_path / CACHE_NAME
    assert table_file.is_file()
    assert stat.S_IMODE(table_file.stat().st_mode) == 0o600
    with table_file.open("rb") as handle:
        table = marshal.load(handle)
    # pe-policy's own records and pydantic's: hundreds of methods
    assert len(table) > 200
    assert any("def __init__(self,rule_id:_type_rule_id" in text for text in table)  # Finding
    written = table_file.stat().st_mtime_ns
    second = _check(str(tmp_path))
    assert table_file.stat().st_mtime_ns == written  # nothing new to keep
    assert without.returncode == first.returncode == second.returncode == 1
    assert _findings(without) == _findings(first) == _findings(second)
    assert _findings(first)  # the fixture has findings: the records were really used


DEFINE = textwrap.dedent('''
    import sys
    if sys.argv[1] == "cached":
        from pe_policy.method_cache import cache_dataclass_methods
        cache_dataclass_methods()
    from dataclasses import dataclass
    @dataclass(frozen=True)
    class Point:
        x: int
        y: int = 0
    print(repr(Point(1, 2)))
''')


def _define(mode: str, cache: Path) -> str:
    run = subprocess.run([sys.executable, "-c", DEFINE, mode], capture_output=True, text=True,
                         check=True, env={**os.environ, "PE_POLICY_CACHE_DIR": str(cache)})
    return run.stdout.strip()


def _doctor(cache: Path) -> None:
    """Replace the cached `__repr__` of `Point` by code that says it came from the cache."""
    file = cache / CACHE_NAME
    with file.open("rb") as handle:
        table = marshal.load(handle)
    texts = [text for text in table if "def __repr__(self)" in text and "self.x!r" in text
             and "self.y!r" in text]
    assert len(texts) == 1, texts
    table[texts[0]] = compile(texts[0].replace("return ", "return 'from the cache: ' + ", 1),
                              "<string>", "exec", dont_inherit=True)
    with file.open("wb") as handle:
        marshal.dump(table, handle)


def test_cached_code_is_what_runs_only_from_a_trusted_file(tmp_path: Path) -> None:
    assert _define("plain", tmp_path) == "Point(x=1, y=2)"
    # the command's first definition of the class compiles and keeps its methods
    subprocess.run([sys.executable, "-c", DEFINE + textwrap.dedent('''
        from pe_policy.method_cache import save_dataclass_methods
        save_dataclass_methods()
    '''), "cached"], check=True, capture_output=True,
        env={**os.environ, "PE_POLICY_CACHE_DIR": str(tmp_path)})
    _doctor(tmp_path)
    assert _define("cached", tmp_path) == "from the cache: Point(x=1, y=2)"
    assert _define("plain", tmp_path) == "Point(x=1, y=2)"  # a library import: no cache

    file = tmp_path / CACHE_NAME
    file.chmod(0o620)  # another user of the group could have written it
    assert _define("cached", tmp_path) == "Point(x=1, y=2)"
    file.chmod(0o602)
    assert _define("cached", tmp_path) == "Point(x=1, y=2)"
    file.chmod(0o600)
    link = tmp_path / "elsewhere"
    file.rename(link)
    file.symlink_to(link)  # a link is not followed
    assert _define("cached", tmp_path) == "Point(x=1, y=2)"
    file.unlink()
    file.write_bytes(b"not marshal data")  # torn or foreign: compiled as before
    assert _define("cached", tmp_path) == "Point(x=1, y=2)"


SAME_CLASSES = textwrap.dedent('''
    import sys, json, dataclasses
    if sys.argv[1] == "cached":
        from pe_policy.method_cache import cache_dataclass_methods, save_dataclass_methods
        cache_dataclass_methods()
    from dataclasses import dataclass, field, KW_ONLY

    @dataclass(frozen=True, order=True)
    class Key:
        path: str
        line: int = 1

    @dataclass(slots=True)
    class Box:
        items: list = field(default_factory=list)
        _: KW_ONLY
        label: str = "box"

    @dataclass(eq=False, unsafe_hash=False)
    class Plain:
        value: object = None

    out = {
        "key_repr": repr(Key("a", 2)),
        "order": sorted([Key("b"), Key("a", 3), Key("a", 2)]) == [Key("a", 2), Key("a", 3), Key("b")],
        "hash": hash(Key("a", 2)) == hash(Key("a", 2)),
        "frozen": False,
        "box": repr(Box([1], label="x")),
        "box_eq": Box([1]) == Box([1]),
        "slots": hasattr(Box([]), "__dict__"),
        "plain_eq": Plain(1) == Plain(1),
        "fields": [f.name for f in dataclasses.fields(Box)],
        "signature": str(__import__("inspect").signature(Box)),
    }
    try:
        Key("a").line = 3
    except dataclasses.FrozenInstanceError:
        out["frozen"] = True
    if sys.argv[1] == "cached":
        save_dataclass_methods()
    print(json.dumps(out, sort_keys=True))
''')


def test_classes_built_from_the_cache_behave_as_compiled_ones(tmp_path: Path) -> None:
    def run(mode: str) -> str:
        return subprocess.run([sys.executable, "-c", SAME_CLASSES, mode], capture_output=True,
                              text=True, check=True,
                              env={**os.environ, "PE_POLICY_CACHE_DIR": str(tmp_path)}).stdout

    plain = run("plain")
    assert run("cached") == plain  # compiled, and kept
    assert (tmp_path / CACHE_NAME).is_file()
    assert run("cached") == plain  # from the cache
    assert json.loads(plain)["frozen"] and json.loads(plain)["order"]
