"""The repository's conftest policies give the same verdict under the real conftest and
under `pe-policy test`: same exit code, same failures and warnings per file and namespace.

(The full conftest differential suite is its own issue; this pins that the policies pe-policy
ships and tests are ones conftest itself runs unchanged.)
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import REPO, run_cli
from tests.reference_tools import run_tool

PLANS = ["infra/fixtures/bad/tfplan.json", "infra/fixtures/good/tfplan.json",
         "infra/fixtures/website/tfplan.json"]
ARGS = [*PLANS, "--policy", "infra/policy", "--all-namespaces", "-o", "json"]


def verdicts(results: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    """(file, namespace, failures|warnings, message); unit-test namespaces are conftest's own
    listing of `_test` packages with no rules for inputs, so they are left out."""
    return {(r["filename"], r["namespace"], key, item["msg"])
            for r in results if not r["namespace"].endswith("_test")
            for key in ("failures", "warnings") for item in r.get(key) or []}


def test_conftest_and_pe_policy_agree_on_the_infra_policies() -> None:
    real = run_tool("conftest", "test", *ARGS)
    ours = run_cli(["test", *ARGS], cwd=REPO)
    expected = verdicts(json.loads(real.stdout))
    assert expected, real.stderr  # the bad plan breaks rules in both namespaces
    assert {v[1] for v in expected} == {"main", "destroy"}
    assert verdicts(json.loads(ours.stdout)) == expected
    assert (ours.exit_code, real.returncode) == (1, 1)
