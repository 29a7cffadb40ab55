"""`pe-policy test`: conftest's run (inputs, policies, data, namespaces) on pe-policy's runner.

Inputs are parsed and evaluated by the runner (runner.py), as `check`'s are: in worker
processes with the same deadline and memory limit.  Where conftest stops the whole run on
one bad input or one failing query, pe-policy reports it (path and line) and still tests
everything else; the exit code is conftest's (1) either way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pe_policy.conftest.engine import (
    COMBINED,
    Checker,
    CheckResult,
    ResultError,
    choose_namespaces,
    load_policies,
)
from pe_policy.conftest.inputs import STDIN, Configuration, combined, file_list, read_input
from pe_policy.document import Document, SourceMap
from pe_policy.engine.evaluate import Evaluator
from pe_policy.findings import Finding, ParseError
from pe_policy.runner import Limits

DATA_SUFFIXES = (".json", ".yaml", ".yml")


@dataclass
class RunError:
    """An input that could not be tested, or a query conftest would have stopped on."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass
class TestRun:
    """The outcome of `pe-policy test`: conftest's results per input, and what could not be
    tested; it decides the exit code as conftest would."""

    results: list[CheckResult] = field(default_factory=list)
    errors: list[RunError] = field(default_factory=list)

    def count(self, what: str) -> int:
        return sum(len(getattr(r, what)) for r in self.results)

    def exit_code(self, fail_on_warn: bool = False) -> int:
        """conftest's: 1 on failures (2 with --fail-on-warn, warnings then 1); errors 1."""
        failures, warnings = self.count("failures"), self.count("warnings")
        code = (2 if failures else 1 if warnings else 0) if fail_on_warn else int(bool(failures))
        return max(code, 1) if self.errors else code


def load_data(paths: Sequence[Path]) -> dict[str, Any]:
    """`--data`: JSON/YAML files merged into `data` (a sub-directory nests under its name)."""
    from pe_policy.loaders import read_text
    from pe_policy.loaders.yaml_source import load_yaml

    data: dict[str, Any] = {}
    for given in paths:
        if not given.exists():
            raise ParseError(given.as_posix(), "data path not found")
        files = [given] if given.is_file() else sorted(
            p for p in given.rglob("*") if p.suffix.lower() in DATA_SUFFIXES and p.is_file())
        for file in files:
            display = file.as_posix()
            value, _spans = load_yaml(read_text(file, display), display)
            if value is None:
                continue
            if not isinstance(value, dict):
                raise ParseError(display, "data files must hold an object at the top level")
            target = data
            for part in (file.parent.relative_to(given).parts if given.is_dir() else ()):
                target = target.setdefault(part, {})
            _merge(target, value)
    return data


def _merge(into: dict[str, Any], value: Mapping[str, Any]) -> None:
    for key, item in value.items():
        if isinstance(item, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], item)
        else:
            into[key] = item


class _Carrier:
    """Loads one input (or, combined, all of them) in the worker; the judge reads `config`."""

    def __init__(self, paths: Sequence[str], parser: str | None, max_bytes: int,
                 stdin_text: str | None, stdin_name: str | None) -> None:
        self.paths = paths
        self.parser = parser
        self.max_bytes = max_bytes
        self.stdin_text = stdin_text
        self.stdin_name = stdin_name
        self.configs: list[Configuration] = []
        self.errors: list[RunError] = []
        self.document: Document | None = None  # what it gave the runner: how the judge finds it

    def _one(self, path: str) -> Configuration:
        from pe_policy.conftest.inputs import parse_text, parser_for

        if path == STDIN and self.stdin_text is not None:
            config = parse_text(self.stdin_text, path, parser_for(path, self.parser) or "yaml")
        else:
            config = read_input(path, self.parser, self.max_bytes)
        if path == STDIN and self.stdin_name:
            config.path = self.stdin_name
        return config

    def __call__(self) -> Document:
        from pe_policy.models.generic import GenericDocument

        for path in self.paths:
            try:
                self.configs.append(self._one(path))
            except ParseError as exc:
                if len(self.paths) == 1:
                    raise
                self.errors.append(RunError(exc.path, exc.message, exc.line))
        shown = self.paths[0] if len(self.paths) == 1 else COMBINED
        self.document = Document(kind="generic", path=shown, model=GenericDocument(None),
                                 source_map=SourceMap({}), raw={})
        return self.document


def _judge(evaluator: Evaluator, documents: Sequence[Document], _everything: object,
           begin: Callable[[int], None], *, carriers: Sequence[_Carrier],
           namespaces: Sequence[str], combine: bool, data: Mapping[str, Any],
           checker_box: list[Checker]) -> Iterator[tuple[int, list[Any]]]:
    """The runner's judge: conftest's results for each input (all inputs, combined)."""
    if not checker_box:
        checker_box.append(Checker(evaluator.backend, evaluator.ruleset.rego_modules))
    checker = checker_box[0]
    file_data = any("conftest" in m.text for m in checker.modules)  # data.conftest.file
    for index, doc in enumerate(documents):
        begin(index)
        carrier = next(c for c in carriers if c.document is doc)
        out: list[Any] = list(carrier.errors)
        configs = [combined(carrier.configs)] if combine else carrier.configs
        for config in configs:
            if file_data:
                _file_data(checker, data, config.path)
            for namespace in namespaces:
                result = CheckResult(config.path, namespace)
                try:
                    for doc in config.documents:
                        result.add(checker.check(doc, config.path, namespace))
                except ResultError as exc:
                    out.append(RunError(config.path, str(exc)))
                    continue
                out.append(result)
        yield index, out


def _file_data(checker: Checker, data: Mapping[str, Any], path: str) -> None:
    """conftest's `data.conftest.file`: the input's name and directory."""
    absolute = os.path.abspath(path)
    checker.backend.set_data({**data, "conftest": {"file": {
        "name": os.path.basename(absolute), "dir": os.path.dirname(absolute)}}})


def run_test(
    files: Sequence[str],
    policy_paths: Sequence[Path],
    *,
    namespaces: Sequence[str] = ("main",),
    all_namespaces: bool = False,
    data_paths: Sequence[Path] = (),
    combine: bool = False,
    parser: str | None = None,
    stdin_filename: str | None = None,
    ignore: str | None = None,
    rego_version: str = "v1",
    strict: bool = False,
    engine: str = "regorus",
    engine_options: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    max_bytes: int | None = None,
) -> TestRun:
    """Load inputs and policies, evaluate as conftest does; InputError, PolicyError and
    ParseError (a `--data` file) for what stops the run before any input is tested."""
    import sys

    from pe_policy.config import DEFAULT_PARAMS
    from pe_policy.conftest.inputs import check_parser
    from pe_policy.engine.pack import RuleSet
    from pe_policy.loaders import DEFAULT_MAX_BYTES
    from pe_policy.runner import RunInput, run

    if parser:
        check_parser(parser)
    paths = file_list(files, ignore)
    modules = load_policies(policy_paths, rego_version, strict)
    chosen = choose_namespaces(modules, namespaces, all_namespaces)
    data = load_data(data_paths)
    from pe_policy.conftest.builtins import engine_for

    all_data = {"pe": {"params": dict(DEFAULT_PARAMS)}, **data}
    backend = engine_for(engine, dict(engine_options or {}), modules, all_data)  # compiled now:
    # conftest stops on a policy that does not load
    evaluator = Evaluator(RuleSet(rego_modules=modules), DEFAULT_PARAMS, backend=backend,
                          backend_name=engine, repo_root=Path.cwd(), data=data)
    stdin_text = sys.stdin.read() if STDIN in paths else None
    size = max_bytes or DEFAULT_MAX_BYTES
    groups = [list(paths)] if combine else [[p] for p in paths]
    carriers = [_Carrier(group, parser, size, stdin_text, stdin_filename) for group in groups]
    run_inputs = [RunInput(COMBINED if combine else group[0], "generic", carrier)
                  for group, carrier in zip(groups, carriers, strict=True)]
    judge = partial(_judge, carriers=carriers, namespaces=chosen, combine=combine,
                    data=all_data, checker_box=[])
    _files, outcomes = run(evaluator, run_inputs, root=Path.cwd(), max_bytes=size,
                           limits=limits or Limits(), judge=judge)
    test_run = TestRun()
    for outcome in outcomes:
        if isinstance(outcome, CheckResult):
            test_run.results.append(outcome)
        elif isinstance(outcome, RunError):
            test_run.errors.append(outcome)
        elif isinstance(outcome, Finding):
            test_run.errors.append(RunError(outcome.location.path, outcome.message,
                                            outcome.location.line))
    return test_run
