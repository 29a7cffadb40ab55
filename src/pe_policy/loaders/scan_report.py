"""Security scan reports: Trivy JSON, pip-audit JSON, npm audit JSON (v6 and v7+), SARIF.

Each is normalized into `ScanReport.vulnerabilities`; the source map points each
vulnerability at its entry in the report file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import ValidationError

from pe_policy.document import Document
from pe_policy.findings import JsonPath, ParseError
from pe_policy.loaders import NotOfKind, Source
from pe_policy.loaders.json_reader import JsonReader
from pe_policy.models.scan_report import (
    ReportFormat,
    ScanReport,
    Vulnerability,
    first_cve,
    normalize_severity,
    severity_from_score,
    tally,
)

Entry = tuple[JsonPath, dict[str, Any]]  # (path of the entry in the report, Vulnerability fields)


def detect_format(data: Any) -> ReportFormat | None:
    if isinstance(data, dict):
        if isinstance(data.get("runs"), list) and (
                "sarif" in str(data.get("$schema", "")).lower() or data.get("version") == "2.1.0"):
            return "sarif"
        if "SchemaVersion" in data or "Results" in data:
            return "trivy"
        if "auditReportVersion" in data or "advisories" in data:
            return "npm-audit"
        if isinstance(data.get("dependencies"), list):
            return "pip-audit"
    elif isinstance(data, list):
        first = data[0] if data else {}
        if isinstance(first, dict) and "Target" in first:
            return "trivy"  # schema v1: a bare list of results
        if not data or (isinstance(first, dict) and ("vulns" in first or "name" in first)):
            return "pip-audit"  # before pip-audit 2.x's {"dependencies": [...]}
    return None


# --- Trivy ---------------------------------------------------------------------------------

def _trivy(r: JsonReader) -> tuple[dict[str, Any], list[Entry]]:
    data = r.data
    results_path: JsonPath = ()
    header: dict[str, Any] = {}
    if isinstance(data, list):
        results = data
    else:
        results_path = ("Results",)
        results = r.arr(data.get("Results"), results_path)
        header = {"artifact": r.text(data.get("ArtifactName"), ("ArtifactName",))}
        trivy = r.obj(data.get("Trivy"), ("Trivy",))
        header["tool_version"] = r.text(trivy.get("Version"), ("Trivy", "Version"))
    entries: list[Entry] = []
    for ri, result in enumerate(results):
        rpath = (*results_path, ri)
        result = r.obj(result, rpath, optional=False)
        target = r.text(result.get("Target"), (*rpath, "Target"))
        vulns_path = (*rpath, "Vulnerabilities")
        for vi, vuln in enumerate(r.arr(result.get("Vulnerabilities"), vulns_path)):
            path = (*vulns_path, vi)
            vuln = r.obj(vuln, path, optional=False)
            vid = r.text(vuln.get("VulnerabilityID"), (*path, "VulnerabilityID")) or "?"
            aliases = r.texts(vuln.get("VendorIDs"), (*path, "VendorIDs"))
            severity = r.text(vuln.get("Severity"), (*path, "Severity"))
            entries.append((path, {
                "id": vid, "aliases": aliases, "cve": first_cve(vid, *aliases),
                "package": r.text(vuln.get("PkgName"), (*path, "PkgName")),
                "installed_version": r.text(vuln.get("InstalledVersion"),
                                            (*path, "InstalledVersion")),
                "fixed_version": r.text(vuln.get("FixedVersion"), (*path, "FixedVersion")),
                "severity": normalize_severity(severity), "reported_severity": severity,
                "title": r.text(vuln.get("Title"), (*path, "Title")),
                "url": r.text(vuln.get("PrimaryURL"), (*path, "PrimaryURL")),
                "target": target, "tool": "Trivy",
            }))
    return {"tool": "Trivy", **header}, entries


# --- pip-audit -------------------------------------------------------------------------------

def _pip_audit(r: JsonReader) -> tuple[dict[str, Any], list[Entry]]:
    data = r.data
    deps_path: JsonPath = ("dependencies",) if isinstance(data, dict) else ()
    deps = r.arr(data.get("dependencies") if isinstance(data, dict) else data, deps_path)
    entries: list[Entry] = []
    for di, dep in enumerate(deps):
        dpath = (*deps_path, di)
        dep = r.obj(dep, dpath, optional=False)
        name = r.text(dep.get("name"), (*dpath, "name"))
        version = r.text(dep.get("version"), (*dpath, "version"))
        for vi, vuln in enumerate(r.arr(dep.get("vulns"), (*dpath, "vulns"))):
            path = (*dpath, "vulns", vi)
            vuln = r.obj(vuln, path, optional=False)
            vid = r.text(vuln.get("id"), (*path, "id")) or "?"
            aliases = r.texts(vuln.get("aliases"), (*path, "aliases"))
            fixes = r.texts(vuln.get("fix_versions"), (*path, "fix_versions"))
            # pip-audit grades nothing; a future field is honoured if it appears
            severity = r.text(vuln.get("severity"), (*path, "severity"))
            description = r.text(vuln.get("description"), (*path, "description"))
            entries.append((path, {
                "id": vid, "aliases": aliases, "cve": first_cve(vid, *aliases),
                "package": name, "installed_version": version,
                "fixed_version": ", ".join(fixes) or None,
                "severity": normalize_severity(severity), "reported_severity": severity,
                "title": description.splitlines()[0][:200] if description else None,
                "tool": "pip-audit",
            }))
    return {"tool": "pip-audit"}, entries


# --- npm audit -------------------------------------------------------------------------------

_UPPER_BOUND = re.compile(r"^\s*(?:>=?\s*\S+\s+)?<\s*(\d[^\s|]*)\s*$")
_GHSA = re.compile(r"GHSA(?:-[0-9a-z]{4}){3}", re.IGNORECASE)


def fixed_from_range(vulnerable: str | None) -> str | None:
    """`<4.17.21` or `>=2.0.0 <2.3.1` → the first fixed version; anything else: unknown."""
    match = _UPPER_BOUND.match(vulnerable or "")
    return match.group(1) if match else None


def _npm_counts(r: JsonReader) -> dict[str, int] | None:
    metadata = r.obj(r.data.get("metadata"), ("metadata",))
    path = ("metadata", "vulnerabilities")
    raw = r.obj(metadata.get("vulnerabilities"), path)
    if not raw:
        return None
    counts: dict[str, int] = {}
    for word, value in raw.items():
        if word == "total":
            continue
        number = r.number(value, (*path, word), optional=False)
        level = normalize_severity(word)
        counts[level] = counts.get(level, 0) + int(number or 0)
    return counts


def _npm_v7(r: JsonReader) -> Iterator[Entry]:
    seen: set[tuple[str, str | None]] = set()
    vulns = r.obj(r.data.get("vulnerabilities"), ("vulnerabilities",))
    for name, entry in vulns.items():
        epath: JsonPath = ("vulnerabilities", name)
        entry = r.obj(entry, epath, optional=False)
        fix = entry.get("fixAvailable")
        for k, via in enumerate(r.arr(entry.get("via"), (*epath, "via"))):
            if not isinstance(via, dict):
                continue  # a package name: vulnerable through that package's own entry
            path = (*epath, "via", k)
            url = r.text(via.get("url"), (*path, "url"))
            ghsa = _GHSA.search(url or "")
            vid = ghsa.group(0) if ghsa else f"npm-{r.text(via.get('source'), (*path, 'source'))}"
            package = r.text(via.get("name"), (*path, "name")) or name
            if (vid, package) in seen:
                continue
            seen.add((vid, package))
            severity = r.text(via.get("severity"), (*path, "severity"))
            fixed = fixed_from_range(r.text(via.get("range"), (*path, "range")))
            if fixed is None and isinstance(fix, dict) and fix.get("name") == package:
                fixed = r.text(fix.get("version"), (*epath, "fixAvailable", "version"))
            yield path, {
                "id": vid, "cve": first_cve(vid), "package": package, "fixed_version": fixed,
                "severity": normalize_severity(severity), "reported_severity": severity,
                "title": r.text(via.get("title"), (*path, "title")), "url": url,
                "tool": "npm audit",
            }


def _npm_v6(r: JsonReader) -> Iterator[Entry]:
    advisories = r.obj(r.data.get("advisories"), ("advisories",))
    for key, advisory in advisories.items():
        path: JsonPath = ("advisories", key)
        advisory = r.obj(advisory, path, optional=False)
        cves = r.texts(advisory.get("cves"), (*path, "cves"))
        ghsa = r.text(advisory.get("github_advisory_id"), (*path, "github_advisory_id"))
        ids = [*cves, *([ghsa] if ghsa else [])] or [f"npm-{advisory.get('id', key)}"]
        versions: list[str] = []
        for fi, finding in enumerate(r.arr(advisory.get("findings"), (*path, "findings"))):
            finding = r.obj(finding, (*path, "findings", fi), optional=False)
            version = r.text(finding.get("version"), (*path, "findings", fi, "version"))
            if version and version not in versions:
                versions.append(version)
        patched = r.text(advisory.get("patched_versions"), (*path, "patched_versions"))
        severity = r.text(advisory.get("severity"), (*path, "severity"))
        yield path, {
            "id": ids[0], "aliases": ids[1:], "cve": first_cve(*ids),
            "package": r.text(advisory.get("module_name"), (*path, "module_name")),
            "installed_version": ", ".join(versions) or None,
            "fixed_version": None if patched in (None, "<0.0.0") else patched,
            "severity": normalize_severity(severity), "reported_severity": severity,
            "title": r.text(advisory.get("title"), (*path, "title")),
            "url": r.text(advisory.get("url"), (*path, "url")), "tool": "npm audit",
        }


def _npm_audit(r: JsonReader) -> tuple[dict[str, Any], list[Entry]]:
    entries = list(_npm_v7(r) if "auditReportVersion" in r.data else _npm_v6(r))
    return {"tool": "npm audit", "reported_counts": _npm_counts(r)}, entries


# --- SARIF -----------------------------------------------------------------------------------

_MESSAGE_FIELDS = {  # Trivy's SARIF writes these lines into each result's message
    "package": re.compile(r"^[ \t]*Package:[ \t]*(\S+)", re.MULTILINE),
    "installed_version": re.compile(r"^[ \t]*Installed Version:[ \t]*(\S+)", re.MULTILINE),
    "fixed_version": re.compile(r"^[ \t]*Fixed Version:[ \t]*(\S+)", re.MULTILINE),
}
_FIX_VERSION = re.compile(r"(?:@|\bversion\s+|\bto\s+v?)(\d[\w.+:~-]*)", re.IGNORECASE)
_CVE_IN_TEXT = re.compile(r"\bCVE-\d{4}-\d{4,}\b", re.IGNORECASE)
_PACKAGE_AT_VERSION = re.compile(r"^(@?[^@\s]+)@([^@\s]+)$")  # Snyk: django@4.2.7
_SKIPPED_KINDS = frozenset({"pass", "notApplicable", "informational"})


def _score(r: JsonReader, properties: dict[str, Any], path: JsonPath) -> float | None:
    value = properties.get("security-severity")
    if value is None:
        return None
    try:
        score = float(value)
    except (TypeError, ValueError):
        raise r.fail((*path, "security-severity"),
                     f"expected a CVSS score, found {value!r}") from None
    if not 0.0 <= score <= 10.0:
        raise r.fail((*path, "security-severity"), f"CVSS score {score} is not within 0-10")
    return score


def _sarif_rules(r: JsonReader, driver: dict[str, Any], dpath: JsonPath) -> list[dict[str, Any]]:
    rules = []
    for index, item in enumerate(r.arr(driver.get("rules"), (*dpath, "rules"))):
        rules.append(r.obj(item, (*dpath, "rules", index), optional=False))
    return rules


def _sarif_rule(rules: list[dict[str, Any]], result: dict[str, Any],
                rule_id: str | None) -> int | None:
    """The index of the result's rule in the driver's `rules`: by ruleIndex, else by id."""
    index = result.get("ruleIndex")
    if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(rules):
        return index
    for position, candidate in enumerate(rules):
        if rule_id is not None and candidate.get("id") in (rule_id, rule_id.split("/")[0]):
            return position
    return None


def _sarif_severity(r: JsonReader, rule: dict[str, Any], rule_path: JsonPath,
                    result: dict[str, Any], path: JsonPath) -> tuple[str, str | None]:
    """result `security-severity` > rule `security-severity` > result level > rule default
    level > SARIF's default level `warning`."""
    result_props = r.obj(result.get("properties"), (*path, "properties"))
    score = _score(r, result_props, (*path, "properties"))
    if score is None:
        props_path = (*rule_path, "properties")
        score = _score(r, r.obj(rule.get("properties"), props_path), props_path)
    if score is not None:
        return severity_from_score(score), f"{score:g}"
    level = r.text(result.get("level"), (*path, "level"))
    if level is None:
        default_path = (*rule_path, "defaultConfiguration")
        default = r.obj(rule.get("defaultConfiguration"), default_path)
        level = r.text(default.get("level"), (*default_path, "level"))
    level = level or "warning"
    return normalize_severity(level), level


def _sarif(r: JsonReader) -> tuple[dict[str, Any], list[Entry]]:
    entries: list[Entry] = []
    tools: list[str] = []
    version: str | None = None
    for ri, run in enumerate(r.arr(r.data.get("runs"), ("runs",))):
        rpath: JsonPath = ("runs", ri)
        run = r.obj(run, rpath, optional=False)
        dpath = (*rpath, "tool", "driver")
        driver = r.obj(r.obj(run.get("tool"), (*rpath, "tool")).get("driver"), dpath)
        tool = r.text(driver.get("name"), (*dpath, "name")) or "SARIF"
        if tool not in tools:
            tools.append(tool)
        version = version or r.text(driver.get("semanticVersion") or driver.get("version"),
                                    (*dpath, "version"))
        rules = _sarif_rules(r, driver, dpath)
        for xi, result in enumerate(r.arr(run.get("results"), (*rpath, "results"))):
            path = (*rpath, "results", xi)
            result = r.obj(result, path, optional=False)
            if result.get("kind") in _SKIPPED_KINDS:
                continue
            rule_ref = r.obj(result.get("rule"), (*path, "rule"))
            rule_id = (r.text(result.get("ruleId"), (*path, "ruleId"))
                       or r.text(rule_ref.get("id"), (*path, "rule", "id")))
            rule_index = _sarif_rule(rules, result, rule_id)
            rule = rules[rule_index] if rule_index is not None else {}
            rule_path: JsonPath = (*dpath, "rules", rule_index) if rule_index is not None else ()
            severity, reported = _sarif_severity(r, rule, rule_path, result, path)
            message = r.obj(result.get("message"), (*path, "message"))
            text = r.text(message.get("text"), (*path, "message", "text")) or ""
            found = {field: m.group(1) for field, p in _MESSAGE_FIELDS.items()
                     if (m := p.search(text))}
            fix = _sarif_fix(r, result, path)
            if fix is not None and "fixed_version" not in found:
                found["fixed_version"] = fix
            for field, value in _sarif_package(r, result, path).items():
                found.setdefault(field, value)  # Trivy's message lines win
            vid = rule_id or "?"
            short = r.obj(rule.get("shortDescription"), (*rule_path, "shortDescription"))
            full = r.obj(rule.get("fullDescription"), (*rule_path, "fullDescription"))
            described = _CVE_IN_TEXT.search(" ".join(
                str(d.get("text", "")) for d in (short, full)))
            entries.append((path, {
                "id": vid, "cve": first_cve(vid, *([described.group(0)] if described else [])),
                "package": found.get("package"),
                "installed_version": found.get("installed_version"),
                "fixed_version": found.get("fixed_version"),
                "severity": severity, "reported_severity": reported,
                "title": (r.text(short.get("text"), (*rule_path, "shortDescription", "text"))
                          or next(iter(text.splitlines()), None)),
                "url": r.text(rule.get("helpUri"), (*rule_path, "helpUri")),
                "target": _sarif_target(r, result, path), "tool": tool,
                "suppressed": _suppressed(r, result, path),
            }))
    return {"tool": ", ".join(tools) or "SARIF", "tool_version": version}, entries


def _sarif_fix(r: JsonReader, result: dict[str, Any], path: JsonPath) -> str | None:
    """The version a SARIF `fixes` entry upgrades to (Snyk: "Upgrade to django@4.2.11")."""
    for fi, fix in enumerate(r.arr(result.get("fixes"), (*path, "fixes"))):
        fpath = (*path, "fixes", fi, "description")
        description = r.obj(r.obj(fix, fpath[:-1]).get("description"), fpath)
        match = _FIX_VERSION.search(r.text(description.get("text"), (*fpath, "text")) or "")
        if match:
            return match.group(1)
    return None


def _sarif_package(r: JsonReader, result: dict[str, Any], path: JsonPath) -> dict[str, str]:
    """Package and version from result properties or a `name@version` logical location."""
    properties = r.obj(result.get("properties"), (*path, "properties"))
    out: dict[str, str] = {}
    for key in ("packageName", "package", "pkgName"):
        name = properties.get(key)
        if isinstance(name, str) and name:
            out["package"] = name
            break
    for li, location in enumerate(r.arr(result.get("locations"), (*path, "locations"))):
        lpath = (*path, "locations", li, "logicalLocations")
        for logical in r.arr(r.obj(location, lpath[:-1]).get("logicalLocations"), lpath):
            name = logical.get("fullyQualifiedName") if isinstance(logical, dict) else None
            match = _PACKAGE_AT_VERSION.match(name) if isinstance(name, str) else None
            if match and "package" not in out:
                out["package"], out["installed_version"] = match.group(1), match.group(2)
    return out


def _sarif_target(r: JsonReader, result: dict[str, Any], path: JsonPath) -> str | None:
    locations = r.arr(result.get("locations"), (*path, "locations"))
    if not locations:
        return None
    lpath = (*path, "locations", 0, "physicalLocation")
    physical = r.obj(r.obj(locations[0], lpath[:-1]).get("physicalLocation"), lpath)
    artifact = r.obj(physical.get("artifactLocation"), (*lpath, "artifactLocation"))
    uri = r.text(artifact.get("uri"), (*lpath, "artifactLocation", "uri"))
    region = r.obj(physical.get("region"), (*lpath, "region"))
    line = region.get("startLine")
    # line 1 is what image and manifest scanners write when they have no line: leave it out
    if uri and isinstance(line, int) and not isinstance(line, bool) and line > 1:
        return f"{uri}:{line}"
    return uri


def _suppressed(r: JsonReader, result: dict[str, Any], path: JsonPath) -> bool:
    """Suppressed unless every suppression is still under review or was rejected."""
    suppressions = r.arr(result.get("suppressions"), (*path, "suppressions"))
    return any(isinstance(s, dict) and s.get("status") not in ("underReview", "rejected")
               for s in suppressions)


# --- the loader ------------------------------------------------------------------------------

_READERS: dict[ReportFormat, Callable[[JsonReader], tuple[dict[str, Any], list[Entry]]]] = {
    "trivy": _trivy, "pip-audit": _pip_audit, "npm-audit": _npm_audit, "sarif": _sarif,
}


def load(source: Source) -> Document:
    reader = JsonReader(source, "scan report")
    report_format = detect_format(reader.data)
    if report_format is None:
        raise NotOfKind(source.path, "not a scan report pe-policy reads: expected Trivy, "
                        "pip-audit or npm audit JSON, or SARIF 2.1.0")
    header, entries = _READERS[report_format](reader)
    try:
        vulnerabilities = [Vulnerability.model_validate(fields) for _, fields in entries]
        model = ScanReport.model_validate({
            "format": report_format, **{k: v for k, v in header.items() if v is not None},
            "vulnerabilities": vulnerabilities, "counts": tally(vulnerabilities),
        })
    except ValidationError as exc:  # a loader bug, or a shape no scanner writes
        raise ParseError(source.path, f"scan report: {exc.errors()[0]['msg']}") from None
    links: dict[JsonPath, JsonPath] = {("vulnerabilities", i): path
                                       for i, (path, _) in enumerate(entries)}
    if model.reported_counts is not None:
        links[("reported_counts",)] = ("metadata", "vulnerabilities")
    return Document(kind=source.kind, path=source.path, model=model,
                    source_map=reader.remap(links), text=source.text)
