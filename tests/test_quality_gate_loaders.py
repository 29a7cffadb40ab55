"""Scan-report and coverage loaders on real report shapes: normalization, positions, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pe_policy.discover import detect_kind
from pe_policy.document import Document
from pe_policy.findings import ParseError
from pe_policy.loaders import Source, load_file, load_text
from pe_policy.loaders import coverage as coverage_loader
from pe_policy.loaders import scan_report as scan_loader
from pe_policy.models.coverage import CoverageReport
from pe_policy.models.scan_report import ScanReport, Vulnerability
from tests.conftest import FIXTURES, REPO, line_of

SCANS = FIXTURES / "scan_report"
COVERAGE = FIXTURES / "coverage"


def load(path: Path, kind: str = "scan_report") -> Document:
    return load_file(path, path.relative_to(REPO).as_posix(), kind, REPO)


def report(path: Path) -> tuple[Document, ScanReport]:
    doc = load(path)
    assert isinstance(doc.model, ScanReport)
    return doc, doc.model


def summary(v: Vulnerability) -> tuple[Any, ...]:
    return (v.id, v.package, v.installed_version, v.fixed_version, v.severity)


def located(doc: Document, index: int, vulnerability: Vulnerability) -> int:
    """The line a rule pointing at this vulnerability (with its ID as snippet) gets."""
    return doc.location(("vulnerabilities", index), vulnerability.id).line


# --- Trivy -----------------------------------------------------------------------------------

def test_trivy_filesystem_report() -> None:
    path = SCANS / "bad/trivy.json"
    doc, r = report(path)
    assert (r.format, r.tool, r.artifact) == ("trivy", "Trivy", ".")
    assert [summary(v) for v in r.vulnerabilities] == [
        ("CVE-2020-14343", "PyYAML", "5.3.1", "5.4", "critical"),
        ("CVE-2023-32681", "requests", "2.28.1", "2.31.0", "medium"),
        ("CVE-2023-43804", "urllib3", "1.26.5", "2.0.6, 1.26.17", "high"),
        ("CVE-2024-26130", "cryptography", "41.0.7", "42.0.4", "high"),
        ("CVE-2024-6345", "setuptools", "68.2.2", None, "high"),
    ]
    assert [v.target for v in r.vulnerabilities] == ["requirements.txt"] * 3 + ["poetry.lock"] * 2
    assert r.counts == {"critical": 1, "high": 3, "medium": 1, "low": 0, "unknown": 0}
    for index, v in enumerate(r.vulnerabilities):
        assert located(doc, index, v) == line_of(path, f'"VulnerabilityID": "{v.id}"')


def test_trivy_schema_v1_list(tmp_path: Path) -> None:
    results = json.loads((SCANS / "bad/trivy.json").read_text())["Results"]
    path = tmp_path / "trivy-v1.json"
    path.write_text(json.dumps(results, indent=2))
    r = load_file(path, "trivy-v1.json", "scan_report").model
    assert isinstance(r, ScanReport) and r.format == "trivy" and len(r.vulnerabilities) == 5


# --- pip-audit -------------------------------------------------------------------------------

def test_pip_audit_dependencies_shape() -> None:
    doc, r = report(SCANS / "bad/pip-audit.json")
    assert r.format == "pip-audit"
    assert [summary(v) for v in r.vulnerabilities] == [
        ("PYSEC-2023-135", "certifi", "2022.12.7", "2023.7.22", "unknown"),
        ("GHSA-2g68-c3qc-8985", "werkzeug", "3.0.1", "3.0.3", "unknown"),
    ]
    assert [v.cve for v in r.vulnerabilities] == ["CVE-2023-37920", "CVE-2024-34069"]
    # one line of JSON: the column says which entry
    text = (SCANS / "bad/pip-audit.json").read_text()
    assert doc.location(("vulnerabilities", 1), r.vulnerabilities[1].id).column == text.index(
        "GHSA-2g68-c3qc-8985") + 1


def test_pip_audit_list_shape() -> None:
    path = SCANS / "bad/pip-audit-legacy.json"
    doc, r = report(path)
    assert [summary(v) for v in r.vulnerabilities] == [
        ("GHSA-h5c8-rqwp-cp95", "jinja2", "3.1.2", "3.1.3", "unknown")]
    assert located(doc, 0, r.vulnerabilities[0]) == line_of(path, '"GHSA-h5c8-rqwp-cp95"')


# --- npm audit -------------------------------------------------------------------------------

def test_npm_audit_v7() -> None:
    path = SCANS / "bad/npm-audit.json"
    doc, r = report(path)
    assert r.format == "npm-audit"
    # one entry per advisory; `mkdirp` is only vulnerable through minimist's advisory
    assert [summary(v) for v in r.vulnerabilities] == [
        ("GHSA-35jh-r3h4-6jhm", "lodash", None, "4.17.21", "high"),
        ("GHSA-29mw-wpgm-hmr9", "lodash", None, "4.17.21", "medium"),
        ("GHSA-xvch-5gv4-984h", "minimist", None, "1.2.6", "critical"),
    ]
    assert r.reported_counts == {"low": 0, "medium": 0, "high": 1, "critical": 2}
    for index, v in enumerate(r.vulnerabilities):
        assert located(doc, index, v) == line_of(path, v.id)
    assert doc.location(("reported_counts",)).line == line_of(path, '"vulnerabilities": {', 2)


def test_npm_audit_v6() -> None:
    path = SCANS / "bad/npm-audit-v6.json"
    doc, r = report(path)
    (v,) = r.vulnerabilities
    assert summary(v) == ("CVE-2021-23369", "handlebars", "4.5.2", ">=4.7.7", "critical")
    assert v.aliases == ["GHSA-f2jv-r9rf-7988"]
    assert doc.location(("vulnerabilities", 0)).line == line_of(path, '"1179": {')


# --- SARIF -----------------------------------------------------------------------------------

def test_sarif_security_severity_description_cve_and_fix() -> None:
    _, r = report(SCANS / "bad/snyk.sarif")
    assert (r.format, r.tool, r.tool_version) == ("sarif", "Snyk Open Source", "1.1293.1")
    django, idna = r.vulnerabilities
    assert summary(django) == ("SNYK-PYTHON-DJANGO-6370660", "django", "4.2.7", "4.2.11", "high")
    assert (django.cve, django.reported_severity) == ("CVE-2024-27351", "7.5")
    assert (idna.severity, idna.cve) == ("medium", "CVE-2024-3651")


def test_sarif_from_trivy_reads_the_message_lines() -> None:
    path = SCANS / "bad/trivy-image.sarif"
    doc, r = report(path)
    zlib, apt = r.vulnerabilities
    assert summary(zlib) == ("CVE-2023-45853", "zlib1g", "1:1.2.13.dfsg-1", None, "critical")
    assert summary(apt) == ("CVE-2011-3374", "apt", "2.6.1", None, "low")
    assert located(doc, 0, zlib) == line_of(path, '"ruleId": "CVE-2023-45853"')


def test_sarif_level_and_suppressions() -> None:
    _, bandit = report(SCANS / "bad/bandit.sarif")
    (v,) = bandit.vulnerabilities
    assert (v.id, v.severity, v.target, v.package) == (
        "B602", "high", "src/gateway/tasks/export.py:88", None)
    _, codeql = report(SCANS / "good/codeql-triaged.sarif")
    assert [(v.severity, v.suppressed) for v in codeql.vulnerabilities] == [
        ("high", True), ("low", False)]
    assert codeql.counts["high"] == 0


def sarif(result: dict[str, Any], rule: dict[str, Any] | None = None) -> str:
    driver: dict[str, Any] = {"name": "scanner", "rules": [rule] if rule else []}
    return json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": driver},
                                                     "results": [result]}]}, indent=1)


@pytest.mark.parametrize(("result", "rule", "expected"), [
    ({"ruleId": "R", "properties": {"security-severity": "9.1"}, "level": "note"},
     {"id": "R", "properties": {"security-severity": "2.0"}}, "critical"),
    ({"ruleId": "R", "level": "note"}, {"id": "R", "properties": {"security-severity": "7.0"}},
     "high"),
    ({"ruleId": "R", "level": "note"}, {"id": "R", "defaultConfiguration": {"level": "error"}},
     "low"),
    ({"ruleId": "R"}, {"id": "R", "defaultConfiguration": {"level": "error"}}, "high"),
    ({"ruleId": "R"}, None, "medium"),  # SARIF's default level is warning
    ({"ruleId": "R/sub", "level": "none"}, None, "low"),
])
def test_sarif_severity_precedence(result: dict[str, Any], rule: dict[str, Any] | None,
                                   expected: str) -> None:
    r = load_text(sarif(result, rule), "r.sarif", "scan_report").model
    assert isinstance(r, ScanReport) and r.vulnerabilities[0].severity == expected


def test_sarif_passing_results_are_not_vulnerabilities() -> None:
    r = load_text(sarif({"ruleId": "R", "kind": "pass", "level": "error"}), "r.sarif",
                  "scan_report").model
    assert isinstance(r, ScanReport) and r.vulnerabilities == []


# --- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "line", "needle"), [
    ('{"SchemaVersion": 2,\n "Results": [\n  {"Target": "x",\n   "Vulnerabilities": 5}]}',
     4, "Vulnerabilities: expected an array"),
    ('{"SchemaVersion": 2,\n "Results": [ }', 2, "invalid JSON"),
    ('{"dependencies": [\n {"name": "a", "version": "1",\n  "vulns": [{"id": ["x"]}]}]}',
     3, "expected a string"),
    ('{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},\n "results": [\n'
     '  {"ruleId": "R",\n   "properties": {"security-severity": "high"}}]}]}',
     4, "expected a CVSS score"),
    ('{"name": "pe-gateway", "version": "0.4.0"}', 1, "not a scan report"),
])
def test_malformed_reports_are_parse_errors_at_the_line(text: str, line: int, needle: str) -> None:
    with pytest.raises(ParseError) as info:
        load_text(text, "reports/scan.json", "scan_report")
    assert info.value.line == line and needle in info.value.message


# --- coverage --------------------------------------------------------------------------------

def cov(path: Path) -> tuple[Document, CoverageReport]:
    doc = load(path, "coverage")
    assert isinstance(doc.model, CoverageReport)
    return doc, doc.model


def test_cobertura_from_coverage_py() -> None:
    path = COVERAGE / "good/coverage.xml"
    doc, c = cov(path)
    assert (c.format, c.tool_version, c.line_percent) == ("cobertura", "7.5.1", 86.26)
    assert (c.lines_covered, c.lines_valid, c.branch_percent) == (339, 393, None)
    assert [p.name for p in c.packages] == ["gateway", "gateway.routes"]
    assert len(c.files) == 8
    app = c.files[1]
    assert (app.path, app.package, app.lines_covered, app.lines_valid) == (
        "gateway/app.py", "gateway", 58, 62)
    assert doc.location(("line_percent",)).line == line_of(path, "<coverage ")
    assert doc.location(("files", 1)).line == line_of(path, 'filename="gateway/app.py"')


def test_cobertura_from_istanbul_with_doctype() -> None:
    path = COVERAGE / "bad/cobertura-coverage.xml"
    _, c = cov(path)  # the external DTD is named, never fetched
    assert (c.line_percent, c.branch_percent) == (62.43, 48.43)
    # method <lines> repeat class lines: only the class's own are counted
    assert [(f.path, f.lines_valid) for f in c.files] == [
        ("src/editor.ts", 88), ("src/publish.ts", 54), ("src/slug.ts", 31)]


def test_cobertura_rate_computed_when_absent() -> None:
    text = ('<coverage version="1"><packages><package name="p"><classes>'
            '<class name="a" filename="a.py"><lines><line number="1" hits="2"/>'
            '<line number="2" hits="0"/><line number="3" hits="1"/><line number="4" hits="0"/>'
            '</lines></class></classes></package></packages></coverage>')
    c = load_text(text, "coverage.xml", "coverage").model
    assert isinstance(c, CoverageReport)
    assert (c.line_percent, c.lines_covered, c.lines_valid) == (50.0, 2, 4)


def test_cobertura_nan_rate_of_an_empty_run_is_full_coverage() -> None:
    text = '<coverage line-rate="NaN" lines-valid="0" lines-covered="0" branch-rate="NaN"/>'
    c = load_text(text, "coverage.xml", "coverage").model
    assert isinstance(c, CoverageReport) and (c.line_percent, c.branch_percent) == (100.0, None)


def test_coverage_py_json_line_coverage_not_the_combined_total() -> None:
    path = COVERAGE / "bad/coverage.json"
    doc, c = cov(path)
    assert (c.format, c.tool_version, c.line_percent) == ("coverage.py", "7.4.4", 65.99)
    assert (c.lines_covered, c.lines_valid) == (196, 297)
    assert [(f.path, f.line_percent) for f in c.files][:2] == [
        ("src/agent/__init__.py", 100.0), ("src/agent/planner.py", 67.13)]
    text = path.read_text()
    assert doc.location(("line_percent",)).column == text.index('"totals"') + 1  # its key
    branchy = json.loads(text)
    branchy["meta"]["branch_coverage"] = True
    branchy["totals"].update(num_branches=40, covered_branches=10, percent_covered=55.0)
    c2 = load_text(json.dumps(branchy), "coverage.json", "coverage").model
    assert isinstance(c2, CoverageReport)
    assert (c2.line_percent, c2.total_percent, c2.branch_percent) == (65.99, 55.0, 25.0)


BOMB = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
        ' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n]>\n'
        '<coverage line-rate="&lol2;"/>\n')
EXTERNAL = ('<?xml version="1.0"?>\n<!DOCTYPE coverage [\n'
            ' <!ENTITY secret SYSTEM "file:///etc/passwd">\n]>\n'
            '<coverage line-rate="1"><sources><source>&secret;</source></sources></coverage>\n')


@pytest.mark.parametrize(("text", "line", "needle"), [
    (BOMB, 3, "XML refused"),
    (EXTERNAL, 3, "XML refused"),
    ('<?xml version="1.0"?>\n<coverage line-rate="0.9">\n  <packages>\n</coverage>\n', 4,
     "invalid XML"),
    ('<?xml version="1.0"?>\n<report line-rate="0.9"/>\n', 2, "expected <coverage>"),
    ('<coverage\n  line-rate="eighty"/>', 1, "line-rate='eighty' is not a number"),
    ('<coverage line-rate="1.5"/>', 1, "not a rate between 0 and 1"),
    ('<coverage version="7"/>', 1, "no line-rate"),
    ('{"meta": {}, "totals": {"covered_lines": 5, "num_statements": 3}}', 1, "covered lines"),
    ('{"meta": {},\n "files": {}}', 1, "no `totals`"),
    ('{"totals": {\n  "percent_covered": "90"}}', 2, "expected a number"),
])
def test_malformed_coverage_is_a_parse_error(text: str, line: int, needle: str) -> None:
    with pytest.raises(ParseError) as info:
        load_text(text, "coverage.xml" if text.startswith("<") else "coverage.json", "coverage")
    assert needle in info.value.message
    assert info.value.line == line


def test_kind_detection_by_content(tmp_path: Path) -> None:
    for source, name in [
        (SCANS / "bad/trivy.json", "trivy-fs.json"),
        (SCANS / "bad/pip-audit-legacy.json", "audit.json"),
        (SCANS / "bad/npm-audit-v6.json", "npm.json"),
        (SCANS / "bad/bandit.sarif", "bandit-results.json"),
        (COVERAGE / "bad/coverage.json", "cov-report.json"),
        (COVERAGE / "bad/cobertura-coverage.xml", "jest-cobertura.xml"),
    ]:
        target = tmp_path / name
        target.write_text(source.read_text())
        expected = "coverage" if source.parent.parent.name == "coverage" else "scan_report"
        assert detect_kind(target, f"reports/{name}") == expected, name
    # a big coverage.json: `totals` comes after the sniffed head, `meta` does not
    big = json.loads((COVERAGE / "bad/coverage.json").read_text())
    big["files"].update({f"src/m{i}.py": big["files"]["src/agent/tools.py"] for i in range(60)})
    (tmp_path / "cov-big.json").write_text(json.dumps(big))
    assert detect_kind(tmp_path / "cov-big.json", "reports/cov-big.json") == "coverage"


# --- fuzzing: anything in, a Document or a ParseError out -----------------------------------

REPORTS = sorted(p for p in SCANS.rglob("*") if p.is_file())
COVERAGE_FILES = sorted(p for p in COVERAGE.rglob("*") if p.is_file())
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8,
)


def _load(module: Any, text: str, path: str, kind: str) -> None:
    """The loader itself (not load_text, which would turn a crash into a ParseError)."""
    try:
        doc = module.load(Source(path=path, text=text, kind=kind))
    except ParseError as exc:
        assert exc.line >= 1
        return
    doc.input  # noqa: B018 - serializes
    doc.location(("vulnerabilities", 0), "x")


def _paths(data: Any) -> list[tuple[Any, ...]]:
    """Paths to every node (only the first few items of a list: line lists are long)."""
    out: list[tuple[Any, ...]] = []
    stack: list[tuple[tuple[Any, ...], Any]] = [((), data)]
    while stack:
        path, node = stack.pop()
        out.append(path)
        if isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in enumerate(node[:3]))
    return out


def _mutate(data: Any, draw: Any) -> Any:
    """The report's shape with random JSON values put at a few random places."""
    paths = _paths(data)
    for _ in range(draw(st.integers(1, 5))):
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        parent = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            parent[path[-1]] = draw(JSON_VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement removed this place
    return data


# 200 examples unless the active profile (e.g. `--hypothesis-profile`) asks for more
FUZZ = settings(max_examples=max(200, settings.default.max_examples), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.data())
def test_fuzz_scan_reports_with_random_values(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(REPORTS))
    mutated = _mutate(json.loads(path.read_text()), data.draw)
    _load(scan_loader, json.dumps(mutated), path.name, "scan_report")


@FUZZ
@given(st.data())
def test_fuzz_coverage_json_with_random_values(data: st.DataObject) -> None:
    path = COVERAGE / data.draw(st.sampled_from(["good/coverage.json", "bad/coverage.json"]))
    mutated = _mutate(json.loads(path.read_text()), data.draw)
    _load(coverage_loader, json.dumps(mutated), "coverage.json", "coverage")


@FUZZ
@given(st.data())
def test_fuzz_mutated_text(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(REPORTS + COVERAGE_FILES))
    text = path.read_text()
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 30))
        insert = data.draw(st.sampled_from(["", "{", "}", "[", "]", '"', ",", "<", ">", "&lol;",
                                            "<!ENTITY x 'y'>", "NaN", "-1", "1e999", "\n"]))
        text = text[:at] + insert + text[at + cut:]
    module, kind = ((coverage_loader, "coverage") if path in COVERAGE_FILES
                    else (scan_loader, "scan_report"))
    _load(module, text, path.name, kind)


def test_a_class_outside_classes_is_not_counted() -> None:
    """Found by the mutation fuzzer: <lines> under a <class> that is not in <classes> crashed."""
    text = ('<?xml version="1.0"?>\n<coverage line-rate="0.5">\n<packages><package name="p">\n'
            '<class name="stray"><lines><line number="1" hits="1"/></lines></class>\n'
            '<classes><class name="a" filename="a.py" line-rate="0.5"><lines>\n'
            '<line number="1" hits="1"/><line number="2" hits="0"/></lines></class></classes>\n'
            '</package></packages></coverage>\n')
    doc = coverage_loader.load(Source(path="coverage.xml", text=text, kind="coverage"))
    files = doc.input["files"]
    assert [(f["path"], f["lines_covered"], f["lines_valid"]) for f in files] == [("a.py", 1, 2)]


@FUZZ
@given(st.text(max_size=300), st.sampled_from(["<coverage ", "{", "[", ""]))
def test_fuzz_arbitrary_text(text: str, prefix: str) -> None:
    _load(scan_loader, prefix + text, "scan.json", "scan_report")
    _load(coverage_loader, prefix + text, "coverage.xml", "coverage")
