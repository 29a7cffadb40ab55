"""The Rego engines pe-policy evaluates with: the embedded regorus, or an OPA server.

`make_backend` picks one; the evaluator only sees the `RegoBackend` protocol.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from pe_policy.engine.policy_error import PolicyError, policy_error_from_engine, rejected_by_regorus
from pe_policy.engine.rego import RegoModule


class RegoBackend(Protocol):
    """What the evaluator needs from a Rego engine."""

    name: str

    def add_module(self, module: RegoModule) -> None: ...

    def set_data(self, data: dict[str, Any]) -> None: ...

    def set_input_json(self, text: str) -> None: ...

    def eval_rule(self, rule_path: str) -> Any:
        """The rule's value decoded from JSON; None when undefined."""
        ...


UNDEFINED_JSON = '"<undefined>"'  # what regorus's eval_rule_as_json returns for undefined


class RegorusBackend:
    """The default: microsoft/regorus compiled into the wheel `gordon-to-regorus`."""

    name = "regorus"

    def __init__(self) -> None:
        from pe_policy.engine.rego_ast import import_regorus  # lazy: a run with no Rego rules
        # for its kinds never pays for it

        self._engine = import_regorus().Engine()
        self._v0 = False
        self._added: list[tuple[str, bool, str]] = []  # (path, v0, text as added)
        self._data_json = ""

    def add_module(self, module: RegoModule) -> None:
        from pe_policy.engine.polyfill import inline_metadata  # rego.metadata.* is missing
        from pe_policy.engine.rego_ast import as_opa_evaluates
        from pe_policy.engine.sandbox import refuse_unsafe

        # and `not f(x.missing)` is undefined, as on OPA (regorus: true)
        text = as_opa_evaluates(module.path, inline_metadata(module.text, module.package))
        refuse_unsafe(module)  # whoever adds it: no denied built-in, no `system` package
        self._add(module.path, module.v0, text)
        self._added.append((module.path, module.v0, text))

    def _add(self, path: str, v0: bool, text: str) -> None:
        if v0 != self._v0:
            self._engine.set_rego_v0(v0)
            self._v0 = v0
        try:
            self._engine.add_policy(path, text)
        except RuntimeError as exc:
            raise rejected_by_regorus(policy_error_from_engine(path, exc)) from None

    def set_data(self, data: dict[str, Any]) -> None:
        self._data_json = json.dumps(data)
        self._engine.clear_data()
        self._engine.add_data_json(self._data_json)

    def refused_modules(self) -> list[PolicyError]:
        """Compile the modules now: each one regorus rejects is named and left out.

        regorus compiles every module on the first evaluation, and one it rejects (a
        variable shadowed inside a comprehension, which OPA accepts) would fail every rule
        of every module.  Its error names the file: that module is dropped and the rest
        compiled again.  Called once the data is in (new data means compiling again), so
        the first evaluation pays nothing more.
        """
        refused: list[PolicyError] = []
        while True:
            try:
                self._engine.eval_query("true")
                return refused
            except RuntimeError as exc:
                error = policy_error_from_engine("", exc)
                if error.path not in {path for path, _, _ in self._added}:
                    return refused  # no one module's fault: evaluation reports it, rule by rule
                refused.append(rejected_by_regorus(error))
                self._added = [added for added in self._added if added[0] != error.path]
                self._engine = self._engine.__class__()  # a fresh engine, without that module
                self._v0 = False
                for path, v0, text in self._added:
                    self._add(path, v0, text)
                if self._data_json:
                    self._engine.add_data_json(self._data_json)

    def set_input_json(self, text: str) -> None:
        self._engine.set_input_json(text)

    def eval_rule(self, rule_path: str) -> Any:
        raw = self._engine.eval_rule_as_json(rule_path)
        if raw is None or raw == UNDEFINED_JSON:
            return None
        return json.loads(raw)

    def eval_rules_each(self, rule_paths: list[str], inputs: list[str]) -> list[list[Any] | None]:
        """The values of these rules on each of several inputs (JSON texts), in one engine call.

        `with input as` gives each document its own evaluation (no rule value leaks from
        one to the next); an input on which some rule is undefined gets None.
        """
        if len(inputs) == 1:  # no `with`: one document is the engine's input as it is
            self._engine.set_input_json(inputs[0])
            raw = self._engine.eval_query_as_json("[" + ", ".join(rule_paths) + "]")
            results = json.loads(raw).get("result") or []
            value = results[0]["expressions"][0]["value"] if results else None
            return [value if isinstance(value, list) else None]
        self._engine.set_input_json("[" + ",".join(inputs) + "]")
        raw = self._engine.eval_query_as_json(
            f"[[i, r] | d := input[i]; r := [{', '.join(rule_paths)}] with input as d]")
        results = json.loads(raw).get("result") or []
        out: list[list[Any] | None] = [None] * len(inputs)
        for i, value in results[0]["expressions"][0]["value"] if results else ():
            out[i] = value if isinstance(value, list) else None
        return out

    @property
    def engine(self) -> Any:
        return self._engine


ENGINES = ("regorus", "opa")


def make_backend(name: str = "regorus", **options: Any) -> RegoBackend:
    """`regorus` (default, embedded) or `opa` (a real OPA server: needs `opa_url`)."""
    if name == "regorus":
        return RegorusBackend()
    if name == "opa":
        from pe_policy.engine.opa_backend import OpaBackend

        url = options.get("opa_url") or ""
        if not url:
            raise PolicyError("--engine opa", "needs the server's URL: --opa-url http://host:8181")
        return OpaBackend(url)
    raise ValueError(f"unknown Rego engine {name!r} (known: {', '.join(ENGINES)})")
