"""Rego modules and the backends that evaluate them.

A module is read once, from the engine's parse tree (`rego_ast.py`): its
package, whether it is Rego v0 or v1, its rules (the `deny`/`violation`/`warn`
ones give findings, the `test_` ones are tests) and its `# METADATA`
annotations (OPA's format), which give a custom rule its ID, severity and help
text exactly as the built-in pack's rules do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import yaml

from pe_policy.catalog import RuleMeta
from pe_policy.findings import Severity

if TYPE_CHECKING:
    from pe_policy.engine.rego_ast import MetadataBlock

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
RESULT_PREFIXES = ("deny", "violation", "warn")  # conftest's: rules whose values are findings
# Where an annotation may stand, and the scopes it may then have (OPA's rules); the first is
# the scope of one that names none.
_SCOPES = {"package": ("package", "subpackages"), "rule": ("rule", "document")}
OPA_HINT = ("regorus (the embedded engine) rejects this module; OPA accepts some modules "
            "regorus does not: run with --engine opa --opa-url http://HOST:8181 to evaluate it "
            "with a real OPA server")


class PolicyError(Exception):
    """A policy that cannot be loaded or evaluated: named by file, line and column."""

    def __init__(self, path: str, message: str, line: int | None = None,
                 column: int | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = line
        self.column = column
        self.hint = hint  # what to do about it, when there is something

    def __str__(self) -> str:
        return self.text()

    def text(self, note: str = "") -> str:
        """`file:line:column: message (note). Hint: ...`"""
        where = self.path
        if self.line:
            where += f":{self.line}" + (f":{self.column}" if self.column else "")
        message = self.message.rstrip(".") if note else self.message
        text = f"{where}: {message}" + (f" ({note})" if note else "")
        if self.hint:
            text += ("" if text.endswith(".") else ".") + f" Hint: {self.hint}."
        return text


class RegoSyntaxError(PolicyError):
    """The engine's parser cannot read the module (not: it reads a module that is wrong)."""


def rejected_by_regorus(error: PolicyError) -> PolicyError:
    """`error` (regorus refusing a module it parsed or compiled) with the hint that OPA may not."""
    error.hint = OPA_HINT
    return error


@dataclass(frozen=True)
class Annotation:
    scope: str  # "package" or "subpackages" above the package; "rule" or "document" above a rule
    rule: str | None  # the rule name for an annotation above a rule
    line: int
    data: dict[str, Any]

    @property
    def on_rule(self) -> bool:
        return self.scope in _SCOPES["rule"]


@dataclass(frozen=True)
class RuleHead:
    """One rule definition, as the parse tree has it."""

    name: str  # the first name of its head: `deny` for `deny contains msg if`, `a` for `a.b := 1`
    kind: str  # "multi-value" (`contains`, v0 `p[x] {`), "single-value", "function", "default"
    line: int
    column: int


@dataclass
class RegoModule:
    path: str
    text: str
    package: str
    v0: bool
    result_rules: tuple[str, ...]  # deny, deny_foo, warn, violation_bar ...
    test_rules: tuple[str, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    rule_lines: dict[str, int] = field(default_factory=dict)  # every rule's first definition
    rules: tuple[RuleHead, ...] = ()  # every rule definition, in source order
    # Why the module could not be read (`read_module(keep_unreadable=True)`): it then has no
    # package or rules, and `check` reports this error and evaluates every other module.
    error: PolicyError | None = None

    @property
    def is_test(self) -> bool:
        return self.path.endswith("_test.rego") or bool(self.test_rules and not self.result_rules)

    def id_annotation(self, rule_name: str) -> Annotation | None:
        """The annotation that gives `rule_name` its ID: its own first, then the package's."""
        package_note: Annotation | None = None
        for note in self.annotations:
            if note.on_rule and note.rule == rule_name and _custom(note).get("id"):
                return note
            if not note.on_rule and package_note is None:
                package_note = note
        if package_note is not None and _custom(package_note).get("id"):
            return package_note
        return None

    def meta_for(self, rule_name: str) -> RuleMeta | None:
        """The metadata that names `rule_name`'s findings: rule scope first, then package."""
        note = self.id_annotation(rule_name)
        return annotation_to_meta(note, self) if note is not None else None

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
        kinds=tuple(kinds) if isinstance(kinds, list | tuple) else ((str(kinds),) if kinds else ()),
        description=str(note.data.get("description") or "").strip(),
        remediation=str(custom.get("remediation") or "").strip(),
        source=str(custom.get("source") or ""),
        engine="rego",
        origin=module.path,
        help_uri=help_uri,
    )


def metadata_blocks(lines: list[str]) -> Iterator[tuple[int, int, str]]:
    """(index of each `# METADATA` line, index of the statement it annotates, its YAML text).

    A scan of the text, kept for `polyfill.inline_metadata` only; modules are read from the
    parse tree (`parse_module`).
    """
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


def is_result_rule(name: str) -> bool:
    """`deny`, `deny_foo`, `violation`, `warn_bar`...: conftest's rules whose values are findings."""
    return any(name == p or name.startswith(p + "_") for p in RESULT_PREFIXES)


def _annotations(path: str, blocks: Iterable[MetadataBlock]) -> tuple[Annotation, ...]:
    notes: list[Annotation] = []
    for block in blocks:
        try:
            data = yaml.load(block.text, Loader=_YAML_LOADER) or {}  # libyaml: 10x faster
        except yaml.YAMLError as exc:
            raise PolicyError(path, f"invalid METADATA annotation: {exc}", block.line) from None
        if not isinstance(data, dict):
            raise PolicyError(path, "METADATA annotation must be a YAML mapping", block.line)
        if block.target not in _SCOPES:
            above = f"above an {block.target}" if block.target else "with nothing after it"
            raise PolicyError(path, f"METADATA annotation {above}: an annotation stands directly "
                              "above the package or the rule it describes", block.line)
        allowed = _SCOPES[block.target]
        # OPA: an entrypoint's annotation is about the whole rule (every definition of it)
        entrypoint = block.target == "rule" and data.get("entrypoint") is True
        scope = data.get("scope", "document" if entrypoint else allowed[0])
        if scope not in allowed:
            raise PolicyError(path, f"METADATA annotation of scope {scope!r} above a "
                              f"{block.target}: there it may be {' or '.join(map(repr, allowed))}",
                              block.line)
        notes.append(Annotation(str(scope), block.rule, block.line, data))
    return tuple(notes)


def parse_module(path: str, text: str) -> RegoModule:
    """Read a module from regorus's parse tree; a syntax error is a PolicyError at its place."""
    from pe_policy.engine.rego_ast import read_outline

    outline = read_outline(path, text)
    rule_lines: dict[str, int] = {}
    functions: set[str] = set()
    for head in outline.rules:
        rule_lines.setdefault(head.name, head.line)
        if head.kind == "function":
            functions.add(head.name)
    rules = [name for name in rule_lines if name not in functions]  # a function is not a rule
    return RegoModule(
        path=path,
        text=text,
        package=outline.package,
        v0=outline.v0,
        result_rules=tuple(name for name in rules if is_result_rule(name)),
        test_rules=tuple(name for name in rules if name.startswith("test_")),
        annotations=_annotations(path, outline.blocks),
        rule_lines=rule_lines,
        rules=outline.rules,
    )


def read_module(file: Path, display: str | None = None, *,
                keep_unreadable: bool = False) -> RegoModule:
    """The module in `file`; with `keep_unreadable`, one the parser cannot read comes back with
    its `error` (and nothing else) instead of raising it."""
    shown = display or file.as_posix()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(shown, f"cannot read policy: {exc}") from None
    try:
        return parse_module(shown, text)
    except RegoSyntaxError as exc:
        if not keep_unreadable:
            raise
        return RegoModule(path=shown, text=text, package="", v0=False, result_rules=(), error=exc)


_ENGINE_LOCATION = re.compile(r"-->\s*(?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+)")


def clean_engine_error(text: str) -> str:
    """regorus appends a Rust backtrace to its messages; keep only the useful frame."""
    return text.split("Stack backtrace:", 1)[0].strip()


def policy_error_from_engine(default_path: str, exc: BaseException,
                             error: type[PolicyError] = PolicyError) -> PolicyError:
    message = clean_engine_error(str(exc))
    match = _ENGINE_LOCATION.search(message)
    if match:
        error_line = next(
            (ln.strip() for ln in message.splitlines() if ln.strip().startswith("error:")), ""
        )
        return error(
            match.group("file"),
            error_line.removeprefix("error:").strip() or message,
            int(match.group("line")),
            int(match.group("col")),
        )
    return error(default_path, message)


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
        from pe_policy.engine.rego_ast import import_regorus  # lazy: a run with no Rego rules
        # for its kinds never pays for it

        self._engine = import_regorus().Engine()
        self._v0 = False
        self._added: list[tuple[str, bool, str]] = []  # (path, v0, text as added)
        self._data_json = ""

    def add_module(self, module: RegoModule) -> None:
        from pe_policy.engine.negation import as_opa_evaluates
        from pe_policy.engine.polyfill import inline_metadata  # rego.metadata.* is missing

        # and `not f(x.missing)` is undefined, as on OPA (regorus: true)
        text = as_opa_evaluates(module.path, inline_metadata(module.text, module.package))
        self._add(module.path, module.v0, text)
        self._added.append((module.path, module.v0, text))

    def _add(self, path: str, v0: bool, text: str) -> None:
        if v0 != self._v0:
            self._engine.set_rego_v0(v0)
            self._v0 = v0
        try:
            self._engine.add_policy(path, text)
        except RuntimeError as exc:
            raise rejected_by_regorus(policy_error_from_engine(path, exc)) from None

    def set_data(self, data: dict[str, Any]) -> None:
        self._data_json = json.dumps(data)
        self._engine.clear_data()
        self._engine.add_data_json(self._data_json)

    def refused_modules(self) -> list[PolicyError]:
        """Compile the modules now: each one regorus rejects is named and left out.

        regorus compiles every module on the first evaluation, and one it rejects (a
        variable shadowed inside a comprehension, which OPA accepts) would fail every rule
        of every module.  Its error names the file: that module is dropped and the rest
        compiled again.  Called once the data is in (new data means compiling again), so
        the first evaluation pays nothing more.
        """
        refused: list[PolicyError] = []
        while True:
            try:
                self._engine.eval_query("true")
                return refused
            except RuntimeError as exc:
                error = policy_error_from_engine("", exc)
                if error.path not in {path for path, _, _ in self._added}:
                    return refused  # no one module's fault: evaluation reports it, rule by rule
                refused.append(rejected_by_regorus(error))
                self._added = [added for added in self._added if added[0] != error.path]
                self._engine = self._engine.__class__()  # a fresh engine, without that module
                self._v0 = False
                for path, v0, text in self._added:
                    self._add(path, v0, text)
                if self._data_json:
                    self._engine.add_data_json(self._data_json)

    def set_input_json(self, text: str) -> None:
        self._engine.set_input_json(text)

    def eval_rule(self, rule_path: str) -> Any:
        raw = self._engine.eval_rule_as_json(rule_path)
        if raw is None or raw == UNDEFINED_JSON:
            return None
        return json.loads(raw)

    def eval_rules_each(self, rule_paths: list[str], inputs: list[str]) -> list[list[Any] | None]:
        """The values of these rules on each of several inputs (JSON texts), in one engine call.

        `with input as` gives each document its own evaluation (no rule value leaks from
        one to the next); an input on which some rule is undefined gets None.
        """
        if len(inputs) == 1:  # no `with`: one document is the engine's input as it is
            self._engine.set_input_json(inputs[0])
            raw = self._engine.eval_query_as_json("[" + ", ".join(rule_paths) + "]")
            results = json.loads(raw).get("result") or []
            value = results[0]["expressions"][0]["value"] if results else None
            return [value if isinstance(value, list) else None]
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
