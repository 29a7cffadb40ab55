"""Reporters: one module per format, each exposing `render(result, options) -> str`."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

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
    color: bool = False
    tool_version: str = ""
    quiet: bool = False  # findings only: no code frames, nothing when clean (pre-commit)


Renderer = Callable[["CheckResult", ReportOptions], str]


def renderer_for(name: str) -> Renderer:
    try:
        module = importlib.import_module(f"pe_policy.reporters.{REPORTER_MODULES[name]}")
    except KeyError:
        raise ValueError(f"unknown format {name!r} (known: {', '.join(FORMATS)})") from None
    return cast(Renderer, module.render)


def render(name: str, result: CheckResult, options: ReportOptions | None = None) -> str:
    return renderer_for(name)(result, options or ReportOptions())
