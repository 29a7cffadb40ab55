"""Loaders: one module per kind, each exposing `load(source: Source) -> Document`.

A loader parses; it never judges.  Malformed input raises `ParseError` with the
line and column of the problem; a file that lacks the structure its kind
requires raises `NotOfKind`, which skips a file whose kind was only guessed from
its content (see `load_text`).  Modules are imported only when a file of their
kind turns up, so a pre-commit run on one workflow never imports HCL or
markdown parsers.
"""

from __future__ import annotations

import errno
import importlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

from pe_policy.document import Document
from pe_policy.findings import Finding, ParseError

# kind -> module under pe_policy.loaders
LOADER_MODULES: dict[str, str] = {
    "workflow": "workflow",
    "action": "workflow",
    "generic": "generic",
    "pull_request": "pull_request",
    "terraform_plan": "terraform_plan",
    "terraform": "terraform",
    "runbook": "runbook",
    "deployment_report": "report",
    "qa_report": "report",
    "migration": "migration",
    "scan_report": "scan_report",
    "coverage": "coverage",
}

KINDS: tuple[str, ...] = tuple(LOADER_MODULES)

DEFAULT_MAX_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    """A file's text and where it lives; what every loader receives."""

    path: str  # relative to the repository root, POSIX style: what findings show
    text: str
    kind: str
    abs_path: Path | None = None  # for loaders that look beside the file (plan -> .tf)
    root: Path | None = None  # the repository root
    # the kind was guessed from the content (discover.detect): the loader asks for decisive
    # evidence of it, and a file without it is skipped rather than reported
    sniffed: bool = False


# Finding.properties key of the PE-PARSE that stands for a skipped file (pipeline.check
# takes those out of the findings and lists them under --verbose)
SKIPPED = "skipped_not_of_kind"


class NotOfKind(ParseError):
    """The file lacks the structure its kind requires: it is not one at all.

    Named with `--kind` (or by a path that decides the kind, `tfplan.json`) that is an
    error like any other; guessed from the content, the file is skipped, never an error:
    a GraphQL fixture that mentions `headRefName` is not a pull request.
    """

    sniffed = False  # set by load_text: the kind was only a guess

    def to_finding(self, kind: str = "") -> Finding:
        finding = super().to_finding(kind)
        if not self.sniffed:
            return finding
        return replace(finding, properties={SKIPPED: True})


def refuse_empty(source: Source, what: str, start: str) -> None:
    """An empty (or blank) file where a `what` belongs is reported, never read as one that
    merely lacks every section: it says what the file should start with."""
    if not source.text.strip():
        raise ParseError(source.path, f"empty file: a {what} starts with {start}")


def loader_for(kind: str) -> Callable[[Source], Document]:
    load = _LOADERS.get(kind)
    if load is not None:  # asked once per file: the import machinery only the first time
        return load
    try:
        module_name = LOADER_MODULES[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})") from None
    module = importlib.import_module(f"pe_policy.loaders.{module_name}")
    load = _LOADERS[kind] = cast(Callable[[Source], Document], module.load)
    return load


_LOADERS: dict[str, Callable[[Source], Document]] = {}


def prepare_loader(kind: str) -> None:
    """Import the loader of `kind` and build what it otherwise builds on its first file (a
    parser, a schema: a loader module's `prepare()`, where it has one).  Called before the
    run forks its workers, so each inherits them instead of building them again: for a
    workflow, 20 ms of a pre-commit run's worker, and again in the worker that judges the
    repository."""
    loader_for(kind)
    prepare = getattr(importlib.import_module(f"pe_policy.loaders.{LOADER_MODULES[kind]}"),
                      "prepare", None)
    if prepare is not None:
        prepare()
    from pe_policy.models import model_class

    model_class(kind).model_rebuild()  # a model built on first use (defer_build): built now


def _os_error(display: str, exc: OSError) -> ParseError:
    if isinstance(exc, FileNotFoundError):
        return ParseError(display, "file not found (it may have been removed during the run)")
    if isinstance(exc, PermissionError):
        return ParseError(display, "permission denied")
    if exc.errno == errno.ELOOP:
        return ParseError(display, "symbolic link loop (too many levels of symbolic links)")
    return ParseError(display, f"cannot read: {exc.strerror or exc}")


def read_text(abs_path: Path, display: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Read a file as UTF-8 text, turning every way that can fail into a ParseError.

    The checks run on the opened descriptor (non-blocking, so a FIFO cannot hang
    the run), never on the path: a file swapped for a FIFO or a device between
    discovery and reading is still refused.
    """
    try:
        fd = os.open(abs_path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise _os_error(display, exc) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ParseError(display, "not a regular file (a FIFO, device or socket); skipped")
        if st.st_size > max_bytes:
            raise ParseError(
                display,
                f"file is {st.st_size:,} bytes, over the {max_bytes:,}-byte limit "
                "(see max_file_bytes, --max-file-bytes)",
            )
        with open(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise _os_error(display, exc) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # it grew while we read it
        raise ParseError(display, f"file is over the {max_bytes:,}-byte limit "
                         "(see max_file_bytes, --max-file-bytes)")
    if data.startswith(_UTF16_BOMS):
        return _utf16_text(data, display)
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise ParseError(display, "binary file (contains NUL bytes); not a policy input", line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ParseError(
            display, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            line, column,
        ) from None
    return text.removeprefix("\ufeff")


# Windows PowerShell 5.1 writes UTF-16LE with a byte order mark for `>` and Out-File
# (`terraform show -json tfplan > tfplan.json`): text, not a binary file.
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _utf16_text(data: bytes, display: str) -> str:
    """A file that starts with a UTF-16 byte order mark, decoded (the mark dropped)."""
    try:
        text = data.decode("utf-16")
    except UnicodeDecodeError as exc:
        unit = exc.start // 2  # UTF-16 code units before the bad one (the mark included)
        prefix = data[: unit * 2].decode("utf-16", errors="replace")
        line = prefix.count("\n") + 1
        column = len(prefix) - (prefix.rfind("\n") + 1) + 1
        raise ParseError(display, f"not valid UTF-16 (a byte order mark says UTF-16; bad data at "
                         f"byte offset {exc.start})", line, column) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ParseError(display, "binary file (contains NUL characters); not a policy input", line)
    return text


def load_file(
    abs_path: Path, display: str, kind: str, root: Path | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES, sniffed: bool = False,
) -> Document:
    """Read and parse one file; raises ParseError, never anything else."""
    text = read_text(abs_path, display, max_bytes)
    return load_text(text, display, kind, abs_path=abs_path, root=root, sniffed=sniffed)


def load_text(
    text: str, display: str, kind: str, abs_path: Path | None = None, root: Path | None = None,
    sniffed: bool = False,
) -> Document:
    """Parse `text` as `kind`.  `sniffed`: the kind was guessed from the content, so a
    `NotOfKind` from the loader marks the file skipped (`SKIPPED`), not unreadable."""
    source = Source(path=display, text=text, kind=kind, abs_path=abs_path, root=root,
                    sniffed=sniffed)
    try:
        return loader_for(kind)(source)
    except NotOfKind as exc:
        exc.sniffed = sniffed
        raise
    except ParseError:
        raise
    except RecursionError:
        raise ParseError(display, "input nested too deeply to read") from None
    except MemoryError:
        raise ParseError(display, "input too large to read in memory") from None
    except Exception as exc:  # a loader bug must not hide every other file's findings
        raise ParseError(display, f"could not load as {kind}: {type(exc).__name__}: {exc}") from None
