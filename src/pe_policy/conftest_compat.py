"""`pe-policy test`: conftest's semantics on pe-policy's loaders and engine.

What conftest does, and so what this does:

* in each namespace (package; default `main`) the rules named `deny`,
  `violation` (failures) and `warn` (warnings), with `_suffix` variants, are
  queried; each result is a string or an object with `msg` (plus metadata);
* a rule counts one success per definition that produced nothing;
* `exception contains ["suffix", ...]` excepts `deny_suffix`/`violation_suffix`
  (and a bare rule named `suffix`): its results become exceptions, not failures;
* `--combine` evaluates every input at once as `[{path, contents}, ...]`;
* exit 1 on failures; with `--fail-on-warn` 2 on failures and 1 on warnings.

The evaluation is the shared `Evaluator`'s (`rule_findings`), so a result
with a `path` is located through the loader's source map like any finding.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pe_policy.catalog import RuleMeta
from pe_policy.document import CheckedFile, Document, SourceMap, Span
from pe_policy.engine.evaluate import Evaluator, rego_rule_key, rule_error
from pe_policy.engine.pack import RuleSet, policy_files
from pe_policy.engine.rego import PolicyError, RegoModule, read_module
from pe_policy.findings import Finding, JsonPath, ParseError, Suppression
from pe_policy.runner import Limits

if TYPE_CHECKING:
    from pe_policy.pipeline import CheckResult

DEFAULT_POLICY_DIR = "policy"
DEFAULT_NAMESPACE = "main"
COMBINED = "Combined"
GENERIC_SUFFIXES = frozenset({".json", ".yaml", ".yml"})
# conftest's parser names → pe-policy kinds
PARSER_ALIASES = {"json": "generic", "yaml": "generic", "yml": "generic", "hcl2": "terraform",
                  "hcl": "terraform", "tf": "terraform"}

_FAILURE = re.compile(r"^(deny|violation)(_[a-zA-Z0-9]+)*$")
_WARNING = re.compile(r"^warn(_[a-zA-Z0-9]+)*$")
_RULE_DEFINITION = re.compile(r"^(?:deny|violation|warn)(?:_[a-zA-Z0-9]+)*\b", re.MULTILINE)


def is_failure_rule(name: str) -> bool:
    return bool(_FAILURE.match(name))


def is_warning_rule(name: str) -> bool:
    return bool(_WARNING.match(name))


def exception_name(rule: str) -> str:
    """The name an `exception` entry uses for `rule` (conftest: `deny_`/`violation_` removed)."""
    for prefix in ("deny_", "violation_"):
        if rule.startswith(prefix):
            return rule[len(prefix):]
    return rule


@dataclass
class Outcome:
    """One conftest result line: a failure, warning or exception, as a Finding."""

    status: str  # "failure" | "warning" | "exception"
    namespace: str
    rule: str
    finding: Finding


@dataclass
class FileResult:
    """conftest's CheckResult: one input (or the combined input) in one namespace."""

    path: str
    namespace: str
    successes: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    excepted: list[Finding] = field(default_factory=list)  # results an exception hid

    def of(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]


@dataclass
class TestRun:
    results: list[FileResult]
    findings: list[Finding]
    catalog_rules: list[RuleMeta]
    files: list[CheckedFile]  # what the reports show of each input
    checked_paths: list[str]

    def count(self, status: str) -> int:
        return sum(len(r.of(status)) for r in self.results)

    @property
    def successes(self) -> int:
        return sum(r.successes for r in self.results)

    def exit_code(self, fail_on_warn: bool = False, no_fail: bool = False) -> int:
        if no_fail:
            return 0
        failures, warnings = self.count("failure"), self.count("warning")
        if fail_on_warn:
            return 2 if failures else (1 if warnings else 0)
        return 1 if failures else 0


# ---------------------------------------------------------------- policies


def load_policies(directories: Sequence[Path]) -> list[RegoModule]:
    """Every `.rego` module below the directories, tests excluded (conftest ignores them too)."""
    modules: list[RegoModule] = []
    for directory in directories:
        if not directory.is_dir():
            raise PolicyError(directory.as_posix(), "policy directory not found")
        for file in policy_files(directory, ".rego"):
            module = read_module(file, _display(file))
            if not module.is_test:
                modules.append(module)
    if not modules:
        shown = ", ".join(d.as_posix() for d in directories)
        raise PolicyError(shown, "no policies found (.rego files)")
    return modules


def _display(file: Path) -> str:
    try:
        return file.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return file.as_posix()


def namespace_rules(modules: Iterable[RegoModule], namespace: str
                    ) -> list[tuple[str, RegoModule, int]]:
    """(rule, first module defining it, number of definitions) for conftest's rules."""
    found: dict[str, tuple[RegoModule, int]] = {}
    for module in modules:
        if module.package != namespace:
            continue
        code = re.sub(r"#[^\n]*", "", module.text)
        for match in _RULE_DEFINITION.finditer(code):
            name = match.group(0)
            first, count = found.get(name, (module, 0))
            found[name] = (first, count + 1)
    return [(name, module, count) for name, (module, count) in sorted(found.items())]


# ---------------------------------------------------------------- inputs


def resolve_kind(parser: str | None) -> str | None:
    if parser is None:
        return None
    from pe_policy.loaders import KINDS

    kind = PARSER_ALIASES.get(parser, parser)
    if kind not in KINDS:
        known = sorted({*KINDS, *PARSER_ALIASES})
        raise ValueError(f"unknown parser {parser!r} (known: {', '.join(known)})")
    return kind


def input_kind(abs_path: Path, display: str, forced: str | None) -> str | None:
    """`--parser`, else the detected kind, else `generic` for JSON/YAML."""
    from pe_policy.discover import detect_kind

    if forced is not None:
        return forced
    kind = detect_kind(abs_path, display)
    if kind is None and PurePosixPath(display).suffix.lower() in GENERIC_SUFFIXES:
        return "generic"
    return kind


def collect_inputs(paths: Sequence[Path], root: Path, forced: str | None
                   ) -> tuple[list[tuple[Path, str, str]], list[tuple[str, str]]]:
    """(abs path, display path, kind) for every input; (path, problem) for unusable ones."""
    from pe_policy.discover import relative_to_root, walk

    inputs: list[tuple[Path, str, str]] = []
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for given in paths:
        files = list(walk(given)) if given.is_dir() else [given]
        if not given.exists():
            problems.append((str(given), "no such file or directory"))
            continue
        for file in files:
            display = relative_to_root(file, root)
            if display in seen:
                continue
            kind = input_kind(file, display, forced)
            if kind is None:
                if not given.is_dir():
                    problems.append((display, "cannot tell how to parse this file; "
                                     "pass --parser (e.g. --parser yaml)"))
                continue
            seen.add(display)
            inputs.append((file, display, kind))
    return inputs, problems


def load_data_dirs(directories: Sequence[Path]) -> dict[str, Any]:
    """`--data`: JSON/YAML files merged into `data` (a sub-directory nests under its name)."""
    from pe_policy.loaders import read_text
    from pe_policy.loaders.yaml_source import load_yaml

    data: dict[str, Any] = {}
    for directory in directories:
        files = [directory] if directory.is_file() else sorted(
            p for p in directory.rglob("*") if p.suffix.lower() in GENERIC_SUFFIXES and p.is_file())
        if not directory.exists():
            raise ParseError(directory.as_posix(), "data path not found")
        for file in files:
            display = file.as_posix()
            text = read_text(file, display)
            value, _spans = load_yaml(text, display)
            if value is None:
                continue
            if not isinstance(value, dict):
                raise ParseError(display, "data files must hold an object at the top level")
            rel = file.parent.relative_to(directory).parts if directory.is_dir() else ()
            target = data
            for part in rel:
                target = target.setdefault(part, {})
            _merge(target, value)
    return data


def _merge(into: dict[str, Any], value: Mapping[str, Any]) -> None:
    for key, item in value.items():
        if isinstance(item, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], item)
        else:
            into[key] = item


def combined_document(documents: Sequence[Document]) -> Document:
    """All inputs as one `[{path, contents}]` document; paths inside map back to each file."""
    from pe_policy.models.generic import GenericDocument

    value = [{"path": d.path, "contents": d.input} for d in documents]

    def resolve() -> dict[JsonPath, Span]:
        spans: dict[JsonPath, Span] = {}
        for index, doc in enumerate(documents):
            spans[(index,)] = Span(1, path=doc.path)
            spans[(index, "path")] = Span(1, path=doc.path)
            spans[(index, "contents")] = Span(1, path=doc.path)
            for key, span in doc.source_map.spans.items():
                inner: JsonPath = (index, "contents", *key)
                spans[inner] = Span(
                    span.line, span.column, span.end_line, span.end_column, span.path or doc.path)
        return spans

    return Document(kind="combined", path=COMBINED, model=GenericDocument(value),
                    source_map=SourceMap(resolver=resolve), raw=value)


# ---------------------------------------------------------------- evaluation


def _exception_count(evaluator: Evaluator, namespace: str, name: str) -> int:
    """How many `exception` entries name `name` (conftest: `exception[_][_] == name`)."""
    value = evaluator.backend.eval_rule(f"data.{namespace}.exception")
    if not isinstance(value, list):
        return 0
    return sum(1 for entry in value if isinstance(entry, list)
               for item in entry if item == name)


def check_document(evaluator: Evaluator, doc: Document, namespaces: Sequence[str],
                   modules: Sequence[RegoModule]) -> list[FileResult]:
    """conftest's `check` for one input: per namespace, exceptions first, then each rule."""
    evaluator.set_input(doc.input)
    results: list[FileResult] = []
    for namespace in namespaces:
        result = FileResult(doc.path, namespace)
        has_exceptions = any(m.package == namespace and re.search(r"^exception\b", m.text, re.M)
                             for m in modules)
        for rule, module, definitions in namespace_rules(modules, namespace):
            if evaluator.watch is not None and not evaluator.watch(rego_rule_key(module, rule)):
                continue  # stopped here once (the deadline): reported as this rule's error
            excepted = 0
            if has_exceptions:
                try:
                    excepted = _exception_count(evaluator, namespace, exception_name(rule))
                except Exception as exc:
                    from pe_policy.engine.policy_error import policy_error_from_engine

                    error = policy_error_from_engine(module.path, exc)
                    meta = evaluator.rule_meta(module, rule)
                    result.outcomes.append(Outcome("failure", namespace, rule, rule_error(
                        doc, meta.id, module.path, f"exception: {error}")))
                    continue
            findings = evaluator.rule_findings(doc, module, rule)
            failed = [f for f in findings if f.rule_id != "PE-RULE-ERROR"]
            errors = [f for f in findings if f.rule_id == "PE-RULE-ERROR"]
            for error_finding in errors:
                result.outcomes.append(Outcome("failure", namespace, rule, error_finding))
            meta = evaluator.rule_meta(module, rule)
            query = f'data.{namespace}.exception[_][_] == "{exception_name(rule)}"'
            for _ in range(excepted):
                result.outcomes.append(Outcome("exception", namespace, rule, Finding(
                    rule_id=meta.id, severity=meta.severity, message=query,
                    location=doc.location(), kind=doc.kind,
                    suppression=Suppression("inSource", f"conftest exception: {query}"))))
            if excepted:
                excepted_by = Suppression("inSource", f"conftest exception: {query}")
                for finding in failed:  # what the exception hid: kept, marked as excepted
                    result.excepted.append(replace(finding, suppression=excepted_by))
                passed = 0 if failed else 1
                result.successes += passed + max(0, definitions - excepted - passed)
                continue
            status = "failure" if is_failure_rule(rule) else "warning"
            for finding in failed:
                result.outcomes.append(Outcome(status, namespace, rule, finding))
            result.successes += max(0, definitions - len(failed) - len(errors))
        results.append(result)
    return results


class _CombinedLoad:
    """`--combine`: every input loaded (in the worker) into one `[{path, contents}]` document.

    Inputs that do not load are kept in `failures`, read by the judge in the same worker,
    so each is still reported on its own while the rest are tested together.
    """

    def __init__(self, inputs: Sequence[tuple[Path, str, str]], root: Path) -> None:
        self.inputs = inputs
        self.root = root
        self.failures: list[Finding] = []
        self.parts: list[Document] = []

    def __call__(self) -> Document:
        from pe_policy.loaders import load_file

        for abs_path, display, kind in self.inputs:
            try:
                self.parts.append(load_file(abs_path, display, kind, self.root))
            except ParseError as exc:
                self.failures.append(exc.to_finding(kind))
        return combined_document(self.parts)


def _parse_failure(finding: Finding) -> FileResult:
    """An input that could not be tested (it does not load, or its worker was stopped)."""
    result = FileResult(finding.location.path, "-")
    what = "parse" if finding.rule_id == "PE-PARSE" else "error"
    result.outcomes.append(Outcome("failure", "-", what, finding))
    return result


def _judge(evaluator: Evaluator, documents: Sequence[Document], _everything: object,
           begin: Callable[[int], None], *, namespaces: Sequence[str],
           modules: Sequence[RegoModule], combined: _CombinedLoad | None
           ) -> Iterator[tuple[int, list[Any]]]:
    """The runner's judge for `test`: conftest's results for each document (and, combined,
    the parts' parse failures and files for the reports)."""
    for index, doc in enumerate(documents):
        begin(index)
        results: list[Any] = []
        if combined is not None:
            results += [_parse_failure(f) for f in combined.failures]
            results += [part.checked() for part in combined.parts]
        results += check_document(evaluator, doc, namespaces, modules)
        yield index, results


def run_test(
    paths: Sequence[Path],
    root: Path,
    policy_dirs: Sequence[Path],
    *,
    namespaces: Sequence[str] | None = (DEFAULT_NAMESPACE,),
    data_dirs: Sequence[Path] = (),
    combine: bool = False,
    parser: str | None = None,
    engine: str = "regorus",
    engine_options: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
) -> tuple[TestRun, list[tuple[str, str]]]:
    """Load inputs and policies, evaluate conftest-style; (run, input problems).

    Inputs are loaded and evaluated by the runner (runner.py), as `check`'s are: in worker
    processes with the same deadline and memory limit.
    """
    from pe_policy.config import DEFAULT_PARAMS
    from pe_policy.loaders import DEFAULT_MAX_BYTES, load_file
    from pe_policy.runner import RunInput, run

    modules = load_policies(policy_dirs)
    chosen = sorted({m.package for m in modules}) if namespaces is None else list(namespaces)
    forced = resolve_kind(parser)
    inputs, problems = collect_inputs(paths, root, forced)
    ruleset = RuleSet(rego_modules=modules)
    evaluator = Evaluator(ruleset, params if params is not None else DEFAULT_PARAMS,
                          backend_name=engine, repo_root=root, data=load_data_dirs(data_dirs),
                          backend_options=engine_options)
    try:
        _ = evaluator.backend  # compile now: conftest stops on a policy that does not load
    except PolicyError:
        refused = getattr(evaluator, "policy_errors", [])
        if refused:
            raise refused[0] from None  # the first file that failed says why
        raise
    refused = getattr(evaluator, "policy_errors", [])
    if refused:
        raise refused[0]
    combined = _CombinedLoad(inputs, root) if combine and inputs else None
    run_inputs = ([RunInput(COMBINED, "combined", combined)] if combined is not None else
                  [RunInput(display, kind, partial(load_file, abs_path, display, kind, root))
                   for abs_path, display, kind in inputs])
    judge = partial(_judge, namespaces=chosen, modules=modules, combined=combined)
    files, outcomes = run(evaluator, run_inputs, root=root, max_bytes=DEFAULT_MAX_BYTES,
                          limits=limits or Limits(), judge=judge)
    failures = [_parse_failure(o) for o in outcomes if isinstance(o, Finding)]
    failures += [r for r in outcomes if isinstance(r, FileResult) and r.namespace == "-"]
    results = failures + [r for r in outcomes if isinstance(r, FileResult) and r.namespace != "-"]
    if combined is not None:
        files = [f for f in outcomes if isinstance(f, CheckedFile)]
    metas: dict[str, RuleMeta] = {}
    for namespace in chosen:
        for rule, module, _count in namespace_rules(modules, namespace):
            meta = evaluator.rule_meta(module, rule)
            metas.setdefault(meta.id, meta)
    findings = [o.finding for r in results for o in r.outcomes if o.status != "exception"]
    findings.extend(f for r in results for f in r.excepted)
    findings.sort(key=Finding.sort_key)
    test_run = TestRun(results=results, findings=findings, catalog_rules=list(metas.values()),
                       files=files, checked_paths=[display for _a, display, _k in inputs])
    return test_run, problems


# ---------------------------------------------------------------- conftest's own outputs


def render_text(run: TestRun, problems: Sequence[tuple[str, str]] = ()) -> str:
    """conftest's standard output, with `file:line` where the result has a location."""
    lines = [f"ERROR - {path} - {problem}" for path, problem in problems]
    for result in run.results:
        total = result.successes + len(result.outcomes)
        if total == 0:
            lines.append(f"? - {result.path} - {result.namespace} - no policies found")
            continue
        for status, label in (("warning", "WARN"), ("failure", "FAIL"), ("exception", "EXCP")):
            for outcome in result.of(status):
                where = _where(outcome.finding)
                lines.append(f"{label} - {where} - {result.namespace} - {outcome.finding.message}")
    tests = run.successes + sum(len(r.outcomes) for r in run.results)
    warnings, failures, exceptions = (run.count(s) for s in ("warning", "failure", "exception"))
    lines.append("")
    lines.append(f"{tests} test{_s(tests)}, {run.successes} passed, {warnings} warning{_s(warnings)}, "
                 f"{failures} failure{_s(failures)}, {exceptions} exception{_s(exceptions)}")
    return "\n".join(lines) + "\n"


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _where(finding: Finding) -> str:
    loc = finding.location
    if loc.path == COMBINED:
        return COMBINED
    return f"{loc.path}:{loc.line}"


def render_json(run: TestRun) -> str:
    """conftest's JSON (`filename`, `namespace`, `successes`, `failures`, ...) plus `loc`."""

    def entry(outcome: Outcome) -> dict[str, Any]:
        finding = outcome.finding
        out: dict[str, Any] = {"msg": finding.message}
        if finding.location.path != COMBINED or finding.location.line > 1:
            out["loc"] = {"file": finding.location.path, "line": finding.location.line}
        metadata = {k: v for k, v in finding.properties.items()}
        if finding.json_path:
            metadata["path"] = list(finding.json_path)
        metadata["rule"] = outcome.rule
        metadata["rule_id"] = finding.rule_id
        out["metadata"] = metadata
        return out

    payload = []
    for result in run.results:
        item: dict[str, Any] = {"filename": result.path, "namespace": result.namespace,
                                "successes": result.successes}
        for status, key in (("warning", "warnings"), ("failure", "failures"),
                            ("exception", "exceptions")):
            outcomes = result.of(status)
            if outcomes:
                item[key] = [entry(o) for o in outcomes]
        payload.append(item)
    return json.dumps(payload, indent="\t") + "\n"


def check_result(run: TestRun, root: Path, problems: Sequence[tuple[str, str]] = ()) -> CheckResult:
    """The run as a `CheckResult`, so SARIF, Markdown, JUnit and GitHub reporters render it."""
    from pe_policy.catalog import Catalog
    from pe_policy.pipeline import CheckResult

    catalog = Catalog()
    for meta in run.catalog_rules:
        if meta.id not in catalog:
            catalog.add(meta)
    return CheckResult(findings=run.findings, catalog=catalog, root=root,
                       files=run.files, checked_paths=run.checked_paths,
                       problems=list(problems),
                       sources={f.path: f.lines for f in run.files if f.text is not None})
