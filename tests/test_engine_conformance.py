"""The same policies and inputs on every available Rego engine give the same findings.

regorus is the reference.  The `opa` backend (a real OPA when PE_POLICY_OPA_URL
is set, else the REST stub) must match it exactly, and so must regopy (rego-cpp,
run in a subprocess as a second line of defence: the backend already forks each
query, as rego-cpp 1.5 can crash).  What regopy cannot run must say so on the
document (PE-RULE-ERROR, naming the construct and the policy file), never be a
silently missing finding.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pe_policy.engine.evaluate import RULE_ERROR_ID
from tests.conftest import REPO, line_of, run_cli
from tests.opa_stub import opa_stub

CHECK_ARGS = ["check", "fixtures", "infra/fixtures", "-f", "json"]
TEST_ARGS = ["test", "infra/fixtures/bad/tfplan.json", "infra/fixtures/good/tfplan.json",
             "infra/fixtures/website/tfplan.json", "-p", "infra/policy", "--all-namespaces",
             "-o", "json"]


@pytest.fixture(scope="module")
def opa_url() -> Iterator[str]:
    real = os.environ.get("PE_POLICY_OPA_URL")
    if real:
        yield real
        return
    with opa_stub() as (url, _state):
        yield url


def _findings(payload: Any) -> list[tuple[str, str, int, str]]:
    return sorted((f["rule_id"], f["location"]["path"], f["location"]["line"], f["message"])
                  for f in payload["findings"])


def _outcomes(payload: Any) -> list[tuple[str, str, str, str, int]]:
    out = []
    for result in payload:
        for key in ("failures", "warnings", "exceptions"):
            for item in result.get(key, []):
                loc = item.get("loc", {})
                out.append((key, result["namespace"], item["msg"], loc.get("file", ""),
                            loc.get("line", 0)))
    return sorted(out)


def _cli(args: list[str]) -> tuple[int, Any]:
    result = run_cli(args, cwd=REPO)
    return result.exit_code, json.loads(result.stdout)


def _subprocess(args: list[str]) -> tuple[int, Any]:
    proc = subprocess.run([sys.executable, "-m", "pe_policy", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode >= 0, f"the engine crashed (signal {-proc.returncode}): {proc.stderr}"
    return proc.returncode, json.loads(proc.stdout)


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


@pytest.mark.skipif(importlib.util.find_spec("regopy") is None, reason="regopy not installed")
def test_regopy_matches_regorus_on_the_builtin_pack() -> None:
    """Every finding of the built-in pack on every fixture: same rule, file, line and message
    (floats included), and nothing regopy could not evaluate."""
    code, reference = _cli(CHECK_ARGS)
    regopy_code, regopy = _subprocess([*CHECK_ARGS, "--engine", "regopy"])
    ref, other = _findings(reference), _findings(regopy)
    assert len(ref) > 100
    assert [f for f in other if f[0] == RULE_ERROR_ID] == []
    assert other == ref
    assert regopy_code == code


def _set_as_array(outcome: tuple[str, str, str, str, int]) -> tuple[str, str, str, str, int]:
    """`sprintf("%v", [{"a"}])`: OPA and rego-cpp print a set as `{"a"}`, regorus as `["a"]`."""
    kind, namespace, msg, file, line = outcome
    return kind, namespace, re.sub(r'\{("[^"{}]*"(?:, "[^"{}]*")*)\}', r"[\1]", msg), file, line


@pytest.mark.skipif(importlib.util.find_spec("regopy") is None, reason="regopy not installed")
def test_regopy_matches_regorus_on_conftest_samples() -> None:
    code, reference = _cli(TEST_ARGS)
    regopy_code, regopy = _subprocess([*TEST_ARGS, "--engine", "regopy"])
    assert [_set_as_array(o) for o in _outcomes(regopy)] == _outcomes(reference)
    assert regopy_code == code


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


@pytest.mark.skipif(importlib.util.find_spec("regopy") is None, reason="regopy not installed")
def test_what_regopy_cannot_run_is_an_error_finding_naming_it(tmp_path: Path) -> None:
    """A built-in rego-cpp lacks (net.cidr_contains) and an RE2 flag std::regex lacks ((?s)):
    regorus finds both; regopy reports each as PE-RULE-ERROR naming the construct and the
    policy file, never as a clean result."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    workflow = tmp_path / ".github" / "workflows" / "release.yml"
    workflow.write_text(ACME_WORKFLOW)
    (tmp_path / "policy" / "acme").mkdir(parents=True)
    for name, text in ACME_POLICIES.items():
        (tmp_path / "policy" / "acme" / name).write_text(text)
    (tmp_path / ".pe-policy.yaml").write_text("policies: [policy/acme]\nrules:\n  enable: [ACME]\n")
    args = ["check", ".", "-f", "json"]
    reference = json.loads(run_cli(args, cwd=tmp_path).stdout)["findings"]
    assert sorted((f["rule_id"], f["location"]["line"]) for f in reference) == [
        ("ACME-101", line_of(workflow, "API:")), ("ACME-102", line_of(workflow, "- run:"))]
    proc = subprocess.run([sys.executable, "-m", "pe_policy", *args, "--engine", "regopy"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    errors = {f["properties"]["failed_rule"]: f["message"]
              for f in json.loads(proc.stdout)["findings"] if f["rule_id"] == RULE_ERROR_ID}
    assert set(errors) == {"ACME-101", "ACME-102"}
    assert "(acme/cidr.rego)" in errors["ACME-101"]
    assert "built-in net.cidr_contains not available in regopy" in errors["ACME-101"]
    assert "(acme/dotall.rego)" in errors["ACME-102"]
    assert "cannot run the RE2 pattern `(?s)start.*done`: unsupported flag (?s)" in errors["ACME-102"]


VERIFIED_WITH_REGOPY = ["policies/runbook", "policies/deployment_report", "policies/coverage"]


@pytest.mark.skipif(importlib.util.find_spec("regopy") is None, reason="regopy not installed")
def test_regopy_passes_the_unit_tests_regorus_passes() -> None:
    """`pe-policy verify --engine regopy` on packs whose tests exercise rego-cpp's bugs (`with
    input as` over built-ins, `with data.pe.params as` a rule, iteration inside a call, floats):
    the same passes as regorus (the whole pack: `pe-policy verify --engine regopy policies`,
    minutes; see the README, Engines)."""
    reference = run_cli(["verify", *VERIFIED_WITH_REGOPY], cwd=REPO)
    proc = subprocess.run([sys.executable, "-m", "pe_policy", "verify", *VERIFIED_WITH_REGOPY,
                           "--engine", "regopy"],
                          cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert reference.exit_code == 0
    assert proc.stdout.splitlines()[-1] == reference.stdout.splitlines()[-1], proc.stdout
    assert proc.returncode == 0
