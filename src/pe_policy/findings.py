"""The one finding type, and what it is made of.

Every rule, engine and loader speaks in these terms, so every reporter can
trust that a finding has a rule, a severity, a message and a precise place.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn


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


def _read_only(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise TypeError("a finding is immutable: make a new one with dataclasses.replace")


class FrozenDict(dict[str, Any]):
    """A finding's properties: a dict to every reader (JSON, `isinstance`, `==`), never changed.

    Only `frozen_masked` makes one, so its contents are frozen and masked too.
    """

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self) -> tuple[Any, ...]:  # pickled to and from worker processes
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self


class FrozenList(list[Any]):
    """A list inside a finding's properties: a list to every reader, never changed."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only
    append = extend = insert = pop = remove = clear = sort = reverse = _read_only

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenList, (list(self),))

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenList:
        return self


def frozen_masked(value: Any) -> Any:
    """`value` (JSON-like) with every string masked (`redact.redact`) and every mapping and list
    inside it made read-only, in one walk: what a finding keeps as its properties."""
    from pe_policy.redact import redact

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return redact(item)
        if isinstance(item, (FrozenDict, FrozenList)):  # made here: masked already
            return item
        if isinstance(item, Mapping):
            return FrozenDict({k: walk(v) for k, v in item.items()})
        if isinstance(item, list):
            return FrozenList([walk(v) for v in item])
        if isinstance(item, tuple):
            return type(item)(walk(v) for v in item)
        return item

    return walk(value)


EMPTY_PROPERTIES = FrozenDict()


@dataclass(frozen=True)
class Finding:
    """What a rule found, where.  Immutable: a filter that suppresses or amends a finding
    makes a new one (`dataclasses.replace`), so no step changes what an earlier one saw."""

    rule_id: str
    severity: Severity
    message: str
    location: Location
    kind: str = ""
    json_path: JsonPath = ()
    fingerprint: str = ""
    suppression: Suppression | None = None
    properties: Mapping[str, Any] = field(default_factory=FrozenDict)

    def __post_init__(self) -> None:
        # The central masking step (redact.py): whatever a rule wrote, no reporter prints a secret.
        from pe_policy.redact import redact

        set_field = object.__setattr__
        set_field(self, "message", redact(self.message))
        if not isinstance(self.properties, FrozenDict):  # a FrozenDict was masked when made
            set_field(self, "properties",
                      frozen_masked(self.properties) if self.properties else EMPTY_PROPERTIES)
        if not self.fingerprint:
            set_field(self, "fingerprint", fingerprint(
                self.rule_id, self.location.path, self.json_path,
                self.message if not self.json_path else ""))

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        return (loc.path, loc.line, loc.column or 0, self.rule_id, self.message)

    def worst_first_key(self) -> tuple[int, str, int, int, str, str]:
        """Most severe first, then file and line: the order reports are read (and cut) in."""
        return (-self.severity.rank, *self.sort_key())

    @property
    def not_evaluated(self) -> bool:
        """A rule that says it could not judge (its data is unknown), not that it failed."""
        return self.message.startswith(NOT_EVALUATED_PREFIX)

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
            out["properties"] = self.properties  # a dict: JSON writes it as one
        return out


def fingerprint(rule_id: str, path: str, json_path: JsonPath, extra: str = "") -> str:
    """Stable across line moves: rule + file + node path, never the line number."""
    raw = "\x1f".join([rule_id, path, "/".join(str(p) for p in json_path), extra])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


PARSE_RULE_ID = "PE-PARSE"
RULE_ERROR_RULE_ID = "PE-RULE-ERROR"  # also engine.evaluate.RULE_ERROR_ID
# how a rule whose input is unknown says so (models/pull_request.py, policies/pull_request)
NOT_EVALUATED_PREFIX = "could not be evaluated"


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
