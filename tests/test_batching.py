"""Documents of one kind have their Rego rules evaluated in one engine call (`Evaluator.prefetch`).

That is only a speed-up: the findings, their order and every error must be exactly those of
evaluating the documents one by one, on the real engine and real files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pe_policy.config import Config
from pe_policy.discover import discover
from pe_policy.engine.evaluate import BATCH_DOCUMENTS, RULE_ERROR_ID, Evaluator
from pe_policy.engine.pack import load_ruleset
from pe_policy.pipeline import default_ruleset
from pe_policy.runner import Limits
from tests.conftest import REPO, evaluate_all, load_candidates, run_documents

WORKFLOW = """\
name: CI {n}
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    env:
      RETRIES: "{retries}"
    steps:
      - uses: actions/checkout@v4
      - run: make
"""

# fails on the one document whose RETRIES is not a number: an engine error, not a finding
STRICT_POLICY = """\
# METADATA
# title: Retries are numbers
# custom:
#   id: ACME-201
#   severity: low
#   kinds: [workflow]
package acme.retries

import rego.v1

deny contains msg if {
	to_number(input.jobs.build.env.RETRIES) > 3
	msg := "too many retries"
}
"""


def _documents(root: Path) -> list:  # type: ignore[type-arg]
    """Every file that loads (the fixtures hold some broken on purpose)."""
    candidates, _ = discover([root], root)
    return load_candidates(candidates, root)[0]


def _findings(evaluator: Evaluator, documents: list, batching: bool) -> list[tuple]:  # type: ignore[type-arg]
    evaluator.batching = batching
    return [(f.rule_id, f.location, f.message, f.fingerprint)
            for f in evaluate_all(evaluator, documents)]


def _count_calls(evaluator: Evaluator) -> dict[str, int]:
    """Count the backend's batch queries and its one-rule queries."""
    calls = {"eval_rule": 0, "eval_rules_each": 0}
    backend = evaluator.backend
    for name in calls:
        method = getattr(backend, name)

        def counted(*args: Any, _name: str = name, _method: Any = method) -> Any:
            calls[_name] += 1
            return _method(*args)

        setattr(backend, name, counted)
    return calls


def test_batches_give_the_findings_of_one_by_one_on_every_fixture() -> None:
    documents = _documents(REPO / "fixtures")
    kinds = {d.kind for d in documents}
    assert len(documents) > BATCH_DOCUMENTS and {"workflow", "terraform"} <= kinds
    ruleset = default_ruleset()
    batched = Evaluator(ruleset, Config().params)
    one_by_one = Evaluator(ruleset, Config().params)
    calls = _count_calls(batched)
    found = _findings(batched, documents, batching=True)
    assert batched.batching  # no batch failed: the comparison below is batched against serial
    # the values really came from batches: most documents never had a query of their own
    assert 0 < calls["eval_rules_each"] < len(documents) // 2 and calls["eval_rule"] == 0
    assert len(found) > 100
    assert found == _findings(one_by_one, documents, batching=False)


def test_an_engine_error_on_one_document_is_named_on_it_alone(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for n in range(6):
        retries = "many" if n == 3 else str(n)
        (workflows / f"ci-{n}.yml").write_text(WORKFLOW.format(n=n, retries=retries))
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "retries.rego").write_text(STRICT_POLICY)
    documents = _documents(tmp_path)
    ruleset = load_ruleset([tmp_path / "policy"])
    batched = Evaluator(ruleset, {}, repo_root=tmp_path)
    found = _findings(batched, documents, batching=True)
    assert found == _findings(Evaluator(ruleset, {}, repo_root=tmp_path), documents, batching=False)
    errors = [(f[0], f[1].path) for f in found if f[0] == RULE_ERROR_ID]
    assert errors == [(RULE_ERROR_ID, ".github/workflows/ci-3.yml")]
    assert [f[1].path for f in found if f[0] == "ACME-201"] == [
        ".github/workflows/ci-4.yml", ".github/workflows/ci-5.yml"]


def test_the_isolated_workers_batch_too_and_agree(tmp_path: Path) -> None:
    """The forked evaluation (deadline, memory limit) in two lanes gives the in-process result."""
    documents = _documents(REPO / "fixtures")
    ruleset = default_ruleset()
    isolated = run_documents(Evaluator(ruleset, Config().params), documents, Limits(), lanes=2)
    in_process = run_documents(Evaluator(ruleset, Config().params), documents, Limits(), lanes=0)
    assert [(f.rule_id, f.location, f.message) for f in isolated] == [
        (f.rule_id, f.location, f.message) for f in in_process]
