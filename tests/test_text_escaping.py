"""The text report shows what the inputs hold, and never lets them act on a terminal or a CI log.

A pull request controls the files pe-policy checks, and the text report quotes them (messages
name a job, an action, a status; code frames show the line).  A raw ESC would drive the
terminal (clear the screen, hide text, retitle the window), a CR would overwrite the line
before it, a bidi override would reorder what a reviewer reads, and a line that starts with
`::` (or holds `##[`) is a workflow command to the GitHub Actions runner that prints the
report: `::add-mask::`, `::set-output`, `::stop-commands::`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import run_cli

# An action reference that carries escape sequences, a CR, line breaks and workflow commands:
# YAML's double-quoted escapes put them in the value, and the message of PE-WF-002 quotes it.
USES = (r"actions/checkout@v4\e[2J\e]0;pwned\a\r\n::add-mask::hidden\n::set-output name=x::y"
        r"\n  ::stop-commands::t0k3n\n##[set-output name=y;]z")
WORKFLOW = f"""name: CI
on: push
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: "{USES}"
      - run: make build
"""

# A report whose Summary status line holds raw control characters and a bidi override:
# PE-DR-005 quotes the status in its message, and its code frame shows the line.
REPORT = (
    "---\nunit_id: \"PE-7\"\nstatus: \"rolled_back\"\ndeployed: \"2024-06-11 14:05\"\n"
    "links:\n  qa_report: \"[[QA/QA-Report-PE-7]]\"\n---\n\n# Deployment Report\n\n"
    "## Summary\n- **Status:** SUCCESS \x1b[2K\x1b[1A\x9b31m\u202eevil\x7f\n"
    "- **Environment:** production\n\n"
    "## Rollback Status\n- Rollback required: Yes\n- If yes: health check failed\n"
)


@pytest.fixture
def hostile_repo(tmp_repo: Path) -> Path:
    (tmp_repo / ".github" / "workflows").mkdir(parents=True)
    (tmp_repo / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW, encoding="utf-8")
    (tmp_repo / "docs" / "deployments").mkdir(parents=True)
    (tmp_repo / "docs" / "deployments" / "Deploy-PE-7.md").write_text(REPORT, encoding="utf-8")
    return tmp_repo


_RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _assert_inert(text: str, color: bool) -> None:
    if color:  # pe-policy's own colours, and nothing else: every ESC starts one of them
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert not _RAW_CONTROLS.search(text), repr(_RAW_CONTROLS.search(text))
    for line in text.splitlines():
        assert not line.lstrip().startswith("::"), line
        assert "##[" not in line, line


@pytest.mark.parametrize("color", [False, True], ids=["plain", "color"])
def test_text_output_escapes_what_the_inputs_hold(hostile_repo: Path, color: bool) -> None:
    result = run_cli(["check", "--root", str(hostile_repo), "--color" if color else "--no-color",
                      str(hostile_repo)], cwd=hostile_repo)
    assert result.exit_code == 1, result.stdout + result.stderr
    _assert_inert(result.stdout, color)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    # the findings are there, their text shown escaped
    [pin] = [ln for ln in plain.splitlines() if " PE-WF-002 " in ln]
    assert "actions/checkout@v4" in pin
    assert "\\x1b[2J" in plain and "\\x0d" in plain and "\\x07" in plain
    assert "\\x3a:add-mask::hidden" in plain and "\\x3a:set-output name=x::y" in plain
    assert "  \\x3a:stop-commands::t0k3n" in plain and "\\x23#[set-output name=y;]z" in plain
    [status] = [ln for ln in plain.splitlines() if " PE-DR-005 " in ln]
    assert "SUCCESS \\x1b[2K\\x1b[1A\\x9b31m\\u202eevil\\x7f" in status
    frame = [ln for ln in plain.splitlines() if re.match(r"\s*12 \| ", ln)]
    assert frame == ["12 | - **Status:** SUCCESS \\x1b[2K\\x1b[1A\\x9b31m\\u202eevil\\x7f"]


def test_the_caret_stays_under_the_escaped_text(hostile_repo: Path) -> None:
    result = run_cli(["check", "--root", str(hostile_repo), "--no-color", str(hostile_repo)],
                     cwd=hostile_repo)
    lines = result.stdout.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("12 | "))
    source, caret = lines[at], lines[at + 1]
    assert caret.startswith("   | ^")
    assert len(caret.rstrip()) == len(source.rstrip())  # the whole escaped line is marked


def test_github_format_keeps_its_own_escaping(hostile_repo: Path) -> None:
    result = run_cli(["check", "--root", str(hostile_repo), "--format", "github",
                      str(hostile_repo)], cwd=hostile_repo)
    lines = result.stdout.splitlines()
    commands = [ln for ln in lines if ln.startswith("::")]
    assert commands and all(re.match(r"::(error|warning|notice)[ :]", ln) for ln in commands)
    # every annotation is one line: its message's line breaks are %0D%0A, never real ones
    assert len(commands) == len([ln for ln in lines if ln.strip()])
    [pin] = [ln for ln in commands if "title=PE-WF-002" in ln]
    assert "%0A" in pin and "\r" not in pin
