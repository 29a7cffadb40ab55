"""A guard rail for Python rules: no network, no processes, no writes, no reads outside.

The built-in pack's Python rules are pe-policy's own code; a repository's run
only in locked-down workers (isolation.py: the operating system refuses their
network, processes, writes and outside reads, and their environment is empty).
What the guard adds is cheap protection, for both, against a rule that does by
accident (or a copied snippet that does on purpose, naively) what no rule
should: while a Python rule runs (a repository's rule file is imported under it
too), a PEP 578 audit hook refuses

* network access (`socket.connect`, `socket.getaddrinfo`, ...),
* starting processes (`subprocess.Popen`, `os.system`, `os.exec*`, `os.fork`, ...),
* writing, renaming or deleting files, loading or calling native code with
  ctypes and reading memory through it,
* opening files outside the repository root, the policy directories and
  Python's own installation (imports keep working).

A refused call raises `PermissionError` inside the rule, which the evaluator
reports as a `PE-RULE-ERROR` for that rule.  It is not a security boundary:
Python code can always escape an audit hook (a rule can zero `_state.depth`;
that lasts until its own run ends), which is why a repository's rules are
isolated by the operating system as well.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_BLOCKED_EVENTS: dict[str, str] = {
    "socket.connect": "open network connections",
    "socket.bind": "open network connections",
    "socket.getaddrinfo": "look up host names",
    "socket.gethostbyname": "look up host names",
    "socket.gethostbyaddr": "look up host names",
    "socket.sendto": "send network traffic",
    "subprocess.Popen": "start processes",
    "os.system": "start processes",
    "os.exec": "start processes",
    "os.posix_spawn": "start processes",
    "os.spawn": "start processes",
    "os.fork": "start processes",
    "os.forkpty": "start processes",
    "os.kill": "signal processes",
    "os.remove": "delete files",
    "os.rmdir": "delete files",
    "os.rename": "rename files",
    "os.mkdir": "create directories",
    "os.truncate": "write files",
    "os.chmod": "change file modes",
    "os.chown": "change file owners",
    "os.symlink": "create links",
    "os.link": "create links",
    "shutil.rmtree": "delete files",
    "ctypes.dlopen": "load native code",
    "ctypes.call_function": "call native code",
    "ctypes.string_at": "read memory",
    "ctypes.wstring_at": "read memory",
    "ctypes.cdata": "read memory",
    "urllib.Request": "reach the network",
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class _State(threading.local):
    def __init__(self) -> None:
        self.depth = 0
        self.allowed: tuple[str, ...] = ()


_state = _State()
_installed = False
_install_lock = threading.Lock()


@functools.lru_cache(maxsize=8)
def _allowed_roots(extra: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({*_python_roots(), *(os.path.realpath(p) for p in extra)}))


def _python_roots() -> tuple[str, ...]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    roots.update(p for p in sys.path if p and os.path.isdir(p))
    roots.add(str(Path(__file__).resolve().parent.parent))  # pe_policy itself
    return tuple(sorted(os.path.realpath(r) for r in roots))


def _inside(path: str, roots: tuple[str, ...]) -> bool:
    real = os.path.realpath(path)
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _state.depth:
        return
    why = _BLOCKED_EVENTS.get(event)
    if why is None and event == "open":
        path, mode, flags = (*args, None, None, None)[:3]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS)
        if writing:
            why = "write files"
        elif isinstance(path, (str, bytes, os.PathLike)):
            text = os.fsdecode(path)
            if not _inside(text, _state.allowed):
                why = f"read files outside the repository ({text})"
    if why is not None:
        depth, _state.depth = _state.depth, 0  # building the exception must not re-enter
        try:
            raise PermissionError(f"pe-policy: Python rules may not {why} ({event})")
        finally:
            _state.depth = depth


def _install() -> None:
    global _installed
    with _install_lock:
        if not _installed:
            sys.addaudithook(_hook)
            _installed = True


@contextmanager
def python_rule_guard(repo_root: Path | None, extra: tuple[Path, ...] = ()) -> Iterator[None]:
    """Refuse network, processes, writes and outside reads while the block runs.

    Reads stay allowed below `repo_root`, the `extra` directories (the rule's own
    policy directory) and Python's installation.
    """
    _install()
    previous, depth = _state.allowed, _state.depth
    _state.allowed = _allowed_roots(tuple(str(p) for p in (repo_root, *extra) if p is not None))
    _state.depth = max(depth, 0) + 1
    try:
        yield
    finally:  # restored, not counted down: a rule that zeroed the depth switched off only itself
        _state.depth = depth
        _state.allowed = previous


@contextmanager
def guard_suspended() -> Iterator[None]:
    """pe-policy's own work inside a rule's turn (loading the rule's file): not the rule's."""
    depth, _state.depth = _state.depth, 0
    try:
        yield
    finally:
        _state.depth = depth


__all__ = ["guard_suspended", "python_rule_guard"]
