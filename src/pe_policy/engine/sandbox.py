"""What a Rego policy may reach: its input, its data, and nothing else, on every backend.

A module is judged by what its parse tree says it does (`rego_ast.NameUse`, read
from regorus's syntax tree and cached with the module's outline), never by its
text: a comment or a string that reads `http.send(` is not a call, and
`http["send"](...)`, a call in a function, in a comprehension, in an `else`, or
a built-in handed to a `with` as the function that replaces another
(`with f as opa.runtime`) are all calls.  Every engine gets a module only once
it is judged safe (`refusals`); each backend checks again what it is given
(`refuse_unsafe`):

* a module may call a built-in only if it is in `ALLOWED_BUILTINS`: OPA's
  built-ins (`opa capabilities --current` of the pinned OPA) minus
  `DENIED_BUILTINS`, those that reach the network, files or the host, or make a
  verdict depend on something else than the input (the clock, chance).  A
  denied built-in is refused however it is spelled and wherever it appears,
  called or not (`x := http.send`, `import data.lib as http` then
  `http.send(x)`), except as the thing a `with` replaces: `with http.send as
  {...}` mocks it, and nothing is called;
* a call to a name that is not an allowed built-in must be the module's own:
  a rule or function of its package (in any of the package's modules), an
  import, or a path from `data`.  So a built-in this list does not know of (a
  newer OPA's) is refused, not run;
* a module in the `system` package is refused: on a shared OPA server it would
  join the server's own `data.system.authz` / `data.system.log` policies;
* where the built-in pack may be beside it (`check`, `test`: the evaluator), a
  module in the `pe` namespace that is not one of the pack's own files is
  refused (`pack_refusals`): Rego merges the modules of a package, so it could
  add to the pack's rules (silently weakening a gate) or conflict with them
  (turning every rule that reads them into an error).  `verify` runs only the
  directories it is given, and may test a copy of the pack.

An OPA server compiles what it is given with every built-in it has: its REST API
takes no capabilities.  That is why the check runs here, before any module is
uploaded; the OPA backend judges each module once more as the server compiled it
(`opa_ast_refusal`), so that what OPA runs never depends on regorus's parser
reading a text as OPA's does.  `opa_capabilities.json` beside this file is the same allowed set as an
OPA capabilities file (`opa check --capabilities`, `opa build --capabilities`,
`opa test --capabilities`; `allow_net` empty), regenerated with
`opa capabilities --current | python -m pe_policy.engine.sandbox`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pe_policy.engine.policy_error import PolicyError
from pe_policy.engine.rego import RegoModule
from pe_policy.engine.rego_ast import NameUse, Outline, known_outline

# built-in -> why a policy may not use it ("policies may not ...")
DENIED_BUILTINS: dict[str, str] = {
    "http.send": "reach the network",
    "net.lookup_ip_addr": "reach the network (DNS)",
    "json.match_schema": "read files and URLs (a JSON Schema `$ref` is fetched)",
    "json.verify_schema": "read files and URLs (a JSON Schema `$ref` is fetched)",
    "opa.runtime": "read the engine's runtime (on an OPA server: its whole process environment, "
                   "CI tokens included, and its configuration)",
    "providers.aws.sign_req": "sign requests for http.send, which they may not make",
    "time.now_ns": "depend on the clock (a verdict depends on the input alone: the same "
                   "commit gets the same findings; pass dates as rule parameters)",
    "rand.intn": "depend on chance (the same commit gets the same findings)",
    "uuid.rfc4122": "depend on chance (the same commit gets the same findings)",
    # regorus's own helpers for `|` and `&` on sets, callable by name there only
    "__builtin_sets.intersection": "call an engine's internal helpers",
    "__builtin_sets.union": "call an engine's internal helpers",
}
FORBIDDEN_BUILTINS = DENIED_BUILTINS  # the name this table had

# OPA's built-ins (v1.22.4, `opa capabilities --current`) minus the denied ones.  Both engines'
# lists are compared with this one by tests/test_capabilities.py: a built-in that appears in a
# new version must be judged (allowed here, or denied above) before it can be used.
ALLOWED_BUILTINS: frozenset[str] = frozenset({
    "abs", "all", "and", "any", "assign", "cast_array", "cast_boolean", "cast_null", "cast_object",
    "cast_set", "cast_string", "ceil", "concat", "contains", "count", "div", "endswith", "eq",
    "equal", "floor", "format_int", "gt", "gte", "indexof", "indexof_n", "intersection",
    "is_array", "is_boolean", "is_null", "is_number", "is_object", "is_set", "is_string", "lower",
    "lt", "lte", "max", "min", "minus", "mul", "neq", "or", "plus", "print", "product", "re_match",
    "rem", "replace", "round", "set_diff", "sort", "split", "sprintf", "startswith", "substring",
    "sum", "to_number", "trace", "trim", "trim_left", "trim_prefix", "trim_right", "trim_space",
    "trim_suffix", "type_name", "union", "upper", "walk",
    "array.concat", "array.flatten", "array.reverse", "array.slice",
    "base64.decode", "base64.encode", "base64.is_valid",
    "base64url.decode", "base64url.encode", "base64url.encode_no_pad",
    "bits.and", "bits.lsh", "bits.negate", "bits.or", "bits.rsh", "bits.xor",
    "crypto.hmac.equal", "crypto.hmac.md5", "crypto.hmac.sha1", "crypto.hmac.sha256",
    "crypto.hmac.sha512", "crypto.md5", "crypto.parse_private_keys", "crypto.sha1",
    "crypto.sha256", "crypto.x509.parse_and_verify_certificates",
    "crypto.x509.parse_and_verify_certificates_with_options",
    "crypto.x509.parse_certificate_request", "crypto.x509.parse_certificates",
    "crypto.x509.parse_keypair", "crypto.x509.parse_rsa_private_key",
    "glob.match", "glob.quote_meta",
    "graph.reachable", "graph.reachable_paths",
    "graphql.is_valid", "graphql.parse", "graphql.parse_and_verify", "graphql.parse_query",
    "graphql.parse_schema", "graphql.schema_is_valid",
    "hex.decode", "hex.encode",
    # what OPA's compiler turns `print`, `in` and template strings into
    "internal.member_2", "internal.member_3", "internal.print", "internal.template_string",
    "internal.test_case",
    # keys and certificates are arguments: nothing is fetched
    "io.jwt.decode", "io.jwt.decode_verify", "io.jwt.encode_sign", "io.jwt.encode_sign_raw",
    "io.jwt.verify_eddsa", "io.jwt.verify_es256", "io.jwt.verify_es384", "io.jwt.verify_es512",
    "io.jwt.verify_hs256", "io.jwt.verify_hs384", "io.jwt.verify_hs512", "io.jwt.verify_ps256",
    "io.jwt.verify_ps384", "io.jwt.verify_ps512", "io.jwt.verify_rs256", "io.jwt.verify_rs384",
    "io.jwt.verify_rs512",
    "json.filter", "json.is_valid", "json.marshal", "json.marshal_with_options", "json.patch",
    "json.remove", "json.unmarshal",
    "net.cidr_contains", "net.cidr_contains_matches", "net.cidr_expand", "net.cidr_intersects",
    "net.cidr_is_valid", "net.cidr_merge", "net.cidr_overlap",
    "numbers.range", "numbers.range_step",
    "object.filter", "object.get", "object.keys", "object.remove", "object.subset", "object.union",
    "object.union_n",
    "regex.find_all_string_submatch_n", "regex.find_n", "regex.globs_match", "regex.is_valid",
    "regex.match", "regex.replace", "regex.split", "regex.template_match",
    "rego.metadata.chain", "rego.metadata.rule", "rego.parse_module",
    "semver.compare", "semver.is_valid",
    "strings.any_prefix_match", "strings.any_suffix_match", "strings.count",
    "strings.render_template", "strings.replace_n", "strings.reverse", "strings.split_n",
    # of the times they are given; `time.now_ns` is denied
    "time.add_date", "time.clock", "time.date", "time.diff", "time.format",
    "time.parse_duration_ns", "time.parse_ns", "time.parse_rfc3339_ns", "time.weekday",
    "units.parse", "units.parse_bytes",
    "uri.is_valid", "uri.parse",
    "urlquery.decode", "urlquery.decode_object", "urlquery.encode", "urlquery.encode_object",
    "uuid.parse",
    "yaml.is_valid", "yaml.marshal", "yaml.unmarshal",
})
KNOWN_BUILTINS: frozenset[str] = ALLOWED_BUILTINS | frozenset(DENIED_BUILTINS)
# the first name of every built-in with several (`http` of `http.send`): a `with` value from
# one of these must be an allowed built-in (see `_judge`)
_BUILTIN_ROOTS = frozenset(name.split(".")[0] for name in KNOWN_BUILTINS if "." in name)
_NOT_BUILTINS = frozenset({"data", "input"})

CAPABILITIES_FILE = Path(__file__).with_name("opa_capabilities.json")
SANDBOXED = " (pe-policy runs every policy sandboxed)"
PACK_NAMESPACE = "pe"  # the built-in pack's packages, and `data.pe.params`


def _first_key(package: str) -> str:
    """`pe.workflow.x` -> `pe`; `pe["a-b"]` -> `pe`; `["x"].y` -> `x`."""
    if package.startswith("["):
        try:
            decoded = json.JSONDecoder().raw_decode(package[1:])[0]
        except ValueError:
            return package
        return str(decoded)
    return package.split(".", 1)[0].split("[", 1)[0]


def _outline(module: RegoModule) -> Outline:
    return known_outline(module.path, module.text)


def _shown(keys: Sequence[str | None]) -> str:
    parts: list[str] = []
    for i, key in enumerate(keys):
        if key is None:
            parts.append("[...]")
        elif key.isidentifier() and key.isascii():
            parts.append(key if i == 0 else f".{key}")
        else:
            parts.append(f"[{json.dumps(key)}]")
    return "".join(parts)


# The network built-ins a user may grant for one run (`pe-policy test --allow-net`, which needs
# `--engine opa`: regorus has no network); nothing else is ever granted.
GRANTABLE_BUILTINS = frozenset({"http.send", "net.lookup_ip_addr"})
_granted: frozenset[str] = frozenset()


@contextlib.contextmanager
def granted(names: Iterable[str]) -> Iterator[None]:
    """Within the block (and the workers it forks), the GRANTABLE_BUILTINS in `names` are
    allowed built-ins; any other name stays denied."""
    global _granted
    before = _granted
    _granted = frozenset(names) & GRANTABLE_BUILTINS
    try:
        yield
    finally:
        _granted = before


def _denied(keys: Sequence[str | None]) -> str | None:
    """The denied built-in that `keys` (or its start: `http.send.x`) names, if any."""
    name = ""
    for key in keys:
        if key is None:
            return None
        name = f"{name}.{key}" if name else key
        if name in DENIED_BUILTINS:
            return None if name in _granted else name
    return None


def _judge(use: NameUse, own: frozenset[str] | None) -> str | None:
    """Why `use` may not run, or None.  `own`: the names a call may reach that are the
    module's own (its package's rules and functions, its imports); None to judge only the
    built-ins a module may never use."""
    denied = _denied(use.keys)
    if denied is not None:
        reason = DENIED_BUILTINS[denied]
        if use.role == "call":
            return f"calls {denied}: policies may not {reason}"
        if use.role == "with":
            return (f"calls {denied} (handed to `with` as a function, it is called in place of "
                    f"the one it replaces): policies may not {reason}")
        return f"refers to {denied}: policies may not {reason}, called or not"
    if own is None or use.role == "ref":
        return None
    root = use.keys[0]
    if root in _NOT_BUILTINS or root in own:
        return None  # the module's own, or a path in `data`: never a built-in
    static = None not in use.keys
    name = ".".join(k for k in use.keys if k is not None)
    if static and (name in ALLOWED_BUILTINS or name in _granted):
        return None
    if use.role == "call":
        return (f"calls {_shown(use.keys)}, which is neither a built-in function policies may "
                "use nor a rule, function or import of its own")
    # a `with` value: `with f as g` calls `g` in place of the function `f`, and `with input
    # as x.y` hands over a value (x a local): a name from a built-in's namespace is judged
    if root in _BUILTIN_ROOTS or (static and name in KNOWN_BUILTINS):
        return (f"hands {_shown(use.keys)} to `with`, which is neither a built-in function "
                "policies may use nor a rule, function or import of its own")
    return None


def _refuse(module: RegoModule, line: int, column: int, message: str) -> PolicyError:
    return PolicyError(module.path, message + SANDBOXED, line, column)


def refusal(module: RegoModule, own_names: Iterable[str] | None = None) -> PolicyError | None:
    """Why `module` may not run on any engine, or None.

    `own_names`: the rules and functions of the module's package defined in its other modules
    (its own and its imports are added); None judges only what no module may ever use (denied
    built-ins, the `system` package), as the backends do for every module they are given.
    """
    if module.error is not None:  # unreadable: reported as it is, and never run
        return None
    outline = _outline(module)
    if _first_key(outline.package) == "system":
        return _refuse(module, *outline.package_at,
                       f"is in package {outline.package}: policies may not join an OPA "
                       "server's own system policies")
    own: frozenset[str] | None = None
    if own_names is not None:
        own = frozenset((*own_names, *(h.name for h in outline.rules),
                         *(name for name, _ in outline.imports)))
    for use in outline.uses:
        reason = _judge(use, own)
        if reason is not None:
            return _refuse(module, use.line, use.column, reason)
    return None


def refuse_unsafe(module: RegoModule) -> None:
    """Raise the PolicyError of a module no engine may run (what a backend checks)."""
    error = refusal(module)
    if error is not None:
        raise error


def refusals(modules: Sequence[RegoModule]) -> dict[str, PolicyError]:
    """Why each module that may not run may not (by path, in module order): judged with the
    rules and functions every module of its package defines."""
    by_package: dict[str, set[str]] = {}
    for module in modules:
        if module.error is None:
            by_package.setdefault(module.package, set()).update(h.name for h in module.rules)
    out: dict[str, PolicyError] = {}
    for module in modules:
        error = refusal(module, by_package.get(module.package, set()))
        if error is not None:
            out[module.path] = error
    return out


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@functools.cache
def _pack_digests(directory: str) -> frozenset[str]:
    """The contents of the built-in pack's Rego files."""
    from pe_policy.engine.pack import policy_files

    digests: set[str] = set()
    for file in policy_files(Path(directory), ".rego"):
        try:
            digests.add(_digest(file.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            continue
    return frozenset(digests)


def pack_refusals(modules: Iterable[RegoModule]) -> dict[str, PolicyError]:
    """The modules in the built-in pack's namespace (`pe`, `pe.*`) that are not the pack's own
    files, byte for byte: beside the pack they would add to or redefine its rules."""
    from pe_policy.engine.pack import builtin_policy_dir

    out: dict[str, PolicyError] = {}
    own: frozenset[str] | None = None
    for module in modules:
        if (module.error is not None or module.built_in
                or _first_key(module.package) != PACK_NAMESPACE):
            continue
        if own is None:
            own = _pack_digests(str(builtin_policy_dir()))
        if _digest(module.text) in own:
            continue
        outline = _outline(module)
        out[module.path] = _refuse(
            module, *outline.package_at,
            f"is in package {module.package}: the `{PACK_NAMESPACE}` namespace belongs to "
            "pe-policy's built-in pack, and a module there would add to or redefine the "
            "built-in rules; give it a package of its own (reading the pack with "
            f"`import data.{PACK_NAMESPACE}...` is fine)")
    return out


def opa_ast_refusal(ast: Any) -> tuple[str, int | None, int | None] | None:
    """Why a module, as an OPA server compiled it, may not run: (message, row, column), or None.

    The module as OPA keeps it (`GET /v1/policies/<id>`: its compiled syntax tree, where a
    call to the module's own functions and imports is a path from `data`, a local is
    `__localN__`, and a built-in is its name) is judged again, so that what the server runs
    never depends on regorus's parser reading the text as OPA's does.  Every reference to a
    denied built-in is refused (what a `with` replaces excepted); a call, or a `with` value,
    from any other name than `data`, `input` or a local must be an allowed built-in.
    """
    if not isinstance(ast, dict):
        return ("OPA did not say how it compiled the module", None, None)
    path = (ast.get("package") or {}).get("path") or []
    if len(path) > 1 and isinstance(path[1], dict) and path[1].get("value") == "system":
        return ("is in package system: policies may not join an OPA server's own system "
                "policies", None, None)
    # (node, its role, the location of the nearest node around it that has one)
    stack: list[tuple[Any, str, Any]] = [(ast.get("rules") or [], "ref", None)]
    while stack:
        node, role, where = stack.pop()
        if isinstance(node, list):
            stack.extend((item, "ref", where) for item in node)
            continue
        if not isinstance(node, dict):
            continue
        where = node.get("location") or where
        kind = node.get("type")
        value = node.get("value")
        if kind == "ref" and isinstance(value, list) and value:
            reason = _judge_opa_ref(value, role)
            if reason is not None:
                location = where if isinstance(where, dict) else {}
                return reason, location.get("row"), location.get("col")
            stack.extend((item, "ref", where) for item in value[1:])
            continue
        if kind == "call" and isinstance(value, list) and value:
            stack.append((value[0], "call", where))
            stack.extend((item, "ref", where) for item in value[1:])
            continue
        terms = node.get("terms")
        if isinstance(terms, list) and terms:  # an expression that is a call: operator first
            stack.append((terms[0], "call", where))
            stack.extend((item, "ref", where) for item in terms[1:])
        elif terms is not None:
            stack.append((terms, "ref", where))
        for modifier in node.get("with") or ():
            if isinstance(modifier, dict):  # what it replaces (`target`) is not called
                stack.append((modifier.get("value"), "with", modifier.get("location") or where))
        stack.extend((item, "ref", where) for key, item in node.items()
                     if key not in ("terms", "with", "location", "type"))
    return None


def _judge_opa_ref(ref: list[Any], role: str) -> str | None:
    head = ref[0]
    if not isinstance(head, dict) or head.get("type") != "var":
        return None
    keys: tuple[str | None, ...] = (str(head.get("value")), *(
        str(t.get("value")) if isinstance(t, dict) and t.get("type") == "string" else None
        for t in ref[1:]))
    root = keys[0] or ""
    if root in _NOT_BUILTINS or root.startswith(("__local", "$")):
        return None  # a path from data or input, or a local
    use = NameUse("call" if role == "call" else role, keys, 0, 0)
    return _judge(use, frozenset())


def opa_capabilities(current: dict[str, Any]) -> dict[str, Any]:
    """OPA's capabilities (`opa capabilities --current`) with only the allowed built-ins, and
    no host a built-in may connect to (`allow_net: []`)."""
    builtins = [b for b in current.get("builtins") or () if b.get("name") in ALLOWED_BUILTINS]
    return {**{k: v for k, v in current.items() if k != "builtins"},
            "builtins": builtins, "allow_net": []}


def _main() -> None:
    """`opa capabilities --current | python -m pe_policy.engine.sandbox > opa_capabilities.json`"""
    json.dump(opa_capabilities(json.load(sys.stdin)), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    _main()


__all__ = [
    "ALLOWED_BUILTINS",
    "CAPABILITIES_FILE",
    "DENIED_BUILTINS",
    "FORBIDDEN_BUILTINS",
    "KNOWN_BUILTINS",
    "opa_ast_refusal",
    "opa_capabilities",
    "pack_refusals",
    "refusal",
    "refusals",
    "refuse_unsafe",
]
