"""`pe-policy test`: what pe-policy adds to conftest's semantics, through the real CLI.

(Agreement with the real conftest is tests/conftest_parity/; this file holds what conftest
has no counterpart for: lines in the input, every other file still tested when one does
not parse, no traceback on a broken policy, the sandbox.)
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.conftest import REPO, line_of, run_cli

BAD_PLAN = "infra/fixtures/bad/tfplan.json"
GOOD_PLAN = "infra/fixtures/good/tfplan.json"
SITE_PLAN = "infra/fixtures/website/tfplan.json"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_bad_plan_counts_as_conftest_does() -> None:
    result = run_cli(["test", BAD_PLAN, "--policy", "infra/policy"], cwd=REPO)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"FAIL - {BAD_PLAN} - main - aws_s3_bucket_acl.assets sets acl")
               for line in lines)
    assert lines[-1] == "5 tests, 1 passed, 1 warning, 3 failures, 0 exceptions"


def test_locations_put_the_tf_line_on_each_result() -> None:
    """`--locations`: a result's `path` in the plan is located in the .tf file beside it."""
    result = run_cli(["test", BAD_PLAN, "--policy", "infra/policy", "--locations"], cwd=REPO)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    plan = REPO / BAD_PLAN
    assert any(line.startswith(f"FAIL - {BAD_PLAN}:") for line in lines), lines
    located = json.loads(run_cli(["test", BAD_PLAN, "-p", "infra/policy", "--locations", "-o",
                                  "json"], cwd=REPO).stdout)
    lines_found = {f["loc"]["line"] for f in located[0]["failures"]}
    assert all(isinstance(n, int) and n >= 1 for n in lines_found)
    assert len(lines_found) > 1, "each failure on its own line of the plan"
    assert max(lines_found) <= len(plan.read_text(encoding="utf-8").splitlines())


def test_exception_reports_instead_of_failing() -> None:
    result = run_cli(["test", SITE_PLAN, "--policy", "infra/policy"], cwd=REPO)
    assert result.exit_code == 0, result.stdout
    assert (f'EXCP - {SITE_PLAN} - main - data.main.exception[_][_] == "public_bucket"'
            in result.stdout.splitlines())
    assert "FAIL" not in result.stdout
    assert result.stdout.splitlines()[-1] == "5 tests, 4 passed, 0 warnings, 0 failures, 1 exception"


def test_multi_document_yaml_each_document_judged(tmp_repo: Path) -> None:
    """The issue's case: two documents were one list input, `input.kind` undefined, silently
    passing; each document is now its own input, reported under the file, on its own line."""
    _write(tmp_repo / "policy" / "k8s.rego", """
        package main

        deny contains {"msg": msg, "path": ["spec", "replicas"]} if {
          input.kind == "Deployment"
          input.spec.replicas < 2
          msg := sprintf("%s runs one replica", [input.metadata.name])
        }
        """)
    manifest = _write(tmp_repo / "app.yaml", """
        kind: Deployment
        metadata: {name: a}
        spec:
          replicas: 3
        ---
        kind: Deployment
        metadata: {name: b}
        spec:
          replicas: 1
        """)
    result = run_cli(["test", "app.yaml", "--locations"], cwd=tmp_repo)
    assert result.exit_code == 1
    assert (f"FAIL - app.yaml:{line_of(manifest, 'replicas: 1')} - main - b runs one replica"
            in result.stdout.splitlines())
    assert result.stdout.splitlines()[-1] == "2 tests, 1 passed, 0 warnings, 1 failure, 0 exceptions"


def test_a_file_that_does_not_parse_leaves_the_others_tested(tmp_repo: Path) -> None:
    _write(tmp_repo / "policy" / "p.rego", """
        package main

        deny contains "no name" if not input.name
        """)
    _write(tmp_repo / "broken.yaml", "name: [unclosed\n")
    _write(tmp_repo / "ok.json", '{"other": 1}\n')
    result = run_cli(["test", "broken.yaml", "ok.json"], cwd=tmp_repo)
    assert result.exit_code == 1
    assert "FAIL - ok.json - main - no name" in result.stdout.splitlines()
    assert "broken.yaml:2" in result.stderr or "broken.yaml:1" in result.stderr
    assert "Traceback" not in result.stderr


def test_policy_errors_exit_1_with_the_file_and_no_traceback(tmp_repo: Path) -> None:
    _write(tmp_repo / "in.json", "{}\n")
    missing = run_cli(["test", "in.json"], cwd=tmp_repo)
    assert missing.exit_code == 1
    assert "policy" in missing.stderr and "no such file or directory" in missing.stderr
    _write(tmp_repo / "policy" / "broken.rego", "package main\n\ndeny contains msg if {\n  msg :=\n}\n")
    result = run_cli(["test", "in.json"], cwd=tmp_repo)
    assert result.exit_code == 1
    assert "policy/broken.rego:" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_network_built_ins_are_refused_by_the_sandbox(tmp_repo: Path) -> None:
    _write(tmp_repo / "policy" / "net.rego", """
        package main

        deny contains msg if {
          response := http.send({"method": "GET", "url": "http://127.0.0.1:9/"})
          msg := sprintf("%v", [response.status_code])
        }
        """)
    _write(tmp_repo / "in.json", "{}\n")
    result = run_cli(["test", "in.json"], cwd=tmp_repo)
    assert result.exit_code == 1
    assert "policy/net.rego:4" in result.stderr
    assert "http.send" in result.stderr and "sandboxed" in result.stderr


def test_an_object_result_without_msg_is_an_error(tmp_repo: Path) -> None:
    _write(tmp_repo / "policy" / "p.rego", """
        package main

        deny contains {"message": "wrong key"} if true
        """)
    _write(tmp_repo / "in.json", "{}\n")
    result = run_cli(["test", "in.json"], cwd=tmp_repo)
    assert result.exit_code == 1
    assert '"msg" field must be present and a string' in result.stderr


def test_unknown_parser_and_unsupported_parser(tmp_repo: Path) -> None:
    _write(tmp_repo / "policy" / "p.rego", "package main\n\ndeny contains \"x\" if input.x\n")
    _write(tmp_repo / "in.toml", "x = true\n")
    unknown = run_cli(["test", "in.toml", "--parser", "nope"], cwd=tmp_repo)
    assert unknown.exit_code == 1
    assert "unknown parser: nope" in unknown.stderr
    toml = run_cli(["test", "in.toml"], cwd=tmp_repo)
    assert toml.exit_code == 1
    assert "in.toml" in toml.stderr and "no toml parser" in toml.stderr


NET_POLICY = """
    package main

    deny contains msg if {
      response := http.send({"method": "GET", "url": "http://127.0.0.1:%d/health",
                             "raise_error": false, "timeout": "2s"})
      msg := sprintf("fetched: %%v", [response.status_code])
    }
    """


def test_allow_net_needs_the_opa_engine(tmp_repo: Path) -> None:
    _write(tmp_repo / "policy" / "net.rego", NET_POLICY % 9)
    _write(tmp_repo / "in.json", "{}\n")
    result = run_cli(["test", "in.json", "--allow-net"], cwd=tmp_repo)
    assert result.exit_code == 2
    assert "--allow-net needs --engine opa" in result.stderr


def test_allow_net_grants_http_send_on_a_real_opa(tmp_repo: Path, opa_url: str,
                                                  listener: tuple[int, list[bytes]]) -> None:
    """Granted, the policy reaches the network (the listener sees its request); not granted,
    the same policy is refused and nothing connects."""
    port, received = listener
    _write(tmp_repo / "policy" / "net.rego", NET_POLICY % port)
    _write(tmp_repo / "in.json", "{}\n")
    refused = run_cli(["test", "in.json", "--engine", "opa", "--opa-url", opa_url], cwd=tmp_repo)
    assert refused.exit_code == 1 and "http.send" in refused.stderr
    assert received == []
    allowed = run_cli(["test", "in.json", "--engine", "opa", "--opa-url", opa_url, "--allow-net"],
                      cwd=tmp_repo)
    assert received and received[0].startswith(b"GET /health"), (allowed.stdout, allowed.stderr)
    assert allowed.exit_code == 1 and "fetched: " in allowed.stdout
