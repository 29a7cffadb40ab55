"""Where pe-policy keeps what it can work out again: the user cache.

`PE_POLICY_CACHE_DIR` when it is set (an empty value: no cache at all), else
`$XDG_CACHE_HOME/pe-policy`, else `~/.cache/pe-policy`.  Rego outlines (engine/rego_ast.py),
what Python compiles at start-up (compile_cache.py) and the repository-level facts of files a
run reads without checking them (engine/facts_cache.py) live there.  Without a home directory
there is no cache, rather than one in the current directory.
"""

import os
import stat

CACHE_ENV = "PE_POLICY_CACHE_DIR"


def cache_directory() -> str | None:
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return configured or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    return os.path.join(base, "pe-policy")


def read_trusted(path: str) -> bytes | None:
    """The bytes of a cache file, if it is a regular file (not a link) owned by this user that
    no one else may write (the rule for `~/.ssh`): what a cache holds decides what a run
    reports, or is code.  None when it is missing, unreadable or not to be trusted."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        geteuid = getattr(os, "geteuid", None)
        if (geteuid is None or not stat.S_ISREG(info.st_mode) or info.st_uid != geteuid()
                or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read()  # at once: marshal.load reads a file in tiny pieces, 10x slower
    except OSError:
        return None
    finally:
        os.close(fd)
