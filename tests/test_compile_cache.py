"""What Python compiles at start-up, compiled once per interpreter (`pe_policy.compile_cache`).

The `pe-policy` command keeps the code `dataclasses` compiles and the programs `re` assembles
in the user cache.  These tests run the real command and real interpreters: a second run
compiles nothing and reports the same as a run without the cache; the cached code is what
runs (a doctored entry shows through), but only from a file this user owns and no one else
may write; and the classes and patterns built from it behave as the ones Python builds alone.
"""

from __future__ import annotations

import json
import marshal
import os
import stat
import subprocess
import sys
import textwrap
from array import array
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / "fixtures" / "workflow" / "bad" / ".github" / "workflows" / "untrusted-input.yml"
CACHE_NAME = f"compiled-{sys.implementation.cache_tag}.marshal"

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
    table = marshal.loads(table_file.read_bytes())
    # pe-policy's own records and pydantic's: hundreds of methods; PyYAML's and ours: patterns
    assert len(table["methods"]) > 200
    assert any("def __init__(self,rule_id:_type_rule_id" in text for text in table["methods"])
    assert "CoreSchema" in table["annotations"]  # pydantic-core's TypedDicts
    if sys.version_info[:2] == (3, 11):
        assert len(table["patterns"]) > 30
    written = table_file.stat().st_mtime_ns
    second = _check(str(tmp_path))
    assert table_file.stat().st_mtime_ns == written  # nothing new to keep
    assert without.returncode == first.returncode == second.returncode == 1
    assert _findings(without) == _findings(first) == _findings(second)
    assert _findings(first)  # the fixture has findings: the records were really used


DEFINE = textwrap.dedent('''
    import sys
    if sys.argv[1] == "cached":
        from pe_policy.compile_cache import use_compile_cache
        use_compile_cache()
    from dataclasses import dataclass
    @dataclass(frozen=True)
    class Point:
        x: int
        y: int = 0
    print(repr(Point(1, 2)))
''')


def _run(script: str, mode: str, cache: Path) -> str:
    """What `script` prints, run by a fresh interpreter: `plain`, or `cached` (the command's
    switch on first), with `cache` as the user cache."""
    return subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True,
                          check=True, env={**os.environ, "PE_POLICY_CACHE_DIR": str(cache)}
                          ).stdout.strip()


def _define(mode: str, cache: Path) -> str:
    return _run(DEFINE, mode, cache)


def _doctor(cache: Path) -> None:
    """Replace the cached `__repr__` of `Point` by code that says it came from the cache."""
    file = cache / CACHE_NAME
    table = marshal.loads(file.read_bytes())
    methods = table["methods"]
    texts = [text for text in methods if "def __repr__(self)" in text and "self.x!r" in text
             and "self.y!r" in text]
    assert len(texts) == 1, texts
    methods[texts[0]] = compile(texts[0].replace("return ", "return 'from the cache: ' + ", 1),
                                "<string>", "exec", dont_inherit=True)
    file.write_bytes(marshal.dumps(table))


def test_cached_code_is_what_runs_only_from_a_trusted_file(tmp_path: Path) -> None:
    assert _define("plain", tmp_path) == "Point(x=1, y=2)"
    # the command's first definition of the class compiles and keeps its methods
    subprocess.run([sys.executable, "-c", DEFINE + textwrap.dedent('''
        from pe_policy.compile_cache import save_compile_cache
        save_compile_cache()
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
        from pe_policy.compile_cache import use_compile_cache, save_compile_cache
        use_compile_cache()
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
        save_compile_cache()
    print(json.dumps(out, sort_keys=True))
''')


def test_classes_built_from_the_cache_behave_as_compiled_ones(tmp_path: Path) -> None:
    def run(mode: str) -> str:
        return _run(SAME_CLASSES, mode, tmp_path)

    plain = run("plain")
    assert run("cached") == plain  # compiled, and kept
    assert (tmp_path / CACHE_NAME).is_file()
    assert run("cached") == plain  # from the cache
    assert json.loads(plain)["frozen"] and json.loads(plain)["order"]


PATTERNS = textwrap.dedent(r'''
    import sys, json, re
    if sys.argv[1] == "cached":
        from pe_policy.compile_cache import use_compile_cache, save_compile_cache
        use_compile_cache()
    cases = [
        (r"(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)@(?P<ref>[0-9a-f]{40})\Z", 0,
         ["actions/checkout@" + "a" * 40, "actions/checkout@v4"]),
        (r"\$\{\{\s*(.*?)\s*\}\}", re.S, ["run: ${{ github.event.issue.title }} and ${{ x }}"]),
        (r"[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]", 0,
         ["plain", "bell\x07", "snow\u2603"]),
        (r"^(?:yes|no|on|off)$", re.I | re.M, ["Yes\nmaybe\nOFF"]),
        (r"(?<![A-Za-z0-9])(?:ghp|gho)_[A-Za-z0-9]{36}", 0, ["token ghp_" + "x" * 36 + " end"]),
        (rb"\A\x1f\x8b", 0, [b"\x1f\x8bdata", b"plain"]),
        (r"""
            (?P<key> [a-z_]+ ) \s* = \s* (?P<value> "[^"]*" | \d+ )  # key = value
         """, re.X, ['name = "x"', "count=3", "bad ="]),
        (r"(a|b)*?c(?=d)|(?P<e>e)+", 0, ["ababcd", "eee", "c"]),
    ]
    out = []
    for pattern, flags, texts in cases:
        compiled = re.compile(pattern, flags)
        out.append({
            "flags": compiled.flags, "groups": compiled.groups,
            "groupindex": dict(compiled.groupindex),
            "found": [[repr(m.span()), repr(m.groups()), repr(m.groupdict())]
                      for text in texts for m in compiled.finditer(text)],
            "subbed": [repr(compiled.sub(lambda m: m.group(0)[:1], text)) for text in texts],
        })
    if sys.argv[1] == "cached":
        save_compile_cache()
    print(json.dumps(out, sort_keys=True))
''')


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="patterns are cached on 3.11 only")
def test_patterns_from_the_cache_match_as_compiled_ones(tmp_path: Path) -> None:
    def run(mode: str) -> str:
        return _run(PATTERNS, mode, tmp_path)

    plain = run("plain")
    assert run("cached") == plain  # compiled, and kept
    table = marshal.loads((tmp_path / CACHE_NAME).read_bytes())
    assert ("bytes", rb"\A\x1f\x8b", 0) in table["patterns"]
    assert run("cached") == plain  # from the cache
    assert len(json.loads(plain)) == 8


FIND = textwrap.dedent(r'''
    import sys, re
    if sys.argv[1] == "cached":
        from pe_policy.compile_cache import use_compile_cache, save_compile_cache
        use_compile_cache()
    found = re.compile(r"\bneedle\b").search("a haystack")
    if sys.argv[1] == "cached":
        re.compile(r"\bhaystack\b")
        save_compile_cache()
    print("found" if found else "none")
''')


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="patterns are cached on 3.11 only")
def test_cached_programs_are_what_runs_only_for_the_engine_that_made_them(tmp_path: Path) -> None:
    def run(mode: str) -> str:
        return _run(FIND, mode, tmp_path)

    assert run("cached") == "none"
    file = tmp_path / CACHE_NAME
    table = marshal.loads(file.read_bytes())
    patterns = table["patterns"]
    # doctor the program of `needle` into the one of `haystack`
    patterns[("str", r"\bneedle\b", 0)] = patterns[("str", r"\bhaystack\b", 0)]
    file.write_bytes(marshal.dumps(table))
    assert run("cached") == "found"  # the cached program is what ran
    assert run("plain") == "none"
    table["engine"] = "another interpreter"
    file.write_bytes(marshal.dumps(table))
    assert run("cached") == "none"  # another engine's programs are not used
    table = marshal.loads(file.read_bytes())
    program = list(table["patterns"][("str", r"\bneedle\b", 0)])
    program[1] = array("I", [9999, 1, 2]).tobytes()  # no program `_sre` takes: compiled again
    table["patterns"][("str", r"\bneedle\b", 0)] = tuple(program)
    file.write_bytes(marshal.dumps(table))
    assert run("cached") == "none"


HINTS = textwrap.dedent('''
    import sys, typing
    if sys.argv[1] == "cached":
        from pe_policy.compile_cache import use_compile_cache, save_compile_cache
        use_compile_cache()
    class Record(typing.TypedDict):
        count: "int"
        names: "list[str] | None"
    if sys.argv[1] == "cached":
        save_compile_cache()
    print(typing.get_type_hints(Record))
''')


def test_string_annotations_from_the_cache(tmp_path: Path) -> None:
    def run(mode: str) -> str:
        return _run(HINTS, mode, tmp_path)

    plain = run("plain")
    assert plain == "{'count': <class 'int'>, 'names': list[str] | None}"
    assert run("cached") == plain
    file = tmp_path / CACHE_NAME
    table = marshal.loads(file.read_bytes())
    table["annotations"]["int"] = compile("float", "<string>", "eval", dont_inherit=True)
    file.write_bytes(marshal.dumps(table))
    assert run("cached") == plain.replace("int", "float", 1)  # the cached code is what ran
    assert run("plain") == plain
