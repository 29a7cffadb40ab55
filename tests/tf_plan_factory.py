"""Build `terraform show -json`-shaped plans of any size, for speed and property tests.

The shape follows Terraform's JSON output format (format_version 1.2): planned
values, resource changes with before/after/after_unknown, prior state and the
configuration with expressions, so a generated plan costs what a real one does
to parse and evaluate.
"""

from __future__ import annotations

import json
from typing import Any

_KINDS = ("aws_instance", "aws_security_group", "aws_s3_bucket", "aws_iam_role_policy",
          "aws_ebs_volume", "aws_subnet")

_TAGS = {"owner": "platform", "service": "gateway", "environment": "production"}


def _values(kind: str, n: int) -> dict[str, Any]:
    tags = dict(_TAGS, Name=f"{kind}-{n}")
    if kind == "aws_instance":
        return {"ami": "ami-0c55b159cbfafe1f0", "instance_type": "t3.micro",
                "subnet_id": f"subnet-{n:08x}", "monitoring": True, "tags": tags, "tags_all": tags,
                "root_block_device": [{"encrypted": True, "volume_size": 20, "volume_type": "gp3",
                                       "delete_on_termination": True}],
                "metadata_options": [{"http_tokens": "required", "http_endpoint": "enabled"}]}
    if kind == "aws_security_group":
        return {"name": f"sg-{n}", "description": "app tier", "vpc_id": "vpc-0a1b2c3d",
                "ingress": [{"from_port": 443, "to_port": 443, "protocol": "tcp",
                             "cidr_blocks": ["10.0.0.0/8"], "ipv6_cidr_blocks": [],
                             "description": "https from the VPC", "prefix_list_ids": [],
                             "security_groups": [], "self": False}],
                "egress": [{"from_port": 0, "to_port": 0, "protocol": "-1",
                            "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": [],
                            "description": "", "prefix_list_ids": [], "security_groups": [],
                            "self": False}],
                "revoke_rules_on_delete": False, "tags": tags, "tags_all": tags}
    if kind == "aws_s3_bucket":
        return {"bucket": f"pe-data-{n}", "force_destroy": False, "object_lock_enabled": False,
                "tags": tags, "tags_all": tags}
    if kind == "aws_iam_role_policy":
        doc = {"Version": "2012-10-17", "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::pe-data-{n}", f"arn:aws:s3:::pe-data-{n}/*"]}]}
        return {"name": f"read-{n}", "role": f"role-{n}", "policy": json.dumps(doc)}
    if kind == "aws_ebs_volume":
        return {"availability_zone": "eu-west-1a", "size": 100, "type": "gp3",
                "encrypted": True, "final_snapshot": False, "tags": tags, "tags_all": tags}
    return {"vpc_id": "vpc-0a1b2c3d", "cidr_block": f"10.{n % 256}.{n // 256 % 256}.0/24",
            "map_public_ip_on_launch": False, "tags": tags, "tags_all": tags}


def build_plan(count: int, *, module: str | None = None) -> dict[str, Any]:
    """A plan creating `count` resources (a sixth of each kind), all compliant."""
    changes: list[dict[str, Any]] = []
    planned: list[dict[str, Any]] = []
    config: list[dict[str, Any]] = []
    for n in range(count):
        kind = _KINDS[n % len(_KINDS)]
        name = f"r{n}"
        address = f"{module + '.' if module else ''}{kind}.{name}"
        values = _values(kind, n)
        unknown = {"id": True, "arn": True}
        changes.append({
            "address": address, **({"module_address": module} if module else {}),
            "mode": "managed", "type": kind, "name": name,
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {"actions": ["create"], "before": None, "after": values,
                       "after_unknown": unknown, "before_sensitive": False,
                       "after_sensitive": {"tags": {}, "tags_all": {}}},
        })
        planned.append({"address": address, "mode": "managed", "type": kind, "name": name,
                        "provider_name": "registry.terraform.io/hashicorp/aws",
                        "schema_version": 0, "values": values, "sensitive_values": {}})
        config.append({"address": f"{kind}.{name}", "mode": "managed", "type": kind,
                       "name": name, "provider_config_key": "aws",
                       "expressions": {k: {"constant_value": v} for k, v in values.items()
                                       if not isinstance(v, list)},
                       "schema_version": 0})
    return {
        "format_version": "1.2",
        "terraform_version": "1.7.5",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws",
                                        "expressions": {"region": {"constant_value": "eu-west-1"}}}},
            "root_module": {"resources": config},
        },
        "timestamp": "2024-05-02T10:14:07Z",
        "applyable": True,
        "complete": True,
        "errored": False,
    }


def plan_text(count: int, *, indent: int | None = None) -> str:
    """The plan as `terraform show -json` writes it (one line) or pretty-printed."""
    separators = (",", ":") if indent is None else None
    return json.dumps(build_plan(count), indent=indent, separators=separators)
