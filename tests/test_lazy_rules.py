"""Python rule files described from their source equal what running them registers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pe_policy.document import Document
from pe_policy.engine.lazy_rules import describe, python_rules_from
from pe_policy.engine.pack import builtin_policy_dir, python_rule_files
from pe_policy.engine.python_rules import RuleContext, load_python_rules
from pe_policy.models.generic import GenericDocument

RULE_FILES = python_rule_files(builtin_policy_dir())


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_static_metadata_equals_the_executed_one(path: Path) -> None:
    described = describe(path)
    assert described is not None, f"{path.name}: its @rule arguments should be literals"
    executed = [r.meta for r in load_python_rules(path, builtin_policy_dir())]
    assert described == executed


def test_lazy_rule_runs_its_file_only_when_called(tmp_path: Path) -> None:
    marker = f"pe_lazy_marker_{id(tmp_path)}"
    path = tmp_path / "acme_lazy.py"
    path.write_text(f'''"""Lazily loaded."""
import sys

from pe_policy.engine.python_rules import rule

sys.modules.setdefault("{marker}", sys)


@rule("ACME-900", severity="low", kinds=["generic"], title="Counts keys",
      remediation="none")
def counts(doc, ctx):
    """Counts the keys of a mapping."""
    yield f"{{len(doc.raw)}} keys"
''', encoding="utf-8")
    (rule_,) = python_rules_from(path)
    assert rule_.meta.id == "ACME-900" and rule_.meta.description == "Counts the keys of a mapping."
    assert marker not in sys.modules  # described, not run
    doc = Document(kind="generic", path="x.yml", model=GenericDocument({"a": 1}), raw={"a": 1})
    assert list(rule_.check(doc, RuleContext(params={}))) == ["1 keys"]
    assert marker in sys.modules


@pytest.mark.parametrize("source", [
    # a computed argument: must run to know it
    'SEVERITY = "low"\n\n@rule("ACME-901", severity=SEVERITY, kinds=["generic"], title="x")\n'
    "def f(doc, ctx):\n    yield 'x'\n",
    # rules registered in a loop
    'for n in range(2):\n    rule(f"ACME-90{n}", severity="low", kinds=["generic"], title="x")'
    "(lambda doc, ctx: iter(()))\n",
])
def test_files_that_are_not_plain_literals_are_run(tmp_path: Path, source: str) -> None:
    path = tmp_path / "acme_dynamic.py"
    path.write_text("from pe_policy.engine.python_rules import rule\n\n" + source, encoding="utf-8")
    assert describe(path) is None
    assert all(type(r.check).__name__ != "_LazyCheck" for r in python_rules_from(path))


def test_a_description_is_kept_by_content_and_a_changed_file_read_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`describe` keeps what the source says in the outline cache, by the file's content: the
    next run reads no source tree, and an edited file is read again, never an old entry."""
    import ast

    monkeypatch.setenv("PE_POLICY_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "acme_cached.py"
    rule_source = ('from pe_policy.engine.python_rules import rule\n\n\n'
                   '@rule("ACME-910", severity="{severity}", kinds=["generic"], title="Cached")\n'
                   'def cached(doc, ctx):\n    """Kept by content."""\n    yield "x"\n')
    path.write_text(rule_source.format(severity="low"), encoding="utf-8")
    [first] = describe(path) or []
    parses: list[object] = []
    real_parse = ast.parse
    monkeypatch.setattr(ast, "parse", lambda *a, **k: parses.append(a) or real_parse(*a, **k))
    [again] = describe(path) or []
    assert again == first and parses == []  # from the cache
    moved = tmp_path / "moved" / "acme_cached.py"  # the same text elsewhere: its own origin
    moved.parent.mkdir()
    moved.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    [elsewhere] = describe(moved) or []
    assert elsewhere.origin == str(moved) and elsewhere.description == "Kept by content."
    path.write_text(rule_source.format(severity="critical"), encoding="utf-8")
    [edited] = describe(path) or []
    assert edited.severity.value == "critical" and len(parses) == 1
    executed = [r.meta for r in load_python_rules(path, tmp_path)]
    assert [edited] == executed
