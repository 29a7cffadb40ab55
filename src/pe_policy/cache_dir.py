"""Where pe-policy keeps what it can work out again: the user cache.

`PE_POLICY_CACHE_DIR` when it is set (an empty value: no cache at all), else
`$XDG_CACHE_HOME/pe-policy`, else `~/.cache/pe-policy`.  Rego outlines (engine/rego_ast.py)
and what Python compiles at start-up (compile_cache.py) live there.  Without a home directory there
is no cache, rather than one in the current directory.
"""

import os

CACHE_ENV = "PE_POLICY_CACHE_DIR"


def cache_directory() -> str | None:
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return configured or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    return os.path.join(base, "pe-policy")
