"""A rule set: the built-in pack plus any user policy directories, loaded once per run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pe_policy.catalog import Catalog, RuleMeta
from pe_policy.engine.lazy_rules import python_rules_from
from pe_policy.engine.python_rules import PythonRule
from pe_policy.engine.rego import Annotation, PolicyError, RegoModule, read_module


def builtin_policy_dir() -> Path:
    """`policies/` in a source checkout, or its copy inside an installed wheel."""
    package_dir = Path(__file__).resolve().parent.parent
    installed = package_dir / "_builtin_policies"
    if installed.is_dir():
        return installed
    return package_dir.parent.parent / "policies"


@dataclass
class RuleSet:
    catalog: Catalog = field(default_factory=Catalog)
    python_rules: list[PythonRule] = field(default_factory=list)
    rego_modules: list[RegoModule] = field(default_factory=list)

    @property
    def policy_modules(self) -> list[RegoModule]:
        """Modules with rules that produce findings (tests and helper libraries excluded)."""
        return [m for m in self.rego_modules if m.result_rules and not m.is_test]

    def kinds_with_rules(self) -> set[str] | None:
        """The kinds some rule looks at; None when a rule looks at every kind."""
        kinds: set[str] = set()
        for r in self.python_rules:
            if not r.meta.kinds:
                return None
            kinds.update(r.meta.kinds)
        for m in self.policy_modules:
            if not m.kinds:
                return None
            kinds.update(m.kinds)
        return kinds


def _display(file: Path, parent: Path) -> str:
    """`file` as findings name it: relative to the policy directory's parent (`parent`, resolved)."""
    try:
        return file.resolve().relative_to(parent).as_posix()
    except ValueError:
        return file.as_posix()


def policy_files(directory: Path, suffix: str) -> list[Path]:
    return sorted(p for p in directory.rglob(f"*{suffix}") if p.is_file()
                  and "__pycache__" not in p.parts)


def load_ruleset(directories: Iterable[Path], *, include_tests: bool = False) -> RuleSet:
    """Read every `.rego` and `.py` rule file below the directories.

    Rego `_test.rego` files are kept only for `verify`.  Python files whose name
    starts with `test_` or `_` are never rule files.
    """
    ruleset = RuleSet()
    for directory in directories:
        if not directory.is_dir():
            raise PolicyError(directory.as_posix(), "policy directory not found")
        parent = directory.resolve().parent
        for file in policy_files(directory, ".rego"):
            if file.name.endswith("_test.rego") and not include_tests:
                continue  # a test module by its name: not worth reading (half the built-in files)
            module = read_module(file, _display(file, parent))
            if module.is_test and not include_tests:
                continue
            ruleset.rego_modules.append(module)
            for rule_name in module.result_rules:
                meta = module.meta_for(rule_name)
                if meta is not None and meta.id not in ruleset.catalog:
                    ruleset.catalog.add(meta)
        for file in policy_files(directory, ".py"):
            if file.name.startswith(("test_", "_")) or file.name == "conftest.py":
                continue
            try:
                rules = python_rules_from(file)  # metadata now, code when a document needs it
            except PolicyError:
                raise
            except Exception as exc:
                raise PolicyError(_display(file, parent),
                                  f"cannot load Python rules: {type(exc).__name__}: {exc}") from None
            for r in rules:
                ruleset.catalog.add(r.meta)
                ruleset.python_rules.append(r)
    return ruleset


def fallback_meta(module: RegoModule, rule_name: str) -> RuleMeta:
    """Metadata for a Rego rule that has no `# METADATA` ID (plain conftest policies)."""
    from pe_policy.findings import Severity

    rule_id = f"{module.package}.{rule_name}"
    severity = Severity.LOW if rule_name.startswith("warn") else Severity.HIGH
    # An annotation without custom.id still gives the rule its title and help text.
    note = next((n for n in module.annotations if n.scope == "rule" and n.rule == rule_name),
                next((n for n in module.annotations if n.scope == "package"), None))
    if note is not None:
        from pe_policy.engine.rego import annotation_to_meta

        raw_custom = note.data.get("custom")
        custom: dict[str, Any] = raw_custom if isinstance(raw_custom, dict) else {}
        if not custom.get("severity"):
            custom = {**custom, "severity": severity.value}
        named = Annotation(note.scope, note.rule, note.line,
                           {**note.data, "custom": {**custom, "id": rule_id}})
        return annotation_to_meta(named, module)
    return RuleMeta(id=rule_id, title=rule_id, severity=severity, kinds=module.kinds,
                    engine="rego", origin=module.path)
