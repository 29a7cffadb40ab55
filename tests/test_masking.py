"""Secrets never reach a report: not through a rule's message, its properties, or a code frame.

The fake credentials are assembled at run time, so this file holds no token-shaped literal for
a secret scanner to trip over.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pe_policy.findings import Finding, Location, Severity
from pe_policy.redact import redact
from pe_policy.reporters import FORMATS
from tests.conftest import run_cli

AWS_KEY = "AKIA" + "Z7XQ4MPL2R8TKW3N"
GITHUB_TOKEN = "ghp_" + "R4nd0mL00k1ngT0k3nV4lu3F0rT3st1ng9xQ"
PASSWORD = "Tr0ub4dor" + "&3x!"
KEY_BODY = "MIIEpAIBAAKCAQEA" + "x7Rk2Qb9Vt3Lm8Np4Hs6Jd1Fg5Ke0Wc2Yz7Ua3Ib9Oq4Pr6St"
SECRETS = (AWS_KEY, GITHUB_TOKEN, PASSWORD, KEY_BODY)

WORKFLOW = f"""\
name: Deploy
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  deploy:
    runs-on: ubuntu-latest
    env:
      AWS_ACCESS_KEY_ID: {AWS_KEY}
      GH_TOKEN: {GITHUB_TOKEN}
    steps:
      - run: ./deploy.sh --password={PASSWORD}
"""

REPORT = f"""\
---
unit_id: "PE-7"
status: "success"
deployed: "2024-06-11 14:05"
links:
  qa_report: "[[QA/QA-Report-PE-7]]"
---

# Deployment Report — PE-7

## Summary
- **Status:** SUCCESS
- **Environment:** production

## Issues Encountered
Deployed with `AWS_ACCESS_KEY_ID={AWS_KEY}` and `DB_PASSWORD={PASSWORD}`; the bot used
`{GITHUB_TOKEN}`. The deploy key was:

-----BEGIN RSA PRIVATE KEY-----
{KEY_BODY}
-----END RSA PRIVATE KEY-----
"""

# A careless user policy: quotes the values it looks at, secrets included.
LEAKY_REGO = """\
# METADATA
# title: Quotes environment values
# custom:
#   id: ACME-040
#   severity: high
#   kinds: [workflow]
package acme.leaky

import rego.v1

deny contains {"msg": sprintf("env %s is %s", [name, value]), "path": ["jobs", id, "env", name],
               "value": value} if {
	some id, job in input.jobs
	some name, value in job.env
}
"""

LEAKY_PY = """\
from pe_policy.engine.python_rules import Violation, rule


@rule("ACME-041", severity="high", kinds=["deployment_report", "workflow"], title="Quotes lines")
def quotes(doc, ctx):
    for number, line in enumerate((doc.text or "").splitlines(), start=1):
        if "--password=" in line or "DB_PASSWORD" in line or line.startswith("MIIE"):
            yield Violation(f"line {number} says: {line.strip()}", (),
                            properties={"quoted": [line, {"raw": line}]})
"""


@pytest.fixture
def leaky_repo(tmp_repo: Path) -> Path:
    (tmp_repo / ".github/workflows").mkdir(parents=True)
    (tmp_repo / ".github/workflows/deploy.yml").write_text(WORKFLOW, encoding="utf-8")
    (tmp_repo / "deployments").mkdir()
    (tmp_repo / "deployments/Deploy-PE-7.md").write_text(REPORT, encoding="utf-8")
    (tmp_repo / "policies").mkdir()
    (tmp_repo / "policies/leaky.rego").write_text(LEAKY_REGO, encoding="utf-8")
    (tmp_repo / "policies/leaky_rules.py").write_text(LEAKY_PY, encoding="utf-8")
    (tmp_repo / ".pe-policy.yaml").write_text("policies: [policies]\npython_rules: true\n",
                                              encoding="utf-8")
    return tmp_repo


@pytest.mark.parametrize("format_", FORMATS)
def test_no_format_prints_a_secret(leaky_repo: Path, format_: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # every annotation, not only the 30 most severe GitHub would show of a step
    monkeypatch.setattr("pe_policy.reporters.github.SHOWN_PER_LEVEL", 10_000)
    result = run_cli(["check", "--root", str(leaky_repo), "--format", format_, "--color",
                      str(leaky_repo)], cwd=leaky_repo)
    output = result.stdout + result.stderr
    for secret in SECRETS:
        assert secret not in output, f"{format_} printed {secret[:8]}..."
    # the findings are there, only masked: the leaky rules fired on both files
    assert "ACME-040" in output and "ACME-041" in output
    if format_ in ("text", "json", "sarif", "markdown"):
        assert "PE-DR-006" in output


def test_json_report_shows_masked_forms(leaky_repo: Path) -> None:
    result = run_cli(["check", "--root", str(leaky_repo), "--format", "json", str(leaky_repo)],
                     cwd=leaky_repo)
    findings = json.loads(result.stdout)["findings"]
    env = {f["json_path"][-1]: f for f in findings if f["rule_id"] == "ACME-040"}
    assert env["AWS_ACCESS_KEY_ID"]["message"].startswith("env AWS_ACCESS_KEY_ID is AKIA*")
    assert env["GH_TOKEN"]["properties"]["value"].startswith("ghp_*")
    quoted = [f for f in findings if f["rule_id"] == "ACME-041"]
    assert quoted and all("quoted" in f["properties"] for f in quoted)


def test_text_code_frames_are_masked(leaky_repo: Path) -> None:
    result = run_cli(["check", "--root", str(leaky_repo), str(leaky_repo / ".github")],
                     cwd=leaky_repo)
    frames = [ln for ln in result.stdout.splitlines() if "AWS_ACCESS_KEY_ID:" in ln and "|" in ln]
    assert frames and all("AKIA*" in ln for ln in frames)


@pytest.mark.parametrize("text", [
    f"token: {GITHUB_TOKEN}",
    f"export AWS_ACCESS_KEY_ID={AWS_KEY}",
    f"psql postgres://app:{PASSWORD}@db.internal/app",
    f"password={PASSWORD}",
    f"-----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\n-----END RSA PRIVATE KEY-----",
    f"-----BEGIN OPENSSH PRIVATE KEY----- {KEY_BODY}",  # cut off: the rest is hidden too
])
def test_finding_masks_its_message(text: str) -> None:
    finding = Finding("X-1", Severity.HIGH, f"found {text}", Location("a.yml", 3),
                      properties={"nested": {"list": [text]}})
    for secret in SECRETS:
        assert secret not in finding.message
        assert secret not in json.dumps(finding.properties)
    assert finding.message.startswith("found ")
    assert redact(finding.message) == finding.message  # idempotent: masking twice changes nothing


def test_ordinary_text_is_left_alone() -> None:
    for text in ("aws_kms_key.data has no rotation", "job 'deploy' needs `id-token: write`",
                 "password: ${{ secrets.DB_PASSWORD }}", "pin it as actions/checkout@<40-hex-sha>"):
        assert redact(text) == text
