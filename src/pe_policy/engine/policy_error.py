"""The one error type for a policy that cannot be read, compiled or evaluated.

A leaf module: the module reader, the parse tree reader, the rewrites and every backend
raise it, and none of them need each other to do so.
"""

from __future__ import annotations

import re

OPA_HINT = ("regorus (the embedded engine) rejects this module; OPA accepts some modules "
            "regorus does not: run with --engine opa --opa-url http://HOST:8181 to evaluate it "
            "with a real OPA server")


class PolicyError(Exception):
    """A policy that cannot be loaded or evaluated: named by file, line and column."""

    def __init__(self, path: str, message: str, line: int | None = None,
                 column: int | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = line
        self.column = column
        self.hint = hint  # what to do about it, when there is something

    def __str__(self) -> str:
        return self.text()

    def text(self, note: str = "") -> str:
        """`file:line:column: message (note). Hint: ...`"""
        where = self.path
        if self.line:
            where += f":{self.line}" + (f":{self.column}" if self.column else "")
        message = self.message.rstrip(".") if note else self.message
        text = f"{where}: {message}" + (f" ({note})" if note else "")
        if self.hint:
            text += ("" if text.endswith(".") else ".") + f" Hint: {self.hint}."
        return text


class RegoSyntaxError(PolicyError):
    """The engine's parser cannot read the module (not: it reads a module that is wrong)."""


def rejected_by_regorus(error: PolicyError) -> PolicyError:
    """`error` (regorus refusing a module it parsed or compiled) with the hint that OPA may not."""
    error.hint = OPA_HINT
    return error


_ENGINE_LOCATION = re.compile(r"-->\s*(?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+)")


def clean_engine_error(text: str) -> str:
    """regorus appends a Rust backtrace to its messages; keep only the useful frame."""
    return text.split("Stack backtrace:", 1)[0].strip()


def policy_error_from_engine(default_path: str, exc: BaseException,
                             error: type[PolicyError] = PolicyError) -> PolicyError:
    message = clean_engine_error(str(exc))
    match = _ENGINE_LOCATION.search(message)
    if match:
        error_line = next(
            (ln.strip() for ln in message.splitlines() if ln.strip().startswith("error:")), ""
        )
        return error(
            match.group("file"),
            error_line.removeprefix("error:").strip() or message,
            int(match.group("line")),
            int(match.group("col")),
        )
    return error(default_path, message)
