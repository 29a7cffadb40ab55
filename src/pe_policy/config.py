"""`.pe-policy.yaml`: rule parameters and their defaults (the one place they live).

The defaults are the ones `POLICIES.md` states.  Rego rules read them as
`data.pe.params.<name>`, Python rules as `ctx.params["<name>"]`.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pe_policy.findings import JsonPath, Severity

if TYPE_CHECKING:
    from pe_policy.document import Span

CONFIG_FILE_NAMES = (".pe-policy.yaml", ".pe-policy.yml")
CONFIG_MAX_BYTES = 16 * 1024 * 1024  # a configuration file is read whole, up to this

DEFAULT_PARAMS: dict[str, Any] = {
    # pull requests (seed 002)
    "branch_patterns": [
        r"^[a-z0-9][a-z0-9-]*/[A-Z][A-Z0-9]*-\d+-[a-z0-9][a-z0-9-]*$",
        r"^release/v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$",
        r"^hotfix/[A-Z][A-Z0-9]*-\d+(?:-[a-z0-9-]+)?$",
    ],
    "title_pattern": r"^\[[A-Z][A-Z0-9]*-\d+\] \S.*$",
    "required_checklist_items": ["tests", "lint", "docs", "adr"],
    "automated_reviewers": ["coderabbitai", "coderabbitai[bot]", "coderabbit"],
    "required_checks": ["lint", "tests", "security-scan", "CodeRabbit"],
    "phase_label_pattern": r"^phase-\d+$",
    "service_labels": ["gateway", "research", "brand", "content", "agent", "shared", "infra"],
    # workflows (seeds 002, 003)
    "coverage_threshold": 80,
    "production_environments": ["production", "prod"],
    "release_refs": ["refs/heads/main", "refs/tags/"],
    # terraform (seeds 001, 003)
    "admin_ports": [22, 3389, 3306, 5432, 1433, 1521, 27017, 6379, 9200, 5439],
    "required_tags": ["owner", "service", "environment"],
    # S3 encrypts new objects with SSE-S3 by default (January 2023): require SSE-KMS on top?
    "s3_require_kms": False,
    "stateful_resource_types": [
        "aws_db_instance", "aws_rds_cluster", "aws_s3_bucket", "aws_dynamodb_table",
        "aws_ebs_volume", "aws_kms_key", "aws_efs_file_system", "aws_elasticache_cluster",
        "aws_elasticache_replication_group", "google_sql_database_instance",
        "google_storage_bucket", "azurerm_storage_account", "azurerm_mssql_database",
    ],
    # quality gates (seeds 002, 003)
    "scan_severity_threshold": "high",
    # what a vulnerability without a severity (pip-audit grades none) counts as: fail closed
    "scan_unknown_severity": "high",
    # runbooks (seed 004)
    "runbook_accepted_statuses": ["ACCEPTED"],
    "runbook_required_approvals": ["Security", "Architect", "QA", "Docs", "Compliance",
                                   "Observability"],
    "runbook_required_sections": ["Goal Description", "Compliance Checklist", "Proposed Changes",
                                  "Verification Plan"],
}


INTERNAL_UNDISABLEABLE = ("PE-PARSE", "PE-RULE-ERROR")  # a file nobody checked is never "clean"


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in the configuration file, where it is."""

    path: str
    message: str
    line: int = 1
    column: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """An invalid `.pe-policy.yaml`: every problem with its line, for a usage error (exit 2)."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class Waiver:
    """An accepted exception from `waivers:`; `line` is where it sits in the config file."""

    rule: str
    path: str
    owner: str
    reason: str
    expires: date
    line: int = 0

    def expired(self, today: date) -> bool:
        """The expiry date is the last day the waiver applies."""
        return today > self.expires


@dataclass
class Config:
    """A repository's settings from `.pe-policy.yaml` (the defaults when it has none): what
    runs, at which severity, on which files; `spans` lets a complaint point at its key's line."""

    params: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULT_PARAMS))
    path: Path | None = None
    enable: tuple[str, ...] | None = None  # None: every rule
    disable: tuple[str, ...] = ()
    severity: dict[str, Severity] = field(default_factory=dict)
    policies: tuple[Path, ...] = ()  # absolute
    exclude: tuple[str, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    max_file_bytes: int | None = None  # None: the loaders' default
    python_rules: bool = False  # run the repository's Python rules (isolated); off: skipped
    display: str = ""  # the config file as messages name it
    spans: dict[JsonPath, Span] = field(default_factory=dict, repr=False)

    def rule_enabled(self, rule_id: str, internal: bool = False) -> bool:
        if rule_id in INTERNAL_UNDISABLEABLE:
            return True
        if any(selects(s, rule_id) for s in self.disable):
            return False
        if internal or self.enable is None:
            return True
        return any(selects(s, rule_id) for s in self.enable)

    def severity_for(self, rule_id: str) -> Severity | None:
        """The configured severity: an exact ID wins over the longest matching prefix."""
        best: tuple[int, Severity] | None = None
        for selector, severity in self.severity.items():
            if selects(selector, rule_id) and (best is None or len(selector) > best[0]):
                best = (len(selector), severity)
        return best[1] if best else None

    @property
    def restricts_rules(self) -> bool:
        return self.enable is not None or bool(self.disable) or bool(self.severity)

    def issue(self, key: JsonPath, message: str) -> ConfigIssue:
        span = _locate(self.spans, key)
        return ConfigIssue(self.display or "<config>", message, span.line, span.column)

    def check_rule_ids(self, known: Iterable[str]) -> None:
        """Every rule the config names must exist (in the built-in pack or the extra policies)."""
        known_ids = sorted(set(known))
        issues: list[ConfigIssue] = []

        def verify(selector: str, key: JsonPath) -> None:
            if any(selects(selector, rule_id) for rule_id in known_ids):
                return
            hint = _closest(selector.upper(), known_ids)
            issues.append(self.issue(key, f"{dotted(key)}: no rule matches {selector!r}"
                                     + (f"; did you mean {hint[0]}?" if hint else
                                        " (`pe-policy rules` lists them)")))

        for name, selectors in (("enable", self.enable or ()), ("disable", self.disable)):
            for i, selector in enumerate(selectors):
                verify(selector, ("rules", name, i))
                if name == "disable" and selector.upper() in INTERNAL_UNDISABLEABLE:
                    issues.append(self.issue(("rules", name, i), f"rules.disable: {selector} cannot "
                                             "be disabled (it means a file was not checked); use "
                                             "`exclude` for files you do not want checked"))
        for selector in self.severity:
            verify(selector, ("rules", "severity", selector))
        for i, waiver in enumerate(self.waivers):
            verify(waiver.rule, ("waivers", i, "rule"))
        if issues:
            raise ConfigError(issues)


def _closest(word: str, choices: list[str]) -> list[str]:
    """The "did you mean" of a misspelt name (difflib is imported only for a mistake)."""
    import difflib

    return difflib.get_close_matches(word, choices, n=1, cutoff=0.6)


def dotted(key: JsonPath) -> str:
    """`("waivers", 0, "expires")` -> `waivers[0].expires`: how users find the key."""
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def selects(selector: str, rule_id: str) -> bool:
    """`PE-WF` selects `PE-WF-002`; IDs compare case-insensitively."""
    s, r = selector.casefold(), rule_id.casefold()
    return r == s or r.startswith(s if s.endswith(("-", ".")) else s + "-")


def find_config(root: Path) -> Path | None:
    for name in CONFIG_FILE_NAMES:
        candidate = root / name
        if candidate.is_file():
            return candidate
    return None


def schema_path() -> Path:
    """`schemas/config.schema.json` in a checkout, or its copy inside an installed wheel."""
    package_dir = Path(__file__).resolve().parent
    installed = package_dir / "_schemas" / "config.schema.json"
    if installed.is_file():
        return installed
    return package_dir.parent.parent / "schemas" / "config.schema.json"


def _schema_for_default(value: Any) -> dict[str, Any]:
    """A JSON Schema accepting values of the default's type (for parameters added later)."""
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        return {"type": "array", "items": _schema_for_default(value[0])} if value else {
            "type": "array"}
    if isinstance(value, dict):
        return {"type": "object"}
    return {}


def config_schema() -> dict[str, Any]:
    """The schema file, with every `DEFAULT_PARAMS` key it does not describe typed from its default."""
    schema: dict[str, Any] = json.loads(schema_path().read_text(encoding="utf-8"))
    described = schema["properties"]["params"]["properties"]
    for name, default in DEFAULT_PARAMS.items():
        described.setdefault(name, _schema_for_default(default))
    return schema


_TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "a string",
               "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "null": "nothing"}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _locate(spans: dict[JsonPath, Span], key: JsonPath) -> Span:
    from pe_policy.document import SourceMap

    return SourceMap(spans).locate(key)


def _schema_issues(data: Any, spans: dict[JsonPath, Span], display: str) -> list[ConfigIssue]:
    import jsonschema

    schema = config_schema()
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    issues: list[ConfigIssue] = []
    for error in validator.iter_errors(data):
        key: JsonPath = tuple(error.absolute_path)
        where = dotted(key) or "(top level)"
        instance = error.instance
        if error.validator == "additionalProperties" and isinstance(instance, dict):
            allowed = sorted(error.schema.get("properties", {}))
            for extra in (k for k in instance if k not in allowed):
                hint = _closest(extra, allowed)
                what = "parameter" if key == ("params",) else "key"
                message = f"{dotted((*key, extra))}: unknown {what} {extra!r}" + (
                    f"; did you mean {hint[0]!r}?" if hint else
                    f" (expected one of: {', '.join(allowed)})")
                span = _locate(spans, (*key, extra))
                issues.append(ConfigIssue(display, message, span.line, span.column))
            continue
        if error.validator == "type":
            expected = error.validator_value
            words = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in (
                expected if isinstance(expected, list) else [expected]))
            message = f"expected {words}, found {_describe(instance)}"
        elif error.validator == "required":
            missing = [k for k in error.validator_value if k not in instance]
            message = f"missing required key{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
        elif error.validator == "enum":
            message = (f"{_describe(instance)} is not one of: "
                       f"{', '.join(str(v) for v in error.validator_value)}")
        elif error.validator == "format" and error.validator_value == "regex":
            try:
                re.compile(str(instance))
                message = error.message
            except re.error as exc:
                message = f"{instance!r} is not a valid regular expression: {exc}"
        elif error.validator in ("format", "pattern") and key and key[-1] == "expires":
            message = f"{_describe(instance)} is not a valid date written as YYYY-MM-DD"
        else:
            message = error.message
        span = _locate(spans, key)
        issues.append(ConfigIssue(display, f"{where}: {message}", span.line, span.column))
    return sorted(issues, key=lambda i: (i.line, i.column or 0, i.message))


def _non_finite(data: Any, spans: dict[JsonPath, Span], display: str) -> list[ConfigIssue]:
    """YAML's `.nan` and `.inf`: numbers no setting can mean (and `nan` passes every range
    check), reported where they are written."""
    issues: list[ConfigIssue] = []

    def walk(value: Any, key: JsonPath) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            span = _locate(spans, key)
            issues.append(ConfigIssue(display, f"{dotted(key) or '(top level)'}: "
                                      f"{_describe(value)} is not a finite number",
                                      span.line, span.column))
        elif isinstance(value, dict):
            for name, item in value.items():
                walk(item, (*key, name))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, (*key, index))

    walk(data, ())
    return issues


def load_config(path: Path, root: Path, *, text: str | None = None,
                policy_dir: Callable[[str], Path] | None = None) -> Config:
    """Read, validate (schema, then policy directories) and build a Config; raises ConfigError.

    `text` is the file's contents when they were read elsewhere, and `policy_dir` where a
    `policies:` entry is (default: below the root): a pull request's base, from git (trust.py).
    """
    from pe_policy.discover import relative_to_root
    from pe_policy.findings import ParseError
    from pe_policy.loaders import read_text
    from pe_policy.loaders.yaml_source import load_yaml

    display = relative_to_root(path, root)
    try:  # never blocks on a FIFO, nor reads a device (`--config /dev/zero`) or 10 GB
        text = read_text(path, display, CONFIG_MAX_BYTES) if text is None else text
    except ParseError as exc:
        message = ("configuration file not found" if not os.path.lexists(path)
                   else exc.message.removesuffix("; skipped"))
        raise ConfigError([ConfigIssue(display, message, exc.line, exc.column)]) from None
    try:
        data, spans = load_yaml(text, display)
    except ParseError as exc:
        raise ConfigError([ConfigIssue(display, exc.message, exc.line, exc.column)]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(display, "the configuration must be a mapping of keys "
                                       f"(rules, params, ...), found {_describe(data)}")])
    issues = _non_finite(data, spans, display) or _schema_issues(data, spans, display)
    if issues:
        raise ConfigError(issues)
    config = _build(data, spans, display, path, root, policy_dir)
    missing = [
        config.issue(("policies", i), f"policies[{i}]: no policy directory {entry!r} "
                     f"(looked for {directory})")
        for i, (entry, directory) in enumerate(zip(data.get("policies", []), config.policies, strict=True))
        if not directory.is_dir()
    ]
    if missing:
        raise ConfigError(missing)
    return config


def _build(data: dict[str, Any], spans: dict[JsonPath, Span], display: str, path: Path,
           root: Path, policy_dir: Callable[[str], Path] | None = None) -> Config:
    rules = data.get("rules") or {}
    params = copy.deepcopy(DEFAULT_PARAMS)
    params.update(copy.deepcopy(data.get("params") or {}))
    waivers = tuple(
        Waiver(rule=w["rule"], path=w["path"], owner=w["owner"], reason=w["reason"],
               expires=date.fromisoformat(w["expires"]),
               line=_locate(spans, ("waivers", i)).line)
        for i, w in enumerate(data.get("waivers") or [])
    )
    return Config(
        params=params,
        path=path,
        enable=tuple(rules["enable"]) if "enable" in rules else None,
        disable=tuple(rules.get("disable") or ()),
        severity={k: Severity.parse(v) for k, v in (rules.get("severity") or {}).items()},
        policies=tuple(policy_dir(p) if policy_dir else (root / p).resolve()
                       for p in data.get("policies") or ()),
        exclude=tuple(data.get("exclude") or ()),
        waivers=waivers,
        max_file_bytes=data.get("max_file_bytes"),
        python_rules=bool(data.get("python_rules", False)),
        display=display,
        spans=spans,
    )


def resolve_config(root: Path, explicit: Path | None = None, *,
                   max_file_bytes: int | None = None) -> Config:
    """A run's configuration: `--config FILE` when given, else `.pe-policy.yaml` at the root,
    else the defaults; then the command line's overrides (`--max-file-bytes`).

    Raises ConfigError (every issue, with its line) for an invalid file."""
    path = explicit if explicit is not None else find_config(root)
    config = Config() if path is None else load_config(path, root)
    if max_file_bytes is not None:
        config = replace(config, max_file_bytes=max_file_bytes)
    return config
