"""The `regopy` backend: Microsoft's rego-cpp, an independent second Rego implementation.

Used for differential testing against regorus.  Its quirks (DESIGN.md) are
absorbed here so findings come out exactly as from the other engines:

* results are read from the output's node tree, not its JSON text: rego-cpp
  prints strings without escaping quotes, and some string nodes carry their
  JSON quotes;
* a v0 partial set (`deny[msg] { ... }`) comes back as an object
  `{msg: true}`: turned back into the set;
* `strict_built_in_errors` is on, and an evaluation error (rego-cpp reports
  only `<error>`) becomes an error naming the rule, never an undefined rule;
* built-ins rego-cpp lacks are polyfilled (`polyfill.py`) or named in the
  error of every rule of the module that calls them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pe_policy.engine.polyfill import (
    POLYFILL_PACKAGE,
    REGOPY_INPUT_KEY,
    REGOPY_SPRINTF_MODULE,
    blank_non_code,
    inline_metadata,
    missing_builtins,
    redirect_input,
    route_sprintf,
    unfold_pair_iteration,
    wrap_with_values,
)
from pe_policy.engine.rego import PolicyError, RegoModule


class _Pairs(list[tuple[Any, Any]]):
    """A Rego object whose keys are not JSON scalars (arrays, objects): kept as (key, value)."""


class RegopyBackend:
    """One rego-cpp interpreter per package and the packages it refers to.

    rego-cpp compiles every module of an interpreter at the first query, so
    one module it cannot handle would fail every rule; isolating each
    package with its dependencies keeps that failure on the rules concerned.
    """

    name = "regopy"

    def __init__(self) -> None:
        try:
            import regopy
        except ImportError:
            raise PolicyError("--engine regopy",
                              "regopy is not installed: pip install 'pe-policy[regopy]'") from None
        self._regopy = regopy
        self._modules: list[tuple[RegoModule, str]] = []  # (module, text as given to rego-cpp)
        self._data = "{}"
        self._input = "{}"
        self._input_version = 0
        self._interpreters: dict[frozenset[str], tuple[Any, list[int]]] = {}
        self._v0_packages: set[str] = set()
        self._missing: dict[str, tuple[str, list[str]]] = {}  # package -> (file, built-ins)
        self._checker = self._new_interpreter()

    def _new_interpreter(self) -> Any:
        interp = self._regopy.Interpreter()
        interp.log_level = self._regopy.LogLevel.NONE  # it prints errors to stdout otherwise
        interp.strict_built_in_errors = True
        interp.add_module(f"{POLYFILL_PACKAGE}.rego", REGOPY_SPRINTF_MODULE)
        return interp

    def add_module(self, module: RegoModule) -> None:
        missing = missing_builtins(module.text, self._checker.is_builtin)
        if missing:
            self._missing[module.package] = (module.path, missing)
        if module.v0 and "rego.v1" not in module.text:
            self._v0_packages.add(module.package)
        text = regopy_source(module)
        try:
            self._new_interpreter().add_module(module.path, text)  # parse errors now, by file
        except self._regopy.RegoError as exc:
            message, line, column = _rego_cpp_error(str(exc), text)
            raise PolicyError(module.path, f"regopy rejected the policy: {message}",
                              line, column) from None
        self._modules.append((module, text))
        self._interpreters.clear()

    def set_data(self, data: dict[str, Any]) -> None:
        self._data = json.dumps(data)
        self._interpreters.clear()

    def set_input_json(self, text: str) -> None:
        self._input = text
        self._input_version += 1

    def _package_of(self, rule_path: str) -> str:
        return rule_path.removeprefix("data.").rsplit(".", 1)[0]

    def _closure(self, package: str) -> frozenset[str]:
        """Paths of the modules of `package` and of every package they refer to."""
        wanted = {package}
        chosen: set[str] = set()
        changed = True
        while changed:
            changed = False
            for module, text in self._modules:
                if module.path in chosen:
                    continue
                if any(_related(module.package, w) for w in wanted):
                    chosen.add(module.path)
                    wanted.update(_DATA_REF.findall(blank_non_code(text)))
                    changed = True
        return frozenset(chosen)

    def _interpreter(self, package: str) -> Any:
        key = self._closure(package)
        entry = self._interpreters.get(key)
        if entry is None:
            interp = self._new_interpreter()
            for module, text in self._modules:
                if module.path in key:
                    interp.add_module(module.path, text)
            interp.add_data_json(self._data)
            entry = (interp, [-1])
            self._interpreters[key] = entry
        interp, version = entry
        if version[0] != self._input_version:
            interp.set_input_term(f'{{"{REGOPY_INPUT_KEY}": {self._input}}}')
            version[0] = self._input_version
        return interp

    def eval_rule(self, rule_path: str) -> Any:
        from regopy import rego_shared as rs

        package = self._package_of(rule_path)
        if package in self._missing:
            file, names = self._missing[package]
            raise RuntimeError(f"{file}: built-in {', '.join(names)} not available in regopy "
                               "(use --engine regorus or opa)")
        interp = self._interpreter(package)
        output = rs.rego_query(interp._impl, rule_path)
        try:
            if not rs.rego_output_ok(output):
                raise RuntimeError(f"regopy could not evaluate {rule_path}: "
                                   f"{_explain(interp, rule_path)}")
            value = _first_expression(rs.rego_output_node(output))
        finally:
            rs.rego_free_output(output)
        if value is _UNDEFINED:
            return None
        if package in self._v0_packages:
            value = _v0_set(value)
        return _plain(value)


def regopy_source(module: RegoModule) -> str:
    """The module as rego-cpp is given it: every rewrite of `polyfill.py` applied."""
    text = inline_metadata(module.text, module.package)
    return wrap_with_values(redirect_input(unfold_pair_iteration(route_sprintf(text))))


_DATA_REF = re.compile(r"\bdata\.((?:[A-Za-z_]\w*)(?:\.[A-Za-z_]\w*)*)")


def _related(package: str, reference: str) -> bool:
    """A reference `a.b.c` needs package `a.b` (a rule in it) or `a.b.c.d` (a package below)."""
    return (package == reference or reference.startswith(package + ".")
            or package.startswith(reference + "."))


def _explain(interp: Any, rule_path: str) -> str:
    """rego-cpp says only `<error>`; its details go to stdout: capture them by re-running."""
    import os
    import tempfile

    from regopy import rego_shared as rs

    interp.log_level = interp.log_level.__class__.ERROR
    with tempfile.TemporaryFile(mode="w+b") as capture:
        import sys

        sys.stdout.flush()
        saved = os.dup(1)
        try:
            os.dup2(capture.fileno(), 1)
            output = rs.rego_query(interp._impl, rule_path)
            rs.rego_free_output(output)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            interp.log_level = interp.log_level.__class__.NONE
        capture.seek(0)
        printed = capture.read().decode("utf-8", errors="replace")
    match = re.search(r"Errors:\s*\n(?P<msg>[^\n]+)\n-- (?P<where>[^\n]+)", printed)
    if match:
        return f"{match.group('msg').strip()} at {match.group('where').strip()}"
    return "<error> (a built-in failed or is not supported by regopy)"


_UNDEFINED = object()
_ERROR_AT = re.compile(r"\(error \d+:[^|\n]*\|(\d+)\|\d+")
_ERROR_MESSAGE = re.compile(r"\(errormsg \d+:([^)\n]*)\)")


def _rego_cpp_error(text: str, source: str) -> tuple[str, int | None, int | None]:
    """rego-cpp's error tree → (first message, line, column) in the module it was given."""
    message = _ERROR_MESSAGE.search(text)
    at = _ERROR_AT.search(text)
    line = column = None
    if at is not None:
        offset = min(int(at.group(1)), len(source))
        line = source.count("\n", 0, offset) + 1
        column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return (message.group(1).strip() if message else text.splitlines()[0]), line, column


def _first_expression(root: Any) -> Any:
    """Results → Result → Terms → first term; `_UNDEFINED` when there is none."""
    from regopy import rego_shared as rs
    from regopy.rego_shared import NodeKind

    node = root
    for kind in (NodeKind.Results, NodeKind.Result, NodeKind.Terms):
        if rs.rego_node_type(node) != kind or rs.rego_node_size(node) == 0:
            return _UNDEFINED
        node = rs.rego_node_get(node, 0)
    return _to_python(node)


def _string(raw: str) -> str:
    """rego-cpp string nodes sometimes keep their JSON quotes; drop them when they do."""
    if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
        try:
            decoded = json.loads(raw)
        except json.JSONDecodeError:
            return raw
        if isinstance(decoded, str):
            return decoded
    return raw


def _to_python(node: Any) -> Any:
    from regopy import rego_shared as rs
    from regopy.rego_shared import NodeKind

    kind = rs.rego_node_type(node)
    while kind in (NodeKind.Term, NodeKind.Scalar):
        node = rs.rego_node_get(node, 0)
        kind = rs.rego_node_type(node)
    if kind == NodeKind.String:
        return _string(rs.rego_node_value(node))
    if kind == NodeKind.Int:
        return int(rs.rego_node_value(node))
    if kind == NodeKind.Float:
        return float(rs.rego_node_value(node))
    if kind == NodeKind.Boolean:
        return rs.rego_node_value(node) == "true"
    if kind == NodeKind.Null:
        return None
    size = rs.rego_node_size(node)
    children = [rs.rego_node_get(node, i) for i in range(size)]
    if kind in (NodeKind.Array, NodeKind.Set):
        return [_to_python(child) for child in children]
    if kind == NodeKind.Object:
        pairs = _Pairs()
        for item in children:
            pairs.append((_to_python(rs.rego_node_get(item, 0)),
                          _to_python(rs.rego_node_get(item, 1))))
        if all(isinstance(k, (str, int, float, bool)) or k is None for k, _ in pairs):
            return {k if isinstance(k, str) else json.dumps(k): v for k, v in pairs}
        return pairs
    if kind == NodeKind.Undefined:
        return _UNDEFINED
    raise RuntimeError(f"regopy returned an unexpected {rs.rego_node_type_name(node)} node")


def _v0_set(value: Any) -> Any:
    """`{msg: true, ...}` from a v0 partial set rule → `[msg, ...]`."""
    if isinstance(value, _Pairs) and all(v is True for _, v in value):
        return [k for k, _ in value]
    if isinstance(value, dict) and value and all(v is True for v in value.values()):
        return list(value)
    return value


def _plain(value: Any) -> Any:
    """Leftover `_Pairs` (objects keyed by arrays) as JSON would show them: keys serialised."""
    if isinstance(value, _Pairs):
        return {json.dumps(k, sort_keys=True): _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
