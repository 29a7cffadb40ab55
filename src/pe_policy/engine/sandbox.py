"""What a Rego policy may reach: its input, its data, and nothing else, on every backend.

The engines differ: regorus has no network built-ins worth the name and an
`opa.runtime()` without the environment; a real OPA server runs `http.send`
and `net.lookup_ip_addr`, resolves JSON Schema `$ref`s to files and URLs in
`json.match_schema` / `json.verify_schema`, and its `opa.runtime()` carries the
server's whole process environment (CI tokens included).  So the rules are
enforced here, before a module reaches any backend:

* a reference to a built-in that reaches the network, the host or its files
  (`http.send`, `net.lookup_ip_addr`, `json.match_schema`, `json.verify_schema`)
  refuses the module with an error at its line and column, in either spelling
  (`http.send(...)`, `http["send"](...)`) and also as the value of a `with`
  (`with f as http.send` calls it); mocking one, `with http.send as ...`, is
  not a call and is allowed;
* `opa.runtime()` is rewritten to `object.remove(opa.runtime(), {"env"})`, so
  no backend hands a policy the environment; `opa.runtime` anywhere else than
  a call or a mocked name, and any mock of `object.remove` (which would undo
  the rewrite), refuse the module;
* a module in the `system` package is refused: on a shared OPA server it would
  join the server's own `data.system.authz` / `data.system.log` policies.

Rego has no built-in that reads files; the tests prove that no backend reads a
file or opens a connection for a policy.
"""

from __future__ import annotations

import re
from dataclasses import replace

from pe_policy.engine.rego import PolicyError, RegoModule

# built-in -> what it would reach
FORBIDDEN_BUILTINS: dict[str, str] = {
    "http.send": "the network",
    "net.lookup_ip_addr": "the network (DNS)",
    "json.match_schema": "files and the network (JSON Schema $ref)",
    "json.verify_schema": "files and the network (JSON Schema $ref)",
}
_RUNTIME = "opa.runtime"
_REWRITE_NEEDS = "object.remove"  # what _SAFE_RUNTIME calls: a policy may not mock it
_WATCHED = (*FORBIDDEN_BUILTINS, _RUNTIME, _REWRITE_NEEDS)
# `ns.name` or `ns["name"]` / ns[`name`] for every watched built-in
_REF = re.compile(
    r"(?<![\w.])(?P<ns>" + "|".join(sorted({n.split(".")[0] for n in _WATCHED})) + r")"
    r"(?:\.(?P<dotted>\w+)\b|\[\s*(?:\"(?P<quoted>\w+)\"|`(?P<raw>\w+)`)\s*\])")
_WITH = re.compile(r"(?<![\w.])with$")
_PACKAGE = re.compile(r"^\s*package\b", re.MULTILINE)
_CALL_NO_ARGS = re.compile(r"\s*\(\s*\)")
_SAFE_RUNTIME = 'object.remove(opa.runtime(), {"env"})'
_QUICK = ("send", "lookup_ip_addr", "schema", "runtime", "remove", "system")


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _mocked(code: str, offset: int) -> bool:
    """Is the name at `offset` the target of a `with` (`with http.send as ...`)?"""
    before = code[max(0, offset - 200):offset]
    return before != before.rstrip() and _WITH.search(before.rstrip()) is not None


def _refuse(module: RegoModule, offset: int, message: str) -> PolicyError:
    line, column = _position(module.text, offset)
    return PolicyError(module.path, f"{message} (pe-policy runs every policy sandboxed)",
                       line, column)


def sandboxed(module: RegoModule) -> RegoModule:
    """`module` as every backend may run it; PolicyError if it could reach past its input."""
    if not any(word in module.text for word in _QUICK):
        return module  # the common case, without scanning the text character by character
    from pe_policy.engine.polyfill import blank_non_code  # strings and comments never count

    code = blank_non_code(module.text)
    package = module.package
    if package == "system" or package.startswith(("system.", "system[")):
        declared = _PACKAGE.search(code)
        raise _refuse(module, declared.end() - len("package") if declared else 0,
                      f"is in package {package}: policies may not join an OPA server's own "
                      "system policies")
    rewrites: list[tuple[int, int]] = []
    for match in _REF.finditer(module.text):
        start = match.start()
        if code[start:match.end("ns")] != match.group("ns"):
            continue  # inside a string or a comment
        name = f"{match.group('ns')}.{match.group('dotted') or match.group('quoted') or match.group('raw')}"
        if name not in _WATCHED:
            continue
        mocked = _mocked(code, start)
        if name == _REWRITE_NEEDS:
            if mocked:
                raise _refuse(module, start, f"mocks {name}: policies may not replace the "
                              "built-in the sandbox relies on")
        elif name in FORBIDDEN_BUILTINS:
            if not mocked:
                raise _refuse(module, start, f"calls {name}: policies may not reach "
                              f"{FORBIDDEN_BUILTINS[name]}")
        elif not mocked:  # opa.runtime
            call = _CALL_NO_ARGS.match(code, match.end())
            if call is None:
                raise _refuse(module, start, f"refers to {name} without calling it: policies "
                              "may only call it (the environment is removed)")
            rewrites.append((start, call.end()))
    if not rewrites:
        return module
    text = module.text
    for start, end in reversed(rewrites):  # offsets of earlier matches stay valid
        text = text[:start] + _SAFE_RUNTIME + text[end:]
    return replace(module, text=text)


__all__ = ["FORBIDDEN_BUILTINS", "sandboxed"]
