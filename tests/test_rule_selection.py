"""Rule selection happens once, before evaluation (`engine.pack.select_rules`): the rules the
configuration turns off never run, and the others run at the severity it gives them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pe_policy.config import Config, ConfigError
from pe_policy.engine.pack import RuleSet, SelectedModule, fallback_meta, select_rules
from pe_policy.findings import Severity
from pe_policy.pipeline import check, default_ruleset
from tests.userland import write

PAIR_REGO = """\
package acme.pair

import rego.v1

# METADATA
# title: Jobs are listed
# custom:
#   id: ACME-010
#   severity: medium
#   kinds: [workflow]
deny contains {"msg": sprintf("job %s", [job_id]), "path": ["jobs", job_id]} if {
\tsome job_id, _ in input.jobs
}

# METADATA
# title: Jobs are listed again
# custom:
#   id: ACME-011
#   severity: low
#   kinds: [workflow]
deny_again contains {"msg": sprintf("again %s", [job_id]), "path": ["jobs", job_id]} if {
\tsome job_id, _ in input.jobs
}
"""

PLAIN_REGO = """\
package acme.plain

import rego.v1

deny contains msg if {
\tinput.jobs
\tmsg := "plain"
}
"""

ACME_PY = """\
from pe_policy.engine.python_rules import Violation, rule


@rule("ACME-012", severity="low", kinds=["workflow"], title="Jobs exist")
def jobs(doc, ctx):
    for job_id in (doc.raw or {}).get("jobs", {}):
        yield Violation(f"python {job_id}", ("jobs", job_id))
"""

WORKFLOW = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps: []\n"


@pytest.fixture
def policies(tmp_repo: Path) -> Path:
    write(tmp_repo, "policy/acme/pair.rego", PAIR_REGO)
    write(tmp_repo, "policy/acme/plain.rego", PLAIN_REGO)
    write(tmp_repo, "policy/acme/jobs.py", ACME_PY)
    write(tmp_repo, ".github/workflows/ci.yml", WORKFLOW)
    return tmp_repo / "policy" / "acme"


def config_for(policies: Path) -> Config:
    return Config(policies=(policies,), python_rules=True, disable=("ACME-011",),
                  severity={"ACME-010": Severity.CRITICAL, "acme.plain.deny": Severity.INFO,
                            "ACME-012": Severity.HIGH})


def test_severities_live_in_every_rule_metadata(policies: Path) -> None:
    selected = select_rules(default_ruleset([policies], python_rules=True), config_for(policies))
    assert selected.severities == {"ACME-010": Severity.CRITICAL,
                                   "acme.plain.deny": Severity.INFO, "ACME-012": Severity.HIGH}
    assert selected.catalog["ACME-010"].severity is Severity.CRITICAL
    assert selected.catalog["ACME-012"].severity is Severity.HIGH
    assert "ACME-011" not in selected.catalog
    (python_rule,) = [r for r in selected.python_rules if r.meta.id == "ACME-012"]
    assert python_rule.meta.severity is Severity.HIGH
    modules = {m.package: m for m in selected.rego_modules}
    pair, plain = modules["acme.pair"], modules["acme.plain"]
    assert isinstance(pair, SelectedModule) and pair.result_rules == ("deny",)
    meta = pair.meta_for("deny")
    assert meta is not None and meta.severity is Severity.CRITICAL
    assert fallback_meta(plain, "deny").severity is Severity.INFO


def test_the_run_reports_what_the_selection_says(policies: Path, tmp_repo: Path) -> None:
    result = check([tmp_repo / ".github"], tmp_repo.resolve(), config=config_for(policies))
    found = sorted((f.rule_id, f.severity.value, f.message) for f in result.findings
                   if f.rule_id.upper().startswith("ACME"))
    assert found == [("ACME-010", "critical", "job a"), ("ACME-012", "high", "python a"),
                     ("acme.plain.deny", "info", "plain")]


def test_a_disabled_rule_beside_an_enabled_one_is_never_evaluated(policies: Path,
                                                                  tmp_repo: Path) -> None:
    """Its module still runs for the other rule; the disabled rule is not queried at all
    (so it cannot fail, nor cost anything), not filtered out afterwards."""
    selected = select_rules(default_ruleset([policies], python_rules=True), config_for(policies))
    (pair,) = [m for m in selected.rego_modules if m.package == "acme.pair"]
    assert "deny_again" not in pair.result_rules
    result = check([tmp_repo / ".github"], tmp_repo.resolve(), config=config_for(policies))
    assert not [f for f in result.findings if f.rule_id == "ACME-011"]


def test_no_restriction_keeps_the_rule_set(policies: Path) -> None:
    ruleset = default_ruleset([policies], python_rules=True)
    assert select_rules(ruleset, Config(policies=(policies,), python_rules=True)) is ruleset


def test_unknown_rule_ids_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no rule matches 'ACME-999'"):
        select_rules(RuleSet(), Config(disable=("ACME-999",)))


def test_pe_policys_own_rules_stay_described_when_off() -> None:
    selected = select_rules(RuleSet(), Config(disable=("PE-SUPPRESS",)))
    assert "PE-SUPPRESS" in selected.catalog and selected.selected_meta("PE-SUPPRESS") is None
    assert selected.selected_meta("PE-PARSE") is not None
