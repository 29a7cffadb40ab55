"""A pull request can neither weaken the gate nor bring its own policies (trust.py).

Real git repositories: `main` holds a workflow that breaks PE-WF-002 and is pushed to a bare
`origin`; the pull request is the branch `feature` on top of it.  On a pull-request run the
configuration, its policy directories and the baseline come from the base, and what the pull
request changes there is reported as PE-CFG-001.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from pe_policy.trust import owners_of, parse_codeowners
from tests.conftest import line_of, run_cli
from tests.git_pr_repo import git, isolate_git

WORKFLOW = ".github/workflows/ci.yml"
UNPINNED = """name: CI
on: [push]
permissions: {}
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo lint
"""
PR_ENV = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main"}
DISABLE_ALL = "# the pull request's own gate\nrules:\n  disable: [PE]\n"
WAIVE_ALL = """waivers:
  - rule: PE
    path: "*"
    owner: "@mallory"
    reason: not today
    expires: 9999-12-31
"""
NAMES_RULE = """# METADATA
# title: Workflows have a name
# custom:
#   id: ACME-001
#   severity: low
#   kinds: [workflow]
package acme.names

import rego.v1

deny contains {"msg": "the workflow has no run-name", "path": ["name"]} if {
	not input["run-name"]
}
"""
EVERYTHING_RULE = """# METADATA
# title: Nothing passes
# custom:
#   id: ACME-666
#   severity: critical
#   kinds: [workflow]
package acme.everything

import rego.v1

deny contains "the pull request's own rule ran" if {
	true
}
"""


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch)
    for name in ("GITHUB_EVENT_NAME", "GITHUB_BASE_REF"):
        monkeypatch.delenv(name, raising=False)


def write_files(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def commit(repo: Path, files: dict[str, str], message: str, when: int) -> None:
    write_files(repo, files)
    git(repo, "add", "-A", "--", *files)
    git(repo, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "-c",
        "commit.gpgsign=false", "commit", "-q", "-m", message, when=when)


def pr_repo(tmp_path: Path, base: dict[str, str] | None = None) -> Path:
    """`main` (the workflow breaking PE-WF-002, plus `base`) pushed to a bare `origin`, and the
    branch `feature` checked out on top of it."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    commit(work, {WORKFLOW: UNPINNED, **(base or {})}, "base", 0)
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    git(work, "remote", "add", "origin", str(bare))
    git(work, "fetch", "-q", "origin")
    git(work, "checkout", "-q", "-b", "feature")
    return work.resolve()


def check(repo: Path, *args: str, env: dict[str, str] | None = None,
          monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[dict[str, Any]], str]:
    """`pe-policy check . -f json` in `repo`: (exit code, findings, stderr)."""
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    result = run_cli(["check", ".", "-f", "json", *args], cwd=repo)
    findings = json.loads(result.stdout)["findings"] if result.stdout.strip() else []
    return result.exit_code, findings, result.stderr


def active(findings: list[dict[str, Any]], rule_id: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["rule_id"] == rule_id and "suppression" not in f]


def at(finding: dict[str, Any]) -> tuple[str, int]:
    return finding["location"]["path"], finding["location"]["line"]


# ------------------------------------------------------------------ the configuration


def test_a_disable_added_by_the_pull_request_is_not_applied(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pr_repo(tmp_path)
    commit(repo, {".pe-policy.yaml": DISABLE_ALL}, "switch the gate off", 1)
    # outside a pull request the work tree's configuration applies: this is the attack
    code, findings, _ = check(repo, monkeypatch=monkeypatch)
    assert (code, findings) == (0, [])

    code, findings, stderr = check(repo, env=PR_ENV, monkeypatch=monkeypatch)
    assert code == 1, stderr
    assert [at(f) for f in active(findings, "PE-WF-002")] == [
        (WORKFLOW, line_of(repo / WORKFLOW, "actions/checkout@v4"))]
    changes = active(findings, "PE-CFG-001")
    disable = [f for f in changes if "disables PE (rules.disable)" in f["message"]]
    assert [at(f) for f in disable] == [(".pe-policy.yaml", 3)]
    assert disable[0]["severity"] == "high"
    assert "this run ignores it (the configuration comes from origin/main)" in (
        disable[0]["message"])
    summary = [f for f in changes if f is not disable[0]]
    assert len(summary) == 1
    assert summary[0]["message"].startswith(
        "the pull request adds .pe-policy.yaml (+3 -0 lines: rules.disable adds PE): these "
        "take effect only after merge; approval by the owners of .pe-policy.yaml")


def test_a_waiver_added_by_the_pull_request_is_not_applied(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pr_repo(tmp_path)
    commit(repo, {".pe-policy.yaml": WAIVE_ALL}, "waive everything", 1)
    code, findings, _ = check(repo, monkeypatch=monkeypatch)
    assert code == 0 and not active(findings, "PE-WF-002")

    code, findings, stderr = check(repo, env=PR_ENV, monkeypatch=monkeypatch)
    assert code == 1, stderr
    assert len(active(findings, "PE-WF-002")) == 1
    waiver = [f for f in active(findings, "PE-CFG-001") if "waiver" in f["message"]
              and f["location"]["line"] == 2]
    assert len(waiver) == 1
    assert "adds a waiver of PE on '*' until 9999-12-31, owner @mallory (waivers)" in (
        waiver[0]["message"])


def test_policy_ref_names_the_base_without_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pr_repo(tmp_path)
    commit(repo, {".pe-policy.yaml": DISABLE_ALL}, "switch the gate off", 1)
    code, findings, stderr = check(repo, "--policy-ref", "main", monkeypatch=monkeypatch)
    assert code == 1, stderr
    assert len(active(findings, "PE-WF-002")) == 1
    assert any("disables PE (rules.disable)" in f["message"] and "comes from main" in f["message"]
               for f in active(findings, "PE-CFG-001"))


def test_the_remote_tracking_base_wins_over_a_local_branch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`origin/main` is what the base is: a local `main` someone committed to is not."""
    repo = pr_repo(tmp_path)
    git(repo, "checkout", "-q", "main")
    commit(repo, {".pe-policy.yaml": DISABLE_ALL}, "local only", 1)
    git(repo, "checkout", "-q", "feature")
    code, findings, stderr = check(repo, env=PR_ENV, monkeypatch=monkeypatch)
    assert code == 1, stderr
    assert len(active(findings, "PE-WF-002")) == 1


def test_a_lowered_severity_and_an_exclusion_are_reported_at_their_lines(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pr_repo(tmp_path, {".pe-policy.yaml": "exclude: [docs/]\n"})
    commit(repo, {".pe-policy.yaml": "exclude: [docs/, .github/]\nrules:\n  severity:\n"
                                     "    PE-WF-002: info\n    PE-WF-006: critical\n"}, "tone", 1)
    code, findings, stderr = check(repo, "--fail-on", "high", env=PR_ENV,
                                   monkeypatch=monkeypatch)
    assert code == 1, stderr
    assert [f["severity"] for f in active(findings, "PE-WF-002")] == ["high"]  # the base's
    weakenings = sorted((at(f), f["message"].split(" in .pe-policy.yaml")[0])
                        for f in active(findings, "PE-CFG-001") if "(+" not in f["message"])
    assert weakenings == [
        ((".pe-policy.yaml", 1), "the pull request excludes '.github/' from every check "
                                 "(exclude)"),
        ((".pe-policy.yaml", 4), "the pull request lowers PE-WF-002 from high to info "
                                 "(rules.severity)"),
    ]


def test_an_invalid_base_configuration_names_the_ref(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pr_repo(tmp_path, {".pe-policy.yaml": "rules:\n  disable: [PE-NOPE-001]\n"})
    commit(repo, {".pe-policy.yaml": "rules: {}\n"}, "fix it", 1)
    code, _, stderr = check(repo, env=PR_ENV, monkeypatch=monkeypatch)
    assert code == 2
    assert "invalid configuration: origin/main:.pe-policy.yaml:2" in stderr
    assert "PE-NOPE-001" in stderr


# ------------------------------------------------------------------ inline suppressions


def test_a_new_inline_suppression_applies_and_is_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pr_repo(tmp_path)
    text = UNPINNED.replace("      - uses: actions/checkout@v4\n",
                            "      # pe-policy: ignore[PE-WF-002] pinned by our mirror\n"
                            "      - uses: actions/checkout@v4\n")
    commit(repo, {WORKFLOW: text}, "suppress", 1)
    code, findings, stderr = check(repo, env=PR_ENV, monkeypatch=monkeypatch)
    assert code == 1, stderr
    assert not active(findings, "PE-WF-002")
    assert [f["suppression"]["kind"] for f in findings if f["rule_id"] == "PE-WF-002"] == [
        "inSource"]
    comment = line_of(repo / WORKFLOW, "pe-policy: ignore")
    reported = active(findings, "PE-CFG-001")
    assert [at(f) for f in reported] == [(WORKFLOW, comment)]
    assert reported[0]["message"].startswith(
        f"the pull request adds an inline suppression of PE-WF-002; it suppresses PE-WF-002 on "
        f"line {comment + 1}: it applies to this run, and needs approval by")


def test_a_suppression_the_base_has_is_not_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = UNPINNED.replace("      - uses: actions/checkout@v4\n",
                            "      - uses: actions/checkout@v4  # pe-policy: ignore[PE-WF-002] "
                            "mirrored\n")
    repo = pr_repo(tmp_path, {WORKFLOW: text})
    commit(repo, {WORKFLOW: text.replace("echo lint", "echo lint again")}, "touch", 1)
    code, findings, stderr = check(repo, env=PR_ENV, monkeypatch=monkeypatch)
    assert (code, active(findings, "PE-CFG-001"), active(findings, "PE-WF-002")) == (0, [], []), (
        stderr)
    # and a suppression comment cannot hide its own report
    text = UNPINNED.replace("      - uses: actions/checkout@v4\n",
                            "      # pe-policy: ignore[PE-WF-002, PE-CFG-001] both\n"
                            "      - uses: actions/checkout@v4\n")
    commit(repo, {WORKFLOW: text}, "both", 2)
    code, findings, _ = check(repo, env=PR_ENV, monkeypatch=monkeypatch)
    assert code == 1 and len(active(findings, "PE-CFG-001")) == 1


# ------------------------------------------------------------------ policy directories


def test_the_pull_requests_policies_are_not_evaluated(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pr_repo(tmp_path, {".pe-policy.yaml": "policies: [policy]\n",
                              "policy/names.rego": NAMES_RULE})
    commit(repo, {"policy/acme.rego": EVERYTHING_RULE}, "a rule of our own", 1)
    code, findings, _ = check(repo, monkeypatch=monkeypatch)
    assert active(findings, "ACME-666")  # the work tree's, outside a pull request

    code, findings, stderr = check(repo, env=PR_ENV, monkeypatch=monkeypatch)
    assert code == 1, stderr
    assert not active(findings, "ACME-666")
    assert len(active(findings, "ACME-001")) == 1  # the base's directory is evaluated
    reported = active(findings, "PE-CFG-001")
    assert [at(f) for f in reported] == [("policy/acme.rego", 1)]
    assert reported[0]["message"].startswith(
        "the pull request changes policy/acme.rego: these take effect only after merge")


def test_a_policy_directory_added_by_the_pull_request_is_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pr_repo(tmp_path)
    commit(repo, {".pe-policy.yaml": "policies: [mine]\n", "mine/acme.rego": EVERYTHING_RULE},
           "bring my own", 1)
    code, findings, stderr = check(repo, env=PR_ENV, monkeypatch=monkeypatch)
    assert code == 1, stderr
    assert not active(findings, "ACME-666")
    assert [f["message"].split(": these")[0] for f in active(findings, "PE-CFG-001")] == [
        "the pull request adds .pe-policy.yaml (+1 -0 lines: policies adds mine) and "
        "mine/acme.rego"]


def test_a_link_out_of_a_base_policy_directory_is_not_followed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pr_repo(tmp_path, {".pe-policy.yaml": "policies: [policy]\n",
                              "policy/names.rego": NAMES_RULE,
                              "elsewhere/everything.rego": EVERYTHING_RULE})
    (repo / "policy" / "linked.rego").symlink_to("../elsewhere/everything.rego")
    (repo / "policy" / "inside.rego").symlink_to("names.rego")
    git(repo, "add", "policy")
    git(repo, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-q", "-m",
        "links")
    git(repo, "push", "-q", "origin", "feature:main", "--force")
    git(repo, "fetch", "-q", "origin")
    code, findings, stderr = check(repo, env=PR_ENV, monkeypatch=monkeypatch)
    assert not active(findings, "ACME-666"), stderr
    assert len(active(findings, "ACME-001")) == 1  # the link inside the directory is kept
    assert code == 1


# -------------------------------------------------------------------- the base itself


def test_a_base_that_cannot_be_read_stops_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pr_repo(tmp_path)
    commit(repo, {".pe-policy.yaml": DISABLE_ALL}, "switch the gate off", 1)
    git(repo, "branch", "-q", "-D", "main")
    git(repo, "update-ref", "-d", "refs/remotes/origin/main")
    code, findings, stderr = check(repo, env=PR_ENV, monkeypatch=monkeypatch)
    assert (code, findings) == (2, [])
    assert "cannot read the pull request's base origin/main" in stderr
    assert "fetch the base: git fetch --no-tags --depth=1 origin main, or pass --policy-ref" in (
        stderr)
    code, _, stderr = check(repo, "--policy-ref", "nope", monkeypatch=monkeypatch)
    assert code == 2 and "cannot read the pull request's base nope" in stderr

    git(repo, "fetch", "-q", "origin", "main")  # the fix the message gives
    code, findings, stderr = check(repo, env=PR_ENV, monkeypatch=monkeypatch)
    assert code == 1 and len(active(findings, "PE-WF-002")) == 1, stderr


def test_a_pull_request_outside_a_git_repository_stops_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()  # a root, but no repository
    write_files(tmp_path, {WORKFLOW: UNPINNED})
    code, _, stderr = check(tmp_path, env=PR_ENV, monkeypatch=monkeypatch)
    assert code == 2 and "is not a git repository" in stderr


def test_the_base_baseline_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pr_repo(tmp_path)
    run_cli(["check", ".", "--write-baseline", "baseline.json"], cwd=repo)
    assert "PE-WF-002" in (repo / "baseline.json").read_text(encoding="utf-8")
    commit(repo, {"baseline.json": (repo / "baseline.json").read_text(encoding="utf-8")},
           "accept my findings", 1)
    code, _, _ = check(repo, "--baseline", "baseline.json", monkeypatch=monkeypatch)
    assert code == 0
    code, findings, stderr = check(repo, "--baseline", "baseline.json", env=PR_ENV,
                                   monkeypatch=monkeypatch)
    assert code == 1 and len(active(findings, "PE-WF-002")) == 1, stderr


def test_the_base_codeowners_name_who_approves(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pr_repo(tmp_path, {".github/CODEOWNERS": "* @devs\n/.pe-policy.yaml @platform-team "
                                                    "@security # the gate\n"})
    commit(repo, {".pe-policy.yaml": DISABLE_ALL,
                  ".github/CODEOWNERS": "* @devs\n/.pe-policy.yaml @mallory\n"}, "mine now", 1)
    code, findings, stderr = check(repo, env=PR_ENV, monkeypatch=monkeypatch)
    assert code == 1, stderr
    messages = [f["message"] for f in active(findings, "PE-CFG-001")]
    assert len(messages) == 2
    assert all("approval by @platform-team, @security (CODEOWNERS)" in m for m in messages)
    assert not any("@mallory" in m for m in messages)


def test_codeowners_patterns_last_match_wins() -> None:
    rules = parse_codeowners("""# owners
*                 @everyone
*.rego            @policy
/docs/            @docs
apps/             @apps
/build/logs/*     @logs
**/infra/**       @infra
.pe-policy.yaml   @gate
/policy/          @gate @security
""")
    assert owners_of("README.md", rules) == ("@everyone",)
    assert owners_of("policy/acme.rego", rules) == ("@gate", "@security")
    assert owners_of("lib/x.rego", rules) == ("@policy",)
    assert owners_of("docs/a/b.md", rules) == ("@docs",)
    assert owners_of("src/docs/a.md", rules) == ("@everyone",)  # anchored
    assert owners_of("src/apps/x/y.py", rules) == ("@apps",)
    assert owners_of("build/logs/a.log", rules) == ("@logs",)
    assert owners_of("build/logs/deep/a.log", rules) == ("@everyone",)  # `*`: one level
    assert owners_of("x/infra/main.tf", rules) == ("@infra",)
    assert owners_of(".pe-policy.yaml", rules) == ("@gate",)
    assert owners_of("sub/.pe-policy.yaml", rules) == ("@gate",)
    assert owners_of("x", parse_codeowners("/x\n")) == ()  # a rule with no owners owns it


def test_pr_payload_names_the_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pr_repo(tmp_path)
    commit(repo, {".pe-policy.yaml": DISABLE_ALL}, "switch the gate off", 1)
    payload = tmp_path / "event.json"
    payload.write_text(json.dumps({"pull_request": {"base": {"ref": "main"}}}), encoding="utf-8")
    code, findings, stderr = check(repo, "--pr", str(payload), monkeypatch=monkeypatch)
    assert code == 1 and len(active(findings, "PE-WF-002")) == 1, stderr
    assert any("comes from origin/main" in f["message"] for f in active(findings, "PE-CFG-001"))


def test_explain_describes_the_rule() -> None:
    result = run_cli(["explain", "PE-CFG-001"])
    assert result.exit_code == 0
    assert result.stdout.startswith("PE-CFG-001: ")
    assert "engine: internal" in result.stdout and "CODEOWNERS" in result.stdout


def test_a_configuration_may_name_the_rule_outside_a_pull_request(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pr_repo(tmp_path, {".pe-policy.yaml": "rules:\n  severity:\n    PE-CFG-001: low\n"})
    commit(repo, {".pe-policy.yaml": "rules:\n  severity:\n    PE-CFG-001: info\n"}, "lower", 1)
    code, findings, _ = check(repo, monkeypatch=monkeypatch)
    assert code == 1 and not active(findings, "PE-CFG-001")
    code, findings, stderr = check(repo, "--fail-on", "high", env=PR_ENV,
                                   monkeypatch=monkeypatch)
    # the base rates PE-CFG-001 low; the pull request lowering it further is reported
    assert {f["severity"] for f in active(findings, "PE-CFG-001")} == {"low"}, stderr
    assert any("lowers PE-CFG-001 from low to info" in f["message"]
               for f in active(findings, "PE-CFG-001"))


# ------------------------------------------------------------------------ the action


@pytest.mark.skipif(shutil.which("bash") is None, reason="the action's steps run in bash")
def test_the_action_fetches_the_base_and_passes_it(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_action import run_check_step

    repo = pr_repo(tmp_path)
    commit(repo, {".pe-policy.yaml": DISABLE_ALL}, "switch the gate off", 1)
    git(repo, "branch", "-q", "-D", "main")  # as actions/checkout leaves a clone: no base
    git(repo, "update-ref", "-d", "refs/remotes/origin/main")
    runner_temp = tmp_path / "runner-temp"
    (runner_temp / "pe-policy-venv" / "bin").mkdir(parents=True)
    (runner_temp / "pe-policy-venv" / "bin" / "pe-policy").symlink_to(
        Path(sys.executable).parent / "pe-policy")
    for name, value in PR_ENV.items():
        monkeypatch.setenv(name, value)
    process, _, output = run_check_step(repo, runner_temp, {"format": "text", "summary": "false"})
    assert process.returncode == 1, process.stdout + process.stderr
    assert output.read_text(encoding="utf-8").splitlines() == ["exit-code=1", "sarif-file="]
    assert "PE-WF-002" in process.stdout and "PE-CFG-001" in process.stdout
    assert "the configuration comes from origin/main" in process.stdout
    assert git(repo, "rev-parse", "--verify", "-q", "refs/remotes/origin/main")


def test_sarif_carries_the_rules_help_when_it_reports(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pr_repo(tmp_path)
    commit(repo, {".pe-policy.yaml": "rules:\n  enable: [PE-TF]\n"}, "only terraform", 1)
    for name, value in PR_ENV.items():
        monkeypatch.setenv(name, value)
    result = run_cli(["check", ".", "-f", "sarif"], cwd=repo)
    run = json.loads(result.stdout)["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert "CODEOWNERS" in rules["PE-CFG-001"]["help"]["text"]
    assert rules["PE-CFG-001"]["defaultConfiguration"]["level"] == "error"
    messages = [r["message"]["text"] for r in run["results"] if r["ruleId"] == "PE-CFG-001"]
    assert any("turns off PE-DR-001, PE-DR-002, PE-DR-003 and" in m and "(rules.enable)" in m
               for m in messages)


def test_a_policy_directory_the_base_lacks_is_a_configuration_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pr_repo(tmp_path, {".pe-policy.yaml": "policies: [policy]\n"})
    commit(repo, {"policy/names.rego": NAMES_RULE}, "the directory, at last", 1)
    code, _, stderr = check(repo, env=PR_ENV, monkeypatch=monkeypatch)
    assert code == 2
    assert ("invalid configuration: origin/main:.pe-policy.yaml:1:12: policies[0]: no policy "
            "directory 'policy' (looked for origin/main:policy)") in stderr


# ------------------------------------------------------------------ as CI checks it

WRITER_RULE = '''from pathlib import Path

Path({marker!r}).write_text("top-level code of the pull request's rule ran")

from pe_policy.engine.python_rules import rule


@rule("EVIL-001", severity="low", kinds=["workflow"], title="writes a file")
def writes(doc, ctx):
    Path({marker!r}).write_text("the pull request's rule ran")
    return []
'''


def test_a_pull_request_that_disables_the_gate_and_brings_a_python_rule_changes_nothing(
        tmp_path: Path) -> None:
    """The attack end to end, as the Action runs it (the installed `pe-policy`, a fresh process,
    the pull-request environment): the PR turns every rule off, enables Python rules and adds
    one that writes a file, next to a workflow with a critical pwn-request.  No file is
    written, the gate is the base's, and the PR's critical finding fails the run."""
    import os
    import subprocess

    marker = tmp_path / "pwned.txt"
    repo = pr_repo(tmp_path)
    pwn = (Path(__file__).resolve().parent.parent / "fixtures/workflow/bad/.github/workflows/"
           "pwn-request.yml").read_text(encoding="utf-8")
    commit(repo, {
        ".pe-policy.yaml": "python_rules: true\npolicies: [policy]\nrules:\n  disable: [PE]\n",
        "policy/writer.py": WRITER_RULE.format(marker=str(marker)),
        ".github/workflows/pr.yml": pwn,
    }, "the pull request", 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PE_POLICY"))}
    env.update(PR_ENV)
    sarif = tmp_path / "out.sarif"
    proc = subprocess.run([str(Path(sys.executable).parent / "pe-policy"), "check", ".",
                           "-f", "json", "-f", "sarif", "-o", str(sarif)],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert not marker.exists(), marker.read_text(encoding="utf-8")
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    critical = [f for f in active(findings, "PE-WF-007")
                if f["location"]["path"] == ".github/workflows/pr.yml"]
    assert critical and critical[0]["severity"] == "critical"
    assert active(findings, "PE-CFG-001")
    assert not [f for f in findings if f["rule_id"] == "EVIL-001"]
    assert json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"]
