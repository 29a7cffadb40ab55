"""A Rego rule written on `input.expressions` and `input.scripts` finds what it should, at the
exact line and column, on the embedded engine (regorus) and on the real OPA alike."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reference_tools import opa_server

POLICY = """
# METADATA
# title: Event data spliced into a script, or a variable written to GITHUB_ENV (test rule)
# custom:
#   id: TEST-EXPR-001
#   severity: high
#   kinds: [workflow, action]
package test.workflow_model

import rego.v1

deny contains {"msg": msg, "path": ref.at} if {
	some use in input.expressions
	use.where == "run"
	some ref in use.contexts
	ref.flows
	startswith(ref.path, "github.event.")
	msg := sprintf("%s reaches the script of step %d of job %s", [ref.text, use.step, use.job])
}

deny contains {"msg": msg, "path": write.at} if {
	some script in input.scripts
	some write in script.writes
	write.file == "GITHUB_ENV"
	some name in write.variables
	msg := sprintf("$%s is written to GITHUB_ENV", [name])
}
"""

WORKFLOW = """\
on: issue_comment
permissions: {}
jobs:
  reply:
    runs-on: ubuntu-latest
    steps:
      - env:
          BODY: ${{ github.event.comment.body }}
        run: |
          echo "ok: ${{ contains(github.event.comment.body, '/deploy') }}"
          echo "COMMENT=$BODY" >> "$GITHUB_ENV"
          echo "by ${{ github.event.comment.user.login }}"
"""


@pytest.fixture(scope="module")
def opa() -> Iterator[str]:
    with opa_server() as url:
        yield url


def findings(repo: Path, *engine: str) -> list[tuple[int, int | None, str]]:
    proc = subprocess.run([sys.executable, "-m", "pe_policy", "check", ".", "-f", "json", *engine],
                          cwd=repo, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return sorted((f["location"]["line"], f["location"]["column"], f["message"])
                  for f in json.loads(proc.stdout)["findings"] if f["rule_id"] == "TEST-EXPR-001")


def test_rules_on_the_expression_and_shell_model(tmp_path: Path, opa: str) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "workflow_model.rego").write_text(textwrap.dedent(POLICY).lstrip(),
                                                             encoding="utf-8")
    (tmp_path / ".pe-policy.yaml").write_text("policies: [policy]\n", encoding="utf-8")
    workflow = tmp_path / ".github" / "workflows" / "reply.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(WORKFLOW, encoding="utf-8")
    lines = WORKFLOW.splitlines()

    def at(needle: str) -> tuple[int, int]:
        number = next(i for i, line in enumerate(lines, 1) if needle in line)
        return number, lines[number - 1].index(needle) + 1

    # the body inside contains() is only tested: it does not reach the script
    expected = sorted([
        (*at("github.event.comment.user.login"),
         "github.event.comment.user.login reaches the script of step 0 of job reply"),
        (*at('echo "COMMENT='), "$BODY is written to GITHUB_ENV"),
    ])
    assert findings(tmp_path) == expected
    assert findings(tmp_path, "--engine", "opa", "--opa-url", opa) == expected
