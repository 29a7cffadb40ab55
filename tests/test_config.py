""".pe-policy.yaml: validation with lines, and every key reaching the pipeline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from pe_policy.config import (
    DEFAULT_PARAMS,
    Config,
    ConfigError,
    load_config,
    resolve_config,
    schema_path,
)
from pe_policy.starter import starter_config
from tests.conftest import REPO, line_of, run_cli
from tests.userland import TERRAFORM, WORKFLOW, copy_repo, write

DOCS = REPO / "README.md"


@pytest.fixture
def repo(tmp_repo: Path) -> Path:
    return copy_repo(tmp_repo)


def active(root: Path, *args: str) -> list[tuple[str, str, int, str]]:
    result = run_cli(["check", str(root), "--format", "json", *args])
    assert result.exit_code in (0, 1), result.stderr
    return [(f["rule_id"], f["location"]["path"], f["location"]["line"], f["severity"])
            for f in json.loads(result.stdout)["findings"] if "suppression" not in f]


# --- the schema and the defaults ------------------------------------------------------------


def test_every_default_param_is_described_documented_and_valid(tmp_repo: Path) -> None:
    described = json.loads(schema_path().read_text(encoding="utf-8"))["properties"]["params"][
        "properties"]
    docs = DOCS.read_text(encoding="utf-8")
    for name, default in DEFAULT_PARAMS.items():
        assert described.get(name, {}).get("description"), f"describe params.{name} in the schema"
        assert f"`{name}`" in docs, f"document params.{name} in the README (Configuring pe-policy)"
        config = write(tmp_repo, ".pe-policy.yaml", yaml.safe_dump({"params": {name: default}}))
        assert load_config(config, tmp_repo).params[name] == default


def test_every_config_key_is_documented() -> None:
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    docs = DOCS.read_text(encoding="utf-8")
    for key in schema["properties"]:
        assert f"`{key}`" in docs
    for key in schema["properties"]["rules"]["properties"]:
        assert f"`rules.{key}`" in docs
    for key in schema["$defs"]["waiver"]["properties"]:
        assert f"`{key}`" in docs


def test_no_config_file_means_defaults(tmp_repo: Path) -> None:
    config = resolve_config(tmp_repo)
    assert config.path is None and config.params == DEFAULT_PARAMS
    assert config.params is not DEFAULT_PARAMS  # a copy: a run never mutates the defaults


def test_params_replace_defaults_as_a_whole(tmp_repo: Path) -> None:
    config = write(tmp_repo, ".pe-policy.yaml", "params:\n  required_tags: [owner]\n"
                   "  coverage_threshold: 92.5\n")
    params = load_config(config, tmp_repo).params
    assert params["required_tags"] == ["owner"] and params["coverage_threshold"] == 92.5
    assert {k: v for k, v in params.items() if k not in ("required_tags", "coverage_threshold")} \
        == {k: v for k, v in DEFAULT_PARAMS.items() if k not in ("required_tags",
                                                                  "coverage_threshold")}


def test_a_param_added_later_is_typed_from_its_default(tmp_repo: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(DEFAULT_PARAMS, "max_parallel_deploys", 3)
    ok = write(tmp_repo, ".pe-policy.yaml", "params:\n  max_parallel_deploys: 5\n")
    assert load_config(ok, tmp_repo).params["max_parallel_deploys"] == 5
    write(tmp_repo, ".pe-policy.yaml", "params:\n  max_parallel_deploys: many\n")
    with pytest.raises(ConfigError, match="expected a whole number"):
        load_config(ok, tmp_repo)


# --- errors: the key and its line, exit 2, no traceback --------------------------------------

BAD_CONFIGS = [
    pytest.param("colour: true\n", "colour", "unknown key 'colour'", id="unknown-key"),
    pytest.param("params:\n  coverage_treshold: 90\n", "coverage_treshold",
                 "did you mean 'coverage_threshold'", id="param-typo"),
    pytest.param("params:\n  admin_ports: [22, ssh]\n", "admin_ports",
                 "params.admin_ports[1]: expected a whole number, found 'ssh'", id="item-type"),
    pytest.param("params:\n  title_pattern: '^[PE-'\n", "title_pattern",
                 "not a valid regular expression", id="bad-regex"),
    pytest.param("params:\n  coverage_threshold: 180\n", "coverage_threshold",
                 "180 is greater than the maximum of 100", id="out-of-range"),
    pytest.param("rules:\n  severity:\n    PE-WF-002: urgent\n", "PE-WF-002",
                 "'urgent' is not one of: critical, high", id="bad-severity"),
    pytest.param("exclude: fixtures/\n", "exclude", "exclude: expected a list", id="not-a-list"),
    pytest.param("waivers:\n  - rule: PE-TF-002\n    path: infra/*.tf\n    owner: ops\n"
                 "    expires: 2030-01-01\n", "- rule", "missing required key: reason",
                 id="waiver-missing-reason"),
    pytest.param("waivers:\n  - rule: PE-TF-002\n    path: infra/*.tf\n    owner: ops\n"
                 "    reason: x\n    expires: 2030-02-30\n", "expires",
                 "'2030-02-30' is not a valid date", id="waiver-bad-date"),
    pytest.param("rules:\n  disable: [PE-WF-02]\n", "PE-WF-02",
                 "no rule matches 'PE-WF-02'; did you mean PE-WF-020?", id="unknown-rule"),
    pytest.param("waivers:\n  - rule: PE-XX-001\n    path: '*'\n    owner: ops\n    reason: x\n"
                 "    expires: 2030-01-01\n", "PE-XX-001", "no rule matches 'PE-XX-001'",
                 id="waiver-unknown-rule"),
    pytest.param("rules:\n  disable:\n    - PE-PARSE\n", "PE-PARSE", "cannot be disabled",
                 id="disable-parse"),
    pytest.param("policies: [policy/acme]\n", "policies", "no policy directory 'policy/acme'",
                 id="missing-policy-dir"),
    pytest.param("rules:\n  disable: PE-WF-002: yes\n", "disable", "invalid YAML", id="yaml-syntax"),
]


@pytest.mark.parametrize(("text", "needle", "message"), BAD_CONFIGS)
def test_invalid_config_names_key_and_line(repo: Path, text: str, needle: str,
                                           message: str) -> None:
    config = write(repo, ".pe-policy.yaml", "# team config\n" + text)
    result = run_cli(["check", str(repo)])
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    expected_line = line_of(config, needle)
    lines = [line for line in result.stderr.splitlines() if message in line]
    assert lines, result.stderr
    assert re.search(rf"\.pe-policy\.yaml:{expected_line}(:\d+)?: ", lines[0]), lines[0]


def test_every_problem_is_reported_at_once(repo: Path) -> None:
    write(repo, ".pe-policy.yaml", "colour: true\nparams:\n  coverage_treshold: 90\n"
          "exclude: fixtures/\n")
    result = run_cli(["check", str(repo)])
    assert result.exit_code == 2
    assert len([line for line in result.stderr.splitlines() if "invalid configuration" in line]) == 3


def test_config_option_reads_another_file(repo: Path, tmp_path: Path) -> None:
    other = write(tmp_path, "elsewhere/policy.yaml", "rules:\n  disable: [PE-WF-002]\n")
    assert any(r == "PE-WF-002" for r, *_ in active(repo))
    assert not any(r == "PE-WF-002" for r, *_ in active(repo, "--config", str(other)))
    missing = run_cli(["check", str(repo), "--config", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "configuration file not found" in missing.stderr


def test_command_line_overrides_apply_to_a_copy(repo: Path) -> None:
    write(repo, ".pe-policy.yaml", "max_file_bytes: 1000\nexclude: [\"db/\"]\n")
    from_file = resolve_config(repo)
    overridden = resolve_config(repo, max_file_bytes=50)
    assert (from_file.max_file_bytes, overridden.max_file_bytes) == (1000, 50)
    assert overridden.exclude == from_file.exclude == ("db/",)
    assert resolve_config(repo, repo / ".pe-policy.yaml").max_file_bytes == 1000
    assert resolve_config(repo / "infra", max_file_bytes=7).max_file_bytes == 7  # no file: defaults


# --- each key reaches the pipeline -----------------------------------------------------------


def test_disable_enable_and_severity(repo: Path) -> None:
    everything = active(repo)
    assert {"PE-WF-002", "PE-TF-002", "PE-MG-002"} <= {r for r, *_ in everything}

    write(repo, ".pe-policy.yaml", "rules:\n  disable: [PE-WF-002, PE-MG]\n")
    rules = {r for r, *_ in active(repo)}
    assert "PE-WF-002" not in rules and not any(r.startswith("PE-MG-") for r in rules)
    assert "PE-TF-002" in rules

    write(repo, ".pe-policy.yaml", "rules:\n  enable: [PE-TF]\n")
    assert {r for r, *_ in active(repo)} == {"PE-TF-002"}

    write(repo, ".pe-policy.yaml", "rules:\n  severity:\n    PE-WF: low\n    PE-WF-002: info\n")
    severities = {(r, s) for r, _, _, s in active(repo) if r.startswith("PE-WF")}
    assert ("PE-WF-002", "info") in severities
    assert all(s == "low" for r, s in severities if r != "PE-WF-002")
    sarif = json.loads(run_cli(["check", str(repo), "--format", "sarif"]).stdout)
    rules_meta = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert rules_meta["PE-WF-002"]["defaultConfiguration"]["level"] == "note"


def test_severity_override_changes_the_exit_code(repo: Path) -> None:
    target = str(repo / TERRAFORM)
    assert run_cli(["check", target, "--fail-on", "high"]).exit_code == 1
    write(repo, ".pe-policy.yaml", "rules:\n  severity: {PE-TF-002: medium}\n")
    assert run_cli(["check", target, "--fail-on", "high"]).exit_code == 0


def test_exclude_applies_to_walks_and_named_files(repo: Path) -> None:
    write(repo, ".pe-policy.yaml", "exclude: [\"infra/*\", \"db/\"]\n")
    paths = {p for _, p, _, _ in active(repo)}
    assert not any(p.startswith(("infra/", "db/")) for p in paths) and WORKFLOW in paths
    named = run_cli(["check", str(repo / TERRAFORM), "--format", "json"])
    assert json.loads(named.stdout)["summary"]["files"] == 0


def test_max_file_bytes(repo: Path) -> None:
    size = (repo / TERRAFORM).stat().st_size
    write(repo, ".pe-policy.yaml", f"max_file_bytes: {size - 1}\n")
    result = run_cli(["check", str(repo / TERRAFORM), "--format", "json"])
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["rule_id"] == "PE-PARSE" and "max_file_bytes" in finding["message"]
    assert result.exit_code == 2


ACME_REGO = """\
# METADATA
# title: Jobs run on approved runners
# description: Only the runner labels platform approved may run jobs.
# custom:
#   id: ACME-001
#   severity: medium
#   kinds: [workflow]
package acme.runners

import rego.v1

deny contains {"msg": msg, "path": ["jobs", job_id, "runs-on"]} if {
\tsome job_id, job in input.jobs
\tnot job["runs-on"] in data.pe.params.custom.approved_runners
\tmsg := sprintf("job %q runs on %q, not an approved runner", [job_id, job["runs-on"]])
}
"""

ACME_PY = """\
from pe_policy.engine.python_rules import Violation, rule


@rule("ACME-002", severity="low", kinds=["workflow"], title="Jobs set timeout-minutes")
def timeouts(doc, ctx):
    for job_id, job in (doc.raw or {}).get("jobs", {}).items():
        if "timeout-minutes" not in job:
            yield Violation(f"job '{job_id}' has no timeout-minutes", ("jobs", job_id))
"""


def test_extra_policy_directories_and_custom_params(repo: Path) -> None:
    write(repo, "policy/acme/runners.rego", ACME_REGO)
    write(repo, "policy/acme/timeouts.py", ACME_PY)
    write(repo, ".pe-policy.yaml", "policies: [policy/acme]\npython_rules: true\nparams:\n"
          "  custom:\n    approved_runners: [ubuntu-latest]\n")
    wf = repo / WORKFLOW
    hits = active(repo)
    assert not [h for h in hits if h[0] == "ACME-001"]  # every job runs on ubuntu-latest
    assert sorted((r, line) for r, p, line, _ in hits if r == "ACME-002" and p == WORKFLOW) == [
        ("ACME-002", line_of(wf, "  lint:")), ("ACME-002", line_of(wf, "  test:"))]

    write(repo, ".pe-policy.yaml", "policies: [policy/acme]\npython_rules: true\nparams:\n"
          "  custom:\n    approved_runners: [self-hosted]\nrules:\n  disable: [ACME-002]\n"
          "  severity: {ACME: high}\n")
    hits = active(repo)
    assert not [h for h in hits if h[0] == "ACME-002"]
    assert sorted((r, line, s) for r, p, line, s in hits if r == "ACME-001") == [
        ("ACME-001", line_of(wf, "runs-on", 1), "high"),
        ("ACME-001", line_of(wf, "runs-on", 2), "high")]


# --- init ------------------------------------------------------------------------------------


def uncommented_params(text: str) -> dict:  # type: ignore[type-arg]
    lines = text.splitlines()
    start = lines.index("# params:")
    block = [line[2:] for line in lines[start:] if line.startswith("# ")]
    return yaml.safe_load("\n".join(block))["params"]  # type: ignore[no-any-return]


def test_starter_config_is_valid_and_shows_the_defaults(tmp_repo: Path) -> None:
    result = run_cli(["init", "--root", str(tmp_repo)])
    assert result.exit_code == 0, result.stderr
    written = tmp_repo / ".pe-policy.yaml"
    assert written.read_text(encoding="utf-8") == starter_config()
    config = load_config(written, tmp_repo)
    assert config.params == Config().params and config.waivers == ()
    assert uncommented_params(written.read_text(encoding="utf-8")) == DEFAULT_PARAMS
    # with the parameter block uncommented it is still a valid configuration
    text = written.read_text(encoding="utf-8")
    start = text.index("# params:")
    write(tmp_repo, ".pe-policy.yaml", text[:start] + "\n".join(
        line[2:] if line.startswith("# ") else line for line in text[start:].splitlines()) + "\n")
    assert load_config(written, tmp_repo).params == DEFAULT_PARAMS
    assert "repos:" in result.stdout and "- id: pe-policy" in result.stdout


def test_init_does_not_overwrite_unless_forced(tmp_repo: Path) -> None:
    write(tmp_repo, ".pe-policy.yaml", "rules:\n  disable: [PE-PR-008]\n")
    refused = run_cli(["init", "--root", str(tmp_repo)])
    assert refused.exit_code == 2 and "already exists" in refused.stderr
    assert "PE-PR-008" in (tmp_repo / ".pe-policy.yaml").read_text(encoding="utf-8")
    assert run_cli(["init", "--root", str(tmp_repo), "--force"]).exit_code == 0
    assert (tmp_repo / ".pe-policy.yaml").read_text(encoding="utf-8") == starter_config()


def test_init_writes_a_pre_commit_config_pre_commit_accepts(tmp_repo: Path) -> None:
    from pre_commit.clientlib import load_config as load_pre_commit_config

    assert run_cli(["init", "--root", str(tmp_repo), "--pre-commit"]).exit_code == 0
    loaded = load_pre_commit_config(str(tmp_repo / ".pre-commit-config.yaml"))
    (repo,) = loaded["repos"]
    (hook,) = repo["hooks"]
    assert hook["id"] == "pe-policy" and repo["rev"]  # installed from the repository at a rev
    existing = tmp_repo / ".pre-commit-config.yaml"
    existing.write_text("repos: []\n", encoding="utf-8")
    again = run_cli(["init", "--root", str(tmp_repo), "--pre-commit", "--force"])
    assert again.exit_code == 0
    assert load_pre_commit_config(str(existing))["repos"][0]["hooks"][0]["id"] == "pe-policy"
