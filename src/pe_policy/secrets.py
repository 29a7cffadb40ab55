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
    """A credential found in a line: what it is, and a masked form safe to show; the value
    itself is kept for redaction (redact.py) and must never reach a finding."""

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
        \$\{\{.*|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\$\(.*  # ${{ secrets.X }}, ${VAR}, $VAR, $(cmd)
      | \{\{.*\}\}|<[^>]*>|%[A-Za-z_]+%                      # {{ var }}, <password>, %VAR%
      | \*+|x{3,}|X{3,}|\.{3}|…|-+                           # ****, xxx, ...
      | (?:\[)?redacted(?:\])?|masked|hidden|none|null|nil|n/?a|tbd|todo|example
      | change[-_]?me|placeholder|your[-_].*|\[.*\]
      | (?:var|local|module|data)\.[A-Za-z_].*               # Terraform references
      | (?:secrets|vars|env|ssm|vault|arn|op|sm)[.:/].*       # references to a secret store
    )$""",
    re.IGNORECASE | re.VERBOSE,
)


def _is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER_VALUE.match(value)) or value.upper().endswith("EXAMPLE")


def _looks_like_password(value: str) -> bool:
    """Not an English word: `rotated`, `Stored` are prose; `hunter2`, `S3cr3t!` are not."""
    return (len(value) >= 4 and not re.fullmatch(r"[A-Z]?[a-z]+", value)
            and not value.startswith(("/", "~", "./")) and "://" not in value)


def _looks_like_token(value: str) -> bool:
    return (len(value) >= 12 and bool(re.search(r"[0-9]", value))
            and bool(re.search(r"[A-Za-z]", value)) and not re.search(r"\s", value)
            and not value.startswith(("/", "~", "./")) and "://" not in value)


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
    ("GitLab token", re.compile(
        r"(?<![A-Za-z0-9_-])(?P<v>gl(?:pat|dt|rt|ptt|cbt|ft|imt|oas|soat|agent)-[A-Za-z0-9_-]{20,})"),
     "keep"),
    ("Slack token", re.compile(r"(?<![A-Za-z0-9])(?P<v>xox[abposr]-[A-Za-z0-9-]{10,})"), "keep"),
    ("Slack app token", re.compile(r"(?<![A-Za-z0-9])(?P<v>xapp-\d-[A-Za-z0-9-]{20,})"), "keep"),
    ("Slack webhook", re.compile(
        r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<v>[A-Za-z0-9_/-]{20,})"), "keep"),
    ("Discord webhook", re.compile(
        r"discord(?:app)?\.com/api/webhooks/[0-9]+/(?P<v>[A-Za-z0-9_-]{40,})"), "keep"),
    ("Google API key", re.compile(r"(?<![A-Za-z0-9_-])(?P<v>AIza[0-9A-Za-z_-]{35})"), "keep"),
    ("Google OAuth client secret", re.compile(r"(?<![A-Za-z0-9_-])(?P<v>GOCSPX-[A-Za-z0-9_-]{24,})"),
     "keep"),
    ("Google OAuth token", re.compile(r"(?<![A-Za-z0-9_-])(?P<v>ya29\.[A-Za-z0-9_-]{20,})"), "keep"),
    ("Stripe live key", re.compile(r"(?<![A-Za-z0-9])(?P<v>(?:sk|rk)_live_[0-9A-Za-z]{16,})"),
     "keep"),
    ("Stripe key", re.compile(
        r"(?<![A-Za-z0-9])(?P<v>(?:sk|rk)_test_[0-9A-Za-z]{16,}|whsec_[0-9A-Za-z]{24,})"), "keep"),
    ("AI API key", re.compile(  # OpenAI (sk-, sk-proj-), Anthropic (sk-ant-api03-)
        r"(?<![A-Za-z0-9_-])(?P<v>sk-(?:proj-|svcacct-|admin-|ant-[a-z]+[0-9]{2}-)?"
        r"[A-Za-z0-9_-]{20,})"), "keep"),
    ("npm token", re.compile(r"(?<![A-Za-z0-9_])(?P<v>npm_[A-Za-z0-9]{36})(?![A-Za-z0-9])"), "keep"),
    ("PyPI token", re.compile(r"(?<![A-Za-z0-9_-])(?P<v>pypi-Ag[A-Za-z0-9_-]{50,})"), "keep"),
    ("SendGrid API key", re.compile(
        r"(?<![A-Za-z0-9_-])(?P<v>SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})"), "keep"),
    ("Docker Hub token", re.compile(r"(?<![A-Za-z0-9_-])(?P<v>dckr_pat_[A-Za-z0-9_-]{20,})"),
     "keep"),
    ("Vault token", re.compile(r"(?<![A-Za-z0-9_.-])(?P<v>hv[sbr]\.[A-Za-z0-9_-]{24,})"), "keep"),
    ("Terraform Cloud token", re.compile(
        r"(?<![A-Za-z0-9])(?P<v>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_-]{60,})"), "keep"),
    ("DigitalOcean token", re.compile(r"(?<![A-Za-z0-9_])(?P<v>do[por]_v1_[a-f0-9]{64})"), "keep"),
    ("Shopify token", re.compile(r"(?<![A-Za-z0-9_])(?P<v>shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})"),
     "keep"),
    ("Hugging Face token", re.compile(r"(?<![A-Za-z0-9_])(?P<v>hf_[A-Za-z0-9]{34,})"), "keep"),
    ("Azure client secret", re.compile(
        r"(?<![A-Za-z0-9_~.-])(?P<v>[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})"
        r"(?![A-Za-z0-9_~.-])"), "keep"),
    ("Azure storage key", re.compile(
        r"(?i)(?:AccountKey|SharedAccessKey)\s*=\s*(?P<v>[A-Za-z0-9+/]{20,}={0,2})"), "keep"),
    ("Azure SAS signature", re.compile(r"[?&;]sig=(?P<v>[A-Za-z0-9%+/=]{20,})"), "keep"),
    ("JSON web token", re.compile(
        r"(?<![A-Za-z0-9_-])(?P<v>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"),
     "keep"),
    ("bearer token", re.compile(r"(?i)\bbearer\s+(?P<v>[A-Za-z0-9_.~+/=-]{16,})"), "keep"),
    ("basic auth credentials", re.compile(
        r"(?i)\bauthorization[\"']?\s*[:=]\s*[\"']?basic\s+(?P<v>[A-Za-z0-9+/]{8,}={0,2})"),
     "keep"),
    ("password in a URL", re.compile(
        r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:(?P<v>[^\s@/]{3,})@"), "hide"),
    ("password", re.compile(  # on a command line: --password X, curl -u user:X, mysql -pX
        r"(?:^|\s)--(?:password|passwd|pass)[ \t]+(?P<v>[^\s\"'`;|&]+)"
        r"|\bcurl\b[^\n]*?\s(?:-u|--user)[ \t]*[\"']?[^\s:\"']+:(?P<v2>[^\s\"'@]+)"
        r"|\bmysql(?:dump|admin)?\b[^\n]*?\s-p(?P<v3>[^\s\"'-][^\s\"']*)"), "hide"),
)

_CHECKS = {
    "password": _looks_like_password,
    "secret": _looks_like_token,
    "password in a URL": lambda v: len(v) >= 3,
}

# `NAME: value`, `NAME=value`, `"name": "value"`, `name => 'value'`: a value named as a secret
_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_.])(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)[\"']?[ \t]*(?:=>|:=|[:=])[ \t]*"
    r"(?:(?P<quote>[\"'`])(?P<quoted>[^\"'`\s](?:[^\"'`\r\n]*[^\"'`\s])?)(?P=quote)"
    r"|(?P<bare>[^\s\"'`,;)\]}]+))")
_NAME_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_PASSWORD_WORDS = frozenset({"password", "passwords", "passwd", "passphrase", "pwd", "passcode"})
_SECRET_WORDS = frozenset({"secret", "secrets", "token", "tokens", "apikey", "apikeys",
                           "credential", "credentials"})
# X_KEY is a secret for these X (SECRET_KEY, API_KEY, AccountKey), not for CACHE_KEY or SORT_KEY
_KEY_QUALIFIERS = frozenset({
    "api", "access", "private", "secret", "auth", "account", "signing", "encryption", "master",
    "session", "client", "shared", "service", "ssh", "deploy", "gpg", "pgp", "license", "hmac",
    "jwt", "webhook", "app", "crypt", "decryption", "admin", "subscription", "storage"})
# ... and a name ending in one of these names something about the secret, not the secret
_DESCRIPTORS = frozenset({
    "name", "names", "id", "ids", "arn", "path", "file", "dir", "url", "uri", "ref", "type",
    "version", "length", "count", "ttl", "expiry", "expires", "expiration", "lifetime", "env",
    "var", "field", "header", "prefix", "format", "policy", "store", "manager", "provider",
    "rotation", "mount", "kind", "label", "hint", "location", "endpoint", "scope", "scopes",
    "audience", "issuer", "mode", "enabled", "required", "min", "max", "regex", "pattern",
    "timeout", "permissions", "command", "cmd", "source", "method"})


def secret_name(name: str) -> str | None:
    """What a key or variable called `name` holds: "password", "secret" or None (anything else).

    `DEPLOY_PASSWORD`, `db_pass`, `API_TOKEN`, `SECRET_KEY`, `clientSecret`, `_authToken`,
    `AccountKey` hold one; `PASSWORD_FILE`, `TOKEN_URL`, `CACHE_KEY`, `id-token` do not (the
    last names a permission; its value, `write`, is no token either).
    """
    words = [w.lower() for w in _NAME_WORDS.findall(name)]
    if not words or words[-1] in _DESCRIPTORS:
        return None
    if any(w in _PASSWORD_WORDS for w in words) or ("pass" in words and len(words) > 1):
        return "password"
    if any(w in _SECRET_WORDS for w in words):
        return "secret"
    if any(w in ("key", "keys") and i and words[i - 1] in _KEY_QUALIFIERS
           for i, w in enumerate(words)):
        return "secret"
    return None


def assigned_secret(name: str, value: str) -> SecretMatch | None:
    """`value` as what a key or variable called `name` holds, when that makes it a secret."""
    kind = secret_name(name)
    if kind is None or _is_placeholder(value) or not _CHECKS[kind](value):
        return None
    masked = "*" * 8 if kind == "password" else mask(value)
    return SecretMatch(kind, 0, len(value), masked, value)


_ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")  # SMTP_PASSWORD: a variable, not prose
_MIXED_WORD = re.compile(r"(?=[^\s]*[A-Za-z])(?=[^\s]*[0-9])[^\s]{4,}")


def _assignments(line: str) -> Iterator[SecretMatch]:
    pos = 0
    while (match := _ASSIGNMENT.search(line, pos)) is not None:
        group = "quoted" if match.group("quoted") is not None else "bare"
        name = match.group("name")
        secret = assigned_secret(name, match.group(group))
        start, end = match.span(group)
        pos = start  # what is not a secret may hold one: `says: DB_PASSWORD=x`
        if secret is None and group == "bare" and _ENV_NAME.fullmatch(name):
            # `SMTP_PASSWORD: correct horse battery 7x` (a passphrase, unquoted, or quoted by a
            # message): the rest of the line, when a word of it is no word of prose
            rest = line[start:].rstrip()
            if (secret_name(name) == "password" and " " in rest
                    and any(not re.fullmatch(r"[A-Z]+-[0-9]+", w) for w in _MIXED_WORD.findall(rest))):
                secret, end = SecretMatch("password", 0, len(rest), "*" * 8, rest), len(line.rstrip())
        if secret is not None:
            pos = end
            yield SecretMatch(secret.kind, start, end, secret.masked, line[start:end])


def find_secrets(line: str) -> Iterator[SecretMatch]:
    """Secrets in one line, left to right, overlapping matches reported once (the first kind)."""
    taken: list[tuple[int, int]] = []
    found: list[SecretMatch] = []

    def add(secret: SecretMatch) -> None:
        if not any(secret.start < t_end and t_start < secret.end for t_start, t_end in taken):
            taken.append((secret.start, secret.end))
            found.append(secret)

    for kind, pattern, how in _PATTERNS:
        for match in pattern.finditer(line):
            group = next(g for g in ("v", "v2", "v3") if g in match.re.groupindex
                         and match.group(g) is not None)
            value = match.group(group)
            start, end = match.span(group)
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
            add(SecretMatch(kind, start, end, masked, value))
    for secret in _assignments(line):
        add(secret)
    yield from sorted(found, key=lambda m: m.start)
