"""Run a rule set over documents and turn every result into a located Finding.

Rego rules are evaluated in one of two ways, and only two:

* **a batch**: every Rego rule of up to BATCH_DOCUMENTS consecutive documents of one kind
  in one engine call (helper rules shared between rules are computed once, and the
  engine's fixed cost per query is paid once per batch: 3x on the workflow pack);
* **rule by rule**, for what a batch cannot answer: a rule that is undefined or fails
  (so the error names that rule), a rule that failed or was stopped once, an input the
  batch was stopped in, and engines without batch calls (an OPA server).

The findings are the same either way; the second only costs more engine calls.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pe_policy.catalog import RuleMeta
from pe_policy.document import CheckedFile, Document
from pe_policy.engine.backends import RegoBackend, make_backend
from pe_policy.engine.guard import python_rule_guard
from pe_policy.engine.pack import RuleSet, fallback_meta
from pe_policy.engine.policy_error import PolicyError, clean_engine_error, policy_error_from_engine
from pe_policy.engine.python_rules import PythonRule, RuleContext, Violation, run_python_rule
from pe_policy.engine.rego import RegoModule
from pe_policy.engine.sandbox import pack_refusals, refusals
from pe_policy.findings import PARSE_RULE_ID, RULE_ERROR_RULE_ID, Finding, JsonPath, Severity, fingerprint
from pe_policy.redact import redact_path, redact_value

RULE_ERROR_ID = RULE_ERROR_RULE_ID  # defined once, in findings.py
ALL_RULES = "(all rules)"  # what a PE-RULE-ERROR names when no rule of a document gave a verdict
BATCH_KEY = "rego:*"  # `Evaluator.watch` key of the one engine call for a batch (`prefetch`)
BATCH_DOCUMENTS = 16  # documents of one kind whose Rego rules are evaluated in one engine call
BATCH_MAX_BYTES = 1 << 20  # ... as long as their input stays small (a plan is evaluated alone)
# A module defining this rule judges a repository, not a document: this rule is what it needs
# of each document, evaluated with the document's other rules; its result rules judge the
# repository's documents at once (engine/repository.py)
FACTS_RULE = "document_facts"

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


def _identity(rule_id: str, file: str, path: JsonPath, violation: Violation) -> str:
    """The fingerprint: what the finding is about, robust to lines and list positions moving.

    A resource address (Terraform) names the node better than its index in a list, and two
    findings in one node (two expressions in one `run:`) differ by their snippet.
    """
    address = (violation.properties or {}).get("address")
    if isinstance(address, str) and address:
        return fingerprint(rule_id, file, ("address", address), violation.message)
    if violation.snippet:
        return fingerprint(rule_id, file, path, violation.snippet)
    return ""


def finding_for(meta: RuleMeta, doc: Document, violation: Violation) -> Finding:
    target = violation.document or doc
    location = target.location(violation.path, violation.snippet)
    # no report shows a secret: not a key in the path (the path locates; this one is shown),
    # nor a value in the properties that only its key says is one (`{"DB_PASSWORD": "x"}`)
    path = redact_path(violation.path)
    return Finding(
        rule_id=meta.id,
        severity=violation.severity or meta.severity,
        message=violation.message,
        location=location,
        kind=target.kind,
        json_path=path,
        fingerprint=_identity(meta.id, location.path, path, violation),
        # a plan finding shown at its `.tf` block still belongs to the plan (waivers name either)
        properties=redact_value({
            **(violation.properties or {}),
            **({"document": target.path} if location.path != target.path
               and location.path not in target.files else {})}),
    )


def rule_error(doc: Document | CheckedFile, rule_id: str, origin: str, error: str,
               severity: Severity | None = None) -> Finding:
    """A rule that could not give its verdict on `doc`: it errored, or was stopped.

    Fail closed: the error never counts for less than the rule would have (`severity`, the
    failed rule's own, as configured), so `--fail-on critical` still fails when a critical
    rule errors.  It counts as `high` at least, pe-policy's own severity for the error.
    """
    message = f"rule {rule_id} ({origin}) failed on this document: {error}"
    if severity is None or severity.rank <= Severity.HIGH.rank:
        severity = Severity.HIGH
    elif rule_id == ALL_RULES:
        message += (f" (no rule could be evaluated, so this counts at the highest severity "
                    f"among them, {severity.value})")
    else:
        message += (f" (the rule could not be evaluated, so this counts at its severity, "
                    f"{severity.value})")
    return Finding(
        rule_id=RULE_ERROR_ID,
        severity=severity,
        message=message,
        location=doc.location(),
        kind=doc.kind,
        properties={"failed_rule": rule_id},
    )


def python_rule_key(rule: PythonRule) -> str:
    """A rule's name for `Evaluator.watch` (the runner's worker reports where it is)."""
    return f"py:{rule.meta.origin}:{rule.meta.id}"


@functools.lru_cache(maxsize=1024)
def _directory_of(origin: str) -> tuple[Path, ...]:
    return (Path(origin).parent,) if origin else ()


def rule_directory(rule: PythonRule) -> tuple[Path, ...]:
    """Where a Python rule lives: it may read files beside itself."""
    return _directory_of(rule.meta.origin)


def rego_rule_key(module: RegoModule, rule_name: str) -> str:
    return f"rego:{module.path}:{rule_name}"


def input_error(doc: Document, exc: BaseException) -> Finding:
    """The Rego engine refused the document itself (serde_json stops at 128 levels of nesting)."""
    detail = clean_engine_error(str(exc)).splitlines()[0] if str(exc).strip() else type(exc).__name__
    return Finding(
        rule_id=PARSE_RULE_ID,
        severity=Severity.HIGH,
        message=f"the Rego engine cannot read this document ({detail}); its Rego rules were "
                "not evaluated",
        location=doc.location(),
        kind=doc.kind,
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
        backend_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.ruleset = ruleset
        self.params = params
        self.repo_root = repo_root
        self._modules = ruleset.policy_modules
        self._backend = backend
        self._backend_name = backend_name
        self._backend_options = dict(backend_options or {})
        self._data = {"pe": {"params": dict(params)}, **(data or {})}
        self._metas: dict[tuple[str, str], RuleMeta] = {}
        # Called before each rule with its key ("" between rules); False skips the rule.  Set by
        # runner.py so a runaway rule can be named and stopped.
        self.watch: Callable[[str], bool] | None = None
        self.policy_errors: list[PolicyError] = []  # modules the engine refused; the rest still run
        self._alone: set[tuple[str, str]] = set()  # rules that failed once: evaluated one by one
        self._repository_module: dict[str, bool] = {}  # module path -> judges_repository
        self._by_kind: dict[str, tuple[list[RegoModule], list[RegoModule]]] = {}
        # Rego values computed ahead for a document by `prefetch`: id(doc) -> (rules, values)
        self._prefetched: dict[int, tuple[list[tuple[str, str]], list[Any]]] = {}
        self.batching = True  # off once a batch fails or is stopped: batches of one document
        # Never evaluated: what the parser could not read, and what the sandbox refuses (a
        # built-in outside the allowed set, a module in the built-in pack's namespace): no
        # engine ever sees those (sandbox.py)
        refused = {**refusals(ruleset.rego_modules), **pack_refusals(ruleset.rego_modules)}
        for module in ruleset.rego_modules:
            error = module.error or refused.get(module.path)
            if error is not None:
                self.policy_errors.append(error)
        self._refused = set(refused)
        for module in self._modules:
            for rule_name in module.result_rules:
                self._metas[(module.path, rule_name)] = (
                    module.meta_for(rule_name) or fallback_meta(module, rule_name)
                )
        if self._refused:
            self._modules = [m for m in self._modules if m.path not in self._refused]

    @property
    def backend(self) -> RegoBackend:
        if self._backend is None:
            backend = make_backend(self._backend_name, **self._backend_options)
            refused: set[str] = set()
            for module in self.ruleset.rego_modules:
                if module.error is not None or module.path in self._refused:
                    continue  # unreadable or refused: reported from the start (__init__)
                try:
                    backend.add_module(module)
                except PolicyError as exc:  # a broken policy must not stop every other one
                    self.policy_errors.append(exc)
                    refused.add(module.path)
            backend.set_data(self._data)
            # regorus compiles here, so a module it rejects is named once (and left out), not
            # in the error of every rule of every module
            compile_now = getattr(backend, "refused_modules", None)
            for error in compile_now() if compile_now is not None else ():
                self.policy_errors.append(error)
                refused.add(error.path)
            if refused:
                self._modules = [m for m in self._modules if m.path not in refused]
            self._backend = backend
        return self._backend

    @property
    def backend_name(self) -> str:
        return self._backend_name

    @property
    def data(self) -> Mapping[str, Any]:
        """What the rules read under `data` besides the modules (`data.pe.params`...)."""
        return self._data

    def rule_meta(self, module: RegoModule, rule_name: str) -> RuleMeta:
        return self._metas[(module.path, rule_name)]

    def highest_severity(self, kind: str) -> Severity:
        """The severity of the most severe rule that looks at `kind` (at least high): what it
        counts for when none of a document's rules could give a verdict (runner.py)."""
        severities = [r.meta.severity for r in self.ruleset.python_rules if r.meta.applies_to(kind)]
        severities += [self.rule_meta(m, r).severity for m in self._modules
                       if not m.kinds or kind in m.kinds for r in m.result_rules]
        return max((*severities, Severity.HIGH), key=lambda s: s.rank)

    def evaluate(self, doc: Document, documents: Iterable[Document] = ()) -> list[Finding]:
        findings = [problem.to_finding(doc.kind) for problem in doc.problems]
        ctx = RuleContext(params=self.params, documents=documents or (doc,),
                          repo_root=self.repo_root)
        for python_rule in self.ruleset.python_rules:
            if not python_rule.meta.applies_to(doc.kind):
                continue
            if self.watch is not None and not self.watch(python_rule_key(python_rule)):
                continue
            try:
                with python_rule_guard(self.repo_root, rule_directory(python_rule)):
                    for violation in run_python_rule(python_rule, doc, ctx):
                        findings.append(finding_for(python_rule.meta, doc, violation))
            except (Exception, SystemExit) as exc:
                findings.append(rule_error(doc, python_rule.meta.id, python_rule.meta.origin,
                                           f"{type(exc).__name__}: {exc}",
                                           python_rule.meta.severity))
        if self.watch is not None:
            self.watch("")
        modules = self._modules_for(doc.kind)
        if modules:
            findings.extend(self._evaluate_rego(doc, modules))
        return findings

    def _modules_for(self, kind: str) -> list[RegoModule]:
        """The policy modules for one kind, worked out once per kind, not once per document."""
        modules = self.modules
        cached = self._by_kind.get(kind)
        if cached is None or cached[0] is not modules:
            cached = (modules, [m for m in modules if not m.kinds or kind in m.kinds])
            self._by_kind[kind] = cached
        return cached[1]

    @property
    def modules(self) -> list[RegoModule]:
        """The policy modules that run: building the engine first drops any it refused."""
        if self._modules:
            _ = self.backend
        return self._modules

    def _together(self, modules: list[RegoModule]) -> tuple[list[tuple[RegoModule, str]],
                                                            list[tuple[RegoModule, str]]]:
        """(every Rego rule for these modules, those evaluated in one call: all but the `_alone`).

        A repository-level module gives its `document_facts` here, not its findings."""
        pending = [(m, r) for m in modules
                   for r in ((FACTS_RULE,) if self._judges_repository(m) else m.result_rules)]
        return pending, [(m, r) for m, r in pending if (m.path, r) not in self._alone]

    def prefetch(self, docs: Sequence[Document]) -> None:
        """The Rego rules of one or more documents of one kind, in one engine call.

        `evaluate` then reads each document's values.  Anything unusual (an undefined
        rule, an engine error, a document it cannot read) leaves a document to be
        evaluated rule by rule, which names the problem; a failed batch of several
        documents turns batching off.
        """
        eval_each = getattr(self.backend, "eval_rules_each", None)
        if eval_each is None or not docs:
            return
        modules = self._modules_for(docs[0].kind)
        _, together = self._together(modules)
        if not together or (self.watch is not None and not self.watch(BATCH_KEY)):
            return
        try:
            results = eval_each([f"data.{m.package}.{r}" for m, r in together],
                                [_input_text(d) for d in docs])
        except Exception:
            if len(docs) > 1:
                self.batching = False
            return
        rules = [(m.path, r) for m, r in together]
        for doc, values in zip(docs, results, strict=True):
            if values is not None and len(values) == len(together):
                self._prefetched[id(doc)] = (rules, values)

    def batches(self, documents: Sequence[Document], start: int = 0,
                end: int | None = None) -> Iterator[tuple[int, int]]:
        """[first, last) ranges of consecutive documents of one kind to `prefetch` together."""
        end = len(documents) if end is None else end
        first = start
        while first < end:
            kind, size, last = documents[first].kind, 0, first
            most = BATCH_DOCUMENTS if self.batching else 1
            while (last < end and documents[last].kind == kind and last - first < most
                   and size < BATCH_MAX_BYTES):
                size += _input_size(documents[last])
                last += 1
            yield first, max(last, first + 1)
            first = max(last, first + 1)

    def _evaluate_rego(self, doc: Document, modules: list[RegoModule]) -> list[Finding]:
        pending, together = self._together(modules)
        prefetched = self._prefetched.pop(id(doc), None)
        values: list[Any] | None = None
        if prefetched is not None and prefetched[0] == [(m.path, r) for m, r in together]:
            values = prefetched[1]
        if values is None or len(together) < len(pending):  # some rule needs this document as input
            try:
                self.backend.set_input_json(_input_text(doc))
            except Exception as exc:
                return [input_error(doc, exc)]
        findings: list[Finding] = []
        if values is not None:
            for (module, rule_name), value in zip(together, values, strict=True):
                if rule_name == FACTS_RULE:
                    doc.facts[module.package] = value
                else:
                    findings.extend(self.value_findings(doc, module, rule_name, value))
            done = {(m.path, r) for m, r in together}
            pending = [(m, r) for m, r in pending if (m.path, r) not in done]
        for module, rule_name in pending:
            if self.watch is not None and not self.watch(rego_rule_key(module, rule_name)):
                continue
            rule_findings = (self._facts(doc, module) if rule_name == FACTS_RULE
                             else self.rule_findings(doc, module, rule_name))
            if any(f.rule_id == RULE_ERROR_ID for f in rule_findings):
                self.run_alone(module.path, rule_name)
            findings.extend(rule_findings)
        return findings

    def _facts(self, doc: Document, module: RegoModule) -> list[Finding]:
        """A repository-level module's facts of `doc` (the current input), kept on the document;
        a rule error for each of its rules if they cannot be had."""
        try:
            value = self.backend.eval_rule(f"data.{module.package}.{FACTS_RULE}")
        except Exception as exc:
            reason = str(policy_error_from_engine(module.path, exc))
        else:
            if value is not None:
                doc.facts[module.package] = value
                return []
            reason = f"its `{FACTS_RULE}` is undefined on this document"
        return [rule_error(doc, meta.id, module.path, reason, meta.severity)
                for meta in (self.rule_meta(module, r) for r in module.result_rules)]

    def document_facts(self, docs: Sequence[Document], modules: Sequence[RegoModule]) -> None:
        """The facts of these repository-level modules on documents no rule has seen (files
        of the repository outside the run's inputs), kept on each; a batch of them per engine
        call where the engine can.  A document whose facts cannot be had has none (the
        repository is judged without it, as without a file that does not load)."""
        eval_each = getattr(self.backend, "eval_rules_each", None)
        rules = [f"data.{m.package}.{FACTS_RULE}" for m in modules]
        for first in range(0, len(docs), BATCH_DOCUMENTS):
            batch = docs[first:first + BATCH_DOCUMENTS]
            try:
                results = (eval_each(rules, [_input_text(d) for d in batch])
                           if eval_each is not None else None)
            except Exception:
                results = None
            for index, doc in enumerate(batch):
                values = results[index] if results is not None else None
                if values is not None and len(values) == len(modules):
                    doc.facts.update({m.package: v for m, v in zip(modules, values, strict=True)})
                    continue
                try:  # one by one: an engine without batches, or a batch that failed
                    self.backend.set_input_json(_input_text(doc))
                except Exception:
                    continue
                for module in modules:
                    self._facts(doc, module)

    def repository_modules(self, kind: str) -> list[RegoModule]:
        """The modules for `kind` that judge a repository's documents at once."""
        return [m for m in self._modules_for(kind) if self._judges_repository(m)]

    def _judges_repository(self, module: RegoModule) -> bool:
        """judges_repository, worked out once per module (it is asked once per document)."""
        known = self._repository_module.get(module.path)
        if known is None:
            known = self._repository_module[module.path] = judges_repository(module)
        return known

    def judge_repository(self, module: RegoModule, items: list[dict[str, Any]],
                         ) -> list[tuple[RuleMeta, Violation]]:
        """A repository-level module's findings on a repository: `items` are its documents as
        `{"path": ..., "facts": ...}`; each violation names its document in `file`."""
        self.backend.set_input_json(json.dumps(items))
        out: list[tuple[RuleMeta, Violation]] = []
        for rule_name in module.result_rules:
            meta = self.rule_meta(module, rule_name)
            value = self.backend.eval_rule(f"data.{module.package}.{rule_name}")
            for violation in rego_violations(module, rule_name, value):
                rule_id = violation.properties.get("rule_id") if violation.properties else None
                out.append((self.ruleset.catalog.get(str(rule_id)) or meta if rule_id else meta,
                            violation))
        return out

    def run_alone(self, module_path: str, rule_name: str) -> None:
        """Keep a rule out of the one-call evaluation (it failed, or was stopped, once)."""
        self._alone.add((module_path, rule_name))

    def set_input(self, value: Any) -> None:
        """The input of the following `rule_findings` calls (one per document, or combined)."""
        self.backend.set_input_json(json.dumps(value))

    def rule_findings(self, doc: Document, module: RegoModule, rule_name: str) -> list[Finding]:
        """One rule's findings on the current input, located in `doc` (conftest reuses this)."""
        meta = self.rule_meta(module, rule_name)
        try:
            value = self.backend.eval_rule(f"data.{module.package}.{rule_name}")
        except Exception as exc:
            error = policy_error_from_engine(module.path, exc)
            return [rule_error(doc, meta.id, module.path, str(error), meta.severity)]
        return self.value_findings(doc, module, rule_name, value)

    def value_findings(self, doc: Document, module: RegoModule, rule_name: str,
                       value: Any) -> list[Finding]:
        """Findings from a rule's value (conftest semantics), located in `doc`."""
        meta = self.rule_meta(module, rule_name)
        findings: list[Finding] = []
        for violation in rego_violations(module, rule_name, value):
            rule_id = violation.properties.get("rule_id") if violation.properties else None
            target_meta = self.ruleset.catalog.get(str(rule_id)) if rule_id else None
            findings.append(finding_for(target_meta or meta, doc, violation))
        return findings


def judges_repository(module: RegoModule) -> bool:
    """The module defines `document_facts`: a repository-level module (see FACTS_RULE)."""
    return any(head.name == FACTS_RULE for head in module.rules)


def _input_text(doc: Document) -> str:
    return doc.input_json if doc.input_json is not None else json.dumps(doc.input)


def _input_size(doc: Document) -> int:
    """Roughly how large the document's input is, without serialising it."""
    if doc.input_json is not None:
        return len(doc.input_json)
    return len(doc.text) if doc.text is not None else 0


def evaluate_each(
    evaluator: Evaluator, documents: Sequence[Document], start: int = 0, end: int | None = None,
    begin: Callable[[int], None] | None = None, others: Iterable[Document] | None = None,
) -> Iterator[tuple[int, list[Finding]]]:
    """(number, findings) of each document in order, batches prefetched.

    `begin(number)` is called before each document, and before each batch with its first
    document's number (the runner's worker records where it is).  `others` is what
    cross-document rules see, when that is more than `documents` (a lane's worker).
    """
    for first, last in evaluator.batches(documents, start, end):
        if begin is not None:
            begin(first)
        evaluator.prefetch(documents[first:last])
        for number in range(first, last):
            if begin is not None:
                begin(number)
            yield number, evaluator.evaluate(documents[number],
                                             documents if others is None else others)
