"""The progress counter: on a terminal during long runs, never in CI, pre-commit or pipes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pe_policy.pipeline import check
from pe_policy.progress import Progress, progress_wanted
from tests.userland import copy_repo


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("environ", "tty", "wanted"), [
    ({}, True, True),
    ({"CI": "true"}, True, False),
    ({"CI": "1"}, True, False),
    ({"CI": "false"}, True, True),
    ({"PRE_COMMIT": "1"}, True, False),
    ({}, False, False),
])
def test_only_on_a_terminal_outside_ci_and_pre_commit(environ: dict[str, str], tty: bool,
                                                      wanted: bool) -> None:
    stream = Terminal() if tty else io.StringIO()
    assert progress_wanted(stream, environ) is wanted


def test_counts_every_file_and_erases_itself(tmp_repo: Path) -> None:
    repo = copy_repo(tmp_repo)
    stream = Terminal()
    progress = Progress(stream, show_after=0)
    result = check([repo], repo.resolve(), progress=progress)
    written = stream.getvalue()
    files = len(result.checked_paths)
    # one phase: each file is loaded and evaluated by the same worker (runner.py)
    assert f"pe-policy: checking {files}/{files} files" in written
    progress.finish()
    assert stream.getvalue().endswith("\r")  # the line is blanked before the report starts


def test_short_runs_show_nothing() -> None:
    stream = Terminal()
    progress = Progress(stream, show_after=60)
    for done in range(1, 11):
        progress("reading", done, 10)
    progress.finish()
    assert stream.getvalue() == ""
