"""The central masking step: no report prints a secret, whatever a rule put in its message.

Rules that hunt secrets (PE-DR-006, and any later one) show only masked forms,
but a rule may still quote a line that holds a credential, and a code frame
shows the source line itself.  So every `Finding` masks its message and its
string properties when it is created (findings.py), and `CheckResult` masks
every source line it hands a reporter (pipeline.py): each reporter, present or
future, only ever sees masked text.  The detectors are `pe_policy.secrets`
(AWS keys, GitHub/Slack/Google/Stripe tokens, JWTs, bearer tokens, private key
blocks, `password=`/`token:` assignments, passwords in URLs).

Masking happens on the data, not on rendered output: rewriting JSON, SARIF or
XML text afterwards would have to understand each format's escaping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

# A cheap pre-check (plain substring tests, ~5 us a message): text with none of these cannot
# hold a secret `find_secrets` knows, and most findings' messages hold none.
_KEYWORDS = ("secret", "key", "token", "pass", "pwd", "credential", "bearer", "basic", "auth",
             "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "gldt-", "glrt-",
             "glptt-", "glcbt-", "glft-", "glimt-", "gloas-", "glsoat-", "glagent-", "xox", "xapp-",
             "hooks.slack.com", "discord", "aiza", "gocspx-", "ya29.", "_live_", "_test_", "whsec_",
             "sk-", "npm_", "pypi-", "sg.", "dckr_", "hvs.", "hvb.", "hvr.", "atlasv1", "_v1_",
             "shpat_", "shpca_", "shppa_", "shpss_", "hf_", "q~", "sig=", "curl", "mysql", "eyj")
_AWS_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA")
_BLOB_HINT = re.compile(r"[A-Za-z0-9+/]{40}")


def _may_hold_secret(text: str) -> bool:
    low = text.lower()
    return (any(k in low for k in _KEYWORDS) or any(p in text for p in _AWS_PREFIXES)
            or ("://" in text and "@" in text) or _BLOB_HINT.search(text) is not None)


# A line of a private key's body, an AWS secret key, any long base64 blob quoted on its own:
# 40+ base64 characters mixing upper case, lower case and digits (a hex SHA never does).
_BLOB = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])")
_KEY_BLOCK = re.compile(
    r"(-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----)(.*?)(-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.DOTALL,
)
_KEY_BODY_LINE = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")
MASK = "****"


def _mask_key_body(match: re.Match[str]) -> str:
    body = re.sub(r"[^\s]+", MASK, match.group(2))  # keep the line structure of the block
    return match.group(1) + body + match.group(3)


@lru_cache(maxsize=4096)
def redact(text: str) -> str:
    """`text` with every recognised secret replaced by its masked form.

    Cached: it depends on the text alone, and a run masks the same texts again and again
    (every finding's path keys, `jobs`, `steps`, a job id; the same message on many files)."""
    if not text or not _may_hold_secret(text):
        return text
    from pe_policy.secrets import find_secrets

    text = _KEY_BLOCK.sub(_mask_key_body, text)
    out: list[str] = []
    last = 0
    for secret in find_secrets(text):
        if secret.start < last:
            continue
        if "PRIVATE KEY" in secret.value or MASK in secret.value:  # a type line, or masked already
            continue
        out.append(text[last:secret.start])
        out.append(secret.masked if secret.masked != secret.value else MASK)
        last = secret.end
    out.append(text[last:])
    return _BLOB.sub(_mask_blob, "".join(out))


def _mask_blob(match: re.Match[str]) -> str:
    blob = match.group(0)
    if re.search(r"[A-Z]", blob) and re.search(r"[a-z]", blob) and re.search(r"[0-9]", blob):
        return blob[:4] + MASK
    return blob


def redact_line(line: str) -> str:
    """A source line for a code frame: also hides a bare line of a private key's body."""
    if _KEY_BODY_LINE.fullmatch(line.strip()):
        return line[: len(line) - len(line.lstrip())] + MASK
    return redact(line)


def redact_value(value: Any, name: str | None = None, owner: str | None = None) -> Any:
    """Strings anywhere inside a JSON-like value, masked (a parsed document, a finding's
    properties).

    A value is also masked for its key (`name`): `{"DEPLOY_PASSWORD": "hunter2x"}`, or
    Kubernetes' `{"name": "API_TOKEN", "value": "..."}`, holds a secret that alone does not look
    like one; so does the default of a Terraform variable named like a secret
    (`{"name": "db_password", "values": {"default": "..."}}`: `owner` is that name inside
    `values`).  Keys are masked too, and a key names the items of a list under it.
    """
    if isinstance(value, str):
        if name is not None:
            from pe_policy.secrets import assigned_secret

            secret = assigned_secret(name, value)
            if secret is not None:
                return secret.masked
        return redact(value)
    if isinstance(value, Mapping):
        named = value.get("name")
        named = named if isinstance(named, str) else owner
        out: dict[Any, Any] = {}
        for key, item in value.items():
            key_name = key if isinstance(key, str) else None
            if key in ("value", "default") and named is not None:
                key_name = named
            inner_owner = named if key == "values" else None
            out[redact(key) if isinstance(key, str) else key] = redact_value(item, key_name, inner_owner)
        return out
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v, name) for v in value)
    return value


def redact_path(path: Sequence[str | int]) -> tuple[str | int, ...]:
    """A JSON path (a finding's `json_path`) with every key masked: a key may be a token."""
    return tuple(redact(p) if isinstance(p, str) else p for p in path)


__all__ = ["MASK", "redact", "redact_line", "redact_path", "redact_value"]
