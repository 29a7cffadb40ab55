"""Coverage reports: Cobertura XML (coverage.py, pytest-cov, Jest/istanbul, JaCoCo converters)
and coverage.py's `coverage json`.

XML is read with `defusedxml`'s SAX parser: a report is build output that may
come from anywhere, so entity expansion ("billion laughs") and external
entities are refused, and SAX streams (a large report is never held as a
tree) while its locator gives each element's line.
"""

from __future__ import annotations

import io
import math
from typing import Any
from xml.sax.handler import ContentHandler

from pydantic import ValidationError

from pe_policy.document import Document, SourceMap, Span
from pe_policy.findings import JsonPath, ParseError
from pe_policy.loaders import Source
from pe_policy.loaders.json_reader import JsonReader
from pe_policy.models.coverage import CoverageFile, CoveragePackage, CoverageReport, percent


def load(source: Source) -> Document:
    if source.text.lstrip().startswith("<"):
        model, spans = _cobertura(source)
        source_map = SourceMap(spans)
    else:
        model, links, reader = _coverage_json(source)
        source_map = reader.remap(links)
    return Document(kind=source.kind, path=source.path, model=model, source_map=source_map,
                    text=source.text)


def _build(source: Source, data: dict[str, Any]) -> CoverageReport:
    try:
        return CoverageReport.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ParseError(source.path, f"coverage report: {where}: {error['msg']}") from None


# --- Cobertura -------------------------------------------------------------------------------

class _CoberturaHandler(ContentHandler):
    """Collects the root's totals, packages and classes with their lines (SAX callbacks)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.locator: Any = None
        self.stack: list[str] = []
        self.root: dict[str, str] | None = None
        self.spans: dict[JsonPath, Span] = {}
        self.packages: list[dict[str, Any]] = []
        self.files: list[dict[str, Any]] = []
        self._lines: list[int] = []  # [covered, valid] of the current class

    def where(self) -> tuple[int, int | None]:
        if self.locator is None:
            return 1, None
        column = self.locator.getColumnNumber()
        return self.locator.getLineNumber() or 1, None if column is None else column + 1

    def fail(self, message: str) -> ParseError:
        line, column = self.where()
        return ParseError(self.path, f"Cobertura XML: {message}", line, column)

    def rate(self, attrs: Any, name: str) -> float | None:
        raw = attrs.get(name)
        if raw is None or raw.strip().lower() in ("", "nan"):  # istanbul: NaN when nothing ran
            return None
        try:
            value = float(raw)
        except ValueError:
            raise self.fail(f"{name}={raw!r} is not a number") from None
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise self.fail(f"{name}={raw!r} is not a rate between 0 and 1")
        return value

    def count(self, attrs: Any, name: str) -> int | None:
        raw = attrs.get(name)
        if raw is None or raw == "":
            return None
        try:
            value = int(raw)
        except ValueError:
            raise self.fail(f"{name}={raw!r} is not a whole number") from None
        if value < 0:
            raise self.fail(f"{name}={raw!r} is negative")
        return value

    def setDocumentLocator(self, locator: Any) -> None:
        self.locator = locator

    def startElement(self, name: str, attrs: Any) -> None:
        line, column = self.where()
        parent = self.stack[-1] if self.stack else None
        if parent is None:
            if name != "coverage":
                raise self.fail(f"the root element is <{name}>, expected <coverage>")
            self.root = {key: attrs.get(key) for key in attrs.getNames()}
            for key in ("line-rate", "branch-rate"):
                self.rate(attrs, key)
            for key in ("lines-covered", "lines-valid"):
                self.count(attrs, key)
            self.spans[()] = self.spans[("line_percent",)] = Span(line, column)
        elif name == "package" and parent == "packages":
            index = len(self.packages)
            self.packages.append({"name": attrs.get("name") or "",
                                  "rate": self.rate(attrs, "line-rate")})
            self.spans[("packages", index)] = Span(line, column)
        elif name == "class" and parent == "classes":
            index = len(self.files)
            package = self.packages[-1]["name"] if self.packages else None
            self.files.append({"path": attrs.get("filename") or attrs.get("name") or "",
                               "name": attrs.get("name"), "package": package,
                               "rate": self.rate(attrs, "line-rate")})
            self._lines = [0, 0]
            self.spans[("files", index)] = Span(line, column)
        elif name == "line" and parent == "lines" and self.stack[-3:-1] == ["classes", "class"]:
            # only the lines of a class that is a file of the report (a <class> outside
            # <classes> was never recorded, so it has no counts to add to)
            hits = self.count(attrs, "hits") or 0
            self._lines[0] += hits > 0
            self._lines[1] += 1
        self.stack.append(name)

    def endElement(self, name: str) -> None:
        self.stack.pop()
        if name == "class" and self.files and self.stack and self.stack[-1] == "classes":
            self.files[-1]["covered"], self.files[-1]["valid"] = self._lines


def _parse_xml(source: Source) -> _CoberturaHandler:
    import xml.sax  # lazy: most runs never see XML
    from xml.sax.handler import feature_external_ges, feature_external_pes
    from xml.sax.xmlreader import InputSource

    import defusedxml.sax
    from defusedxml import DefusedXmlException

    handler = _CoberturaHandler(source.path)
    # Entity declarations are refused outright; the external DTD that istanbul and old
    # coverage.py name in <!DOCTYPE coverage SYSTEM "...coverage-04.dtd"> is allowed but
    # never fetched (external entities off), so no report makes pe-policy touch the network.
    parser = defusedxml.sax.make_parser()
    parser.forbid_dtd, parser.forbid_entities, parser.forbid_external = False, True, False
    parser.setFeature(feature_external_ges, False)
    parser.setFeature(feature_external_pes, False)
    parser.setContentHandler(handler)
    try:
        stream = InputSource(source.path)
        stream.setByteStream(io.BytesIO(source.text.encode("utf-8")))
        parser.parse(stream)
    except xml.sax.SAXParseException as exc:
        column = exc.getColumnNumber()
        raise ParseError(source.path, f"invalid XML: {exc.getMessage()}",
                         exc.getLineNumber() or 1, None if column is None else column + 1) from None
    except DefusedXmlException as exc:
        line, column = handler.where()
        raise ParseError(source.path, f"XML refused: {exc}", line, column) from None
    if handler.root is None:
        raise ParseError(source.path, "Cobertura XML: no <coverage> element")
    return handler


def _cobertura(source: Source) -> tuple[CoverageReport, dict[JsonPath, Span]]:
    h = _parse_xml(source)
    root = h.root or {}
    covered, valid = _int(root.get("lines-covered")), _int(root.get("lines-valid"))
    rate = _float(root.get("line-rate"))
    class_covered = sum(f.get("covered", 0) for f in h.files)
    class_valid = sum(f.get("valid", 0) for f in h.files)
    if rate is not None:
        line_percent = round(rate * 100.0, 2)
    elif valid is not None and covered is not None:
        line_percent = percent(covered, valid)
    elif class_valid:
        line_percent = percent(class_covered, class_valid)
        covered, valid = class_covered, class_valid
    else:
        span = h.spans[()]
        raise ParseError(source.path, "Cobertura XML: <coverage> has no line-rate and no "
                         "lines-covered/lines-valid to compute it from", span.line, span.column)
    # coverage.py writes branch-rate="0" when it did not measure branches at all
    branch = None if root.get("branches-valid") == "0" else _float(root.get("branch-rate"))
    files = [CoverageFile(
        path=f["path"], name=f["name"], package=f["package"],
        line_percent=(round(f["rate"] * 100.0, 2) if f["rate"] is not None
                      else percent(f.get("covered", 0), f.get("valid", 0))),
        lines_covered=f.get("covered"), lines_valid=f.get("valid"),
    ) for f in h.files]
    packages = [CoveragePackage(name=p["name"], line_percent=None if p["rate"] is None
                                else round(p["rate"] * 100.0, 2)) for p in h.packages]
    report = _build(source, {
        "format": "cobertura", "tool_version": root.get("version") or None,
        "line_percent": line_percent, "lines_covered": covered, "lines_valid": valid,
        "branch_percent": None if branch is None else round(branch * 100.0, 2),
        "packages": packages, "files": files,
    })
    return report, h.spans


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None  # validated while parsing


def _float(value: str | None) -> float | None:
    """An attribute `rate` already accepted; NaN means absent."""
    number = float(value) if value not in (None, "") else math.nan
    return number if math.isfinite(number) else None


# --- coverage.py JSON ------------------------------------------------------------------------

def _summary_numbers(r: JsonReader, summary: dict[str, Any],
                     path: JsonPath) -> tuple[float | None, float | None, float | None]:
    covered = r.number(summary.get("covered_lines"), (*path, "covered_lines"))
    statements = r.number(summary.get("num_statements"), (*path, "num_statements"))
    total = r.number(summary.get("percent_covered"), (*path, "percent_covered"))
    if total is not None and not 0.0 <= total <= 100.0:
        raise r.fail((*path, "percent_covered"), f"{total} is not a percentage")
    if covered is not None and statements is not None and not 0 <= covered <= statements:
        raise r.fail((*path, "covered_lines"),
                     f"{covered:g} covered lines of {statements:g} statements")
    return covered, statements, total


def _line_percent(covered: float | None, statements: float | None,
                  total: float | None) -> float | None:
    if covered is not None and statements is not None:
        return percent(covered, statements)
    return None if total is None else round(total, 2)


def _coverage_json(source: Source) -> tuple[CoverageReport, dict[JsonPath, JsonPath], JsonReader]:
    r = JsonReader(source, "coverage.json")
    data = r.obj(r.data, (), optional=False)
    if "totals" not in data:
        raise r.fail((), "no `totals`: not a coverage.py JSON report (`coverage json`)")
    totals = r.obj(data["totals"], ("totals",), optional=False)
    covered, statements, total = _summary_numbers(r, totals, ("totals",))
    line_percent = _line_percent(covered, statements, total)
    if line_percent is None:
        raise r.fail(("totals",), "neither covered_lines/num_statements nor percent_covered")
    branches = r.number(totals.get("num_branches"), ("totals", "num_branches"))
    covered_branches = r.number(totals.get("covered_branches"), ("totals", "covered_branches"))
    meta = r.obj(data.get("meta"), ("meta",))
    files: list[CoverageFile] = []
    links: dict[JsonPath, JsonPath] = {(): (), ("line_percent",): ("totals",)}
    for name, entry in r.obj(data.get("files"), ("files",)).items():
        fpath: JsonPath = ("files", name)
        entry = r.obj(entry, fpath, optional=False)
        spath = (*fpath, "summary")
        f_covered, f_statements, f_total = _summary_numbers(
            r, r.obj(entry.get("summary"), spath), spath)
        f_percent = _line_percent(f_covered, f_statements, f_total)
        if f_percent is None:
            continue
        links[("files", len(files))] = fpath
        files.append(CoverageFile(
            path=name, line_percent=f_percent,
            lines_covered=None if f_covered is None else int(f_covered),
            lines_valid=None if f_statements is None else int(f_statements)))
    report = _build(source, {
        "format": "coverage.py", "tool_version": r.text(meta.get("version"), ("meta", "version")),
        "line_percent": line_percent,
        "lines_covered": None if covered is None else int(covered),
        "lines_valid": None if statements is None else int(statements),
        "branch_percent": (percent(covered_branches, branches)
                           if branches and covered_branches is not None else None),
        "total_percent": None if total is None else round(total, 2),
        "files": files,
    })
    return report, links, r
