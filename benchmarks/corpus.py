"""A deterministic benchmark corpus: Terraform plans, GitHub workflows, a mixed repository.

Everything is generated from a seeded `random.Random`, so two runs on two
machines produce byte-identical files and the figures compare like with like.
The shapes follow the real tools: plans are `terraform show -json` output
(`format_version` 1.2: `planned_values`, `resource_changes`, `configuration`,
compact on one line as Terraform writes it), workflows are the kinds of
pipelines real repositories carry (CI, release, deploy, triage, CodeQL), with a
realistic share of violations (unpinned actions, `write-all`, untrusted input in
`run:`, open SSH, unencrypted databases, `Action: *` policies).

    python benchmarks/corpus.py --out benchmarks/corpus --resources 1000 --workflows 500
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

SEED = 20240611
AWS = "registry.terraform.io/hashicorp/aws"
REGIONS = ("eu-west-1", "eu-central-1", "us-east-1")
SERVICES = ("gateway", "research", "brand", "content", "agent", "shared", "infra")
ENVIRONMENTS = ("production", "staging", "dev")
ADMIN_PORTS = (22, 3389, 5432, 3306, 6379)
SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"


# --------------------------------------------------------------------------- Terraform plans


def _tags(rng: random.Random, name: str, complete: bool) -> dict[str, str]:
    tags = {"Name": name, "service": rng.choice(SERVICES), "environment": rng.choice(ENVIRONMENTS)}
    if complete:
        tags["owner"] = f"team-{rng.choice(SERVICES)}"
    return tags


def _security_group(rng: random.Random, name: str, bad: bool) -> dict[str, Any]:
    port = rng.choice(ADMIN_PORTS) if bad else 443
    cidr = "0.0.0.0/0" if bad or port == 443 else "10.0.0.0/8"
    return {
        "name": name,
        "name_prefix": None,
        "description": f"{name} security group",
        "vpc_id": f"vpc-{rng.getrandbits(32):08x}",
        "revoke_rules_on_delete": False,
        "ingress": [
            {"description": "service port", "from_port": port, "to_port": port, "protocol": "tcp",
             "cidr_blocks": [cidr], "ipv6_cidr_blocks": [], "prefix_list_ids": [],
             "security_groups": [], "self": False},
            {"description": "internal", "from_port": 8080, "to_port": 8080, "protocol": "tcp",
             "cidr_blocks": ["10.20.0.0/16"], "ipv6_cidr_blocks": [], "prefix_list_ids": [],
             "security_groups": [], "self": False},
        ],
        "egress": [
            {"description": "all egress", "from_port": 0, "to_port": 0, "protocol": "-1",
             "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": [], "prefix_list_ids": [],
             "security_groups": [], "self": False},
        ],
        "tags": _tags(rng, name, not bad),
        "timeouts": None,
    }


def _bucket(rng: random.Random, name: str, bad: bool) -> dict[str, Any]:
    return {
        "bucket": f"{name.replace('_', '-')}-{rng.getrandbits(24):06x}",
        "bucket_prefix": None,
        "force_destroy": bad,
        "object_lock_enabled": False,
        "tags": _tags(rng, name, not bad),
        "timeouts": None,
    }


def _public_access_block(rng: random.Random, name: str, bad: bool) -> dict[str, Any]:
    return {
        "bucket": f"{name.replace('_', '-')}-{rng.getrandbits(24):06x}",
        "block_public_acls": not bad,
        "block_public_policy": not bad,
        "ignore_public_acls": not bad,
        "restrict_public_buckets": not bad,
    }


def _db_instance(rng: random.Random, name: str, bad: bool) -> dict[str, Any]:
    return {
        "identifier": name.replace("_", "-"),
        "engine": rng.choice(("postgres", "mysql")),
        "engine_version": rng.choice(("15.4", "8.0.35")),
        "instance_class": rng.choice(("db.t3.medium", "db.r6g.large")),
        "allocated_storage": rng.choice((20, 100, 500)),
        "storage_type": "gp3",
        "storage_encrypted": not bad,
        "kms_key_id": None,
        "multi_az": not bad,
        "publicly_accessible": False,
        "deletion_protection": not bad,
        "backup_retention_period": 0 if bad else 7,
        "skip_final_snapshot": bad,
        "username": "app",
        "db_subnet_group_name": "private",
        "iam_database_authentication_enabled": not bad,
        "monitoring_interval": 0 if bad else 60,
        "performance_insights_enabled": not bad,
        "auto_minor_version_upgrade": True,
        "copy_tags_to_snapshot": True,
        "tags": _tags(rng, name, not bad),
        "timeouts": None,
    }


def _iam_policy(rng: random.Random, name: str, bad: bool) -> dict[str, Any]:
    if bad:
        statement = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    else:
        statement = [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                      "Resource": f"arn:aws:s3:::{name.replace('_', '-')}/*"}]
    return {
        "name": name,
        "path": "/",
        "description": f"access for {name}",
        "policy": json.dumps({"Version": "2012-10-17", "Statement": statement}),
        "tags": _tags(rng, name, not bad),
    }


def _instance(rng: random.Random, name: str, bad: bool) -> dict[str, Any]:
    return {
        "ami": f"ami-{rng.getrandbits(64):016x}",
        "instance_type": rng.choice(("t3.micro", "t3.large", "m6i.xlarge")),
        "associate_public_ip_address": bad,
        "ebs_optimized": True,
        "monitoring": not bad,
        "subnet_id": f"subnet-{rng.getrandbits(32):08x}",
        "metadata_options": [{"http_endpoint": "enabled",
                              "http_tokens": "optional" if bad else "required",
                              "http_put_response_hop_limit": 1}],
        "root_block_device": [{"encrypted": not bad, "volume_size": 30, "volume_type": "gp3",
                               "delete_on_termination": True}],
        "user_data": None,
        "tags": _tags(rng, name, not bad),
        "timeouts": None,
    }


def _ebs_volume(rng: random.Random, name: str, bad: bool) -> dict[str, Any]:
    return {
        "availability_zone": f"{rng.choice(REGIONS)}a",
        "size": rng.choice((50, 100, 200)),
        "type": "gp3",
        "encrypted": not bad,
        "kms_key_id": None,
        "tags": _tags(rng, name, not bad),
        "timeouts": None,
    }


def _log_group(rng: random.Random, name: str, bad: bool) -> dict[str, Any]:
    return {
        "name": f"/aws/{rng.choice(SERVICES)}/{name}",
        "retention_in_days": 0 if bad else 90,
        "kms_key_id": None,
        "skip_destroy": False,
        "tags": _tags(rng, name, True),
    }


def _attachment(rng: random.Random, name: str, bad: bool) -> dict[str, Any]:
    policy = "AdministratorAccess" if bad else "ReadOnlyAccess"
    return {"role": f"{name}-role", "policy_arn": f"arn:aws:iam::aws:policy/{policy}"}


# type, builder, weight, share of "bad" instances
RESOURCE_TYPES: tuple[tuple[str, Callable[[random.Random, str, bool], dict[str, Any]], int, float], ...] = (
    ("aws_security_group", _security_group, 4, 0.15),
    ("aws_s3_bucket", _bucket, 3, 0.2),
    ("aws_s3_bucket_public_access_block", _public_access_block, 2, 0.15),
    ("aws_db_instance", _db_instance, 1, 0.3),
    ("aws_iam_policy", _iam_policy, 2, 0.1),
    ("aws_iam_role_policy_attachment", _attachment, 1, 0.1),
    ("aws_instance", _instance, 4, 0.2),
    ("aws_ebs_volume", _ebs_volume, 2, 0.2),
    ("aws_cloudwatch_log_group", _log_group, 2, 0.2),
)
_WEIGHTED = [t for t in RESOURCE_TYPES for _ in range(t[2])]


def _unknown_for(values: dict[str, Any]) -> dict[str, Any]:
    return {"id": True, "arn": True}


def _computed(values: dict[str, Any]) -> dict[str, Any]:
    """What the provider adds to a planned value: `tags_all` (tags merged with default_tags)."""
    return {**values, "tags_all": values["tags"]} if "tags" in values else values


def _sensitive_for(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out[key] = {}
        elif isinstance(value, list):
            out[key] = [{} if isinstance(v, dict) else False for v in value]
    return out


# attribute -> the resource a real configuration refers to for it (a reference, not a constant)
REFERENCES: dict[str, tuple[str, str]] = {
    "vpc_id": ("aws_vpc.main", "id"),
    "subnet_id": ("aws_subnet.private", "id"),
    "kms_key_id": ("aws_kms_key.data", "arn"),
    "db_subnet_group_name": ("aws_db_subnet_group.private", "name"),
}


def _expressions(values: dict[str, Any], bucket: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        target = REFERENCES.get(key)
        if key == "bucket" and bucket is not None and "block_public_acls" in values:
            out[key] = {"references": [f"{bucket}.id", bucket]}
        elif target is not None:
            out[key] = {"references": [f"{target[0]}.{target[1]}", target[0]]}
        elif value is not None:
            out[key] = {"constant_value": value}
    return out


def _base_resources(rng: random.Random) -> list[tuple[str, str, dict[str, Any]]]:
    """The network and key every module's resources refer to."""
    return [
        ("aws_vpc", "main", {"cidr_block": "10.20.0.0/16", "enable_dns_hostnames": True,
                             "tags": _tags(rng, "main", True)}),
        ("aws_subnet", "private", {"cidr_block": "10.20.1.0/24", "map_public_ip_on_launch": False,
                                   "tags": _tags(rng, "private", True)}),
        ("aws_kms_key", "data", {"description": "data at rest", "enable_key_rotation": True,
                                 "deletion_window_in_days": 30, "tags": _tags(rng, "data", True)}),
        ("aws_db_subnet_group", "private", {"name": "private", "tags": _tags(rng, "db", True)}),
    ]


MODULES = ("module.gateway", "module.research", "module.content")


def _change(address: str, module: str | None, rtype: str, name: str, actions: list[str],
            before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    change: dict[str, Any] = {
        "address": address,
        "mode": "managed",
        "type": rtype,
        "name": name,
        "provider_name": AWS,
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": _unknown_for(after) if after is not None else {},
            "before_sensitive": _sensitive_for(before) if before is not None else False,
            "after_sensitive": _sensitive_for(after) if after is not None else False,
        },
    }
    if module:
        change["module_address"] = module
    if actions == ["delete", "create"]:
        change["action_reason"] = "replace_because_cannot_update"
        change["change"]["replace_paths"] = [["engine_version"]]
    return change


class _Scope:
    """One module (or the root): its planned values, configuration and prior state."""

    def __init__(self, address: str | None) -> None:
        self.address = address
        self.planned: list[dict[str, Any]] = []
        self.config: list[dict[str, Any]] = []
        self.prior: list[dict[str, Any]] = []
        self.last_bucket: str | None = None

    def add(self, rtype: str, name: str, values: dict[str, Any], actions: list[str],
            before: dict[str, Any] | None) -> str:
        local = f"{rtype}.{name}"
        address = f"{self.address}.{local}" if self.address else local
        common = {"address": address, "mode": "managed", "type": rtype, "name": name,
                  "provider_name": AWS, "schema_version": 0}
        if actions != ["delete"]:
            self.planned.append({**common, "values": _computed(values),
                                 "sensitive_values": _sensitive_for(values)})
            self.config.append({"address": local, "mode": "managed", "type": rtype,
                                "name": name, "provider_config_key": "aws",
                                "expressions": _expressions(values, self.last_bucket),
                                "schema_version": 0})
        if before is not None:
            self.prior.append({**common, "values": {**before, "id": f"{name}-{len(self.prior)}"},
                               "sensitive_values": _sensitive_for(before)})
        if rtype == "aws_s3_bucket":
            self.last_bucket = local
        return address


def terraform_plan(resources: int, seed: int = SEED) -> dict[str, Any]:
    """A plan with `resources` resource changes (a network per module, then a mix of types)."""
    rng = random.Random(seed + resources)
    scopes = {m: _Scope(m) for m in (None, *MODULES)}
    changes: list[dict[str, Any]] = []
    for scope in scopes.values():
        for rtype, name, values in _base_resources(rng):
            if len(changes) < resources:
                address = scope.add(rtype, name, values, ["no-op"], values)
                changes.append(_change(address, scope.address, rtype, name, ["no-op"],
                                       values, values))
    for i in range(resources - len(changes)):
        rtype, build, _weight, bad_share = rng.choice(_WEIGHTED)
        bad = rng.random() < bad_share
        name = f"{rng.choice(SERVICES)}_{i}"
        values = build(rng, name, bad)
        scope = scopes[rng.choice(MODULES)] if i % 4 == 3 else scopes[None]
        roll = rng.random()
        if roll < 0.82:
            actions, before = ["create"], None
        elif roll < 0.94:
            actions, before = ["update"], {**values, "tags": {}}
        elif roll < 0.97:
            actions, before = ["no-op"], values
        elif roll < 0.99:
            actions, before = ["delete", "create"], values
        else:
            actions, before = ["delete"], values
        after = None if actions == ["delete"] else values
        address = scope.add(rtype, name, values, actions, before)
        changes.append(_change(address, scope.address, rtype, name, actions, before,
                               None if after is None else _computed(after)))
    root = scopes[None]
    children = [scopes[m] for m in MODULES]
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "variables": {"region": {"value": REGIONS[0]}},
        "planned_values": {
            "root_module": {
                "resources": root.planned,
                "child_modules": [{"resources": s.planned, "address": s.address}
                                  for s in children],
            }
        },
        "resource_changes": changes,
        "prior_state": {
            "format_version": "1.0",
            "terraform_version": "1.9.5",
            "values": {"root_module": {
                "resources": root.prior,
                "child_modules": [{"resources": s.prior, "address": s.address}
                                  for s in children],
            }},
        },
        "configuration": {
            "provider_config": {
                "aws": {"name": "aws", "full_name": AWS, "version_constraint": "~> 5.0",
                        "expressions": {"region": {"references": ["var.region"]}}},
            },
            "root_module": {
                "resources": root.config,
                "module_calls": {
                    str(s.address).removeprefix("module."): {
                        "source": f"./modules/{str(s.address).removeprefix('module.')}",
                        "module": {"resources": s.config},
                    }
                    for s in children
                },
                "variables": {"region": {"default": REGIONS[0]}},
            },
        },
        "relevant_attributes": [],
        "timestamp": "2024-06-11T09:30:00Z",
        "applyable": True,
        "complete": True,
        "errored": False,
    }


# --------------------------------------------------------------------------- workflows


def _uses(rng: random.Random, action: str, tag: str) -> str:
    return f"{action}@{SHA}  # {tag}" if rng.random() < 0.4 else f"{action}@{tag}"


def _python_ci(rng: random.Random, n: int) -> str:
    version = rng.choice(("3.11", "3.12"))
    perms = rng.choice(("permissions:\n  contents: read\n", "permissions: write-all\n", ""))
    return f"""name: Python CI {n}
on:
  push:
    branches: [main]
  pull_request:
{perms}
concurrency:
  group: ci-${{{{ github.ref }}}}
  cancel-in-progress: true

jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: {_uses(rng, "actions/checkout", "v4")}
      - uses: {_uses(rng, "actions/setup-python", "v5")}
        with:
          python-version: "{version}"
          cache: pip
      - run: pip install ruff mypy
      - run: ruff check . && ruff format --check .
      - run: mypy src

  test:
    runs-on: ubuntu-latest
    needs: lint
    strategy:
      matrix:
        python: ["3.11", "3.12"]
    steps:
      - uses: {_uses(rng, "actions/checkout", "v4")}
      - uses: {_uses(rng, "actions/setup-python", "v5")}
        with:
          python-version: ${{{{ matrix.python }}}}
      - name: Install
        run: |
          python -m pip install --upgrade pip
          pip install -e '.[dev]'
      - name: Test
        run: pytest --cov=src --cov-fail-under=80 -q
      - uses: {_uses(rng, "codecov/codecov-action", "v4")}
        with:
          token: ${{{{ secrets.CODECOV_TOKEN }}}}

  security-scan:
    runs-on: ubuntu-latest
    needs: lint
    steps:
      - uses: {_uses(rng, "actions/checkout", "v4")}
      - run: pip install pip-audit && pip-audit -r requirements.txt
      - uses: {_uses(rng, "aquasecurity/trivy-action", "0.24.0")}
        with:
          scan-type: fs
          severity: CRITICAL,HIGH
          exit-code: "1"
"""


def _node_ci(rng: random.Random, n: int) -> str:
    return f"""name: Web app {n}
on:
  pull_request:
    paths: ["web/**"]
permissions:
  contents: read

jobs:
  build:
    name: Build and test
    runs-on: ubuntu-latest
    defaults:
      run:
        working-directory: web
    steps:
      - uses: {_uses(rng, "actions/checkout", "v4")}
      - uses: {_uses(rng, "actions/setup-node", "v4")}
        with:
          node-version: 20
          cache: npm
          cache-dependency-path: web/package-lock.json
      - run: npm ci
      - run: npm run lint
      - run: npm test -- --coverage
      - run: npm audit --audit-level=high
      - name: Report
        run: echo "Built ${{{{ github.head_ref }}}} for PR ${{{{ github.event.pull_request.number }}}}"
      - uses: {_uses(rng, "actions/upload-artifact", "v4")}
        with:
          name: web-dist
          path: web/dist
"""


def _release(rng: random.Random, n: int) -> str:
    return f"""name: Release {n}
on:
  push:
    tags: ["v*"]

permissions:
  contents: write
  packages: write
  id-token: write

jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: {_uses(rng, "actions/checkout", "v4")}
      - uses: {_uses(rng, "docker/setup-buildx-action", "v3")}
      - uses: {_uses(rng, "docker/login-action", "v3")}
        with:
          registry: ghcr.io
          username: ${{{{ github.actor }}}}
          password: ${{{{ secrets.GITHUB_TOKEN }}}}
      - uses: {_uses(rng, "docker/build-push-action", "v6")}
        with:
          push: true
          tags: ghcr.io/${{{{ github.repository }}}}:${{{{ github.ref_name }}}}
      - name: Publish notes
        env:
          GH_TOKEN: ${{{{ secrets.GITHUB_TOKEN }}}}
        run: gh release create "${{{{ github.ref_name }}}}" --generate-notes
"""


def _deploy(rng: random.Random, n: int) -> str:
    env = rng.choice(("production", "staging"))
    protected = "    environment: production\n" if rng.random() < 0.6 else ""
    return f"""name: Deploy {n}
on:
  workflow_dispatch:
    inputs:
      version:
        description: Version to deploy
        required: true
  push:
    branches: [main]

permissions:
  contents: read
  id-token: write

jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: {_uses(rng, "actions/checkout", "v4")}
      - run: make test

  deploy-{env}:
    runs-on: ubuntu-latest
    needs: [test]
{protected}    steps:
      - uses: {_uses(rng, "actions/checkout", "v4")}
      - uses: {_uses(rng, "aws-actions/configure-aws-credentials", "v4")}
        with:
          role-to-assume: arn:aws:iam::123456789012:role/deploy-{env}
          aws-region: eu-west-1
      - name: Deploy
        run: |
          echo "deploying ${{{{ inputs.version }}}} to {env}"
          ./scripts/deploy.sh {env} "${{{{ inputs.version }}}}"
      - name: Notify
        run: |
          curl -sf -X POST -H "Authorization: Bearer ${{{{ secrets.SLACK_TOKEN }}}}" https://hooks.example.com/deploy
"""


def _triage(rng: random.Random, n: int) -> str:
    return f"""name: Triage {n}
on:
  pull_request_target:
    types: [opened, edited, synchronize]

jobs:
  label:
    runs-on: ubuntu-latest
    permissions:
      pull-requests: write
    steps:
      - uses: {_uses(rng, "actions/labeler", "v5")}
      - name: Greet
        run: |
          echo "Thanks for the PR!"
          echo "Title: ${{{{ github.event.pull_request.title }}}}"
      - uses: {_uses(rng, "actions/checkout", "v4")}
        with:
          ref: ${{{{ github.event.pull_request.head.sha }}}}
      - run: ./scripts/check-format.sh
"""


def _codeql(rng: random.Random, n: int) -> str:
    return f"""name: CodeQL {n}
on:
  schedule:
    - cron: "{rng.randrange(60)} {rng.randrange(24)} * * 1"
  push:
    branches: [main]

permissions:
  contents: read
  security-events: write

jobs:
  analyze:
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        language: [python, javascript]
    steps:
      - uses: {_uses(rng, "actions/checkout", "v4")}
        with:
          persist-credentials: false
      - uses: {_uses(rng, "github/codeql-action/init", "v3")}
        with:
          languages: ${{{{ matrix.language }}}}
      - uses: {_uses(rng, "github/codeql-action/analyze", "v3")}
"""


WORKFLOW_TEMPLATES: tuple[Callable[[random.Random, int], str], ...] = (
    _python_ci, _python_ci, _node_ci, _release, _deploy, _triage, _codeql,
)


def workflows(count: int, seed: int = SEED) -> dict[str, str]:
    """`count` workflow files, name -> text."""
    rng = random.Random(seed + count)
    out: dict[str, str] = {}
    for n in range(count):
        template = rng.choice(WORKFLOW_TEMPLATES)
        out[f"{template.__name__.lstrip('_').replace('_', '-')}-{n:04d}.yml"] = template(rng, n)
    return out


# --------------------------------------------------------------------------- mixed repository


def _runbook(n: int, accepted: bool) -> str:
    status = "ACCEPTED" if accepted else "PROPOSED"
    tick = "x" if accepted else " "
    return f"""# PE-{100 + n}: Rotate the gateway signing keys

Status: {status}

## Goal Description
Rotate the JWT signing keys of the gateway without downtime and publish the new JWKS.

## Compliance Checklist
- [{tick}] @Security approved
- [x] @Architect approved
- [x] @QA approved
- [{tick}] @Docs approved
- [x] @Compliance approved
- [x] @Observability approved

## Proposed Changes
- [MODIFY] services/gateway/keys.py
- [NEW] services/gateway/jwks.py

## Verification Plan
- pytest services/gateway
- curl https://gateway.internal/.well-known/jwks.json

## Rollback
Re-publish the previous JWKS document and redeploy the previous release.
"""


def _deployment_report(n: int, ok: bool) -> str:
    status = "success" if ok else "rolled_back"
    return f"""---
tags: [deployment, release, agent/devops]
unit_id: "PE-{200 + n}"
project: "[[01-Projects/Gateway]]"
status: "{status}"
deployed: "2024-06-{(n % 27) + 1:02d} 14:{n % 60:02d}"
links:
  qa_report: "[[QA/QA-Report-PE-{200 + n}]]"
  artifacts: "ghcr.io/acme/gateway:1.{n}.0"
---

# Deployment Report — PE-{200 + n}

## Summary
- **Status:** {status.upper()}
- **Environment:** production
- **Version:** 1.{n}.0
- **Duration:** 7m
- **Deployer:** DevOps Agent

## Deployment Timeline
| Time | Action | Status |
|------|--------|--------|
| 14:00 | Started deployment | - |
| 14:02 | Artifacts deployed | SUCCESS |
| 14:04 | Migrations run | SUCCESS |
| 14:05 | Health check | {"PASS" if ok else "FAIL"} |
| 14:07 | Deployment complete | {"SUCCESS" if ok else "FAILED"} |

## Verification Results
| Check | Expected | Actual | Status |
|-------|----------|--------|--------|
| Health endpoint | 200 OK | 200 OK | PASS |
| Error rate | <1% | 0.1% | PASS |

## Rollback Status
- Rollback required: {"No" if ok else "Yes"}
- If yes: {"-" if ok else "health check failed after the migration"}
"""


def _alembic(n: int, reversible: bool) -> str:
    down = f"    op.drop_column('accounts', 'plan_{n}')" if reversible else "    pass"
    return f'''"""add plan column {n}

Revision ID: {n:012x}
Revises: {max(0, n - 1):012x}
"""
from alembic import op
import sqlalchemy as sa

revision = "{n:012x}"
down_revision = "{max(0, n - 1):012x}"


def upgrade():
    op.add_column("accounts", sa.Column("plan_{n}", sa.String(32), nullable=True))


def downgrade():
{down}
'''


def _trivy(n: int) -> dict[str, Any]:
    vulns = [{"VulnerabilityID": f"CVE-2024-{1000 + i}", "PkgName": "openssl",
              "InstalledVersion": "3.0.2", "FixedVersion": "3.0.14",
              "Severity": ("CRITICAL", "HIGH", "MEDIUM", "LOW")[i % 4],
              "Title": "openssl: issue"} for i in range(n)]
    return {"SchemaVersion": 2, "ArtifactName": "ghcr.io/acme/gateway:1.0.0",
            "ArtifactType": "container_image",
            "Results": [{"Target": "ghcr.io/acme/gateway:1.0.0 (debian 12.5)",
                         "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": vulns}]}


def _terraform_module(rng: random.Random, count: int) -> str:
    blocks = []
    for i in range(count):
        blocks.append(f'''resource "aws_security_group" "svc_{i}" {{
  name        = "svc-{i}"
  description = "service {i}"
  vpc_id      = var.vpc_id

  ingress {{
    from_port   = {rng.choice((22, 443))}
    to_port     = {rng.choice((22, 443))}
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }}

  tags = {{
    service     = "gateway"
    environment = "production"
  }}
}}
''')
    return 'variable "vpc_id" {\n  type = string\n}\n\n' + "\n".join(blocks)


def repository(scale: int, seed: int = SEED) -> dict[str, str]:
    """A repository of every kind, `scale` files of each, path -> text."""
    rng = random.Random(seed + scale)
    files: dict[str, str] = {}
    for name, text in workflows(scale, seed).items():
        files[f".github/workflows/{name}"] = text
    files["infra/main.tf"] = _terraform_module(rng, scale)
    files["infra/tfplan.json"] = json.dumps(terraform_plan(scale * 10, seed))
    for n in range(scale):
        files[f"docs/runbooks/PE-{100 + n}-runbook.md"] = _runbook(n, n % 3 != 0)
        files[f"deployments/Deploy-PE-{200 + n}.md"] = _deployment_report(n, n % 4 != 0)
        files[f"migrations/versions/{n:04d}_plan_{n}.py"] = _alembic(n, n % 3 != 0)
    for n in range(max(1, scale // 5)):
        files[f"db/{n:04d}_orders.up.sql"] = f"ALTER TABLE orders ADD COLUMN note_{n} text;\n"
        if n % 2 == 0:
            files[f"db/{n:04d}_orders.down.sql"] = f"ALTER TABLE orders DROP COLUMN note_{n};\n"
    files["reports/trivy.json"] = json.dumps(_trivy(scale), indent=2)
    files["coverage.xml"] = (
        '<?xml version="1.0" ?>\n<coverage version="7.5.3" line-rate="0.74" branch-rate="0.6" '
        'lines-covered="740" lines-valid="1000" timestamp="1718096400">\n'
        "  <packages/>\n</coverage>\n"
    )
    return files


# --------------------------------------------------------------------------- writing


def write_files(base: Path, files: dict[str, str]) -> None:
    """Write only what changed, so a re-run keeps file times (and peers' caches) stable."""
    for rel, text in files.items():
        target = base / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        target.write_text(text, encoding="utf-8")


def write_plan(path: Path, resources: int) -> Path:
    write_files(path.parent, {path.name: json.dumps(terraform_plan(resources))})
    return path


def write_workflows(directory: Path, count: int) -> Path:
    write_files(directory / ".github" / "workflows", workflows(count))
    (directory / ".git").mkdir(exist_ok=True)  # a repository root, as pe-policy expects
    return directory


def write_repository(directory: Path, scale: int) -> Path:
    write_files(directory, repository(scale))
    (directory / ".git").mkdir(exist_ok=True)
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "corpus")
    parser.add_argument("--resources", type=int, nargs="*", default=[1000])
    parser.add_argument("--workflows", type=int, nargs="*", default=[500])
    parser.add_argument("--repository", type=int, nargs="*", default=[20])
    args = parser.parse_args()
    for n in args.resources:
        print(write_plan(args.out / f"plan-{n}" / "tfplan.json", n))
    for n in args.workflows:
        print(write_workflows(args.out / f"workflows-{n}", n))
    for n in args.repository:
        print(write_repository(args.out / f"repo-{n}", n))


if __name__ == "__main__":
    main()
