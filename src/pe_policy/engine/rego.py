"""Rego modules and the backends that evaluate them.

A module is read once, from the engine's parse tree (`rego_ast.py`): its
package, whether it is Rego v0 or v1, its rules (the `deny`/`violation`/`warn`
ones give findings, the `test_` ones are tests) and its `# METADATA`
annotations (OPA's format), which give a custom rule its ID, severity and help
text exactly as the built-in pack's rules do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from pe_policy.catalog import RuleMeta
from pe_policy.engine.policy_error import (
    PolicyError,
    RegoSyntaxError,
)
from pe_policy.engine.rego_ast import RuleHead
from pe_policy.findings import Severity

if TYPE_CHECKING:
    from pe_policy.engine.rego_ast import MetadataBlock

YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
RESULT_PREFIXES = ("deny", "violation", "warn")  # conftest's: rules whose values are findings
# Where an annotation may stand, and the scopes it may then have (OPA's rules); the first is
# the scope of one that names none.
_SCOPES = {"package": ("package", "subpackages"), "rule": ("rule", "document")}


@dataclass(frozen=True)
class Annotation:
    """A `# METADATA` annotation, its YAML read: what gives a Rego rule, or every rule of a
    package, its ID, severity and help text."""

    scope: str  # "package" or "subpackages" above the package; "rule" or "document" above a rule
    rule: str | None  # the rule name for an annotation above a rule
    line: int
    data: dict[str, Any]

    @property
    def on_rule(self) -> bool:
        return self.scope in _SCOPES["rule"]


@dataclass
class RegoModule:
    """A `.rego` file of a policy directory as pe-policy reads it from its outline: which
    rules give findings, which are tests, and the annotations that describe them."""

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
    # read from a file of the built-in pack (`load_ruleset`): the pack's own text, which
    # `sandbox.pack_refusals` need not compare with the pack's files
    built_in: bool = False

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
            data = (block.parsed if block.parsed is not None  # read once, kept by content
                    else yaml.load(block.text, Loader=YAML_LOADER) or {})  # libyaml: 10x faster
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


