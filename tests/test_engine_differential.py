"""One Rego semantics: the embedded regorus and the real OPA give identical findings.

`pe-policy check --engine regorus` and `--engine opa` (a real `opa run --server`) on
every fixture directory and on a generated corpus of mixed kinds (tests/engine_corpus.py)
must report the same findings: rule, file, line and message.  A difference is printed
as the first few findings one engine has and the other lacks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pe_policy.engine.evaluate import RULE_ERROR_ID
from tests.engine_corpus import build_corpus
from tests.reference_tools import REPO, opa_server

FIXTURE_DIRS = sorted(
    [p.relative_to(REPO).as_posix() for p in (REPO / "fixtures").iterdir() if p.is_dir()]
    + [p.relative_to(REPO).as_posix() for p in (REPO / "infra" / "fixtures").iterdir()
       if p.is_dir()])
Finding = tuple[str, str, int, str]


@pytest.fixture(scope="module")
def opa() -> Iterator[str]:
    with opa_server() as url:
        yield url


def check_json(paths: list[str], cwd: Path, *engine: str) -> tuple[int, list[Finding], Any]:
    proc = subprocess.run([sys.executable, "-m", "pe_policy", "check", *paths, "-f", "json",
                           *engine], cwd=cwd, capture_output=True, text=True, timeout=600,
                          check=False)
    assert proc.returncode in (0, 1, 2), proc.stderr
    try:
        payload = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"no JSON report (exit {proc.returncode}): {proc.stderr[-2000:]}")
    findings = sorted((f["rule_id"], f["location"]["path"], f["location"]["line"],
                       _engine_neutral(f["rule_id"], f["message"])) for f in payload["findings"])
    return proc.returncode, findings, payload


def _engine_neutral(rule_id: str, message: str) -> str:
    """A rule that could not be evaluated is named the same way by both engines; the engine's
    own error text after "failed on this document:" is each engine's wording."""
    if rule_id == RULE_ERROR_ID:
        return message.split(" failed on this document", 1)[0]
    return message


def first_differences(regorus: list[Finding], opa: list[Finding], most: int = 8) -> str:
    only_regorus = sorted(set(regorus) - set(opa))
    only_opa = sorted(set(opa) - set(regorus))
    lines = [f"regorus {len(regorus)} findings, OPA {len(opa)}"]
    lines += [f"  only regorus: {f}" for f in only_regorus[:most]]
    lines += [f"  only OPA:     {f}" for f in only_opa[:most]]
    return "\n".join(lines)


def assert_same(paths: list[str], cwd: Path, opa_url: str) -> list[Finding]:
    code, regorus, _ = check_json(paths, cwd)
    opa_code, opa, _ = check_json(paths, cwd, "--engine", "opa", "--opa-url", opa_url)
    assert opa == regorus, first_differences(regorus, opa)
    assert opa_code == code
    return regorus


@pytest.mark.parametrize("directory", FIXTURE_DIRS)
def test_every_fixture_directory_gives_identical_findings(directory: str, opa: str) -> None:
    assert_same([directory], REPO, opa)


def test_generated_corpus_gives_identical_findings(tmp_path: Path, opa: str) -> None:
    count = build_corpus(tmp_path / "corpus")
    assert count >= 200
    findings = assert_same(["."], tmp_path / "corpus", opa)
    rules = {f[0] for f in findings}
    # the corpus reaches the Rego rules of every kind, not only parse errors
    assert {r for r in rules if r.startswith(("PE-WF", "PE-TF", "PE-DR", "PE-RB", "PE-QG"))} \
        >= {"PE-WF-002", "PE-TF-001", "PE-DR-001", "PE-RB-001", "PE-QG-001"}, sorted(rules)
    print(f"\n{count} files, {len(findings)} identical findings over {len(rules)} rules")
