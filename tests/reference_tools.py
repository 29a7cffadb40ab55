"""The real reference tools (opa, conftest, regal) and a real OPA server for the tests.

`make test` builds the tools at the versions in `tools/versions.mk` into `.tools/bin`
and puts that folder first on PATH.  A tool that is missing skips its tests on a
developer's machine (run `make tools`) and fails them in CI (CI=true): there the
comparison with the real engine is the point of the test.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TOOLS_DIR = REPO / ".tools" / "bin"


def pinned_versions() -> dict[str, str]:
    """{'opa': 'v1.22.4', ...} from tools/versions.mk, the one place versions are written."""
    text = (REPO / "tools" / "versions.mk").read_text(encoding="utf-8")
    return {m.group(1).lower(): m.group(2)
            for m in re.finditer(r"^([A-Z]+)_VERSION\s*:=\s*(\S+)", text, re.MULTILINE)}


def tool(name: str) -> str:
    """The path of the reference tool `name`; skip (or, in CI, fail) when it is missing."""
    local = TOOLS_DIR / name
    found = str(local) if local.exists() else shutil.which(name)
    if found:
        return found
    message = f"{name} {pinned_versions().get(name, '')} is not built: run `make tools`"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI never skips the reference tools)")
    pytest.skip(message)


def peer(name: str) -> str:
    """The path of the peer `name` (checkov, zizmor) in .bench-venv, installed from
    requirements/peers.lock by `make peers`; skip (or, in CI, fail) when it is missing."""
    found = REPO / ".bench-venv" / "bin" / name
    if found.exists():
        return str(found)
    message = f"{name} (a peer) is not installed: run `make peers`"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI never skips a peer)")
    pytest.skip(message)


def run_tool(name: str, *args: str, cwd: Path = REPO, timeout: float = 300,
             stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool(name), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False, input=stdin)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def opa_server(*extra_args: str) -> Iterator[str]:
    """A real `opa run --server` on a free 127.0.0.1 port; yields its URL, stops it by PID.

    `extra_args` are passed to `opa run` (a bundle with `-b bundle.tar.gz`, say).
    """
    binary = tool("opa")
    for _attempt in range(3):  # a port taken between choosing it and binding it: try another
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [binary, "run", "--server", "--addr", f"127.0.0.1:{port}", "--log-level", "error",
             "--skip-version-check", *extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        try:
            if _wait_healthy(url, proc):
                yield url
                return
            err = proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
            if "address already in use" not in err:
                raise RuntimeError(f"opa run --server did not start: {err.strip()}")
        finally:
            _stop(proc)
    raise RuntimeError("opa run --server could not bind a free port")


def _wait_healthy(url: str, proc: subprocess.Popen[str], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def _stop(proc: subprocess.Popen[str]) -> None:
    """Stop the server by its PID: SIGTERM, then SIGKILL if it lingers."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    if proc.stderr:
        proc.stderr.close()


__all__ = ["TOOLS_DIR", "opa_server", "pinned_versions", "run_tool", "tool"]
