"""The one finding type, and what it is made of.

Every rule, engine and loader speaks in these terms, so every reporter can
trust that a finding has a rule, a severity, a message and a precise place.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse; used by --fail-on and for sorting."""
        return _RANK[self]

    @property
    def sarif_level(self) -> str:
        return _SARIF_LEVEL[self]

    @property
    def security_severity(self) -> str:
        """GitHub code scanning reads this numeric string to bucket alerts."""
        return _SECURITY_SEVERITY[self]

    @classmethod
    def parse(cls, value: str | Severity) -> Severity:
        if isinstance(value, Severity):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            allowed = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {value!r} (expected one of: {allowed})") from None

    def __str__(self) -> str:
        return self.value


_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}
_SARIF_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file; `path` is relative to the repository root, POSIX style."""

    path: str
    line: int = 1
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        if self.column:
            return f"{self.path}:{self.line}:{self.column}"
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Suppression:
    """Why a finding does not count: an inline ignore, a waiver, or a baseline entry."""

    kind: str  # "inSource" | "external"
    justification: str
    status: str = "accepted"  # SARIF: accepted | underReview | rejected
    origin: str = ""  # "inline" | "waiver" | "baseline": what reporters count


@dataclass
class Finding:
    rule_id: str
    severity: Severity
    message: str
    location: Location
    kind: str = ""
    json_path: JsonPath = ()
    fingerprint: str = ""
    suppression: Suppression | None = None
    properties: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The central masking step (redact.py): whatever a rule wrote, no reporter prints a secret.
        from pe_policy.redact import redact, redact_value

        self.message = redact(self.message)
        if self.properties:
            self.properties = redact_value(self.properties)
        if not self.fingerprint:
            self.fingerprint = fingerprint(self.rule_id, self.location.path, self.json_path,
                                           self.message if not self.json_path else "")

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        return (loc.path, loc.line, loc.column or 0, self.rule_id, self.message)

    def to_dict(self) -> dict[str, Any]:
        loc = self.location
        out: dict[str, Any] = {
            "rule_id": self.rule_id,
            "severity": self.severity.value,
            "message": self.message,
            "kind": self.kind,
            "location": {
                "path": loc.path,
                "line": loc.line,
                "column": loc.column,
                "end_line": loc.end_line,
                "end_column": loc.end_column,
            },
            "json_path": list(self.json_path),
            "fingerprint": self.fingerprint,
        }
        if self.suppression is not None:
            out["suppression"] = {
                "kind": self.suppression.kind,
                "justification": self.suppression.justification,
            }
        if self.properties:
            out["properties"] = self.properties
        return out


def fingerprint(rule_id: str, path: str, json_path: JsonPath, extra: str = "") -> str:
    """Stable across line moves: rule + file + node path, never the line number."""
    raw = "\x1f".join([rule_id, path, "/".join(str(p) for p in json_path), extra])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


PARSE_RULE_ID = "PE-PARSE"


class ParseError(Exception):
    """A file that could not be read as its kind; becomes a PE-PARSE finding."""

    def __init__(self, path: str, message: str, line: int = 1, column: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = max(1, line)
        self.column = column

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where}: {self.message}"

    def to_finding(self, kind: str = "") -> Finding:
        return Finding(
            rule_id=PARSE_RULE_ID,
            severity=Severity.HIGH,
            message=self.message,
            location=Location(self.path, self.line, self.column),
            kind=kind,
        )
