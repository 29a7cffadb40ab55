"""PE-QG-001 (no critical/high vulnerabilities) and PE-QG-002 (line coverage) through the
real pipeline and the real Rego engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pe_policy.config import DEFAULT_PARAMS, Config
from pe_policy.pipeline import CheckResult, check
from tests.conftest import FIXTURES, REPO, check_paths, line_of, rule_hits, run_cli

SCANS = FIXTURES / "scan_report"
COVERAGE = FIXTURES / "coverage"


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def hit(name: str, needle: str, base: Path = SCANS / "bad") -> tuple[str, int]:
    return rel(base / name), line_of(base / name, needle)


def run(paths: list[Path], ruleset: Any, **params: Any) -> CheckResult:
    return check(paths, REPO, config=Config(params={**DEFAULT_PARAMS, **params}), ruleset=ruleset)


@pytest.fixture(scope="module")
def scans(builtin_ruleset):  # type: ignore[no-untyped-def]
    return check_paths([SCANS], ruleset=builtin_ruleset)


def test_one_finding_per_critical_or_high_vulnerability(scans: CheckResult) -> None:
    assert rule_hits(scans, "PE-QG-001") == sorted([
        hit("trivy.json", '"VulnerabilityID": "CVE-2020-14343"'),
        hit("trivy.json", '"VulnerabilityID": "CVE-2023-43804"'),
        hit("trivy.json", '"VulnerabilityID": "CVE-2024-26130"'),
        hit("trivy.json", '"VulnerabilityID": "CVE-2024-6345"'),
        hit("pip-audit.json", "PYSEC-2023-135"),  # one line of JSON, two findings on it
        hit("pip-audit.json", "GHSA-2g68-c3qc-8985"),
        hit("pip-audit-legacy.json", '"id": "GHSA-h5c8-rqwp-cp95"'),
        hit("npm-audit.json", "GHSA-35jh-r3h4-6jhm"),
        hit("npm-audit.json", "GHSA-xvch-5gv4-984h"),
        hit("npm-audit-v6.json", '"CVE-2021-23369"'),  # in its advisory's `cves`
        hit("snyk.sarif", '"ruleId": "SNYK-PYTHON-DJANGO-6370660"'),
        hit("trivy-image.sarif", '"ruleId": "CVE-2023-45853"'),
        hit("bandit.sarif", '"ruleId": "B602"'),
    ])
    good = [f for f in scans.findings if f.location.path.startswith("fixtures/scan_report/good/")]
    assert good == []


def test_messages_name_cve_package_and_fixed_version(scans: CheckResult) -> None:
    messages = sorted(f.message for f in scans.active if f.rule_id == "PE-QG-001")
    assert "CVE-2020-14343 in PyYAML 5.3.1 (critical, Trivy): upgrade PyYAML to 5.4" in messages
    assert ("PYSEC-2023-135 (CVE-2023-37920) in certifi 2022.12.7 (severity not reported, "
            "counted as high, pip-audit): upgrade certifi to 2023.7.22") in messages
    assert any(m.startswith("CVE-2024-6345 in setuptools 68.2.2 (high, Trivy): the report names "
                            "no fixed version") for m in messages)
    assert all(f.severity.value == "critical" for f in scans.active if f.rule_id == "PE-QG-001")


def test_pip_audit_finding_column_says_which_entry(scans: CheckResult) -> None:
    text = (SCANS / "bad/pip-audit.json").read_text()
    columns = sorted(f.location.column for f in scans.active
                     if f.location.path.endswith("bad/pip-audit.json"))
    assert columns == [text.index("PYSEC-2023-135") + 1, text.index("GHSA-2g68-c3qc-8985") + 1]


def test_threshold_and_unknown_severity_are_parameters(builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    paths = [SCANS / "bad/trivy.json", SCANS / "bad/pip-audit.json"]
    only_critical = run(paths, builtin_ruleset, scan_severity_threshold="critical")
    assert rule_hits(only_critical, "PE-QG-001") == [
        hit("trivy.json", '"VulnerabilityID": "CVE-2020-14343"')]
    medium = run(paths, builtin_ruleset, scan_unknown_severity="low",
                 scan_severity_threshold="medium")
    assert len(rule_hits(medium, "PE-QG-001")) == 5  # Trivy's 5, pip-audit's unknowns as low


def test_coverage_below_threshold(builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    result = check_paths([COVERAGE], ruleset=builtin_ruleset)
    assert rule_hits(result, "PE-QG-002") == sorted([
        hit("cobertura-coverage.xml", "<coverage ", COVERAGE / "bad"),
        hit("coverage.json", '"totals"', COVERAGE / "bad"),
    ])
    messages = sorted(f.message for f in result.active)
    assert messages[0].startswith("line coverage is 62.43% (108 of 173 lines), below the "
                                  "required 80%: add tests for the least-covered files: "
                                  "src/publish.ts 40.74%, src/editor.ts 69.32%")


def test_coverage_threshold_is_a_parameter(builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    assert rule_hits(run([COVERAGE], builtin_ruleset, coverage_threshold=60), "PE-QG-002") == []
    strict = run([COVERAGE], builtin_ruleset, coverage_threshold=90)
    assert len(rule_hits(strict, "PE-QG-002")) == 4  # 86% and 89% are no longer enough


def test_demo_has_one_failing_scan_report(tmp_path: Path) -> None:
    demo = FIXTURES / "demo"
    result = run_cli(["check", str(demo), "--root", str(demo), "--format", "json",
                      "--output", str(tmp_path / "out.json")])
    assert result.exit_code == 1
    import json

    findings = json.loads((tmp_path / "out.json").read_text())["findings"]
    qg = [(f["location"]["path"], f["location"]["line"]) for f in findings
          if f["rule_id"] == "PE-QG-001"]
    assert qg == [("reports/trivy.json", line_of(demo / "reports/trivy.json", "CVE-2023-43804"))]
