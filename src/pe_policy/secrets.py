"""Credentials pasted into text: what they are and a masked form safe to print.

Used by rules that scan prose (deployment and QA reports).  A finding built
from a `SecretMatch` may show `kind` and `masked`, never the value: the
report of a leak must not leak it again (into CI logs, SARIF, PR comments).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SecretMatch:
    kind: str  # "AWS access key ID", "password"
    start: int  # 0-based offsets of the secret value in the line
    end: int
    masked: str  # safe to print
    value: str = field(repr=False)  # never put this into a message


def mask(value: str, keep: int = 4) -> str:
    """`AKIAIOSFODNN7ABCWXYZ` -> `AKIA************WXYZ`; short values are masked completely.

    At most 16 stars, so a long token's mask does not spell out its length either.
    """
    if len(value) < 16:
        return "*" * 8
    return value[:keep] + "*" * min(16, len(value) - 2 * keep) + value[-keep:]


_PLACEHOLDER_VALUE = re.compile(
    r"""^(?:
        \$\{\{.*|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*     # ${{ secrets.X }}, ${VAR}, $VAR
      | \{\{.*\}\}|<[^>]*>|%[A-Za-z_]+%                      # {{ var }}, <password>, %VAR%
      | \*+|x{3,}|X{3,}|\.{3}|…|-+                           # ****, xxx, ...
      | (?:\[)?redacted(?:\])?|masked|hidden|none|null|nil|n/?a|tbd|todo|example
      | (?:secrets|vars|env|ssm|vault|arn|op|sm)[.:/].*       # references to a secret store
    )$""",
    re.IGNORECASE | re.VERBOSE,
)


def _is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER_VALUE.match(value)) or value.upper().endswith("EXAMPLE")


def _looks_like_password(value: str) -> bool:
    """Not an English word: `rotated`, `Stored` are prose; `hunter2`, `S3cr3t!` are not."""
    return (len(value) >= 4 and not re.fullmatch(r"[A-Z]?[a-z]+", value)
            and not value.startswith(("/", "~", "./")))


def _looks_like_token(value: str) -> bool:
    return (len(value) >= 12 and bool(re.search(r"[0-9]", value))
            and bool(re.search(r"[A-Za-z]", value)))


# (kind, pattern with the secret in group "v", how to show it: keep ends / hide / type line)
_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("private key", re.compile(
        r"(?P<v>-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----)"),
     "type"),
    ("AWS access key ID", re.compile(
        r"(?<![A-Z0-9])(?P<v>(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16})"
        r"(?![A-Z0-9])"), "keep"),
    ("AWS secret access key", re.compile(
        r"(?i)aws_?secret_?(?:access_?)?key[\"']?\s*[:=]\s*[\"']?(?P<v>[A-Za-z0-9/+=]{40})"
        r"(?![A-Za-z0-9/+=])"), "keep"),
    ("GitHub token", re.compile(
        r"(?<![A-Za-z0-9_])(?P<v>(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}))"),
     "keep"),
    ("Slack token", re.compile(r"(?<![A-Za-z0-9])(?P<v>xox[abposr]-[A-Za-z0-9-]{10,})"), "keep"),
    ("Google API key", re.compile(r"(?<![A-Za-z0-9_-])(?P<v>AIza[0-9A-Za-z_-]{35})"), "keep"),
    ("Stripe live key", re.compile(r"(?<![A-Za-z0-9])(?P<v>(?:sk|rk)_live_[0-9A-Za-z]{16,})"),
     "keep"),
    ("JSON web token", re.compile(
        r"(?<![A-Za-z0-9_-])(?P<v>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"),
     "keep"),
    ("bearer token", re.compile(r"(?i)\bbearer\s+(?P<v>[A-Za-z0-9_.~+/=-]{16,})"), "keep"),
    ("password in a URL", re.compile(
        r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:(?P<v>[^\s@/]{3,})@"), "hide"),
    ("password", re.compile(
        r"(?i)\b(?:password|passwd|pwd|db_pass(?:word)?)[\"']?\s*[:=]\s*[\"']?"
        r"(?P<v>[^\s\"'`,;]+)"), "hide"),
    ("secret", re.compile(
        r"(?i)\b(?:secret|client_secret|api[_-]?key|apikey|access[_-]?token|auth[_-]?token|token"
        r"|private[_-]?key)[\"']?\s*[:=]\s*[\"']?(?P<v>[^\s\"'`,;]+)"), "keep"),
)

_CHECKS = {
    "password": _looks_like_password,
    "secret": _looks_like_token,
    "password in a URL": lambda v: len(v) >= 3,
}


def find_secrets(line: str) -> Iterator[SecretMatch]:
    """Secrets in one line, left to right, overlapping matches reported once (the first kind)."""
    taken: list[tuple[int, int]] = []
    found: list[SecretMatch] = []
    for kind, pattern, how in _PATTERNS:
        for match in pattern.finditer(line):
            value = match.group("v")
            start, end = match.span("v")
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            if how != "type" and _is_placeholder(value):
                continue
            check = _CHECKS.get(kind)
            if check is not None and not check(value):
                continue
            if how == "type":
                masked = value  # the BEGIN line names the key type; the key is below it
            elif how == "hide":
                masked = "*" * 8
            else:
                masked = mask(value)
            taken.append((start, end))
            found.append(SecretMatch(kind, start, end, masked, value))
    yield from sorted(found, key=lambda m: m.start)
