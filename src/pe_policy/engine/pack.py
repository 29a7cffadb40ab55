"""A rule set: the built-in pack plus any user policy directories, loaded once per run."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pe_policy.catalog import INTERNAL_RULES, PULL_REQUEST_RULES, Catalog, RuleMeta
from pe_policy.engine.lazy_rules import NeedsRunning, python_rules_from
from pe_policy.engine.python_rules import PythonRule, is_rule_file
from pe_policy.engine.rego import (
    Annotation,
    PolicyError,
    RegoModule,
    annotation_to_meta,
    read_module,
)
from pe_policy.findings import Severity

if TYPE_CHECKING:
    from pe_policy.config import Config


def builtin_policy_dir() -> Path:
    """`policies/` in a source checkout, or its copy inside an installed wheel."""
    package_dir = Path(__file__).resolve().parent.parent
    installed = package_dir / "_builtin_policies"
    if installed.is_dir():
        return installed
    return package_dir.parent.parent / "policies"


@dataclass
class RuleSet:
    """Every rule a run may evaluate, Python and Rego, and the catalog that describes them:
    the built-in pack plus the policy directories, as the configuration selects them."""

    catalog: Catalog = field(default_factory=Catalog)
    python_rules: list[PythonRule] = field(default_factory=list)
    rego_modules: list[RegoModule] = field(default_factory=list)
    # rule ID -> the severity the configuration gives it (`select_rules`); every rule's metadata
    # (catalog, Python rule, Rego module) already carries it
    severities: dict[str, Severity] = field(default_factory=dict)
    # pe-policy's own rules the configuration turns off (PE-SUPPRESS): the catalog still
    # describes them, as it always holds pe-policy's own rules, but they never run
    disabled: frozenset[str] = frozenset()

    @property
    def policy_modules(self) -> list[RegoModule]:
        """Modules with rules that produce findings (tests and helper libraries excluded)."""
        return [m for m in self.rego_modules if m.result_rules and not m.is_test]

    @property
    def unreadable(self) -> list[PolicyError]:
        """Why each module the parser could not read was left out (`check` reports them)."""
        return [m.error for m in self.rego_modules if m.error is not None]

    def selected_meta(self, rule_id: str) -> RuleMeta | None:
        """The metadata of a rule the run evaluates (pe-policy's own included); None for one
        the configuration turns off."""
        return None if rule_id in self.disabled else self.catalog.get(rule_id)

    def described_rules(self) -> list[RuleMeta]:
        """Every rule that gives findings, by ID: the catalog's, and the Rego rules without a
        METADATA ID under the ID their findings carry (`package.rule`, as conftest names them)."""
        metas = {m.id: m for m in self.catalog if m.engine != "internal"}
        for module in self.policy_modules:
            for rule_name in module.result_rules:
                if module.id_annotation(rule_name) is None:
                    meta = fallback_meta(module, rule_name)
                    metas.setdefault(meta.id, meta)
        return sorted(metas.values(), key=lambda m: m.id)

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


def _display(file: Path, parent: Path, resolved: Path | None = None) -> str:
    """`file` as findings name it: relative to the policy directory's parent (`parent`, resolved).
    `resolved`: `file.resolve()`, where the caller has it already."""
    try:
        return (resolved or file.resolve()).relative_to(parent).as_posix()
    except ValueError:
        return file.as_posix()


def _resolved_below(file: Path, directory: Path, real: Path) -> Path:
    """`file.resolve()` for a file `policy_files(directory)` found (`real`: the directory
    resolved): the walk enters no linked directory, so only a link itself leads elsewhere,
    and any other file is at its place below the real directory (resolving each file's every
    path component again cost 1.8 ms of every run)."""
    return file.resolve() if os.path.islink(file) else real / file.relative_to(directory)


def policy_files(directory: Path, suffix: str) -> list[Path]:
    """The files below `directory` named `*suffix`, sorted: as `rglob` finds them (not below a
    symbolic link to a directory), never in a `__pycache__`, which is not even listed."""
    if "__pycache__" in directory.parts:
        return []
    found: list[Path] = []
    for folder, subfolders, names in os.walk(directory):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        found.extend(path for name in names
                     if name.endswith(suffix) and (path := Path(folder, name)).is_file())
    return sorted(found)


def python_rule_files(directory: Path) -> list[Path]:
    """The `.py` files below `directory` that hold rules (`is_rule_file`: not the helpers in
    `lib/` directories, `_*.py`, `test_*.py` or `conftest.py`)."""
    return [p for p in policy_files(directory, ".py") if is_rule_file(p.relative_to(directory))]


class _RuleIds:
    """Where each rule ID is defined, so that a second definition is an error naming both files,
    never a silent override.

    An ID names one rule.  Several Rego rules of one module may carry the same ID (`deny` and
    `deny_x` under the package's annotation, or the same `custom.id` above each): they are one
    rule, reported under that ID, described by the first.  Anywhere else a second definition
    (another Rego module, a Python file, a second `@rule` in one Python file, one of
    pe-policy's own IDs) is a configuration error.
    """

    def __init__(self) -> None:
        self._where: dict[str, tuple[str, int | None]] = {}

    def claim(self, rule_id: str, file: str, line: int | None, *, module: bool) -> bool:
        """True for a new ID; False for one this Rego module (`module`) already defines."""
        if rule_id in INTERNAL_IDS:
            raise PolicyError(file, f"rule ID {rule_id} is one of pe-policy's own "
                              f"({INTERNAL_IDS[rule_id]}): give this rule another ID", line)
        first = self._where.get(rule_id)
        if first is None:
            self._where[rule_id] = (file, line)
            return True
        if module and first[0] == file:
            return False
        where = first[0] + (f":{first[1]}" if first[1] else "")
        raise PolicyError(file, f"rule ID {rule_id} is defined twice: here and in {where} (an ID "
                          "names one rule: give one of them another ID)", line)


INTERNAL_IDS = {meta.id: meta.title for meta in (*INTERNAL_RULES, *PULL_REQUEST_RULES)}


# What becomes of a repository's Python rule files (those outside the built-in pack):
# "skip": never read, never run (`skipped_python_rules` lists them); "isolated": described
# from source, run only in locked-down workers (runner.py); "in-process": loaded and run in
# this process like the built-in pack's (tests, and callers who wrote the rules themselves).
PythonRules = Literal["skip", "isolated", "in-process"]
PYTHON_RULES_OFF = ("Python rules run only when the configuration enables them "
                    "(`python_rules: true` in .pe-policy.yaml) or with --allow-python-rules")


@functools.cache
def _builtin_root() -> Path:
    return builtin_policy_dir().resolve()


def _built_in(file: Path, resolved: Path | None = None) -> bool:
    """Whether a rule file is the built-in pack's (its own code, never a repository's).
    `resolved`: `file.resolve()`, where the caller has it already."""
    return (resolved or file.resolve()).is_relative_to(_builtin_root())


def skipped_python_rules(directories: Iterable[Path]) -> list[str]:
    """The repository's Python rule files in `directories`, as findings would name them:
    what a run that does not enable Python rules skips (and never reads)."""
    skipped: list[str] = []
    for directory in directories:
        if directory.is_dir():
            parent = directory.resolve().parent
            skipped.extend(_display(file, parent) for file in python_rule_files(directory)
                           if not _built_in(file))
    return skipped


def load_ruleset(directories: Iterable[Path], *, include_tests: bool = False,
                 python_rules: PythonRules = "skip") -> RuleSet:
    """Read every `.rego` and `.py` rule file below the directories.

    Rego `_test.rego` files are kept only for `verify`.  Python files whose name
    starts with `test_` or `_`, and those in a `lib/` directory (helpers the rule files
    import), are never rule files; each rule file runs as a module of its directory's
    package (`python_rules.policy_package`).  A Rego module the parser
    cannot read is kept with its `error` (a broken policy must not stop every other
    one); a rule ID defined twice is a PolicyError naming both places (`_RuleIds`).

    The built-in pack's Python rules always load.  A repository's (any other directory's)
    are what `python_rules` says (PythonRules): by default skipped, their files never read.
    """
    ruleset = RuleSet()
    ids = _RuleIds()
    for directory in directories:
        if not directory.is_dir():
            raise PolicyError(directory.as_posix(), "policy directory not found")
        real = directory.resolve()
        parent = real.parent
        for file in policy_files(directory, ".rego"):
            if file.name.endswith("_test.rego") and not include_tests:
                continue  # a test module by its name: not worth reading (half the built-in files)
            resolved = _resolved_below(file, directory, real)
            module = read_module(file, _display(file, parent, resolved), keep_unreadable=True)
            if module.is_test and not include_tests:
                continue
            module.built_in = _built_in(file, resolved)
            ruleset.rego_modules.append(module)
            if module.is_test or module.error is not None:
                continue  # its rules are tests: they give no findings, so they name none
            for rule_name in module.result_rules:
                note = module.id_annotation(rule_name)
                if note is not None:
                    meta = annotation_to_meta(note, module)
                    if ids.claim(meta.id, module.path, note.line, module=True):
                        ruleset.catalog.add(meta)
        for file in python_rule_files(directory):
            resolved = _resolved_below(file, directory, real)
            built_in = _built_in(file, resolved)
            if not built_in and python_rules == "skip":
                continue  # never read: skipped_python_rules lists it
            shown = _display(file, parent, resolved)
            try:
                # metadata now, code when a document needs it
                rules = python_rules_from(file, directory,
                                          isolated=not built_in and python_rules == "isolated")
            except PolicyError:
                raise
            except NeedsRunning as exc:
                raise PolicyError(shown, str(exc)) from None
            except Exception as exc:
                raise PolicyError(shown, f"cannot load Python rules: {type(exc).__name__}: {exc}"
                                  ) from None
            for r in rules:
                ids.claim(r.meta.id, shown, None, module=False)
                ruleset.catalog.add(r.meta)
                ruleset.python_rules.append(r)
    return ruleset


def fallback_meta(module: RegoModule, rule_name: str) -> RuleMeta:
    """Metadata for a Rego rule that has no `# METADATA` ID (plain conftest policies)."""
    meta = _fallback_meta(module, rule_name)
    return _graded(meta, module.severities) if isinstance(module, SelectedModule) else meta


def _fallback_meta(module: RegoModule, rule_name: str) -> RuleMeta:
    rule_id = f"{module.package}.{rule_name}"
    severity = Severity.LOW if rule_name.startswith("warn") else Severity.HIGH
    # An annotation without custom.id still gives the rule its title and help text.
    note = next((n for n in module.annotations if n.on_rule and n.rule == rule_name),
                next((n for n in module.annotations if not n.on_rule), None))
    if note is not None:
        raw_custom = note.data.get("custom")
        custom: dict[str, Any] = raw_custom if isinstance(raw_custom, dict) else {}
        if not custom.get("severity"):
            custom = {**custom, "severity": severity.value}
        named = Annotation(note.scope, note.rule, note.line,
                           {**note.data, "custom": {**custom, "id": rule_id}})
        return annotation_to_meta(named, module)
    return RuleMeta(id=rule_id, title=rule_id, severity=severity, kinds=module.kinds,
                    engine="rego", origin=module.path)


def rego_rule_ids(module: RegoModule) -> list[str]:
    """The rule IDs of a module's result rules (a rule without one: `package.rule`)."""
    return [(module.meta_for(name) or fallback_meta(module, name)).id
            for name in module.result_rules]


def _graded(meta: RuleMeta, severities: Mapping[str, Severity]) -> RuleMeta:
    severity = severities.get(meta.id)
    return meta if severity is None or severity is meta.severity else replace(meta, severity=severity)


@dataclass
class SelectedModule(RegoModule):
    """A Rego module as a run's rule selection has it (`select_rules`): only the result rules
    the configuration leaves on, their metadata at the severities it gives them."""

    severities: Mapping[str, Severity] = field(default_factory=dict)

    def meta_for(self, rule_name: str) -> RuleMeta | None:
        meta = super().meta_for(rule_name)
        return None if meta is None else _graded(meta, self.severities)


def select_rules(ruleset: RuleSet, config: Config) -> RuleSet:
    """The rules a run evaluates: those the configuration leaves on, each at the severity it
    gives them (in the rule's metadata: the catalog, the Python rule, the Rego module).

    The one place rule selection happens, once, before evaluation: a rule turned off is never
    evaluated (in a Rego module, only its other rules are queried), and nothing after it drops
    a finding for its rule.  `severities` is what the severity of every finding of a rule is
    (the filters stamp it on the findings whose severity was picked apart from the rule's
    metadata, until the evaluator and the runner do).  Rule IDs in the config are checked
    here, once the extra policy directories are loaded, so a typo in `rules:` or `waivers:` is
    an error, not a rule that silently keeps running.
    """
    known = [m.id for m in ruleset.catalog]
    known.extend(i for m in ruleset.policy_modules for i in rego_rule_ids(m))
    # a configuration may name the rules of pull-request runs in any run (PE-CFG-001)
    known.extend(m.id for m in PULL_REQUEST_RULES if m.id not in ruleset.catalog)
    config.check_rule_ids(known)
    if not config.restricts_rules:
        return ruleset
    severities: dict[str, Severity] = {}
    for rule_id in known:
        severity = config.severity_for(rule_id)
        if severity is not None:
            severities[rule_id] = severity
    catalog = Catalog([
        _graded(meta, severities) for meta in ruleset.catalog
        if config.rule_enabled(meta.id, internal=meta.engine == "internal")
    ])
    disabled = frozenset(meta.id for meta in INTERNAL_RULES if not config.rule_enabled(
        meta.id, internal=True))
    python_rules: list[PythonRule] = []
    for rule in ruleset.python_rules:
        if config.rule_enabled(rule.meta.id):
            meta = _graded(rule.meta, severities)
            python_rules.append(rule if meta is rule.meta else replace(rule, meta=meta))
    rego_modules: list[RegoModule] = []
    for module in ruleset.rego_modules:
        if module.is_test or not module.result_rules:  # tests, helper libraries, unreadable
            rego_modules.append(module)
            continue
        ids = dict(zip(module.result_rules, rego_rule_ids(module), strict=True))
        enabled = tuple(name for name in module.result_rules if config.rule_enabled(ids[name]))
        graded = {i: severities[i] for i in ids.values() if i in severities}
        if not enabled:
            continue
        if enabled == module.result_rules and not graded:
            rego_modules.append(module)
            continue
        values = {f.name: getattr(module, f.name) for f in fields(RegoModule) if f.init}
        rego_modules.append(SelectedModule(**{**values, "result_rules": enabled},
                                           severities=graded))
    return RuleSet(catalog=catalog, python_rules=python_rules, rego_modules=rego_modules,
                   severities=severities, disabled=disabled)
