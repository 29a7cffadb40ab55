"""Every report format on the fixtures, byte for byte as committed in tests/golden/.

The pipeline is rebuilt from time to time (one runner, one evaluator mode, ...); users
see none of that.  These files pin what they do see: every format of `check` on every
fixture, a pull-request run and the demo.  A deliberate change to a report regenerates
them with `PE_POLICY_UPDATE_GOLDEN=1 make test` and is reviewed as a diff.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

GOLDEN = REPO / "tests" / "golden"
FORMATS = ("text", "json", "sarif", "markdown", "junit", "github")
RUNS = {
    "fixtures": ["fixtures", "infra/fixtures"],
    "demo": ["fixtures/demo"],
    "pull-request": ["--pr", "fixtures/pull_request/bad/pull_request.opened.json",
                     "--pr", "fixtures/pull_request/bad/gh-pr-view.json"],
}


@pytest.mark.parametrize("run", sorted(RUNS))
def test_every_format_is_unchanged(run: str, tmp_path: Path) -> None:
    args = [a for fmt in FORMATS for a in ("-f", fmt, "-o", str(tmp_path / f"{run}.{fmt}"))]
    proc = subprocess.run([sys.executable, "-m", "pe_policy", "check", *RUNS[run], *args],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode in (0, 1, 2), proc.stderr
    for fmt in FORMATS:
        # the absolute paths in the reports: SARIF's %SRCROOT%, where the clone happens to be,
        # and where the other reports of the run went (a cut report says where the rest is)
        produced = (tmp_path / f"{run}.{fmt}").read_bytes().replace(
            f"file://{REPO.as_posix()}/".encode(), b"file:///CLONE/").replace(
            tmp_path.as_posix().encode(), b"/OUT")
        golden = GOLDEN / f"{run}.{fmt}"
        if os.environ.get("PE_POLICY_UPDATE_GOLDEN"):
            golden.write_bytes(produced)
        assert produced == golden.read_bytes(), (
            f"{run}.{fmt} differs from tests/golden/{run}.{fmt}: "
            f"diff it against {tmp_path / f'{run}.{fmt}'}")
