"""Writing reports so that a killed run never leaves half a file for a later CI step.

Every file pe-policy writes (reports, baselines, bundles, schemas, starter
configs) goes through `write_atomic`: the content lands in a temporary file
beside the target, is flushed to disk, and only then renamed over the target,
so a reader sees the old file or the new one, never a torn one.

Only a regular file (or a link to one) or a new path is ever replaced: a FIFO, a
device, `/dev/stdout` or a directory is refused before anything is written
(`output_problem`); `-` is how to ask for standard output.

A run killed while writing leaves nothing behind where the kernel allows it: the
content goes into an unnamed file (`O_TMPFILE`) that only gets a name once it is
complete.  What a kill can still leave (that name, just before the rename; or a
named temporary file where unnamed ones are not supported) is recognisable,
`.<target>.pe-policy-<random>.tmp`, and locked by its writer while it lives: the next
write into that directory removes every such file older than the run whose writer
is gone, before its own file is put in place.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import time
from pathlib import Path

TEMP_INFIX = ".pe-policy-"
TEMP_SUFFIX = ".tmp"
_TEMP_NAME = re.compile(r"\A\..+\.pe-policy-[0-9a-f]{16}\.tmp\Z")
_SYSTEM_DIRS = ("/dev", "/proc", "/sys")
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class UnsafeOutputError(OSError):
    """The target is a FIFO, device, directory or system path: never replaced."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(errno.EINVAL, reason, os.fspath(path))


def _lock(fd: int, wait: bool = True) -> None:
    """An exclusive flock on `fd` (BlockingIOError when `wait` is off and another holds it);
    nothing where there is no flock."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return
    fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)


def _in_system_dir(path: str) -> bool:
    return any(path == d or path.startswith(d + "/") for d in _SYSTEM_DIRS)


def output_problem(path: Path | str) -> str | None:
    """Why `path` cannot be written as a report; None for a regular file or a new path.

    A link counts as what it points to (a link to a regular file is fine: it is
    replaced by the new file, its target left alone).  Paths under /dev, /proc and /sys
    (`/dev/stdout`, `/dev/null`) are refused whatever they are: `-` means standard output.
    """
    text = os.fspath(path)
    if not text:
        return "an empty path"
    if _in_system_dir(os.path.abspath(text)) or _in_system_dir(os.path.realpath(text)):
        return "a device or system path, which pe-policy never replaces (`-` is standard output)"
    try:
        st = os.stat(text)
    except OSError:  # a new path (or one that cannot be written: the write says why)
        return None
    if stat.S_ISDIR(st.st_mode):
        return "a directory, not a file"
    if not stat.S_ISREG(st.st_mode):
        return ("not a regular file (a FIFO, device or socket), which pe-policy never replaces "
                "(`-` is standard output)")
    return None


def check_output(path: Path | str) -> None:
    """Raise UnsafeOutputError (an OSError) when `path` must not be written."""
    problem = output_problem(path)
    if problem is not None:
        raise UnsafeOutputError(path, problem)


def _new_file_mode(path: Path) -> int:
    """The mode the file would have had if written in place: its current one, else 0666 - umask."""
    with contextlib.suppress(OSError):
        return stat.S_IMODE(os.stat(path).st_mode)
    umask = 0o022
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            umask = next(int(line.split()[1], 8) for line in fh if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


def _process_start() -> float:
    """When this process started (wall clock), from /proc; else now (when it is first asked)."""
    try:
        with open("/proc/self/stat", "rb") as fh:
            ticks = int(fh.read().rsplit(b")", 1)[1].split()[19])  # field 22: starttime
        with open("/proc/stat", encoding="ascii") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return time.time()


_RUN_STARTED: float | None = None
_SWEPT: set[str] = set()  # directories already rid of stale temporary files by this run


def _temp_name(target: str) -> str:
    return f".{target}{TEMP_INFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}"


def remove_stale_temporaries(directory: Path) -> list[str]:
    """Remove what killed runs left in `directory`; return the names removed.

    Only pe-policy's own temporary files, only those last written before this run
    started, and only when no live writer holds the lock every writer takes on its file.
    """
    global _RUN_STARTED
    if _RUN_STARTED is None:
        _RUN_STARTED = _process_start()
    started = _RUN_STARTED  # never later than the real start: /proc/stat's boot time is truncated
    removed: list[str] = []
    try:
        entries = [e.name for e in os.scandir(directory) if _TEMP_NAME.match(e.name)]
    except OSError:
        return removed
    for name in entries:
        file = os.path.join(directory, name)
        try:
            fd = os.open(file, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | _CLOEXEC)
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_mtime >= started:
                continue
            _lock(fd, wait=False)  # BlockingIOError: its writer is alive
            now = os.stat(file, follow_symlinks=False)
            if (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
                os.unlink(file)
                removed.append(name)
        except OSError:
            continue
        finally:
            os.close(fd)
    return removed


def _sweep_once(directory: Path) -> None:
    key = os.path.abspath(directory)
    if key not in _SWEPT:
        _SWEPT.add(key)
        remove_stale_temporaries(directory)


def _open_unnamed(directory: Path) -> int | None:
    """An unnamed file in `directory` (O_TMPFILE), or None where that is not supported."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(directory, flag | os.O_WRONLY | _CLOEXEC, 0o600)
    except OSError:  # the file system cannot (EOPNOTSUPP, EISDIR on old kernels): a named one
        return None


def _open_named(directory: Path, target: str) -> tuple[int, str]:
    for _ in range(100):
        tmp = os.path.join(directory, _temp_name(target))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC | _NOFOLLOW, 0o600)
        except FileExistsError:
            continue
        return fd, tmp
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", str(directory))


def _name_unnamed(fd: int, directory: Path, target: str) -> str | None:
    """Give the complete unnamed file `fd` a temporary name in `directory` (None: cannot)."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC)
    except OSError:
        return None
    try:
        for _ in range(100):
            name = _temp_name(target)
            try:  # linkat(AT_SYMLINK_FOLLOW) on the descriptor's /proc link
                os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dir_fd, follow_symlinks=True)
            except FileExistsError:
                continue
            except OSError:  # no /proc, or a file system that will not: a named file instead
                return None
            return os.path.join(directory, name)
    finally:
        os.close(dir_fd)
    return None


def _fill(fd: int, payload: bytes, mode: int) -> None:
    """Lock `fd` (held until it is closed), write `payload` to disk, set the file's mode."""
    _lock(fd)
    with os.fdopen(fd, "wb", closefd=False) as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())
        os.fchmod(fh.fileno(), mode)  # 0600 would surprise the next CI step


def _write_temporary(directory: Path, target: str, payload: bytes, mode: int) -> tuple[int, str]:
    """A complete temporary file for `target` in `directory`: (its locked descriptor, name).

    Unnamed while it is written where the system allows, so a kill leaves nothing."""
    fd = _open_unnamed(directory)
    if fd is not None:
        try:
            _fill(fd, payload, mode)
            name = _name_unnamed(fd, directory, target)
        except BaseException:
            os.close(fd)
            raise
        if name is not None:
            return fd, name
        os.close(fd)
    fd, name = _open_named(directory, target)
    try:
        _fill(fd, payload, mode)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return fd, name


def write_atomic(path: Path, content: str | bytes, mode: int | None = None) -> None:
    """Write to a temporary file beside `path`, then rename it into place.

    The file gets `mode` when given, else the mode it had, else 0666 minus the umask.
    OSError when it cannot be written; UnsafeOutputError (an OSError) when `path` is not
    a regular file or a new path, checked before writing and again before the rename.
    """
    check_output(path)
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    _sweep_once(directory)
    payload = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = _write_temporary(directory, path.name, payload,
                               _new_file_mode(path) if mode is None else mode)
    try:
        check_output(path)  # swapped for a FIFO or a directory while we wrote
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        os.close(fd)
