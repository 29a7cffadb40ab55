"""The differential suite: every case in `cases.py` run by the real conftest (pinned in
tools/versions.mk, built by `make tools`) and by `pe-policy`, in `fixtures/`; the exit code
and what the case compares must agree.  A mismatch prints both sides, normalised, as a diff.
In CI a missing conftest fails every case (tests/reference_tools.py)."""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest_parity.cases import CASES, Case
from tests.reference_tools import REPO, tool

FIXTURES = Path(__file__).resolve().parent / "fixtures"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DURATION = re.compile(r"\(\d+(\.\d+)?(µs|ms|s|ns)\)")


def run(command: list[str], case: Case) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(command, cwd=FIXTURES / case.cwd, input=case.stdin or "",
                          capture_output=True, text=True, timeout=300, check=False, env=env)


def pe_policy() -> list[str]:
    """The installed `pe-policy` command (beside this interpreter), as CI calls it."""
    script = Path(sys.executable).with_name("pe-policy")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pe_policy"]


def _lines(text: str) -> list[str]:
    return [line for line in _ANSI.sub("", text).splitlines() if line.strip()]


def _sorted_json(value: Any) -> Any:
    """A JSON document with every list sorted (conftest's order is Go's map order)."""
    if isinstance(value, dict):
        return {k: _sorted_json(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = [_sorted_json(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def tap_line(line: str) -> str:
    """A TAP result line without its number: the numbers follow the order results come out
    in, which is not what is compared (a full-suite run under load once numbered the same
    results differently)."""
    return re.sub(r"^(not ok|ok) \d+ ", r"\1 N ", line)


def _tap(lines: list[str]) -> list[str]:
    return sorted(tap_line(line) for line in lines)


def _junit(text: str) -> list[str]:
    return sorted(line.strip() for line in text.splitlines()
                  if "<testcase" in line or "<failure" in line or "<testsuite " in line)


def _sarif(text: str) -> Any:
    report = json.loads(text)
    run_ = report["runs"][0]
    rules = {r["id"]: r for r in run_["tool"]["driver"]["rules"]}
    results = [{**r, "ruleIndex": None, "rule": rules[r["ruleId"]]} for r in run_["results"]]
    return _sorted_json({"results": results, "invocations": run_["invocations"],
                         "version": report["version"]})


def normalised(case: Case, proc: subprocess.CompletedProcess[str]) -> Any:
    """What the case compares, in an order-free form."""
    out = _ANSI.sub("", proc.stdout)
    if case.compare == "parse":
        return out.splitlines()  # conftest's layout, byte for byte
    if case.compare == "json":
        try:
            return _sorted_json(json.loads(out))
        except json.JSONDecodeError:
            return out
    if case.compare == "sarif":
        return _sarif(out) if out.strip() else out
    if case.compare == "junit":
        return _junit(out)
    if case.compare == "quiet":
        return out
    if case.compare == "error":
        return "stdout has results" if re.search(r"\d+ tests?, \d+ passed", out) and not proc.returncode else ""
    if case.compare == "report":
        lines = _lines(out)
        return sorted(_DURATION.sub("", line).rstrip() for line in lines
                      if re.match(r"^(data\.|PASS|FAIL|\S+\.rego:\d+:)", line))
    lines = _lines(out)
    if "-o" in case.args and case.args[case.args.index("-o") + 1] == "tap":
        return _tap(lines)
    summary = lines[-1] if lines else ""
    return {"summary": summary, "lines": sorted(Counter(lines[:-1]).elements())}


def _show(value: Any) -> list[str]:
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False).splitlines()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_conftest_and_pe_policy_agree(case: Case) -> None:
    real = run([tool("conftest"), *case.args], case)
    ours = run([*pe_policy(), *case.args], case)
    expected, got = normalised(case, real), normalised(case, ours)
    same = (real.returncode, expected) == (ours.returncode, got)
    if case.compare == "error":
        same = same and real.returncode != 0 and bool(ours.stderr.strip())
    if not same:
        diff = "\n".join(difflib.unified_diff(_show(expected), _show(got), "conftest", "pe-policy",
                                              lineterm=""))
        pytest.fail(f"conftest {' '.join(case.args)}  (in fixtures/{case.cwd})\n"
                    f"exit: conftest {real.returncode}, pe-policy {ours.returncode}\n{diff}\n"
                    f"--- conftest stderr\n{real.stderr}--- pe-policy stderr\n{ours.stderr}")


def test_every_bullet_of_the_issue_has_cases() -> None:
    covered = Counter(c.covers for c in CASES)
    assert len(CASES) >= 60
    assert set(covered) == {"documents", "hcl2", "namespaces", "policy", "exit", "rego", "output",
                            "inputs", "verify", "parse", "engine"}, covered
    assert len({c.name for c in CASES}) == len(CASES)


def test_the_fixtures_are_the_repository_s_own() -> None:
    assert FIXTURES.is_relative_to(REPO)


OPA_CASES = [c for c in CASES if c.name in {
    "opa-behaviour", "opa-behaviour-json", "k8s-multi-document-yaml", "terraform-hcl2",
    "exceptions-json", "namespace-glob", "combine-per-document", "data-dir", "loc-metadata-json"}]


@pytest.mark.parametrize("case", OPA_CASES, ids=[c.name for c in OPA_CASES])
def test_on_a_real_opa_server_too(case: Case, opa_url: str) -> None:
    """`--engine opa`: the same results evaluated by a real OPA (where regorus and OPA could
    differ, the OPA path gives conftest's answer too)."""
    real = run([tool("conftest"), *case.args], case)
    ours = run([*pe_policy(), *case.args, "--engine", "opa", "--opa-url", opa_url], case)
    assert (ours.returncode, normalised(case, ours)) == (real.returncode, normalised(case, real)), \
        ours.stderr
