"""A team's CI script, unchanged but for the command name: its `conftest test` and `conftest
verify` lines run with `pe-policy` in place of `conftest`, and the job ends the same way
(exit code, what it prints, the reports it writes)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.conftest_parity.test_parity import FIXTURES, _junit, _sorted_json, tap_line
from tests.reference_tools import tool

CI_SCRIPT = """\
#!/usr/bin/env bash
# .gitlab-ci.yml `policy` job / a GitHub Actions `run:` step, as teams write it
set -u
status=0
conftest test k8s/deployment.yaml k8s/multi.yaml --output json > results.json || status=$?
conftest test --namespace 'k8s.*' --policy policies/ns k8s/ || status=$?
conftest test -p policies/terraform --all-namespaces terraform/main.tf --fail-on-warn || status=$?
conftest test -p policies/compose -n compose compose/ -o tap
conftest test --no-fail -o junit k8s/ > junit.xml
cat k8s/service.yaml | conftest test - --stdin-filename service.yaml -p policy/warn.rego
conftest verify --policy verify/basic
conftest verify -p verify/builtins --output json > verify.json
echo "policy status: $status"
exit "$status"
"""

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _as_pe_policy(script: str) -> str:
    """The script with `pe-policy` put in place of the `conftest` command, nothing else."""
    return re.sub(r"(^|\| )conftest ", r"\1pe-policy ", script, flags=re.MULTILINE)


def _job(workdir: Path, script: str, bin_dir: Path) -> tuple[int, Counter[str], dict[str, object]]:
    shutil.copytree(FIXTURES, workdir)
    (workdir / "ci.sh").write_text(script, encoding="utf-8")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "ci.sh"], cwd=workdir, capture_output=True, text=True,
                          timeout=600, check=False, env=env)
    lines = Counter(tap_line(line) for line in _ANSI.sub("", proc.stdout).splitlines() if line.strip())
    reports: dict[str, object] = {
        "results.json": _sorted_json(json.loads((workdir / "results.json").read_text())),
        "verify.json": _sorted_json(json.loads((workdir / "verify.json").read_text())),
        "junit.xml": _junit((workdir / "junit.xml").read_text()),
    }
    return proc.returncode, lines, reports


def test_a_ci_script_runs_unchanged_with_pe_policy_in_place_of_conftest(tmp_path: Path) -> None:
    conftest_dir = Path(tool("conftest")).parent
    pe_policy_dir = Path(sys.executable).parent
    assert (pe_policy_dir / "pe-policy").exists()
    pe_script = _as_pe_policy(CI_SCRIPT)
    assert "conftest " not in pe_script.replace("# ", "") and pe_script.count("pe-policy ") == 8
    real = _job(tmp_path / "conftest", CI_SCRIPT, conftest_dir)
    ours = _job(tmp_path / "pe-policy", pe_script, pe_policy_dir)
    assert real[0] == 2 and "policy status: 2" in real[1]  # the --fail-on-warn line: failures
    assert ours[0] == real[0]
    assert sorted(ours[1].elements()) == sorted(real[1].elements())
    assert ours[2] == real[2]
