"""Python rule files read without running them: metadata from the source, code on first use.

Executing every rule file on start-up imports every kind's model module
(pydantic classes are costly to build), which alone would take a pre-commit
run on one workflow past its budget.  The `@rule(...)` decorator's arguments
are literals in practice, so `ast` reads them (a few milliseconds for the
whole pack) and the catalog is complete (`rules`, `explain`, SARIF, config
validation see every rule) while a file runs only when a document of one of
its kinds is evaluated.  A file whose decorators are not plain literals runs
at once, as before.

A repository's rule file (`isolated`: not the built-in pack's) is read only this
way, with `ast`, which never runs it: one that cannot be described without running
it is refused (`NeedsRunning`), and its rules' code is imported only inside a
locked-down worker (`isolation.locked_down`), under the audit hook.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pe_policy.catalog import RuleMeta
from pe_policy.engine.python_rules import PythonRule, Violation, load_python_rules
from pe_policy.findings import Severity

_RULE_CALL = re.compile(rb"(?<![\w])rule\s*\(")
_CACHE_NAMESPACE = "python-rules-1"  # bump when what `_described` gives changes
_FIELDS = ("severity", "kinds", "title", "description", "remediation", "source", "help_uri")


class _Deferred(Exception):
    """The file cannot be described without running it."""


class NeedsRunning(ValueError):
    """A repository rule file that cannot be described from its source (it is never run to
    find out)."""


def _is_rule_decorator(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "rule") or (
        isinstance(func, ast.Attribute) and func.attr == "rule")


def _meta_from_call(call: ast.Call, func: ast.FunctionDef) -> dict[str, Any]:
    if len(call.args) != 1 or any(k.arg is None or k.arg not in _FIELDS for k in call.keywords):
        raise _Deferred
    try:
        rule_id = ast.literal_eval(call.args[0])
        values: dict[str, Any] = {k.arg: ast.literal_eval(k.value) for k in call.keywords
                                  if k.arg is not None}
    except ValueError:  # not a literal (a constant, a call): run the file
        raise _Deferred from None
    if not isinstance(rule_id, str) or not all(k in values for k in ("severity", "kinds", "title")):
        raise _Deferred
    kinds = values["kinds"]
    if isinstance(kinds, str) or not isinstance(kinds, Iterable):
        raise _Deferred
    return {  # RuleMeta's fields, but its origin (the file's path): what the source says
        "id": rule_id,
        "title": str(values["title"]),
        "severity": Severity.parse(values["severity"]).value,
        "kinds": [str(k) for k in kinds],
        "description": str(values.get("description")
                           or (ast.get_docstring(func) or "").strip()),
        "remediation": str(values.get("remediation", "")),
        "source": str(values.get("source", "")),
        "help_uri": str(values.get("help_uri", "")),
    }


def describe(path: Path) -> list[RuleMeta] | None:
    """The rules `path` would register, read from its source; None if it must be run to know.

    Reading the source is the costly part (`ast.parse`: 6 ms for the built-in pack's files,
    on every run), so what it gives is kept in the outline cache, by the file's content."""
    from pe_policy.engine.rego_ast import cached_value

    try:
        source = path.read_bytes()
    except OSError:
        return None  # running it reports the error properly
    found = cached_value(_CACHE_NAMESPACE, source, lambda: _described(source))
    if found is None:
        return None
    return [RuleMeta(**{**fields, "severity": Severity.parse(fields["severity"]),
                        "kinds": tuple(fields["kinds"]), "engine": "python",
                        "origin": str(path)}) for fields in found]


def _described(source: bytes) -> list[dict[str, Any]] | None:
    """`describe`'s reading of a source: each rule's metadata, as JSON values."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    metas: list[dict[str, Any]] = []
    for node in tree.body:
        decorators = getattr(node, "decorator_list", [])
        calls = [d for d in decorators if _is_rule_decorator(d)]
        if not calls:
            continue
        if not isinstance(node, ast.FunctionDef):
            return None
        for call in calls:
            assert isinstance(call, ast.Call)
            try:
                metas.append(_meta_from_call(call, node))
            except _Deferred:
                return None
    # `rule(` written anywhere else (a loop, a factory, a nested function): run the file
    if not metas or len(_RULE_CALL.findall(source)) != len(metas):
        return None
    return metas


class _LazyCheck:
    """Stands for a rule function until its file is first needed (`run_python_rule` calls
    `resolve()`, then the function as its signature asks)."""

    def __init__(self, path: Path, rule_id: str, root: Path | None = None,
                 isolated: bool = False) -> None:
        self.path = path
        self.rule_id = rule_id
        self.root = root  # the policy directory whose package the file belongs to
        self.isolated = isolated  # a repository's file: imported only in a locked-down worker
        self._function: Any = None

    def resolve(self) -> Any:
        if self._function is None:
            from pe_policy.engine.guard import guard_suspended, python_rule_guard

            if self.isolated:
                from pe_policy.isolation import locked_down

                if not locked_down():
                    raise PermissionError(f"{self.path} is a repository's Python rule file: it runs "
                                          "only in a locked-down worker (runner.py), never here")
                # its top-level code is the repository's too: guarded like the rule itself
                with python_rule_guard(None, (self.root or self.path.parent,)):
                    rules = load_python_rules(self.path, self.root)
            else:
                with guard_suspended():  # importing may write bytecode caches; the rule has not run yet
                    rules = load_python_rules(self.path, self.root)
            found = next((r for r in rules if r.meta.id == self.rule_id), None)
            if found is None:
                raise RuntimeError(f"{self.path} no longer defines rule {self.rule_id}")
            self._function = found.check
        return self._function

    def __call__(self, *args: Any, **kwargs: Any) -> Iterable[Violation]:
        result: Iterable[Violation] = self.resolve()(*args, **kwargs)
        return result


def python_rules_from(path: Path, root: Path | None = None, *,
                      isolated: bool = False) -> list[PythonRule]:
    """The rules of one file: described from source when possible, else by running it.

    `root` is the policy directory the file belongs to (see `load_python_rules`).  An
    `isolated` file (a repository's) is never run here: described from source, or refused
    (NeedsRunning).
    """
    metas = describe(path)
    if metas is None:
        if isolated:
            raise NeedsRunning(
                "a repository's Python rule file is read without running it, so each rule "
                "needs a plain `@rule(\"ID\", severity=..., kinds=[...], title=...)` decorator "
                "with literal arguments, on a top-level function, and `rule(` nowhere else")
        return load_python_rules(path, root)
    return [PythonRule(meta, _LazyCheck(path, meta.id, root, isolated), isolated)
            for meta in metas]


__all__ = ["NeedsRunning", "describe", "python_rules_from"]
