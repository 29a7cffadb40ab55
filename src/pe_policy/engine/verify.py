"""`pe-policy verify`: the `test_*` rules of policy directories, as `opa test` runs them.

Every `.rego` file below the directories is loaded (tests next to the policies
they test), with the rule parameters' defaults as `data.pe.params`, and each
`test_*` rule is evaluated: `true` passes, anything else (undefined, false)
fails, an evaluation error is an error.  With `--coverage` (regorus only) each
policy file's evaluated lines are reported.

Sandboxed as `check` is: a module the sandbox refuses (a built-in outside the
allowed set, the `system` package) stops the run before any engine sees it
(`sandbox.py`), and the tests run in a worker forked by the runner, with
`check`'s deadline (per test) and memory limit: a test still running at its
deadline, or that exhausts the memory, is an error naming it, and the next test
runs in a fresh worker (`runner.run_each`).  An OPA server is a remote process
with its own limits: asked from this process, as `check` asks it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pe_policy.engine.backends import make_backend
from pe_policy.engine.pack import policy_files
from pe_policy.engine.policy_error import PolicyError, clean_engine_error
from pe_policy.engine.rego import RegoModule, read_module

if TYPE_CHECKING:
    from pe_policy.runner import Limits
from pe_policy.engine.sandbox import refusals


@dataclass(frozen=True)
class TestCase:
    """The outcome of one `test_*` rule, named and placed as `opa test` reports it."""

    name: str  # data.<package>.<test rule>
    file: str
    line: int
    status: str  # "pass" | "fail" | "error"
    message: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class FileCoverage:
    """Which lines of one policy file the tests evaluated and which they did not (`--coverage`)."""

    file: str
    covered: tuple[int, ...]
    not_covered: tuple[int, ...]

    @property
    def percent(self) -> float:
        total = len(self.covered) + len(self.not_covered)
        return 100.0 * len(self.covered) / total if total else 100.0


@dataclass
class VerifyReport:
    """The outcome of a `pe-policy verify` run, which the output renders and which decides
    the exit code."""

    cases: list[TestCase] = field(default_factory=list)
    coverage: list[FileCoverage] | None = None
    notes: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for c in self.cases if c.status == status)

    @property
    def exit_code(self) -> int:
        """Non-zero on any failure or error, and when there was no test to run at all."""
        if not self.cases:
            return 1
        return 0 if self.count("pass") == len(self.cases) else 1

    @property
    def summary(self) -> str:
        line = f"{self.count('pass')} passed, {self.count('fail')} failed"
        errors = self.count("error")
        return line + (f", {errors} errors" if errors else "")


def _display(file: Path) -> str:
    try:
        return file.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return file.as_posix()


def load_modules(directories: Sequence[Path]) -> list[RegoModule]:
    """Every `.rego` module below the directories (a `.rego` file given stands for itself)."""
    modules: list[RegoModule] = []
    for directory in directories:
        if directory.is_file() and directory.suffix == ".rego":
            modules.append(read_module(directory, _display(directory)))
            continue
        if not directory.is_dir():
            raise PolicyError(directory.as_posix(), "policy directory not found")
        modules.extend(read_module(f, _display(f)) for f in policy_files(directory, ".rego"))
    return modules


def _judged(modules: Sequence[RegoModule], builtins: bool) -> PolicyError | None:
    """The first module the sandbox refuses (with conftest's built-ins, a call to one of them
    is allowed: `conftest.builtins.refusal`)."""
    if builtins:
        from pe_policy.conftest.builtins import refusal

        return refusal(modules)
    return next(iter(refusals(modules).values()), None)


def run_tests(
    directories: Sequence[Path],
    *,
    selector: re.Pattern[str] | None = None,
    coverage: bool = False,
    engine: str = "regorus",
    engine_options: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    data: Mapping[str, Any] | None = None,
    modules: Sequence[RegoModule] | None = None,
    builtins: bool = False,
    namespaces: Sequence[str] | None = None,
) -> VerifyReport:
    """Every selected test, in module order.  `limits`: each test's deadline and the worker's
    memory (default: `check`'s).  `data` is merged into `data` (conftest's `--data`);
    `modules` replaces reading the directories; `builtins` adds conftest's `parse_config`
    & co. (regorus); `namespaces` keeps the tests of the packages they match (globs)."""
    from fnmatch import fnmatchcase

    from pe_policy.config import DEFAULT_PARAMS
    from pe_policy.runner import Limits, run_each

    modules = list(modules) if modules is not None else load_modules(directories)
    refused = _judged(modules, builtins)
    if refused is not None:  # the first module the sandbox refuses: no engine sees any of them
        raise refused
    report = VerifyReport()
    backend = make_backend(engine, **dict(engine_options or {}))
    native = getattr(backend, "engine", None) if engine == "regorus" else None
    if coverage and native is not None:
        native.set_enable_coverage(True)
    elif coverage:
        report.notes.append(f"coverage is not available with --engine {engine} "
                            "(use --engine regorus)")
    if builtins and native is not None:
        from pe_policy.conftest.builtins import register, with_directory

        register(native)
        modules = [with_directory(m) for m in modules]
    for module in modules:
        backend.add_module(module)
    backend.set_data({**(data or {}),
                      "pe": {"params": dict(params if params is not None else DEFAULT_PARAMS)}})
    backend.set_input_json("{}")
    tests = [(module, test, f"data.{module.package}.{test}")
             for module in modules for test in module.test_rules]
    tests = [t for t in tests if selector is None or selector.search(t[2])]
    if namespaces is not None:
        tests = [t for t in tests if any(fnmatchcase(t[0].package, p) for p in namespaces)]

    def stopped(number: int, reason: str) -> TestCase:
        module, test, name = tests[number]
        return TestCase(name, module.path, module.rule_lines.get(test, 1), "error", reason)

    report.cases, coverages = run_each(
        len(tests), lambda number: _run_one(backend, *tests[number]),
        (limits or Limits()) if engine != "opa" else Limits(None, None), stopped=stopped,
        finish=native.get_coverage_report_as_json if coverage and native is not None else None)
    if coverage and native is not None:
        report.coverage = _coverage(coverages, modules)
    return report


def _run_one(backend: Any, module: RegoModule, test: str, name: str) -> TestCase:
    line = module.rule_lines.get(test, 1)
    started = time.perf_counter()
    try:
        value = backend.eval_rule(name)
    except Exception as exc:
        message = clean_engine_error(str(exc)).replace("\n", " ").strip()
        return TestCase(name, module.path, line, "error", re.sub(r"\s+", " ", message),
                        time.perf_counter() - started)
    return _outcome(name, module.path, line, value, time.perf_counter() - started)


def _outcome(name: str, file: str, line: int, value: Any, seconds: float) -> TestCase:
    """`true` passes; anything else (undefined, false, another value) fails."""
    if value is True:
        return TestCase(name, file, line, "pass", seconds=seconds)
    shown = "undefined" if value is None else repr(value)
    return TestCase(name, file, line, "fail", f"evaluated to {shown}", seconds)


def _coverage(reports: Sequence[str], modules: Sequence[RegoModule]) -> list[FileCoverage]:
    """Each policy file's lines, covered in any of the workers' reports (regorus's JSON), or in
    none.  A worker stopped at a test's deadline reports nothing: lines only it evaluated
    count as not covered."""
    import json

    policy_paths = {m.path for m in modules if not m.is_test}
    covered: dict[str, set[int]] = {}
    lines: dict[str, set[int]] = {}
    for raw in reports:
        for entry in json.loads(raw).get("files", []):
            path = entry.get("path")
            if path in policy_paths:
                covered.setdefault(path, set()).update(entry.get("covered", []))
                lines.setdefault(path, set()).update(entry.get("covered", []),
                                                     entry.get("not_covered", []))
    return [FileCoverage(path, tuple(sorted(covered[path])),
                         tuple(sorted(lines[path] - covered[path])))
            for path in sorted(lines)]


def _ranges(lines: Sequence[int]) -> str:
    """`3-5, 9`: compact line lists."""
    parts: list[str] = []
    ordered = sorted(lines)
    start = prev = ordered[0] if ordered else 0
    for number in [*ordered[1:], None]:
        if number is not None and number == prev + 1:
            prev = number
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if number is not None:
            start = prev = number
    return ", ".join(parts)


_LABEL = {"pass": "PASS ", "fail": "FAIL ", "error": "ERROR"}


def conftest_results(report: VerifyReport) -> list[Any]:
    """The report as conftest's `verify` has it: one result per test, named by its file, with
    no namespace; a failing test's message is its name (an erroring test fails too)."""
    from pe_policy.conftest.engine import CheckResult, Result

    out = []
    for case in report.cases:
        result = CheckResult(case.file, "")
        if case.status == "pass":
            result.successes = 1
        else:
            result.failures.append(Result(case.name))
        out.append(result)
    return out


def render_conftest_report(report: VerifyReport) -> str:
    """`--report`: conftest's (OPA's verbose) test report, without OPA's trace (regorus has
    none): each test with its file and line, then the failures, then the counts."""
    rule = "-" * 80
    lines: list[str] = []
    for case in report.cases:
        status = "PASS" if case.status == "pass" else "FAIL" if case.status == "fail" else "ERROR"
        lines += [f"{case.file}:{case.line}:", f"{case.name}: {status} ({case.seconds * 1e6:.3f}µs)"]
    bad = [c for c in report.cases if c.status != "pass"]
    if bad:
        lines += [rule, "FAILURES", rule]
        for case in bad:
            lines += [f"{case.name}: FAIL ({case.seconds * 1e6:.3f}µs)", "",
                      f"  {case.file}:{case.line}: {case.message}", ""]
    lines.append(rule)
    total = len(report.cases)
    if report.count("pass"):
        lines.append(f"PASS: {report.count('pass')}/{total}")
    if bad:
        lines.append(f"FAIL: {len(bad)}/{total}")
    return "\n".join(lines) + "\n"


def render_report(report: VerifyReport, verbose: bool = True) -> str:
    lines: list[str] = []
    for case in report.cases:
        if case.status == "pass" and not verbose:
            continue
        text = f"{_LABEL[case.status]} {case.file}:{case.line}: {case.name}"
        if case.message:
            text += f": {case.message}"
        lines.append(text + f" ({case.seconds * 1000:.1f}ms)")
    if not report.cases:
        lines.append("no tests found (test_* rules in .rego files)")
    if report.coverage is not None:
        lines.append("")
        lines.append("Coverage:")
        for cov in report.coverage:
            missing = f"; not covered: {_ranges(cov.not_covered)}" if cov.not_covered else ""
            lines.append(f"  {cov.file}: {cov.percent:.1f}% "
                         f"({len(cov.covered)}/{len(cov.covered) + len(cov.not_covered)} lines"
                         f"{missing})")
    lines.extend(report.notes)
    lines.append(report.summary)
    return "\n".join(lines) + "\n"
