"""Run a rule set over documents and turn every result into a located Finding."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pe_policy.catalog import RuleMeta
from pe_policy.document import Document
from pe_policy.engine.pack import RuleSet, fallback_meta
from pe_policy.engine.python_rules import RuleContext, Violation, run_python_rule
from pe_policy.engine.rego import RegoBackend, RegoModule, make_backend, policy_error_from_engine
from pe_policy.findings import Finding, JsonPath, Severity

RULE_ERROR_ID = "PE-RULE-ERROR"

_PATH_TOKEN = re.compile(r"\[(\d+)\]|\[\"([^\"]*)\"\]|\['([^']*)'\]|([^.\[\]]+)")


def parse_path(value: Any) -> JsonPath:
    """A Rego result's `path`: a list (`["jobs", "build"]`) or a dotted string (`jobs.build.steps[0]`)."""
    if isinstance(value, list):
        return tuple(p if isinstance(p, int) else str(p) for p in value)
    if isinstance(value, str) and value:
        out: list[str | int] = []
        for index, dq, sq, name in _PATH_TOKEN.findall(value):
            if index:
                out.append(int(index))
            else:
                out.append(dq or sq or name)
        return tuple(out)
    return ()


def finding_for(meta: RuleMeta, doc: Document, violation: Violation) -> Finding:
    target = violation.document or doc
    return Finding(
        rule_id=meta.id,
        severity=violation.severity or meta.severity,
        message=violation.message,
        location=target.location(violation.path, violation.snippet),
        kind=target.kind,
        json_path=tuple(violation.path),
        properties=dict(violation.properties or {}),
    )


def rule_error(doc: Document, rule_id: str, origin: str, error: str) -> Finding:
    return Finding(
        rule_id=RULE_ERROR_ID,
        severity=Severity.HIGH,
        message=f"rule {rule_id} ({origin}) failed on this document: {error}",
        location=doc.location(),
        kind=doc.kind,
        properties={"failed_rule": rule_id},
    )


def rego_violations(module: RegoModule, rule_name: str, value: Any) -> list[Violation]:
    """conftest semantics: a set/array of strings or objects with `msg`, or a single value."""
    if value is None or value is False:
        return []
    items: Iterable[Any]
    if isinstance(value, list):
        items = value
    elif isinstance(value, dict) and ("msg" not in value and "message" not in value):
        items = value.values()
    else:
        items = [value]
    out: list[Violation] = []
    for item in items:
        if isinstance(item, dict):
            message = str(item.get("msg") or item.get("message") or f"{module.package}.{rule_name}")
            severity = None
            if item.get("severity"):
                try:
                    severity = Severity.parse(str(item["severity"]))
                except ValueError:
                    severity = None
            extra = {k: v for k, v in item.items()
                     if k not in ("msg", "message", "path", "severity", "snippet")}
            snippet = item.get("snippet")
            out.append(Violation(message, parse_path(item.get("path")), severity, None, extra,
                                 snippet if isinstance(snippet, str) else None))
        elif item is True:
            out.append(Violation(f"{module.package}.{rule_name} is true"))
        else:
            out.append(Violation(str(item)))
    return out


class Evaluator:
    """Holds one compiled engine for the whole run; `evaluate` is called per document."""

    def __init__(
        self,
        ruleset: RuleSet,
        params: Mapping[str, Any],
        *,
        backend: RegoBackend | None = None,
        backend_name: str = "regorus",
        repo_root: Path | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.ruleset = ruleset
        self.params = params
        self.repo_root = repo_root
        self._modules = ruleset.policy_modules
        self._backend = backend
        self._backend_name = backend_name
        self._data = {"pe": {"params": dict(params)}, **(data or {})}
        self._metas: dict[tuple[str, str], RuleMeta] = {}
        for module in self._modules:
            for rule_name in module.result_rules:
                self._metas[(module.path, rule_name)] = (
                    module.meta_for(rule_name) or fallback_meta(module, rule_name)
                )

    @property
    def backend(self) -> RegoBackend:
        if self._backend is None:
            backend = make_backend(self._backend_name)
            for module in self.ruleset.rego_modules:
                backend.add_module(module)
            backend.set_data(self._data)
            self._backend = backend
        return self._backend

    def rule_meta(self, module: RegoModule, rule_name: str) -> RuleMeta:
        return self._metas[(module.path, rule_name)]

    def evaluate(self, doc: Document, documents: Sequence[Document] = ()) -> list[Finding]:
        findings: list[Finding] = []
        ctx = RuleContext(params=self.params, documents=documents or (doc,),
                          repo_root=self.repo_root)
        for python_rule in self.ruleset.python_rules:
            if not python_rule.meta.applies_to(doc.kind):
                continue
            try:
                for violation in run_python_rule(python_rule, doc, ctx):
                    findings.append(finding_for(python_rule.meta, doc, violation))
            except Exception as exc:
                findings.append(rule_error(doc, python_rule.meta.id, python_rule.meta.origin,
                                           f"{type(exc).__name__}: {exc}"))
        modules = [m for m in self._modules if not m.kinds or doc.kind in m.kinds]
        if modules:
            findings.extend(self._evaluate_rego(doc, modules))
        return findings

    def _evaluate_rego(self, doc: Document, modules: list[RegoModule]) -> list[Finding]:
        backend = self.backend
        backend.set_input_json(json.dumps(doc.input))
        findings: list[Finding] = []
        for module in modules:
            for rule_name in module.result_rules:
                meta = self.rule_meta(module, rule_name)
                try:
                    value = backend.eval_rule(f"data.{module.package}.{rule_name}")
                except Exception as exc:
                    error = policy_error_from_engine(module.path, exc)
                    findings.append(rule_error(doc, meta.id, module.path, str(error)))
                    continue
                for violation in rego_violations(module, rule_name, value):
                    rule_id = violation.properties.get("rule_id") if violation.properties else None
                    target_meta = self.ruleset.catalog.get(str(rule_id)) if rule_id else None
                    findings.append(finding_for(target_meta or meta, doc, violation))
        return findings


def evaluate_all(evaluator: Evaluator, documents: Sequence[Document]) -> list[Finding]:
    findings: list[Finding] = []
    for doc in documents:
        findings.extend(evaluator.evaluate(doc, documents))
    return findings
