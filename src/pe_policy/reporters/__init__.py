"""Reporters: one module per format, each exposing `render(result, options) -> str`."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from json import dumps as _compact  # `json` here would be the sibling reporter module
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from pe_policy.pipeline import CheckResult

REPORTER_MODULES: dict[str, str] = {
    "text": "text",
    "json": "json",
    "sarif": "sarif",
    "markdown": "markdown",
    "junit": "junit",
    "github": "github",
}

FORMATS: tuple[str, ...] = tuple(REPORTER_MODULES)


@dataclass(frozen=True)
class ReportOptions:
    """How a run's result is rendered: the command line's choices, handed to every format
    (each reads those that concern it)."""

    color: bool = False
    tool_version: str = ""
    quiet: bool = False  # findings only: no code frames, nothing when clean (pre-commit)
    # where this report goes (None: standard output); the Markdown report's size limit
    # follows it (a job summary holds more than a comment) unless `markdown_limit` is given
    destination: str | None = None
    markdown_limit: int | None = None  # bytes (UTF-8)
    # every (format, destination) of the run, so a cut report can say where the full one is
    reports: tuple[tuple[str, str | None], ...] = ()


def is_job_summary(destination: str | None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether `destination` is this step's job summary file (`$GITHUB_STEP_SUMMARY`)."""
    summary = (os.environ if environ is None else environ).get("GITHUB_STEP_SUMMARY", "")
    if not destination or not summary:
        return False
    return os.path.realpath(destination) == os.path.realpath(summary)


def listed(items: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return " and ".join(items) if len(items) < 3 else ", ".join(items[:-1]) + " and " + items[-1]


def full_report_places(options: ReportOptions) -> list[str]:
    """Where this run writes every finding, as a reader would look for it."""
    places = []
    for name, destination in options.reports:
        if name == "sarif" and destination:
            places.append(f"the SARIF file {destination} (code scanning, once uploaded)")
        elif name == "markdown" and is_job_summary(destination):
            places.append("the job summary")
        elif name in ("json", "junit", "text") and destination:
            places.append(f"{destination} ({name})")
    return places


Renderer = Callable[["CheckResult", ReportOptions], str]


def renderer_for(name: str) -> Renderer:
    try:
        module = importlib.import_module(f"pe_policy.reporters.{REPORTER_MODULES[name]}")
    except KeyError:
        raise ValueError(f"unknown format {name!r} (known: {', '.join(FORMATS)})") from None
    return cast(Renderer, module.render)


def dumps_json(value: Any, expand: int = 2, _level: int = 0) -> str:
    """JSON indented down to depth `expand` and compact below: one finding per line.

    Still easy to read and diff, and several times faster than `json.dumps(indent=2)`, whose
    pure-Python encoder was a tenth of a 500-workflow run; below `expand` the C encoder works.
    """
    if _level >= expand or not value or not isinstance(value, (dict, list)):
        return _compact(value)
    pad = "  " * (_level + 1)
    if isinstance(value, dict):
        items = [f"{pad}{_compact(str(k))}: {dumps_json(v, expand, _level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * _level + "}"
    items = [pad + dumps_json(v, expand, _level + 1) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + "  " * _level + "]"


def render(name: str, result: CheckResult, options: ReportOptions | None = None) -> str:
    return renderer_for(name)(result, options or ReportOptions())
