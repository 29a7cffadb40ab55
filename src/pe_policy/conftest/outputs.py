"""conftest's output formats, line for line: stdout, json, tap, table, junit, github, sarif
(and azuredevops).  `locations` (pe-policy's `--locations`) adds the line pe-policy found
for each result where conftest has none."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pe_policy.conftest.engine import CheckResult, Result

FORMATS = ("stdout", "json", "tap", "table", "junit", "github", "azuredevops", "sarif")
CONFTEST_VERSION = "0.71.1"  # the conftest whose layouts these are (tools/versions.mk)


@dataclass(frozen=True)
class OutputOptions:
    """How conftest's output formats render, from the `test` and `verify` command lines."""

    suppress_exceptions: bool = False
    junit_hide_message: bool = False
    github_hide_passed: bool = False
    locations: bool = False
    color: bool = False
    show_skipped: bool = False  # `verify`: the totals end with `, N skipped`


def _plural(word: str, n: int) -> str:
    return word if n == 1 else word + "s"


def summary(results: Sequence[CheckResult]) -> str:
    """conftest's totals line."""
    ok = sum(r.successes for r in results)
    warnings = sum(len(r.warnings) for r in results)
    failures = sum(len(r.failures) for r in results)
    exceptions = sum(len(r.exceptions) for r in results)
    tests = ok + warnings + failures + exceptions
    return (f"{tests} {_plural('test', tests)}, {ok} passed, {warnings} {_plural('warning', warnings)}, "
            f"{failures} {_plural('failure', failures)}, {exceptions} {_plural('exception', exceptions)}")


def _where(result: CheckResult, item: Result, options: OutputOptions) -> str:
    name = result.filename
    if options.locations and item.line and item.loc is None and name != "Combined":
        return f"{name}:{item.line}"
    return name


def _paint(text: str, color: str, options: OutputOptions) -> str:
    codes = {"red": 31, "yellow": 33, "blue": 34, "cyan": 36, "green": 32}
    return f"\x1b[{codes[color]}m{text}\x1b[0m" if options.color else text


def render_stdout(results: Sequence[CheckResult], options: OutputOptions) -> str:
    lines: list[str] = []
    for result in results:
        for text in result.prints:
            lines.append(f"{_paint('PRNT ', 'blue', options)}  {text}\n")
    for result in results:
        indicator = "-" if result.filename == "-" else f"- {result.filename}"
        namespace = "-" if result.namespace == "-" else f"- {result.namespace} -"
        for label, color, items in (("WARN", "yellow", result.warnings),
                                    ("FAIL", "red", result.failures),
                                    ("EXCP", "cyan", [] if options.suppress_exceptions
                                     else result.exceptions)):
            for item in items:
                where = indicator if result.filename == "-" else f"- {_where(result, item, options)}"
                lines.append(f"{_paint(label, color, options)} {where} {namespace} {item.message}")
    total = summary(results) + (", 0 skipped" if options.show_skipped else "")
    failures = any(r.failures for r in results)
    color = "red" if failures else "yellow" if any(r.warnings for r in results) else (
        "cyan" if any(r.exceptions for r in results) else "green")
    lines += ["", _paint(total, color, options)]
    return "\n".join(lines) + "\n"


def go_json(value: Any, indent: str, sort_keys: bool = True) -> str:
    """JSON as Go's encoder writes it: map keys sorted (`sort_keys`; a struct's fields keep
    their order), `<`, `>`, `&` escaped."""
    text = json.dumps(value, indent=indent, ensure_ascii=False, sort_keys=sort_keys)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _result_json(item: Result, result: CheckResult, options: OutputOptions,
                 with_metadata: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"msg": item.message}
    loc = item.loc
    if loc is None and options.locations and item.line and result.filename != "Combined":
        loc = {"file": result.filename, "line": item.line}
    if loc:
        out["loc"] = loc
    if with_metadata and item.metadata:
        out["metadata"] = dict(sorted(item.metadata.items()))
    return out


def render_json(results: Sequence[CheckResult], options: OutputOptions) -> str:
    payload = []
    for result in results:
        entry: dict[str, Any] = {"filename": "" if result.filename == "-" else result.filename,
                                 "namespace": result.namespace, "successes": result.successes}
        for key in ("warnings", "failures", "exceptions"):
            items = getattr(result, key)
            if items:
                entry[key] = [_result_json(i, result, options, key != "exceptions") for i in items]
        payload.append(entry)
    return go_json(payload if payload else None, "\t") + "\n"


def render_tap(results: Sequence[CheckResult], options: OutputOptions) -> str:
    total = sum(r.tests for r in results)
    if total == 0:
        return ""
    lines = [f"1..{total}"]
    counter = 1
    for result in results:
        indicator = "-" if result.filename == "-" else f"- {result.filename}"
        namespace = "-" if result.namespace == "-" else f"- {result.namespace} -"
        sections = (("", "not ok", [i.message for i in result.failures]),
                    ("warnings", "not ok", [i.message for i in result.warnings]),
                    ("exceptions", "ok", [i.message for i in result.exceptions]),
                    ("successes", "ok", ["SUCCESS"] * result.successes))
        for header, status, messages in sections:
            if header and messages:
                lines.append(f"# {header}")
            for message in messages:
                lines.append(f"{status} {counter} {indicator} {namespace} {message}")
                counter += 1
    return "\n".join(lines) + "\n"


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_table(results: Sequence[CheckResult], options: OutputOptions) -> str:
    rows: list[list[str]] = []
    for result in results:
        rows += [["success", result.filename, result.namespace, "SUCCESS"]] * result.successes
        rows += [["exception", result.filename, result.namespace, i.message] for i in result.exceptions]
        rows += [["warning", result.filename, result.namespace, i.message] for i in result.warnings]
        rows += [["failure", result.filename, result.namespace, i.message] for i in result.failures]
    if not rows:
        return ""
    header = ["RESULT", "FILE", "NAMESPACE", "MESSAGE"]
    widths = [max(_width(r[c]) for r in [header, *rows]) for c in range(4)]

    def line(left: str, mid: str, right: str) -> str:
        return left + mid.join("─" * (w + 2) for w in widths) + right

    def centred(text: str, width: int) -> str:
        space = width - _width(text)
        return " " * (space // 2) + text + " " * (space - space // 2)

    out = [line("┌", "┬", "┐"),
           "│" + "│".join(f" {centred(h, w)} " for h, w in zip(header, widths, strict=True)) + "│",
           line("├", "┼", "┤")]
    out += ["│" + "│".join(f" {c}{' ' * (w - _width(c))} " for c, w in zip(row, widths, strict=True)) + "│"
            for row in rows]
    out.append(line("└", "┴", "┘"))
    return "\n".join(out) + "\n"


def _escape_property(text: str) -> str:
    for old, new in (("%", "%25"), ("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C")):
        text = text.replace(old, new)
    return text


def render_github(results: Sequence[CheckResult], options: OutputOptions) -> str:
    lines: list[str] = []

    def write(level: str, file: str, line: Any, message: str) -> None:
        lines.append(f"::{level} file={_escape_property(file)},line={line}::{message}")

    def located(level: str, result: CheckResult, item: Result, message: str) -> None:
        loc = item.loc
        if loc is None:
            line = item.line if options.locations and item.line else 1
            write(level, result.filename, line, message)
            return
        file, line = str(loc.get("file", "")), loc.get("line", "")
        if file == result.filename:
            write(level, file, line, message)
            return
        write(level, file, line, message)
        write(level, result.filename, 1, f"(ORIGINATING FROM {file} L{line}) {message}")

    for result in results:
        if options.github_hide_passed and not (result.failures or result.warnings or result.exceptions):
            continue
        lines.append(f'::group::Testing {json.dumps(result.filename)} against {result.tests} '
                     f'policies in namespace {json.dumps(result.namespace)}')
        for level, items in (("error", result.failures), ("warning", result.warnings),
                             ("notice", result.exceptions)):
            for item in items:
                located(level, result, item, item.message)
        write("notice", result.filename, 1, f"Number of successful checks: {result.successes}")
        lines.append("::endgroup::")
    lines.append(summary(results))
    return "\n".join(lines) + "\n"


def render_azuredevops(results: Sequence[CheckResult], options: OutputOptions) -> str:
    lines: list[str] = []
    for result in results:
        name = result.filename
        lines += [f"##[section]Testing '{name}' against {result.tests} policies in namespace "
                  f"'{result.namespace}'", "##[group]See conftest results"]
        for kind, items in (("error", result.failures), ("warning", result.warnings),
                            ("warning", result.exceptions)):
            lines += [f"##vso[task.logissue type={kind}] file={name} --> {i.message}" for i in items]
        if result.successes > 0:
            lines.append(f"success file={name} {result.successes}")
        lines.append("##[endgroup]")
    lines.append(summary(results))
    return "\n".join(lines) + "\n"


def _xml(text: str) -> str:
    from xml.sax.saxutils import escape

    return escape(text, {'"': "&#34;", "'": "&#39;", "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;"})


def render_junit(results: Sequence[CheckResult], options: OutputOptions) -> str:
    def name(filename: str, message: str) -> str:
        if options.junit_hide_message or not message:
            return filename
        return f"{filename} - {message.split(chr(10))[0]}"

    suites: dict[str, list[tuple[str, str | None]]] = {}
    for result in results:
        tests = suites.setdefault(result.namespace, [])
        tests += [(name(result.filename, i.message), i.message) for i in result.warnings]
        tests += [(name(result.filename, i.message), i.message) for i in result.failures]
        tests += [(name(result.filename, ""), None)] * result.successes
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<testsuites>"]
    for namespace, tests in suites.items():
        failures = sum(1 for _n, message in tests if message is not None)
        suite = _xml(f"conftest.{namespace}")
        lines.append(f'\t<testsuite tests="{len(tests)}" failures="{failures}" time="0.000" '
                     f'name="{suite}">')
        for test_name, message in tests:
            head = f'\t\t<testcase classname="{suite}" name="{_xml(test_name)}" time="0.000">'
            if message is None:
                lines.append(head + "</testcase>")
            else:
                lines += [head, f'\t\t\t<failure message="Failed" type="">{_xml(message)}</failure>',
                          "\t\t</testcase>"]
        lines.append("\t</testsuite>")
    lines.append("</testsuites>")
    return "\n".join(lines) + "\n"


def render_sarif(results: Sequence[CheckResult], options: OutputOptions) -> str:
    descriptions = {"success": "Policy was satisfied successfully", "skip": "Policy check was skipped",
                    "allow": "Policy exception", "warn": "Policy warning", "deny": "Policy violation"}
    rules: list[dict[str, Any]] = []
    indices: dict[str, int] = {}
    sarif_results: list[dict[str, Any]] = []

    def add(item: Result | None, message: str, metadata: dict[str, Any], namespace: str,
            rule_type: str, level: str, filename: str) -> None:
        rule_id = f"{namespace}/{rule_type}"
        if rule_id not in indices:
            indices[rule_id] = len(rules)
            rule: dict[str, Any] = {"id": rule_id, "shortDescription": {"text": descriptions[rule_type]}}
            if metadata:
                rule["properties"] = dict(sorted(metadata.items()))
            rules.append(rule)
        physical: dict[str, Any] = {"artifactLocation": {"uri": filename}}
        loc = item.loc if item is not None else None
        line = None
        if loc is not None:
            physical["artifactLocation"]["uri"] = str(loc.get("file", ""))
            line = int(loc.get("line", 0) or 0)
        elif item is not None and options.locations and item.line and filename != "Combined":
            line = item.line
        if line is not None:
            physical["region"] = {"startLine": line, "endLine": line}
        sarif_results.append({"ruleId": rule_id, "ruleIndex": indices[rule_id], "level": level,
                              "message": {"text": message},
                              "locations": [{"physicalLocation": physical}]})

    for result in results:
        for item in result.failures:
            add(item, item.message, item.metadata, result.namespace, "deny", "error", result.filename)
        for item in result.warnings:
            add(item, item.message, item.metadata, result.namespace, "warn", "warning", result.filename)
        for item in result.exceptions:
            add(item, item.message, item.metadata, result.namespace, "allow", "note", result.filename)
        if result.failures or result.warnings:
            continue
        kind = "success" if result.successes or result.exceptions else "skip"
        add(None, descriptions[kind], {"description": descriptions[kind]}, result.namespace, kind,
            "none", result.filename)
    failures = any(r.failures for r in results)
    warnings = any(r.warnings for r in results)
    description = ("Policy violations found" if failures else
                   "Policy warnings found" if warnings else "No policy violations found")
    report = {"version": "2.1.0",
              "$schema": "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/"
                         "schema/sarif-schema-2.1.0.json",
              "runs": [{"tool": {"driver": {"informationUri": "https://github.com/open-policy-agent/conftest",
                                            "name": "conftest", "rules": rules,
                                            "version": CONFTEST_VERSION}},
                        "invocations": [{"executionSuccessful": True, "exitCode": 1 if failures else 0,
                                         "exitCodeDescription": description}],
                        "results": sarif_results}]}
    return json.dumps(report, separators=(",", ":"), ensure_ascii=False)


_RENDERERS = {"stdout": render_stdout, "json": render_json, "tap": render_tap,
              "table": render_table, "junit": render_junit, "github": render_github,
              "azuredevops": render_azuredevops, "sarif": render_sarif}


def render(name: str, results: Sequence[CheckResult], options: OutputOptions) -> str:
    return _RENDERERS[name](results, options)
