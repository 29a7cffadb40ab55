"""pe-policy's workflow pack against zizmor, the reference GitHub Actions auditor.

Both tools check the same corpus (tests/zizmor_corpus.py: realistic workflows, each
rule's true and false cases, each written once per trigger it matters for): zizmor as
users run it offline (`zizmor --offline --persona auditor --format json`), pe-policy
with its built-in workflow rules. For every mapped pair of rules (pe-policy ID <->
zizmor audit) the findings must agree on file and line, or the case records why
pe-policy differs by design; a recorded difference that no longer occurs fails too, so
the record stays true. The agreement table is printed and kept in
docs/zizmor-agreement.md (regenerate with PE_POLICY_UPDATE_GOLDEN=1).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from pe_policy.config import DEFAULT_PARAMS, Config
from pe_policy.engine.pack import load_ruleset
from pe_policy.pipeline import check

from .conftest import REPO
from .zizmor_corpus import CASES, PAIRS, case_of, write_corpus

TABLE = REPO / "docs" / "zizmor-agreement.md"
MIN_WORKFLOWS = 150

Hit = tuple[str, int]  # (path from the repository root, line)


def zizmor_binary() -> str:
    """zizmor from the dev extra (beside this Python), else PATH; CI never skips it."""
    beside = Path(sys.executable).parent / "zizmor"
    found = str(beside) if beside.exists() else shutil.which("zizmor")
    if found:
        return found
    message = "zizmor is not installed: `make install` (dev extra, Python 3.11+)"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI never skips the reference tools)")
    pytest.skip(message)


def zizmor_hits(root: Path) -> dict[str, set[Hit]]:
    """audit -> {(file, line)} of zizmor's primary locations."""
    proc = subprocess.run([zizmor_binary(), "--offline", "--persona", "auditor", "--format", "json",
                           "--no-progress", "."], cwd=root, capture_output=True, text=True,
                          timeout=300, check=False)
    # 0: nothing found; 10-14: findings of the highest severity; anything else is a failure
    assert proc.returncode == 0 or 10 <= proc.returncode <= 14, proc.stderr[-2000:]
    assert "failed to parse" not in proc.stderr, proc.stderr[-2000:]  # every case is valid YAML
    hits: dict[str, set[Hit]] = defaultdict(set)
    for finding in json.loads(proc.stdout):
        for location in finding["locations"]:
            if location["symbolic"]["kind"] != "Primary":
                continue
            path = location["symbolic"]["key"]["Local"]["verbatim_path"].removeprefix("./")
            hits[finding["ident"]].add((path, location["concrete"]["location"]["start_point"]["row"] + 1))
    return hits


def pe_policy_hits(root: Path, paths: list[Path]) -> dict[str, set[Hit]]:
    """rule -> {(file, line)} of pe-policy's built-in workflow rules."""
    ruleset = load_ruleset([REPO / "policies" / "workflow"])
    config = Config(params=copy.deepcopy(DEFAULT_PARAMS))
    result = check(paths, root, config=config, ruleset=ruleset)
    assert not [f for f in result.findings if f.rule_id.startswith(("PE-PARSE", "PE-RULE-ERROR"))], \
        [f"{f.location}: {f.message}" for f in result.findings if not f.rule_id.startswith("PE-WF")]
    hits: dict[str, set[Hit]] = defaultdict(set)
    for finding in result.findings:
        hits[finding.rule_id].add((finding.location.path, finding.location.line))
    return hits


def table(rows: list[tuple[str, str, int, int, int, int, int]]) -> str:
    lines = [
        "# pe-policy and zizmor on the differential corpus",
        "",
        f"{sum(len(c.files()) for c in CASES)} workflows and actions ({len(CASES)} cases, "
        "tests/zizmor_corpus.py), checked by `tests/test_zizmor_differential.py` with "
        "`zizmor --offline --persona auditor`. A finding agrees when both tools report the "
        "pair's rule on the same file and line; every other finding is a difference pe-policy "
        "makes by design, with its reason recorded in the case.",
        "",
        "| pe-policy | zizmor | agree | pe-policy only | zizmor only | by design | agreement |",
        "|---|---|---|---|---|---|---|",
    ]
    for rule, audit, agree, pe_only, z_only, documented, _ in rows:
        total = agree + pe_only + z_only
        share = f"{100 * agree / total:.0f}%" if total else "-"
        lines.append(f"| {rule} | {audit} | {agree} | {pe_only} | {z_only} | {documented} | {share} |")
    lines += ["", "Differences by design:", ""]
    reasons = sorted({(rule, why) for case in CASES for rule, why in case.differs.items()})
    lines += [f"- {rule} ({PAIRS[rule]}): {why}." for rule, why in reasons]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("zizmor-corpus")
    subprocess.run(["git", "init", "-q", str(root)], check=True)  # zizmor audits a repository
    return root, write_corpus(root)


def test_pe_policy_agrees_with_zizmor_on_every_mapped_pair(corpus: tuple[Path, list[Path]]) -> None:
    root, paths = corpus
    assert len([p for p in paths if p.parent.name == "workflows"]) >= MIN_WORKFLOWS
    theirs = zizmor_hits(root)
    ours = pe_policy_hits(root, paths)
    declared = {(case.name, rule) for case in CASES for rule in case.differs}
    unexplained: list[str] = []
    occurred: set[tuple[str, str]] = set()
    rows = []
    for rule, audit in PAIRS.items():
        agree = ours[rule] & theirs[audit]
        pe_only, z_only = ours[rule] - theirs[audit], theirs[audit] - ours[rule]
        documented = 0
        for side, hits in (("pe-policy only", pe_only), ("zizmor only", z_only)):
            for name, line in sorted(hits):
                if (case_of(name), rule) in declared:
                    occurred.add((case_of(name), rule))
                    documented += 1
                else:
                    unexplained.append(f"{rule}/{audit}: {side} at {name}:{line}")
        rows.append((rule, audit, len(agree), len(pe_only), len(z_only), documented, 0))
    rendered = table(rows)
    print("\n" + rendered)
    if os.environ.get("PE_POLICY_UPDATE_GOLDEN"):
        TABLE.write_text(rendered, encoding="utf-8")
    assert unexplained == [], "differences no case explains:\n" + "\n".join(unexplained)
    assert sorted(declared - occurred) == [], "recorded differences that no longer occur"
    assert TABLE.read_text(encoding="utf-8") == rendered, \
        "docs/zizmor-agreement.md is stale: PE_POLICY_UPDATE_GOLDEN=1 regenerates it"


def test_every_pair_is_exercised_on_both_sides(corpus: tuple[Path, list[Path]]) -> None:
    """Each mapped rule fires somewhere in the corpus and stays quiet somewhere else."""
    root, paths = corpus
    ours = pe_policy_hits(root, paths)
    names = {p.relative_to(root).as_posix() for p in paths}
    for rule in PAIRS:
        fired = {name for name, _ in ours[rule]}
        assert fired, f"{rule} never fires on the corpus"
        assert names - fired, f"{rule} fires on every workflow"
