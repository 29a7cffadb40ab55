"""PE-RB-001..005 through the real pipeline (regorus for the Rego rules), on files on disk.

The runbooks under fixtures/runbook/ change the small service tree in
fixtures/runbook/services/, which `[MODIFY]`/`[DELETE]` paths resolve to (the
nearest parent directory holding the path: see pe_policy.models.markdown).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pe_policy.config import DEFAULT_PARAMS, Config
from pe_policy.engine.evaluate import Evaluator
from pe_policy.engine.pack import load_ruleset
from pe_policy.findings import ParseError
from pe_policy.loaders import load_text
from pe_policy.pipeline import check
from tests.conftest import FIXTURES, REPO, check_paths, line_of, rule_hits, run_cli

RUNBOOKS = FIXTURES / "runbook"
GOOD = RUNBOOKS / "good/PE-12-runbook.md"
BAD = RUNBOOKS / "bad"
RULES = ("PE-RB-001", "PE-RB-002", "PE-RB-003", "PE-RB-004", "PE-RB-005")


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.fixture(scope="module")
def result(builtin_ruleset):  # type: ignore[no-untyped-def]
    return check_paths([RUNBOOKS], ruleset=builtin_ruleset)


def findings_in(result, path: Path) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    return sorted((f.rule_id, f.location.line) for f in result.active if f.location.path == rel(path))


def test_good_runbook_has_no_findings(result) -> None:  # type: ignore[no-untyped-def]
    assert rel(GOOD) in result.checked_paths
    assert findings_in(result, GOOD) == []


@pytest.mark.parametrize(("name", "rule_id", "needle"), [
    ("PE-31-runbook.md", "PE-RB-001", "Status: PROPOSED"),
    ("PE-32-runbook.md", "PE-RB-002", "- [ ] @Observability approved?"),
    ("PE-33-runbook.md", "PE-RB-003", "## Verification Plan"),
    ("PE-34-runbook.md", "PE-RB-004", "# PE-34:"),  # nothing to point at: the title
    ("PE-35-runbook.md", "PE-RB-005", "[MODIFY] [app/settings.py]"),
])
def test_each_bad_runbook_has_exactly_its_finding(result, name: str, rule_id: str,  # type: ignore[no-untyped-def]
                                                  needle: str) -> None:
    path = BAD / name
    assert findings_in(result, path) == [(rule_id, line_of(path, needle))]


def test_unticked_box_is_located_at_the_box(result) -> None:  # type: ignore[no-untyped-def]
    path = BAD / "PE-32-runbook.md"
    [finding] = [f for f in result.active if f.rule_id == "PE-RB-002"]
    line = path.read_text("utf-8").splitlines()[finding.location.line - 1]
    assert finding.location.column is not None
    assert line[finding.location.column - 1:].startswith("[ ]")
    assert "@Observability" in finding.message


def test_messages_name_the_offending_thing(result) -> None:  # type: ignore[no-untyped-def]
    messages = {f.rule_id: f.message for f in result.active}
    assert "PROPOSED" in messages["PE-RB-001"]
    assert "How to test..." in messages["PE-RB-003"]
    assert "Rollback Plan" in messages["PE-RB-004"]
    assert "services/gateway/app/settings.py" in messages["PE-RB-005"]


# --- variations in a scratch repository ---------------------------------------------------------

SEED = """\
# PE-50: Gateway request logging

Status: ACCEPTED

## Goal Description
Log every request with its latency.

## Compliance Checklist
- [x] @Security approved?
- [x] @Architect approved?
- [x] @QA approved?
- [x] @Docs approved?
- [x] @Compliance approved?
- [x] @Observability approved?

## Proposed Changes
### [Gateway]
#### [MODIFY] [main.py](src/gateway/main.py)
- Add the middleware.

## Verification Plan
- `pytest -k logging`

## Rollback Plan
- Revert the commit and redeploy.
"""


def run_on(repo: Path, text: str, name: str = "docs/runbooks/PE-50.md",
           config: Config | None = None) -> tuple[Path, list[tuple[str, int]]]:
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    (repo / "src/gateway").mkdir(parents=True, exist_ok=True)
    (repo / "src/gateway/main.py").write_text("app = None\n", encoding="utf-8")
    outcome = check([path], repo, config=config)
    return path, sorted((f.rule_id, f.location.line) for f in outcome.active)


def test_seed_shaped_runbook_is_clean(tmp_repo: Path) -> None:
    assert run_on(tmp_repo, SEED)[1] == []


def test_missing_status_points_at_the_title(tmp_repo: Path) -> None:
    path, hits = run_on(tmp_repo, SEED.replace("Status: ACCEPTED\n", ""))
    assert hits == [("PE-RB-001", line_of(path, "# PE-50"))]


def test_missing_role_points_at_the_checklist(tmp_repo: Path) -> None:
    path, hits = run_on(tmp_repo, SEED.replace("- [x] @Docs approved?\n", ""))
    assert hits == [("PE-RB-002", line_of(path, "## Compliance Checklist"))]


def test_missing_checklist_section(tmp_repo: Path) -> None:
    start, end = SEED.index("## Compliance Checklist"), SEED.index("## Proposed Changes")
    path, hits = run_on(tmp_repo, SEED[:start] + SEED[end:])
    title = line_of(path, "# PE-50")
    assert hits == [("PE-RB-002", title), ("PE-RB-003", title)]


def test_empty_goal_points_at_its_heading(tmp_repo: Path) -> None:
    path, hits = run_on(tmp_repo, SEED.replace("Log every request with its latency.\n", ""))
    assert hits == [("PE-RB-003", line_of(path, "## Goal Description"))]


def test_empty_rollback_section_points_at_its_heading(tmp_repo: Path) -> None:
    path, hits = run_on(tmp_repo, SEED.replace("- Revert the commit and redeploy.\n", ""))
    assert hits == [("PE-RB-004", line_of(path, "## Rollback Plan"))]


def test_rollback_line_in_the_verification_plan_counts(tmp_repo: Path) -> None:
    text = SEED.split("## Rollback Plan")[0] + "- Rollback: revert the commit; no data changes.\n"
    assert run_on(tmp_repo, text)[1] == []


def test_deleting_a_missing_file_and_an_absolute_path(tmp_repo: Path) -> None:
    text = SEED.replace("- Add the middleware.\n", "- Add the middleware.\n\n"
                        "#### [DELETE] `src/gateway/old_logging.py`\n"
                        "#### [MODIFY] [cfg](file:///home/dev/gw/settings.toml)\n"
                        "#### [NEW] `src/gateway/logging.py`\n")
    path, hits = run_on(tmp_repo, text)
    assert hits == [("PE-RB-005", line_of(path, "[DELETE]")),
                    ("PE-RB-005", line_of(path, "file:///home"))]


def test_paths_resolve_from_a_nested_project(tmp_repo: Path) -> None:
    """A runbook in `.agent/cache/runbooks/<scope>/` names files from the repository root."""
    assert run_on(tmp_repo, SEED, ".agent/cache/runbooks/gateway/PE-50-runbook.md")[1] == []


def test_accepted_statuses_and_sections_are_parameters(tmp_repo: Path) -> None:
    params = copy.deepcopy(DEFAULT_PARAMS)
    params["runbook_accepted_statuses"] = ["ACCEPTED", "APPROVED"]
    params["runbook_required_sections"] = [*params["runbook_required_sections"], "Security Notes"]
    path, hits = run_on(tmp_repo, SEED.replace("Status: ACCEPTED", "Status: Approved"),
                        config=Config(params=params))
    assert hits == [("PE-RB-003", line_of(path, "# PE-50"))]


# --- Rego unit tests and CLI ------------------------------------------------------------------


def test_rego_unit_tests_pass() -> None:
    outcome = run_cli(["verify", str(REPO / "policies/runbook")])
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    assert " 0 failed" in outcome.stdout and "passed" in outcome.stdout


def test_demo_shows_one_runbook_finding(builtin_ruleset) -> None:  # type: ignore[no-untyped-def]
    demo = FIXTURES / "demo"
    path = demo / "docs/runbooks/PE-12.md"
    outcome = check_paths([demo], ruleset=builtin_ruleset)
    hits = [(rule, hit) for rule in RULES for hit in rule_hits(outcome, rule)]
    assert hits == [("PE-RB-002", (rel(path), line_of(path, "@Observability approved?")))]


# --- robustness: the rules never fail on a loadable runbook -------------------------------------


@pytest.fixture(scope="module")
def evaluator() -> Evaluator:
    return Evaluator(load_ruleset([REPO / "policies/runbook"]), DEFAULT_PARAMS, repo_root=REPO)


RUNBOOK_TEXTS = [p.read_text("utf-8") for p in sorted(RUNBOOKS.glob("*/*.md"))]
PIECES = ["Status:", "## Rollback", "- [ ] @", "- [x] ", "#### [DELETE] ", "[MODIFY] ", "|", "#",
          "\n", "`", "](", "file:///", "../", "<TBD>", "---", "Status: \n"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(base=st.sampled_from(RUNBOOK_TEXTS), cut=st.integers(0, 4000),
       piece=st.lists(st.sampled_from(PIECES), max_size=4).map("".join),
       drop=st.integers(0, 60))
def test_rules_never_error_on_mutated_runbooks(evaluator: Evaluator, base: str, cut: int, piece: str,
                                               drop: int) -> None:
    lines = base.splitlines()
    if lines:
        del lines[drop % len(lines)]
    text = "\n".join(lines)
    text = text[:cut] + piece + text[cut:]
    try:
        doc = load_text(text, "fixtures/runbook/bad/fuzz.md", "runbook")
    except ParseError:
        return
    findings = evaluator.evaluate(doc, [doc])
    errors = [f.message for f in findings if f.rule_id == "PE-RULE-ERROR"]
    assert errors == []
    assert all(f.rule_id in RULES for f in findings), json.dumps([f.to_dict() for f in findings])
    assert all(1 <= f.location.line <= max(1, len(text.splitlines()) + 1) for f in findings)
