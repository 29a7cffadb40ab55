"""`pe-policy test`: conftest semantics, on real files, through the real CLI."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO, line_of, run_cli

INFRA = REPO / "infra"
BAD_PLAN = "infra/fixtures/bad/tfplan.json"
GOOD_PLAN = "infra/fixtures/good/tfplan.json"
SITE_PLAN = "infra/fixtures/website/tfplan.json"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_bad_plan_fails_with_lines_in_the_tf_file() -> None:
    result = run_cli(["test", BAD_PLAN, "--policy", "infra/policy"], cwd=REPO)
    tf = INFRA / "fixtures/bad/main.tf"
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    acl_line = line_of(tf, 'acl    = "public-read"')
    assert (f"FAIL - infra/fixtures/bad/main.tf:{acl_line} - main - "
            'aws_s3_bucket_acl.assets sets acl "public-read": S3 buckets must not be public; '
            "use a private ACL and serve through CloudFront") in lines
    assert any(line.startswith(f"FAIL - infra/fixtures/bad/main.tf:"
                               f"{line_of(tf, 'block_public_policy')} - main - ") for line in lines)
    assert any(line.startswith(f"WARN - infra/fixtures/bad/main.tf:{line_of(tf, 'tags = {')} - main")
               and '["cost-center"]' in line for line in lines)
    # conftest's count: 5 rule definitions in main; 4 results against them, 1 clean definition
    assert lines[-1] == "5 tests, 1 passed, 1 warning, 3 failures, 0 exceptions"


def test_good_plan_passes_every_rule_definition() -> None:
    result = run_cli(["test", GOOD_PLAN, "--policy", "infra/policy", "--all-namespaces"], cwd=REPO)
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines()[-1] == "7 tests, 7 passed, 0 warnings, 0 failures, 0 exceptions"


def test_exception_reports_instead_of_failing() -> None:
    result = run_cli(["test", SITE_PLAN, "--policy", "infra/policy"], cwd=REPO)
    assert result.exit_code == 0, result.stdout
    assert (f'EXCP - {SITE_PLAN}:1 - main - data.main.exception[_][_] == "public_bucket"'
            in result.stdout.splitlines())
    assert "FAIL" not in result.stdout
    # the excepted rule has 2 definitions: 1 excepted, 1 counted as passed (as conftest does)
    assert result.stdout.splitlines()[-1] == "5 tests, 4 passed, 0 warnings, 0 failures, 1 exception"


def test_second_namespace_and_all_namespaces() -> None:
    only = run_cli(["test", BAD_PLAN, "-p", "infra/policy", "-n", "destroy"], cwd=REPO)
    assert only.exit_code == 1
    assert all(" - destroy - " in line for line in only.stdout.splitlines()[:-2])
    assert "would be replaced" in only.stdout
    both = run_cli(["test", BAD_PLAN, "-p", "infra/policy", "--all-namespaces"], cwd=REPO)
    assert " - main - " in both.stdout and " - destroy - " in both.stdout


def _conftest_repo(tmp_repo: Path) -> Path:
    _write(tmp_repo / "policy" / "deployment.rego", """
        package main

        deny[msg] {
          input.kind == "Deployment"
          not input.spec.template.spec.securityContext.runAsNonRoot
          msg := sprintf("%s: containers must not run as root", [input.metadata.name])
        }

        deny_replicas[{"msg": msg, "path": ["spec", "replicas"], "team": "sre"}] {
          input.spec.replicas < 2
          msg := "run at least 2 replicas"
        }

        warn_latest[msg] {
          some i
          endswith(input.spec.template.spec.containers[i].image, ":latest")
          msg := "image uses the latest tag"
        }

        exception[rules] {
          input.metadata.labels.tier == "batch"
          rules := ["replicas"]
        }
        """)
    _write(tmp_repo / "deploy" / "api.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: api
          labels:
            tier: web
        spec:
          replicas: 1
          template:
            spec:
              containers:
                - name: api
                  image: registry.example.com/api:1.4.2
        """)
    _write(tmp_repo / "deploy" / "worker.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: worker
          labels:
            tier: batch
        spec:
          replicas: 1
          template:
            spec:
              securityContext:
                runAsNonRoot: true
              containers:
                - name: worker
                  image: registry.example.com/worker:latest
        """)
    return tmp_repo


def test_v0_policies_default_dir_and_namespace(tmp_repo: Path) -> None:
    repo = _conftest_repo(tmp_repo)
    result = run_cli(["test", "deploy/api.yaml", "deploy/worker.yaml"], cwd=repo)
    lines = result.stdout.splitlines()
    api = repo / "deploy" / "api.yaml"
    assert result.exit_code == 1
    assert f"FAIL - deploy/api.yaml:{line_of(api, 'replicas: 1')} - main - run at least 2 replicas" in lines
    assert "FAIL - deploy/api.yaml:1 - main - api: containers must not run as root" in lines
    assert any(line.startswith("WARN - deploy/worker.yaml:") for line in lines)
    assert 'EXCP - deploy/worker.yaml:1 - main - data.main.exception[_][_] == "replicas"' in lines
    assert lines[-1] == "6 tests, 2 passed, 1 warning, 2 failures, 1 exception"


def test_fail_on_warn_and_no_fail_exit_codes(tmp_repo: Path) -> None:
    repo = _conftest_repo(tmp_repo)
    warn_only = ["test", "deploy/worker.yaml"]
    assert run_cli(warn_only, cwd=repo).exit_code == 0
    assert run_cli([*warn_only, "--fail-on-warn"], cwd=repo).exit_code == 1
    failing = ["test", "deploy/api.yaml"]
    assert run_cli(failing, cwd=repo).exit_code == 1
    assert run_cli([*failing, "--fail-on-warn"], cwd=repo).exit_code == 2
    assert run_cli([*failing, "--no-fail"], cwd=repo).exit_code == 0


def test_json_output_has_conftest_shape_and_metadata(tmp_repo: Path) -> None:
    repo = _conftest_repo(tmp_repo)
    result = run_cli(["test", "deploy/api.yaml", "-o", "json"], cwd=repo)
    payload = json.loads(result.stdout)
    assert [(r["filename"], r["namespace"]) for r in payload] == [("deploy/api.yaml", "main")]
    failures = {f["msg"]: f for f in payload[0]["failures"]}
    replicas = failures["run at least 2 replicas"]
    assert replicas["loc"] == {"file": "deploy/api.yaml",
                               "line": line_of(repo / "deploy/api.yaml", "replicas: 1")}
    assert replicas["metadata"]["team"] == "sre"
    assert replicas["metadata"]["rule"] == "deny_replicas"
    assert payload[0]["successes"] == 1


def test_combine_evaluates_all_inputs_at_once(tmp_repo: Path) -> None:
    repo = _conftest_repo(tmp_repo)
    _write(repo / "combined" / "unique.rego", """
        package main

        import rego.v1

        deny contains {"msg": msg, "path": [j, "contents", "metadata", "name"]} if {
          some i, j
          input[i].contents.metadata.name == input[j].contents.metadata.name
          i < j
          msg := sprintf("%s is defined twice (%s)", [input[j].contents.metadata.name, input[j].path])
        }
        """)
    _write(repo / "dup.yaml", """
        kind: Deployment
        metadata:
          name: api
        """)
    result = run_cli(["test", "deploy/api.yaml", "dup.yaml", "--combine", "-p", "combined"],
                     cwd=repo)
    assert result.exit_code == 1
    assert (f"FAIL - dup.yaml:{line_of(repo / 'dup.yaml', 'name: api')} - main - "
            "api is defined twice (dup.yaml)") in result.stdout.splitlines()
    separate = run_cli(["test", "deploy/api.yaml", "dup.yaml", "-p", "combined"], cwd=repo)
    assert separate.exit_code == 0


def test_data_directory_and_parser(tmp_repo: Path) -> None:
    _write(tmp_repo / "policy" / "registry.rego", """
        package main

        import rego.v1

        deny contains msg if {
          not startswith(input.image, data.registries.allowed)
          msg := sprintf("image %s is not from %s", [input.image, data.registries.allowed])
        }
        """)
    _write(tmp_repo / "data" / "registries.yaml", "registries:\n  allowed: registry.example.com/\n")
    _write(tmp_repo / "image.txt", "image: docker.io/library/nginx\n")
    without_parser = run_cli(["test", "image.txt", "-d", "data"], cwd=tmp_repo)
    assert without_parser.exit_code == 2
    assert "pass --parser" in without_parser.stdout
    result = run_cli(["test", "image.txt", "-d", "data", "--parser", "yaml"], cwd=tmp_repo)
    assert result.exit_code == 1
    assert ("FAIL - image.txt:1 - main - image docker.io/library/nginx is not from "
            "registry.example.com/") in result.stdout


def test_policy_errors_are_usage_errors(tmp_repo: Path) -> None:
    _write(tmp_repo / "in.json", "{}\n")
    missing = run_cli(["test", "in.json"], cwd=tmp_repo)
    assert missing.exit_code == 2
    assert "policy directory not found" in missing.stderr
    broken = _write(tmp_repo / "policy" / "broken.rego", "package main\n\ndeny contains msg if {\n  msg :=\n}\n")
    result = run_cli(["test", "in.json"], cwd=tmp_repo)
    assert result.exit_code == 2
    assert "policy/broken.rego:" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert broken.exists()


@pytest.mark.parametrize("fmt", ["sarif", "junit", "github", "markdown"])
def test_every_reporter_renders_a_test_run(fmt: str) -> None:
    result = run_cli(["test", BAD_PLAN, "-p", "infra/policy", "-o", fmt], cwd=REPO)
    assert result.exit_code == 1
    assert "bastion allows SSH (port 22)" in result.stdout


def test_custom_rule_metadata_becomes_sarif_help() -> None:
    result = run_cli(["test", BAD_PLAN, "-p", "infra/policy", "-o", "sarif"], cwd=REPO)
    run = json.loads(result.stdout)["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    ssh = rules["main.deny_open_admin_port"]
    assert ssh["shortDescription"]["text"] == "No SSH or RDP from the internet"
    assert "brute-forced" in ssh["fullDescription"]["text"]
    assert ssh["defaultConfiguration"]["level"] == "error"
    assert ssh["properties"]["security-severity"] == "9.5"  # custom.severity: critical
    tags = rules["main.warn_missing_tags"]
    assert tags["defaultConfiguration"]["level"] == "note"
    result_ids = {r["ruleId"] for r in run["results"]}
    assert {"main.deny_open_admin_port", "main.deny_public_bucket"} <= result_ids
