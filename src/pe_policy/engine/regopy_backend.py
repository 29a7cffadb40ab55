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
  error of every rule of the module that calls them;
* the bugs of rego-cpp 1.5.2 that would crash the process or silently lose
  a result are rewritten away before it sees a policy (`regopy_rewrite.py`);
* each query runs in a forked child (`isolate=True`, the default where
  `fork` exists): a crash or a runaway query becomes an error naming the
  rule, never the end of pe-policy, and the memory rego-cpp keeps per query
  (up to 1 GB for a test package with many `with`s) goes with the child.
"""

from __future__ import annotations

import faulthandler
import itertools
import json
import os
import pickle
import re
import select
import signal
import time
from typing import Any

from pe_policy.engine.polyfill import (
    POLYFILL_PACKAGE,
    REGOPY_SPRINTF_MODULE,
    blank_non_code,
    missing_builtins,
)
from pe_policy.engine.rego import PolicyError, RegoModule
from pe_policy.engine.regopy_rewrite import (
    POLYFILL_ERROR_PREFIX,
    REGOPY_INPUT_KEY,
    REGOPY_REGEX_MODULE,
    regopy_source,
)

QUERY_TIMEOUT = 300.0  # seconds for one isolated query: a stuck rego-cpp is stopped and named
_POLYFILL_FILES = {f"{POLYFILL_PACKAGE}/sprintf.rego": REGOPY_SPRINTF_MODULE,
                   f"{POLYFILL_PACKAGE}/regex.rego": REGOPY_REGEX_MODULE}


class _Pairs(list[tuple[Any, Any]]):
    """A Rego object whose keys are not JSON scalars (arrays, objects): kept as (key, value)."""


class RegopyBackend:
    """One rego-cpp interpreter per package and the packages it refers to.

    rego-cpp compiles every module of an interpreter at the first query, so
    one module it cannot handle would fail every rule; isolating each
    package with its dependencies keeps that failure on the rules concerned.
    """

    name = "regopy"

    def __init__(self, isolate: bool = True, query_timeout: float | None = QUERY_TIMEOUT) -> None:
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
        self._missing: dict[str, list[str]] = {}  # module path -> built-ins rego-cpp lacks
        self._texts: dict[str, str] = dict(_POLYFILL_FILES)  # file -> text given to rego-cpp
        self._package_by_path: dict[str, str] = {}
        self._isolate = isolate and hasattr(os, "fork")
        self._timeout = query_timeout
        self._checker = self._new_interpreter()

    def _new_interpreter(self) -> Any:
        interp = self._regopy.Interpreter()
        interp.log_level = self._regopy.LogLevel.NONE  # it prints errors to stdout otherwise
        interp.strict_built_in_errors = True
        for name, text in _POLYFILL_FILES.items():
            interp.add_module(name, text)
        return interp

    def add_module(self, module: RegoModule) -> None:
        missing = missing_builtins(module.text, self._checker.is_builtin)
        if missing:
            self._missing[module.path] = missing
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
        self._texts[module.path] = text
        self._package_by_path[module.path] = module.package
        self._interpreters.clear()

    def set_data(self, data: dict[str, Any]) -> None:
        self._data = json.dumps(data, ensure_ascii=False)
        self._interpreters.clear()

    def set_input_json(self, text: str) -> None:
        # rego-cpp keeps a string as its JSON text: `\u00e9` would never equal the
        # policy's "é", and count() would see six characters
        self._input = _unicode_json(text)
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

    def _interpreter(self, key: frozenset[str], test: tuple[str, str] | None = None) -> Any:
        """The interpreter for the modules `key` (a closure), input set.

        For a test rule (`test` = (package, rule)), a fresh one in which the package's
        other tests are blanked out: rego-cpp compiles every rule of the program for each
        query, expanding every `with` of every test, so a package of 14 tests costs 10x one.
        """
        entry = None if test else self._interpreters.get(key)
        if entry is None:
            interp = self._new_interpreter()
            for module, text in self._modules:
                if module.path in key:
                    if test and module.package == test[0]:
                        text = keep_only_test(text, test[1])
                    interp.add_module(module.path, text)
            interp.add_data_json(self._data)
            entry = (interp, [-1])
            if not test:
                self._interpreters[key] = entry
        interp, version = entry
        if version[0] != self._input_version:
            interp.set_input_term(f'{{"{REGOPY_INPUT_KEY}": {self._input}}}')
            version[0] = self._input_version
        return interp

    def _check_builtins(self, key: frozenset[str], packages: set[str]) -> None:
        """A built-in rego-cpp lacks, called anywhere the query reaches, named up front."""
        missing = sorted({(path, name) for path, names in self._missing.items()
                          if path in key for name in names})
        if missing:
            names = ", ".join(dict.fromkeys(name for _, name in missing))
            elsewhere = [path for path in dict.fromkeys(path for path, _ in missing)
                         if self._package_by_path.get(path) not in packages]
            where = f" (called in {', '.join(elsewhere)})" if elsewhere else ""
            raise RuntimeError(f"built-in {names}{where} not available in regopy "
                               "(use --engine regorus or opa)")

    def _result(self, package: str, value: Any) -> Any:
        """A rule's value as the other engines give it."""
        if package in self._v0_packages:
            value = _v0_set(value)
        return _plain(value)

    def eval_rule(self, rule_path: str) -> Any:
        package = self._package_of(rule_path)
        key = self._closure(package)
        self._check_builtins(key, {package})
        rule = rule_path.rsplit(".", 1)[-1]
        interp = self._interpreter(key, (package, rule) if rule.startswith("test_") else None)
        value = self._run(interp, rule_path)
        return None if value is _UNDEFINED else self._result(package, value)

    def eval_rules(self, rule_paths: list[str]) -> list[Any] | None:
        """Several rules in one query: the libraries they share (the workflow pipeline
        classification) are computed once, not once per rule.  None if any is undefined."""
        packages = [self._package_of(path) for path in rule_paths]
        key = frozenset().union(*(self._closure(package) for package in packages))
        self._check_builtins(key, set(packages))
        value = self._run(self._interpreter(key), "[" + ", ".join(rule_paths) + "]")
        if not isinstance(value, list) or len(value) != len(rule_paths):
            return None
        return [self._result(package, item) for package, item in zip(packages, value, strict=True)]

    def _run(self, interp: Any, query: str) -> Any:
        """The query's first value (`_UNDEFINED` if none), in a child process when isolated."""
        if not self._isolate:
            return self._query(interp, query)
        return self._query_in_child(interp, query)

    def _query(self, interp: Any, query: str) -> Any:
        from regopy import rego_shared as rs

        output = rs.rego_query(interp._impl, query)
        try:
            if not rs.rego_output_ok(output):
                detail = self._describe_error(rs.rego_output_node(output))
                raise RuntimeError(f"regopy could not evaluate {query}: {detail}")
            return _first_expression(rs.rego_output_node(output))
        finally:
            rs.rego_free_output(output)

    def _query_in_child(self, interp: Any, query: str) -> Any:
        """`_query` in a forked child: the interpreter (input set) is inherited, the result
        comes back pickled; a crash or a timeout is an error naming the query."""
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 0
            try:
                faulthandler.disable()  # a crash is the parent's to report, once
                os.close(read_fd)
                try:
                    value = self._query(interp, query)
                    result: tuple[str, Any] = (
                        ("undefined", None) if value is _UNDEFINED else ("ok", value))
                except Exception as exc:  # reported by the parent as this rule's error
                    result = ("error", str(exc))
                payload = memoryview(pickle.dumps(result))
                while payload:
                    payload = payload[os.write(write_fd, payload):]
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(write_fd)
        raw, timed_out = b"", True
        try:
            raw, timed_out = _read_all(read_fd, self._timeout)
        finally:
            os.close(read_fd)
            if timed_out:  # also when interrupted: the child must not outlive the query
                os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        if timed_out:
            raise RuntimeError(f"regopy did not finish {query} within {self._timeout:g} s "
                               "(stopped)")
        if os.WIFSIGNALED(status) or not raw:
            raise RuntimeError(f"regopy crashed evaluating {query} "
                               f"({_exit_reason(status)}): a rego-cpp bug, use --engine regorus")
        kind, value = pickle.loads(raw)
        if kind == "error":
            raise RuntimeError(value)
        return _UNDEFINED if kind == "undefined" else value

    def _describe_error(self, node: Any) -> str:
        """rego-cpp's error nodes → `message at file:line` (a polyfill's own message as is)."""
        from regopy import rego_shared as rs

        messages: list[str] = []
        for index in range(rs.rego_node_size(node)):
            text = rs.rego_node_json(rs.rego_node_get(node, index))
            own = re.search(re.escape(POLYFILL_ERROR_PREFIX) + r'([^"\n]*)', text)
            if own:
                messages.append(own.group(1))
                continue
            message = _ERROR_MESSAGE.search(text)
            where = _ERROR_WHERE.search(text)
            detail = message.group(1).strip() if message else "<error>"
            if where and where.group("file") in self._texts:
                file = where.group("file")
                line = self._texts[file].count("\n", 0, int(where.group("offset"))) + 1
                shown = "regopy's polyfill" if file in _POLYFILL_FILES else f"{file}:{line}"
                detail += f" at {shown}"
            messages.append(detail)
        unique = list(dict.fromkeys(messages))
        return "; ".join(unique) if unique else "<error> (a built-in failed in regopy)"


def _read_all(fd: int, timeout: float | None) -> tuple[bytes, bool]:
    """Everything written to `fd` until EOF; (data, whether the deadline passed first)."""
    chunks: list[bytes] = []
    deadline = None if not timeout else time.monotonic() + timeout
    while True:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            return b"".join(chunks), True
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)


def _exit_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            return signal.Signals(number).name
        except ValueError:
            return f"signal {number}"
    return f"exit status {os.WEXITSTATUS(status)}"


_TOP_LEVEL = re.compile(r"^[^\s#}\])]", re.MULTILINE)
_TEST_NAME = re.compile(r"test_\w*")


def keep_only_test(text: str, test: str) -> str:
    """`text` with every top-level `test_*` rule but `test` (and those it names) blanked out,
    line breaks kept so positions stay."""
    code = blank_non_code(text)
    starts = [m.start() for m in _TOP_LEVEL.finditer(code)] + [len(text)]
    spans = [(start, end, _TEST_NAME.match(code, start)) for start, end in itertools.pairwise(starts)]
    kept = "".join(text[start:end] for start, end, name in spans
                   if name and name.group(0) == test)
    out: list[str] = []
    last = 0
    for start, end, name in spans:
        other = name.group(0) if name and name.end() < len(code) and not (
            code[name.end()].isalnum() or code[name.end()] == "_") else None
        if other is None or other == test or re.search(rf"\b{other}\b", kept):
            continue
        out.append(text[last:start])
        out.append(re.sub(r"[^\n]", " ", text[start:end]))
        last = end
    out.append(text[last:])
    return "".join(out)


_DATA_REF = re.compile(r"\bdata\.((?:[A-Za-z_]\w*)(?:\.[A-Za-z_]\w*)*)")


def _related(package: str, reference: str) -> bool:
    """A reference `a.b.c` needs package `a.b` (a rule in it) or `a.b.c.d` (a package below)."""
    return (package == reference or reference.startswith(package + ".")
            or package.startswith(reference + "."))


_UNDEFINED = object()
_ERROR_AT = re.compile(r"\(error \d+:[^|\n]*\|(\d+)\|\d+")
_ERROR_MESSAGE = re.compile(r"\(errormsg \d+:([^\n]*)\)")
_ERROR_WHERE = re.compile(r"\(errorast\s*\(\S+ \d+:(?P<file>[^|\s]+)\|(?P<offset>\d+)\|\d+")


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


def _unicode_json(text: str) -> str:
    """JSON text with non-ASCII characters as themselves, not `\\uXXXX` escapes."""
    if "\\u" not in text:
        return text
    try:
        return json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text


_JSON_ESCAPE = re.compile(r'\\(["\\/bfnrt]|u[0-9a-fA-F]{4})')


def _unescape(match: re.Match[str]) -> str:
    decoded = json.loads(f'"\\{match.group(1)}"')
    return decoded if isinstance(decoded, str) else match.group(0)


def _string(raw: str) -> str:
    """A rego-cpp string node's text as the string it stands for.

    rego-cpp keeps strings JSON-escaped, sometimes with their quotes (`"say \\"hi\\""`),
    sometimes without (`say \\"hi\\"`), and some built-ins (trim_space) return the plain
    characters, which concat then mixes with escaped text: decode what is escaped.
    """
    if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
        try:
            decoded = json.loads(raw)
        except json.JSONDecodeError:
            raw = raw[1:-1]
        else:
            if isinstance(decoded, str):
                return decoded
    if "\\" not in raw:
        return raw
    try:
        decoded = json.loads(f'"{raw}"')
    except json.JSONDecodeError:
        return _JSON_ESCAPE.sub(_unescape, raw)
    return decoded if isinstance(decoded, str) else raw


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
