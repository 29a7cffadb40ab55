"""What a Rego policy may reach: its input, its data, and nothing else, on every backend.

The engines differ: regorus has no network built-ins worth the name and an
`opa.runtime()` without the environment; rego-cpp's `opa.runtime()` carries
the whole process environment (CI tokens included); a real OPA server runs
`http.send` and `net.lookup_ip_addr` and reports its own environment.  So the
rules are enforced here, before a module reaches any backend:

* a call to a built-in that reaches the network or the host (`http.send`,
  `net.lookup_ip_addr`, ...) refuses the module with an error at its line and
  column (mocking one in a test, `with http.send as ...`, is not a call);
* `opa.runtime()` is rewritten to `object.remove(opa.runtime(), {"env"})`, so
  no backend hands a policy the environment.

Rego has no built-in that reads files; JSON Schema `$ref`s to files or URLs
are not resolved by regorus, and the tests prove it for every backend.
"""

from __future__ import annotations

import re
from dataclasses import replace

from pe_policy.engine.rego import PolicyError, RegoModule

# built-in -> what it would reach
FORBIDDEN_BUILTINS: dict[str, str] = {
    "http.send": "the network",
    "net.lookup_ip_addr": "the network (DNS)",
}
_CALL = re.compile(r"(?<![\w.])(http\.send|net\.lookup_ip_addr)\s*\(")
_RUNTIME = re.compile(r"(?<![\w.])opa\.runtime\s*\(\s*\)")
_SAFE_RUNTIME = 'object.remove(opa.runtime(), {"env"})'


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def sandboxed(module: RegoModule) -> RegoModule:
    """`module` as every backend may run it; PolicyError if it calls a forbidden built-in."""
    if not any(name in module.text for name in ("http.send", "lookup_ip_addr", "opa.runtime")):
        return module  # the common case, without scanning the text character by character
    from pe_policy.engine.polyfill import blank_non_code  # strings and comments never count

    code = blank_non_code(module.text)
    call = _CALL.search(code)
    if call is not None:
        name = call.group(1)
        line, column = _position(code, call.start())
        raise PolicyError(module.path, f"calls {name}: policies may not reach "
                          f"{FORBIDDEN_BUILTINS[name]} (pe-policy runs every policy sandboxed)",
                          line, column)
    matches = list(_RUNTIME.finditer(code))
    if not matches:
        return module
    text = module.text
    for match in reversed(matches):  # offsets of earlier matches stay valid
        text = text[:match.start()] + _SAFE_RUNTIME + text[match.end():]
    return replace(module, text=text)


__all__ = ["FORBIDDEN_BUILTINS", "sandboxed"]
