"""Dataclass methods compiled once per interpreter, not once per run.

Python writes each dataclass's `__init__`, `__repr__`, `__eq__`, `__hash__` (and a frozen
class's `__setattr__`/`__delattr__`) as source text and compiles it with `exec` every time
the class is defined.  A `pe-policy check` on one workflow defines about 90 dataclasses
(its own records, and pydantic's and annotated-types' at import): 400 compilations, 25 ms
of a 210 ms pre-commit run, for texts that are the same on every run.

So the `pe-policy` command (`cli.run`, like `without_pydantic_plugins`) keeps the compiled
code objects in the user cache, as Python keeps a module's bytecode in `__pycache__`: one
file per interpreter (its bytecode tag), mapping each exact source text to its code.
`dataclasses` then executes the cached code where it would have compiled the same text; a
text not seen before is compiled as before and kept for the next run.  The classes are
the same either way: only the compilation is skipped.

The file holds code that is executed, so it is read only when it is a regular file owned by
this user that no one else may write (the rule for `~/.ssh`), and written with mode 0600.
`PE_POLICY_CACHE_DIR` set to an empty value turns it off with the rest of the cache.
Importing pe_policy as a library changes nothing.
"""

import builtins
import contextlib
import dataclasses
import marshal
import os
import stat
import sys
from types import CodeType
from typing import Any

from pe_policy.cache_dir import cache_directory

_MAX_ENTRIES = 5000  # texts of several versions of pe-policy and pydantic; beyond that, start over

_known: dict[str, CodeType] = {}  # read from the cache
_compiled: dict[str, CodeType] = {}  # compiled in this run: written back by `save`
_file: str | None = None


def _cache_file() -> str | None:
    directory = cache_directory()
    tag = sys.implementation.cache_tag
    if directory is None or tag is None:
        return None
    return os.path.join(directory, f"dataclass-methods-{tag}.marshal")


def _exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:
    """`exec` as dataclasses calls it, with the text's code from the cache when it is there.

    `compile(..., dont_inherit=True)` gives what `exec` on the text would: the code of
    `dataclasses`, which has no `from __future__` flags to pass on."""
    if isinstance(source, str):
        code = _known.get(source) or _compiled.get(source)
        if code is None:
            code = _compiled[source] = compile(source, "<string>", "exec", dont_inherit=True)
        source = code
    builtins.exec(source, globals, locals)


def _trusted(fd: int) -> bool:
    info = os.fstat(fd)
    geteuid = getattr(os, "geteuid", None)
    return (geteuid is not None and stat.S_ISREG(info.st_mode) and info.st_uid == geteuid()
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def _read(path: str) -> dict[str, CodeType]:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return {}
    try:
        if not _trusted(fd):
            return {}
        with os.fdopen(os.dup(fd), "rb") as handle:
            table = marshal.load(handle)
    except (OSError, EOFError, ValueError, TypeError):  # torn or not ours: compile again
        return {}
    finally:
        os.close(fd)
    if not isinstance(table, dict):
        return {}
    return {text: code for text, code in table.items()
            if isinstance(text, str) and isinstance(code, CodeType)}


def cache_dataclass_methods() -> None:
    """From now on, dataclasses defined in this process take their methods' code from the
    cache (see the module doc).  Does nothing without a cache directory, or when something
    else already replaced `exec` in `dataclasses`."""
    global _file
    if _file is not None or "exec" in vars(dataclasses):
        return
    _file = _cache_file()
    if _file is None:
        return
    _known.update(_read(_file))
    dataclasses.exec = _exec  # type: ignore[attr-defined]


def save_dataclass_methods() -> None:
    """Keep what this run compiled for the next one (nothing to do on a warm cache)."""
    if _file is None or not _compiled:
        return
    table = {**_known, **_compiled} if len(_known) + len(_compiled) <= _MAX_ENTRIES else _compiled
    directory = os.path.dirname(_file)
    temporary = f"{_file}.{os.getpid()}.tmp"
    with contextlib.suppress(OSError):  # read-only or full disk: the next run compiles again
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                     0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                marshal.dump(table, handle)
            os.replace(temporary, _file)  # a concurrent reader sees the old table or this one
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    _known.update(_compiled)
    _compiled.clear()
