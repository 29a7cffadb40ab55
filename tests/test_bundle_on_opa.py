"""`pe-policy bundle`, loaded by the real OPA, decides as `pe-policy check` does.

The bundle is served by `opa run --server -b bundle.tar.gz`; for one file of each kind
that has Rego rules, the input is what `pe-policy parse` prints, each built-in package of
that kind is asked over OPA's REST API (`POST /v1/data/<package>`), and the messages of
its `deny`/`violation`/`warn` results must be the messages of the Rego findings `check`
reports for the same file.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pe_policy.engine.bundle import read_bundle
from pe_policy.engine.rego import parse_module
from tests.conftest import REPO, run_cli
from tests.reference_tools import opa_server

ONE_FILE_PER_KIND = {
    "workflow": "fixtures/workflow/bad/.github/workflows/unpinned.yml",
    "terraform": "fixtures/terraform/bad/network/security_groups.tf",
    "terraform_plan": "fixtures/terraform_plan/bad/tfplan.json",
    "deployment_report": "fixtures/deployment_report/bad/Deployments/Deploy-PE-24.md",
    "runbook": "fixtures/runbook/bad/PE-33-runbook.md",
    "scan_report": "fixtures/scan_report/bad/trivy.json",
    "coverage": "fixtures/coverage/bad/coverage.json",
    "pull_request": "fixtures/pull_request/bad/pull_request.opened.json",
}
RESULT_PREFIXES = ("deny", "violation", "warn")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "bundle.tar.gz"
    result = run_cli(["bundle", "-o", str(out)], cwd=REPO)
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def served(bundle: Path) -> Iterator[str]:
    with opa_server("--bundle", str(bundle)) as url:
        yield url


def packages_by_kind(bundle: Path) -> dict[str, set[str]]:
    """Built-in packages with result rules, by the kinds their METADATA names."""
    _manifest, _data, modules = read_bundle(bundle)
    by_kind: dict[str, set[str]] = {}
    for path, text in modules.items():
        if not path.startswith("pe-policy/"):
            continue
        module = parse_module(path, text)
        if module.result_rules:
            for kind in module.kinds:
                by_kind.setdefault(kind, set()).add(module.package)
    return by_kind


def ask(url: str, package: str, document: Any) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{url}/v1/data/{package.replace('.', '/')}?strict-builtin-errors=true",
        data=json.dumps({"input": document}).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read()).get("result") or {}


def decision_messages(url: str, packages: set[str], document: Any) -> list[str]:
    messages: list[str] = []
    for package in sorted(packages):
        for rule, value in ask(url, package, document).items():
            if rule.startswith(RESULT_PREFIXES):
                results = value if isinstance(value, list) else [value]
                messages.extend(r["msg"] if isinstance(r, dict) else str(r) for r in results)
    return sorted(messages)


def check_messages(path: str) -> list[str]:
    rules = json.loads(run_cli(["rules", "--format", "json"], cwd=REPO).stdout)
    rego_rules = {r["id"] for r in rules if r["engine"] == "rego"}
    report = json.loads(run_cli(["check", path, "-f", "json"], cwd=REPO).stdout)
    return sorted(f["message"] for f in report["findings"] if f["rule_id"] in rego_rules)


@pytest.mark.parametrize("kind", sorted(ONE_FILE_PER_KIND))
def test_opa_serving_the_bundle_decides_like_check(kind: str, bundle: Path, served: str) -> None:
    path = ONE_FILE_PER_KIND[kind]
    parsed = json.loads(run_cli(["parse", path], cwd=REPO).stdout)
    assert parsed["kind"] == kind
    packages = packages_by_kind(bundle)[kind]
    expected = check_messages(path)
    assert expected, f"{path} should break at least one Rego rule of {kind}"
    assert decision_messages(served, packages, parsed["input"]) == expected
