"""PE-TF-001..006 on real `.tf` files and `terraform show -json` plans, through the real pipeline."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from pe_policy.config import DEFAULT_PARAMS, Config
from pe_policy.pipeline import CheckResult, check
from tests.conftest import FIXTURES, REPO, check_paths, line_of, rule_hits, run_cli

TF = FIXTURES / "terraform"
PLANS = FIXTURES / "terraform_plan"
WITH_CONFIG = PLANS / "bad" / "with-config"
TF_RULES = [f"PE-TF-00{n}" for n in range(1, 10)]


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def at(path: Path, needle: str, occurrence: int = 1) -> tuple[str, int]:
    return rel(path), line_of(path, needle, occurrence)


def in_changes(path: Path, address: str) -> tuple[str, int]:
    """Where a pretty-printed plan's resource change is: its `"address"` line in resource_changes."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(lines) if '"resource_changes"' in line)
    needle = f'"address": "{address}"'
    return rel(path), next(n + 1 for n in range(start, len(lines)) if needle in lines[n])


@pytest.fixture(scope="module")
def tf_bad(builtin_ruleset) -> CheckResult:  # type: ignore[no-untyped-def]
    return check_paths([TF / "bad"], ruleset=builtin_ruleset)


@pytest.fixture(scope="module")
def plan_bad(builtin_ruleset) -> CheckResult:  # type: ignore[no-untyped-def]
    return check_paths([PLANS / "bad" / "tfplan.json"], ruleset=builtin_ruleset)


@pytest.fixture(scope="module")
def plan_with_config(builtin_ruleset) -> CheckResult:  # type: ignore[no-untyped-def]
    return check_paths([WITH_CONFIG / "tfplan.json"], ruleset=builtin_ruleset)


# ---------------------------------------------------------------------------- good inputs


@pytest.mark.parametrize("path", [TF / "good", PLANS / "good"], ids=["tf", "plan"])
def test_good_fixtures_have_no_findings(path: Path, builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    result = check_paths([path], ruleset=builtin_ruleset)
    assert result.checked_paths
    assert [(f.rule_id, str(f.location), f.message) for f in result.findings] == []


# ---------------------------------------------------------------------------- .tf files


def test_tf_001_iam(tf_bad: CheckResult) -> None:
    iam = TF / "bad" / "iam" / "iam.tf"
    access = TF / "bad" / "iam" / "access.tf"
    assert rule_hits(tf_bad, "PE-TF-001") == sorted([
        at(iam, '"arn:aws:iam::aws:policy/AdministratorAccess",'),  # managed_policy_arns
        at(iam, 'Action   = "*"'),  # jsonencode statement
        at(iam, '"Action": ["dynamodb:*"]'),  # heredoc JSON statement
        at(iam, 'actions   = ["iam:PassRole", "ecs:RunTask"]'),  # policy document
        at(iam, 'policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"'),  # attachment
        at(access, 'Action   = ["ec2:*"]'),  # SSO permission set inline policy
        at(access, "Action   = var.ci_allowed_actions"),  # the variable's default is ["*"]
        at(access, "policy_arn = data.aws_iam_policy.admin.arn"),  # data source by name
        at(access, 'admin    = "arn:aws:iam::aws:policy/AdministratorAccess"'),  # module input
        at(access, 'actions = ["*"]'),  # ECR repository policy granting a partner everything
    ])
    messages = " ".join(f.message for f in tf_bad.active if f.rule_id == "PE-TF-001")
    assert 'allows "iam:PassRole" on Resource "*"' in messages
    assert "aws_iam_user_policy_attachment.break_glass_admin attaches the AdministratorAccess" in messages
    assert 'allows Action "*" (the default of var.ci_allowed_actions) on Resource "*"' in messages
    assert "module.incident_role passes the AdministratorAccess policy to the module in policies.admin" in messages


def test_tf_002_open_ingress(tf_bad: CheckResult) -> None:
    groups = TF / "bad" / "network" / "security_groups.tf"
    assert rule_hits(tf_bad, "PE-TF-002") == sorted([
        at(groups, 'cidr_blocks = ["0.0.0.0/0"]', occurrence=2),  # SSH, not the HTTPS one
        at(groups, 'ipv6_cidr_blocks  = ["::/0"]'),
        at(groups, 'cidr_ipv4         = "0.0.0.0/0"'),
    ])
    messages = sorted(f.message for f in tf_bad.active if f.rule_id == "PE-TF-002")
    assert any("from ::/0 to all ports (protocol -1)" in m for m in messages)
    assert any("ports 5000-6000, which include 5432 (PostgreSQL)" in m for m in messages)
    assert any("aws_security_group.jumpbox" in m and "port 22 (SSH)" in m for m in messages)


def test_tf_003_public_buckets(tf_bad: CheckResult) -> None:
    s3 = TF / "bad" / "storage" / "s3.tf"
    partial = line_of(s3, 'resource "aws_s3_bucket_public_access_block" "exports_partial"')
    assert rule_hits(tf_bad, "PE-TF-003") == sorted([
        at(s3, 'acl    = "public-read"'),
        at(s3, "block_public_acls       = false"),
        (rel(s3), partial),  # block_public_policy unset
        (rel(s3), partial),  # restrict_public_buckets unset
    ])


def test_tf_004_encryption(tf_bad: CheckResult) -> None:
    storage = TF / "bad" / "storage"
    assert rule_hits(tf_bad, "PE-TF-004") == sorted([
        at(storage / "database.tf", "storage_encrypted = false"),
        at(storage / "database.tf", 'resource "aws_ebs_volume" "scratch"'),
        at(storage / "database.tf", "ebs_block_device {"),
        # no finding for the S3 bucket without an SSE configuration: S3 encrypts with SSE-S3
        at(storage / "compute.tf", 'resource "aws_instance" "bastion"'),  # no root_block_device
        at(storage / "compute.tf", "root_block_device {"),  # encrypted = var.x, default false
        at(storage / "compute.tf", "content {"),  # dynamic "ebs_block_device" without encrypted
        at(storage / "compute.tf", "root_block_device {}"),  # launch configuration, empty block
        at(storage / "compute.tf", "ebs {"),  # launch template mapping without encrypted
        at(storage / "compute.tf", 'resource "aws_launch_template" "gpu"'),  # no mappings at all
    ])
    messages = [f.message for f in tf_bad.active if f.rule_id == "PE-TF-004"]
    assert ("aws_instance.batch: root_block_device 0 sets encrypted = false (the default of "
            "var.encrypt_scratch): set encrypted = true") in messages
    assert any(m.startswith('aws_instance.batch: dynamic "ebs_block_device" does not set encrypted')
               for m in messages)


def test_tf_004_s3_requires_kms_when_the_parameter_says_so(builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    params = copy.deepcopy(DEFAULT_PARAMS)
    params["s3_require_kms"] = True
    s3 = TF / "bad" / "storage" / "s3.tf"
    result = check([s3], REPO, config=Config(params=params), ruleset=builtin_ruleset)
    assert rule_hits(result, "PE-TF-004") == sorted([
        at(s3, 'sse_algorithm = "AES256"'),
        at(s3, 'resource "aws_s3_bucket" "exports"'),
    ])


def test_tf_006_required_tags(tf_bad: CheckResult) -> None:
    main = TF / "bad" / "tags" / "main.tf"
    assert rule_hits(tf_bad, "PE-TF-006") == sorted([
        at(main, "tags = {", occurrence=1),  # sqs: environment missing ("Owner" counts)
        at(main, 'resource "aws_lambda_function" "worker"'),  # no tags at all
        at(main, "tags = {", occurrence=2),  # sns: owner is empty
    ])
    lambda_finding = next(f for f in tf_bad.active if "aws_lambda_function" in f.message)
    assert "owner, service, environment" in lambda_finding.message


def test_tf_007_resource_policies_open_to_everyone(tf_bad: CheckResult) -> None:
    policies = TF / "bad" / "exposure" / "resource_policies.tf"
    assert rule_hits(tf_bad, "PE-TF-007") == sorted([
        at(policies, 'Principal = "*"'),  # S3 bucket policy, public read
        at(policies, "principals {"),  # SQS queue policy document without aws:SourceArn
        at(policies, '"Principal": {"AWS": "*"},'),  # SNS heredoc: a negated condition narrows nothing
        at(policies, 'Principal = { AWS = ["*"] }'),  # KMS key: decrypt for everyone
        at(policies, 'Principal = { AWS = "*" }', occurrence=1),  # OpenSearch domain outside a VPC
        at(policies, 'Principal = { AWS = "*" }', occurrence=2),  # role anyone may assume
        at(policies, 'principal     = "*"'),  # Lambda permission without source_arn
    ])
    messages = " ".join(f.message for f in tf_bad.active if f.rule_id == "PE-TF-007")
    assert 'aws_iam_role.cross_account_reader: trust policy statement 0 allows "sts:AssumeRole" to everyone' in messages
    assert ("aws_lambda_permission.webhook lets any AWS account call lambda:InvokeFunction on "
            "research-webhook") in messages


def test_tf_008_public_databases(tf_bad: CheckResult) -> None:
    databases = TF / "bad" / "exposure" / "databases.tf"
    assert rule_hits(tf_bad, "PE-TF-008") == sorted([
        at(databases, "publicly_accessible         = true"),
        at(databases, "publicly_accessible = var.reporting_public"),  # its default is true
    ])


def test_tf_009_credentials(tf_bad: CheckResult) -> None:
    main = TF / "bad" / "credentials" / "main.tf"
    assert rule_hits(tf_bad, "PE-TF-009") == sorted([
        at(main, "access_key = "),  # provider static credentials
        at(main, "secret_key = "),
        at(main, 'default     = "Res3arch!2024"'),  # var.db_password; not the secret's name below
        at(main, 'master_password     = "Mustbe8characters"'),  # a literal resource argument
        at(main, "user_data = <<-EOF"),  # keys exported in the boot script: one finding
    ])
    messages = [f.message for f in tf_bad.active if f.rule_id == "PE-TF-009"]
    assert any(m.startswith("var.db_password has a default value: a credential (password ********)")
               for m in messages)
    assert any("aws_instance.worker user_data: 2 credentials (AWS access key ID AKIA*" in m for m in messages)
    text = main.read_text()
    for value in ("Res3arch!2024", "Mustbe8characters", "q8Vb0Xz3LmT6yR1wN4pK7sD2fG5hJ9aE0cU3iO6Z"):
        assert value in text and not any(value in m for m in messages)


def test_tf_009_references_and_placeholders_are_fine(tmp_repo: Path, builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    (tmp_repo / "main.tf").write_text(
        'provider "aws" {\n'
        '  region     = "eu-west-1"\n'
        "  access_key = var.access_key\n"
        '  secret_key = "changeme"\n'
        "}\n"
        'variable "api_token" {\n'
        '  default = ""\n'
        "}\n"
        'variable "token_ttl" {\n'
        '  default = "3600s"\n'
        "}\n"
        'resource "aws_db_instance" "db" {\n'
        "  password = data.aws_secretsmanager_secret_version.db.secret_string\n"
        "  manage_master_user_password = true\n"
        "  storage_encrypted = true\n"
        "}\n", encoding="utf-8")
    result = check([tmp_repo / "main.tf"], tmp_repo, ruleset=builtin_ruleset)
    assert [f.message for f in result.active if f.rule_id == "PE-TF-009"] == []


def test_tf_syntax_error_is_reported_not_raised(tf_bad: CheckResult) -> None:
    broken = TF / "bad" / "syntax" / "unclosed.tf"
    assert rule_hits(tf_bad, "PE-PARSE") == [at(broken, 'resource "aws_s3_bucket" "other"')]


def test_admin_ports_come_from_the_parameters(builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    params = copy.deepcopy(DEFAULT_PARAMS)
    params["admin_ports"] = [3389]
    result = check([TF / "bad" / "network"], REPO, config=Config(params=params), ruleset=builtin_ruleset)
    messages = [f.message for f in result.active if f.rule_id == "PE-TF-002"]
    assert not any("port 22" in m for m in messages)
    assert any("all ports" in m for m in messages)  # protocol -1 exposes every port regardless


# -------------------------------------------------------------------------------- plans


def test_plan_findings_at_the_resource_changes(plan_bad: CheckResult) -> None:
    plan = PLANS / "bad" / "tfplan.json"
    expected = {
        "PE-TF-001": ["aws_iam_policy.ops"],
        "PE-TF-002": ["aws_security_group.rdp"],
        "PE-TF-003": ["aws_s3_bucket.reports", "aws_s3_bucket_acl.reports"],
        "PE-TF-004": ["aws_db_instance.reports", "aws_ebs_volume.scratch"],
        "PE-TF-005": ["aws_db_instance.reports", "aws_s3_bucket.legacy_exports"],
        "PE-TF-006": ["aws_instance.batch"],
    }
    for rule_id, addresses in expected.items():
        assert rule_hits(plan_bad, rule_id) == sorted(in_changes(plan, a) for a in addresses), rule_id
        # the address rides along: indices into resource_changes shift between plans, addresses don't
        found = sorted(f.properties["address"] for f in plan_bad.active if f.rule_id == rule_id)
        assert found == sorted(addresses), rule_id


def test_plan_005_names_the_action_and_the_cause(plan_bad: CheckResult) -> None:
    messages = sorted(f.message for f in plan_bad.active if f.rule_id == "PE-TF-005")
    assert messages[0].startswith("plan destroys aws_s3_bucket.legacy_exports, a stateful "
                                  "aws_s3_bucket (it was removed from the configuration)")
    assert messages[1].startswith("plan replaces aws_db_instance.reports, a stateful aws_db_instance "
                                  "(identifier forces replacement)")
    assert all("waiver" in m for m in messages)
    # the no-op on a stateful table and the create of new buckets need no approval
    assert not any("sessions" in m or "aws_s3_bucket.reports" in m for m in messages)


def test_plan_findings_map_to_the_configuration_beside(plan_with_config: CheckResult) -> None:
    main = WITH_CONFIG / "main.tf"
    storage = WITH_CONFIG / "modules" / "storage" / "main.tf"
    plan = WITH_CONFIG / "tfplan.json"
    assert plan_with_config.checked_paths == [rel(plan)]  # the .tf files are read, not checked
    assert rule_hits(plan_with_config, "PE-TF-001") == [at(main, 'Action   = "ecs:*"')]
    assert rule_hits(plan_with_config, "PE-TF-002") == [at(main, 'cidr_blocks = ["0.0.0.0/0"]', 2)]
    assert rule_hits(plan_with_config, "PE-TF-003") == [at(storage, 'resource "aws_s3_bucket"')]
    assert rule_hits(plan_with_config, "PE-TF-004") == []  # the module's bucket has SSE by reference
    assert rule_hits(plan_with_config, "PE-TF-006") == [at(main, "tags = {", occurrence=2)]
    # a replacement points at the attribute forcing it; a removed resource stays in the plan
    assert rule_hits(plan_with_config, "PE-TF-005") == sorted([
        at(main, 'identifier          = "content-prod-v2"'), (rel(plan), 1)])
    removed = next(f for f in plan_with_config.active
                   if f.rule_id == "PE-TF-005" and f.location.path == rel(plan))
    text = plan.read_text()
    assert removed.location.column == text.index('"address":"aws_dynamodb_table.sessions"',
                                                 text.index('"resource_changes"')) + 1


def test_one_rule_serves_plan_and_tf_alike(builtin_ruleset, plan_with_config: CheckResult) -> None:  # type: ignore[no-untyped-def]
    """The .tf file beside the plan yields the same findings at the same lines."""
    tf_result = check_paths([WITH_CONFIG / "main.tf"], ruleset=builtin_ruleset)
    for rule_id in ("PE-TF-001", "PE-TF-002", "PE-TF-006"):
        assert rule_hits(tf_result, rule_id) == rule_hits(plan_with_config, rule_id), rule_id
    plan_messages = {f.message for f in plan_with_config.active if f.rule_id == "PE-TF-002"}
    tf_messages = {f.message for f in tf_result.active if f.rule_id == "PE-TF-002"}
    assert plan_messages == tf_messages


def test_generated_plan_violations_are_all_found(tmp_repo: Path, builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    """A 600-resource plan with violations planted at known positions: each found once, right there."""
    from tests.tf_plan_factory import build_plan

    plan = build_plan(600)
    changes = plan["resource_changes"]
    planted = {1: "PE-TF-002", 3: "PE-TF-001", 4: "PE-TF-004", 5: "PE-TF-006"}
    changes[1]["change"]["after"]["ingress"][0]["cidr_blocks"] = ["0.0.0.0/0"]
    changes[1]["change"]["after"]["ingress"][0].update(from_port=22, to_port=22)
    changes[3]["change"]["after"]["policy"] = json.dumps(
        {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    changes[4]["change"]["after"]["encrypted"] = False
    del changes[5]["change"]["after"]["tags_all"]["owner"]
    text = json.dumps(plan, separators=(",", ":"))
    (tmp_repo / "tfplan.json").write_text(text)
    result = check([tmp_repo / "tfplan.json"], tmp_repo, ruleset=builtin_ruleset)
    tf_findings = [f for f in result.active if f.rule_id in TF_RULES]
    # every generated bucket lacks a public access block: those are expected too (and an SSE
    # configuration, which S3's default SSE-S3 makes unnecessary)
    buckets = [rc for rc in changes if rc["type"] == "aws_s3_bucket"]
    others = [f for f in tf_findings if f.rule_id != "PE-TF-003" or "S3 bucket" not in f.message]
    start = text.index('"resource_changes"')  # planned_values holds the same addresses before it
    assert sorted((f.rule_id, f.location.column) for f in others) == sorted(
        (rule_id, text.index(f'"address":"{changes[i]["address"]}"', start) + 1)
        for i, rule_id in planted.items())
    assert len(tf_findings) - len(others) == len(buckets)


def test_tf_005_waived_through_the_config(tmp_repo: Path) -> None:
    shutil.copy(PLANS / "bad" / "tfplan.json", tmp_repo / "tfplan.json")
    (tmp_repo / ".pe-policy.yaml").write_text(
        "waivers:\n"
        "  - rule: PE-TF-005\n"
        "    path: tfplan.json\n"
        '    owner: "@platform-team"\n'
        "    reason: reports database moves to the new identifier, CHG-2231\n"
        "    expires: 2999-12-31\n")
    result = run_cli(["check", "tfplan.json", "--format", "json"], cwd=tmp_repo)
    findings = json.loads(result.stdout)["findings"]
    waived = [f for f in findings if f["rule_id"] == "PE-TF-005"]
    assert len(waived) == 2
    assert all(f.get("suppression") for f in waived)
    assert any(f["rule_id"] == "PE-TF-001" and not f.get("suppression") for f in findings)


def test_demo_shows_terraform_findings(builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    main = FIXTURES / "demo" / "infra" / "main.tf"
    result = check_paths([FIXTURES / "demo"], ruleset=builtin_ruleset)
    assert rule_hits(result, "PE-TF-002") == [at(main, 'cidr_blocks = ["0.0.0.0/0"]', 2)]
    assert rule_hits(result, "PE-TF-004") == [at(main, 'resource "aws_db_instance" "gateway"')]


INSTANCES_TF = """\
resource "aws_kms_key" "ebs" {
  description         = "EBS volumes of the app hosts"
  enable_key_rotation = true
}

resource "aws_instance" "app" {
  ami           = "ami-0c55b159cbfafe1f0"
  instance_type = "t3.micro"

  root_block_device {
    volume_size = 50
  }
}

resource "aws_instance" "keyed" {
  ami           = "ami-0c55b159cbfafe1f0"
  instance_type = "t3.micro"

  root_block_device {
    volume_size = 50
    encrypted   = aws_kms_key.ebs.arn != ""
    kms_key_id  = aws_kms_key.ebs.arn
  }
}
"""


def _instance_change(name: str, encrypted_expression: dict | None) -> tuple[dict, dict]:  # type: ignore[type-arg]
    """A resource change and its configuration entry as `terraform show -json` writes them for
    an aws_instance whose root_block_device leaves `encrypted` to apply time."""
    root_config: dict = {"volume_size": {"constant_value": 50}}  # type: ignore[type-arg]
    if encrypted_expression is not None:
        root_config["encrypted"] = encrypted_expression
    address = f"aws_instance.{name}"
    change = {
        "address": address, "mode": "managed", "type": "aws_instance", "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": ["create"], "before": None,
            "after": {"ami": "ami-0c55b159cbfafe1f0", "instance_type": "t3.micro",
                      "root_block_device": [{"delete_on_termination": True, "tags": None,
                                             "volume_size": 50}],
                      "tags": None, "user_data_replace_on_change": False},
            "after_unknown": {"arn": True, "id": True, "ebs_block_device": True,
                              "root_block_device": [{"device_name": True, "encrypted": True,
                                                     "iops": True, "kms_key_id": True,
                                                     "throughput": True, "volume_id": True,
                                                     "volume_type": True}],
                              "tags_all": True},
            "before_sensitive": False, "after_sensitive": {"root_block_device": [{}]},
        },
    }
    config = {"address": address, "mode": "managed", "type": "aws_instance", "name": name,
              "provider_config_key": "aws", "schema_version": 1,
              "expressions": {"ami": {"constant_value": "ami-0c55b159cbfafe1f0"},
                              "instance_type": {"constant_value": "t3.micro"},
                              "root_block_device": [root_config]}}
    return change, config


def test_tf_004_plan_encrypted_known_after_apply_is_judged_from_the_configuration(
        tmp_repo: Path, builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    (tmp_repo / "main.tf").write_text(INSTANCES_TF, encoding="utf-8")
    app, app_config = _instance_change("app", None)
    keyed, keyed_config = _instance_change(
        "keyed", {"references": ["aws_kms_key.ebs.arn", "aws_kms_key.ebs"]})
    plan = {"format_version": "1.2", "terraform_version": "1.9.5",
            "resource_changes": [app, keyed],
            "configuration": {"provider_config": {"aws": {"name": "aws",
                                                           "full_name": "registry.terraform.io/hashicorp/aws"}},
                              "root_module": {"resources": [app_config, keyed_config]}}}
    (tmp_repo / "tfplan.json").write_text(json.dumps(plan, indent=2), encoding="utf-8")
    result = check([tmp_repo / "tfplan.json"], tmp_repo, ruleset=builtin_ruleset)
    main = tmp_repo / "main.tf"
    # app: encrypted is unset in the configuration (the account default decides); keyed: the
    # configuration computes it from the key, so it is not judged before apply
    assert [(f.location.path, f.location.line) for f in result.active if f.rule_id == "PE-TF-004"] == [
        ("main.tf", line_of(main, "root_block_device {", occurrence=1))]
