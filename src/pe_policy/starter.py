"""`pe-policy init`: a commented starter `.pe-policy.yaml` and a pre-commit snippet.

The starter's parameter section is generated from `DEFAULT_PARAMS` and the
schema's descriptions, so it can never show a stale default.
"""

from __future__ import annotations

from typing import Any

import yaml

from pe_policy import REPOSITORY_URL, __version__
from pe_policy.config import DEFAULT_PARAMS, config_schema

# The files the `pe-policy` pre-commit hook receives, as `.pre-commit-hooks.yaml` declares them
# (a test keeps the two equal). Files of no known kind among them are skipped under pre-commit.
HOOK_FILES = (
    r"(^|/)\.github/workflows/[^/]+\.ya?ml$|(^|/)action\.ya?ml$|\.tf$|\.json$|\.sarif$"
    r"|\.md$|\.(up|down)\.sql$|(^|/)(versions|migrations)/[^/]+\.py$"
    r"|(^|/)(coverage|cobertura|cobertura-coverage)\.xml$"
)

_HEADER = """\
# pe-policy configuration (see "Configuring pe-policy" in the README). Every key is optional.
# It is validated when pe-policy starts: a typo is an error naming its line.

# Which rules run, and at what severity. Rule IDs, or prefixes (PE-WF: every
# workflow rule); `pe-policy rules` lists them.
rules:
  disable: []            # e.g. [PE-PR-008, PE-TF-006]
  # enable: [PE-WF, PE-TF]   # run only these
  severity: {}           # e.g. {PE-PR-007: medium}

# Files never checked: globs relative to the repository root (`*` crosses `/`).
exclude: []              # e.g. ["fixtures/*", "vendor/"]

# Your own policy directories (Rego modules and Python rules), relative to the root.
policies: []             # e.g. [policy]

# Accepted exceptions. Each needs an owner, a reason and an expiry date; an
# expired waiver stops waiving and the finding says so.
waivers: []
#  - rule: PE-TF-005
#    path: infra/prod/*.tfplan.json
#    owner: "@platform-team"
#    reason: orders database replaced during the planned migration, CHG-1234
#    expires: 2025-12-31

# Files larger than this are reported (PE-PARSE) instead of read.
# max_file_bytes: 104857600

# Rule parameters, with their defaults. Uncomment a key to change it; a value
# replaces the default as a whole (lists are not merged).
"""


def _commented(text: str) -> list[str]:
    return [f"# {line}".rstrip() for line in text.splitlines()]


def starter_config() -> str:
    described: dict[str, Any] = config_schema()["properties"]["params"]["properties"]
    lines = [_HEADER.rstrip("\n"), "# params:"]
    for name, default in DEFAULT_PARAMS.items():
        description = described.get(name, {}).get("description")
        if description:
            lines.append(f"#   # {description}")
        dumped = yaml.safe_dump({name: default}, sort_keys=False, default_flow_style=False,
                                width=1000, allow_unicode=True)
        lines.extend(_commented("  " + dumped.rstrip("\n").replace("\n", "\n  ")))
    return "\n".join(lines) + "\n"


def precommit_snippet() -> str:
    """A `.pre-commit-config.yaml` that installs pe-policy: this repository at this release.

    pre-commit clones `repo` at `rev` and installs it with its `.pre-commit-hooks.yaml`; no
    package index is involved, so it works before (and without) a release on one.
    """
    return f"""\
repos:
  - repo: {REPOSITORY_URL}
    rev: v{__version__}
    hooks:
      - id: pe-policy
"""
