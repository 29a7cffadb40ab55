"""The `opa` backend: a running OPA server decides, pe-policy only asks.

Policies are uploaded (`PUT /v1/policies/{id}`), data put under its top-level
keys (`PUT /v1/data/<key>`), and each rule is queried per document
(`POST /v1/data/<package path>/<rule>` with the document as `input`), through
`opa-python-client`.  Every failure (server down, policy rejected, query
error) is a `PolicyError` or a `RuntimeError` naming the URL and the policy
file; never a traceback.

OPA's REST API compiles an uploaded module with every built-in the server has:
it takes no capabilities file.  So what a module may call is judged before it is
uploaded (`sandbox.py`: the evaluator and `verify` judge every module from
regorus's parse tree, and `add_module` refuses one that uses a denied built-in
whoever calls it), and judged again as OPA compiled it once it is uploaded (the
module the server keeps, `GET /v1/policies/<id>`), before anything is queried:
one OPA reads otherwise than regorus is deleted and refused.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from pe_policy.engine.rego import PolicyError, RegoModule

DEFAULT_TIMEOUT = 30.0
POLICY_ID_PREFIX = "pe-policy"
# OPA's default turns a built-in's error (`lower(7)`) into an undefined expression: the rule
# silently finds less.  regorus raises it.  Strict mode makes OPA raise it too, so both engines
# report the rule as not evaluated on that document (PE-RULE-ERROR) instead of passing it.
STRICT_BUILTIN_ERRORS = {"strict-builtin-errors": True}


def policy_id(module: RegoModule) -> str:
    """A stable id per file, so a re-run replaces its own upload instead of adding one."""
    return f"{POLICY_ID_PREFIX}/{module.path.lstrip('/')}"


def _error_text(body: Any) -> tuple[str, int | None, int | None]:
    """OPA's error body → (message, row, col) of the first detailed error."""
    if not isinstance(body, dict):
        return str(body), None, None
    message = str(body.get("message") or body.get("code") or body)
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        raw_location = first.get("location")
        location: dict[str, Any] = raw_location if isinstance(raw_location, dict) else {}
        detail = "; ".join(str(e.get("message")) for e in errors
                           if isinstance(e, dict) and e.get("message"))
        if detail:
            message = f"{message}: {detail}"
        return message, location.get("row"), location.get("col")
    return message, None, None


class OpaBackend:
    name = "opa"

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        try:
            from opa_client.opa import OpaClient
        except ImportError:
            raise PolicyError(url, "opa-python-client is not installed: "
                              "pip install 'pe-policy[opa]'") from None
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PolicyError(url, "not an OPA server URL (expected http://host:port)")
        if parts.path.strip("/"):
            raise PolicyError(url, "OPA URLs with a path prefix are not supported "
                              "(expected http://host:port)")
        self.url = f"{parts.scheme}://{parts.netloc}"
        port = parts.port or (443 if parts.scheme == "https" else 8181)
        self._client = OpaClient(host=parts.hostname, port=port, ssl=parts.scheme == "https",
                                 timeout=timeout, retries=0)
        self._input: Any = None

    def _unreachable(self, what: str, exc: BaseException) -> str:
        reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(exc))
        detail = reason.group(1).strip() if reason else f"{type(exc).__name__}: {exc}"
        return f"cannot reach OPA at {self.url} ({what}): {detail}"

    def add_module(self, module: RegoModule) -> None:
        import requests
        from opa_client.errors import RegoParseError

        from pe_policy.engine.sandbox import refuse_unsafe

        refuse_unsafe(module)  # before anything reaches the server
        try:
            self._client.update_policy_from_string(module.text, policy_id(module))
        except RegoParseError as exc:
            message, row, col = _error_text({"message": exc.message, "errors": exc.errors})
            raise PolicyError(module.path, f"OPA at {self.url} rejected the policy: {message}",
                              row, col) from None
        except requests.RequestException as exc:
            raise PolicyError(module.path, self._unreachable(f"uploading {module.path}", exc)) from None
        except ValueError as exc:  # a non-JSON answer: not an OPA server
            raise PolicyError(module.path, f"{self.url} did not answer like an OPA server "
                              f"when uploading the policy: {exc}") from None
        self._judge_as_compiled(module)

    def _judge_as_compiled(self, module: RegoModule) -> None:
        """The sandbox's judgement of the module as this server compiled it; a module it
        refuses (or that cannot be read back) is deleted before anything is queried."""
        from pe_policy.engine.sandbox import SANDBOXED, opa_ast_refusal

        pid = policy_id(module)
        try:
            stored = self._client.get_policy(pid)
            result = stored.get("result") if isinstance(stored, dict) else None
            refused = opa_ast_refusal(result.get("ast") if isinstance(result, dict) else None)
        except Exception as exc:  # unreachable, not found, not OPA's answer: not judged
            refused = (f"could not be read back from OPA at {self.url} to be judged as it "
                       f"compiled it ({type(exc).__name__})", None, None)
        if refused is None:
            return
        message, row, col = refused
        try:
            self._client.delete_policy(pid)
        except Exception as exc:  # whatever it was, the run must not go on with it there
            raise PolicyError(module.path, f"{message}, as OPA at {self.url} compiled it, and "
                              f"could not be deleted from it ({type(exc).__name__}): stop "
                              "that server" + SANDBOXED, row, col) from None
        raise PolicyError(module.path, f"{message}, as OPA at {self.url} compiled it"
                          + SANDBOXED, row, col)

    def set_data(self, data: dict[str, Any]) -> None:
        import requests
        from opa_client.errors import RegoParseError

        for key, value in data.items():
            target = f"{self.url}/v1/data/{key}"
            if not isinstance(value, dict):
                raise PolicyError(target, "OPA data must be an object under each top-level key")
            try:
                self._client.update_or_create_data(value, key)
            except RegoParseError as exc:
                raise PolicyError(target, f"OPA at {self.url} refused the data: "
                                  f"{exc.message}") from None
            except requests.RequestException as exc:
                raise PolicyError(target, self._unreachable("putting data", exc)) from None
            except ValueError as exc:
                raise PolicyError(target, f"{self.url} did not answer like an OPA server "
                                  f"when putting data: {exc}") from None

    def set_input_json(self, text: str) -> None:
        self._input = json.loads(text)

    def eval_rule(self, rule_path: str) -> Any:
        import requests

        package, _, rule = rule_path.removeprefix("data.").rpartition(".")
        try:
            body = self._client.query_rule(self._input, package, rule,
                                           query_params=STRICT_BUILTIN_ERRORS)
        except requests.HTTPError as exc:
            response = exc.response
            try:
                detail, _, _ = _error_text(response.json()) if response is not None else ("", 0, 0)
            except ValueError:
                detail = response.text[:300] if response is not None else str(exc)
            status = response.status_code if response is not None else "?"
            raise RuntimeError(f"OPA at {self.url} failed on {rule_path} "
                               f"(HTTP {status}): {detail}") from None
        except requests.RequestException as exc:
            raise RuntimeError(self._unreachable(f"querying {rule_path}", exc)) from None
        except ValueError as exc:
            raise RuntimeError(f"{self.url} did not answer like an OPA server "
                               f"querying {rule_path}: {exc}") from None
        if not isinstance(body, dict):
            raise RuntimeError(f"OPA at {self.url} answered {rule_path} with {body!r}")
        return body.get("result")

    def close(self) -> None:
        self._client.close_connection()
