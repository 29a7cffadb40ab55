"""`pe-policy verify`: Rego unit tests as `opa test` runs them."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from pe_policy.engine.pack import policy_files
from pe_policy.engine.rego import read_module
from tests.conftest import REPO, line_of, run_cli

SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed(?:, (\d+) errors)?$")


def _test_count(directory: Path) -> int:
    return sum(len(read_module(f).test_rules) for f in policy_files(directory, ".rego"))


def test_builtin_pack_tests_pass() -> None:
    result = run_cli(["verify", "policies"], cwd=REPO)
    summary = result.stdout.splitlines()[-1]
    expected = _test_count(REPO / "policies")
    assert expected > 0
    assert summary == f"{expected} passed, 0 failed", result.stdout
    assert result.exit_code == 0


def test_infra_policies_tests_pass_with_coverage() -> None:
    result = run_cli(["verify", "infra/policy", "--coverage"], cwd=REPO)
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines()[-1] == f"{_test_count(REPO / 'infra/policy')} passed, 0 failed"
    coverage = [line for line in result.stdout.splitlines() if line.startswith("  infra/policy/")]
    assert {line.split(":")[0].strip() for line in coverage} == {
        "infra/policy/main.rego", "infra/policy/destroy.rego"}
    assert all(re.search(r"\d+\.\d% \(\d+/\d+ lines", line) for line in coverage)


def _suite(tmp: Path) -> Path:
    (tmp / "policy").mkdir()
    (tmp / "policy" / "limits.rego").write_text(textwrap.dedent("""
        package limits

        import rego.v1

        too_big contains name if {
          some name, size in input.files
          size > 100
          not exempt(name)
        }

        exempt(name) if {
          startswith(name, "vendor/")
          name != "vendor/keep-checking"
        }

        ratio := input.a / input.b
        """).lstrip())
    (tmp / "policy" / "limits_test.rego").write_text(textwrap.dedent("""
        package limits_test

        import data.limits
        import rego.v1

        test_big_file_is_reported if {
          limits.too_big == {"a.bin"} with input as {"files": {"a.bin": 101, "b.txt": 3}}
        }

        test_wrong_expectation if {
          count(limits.too_big) == 2 with input as {"files": {"a.bin": 101}}
        }

        test_division_by_zero if {
          limits.ratio == 1 with input as {"a": 1, "b": 0}
        }
        """).lstrip())
    return tmp / "policy" / "limits_test.rego"


def test_pass_fail_error_with_file_and_line(tmp_path: Path) -> None:
    tests = _suite(tmp_path)
    result = run_cli(["verify", "policy"], cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert lines[-1] == "1 passed, 1 failed, 1 errors"
    def line(status: str, name: str) -> str:
        return next(x for x in lines if x.startswith(status) and f"data.limits_test.{name}" in x)
    assert f"policy/limits_test.rego:{line_of(tests, 'test_big_file_is_reported')}:" in \
        line("PASS", "test_big_file_is_reported")
    assert f"policy/limits_test.rego:{line_of(tests, 'test_wrong_expectation')}:" in \
        line("FAIL", "test_wrong_expectation")
    assert "undefined" in line("FAIL", "test_wrong_expectation")
    assert "divide by zero" in line("ERROR", "test_division_by_zero").lower()


def test_run_filter_and_no_tests(tmp_path: Path) -> None:
    _suite(tmp_path)
    result = run_cli(["verify", "policy", "--run", "big_file"], cwd=tmp_path)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "1 passed, 0 failed"
    none = run_cli(["verify", "policy", "--run", "nothing-matches"], cwd=tmp_path)
    assert none.exit_code == 1
    assert none.stdout.splitlines()[-1] == "0 passed, 0 failed"


def test_coverage_marks_unevaluated_lines(tmp_path: Path) -> None:
    _suite(tmp_path)
    result = run_cli(["verify", "policy", "--coverage", "--run", "big_file"], cwd=tmp_path)
    cov = next(x for x in result.stdout.splitlines() if x.startswith("  policy/limits.rego"))
    unreached = line_of(tmp_path / "policy" / "limits.rego", "keep-checking")
    assert re.search(rf"not covered: .*\b{unreached}\b", cov), cov
    assert not cov.startswith("  policy/limits.rego: 100.0%")


def test_verify_takes_checks_deadline_options(tmp_path: Path) -> None:
    """`verify --eval-timeout` bounds each test as `check`'s bounds each file."""
    policy = tmp_path / "policy"
    policy.mkdir()
    (policy / "slow_test.rego").write_text(
        "package slow_test\n\nimport rego.v1\n\n"
        "test_runaway if {\n"
        "\tcount([1 | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000)]) > 0\n"
        "}\n\ntest_quick if {\n\t1 == 1\n}\n", encoding="utf-8")
    result = run_cli(["verify", str(policy), "--eval-timeout", "1"], cwd=tmp_path)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "test_runaway" in result.stdout and "deadline of 1 s" in result.stdout, result.stdout
    assert "test_quick" in result.stdout
