"""A small OPA-REST-compatible server for the `opa` backend's tests.

No OPA binary can be installed here (no registry ships one), so the tests talk
to this: the parts of OPA's REST API pe-policy uses (`PUT/DELETE
/v1/policies/{id}`, `GET /v1/policies`, `PUT /v1/data/{path}`, `POST
/v1/data/{path}`, `GET /health`), with OPA's status codes and error bodies,
evaluating with regorus behind the API (plus the `rego.metadata` polyfill, as
OPA has those built-ins).  With `PE_POLICY_OPA_URL` set the same tests run
against that real OPA instead.  Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pe_policy.engine.polyfill import inline_metadata
from pe_policy.engine.rego import PolicyError, parse_module, policy_error_from_engine


class OpaState:
    def __init__(self) -> None:
        self.policies: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []

    def engine(self, policies: dict[str, str]) -> Any:
        import regorus

        engine = regorus.Engine()
        for policy_id, text in policies.items():
            module = parse_module(policy_id, text)
            engine.set_rego_v0(module.v0)
            try:
                engine.add_policy(policy_id, inline_metadata(text, module.package))
            except RuntimeError as exc:
                raise policy_error_from_engine(policy_id, exc) from None
        engine.add_data_json(json.dumps(self.data))
        return engine


def _compile_error(error: PolicyError) -> dict[str, Any]:
    return {
        "code": "invalid_parameter",
        "message": "error(s) occurred while compiling module(s)",
        "errors": [{
            "code": "rego_parse_error",
            "message": error.message,
            "location": {"file": error.path, "row": error.line or 1, "col": error.column or 1},
        }],
    }


class Handler(BaseHTTPRequestHandler):
    state: OpaState

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        self.state.requests.append(("GET", self.path))
        if self.path.startswith("/health"):
            self._send(200, {})
        elif self.path.rstrip("/") == "/v1/policies":
            with self.state.lock:
                result = [{"id": k, "raw": v} for k, v in self.state.policies.items()]
            self._send(200, {"result": result})
        else:
            self._send(404, {"code": "resource_not_found", "message": f"{self.path} not found"})

    def do_PUT(self) -> None:
        self.state.requests.append(("PUT", self.path))
        body = self._body()
        if self.path.startswith("/v1/policies/"):
            policy_id = self.path.removeprefix("/v1/policies/")
            with self.state.lock:
                candidate = {**self.state.policies, policy_id: body.decode()}
                try:
                    self.state.engine(candidate)
                except PolicyError as exc:
                    self._send(400, _compile_error(exc))
                    return
                self.state.policies = candidate
            self._send(200, {})
        elif self.path.startswith("/v1/data/"):
            keys = [k for k in self.path.removeprefix("/v1/data/").split("/") if k]
            with self.state.lock:
                target = self.state.data
                for key in keys[:-1]:
                    target = target.setdefault(key, {})
                target[keys[-1]] = json.loads(body)
            self._send(204)
        else:
            self._send(404, {"code": "resource_not_found", "message": f"{self.path} not found"})

    def do_DELETE(self) -> None:
        self.state.requests.append(("DELETE", self.path))
        policy_id = self.path.removeprefix("/v1/policies/")
        with self.state.lock:
            existed = self.state.policies.pop(policy_id, None)
        self._send(200 if existed is not None else 404, {})

    def do_POST(self) -> None:
        self.state.requests.append(("POST", self.path))
        if not self.path.startswith("/v1/data/"):
            self._send(404, {"code": "resource_not_found", "message": f"{self.path} not found"})
            return
        rule = "data." + ".".join(k for k in self.path.removeprefix("/v1/data/").split("/") if k)
        request = json.loads(self._body() or b"{}")
        with self.state.lock:
            engine = self.state.engine(self.state.policies)
        if request.get("input") is not None:
            engine.set_input_json(json.dumps(request["input"]))
        try:
            raw = engine.eval_rule_as_json(rule)
        except RuntimeError as exc:
            message = str(exc).split("Stack backtrace:")[0].strip()
            if "not a valid rule path" in message:
                self._send(200, {})
                return
            self._send(500, {"code": "internal_error", "message": message})
            return
        if raw is None or raw == '"<undefined>"':
            self._send(200, {})
        else:
            self._send(200, {"result": json.loads(raw)})


@contextmanager
def opa_stub() -> Iterator[tuple[str, OpaState]]:
    """Start the stub on a free port of 127.0.0.1; yields (url, state)."""
    state = OpaState()
    handler = type("BoundHandler", (Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
