"""`.pe-policy.yaml`: rule parameters and their defaults (the one place they live).

The defaults are the ones `POLICIES.md` states.  Rego rules read them as
`data.pe.params.<name>`, Python rules as `ctx.params["<name>"]`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_FILE_NAMES = (".pe-policy.yaml", ".pe-policy.yml")

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
    "stateful_resource_types": [
        "aws_db_instance", "aws_rds_cluster", "aws_s3_bucket", "aws_dynamodb_table",
        "aws_ebs_volume", "aws_kms_key", "aws_efs_file_system", "aws_elasticache_cluster",
        "aws_elasticache_replication_group", "google_sql_database_instance",
        "google_storage_bucket", "azurerm_storage_account", "azurerm_mssql_database",
    ],
    # quality gates (seeds 002, 003)
    "scan_severity_threshold": "high",
}


@dataclass
class Config:
    params: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULT_PARAMS))
    path: Path | None = None


def find_config(root: Path) -> Path | None:
    for name in CONFIG_FILE_NAMES:
        candidate = root / name
        if candidate.is_file():
            return candidate
    return None
