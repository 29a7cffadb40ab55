"""JUnit XML and GitHub annotation reporters."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from pe_policy.catalog import Catalog, RuleMeta
from pe_policy.findings import Finding, Location, Severity, Suppression
from pe_policy.pipeline import CheckResult
from pe_policy.reporters import ReportOptions, render
from pe_policy.reporters.github import escape_data, escape_property
from tests.conftest import REPO, run_cli

# What the common JUnit schema (junit-10.xsd) allows.
ALLOWED = {
    "testsuites": {"name", "tests", "failures", "errors", "skipped", "time", "disabled"},
    "testsuite": {"name", "tests", "failures", "errors", "skipped", "time", "disabled",
                  "timestamp", "hostname", "id", "package", "file"},
    "testcase": {"name", "classname", "time", "assertions", "status"},
    "failure": {"message", "type"},
    "error": {"message", "type"},
    "skipped": {"message"},
}
CHILDREN = {"testsuites": {"testsuite"}, "testsuite": {"testcase", "properties", "system-out",
                                                         "system-err"},
            "testcase": {"failure", "error", "skipped", "system-out", "system-err"},
            "failure": set(), "error": set(), "skipped": set()}


def _validate(root: ET.Element) -> None:
    for element in root.iter():
        assert set(element.attrib) <= ALLOWED[element.tag], (element.tag, element.attrib)
        assert {child.tag for child in element} <= CHILDREN[element.tag]
        if element.tag in ("testsuite", "testcase"):
            assert element.get("name")
    for element in [root, *root.findall("testsuite")]:
        cases = list(element.iter("testcase"))
        assert int(element.get("tests", "-1")) == len(cases)
        for tag, attr in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            assert int(element.get(attr, "-1")) == sum(1 for c in cases if c.find(tag) is not None)


def _result(tmp_path: Path) -> CheckResult:
    (tmp_path / "ci.yml").write_text("on: push\njobs:\n  a:\n    steps: []\n", encoding="utf-8")
    meta = RuleMeta(id="PE-X-001", title="Things are pinned", severity=Severity.HIGH,
                    kinds=("workflow",), remediation="Pin it.")
    other = RuleMeta(id="PE-X-002", title="Other rule", severity=Severity.LOW, kinds=("workflow",))
    findings = [
        Finding("PE-X-001", Severity.HIGH, "bad \x01 <thing> & \"quote\"", Location("ci.yml", 3, 3)),
        Finding("PE-X-001", Severity.HIGH, "waived one", Location("ci.yml", 4, 5),
                suppression=Suppression("external", "waived until 2030 by @sec")),
    ]
    from pe_policy.document import CheckedFile

    return CheckResult(findings=findings, catalog=Catalog([meta, other]), root=tmp_path,
                       files=[CheckedFile("ci.yml", "workflow")], checked_paths=["ci.yml", "clean.yml"],
                       problems=[("missing.yml", "no such file or directory")])


def test_junit_is_well_formed_and_counts_match(tmp_path: Path) -> None:
    text = render("junit", _result(tmp_path), ReportOptions())
    root = ET.fromstring(text.encode("utf-8"))
    _validate(root)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"ci.yml", "clean.yml", "pe-policy"}
    ci = suites["ci.yml"]
    failure = ci.find("testcase/failure")
    assert failure is not None
    assert failure.get("message") == "bad \ufffd <thing> & \"quote\""  # invalid XML char replaced
    assert "How to fix: Pin it." in (failure.text or "")
    assert "on: push" not in (failure.text or "")
    passing = [c.get("name") for c in ci.findall("testcase") if len(c) == 0]
    assert passing == ["PE-X-002: Other rule"]
    assert ci.find("testcase/skipped").get("message") == "waived until 2030 by @sec"
    assert suites["pe-policy"].find("testcase/error").get("message") == "no such file or directory"
    assert root.get("tests") == "4" and root.get("failures") == "1" and root.get("errors") == "1"


def test_junit_from_the_cli_parses() -> None:
    """`test -o junit` is conftest's JUnit (go-junit-report's layout): a suite per namespace,
    a case per result; its counts add up."""
    result = run_cli(["test", "infra/fixtures/bad/tfplan.json", "infra/fixtures/good/tfplan.json",
                      "-p", "infra/policy", "-o", "junit"], cwd=REPO)
    root = ET.fromstring(result.stdout.encode("utf-8"))
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == sum(1 for c in cases if c.find("failure") is not None)
    main = next(s for s in root.findall("testsuite") if s.get("name") == "conftest.main")
    names = [c.get("name") for c in main.findall("testcase")]
    assert any(str(n).startswith("infra/fixtures/bad/tfplan.json - ") for n in names)
    assert "infra/fixtures/good/tfplan.json" in names  # a passed rule: the file's name alone


def test_github_escaping() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert escape_data("a:b,c") == "a:b,c"


def test_github_annotations(tmp_path: Path) -> None:
    result = _result(tmp_path)
    result.findings.append(Finding("PE-X-002", Severity.LOW, "multi\nline: 100%",
                                   Location("dir,with:odd.yml", 7, 2, 7, 9)))
    lines = render("github", result, ReportOptions()).splitlines()
    assert lines[0] == "::error file=missing.yml,title=pe-policy::no such file or directory"
    assert "::error file=ci.yml,line=3,col=3,title=PE-X-001::[high] bad \x01 <thing> & \"quote\"" in lines
    assert ("::notice file=dir%2Cwith%3Aodd.yml,line=7,endLine=7,col=2,endColumn=9,"
            "title=PE-X-002::[low] multi%0Aline: 100%25") in lines
    assert not any("waived one" in line for line in lines)
