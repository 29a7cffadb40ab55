"""Rego modules and the backends that evaluate them.

A module is read once: its package, whether it is Rego v0 or v1, the names of
its `deny`/`violation`/`warn` rules, and its `# METADATA` annotations (OPA's
format), which give a custom rule its ID, severity and help text exactly as the
built-in pack's rules do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from pe_policy.catalog import RuleMeta
from pe_policy.findings import Severity

_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*(?:\[\"[^\"]+\"\])*)", re.MULTILINE)
_RESULT_RULE = re.compile(r"^(deny|violation|warn)(_[A-Za-z0-9_]*)?\b", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_[A-Za-z0-9_]*)\b", re.MULTILINE)
_V1_KEYWORDS = re.compile(r"\b(contains|if)\b")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RULE_HEAD = re.compile(r"^\s*(?:default\s+)?([A-Za-z_][A-Za-z0-9_]*)")


class PolicyError(Exception):
    """A policy that cannot be loaded or evaluated: named by file, line and column."""

    def __init__(self, path: str, message: str, line: int | None = None,
                 column: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Annotation:
    scope: str  # "package" or "rule"
    rule: str | None  # the rule name for rule scope
    line: int
    data: dict[str, Any]


@dataclass
class RegoModule:
    path: str
    text: str
    package: str
    v0: bool
    result_rules: tuple[str, ...]  # deny, deny_foo, warn, violation_bar ...
    test_rules: tuple[str, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    rule_lines: dict[str, int] = field(default_factory=dict)

    @property
    def is_test(self) -> bool:
        return self.path.endswith("_test.rego") or bool(self.test_rules and not self.result_rules)

    def meta_for(self, rule_name: str) -> RuleMeta | None:
        """The metadata that names `rule_name`'s findings: rule scope first, then package."""
        package_meta: Annotation | None = None
        for note in self.annotations:
            if note.scope == "rule" and note.rule == rule_name and _custom(note).get("id"):
                return annotation_to_meta(note, self)
            if note.scope == "package" and package_meta is None:
                package_meta = note
        if package_meta is not None and _custom(package_meta).get("id"):
            return annotation_to_meta(package_meta, self)
        return None

    @property
    def kinds(self) -> tuple[str, ...]:
        for note in self.annotations:
            kinds = _custom(note).get("kinds")
            if kinds:
                return tuple(kinds) if isinstance(kinds, list) else (str(kinds),)
        return ()


def _custom(note: Annotation) -> dict[str, Any]:
    custom = note.data.get("custom")
    return custom if isinstance(custom, dict) else {}


def annotation_to_meta(note: Annotation, module: RegoModule) -> RuleMeta:
    custom = _custom(note)
    severity = Severity.parse(custom.get("severity", "high"))
    related = note.data.get("related_resources") or []
    help_uri = ""
    if isinstance(related, list) and related:
        first = related[0]
        help_uri = first.get("ref", "") if isinstance(first, dict) else str(first)
    kinds = custom.get("kinds") or module.kinds
    return RuleMeta(
        id=str(custom["id"]),
        title=str(note.data.get("title") or custom["id"]),
        severity=severity,
        kinds=tuple(kinds) if isinstance(kinds, list) else ((str(kinds),) if kinds else ()),
        description=str(note.data.get("description") or "").strip(),
        remediation=str(custom.get("remediation") or "").strip(),
        source=str(custom.get("source") or ""),
        engine="rego",
        origin=module.path,
        help_uri=help_uri,
    )


def metadata_blocks(lines: list[str]) -> Iterator[tuple[int, int, str]]:
    """(index of each `# METADATA` line, index of the statement it annotates, its YAML text)."""
    i = 0
    while i < len(lines):
        if lines[i].strip() != "# METADATA":
            i += 1
            continue
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].lstrip().startswith("#"):
            stripped = lines[i].lstrip()[1:]
            body.append(stripped[1:] if stripped.startswith(" ") else stripped)
            i += 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        yield start, i, "\n".join(body)


def _parse_annotations(path: str, text: str) -> tuple[Annotation, ...]:
    lines = text.splitlines()
    notes: list[Annotation] = []
    for start, statement, body in metadata_blocks(lines):
        try:
            data = yaml.load(body, Loader=_YAML_LOADER) or {}  # libyaml: 10x faster
        except yaml.YAMLError as exc:
            raise PolicyError(path, f"invalid METADATA annotation: {exc}", start + 1) from None
        if not isinstance(data, dict):
            raise PolicyError(path, "METADATA annotation must be a YAML mapping", start + 1)
        following = lines[statement] if statement < len(lines) else ""
        scope = data.get("scope")
        if following.lstrip().startswith("package"):
            notes.append(Annotation(scope or "package", None, start + 1, data))
        else:
            head = _RULE_HEAD.match(following)
            notes.append(Annotation(scope or "rule", head.group(1) if head else None, start + 1, data))
    return tuple(notes)


def _strip_comments(text: str) -> str:
    return re.sub(r"#[^\n]*", "", text)


def parse_module(path: str, text: str) -> RegoModule:
    match = _PACKAGE.search(_strip_comments(text))
    if match is None:
        raise PolicyError(path, "no `package` declaration", 1)
    code = _strip_comments(text)
    v1 = "rego.v1" in code or bool(_V1_KEYWORDS.search(code))
    rule_lines: dict[str, int] = {}
    for m in _RESULT_RULE.finditer(code):
        rule_lines.setdefault(m.group(0), code.count("\n", 0, m.start()) + 1)
    tests: dict[str, int] = {}
    for m in _TEST_RULE.finditer(code):
        tests.setdefault(m.group(1), code.count("\n", 0, m.start()) + 1)
    rule_lines.update(tests)
    return RegoModule(
        path=path,
        text=text,
        package=match.group(1),
        v0=not v1 or "import rego.v1" in code,
        result_rules=tuple(n for n in rule_lines if not n.startswith("test_")),
        test_rules=tuple(tests),
        annotations=_parse_annotations(path, text),
        rule_lines=rule_lines,
    )


def read_module(file: Path, display: str | None = None) -> RegoModule:
    shown = display or file.as_posix()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(shown, f"cannot read policy: {exc}") from None
    return parse_module(shown, text)


_ENGINE_LOCATION = re.compile(r"-->\s*(?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+)")


def clean_engine_error(text: str) -> str:
    """regorus appends a Rust backtrace to its messages; keep only the useful frame."""
    return text.split("Stack backtrace:", 1)[0].strip()


def policy_error_from_engine(default_path: str, exc: BaseException) -> PolicyError:
    message = clean_engine_error(str(exc))
    match = _ENGINE_LOCATION.search(message)
    if match:
        error_line = next(
            (ln.strip() for ln in message.splitlines() if ln.strip().startswith("error:")), ""
        )
        return PolicyError(
            match.group("file"),
            error_line.removeprefix("error:").strip() or message,
            int(match.group("line")),
            int(match.group("col")),
        )
    return PolicyError(default_path, message)


class RegoBackend(Protocol):
    """What the evaluator needs from a Rego engine."""

    name: str

    def add_module(self, module: RegoModule) -> None: ...

    def set_data(self, data: dict[str, Any]) -> None: ...

    def set_input_json(self, text: str) -> None: ...

    def eval_rule(self, rule_path: str) -> Any:
        """The rule's value decoded from JSON; None when undefined."""
        ...


UNDEFINED_JSON = '"<undefined>"'  # what regorus's eval_rule_as_json returns for undefined


class RegorusBackend:
    """The default: microsoft/regorus compiled into the wheel `gordon-to-regorus`."""

    name = "regorus"

    def __init__(self) -> None:
        import regorus  # lazy: a run with no Rego rules for its kinds never pays for it

        self._engine = regorus.Engine()
        self._v0 = False

    def add_module(self, module: RegoModule) -> None:
        if module.v0 != self._v0:
            self._engine.set_rego_v0(module.v0)
            self._v0 = module.v0
        from pe_policy.engine.polyfill import inline_metadata  # rego.metadata.* is missing

        try:
            self._engine.add_policy(module.path, inline_metadata(module.text, module.package))
        except RuntimeError as exc:
            raise policy_error_from_engine(module.path, exc) from None

    def set_data(self, data: dict[str, Any]) -> None:
        self._engine.clear_data()
        self._engine.add_data_json(json.dumps(data))

    def set_input_json(self, text: str) -> None:
        self._engine.set_input_json(text)

    def eval_rule(self, rule_path: str) -> Any:
        raw = self._engine.eval_rule_as_json(rule_path)
        if raw is None or raw == UNDEFINED_JSON:
            return None
        return json.loads(raw)

    def eval_rules(self, rule_paths: list[str]) -> list[Any] | None:
        """Several rules in one evaluation (shared helper rules computed once); None if any is
        undefined."""
        raw = self._engine.eval_query_as_json("[" + ", ".join(rule_paths) + "]")
        results = json.loads(raw).get("result") or []
        if not results:
            return None
        value = results[0]["expressions"][0]["value"]
        return value if isinstance(value, list) else None

    def eval_rules_each(self, rule_paths: list[str], inputs: list[str]) -> list[list[Any] | None]:
        """`eval_rules` on each of several inputs (JSON texts), in one engine call.

        `with input as` gives each document its own evaluation (no rule value leaks from
        one to the next); an input on which some rule is undefined gets None.
        """
        self._engine.set_input_json("[" + ",".join(inputs) + "]")
        raw = self._engine.eval_query_as_json(
            f"[[i, r] | d := input[i]; r := [{', '.join(rule_paths)}] with input as d]")
        results = json.loads(raw).get("result") or []
        out: list[list[Any] | None] = [None] * len(inputs)
        for i, value in results[0]["expressions"][0]["value"] if results else ():
            out[i] = value if isinstance(value, list) else None
        return out

    @property
    def engine(self) -> Any:
        return self._engine


ENGINES = ("regorus", "opa")


def make_backend(name: str = "regorus", **options: Any) -> RegoBackend:
    """`regorus` (default, embedded) or `opa` (a real OPA server: needs `opa_url`)."""
    if name == "regorus":
        return RegorusBackend()
    if name == "opa":
        from pe_policy.engine.opa_backend import OpaBackend

        url = options.get("opa_url") or ""
        if not url:
            raise PolicyError("--engine opa", "needs the server's URL: --opa-url http://host:8181")
        return OpaBackend(url)
    raise ValueError(f"unknown Rego engine {name!r} (known: {', '.join(ENGINES)})")
