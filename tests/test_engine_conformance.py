"""The same policies and inputs on every Rego engine give the same findings.

regorus is the reference.  The `opa` backend, talking to a real `opa run --server`
(the `opa_url` fixture, tests/reference_tools.py), must match it exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import REPO, line_of, run_cli

CHECK_ARGS = ["check", "fixtures", "infra/fixtures", "-f", "json"]
TEST_ARGS = ["test", "infra/fixtures/bad/tfplan.json", "infra/fixtures/good/tfplan.json",
             "infra/fixtures/website/tfplan.json", "-p", "infra/policy", "--all-namespaces",
             "-o", "json"]


def _findings(payload: Any) -> list[tuple[str, str, int, str]]:
    return sorted((f["rule_id"], f["location"]["path"], f["location"]["line"], f["message"])
                  for f in payload["findings"])


def _cli(args: list[str]) -> tuple[int, Any]:
    result = run_cli(args, cwd=REPO)
    return result.exit_code, json.loads(result.stdout)


def test_opa_matches_regorus_on_the_builtin_pack(opa_url: str) -> None:
    code, reference = _cli(CHECK_ARGS)
    opa_code, opa = _cli([*CHECK_ARGS, "--engine", "opa", "--opa-url", opa_url])
    assert _findings(opa) == _findings(reference)
    assert opa_code == code


def test_opa_matches_regorus_on_conftest_samples(opa_url: str) -> None:
    code, reference = _cli(TEST_ARGS)
    opa_code, opa = _cli([*TEST_ARGS, "--engine", "opa", "--opa-url", opa_url])
    assert opa == reference
    assert (opa_code, code) == (1, 1)


ACME_WORKFLOW = """name: release
on: push
env:
  API: 10.1.2.3
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo start
          make
          echo done
"""

ACME_POLICIES = {
    "cidr.rego": """# METADATA
# title: Internal API address
# custom:
#   id: ACME-101
#   severity: medium
#   kinds: [workflow]
package acme.cidr

import rego.v1

deny contains {"msg": "the API is an internal address", "path": ["env", "API"]} if {
	net.cidr_contains("10.0.0.0/8", input.env.API)
}
""",
    "dotall.rego": """# METADATA
# title: Multi-line echo
# custom:
#   id: ACME-102
#   severity: low
#   kinds: [workflow]
package acme.dotall

import rego.v1

deny contains {"msg": "echo spans lines", "path": ["jobs", "build", "steps", 0, "run"]} if {
	regex.match(`(?s)start.*done`, input.jobs.build.steps[0].run)
}
""",
}


def test_custom_policies_with_network_maths_and_re2_flags_on_both_engines(
        tmp_path: Path, opa_url: str) -> None:
    """A repository's own policies using `net.cidr_contains` and an RE2 flag (`(?s)`): the same
    findings, at the same lines, on regorus and on a real OPA."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    workflow = tmp_path / ".github" / "workflows" / "release.yml"
    workflow.write_text(ACME_WORKFLOW)
    (tmp_path / "policy" / "acme").mkdir(parents=True)
    for name, text in ACME_POLICIES.items():
        (tmp_path / "policy" / "acme" / name).write_text(text)
    (tmp_path / ".pe-policy.yaml").write_text("policies: [policy/acme]\nrules:\n  enable: [ACME]\n")
    expected = [("ACME-101", line_of(workflow, "API:")), ("ACME-102", line_of(workflow, "- run:"))]
    for engine in (["--engine", "regorus"], ["--engine", "opa", "--opa-url", opa_url]):
        result = run_cli(["check", ".", "-f", "json", *engine], cwd=tmp_path)
        findings = json.loads(result.stdout)["findings"]
        assert sorted((f["rule_id"], f["location"]["line"]) for f in findings) == expected, engine
