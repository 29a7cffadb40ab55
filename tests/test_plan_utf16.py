"""A plan written by Windows PowerShell is read: `terraform show -json tfplan > tfplan.json`.

PowerShell 5.1's `>` (Out-File) writes UTF-16LE with a byte order mark and CRLF line ends;
such a plan has NUL bytes in every other position and was refused as binary.  It must give
the findings, lines and messages of the same plan written as UTF-8.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import FIXTURES, run_cli

PLAN = FIXTURES / "terraform_plan" / "bad" / "tfplan.json"


def powershell_bytes(text: str, encoding: str = "utf-16-le") -> bytes:
    """What `>` in Windows PowerShell 5.1 writes: a byte order mark, UTF-16, CRLF line ends."""
    return "\ufeff".encode(encoding) + text.replace("\n", "\r\n").encode(encoding)


def findings(repo: Path) -> tuple[int, list[tuple[str, int, str]]]:
    result = run_cli(["check", "tfplan.json", "--root", str(repo), "--format", "json"], cwd=repo)
    report = json.loads(result.stdout)
    return result.exit_code, sorted((f["rule_id"], f["location"]["line"], f["message"])
                                    for f in report["findings"])


def test_a_utf16_plan_gives_the_findings_of_the_utf8_plan(tmp_path: Path) -> None:
    text = PLAN.read_text(encoding="utf-8")
    expected_code, expected = findings(_repo(tmp_path / "utf8", text.encode("utf-8")))
    data = powershell_bytes(text)
    assert data[:2] == b"\xff\xfe" and b"\x00" in data
    for name, encoding in (("le", "utf-16-le"), ("be", "utf-16-be")):
        code, got = findings(_repo(tmp_path / name, powershell_bytes(text, encoding)))
        assert not any(rule == "PE-PARSE" for rule, _, _ in got), got
        assert (code, got) == (expected_code, expected), name
    assert {rule for rule, _, _ in expected} >= {"PE-TF-001", "PE-TF-002", "PE-TF-005"}


def test_a_broken_utf16_file_is_a_parse_error_with_its_line(tmp_path: Path) -> None:
    text = PLAN.read_text(encoding="utf-8")
    data = powershell_bytes(text)
    cut = data.index("\n".encode("utf-16-le"), 200) + 2  # after the line end of an early line
    line = data[:cut].decode("utf-16").count("\n") + 1
    broken = data[:cut] + b"\x00\xd8" + b"A\x00" + data[cut:]  # a lone surrogate
    code, got = findings(_repo(tmp_path, broken))
    assert code == 2
    assert [(rule, at) for rule, at, _ in got] == [("PE-PARSE", line)]
    assert "not valid UTF-16" in got[0][2]


def _repo(path: Path, data: bytes) -> Path:
    (path / ".git").mkdir(parents=True)
    (path / "tfplan.json").write_bytes(data)
    return path
