"""conftest's `Check`, on pe-policy's Rego engines.

For each input document and namespace, as conftest's policy engine does:

* the rules are those of the namespace's modules whose names match `deny`/`violation`
  (failures) or `warn` (warnings), with `_suffix` variants; each definition counts as a test;
* per rule, first `data.<ns>.exception[_][_] == "<rule without deny_/violation_/warn_>"`:
  each match is an exception, and the rule's own results are then not counted at all;
* else each string (or object with a string `msg`) the rule returns is a failure or warning,
  and an empty set one success; definitions left without a result count as successes;
* a list-valued input (several YAML documents, a top-level array) is tested element by
  element and reported as one result for the file.

Results keep conftest's metadata (`_loc` read as the location, the rest as metadata with the
`query`), and pe-policy's own location: the line of the result's `path` in the document, or
the document's first line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from pe_policy.document import Document
from pe_policy.engine.rego import PolicyError, RegoModule, read_module

_FAILURE = re.compile(r"^(deny|violation)(_[a-zA-Z0-9]+)*$")
_WARNING = re.compile(r"^warn(_[a-zA-Z0-9]+)*$")
COMBINED = "Combined"


def is_failure_rule(name: str) -> bool:
    return bool(_FAILURE.match(name))


def is_warning_rule(name: str) -> bool:
    return bool(_WARNING.match(name))


def exception_name(rule: str) -> str:
    """conftest's `removeRulePrefix`: the name an `exception` entry uses for `rule`."""
    if rule in ("deny", "violation", "warn"):
        return ""
    for prefix in ("violation_", "deny_", "warn_"):
        rule = rule.removeprefix(prefix)
    return rule


class ResultError(Exception):
    """A rule result conftest refuses (an object without a string `msg`), or an evaluation
    error: conftest stops the run on it."""


@dataclass
class Result:
    """One conftest result: a message, its metadata, conftest's `_loc` and pe-policy's line."""

    message: str
    metadata: dict[str, Any] = field(default_factory=dict)
    loc: dict[str, Any] | None = None  # conftest's `_loc`: {"file", "line"}
    line: int | None = None  # where pe-policy found it in the input (`path`, else the document)
    rule: str = ""


@dataclass
class CheckResult:
    """conftest's CheckResult: one input (or `Combined`) in one namespace."""

    filename: str
    namespace: str
    successes: int = 0
    failures: list[Result] = field(default_factory=list)
    warnings: list[Result] = field(default_factory=list)
    exceptions: list[Result] = field(default_factory=list)
    prints: list[str] = field(default_factory=list)

    @property
    def tests(self) -> int:
        return self.successes + len(self.failures) + len(self.warnings) + len(self.exceptions)

    def add(self, other: CheckResult) -> None:
        self.successes += other.successes
        self.failures += other.failures
        self.warnings += other.warnings
        self.exceptions += other.exceptions
        self.prints += other.prints


# ---------------------------------------------------------------- policies


def rego_files(paths: Sequence[Path]) -> list[Path]:
    """Every `.rego` file given or below the given directories (conftest's `--policy`)."""
    from pe_policy.engine.pack import policy_files

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(policy_files(path, ".rego"))
        elif path.is_file():
            if path.suffix == ".rego":
                files.append(path)
        else:
            raise PolicyError(path.as_posix(), "no such file or directory")
    return files


def load_policies(paths: Sequence[Path], rego_version: str = "v1",
                  strict: bool = False) -> list[RegoModule]:
    """The modules conftest would load (its tests too: their packages are namespaces); a v0
    module under `--rego-version v1`, or (`--strict`) an unused import or variable, is the
    compile error conftest gives."""
    modules = [read_module(f, f.as_posix()) for f in rego_files(paths)]
    if not modules:
        raise PolicyError(", ".join(p.as_posix() for p in paths),
                          f"no policies found in [{' '.join(p.as_posix() for p in paths)}]")
    problems: list[str] = []
    if rego_version.lower() == "v1":
        problems += [f"{m.path}:{_first_rule_line(m)}: rego_parse_error: `if` keyword is "
                     "required before rule body" for m in modules if m.v0 and not _V1_IMPORT.search(m.text)]
    if strict:
        for module in modules:
            problems += strict_problems(module)
    if problems:
        count = len(problems)
        raise PolicyError(modules[0].path, f"{count} error{'s' if count != 1 else ''} occurred:\n"
                          + "\n".join(problems))
    return modules


_V1_IMPORT = re.compile(r"^\s*import\s+rego\.v1\b", re.MULTILINE)


def _first_rule_line(module: RegoModule) -> int:
    return module.rules[0].line if module.rules else 1


_IMPORT = re.compile(r"^import\s+([\w.\[\]\"]+)(?:\s+as\s+(\w+))?", re.MULTILINE)
_ASSIGNED = re.compile(r"(?<![\w.])(\w+)\s*:=")
_COMMENT = re.compile(r"#[^\n]*")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`')


def strict_problems(module: RegoModule) -> list[str]:
    """What OPA's strict mode refuses, as far as the text shows: imports never used, and
    variables assigned (`:=`) inside a rule body and never read."""
    code = _STRING.sub('""', _COMMENT.sub("", module.text))
    problems: list[str] = []
    for match in _IMPORT.finditer(code):
        target = match.group(1)
        if target in ("rego.v1", "future.keywords") or target.startswith("future.keywords."):
            continue
        name = match.group(2) or target.rstrip("]").split(".")[-1].strip('"[')
        uses = len(re.findall(rf"(?<![\w.]){re.escape(name)}\b", code))
        if uses <= 1:
            line = module.text.count("\n", 0, module.text.find(match.group(0))) + 1
            problems.append(f"{module.path}:{line}: rego_compile_error: import {target} unused")
    head_names = {rule.name for rule in module.rules}
    for match in _ASSIGNED.finditer(code):
        name = match.group(1)
        if name in head_names or name == "_":
            continue
        if len(re.findall(rf"(?<![\w.]){re.escape(name)}\b", code)) == 1:
            line = code.count("\n", 0, match.start()) + 1
            problems.append(f"{module.path}:{line}: rego_compile_error: assigned var {name} unused")
    return problems


def namespaces_of(modules: Iterable[RegoModule]) -> list[str]:
    seen: list[str] = []
    for module in modules:
        if module.package not in seen:
            seen.append(module.package)
    return seen


def choose_namespaces(modules: Sequence[RegoModule], patterns: Sequence[str],
                      all_namespaces: bool) -> list[str]:
    """conftest: every package with `--all-namespaces`; globs (`*`, `?`, `[...]`) matched
    against the packages; plain names as given."""
    known = namespaces_of(modules)
    if all_namespaces:
        return known
    if any(ch in p for p in patterns for ch in "*?["):
        return [ns for ns in known if any(fnmatchcase(ns, p) for p in patterns)]
    return list(patterns)


def namespace_rules(modules: Iterable[RegoModule], namespace: str) -> tuple[list[str], int]:
    """(distinct rule names in order, number of definitions) of the namespace's deny/warn rules."""
    names: list[str] = []
    count = 0
    for module in modules:
        if module.package != namespace:
            continue
        for rule in module.rules:
            if is_failure_rule(rule.name) or is_warning_rule(rule.name):
                count += 1
                if rule.name.lower() not in (n.lower() for n in names):
                    names.append(rule.name)
    return names, count


# ---------------------------------------------------------------- evaluation


class Checker:
    """Evaluates conftest's queries on one backend (regorus or OPA), one input at a time."""

    def __init__(self, backend: Any, modules: Sequence[RegoModule]) -> None:
        self.backend = backend
        self.modules = modules
        native = getattr(backend, "engine", None)
        self._prints = native if native is not None and hasattr(native, "take_prints") else None
        if self._prints is not None:
            self._prints.set_gather_prints(True)
        self._rules: dict[str, tuple[list[str], int]] = {}
        self._with_exceptions = {m.package for m in modules
                                 if any(rule.name == "exception" for rule in m.rules)}

    def rules(self, namespace: str) -> tuple[list[str], int]:
        if namespace not in self._rules:
            self._rules[namespace] = namespace_rules(self.modules, namespace)
        return self._rules[namespace]

    def _eval(self, query: str) -> Any:
        try:
            return self.backend.eval_rule(query)
        except Exception as exc:  # the engine's own error: conftest stops, so do we
            from pe_policy.engine.policy_error import clean_engine_error

            raise ResultError(f"query rule: evaluating policy: {clean_engine_error(str(exc))}") from None

    def _take_prints(self) -> list[str]:
        if self._prints is None:
            return []
        return [str(line) for line in self._prints.take_prints()]

    def check(self, doc: Document, filename: str, namespace: str) -> CheckResult:
        """conftest's `check` of one document in one namespace."""
        import json

        self.backend.set_input_json(json.dumps(doc.input))
        result = CheckResult(filename, namespace)
        names, definitions = self.rules(namespace)
        for rule in names:
            name = exception_name(rule)
            excepted = self._exceptions(namespace, name, result.prints)
            value = self._eval(f"data.{namespace}.{rule}")
            result.prints += self._take_prints()
            query = f'data.{namespace}.exception[_][_] == "{name}"'
            result.exceptions += [Result(query, rule=rule) for _ in range(excepted)]
            if excepted:
                continue
            for item in _results(value):
                if item is None:
                    result.successes += 1
                    continue
                located = self._result(item, doc, f"data.{namespace}.{rule}", rule)
                (result.failures if is_failure_rule(rule) else result.warnings).append(located)
        if result.tests < definitions:
            result.successes += definitions - result.tests
        return result

    def _exceptions(self, namespace: str, name: str, prints: list[str]) -> int:
        if namespace not in self._with_exceptions:
            return 0
        value = self._eval(f"data.{namespace}.exception")
        prints += self._take_prints()
        if not isinstance(value, list):
            return 0
        return sum(1 for entry in value if isinstance(entry, (list, dict))
                   for item in (entry.values() if isinstance(entry, dict) else entry)
                   if item == name)

    @staticmethod
    def _result(item: Any, doc: Document, query: str, rule: str) -> Result:
        if isinstance(item, str):
            return Result(item, {"query": query}, line=doc.location().line, rule=rule)
        if not isinstance(item.get("msg"), str):
            raise ResultError('query rule: new result: "msg" field must be present and a string')
        metadata = {k: v for k, v in item.items() if k not in ("msg", "_loc")}
        metadata["query"] = query
        loc = _location(item.get("_loc"))
        path = item.get("path")
        where = doc.location(path if isinstance(path, list) else ())
        return Result(item["msg"], metadata, loc, where.line, rule)


def _results(value: Any) -> list[Any]:
    """A rule's value as conftest reads it: None for each passed result (an empty set, or a
    value that is not a set), the string or object results otherwise; nothing if undefined."""
    if value is None:
        return []
    if not isinstance(value, list) or not value:
        return [None]
    return [v for v in value if isinstance(v, (str, dict))]


def _location(loc: Any) -> dict[str, Any] | None:
    if not isinstance(loc, dict):
        return None
    out: dict[str, Any] = {}
    if isinstance(loc.get("file"), str) and loc["file"]:
        out["file"] = loc["file"]
    if isinstance(loc.get("line"), (int, float)) and not isinstance(loc.get("line"), bool):
        out["line"] = loc["line"]
    return out or None
