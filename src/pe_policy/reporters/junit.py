"""JUnit XML, the test report every CI system reads (Jenkins, GitLab, Azure, CircleCI...).

Shape (the common `junit-10.xsd`): `<testsuites>` → one `<testsuite>` per file
→ one `<testcase>` per finding (with `<failure>`; `<skipped>` when suppressed
or waived) and one passing `<testcase>` per rule that applied to the file and
found nothing, so a clean run still shows what was checked.  Inputs that could
not be checked are `<error>` test cases of a `pe-policy` suite.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import TYPE_CHECKING

from pe_policy.findings import Finding

if TYPE_CHECKING:
    from pe_policy.pipeline import CheckResult
    from pe_policy.reporters import ReportOptions

# Characters XML 1.0 forbids even escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _details(result: CheckResult, finding: Finding) -> str:
    meta = result.catalog.get(finding.rule_id)
    lines = [f"{finding.location}: {finding.rule_id} [{finding.severity.value}] {finding.message}"]
    source = result.source_line(finding.location.path, finding.location.line)
    if source is not None:
        lines.append(f"    {source.strip()}")
    if meta is not None and meta.remediation:
        lines.append(f"How to fix: {meta.remediation}")
    return "\n".join(lines)


def _testcase(suite: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", {"name": _clean(name), "classname": _clean(classname),
                                             "time": "0"})


def _fired_by_document(result: CheckResult) -> dict[str, set[str]]:
    """Rule IDs with a finding in each document, including findings located in another file.

    A plan's finding points at its `.tf` block, so "which rules passed on the plan" also
    counts the findings that name the plan as their `document`.
    """
    fired: dict[str, set[str]] = {file.path: set() for file in result.files}
    for finding in result.findings:
        for path in {finding.location.path, finding.properties.get("document")}:
            if path in fired:
                fired[path].add(finding.rule_id)
    return fired


def build(result: CheckResult) -> ET.Element:
    kinds = {f.path: f.kind for f in result.files}
    fired_in = _fired_by_document(result)
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        by_file[finding.location.path].append(finding)
    files = sorted({*result.checked_paths, *by_file})
    root = ET.Element("testsuites", {"name": "pe-policy"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for path in files:
        suite = ET.SubElement(root, "testsuite", {"name": _clean(path)})
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        findings = sorted(by_file.get(path, []), key=Finding.sort_key)
        fired = {f.rule_id for f in findings} | fired_in.get(path, set())
        kind = kinds.get(path)
        if kind is not None:
            for meta in result.catalog:
                if meta.engine == "internal" or meta.id in fired or not meta.applies_to(kind):
                    continue
                _testcase(suite, path, f"{meta.id}: {meta.title}")
                counts["tests"] += 1
        for finding in findings:
            loc = finding.location
            case = _testcase(suite, path, f"{finding.rule_id} at line {loc.line}"
                             + (f":{loc.column}" if loc.column else ""))
            counts["tests"] += 1
            if finding.suppression is not None:
                ET.SubElement(case, "skipped",
                              {"message": _clean(finding.suppression.justification)})
                counts["skipped"] += 1
            else:
                failure = ET.SubElement(case, "failure", {"message": _clean(finding.message),
                                                          "type": finding.severity.value})
                failure.text = _clean(_details(result, finding))
                counts["failures"] += 1
        _set_counts(suite, counts)
        for key in totals:
            totals[key] += counts[key]
    if result.problems:
        suite = ET.SubElement(root, "testsuite", {"name": "pe-policy"})
        for path, message in result.problems:
            case = _testcase(suite, "pe-policy", _clean(path))
            error = ET.SubElement(case, "error", {"message": _clean(message), "type": "input"})
            error.text = _clean(f"{path}: {message}")
        counts = {"tests": len(result.problems), "failures": 0, "errors": len(result.problems),
                  "skipped": 0}
        _set_counts(suite, counts)
        for key in totals:
            totals[key] += counts[key]
    _set_counts(root, totals)
    return root


def _set_counts(element: ET.Element, counts: dict[str, int]) -> None:
    for key in ("tests", "failures", "errors", "skipped"):
        element.set(key, str(counts[key]))
    element.set("time", "0")


def render(result: CheckResult, options: ReportOptions) -> str:
    root = build(result)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
