"""Where the Rego time of one document kind goes: each rule's cost in the real batch query.

`check` evaluates all Rego rules of a kind in one regorus call per batch of documents
(engine/backends.py `eval_rules_each`: 16 documents, `with input as d`), so the rules
share every library rule computed on a document.  This tool loads a corpus with the
real loaders, builds that same query, and prints for each rule

- marginal: the whole batch query minus the same query without this rule (what dropping
  or speeding up the rule would save in a real run; library rules it shares with others
  are not counted here),
- alone: the batch query of this rule only minus an empty query (its cost with the
  libraries it needs, as if it were the only rule).

An alone figure includes what regorus pays for the first rule a document's evaluation
reaches (about 0.01 s over 500 workflows, measured with callgrind): compare alone figures
with each other rather than with zero.

`total` is the whole batch query minus the empty one; `repository` the once-per-repository
rules (modules that define `document_facts`) judging the corpus as one repository.
Every figure is the minimum of --repeat runs taken in turns (the machine may be shared), in
seconds of CPU.

    python benchmarks/rego_cost.py benchmarks/corpus/workflows-500
    python benchmarks/rego_cost.py DIR --kind workflow --repeat 7 --only pipeline_stages
    python benchmarks/rego_cost.py DIR --query data.pe.workflow.lib.pipeline.job_stages
    python benchmarks/rego_cost.py DIR --opa .tools/bin/opa

`--opa` adds the same query in the real OPA, as a peer figure: `opa eval` of the pack's bundle
(`pe-policy bundle`) over all the documents at once (`with input as` each), CPU seconds of
the opa process, and of the same process with a query that only counts the documents.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def corpus_inputs(directory: Path, kind: str) -> list[str]:
    """The input JSON text of every document of `kind` below `directory`, as `check` sees it."""
    from pe_policy.discover import detect_kind, relative_to_root
    from pe_policy.findings import ParseError
    from pe_policy.loaders import load_file

    texts: list[str] = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        display = relative_to_root(path, directory)
        if detect_kind(path, display) != kind:
            continue
        try:
            doc = load_file(path, display, kind, directory)
        except ParseError:
            continue
        texts.append(doc.input_json if doc.input_json is not None else json.dumps(doc.input))
    return texts


def cpu_seconds(works: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """The least CPU time (this process) of `repeat` runs of each work, run in turns (one of
    each, then again) so that a slower or faster spell of a shared machine touches them all."""
    best = dict.fromkeys(works, float("inf"))
    for _ in range(repeat):
        for name, work in works.items():
            start = time.process_time()
            work()
            best[name] = min(best[name], time.process_time() - start)
    return best


def opa_seconds(opa: str, inputs: list[str], rules: list[str], repeat: int) -> tuple[float, float]:
    """(CPU seconds of `opa eval` judging every input with `rules`, of one only counting them),
    each the least of `repeat` runs taken in turns."""
    import os
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        bundle, documents = Path(scratch, "bundle.tar.gz"), Path(scratch, "inputs.json")
        subprocess.run([sys.executable, "-m", "pe_policy", "bundle", "-o", str(bundle)],
                       check=True, capture_output=True, cwd=scratch)
        documents.write_text("[" + ",".join(inputs) + "]", encoding="utf-8")
        queries = {
            "all": f"x := count([[i, r] | d := input[i]; r := [{', '.join(rules)}] with input as d])",
            "empty": "x := count(input)",
        }
        best = dict.fromkeys(queries, float("inf"))
        for _ in range(repeat):
            for name, query in queries.items():
                process = subprocess.Popen([opa, "eval", "-b", str(bundle), "-i", str(documents),
                                            "--format", "json", query],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                _, status, usage = os.wait4(process.pid, 0)
                if status != 0:
                    sys.exit(f"opa eval failed: {process.stderr.read().decode() if process.stderr else ''}")
                best[name] = min(best[name], usage.ru_utime + usage.ru_stime)
    return best["all"], best["empty"]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, nargs="?",
                        default=REPO / "benchmarks" / "corpus" / "workflows-500")
    parser.add_argument("--kind", default="workflow")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="", help="rules whose package contains this text")
    parser.add_argument("--query", action="append", default=[],
                        help="instead of the table: the alone cost of this Rego query "
                             "(a library rule: data.pe.workflow.lib.pipeline.job_stages); repeatable")
    parser.add_argument("--opa", metavar="OPA", default="",
                        help="also evaluate the whole query with this opa binary (see above)")
    args = parser.parse_args(argv)

    from pe_policy.engine.evaluate import (
        BATCH_DOCUMENTS,
        FACTS_RULE,
        Evaluator,
        judges_repository,
    )
    from pe_policy.engine.pack import builtin_policy_dir, load_ruleset
    from pe_policy.pipeline import ruleset_for_kinds

    inputs = corpus_inputs(args.corpus, args.kind)
    if not inputs:
        sys.exit(f"{args.corpus}: no {args.kind} document")
    ruleset = ruleset_for_kinds(load_ruleset([builtin_policy_dir()]), {args.kind})
    evaluator = Evaluator(ruleset, {})
    backend: Any = evaluator.backend
    modules = [m for m in evaluator.modules if not m.kinds or args.kind in m.kinds]
    rules = [f"data.{m.package}.{r}" for m in modules
             for r in ((FACTS_RULE,) if judges_repository(m) else m.result_rules)]
    batches = [inputs[i:i + BATCH_DOCUMENTS] for i in range(0, len(inputs), BATCH_DOCUMENTS)]

    def batch_query(paths: list[str]) -> Callable[[], object]:
        def work() -> None:
            for batch in batches:
                backend.eval_rules_each(paths, batch)
        return work

    if args.query:
        times = cpu_seconds({query: batch_query([query]) for query in ["1", *args.query]},
                            args.repeat)
        for query in args.query:
            print(f"{times[query] - times['1']:7.3f}  {query}")
        return
    shown = [rule for rule in rules if args.only in rule]
    works = {"": batch_query(["1"]), "*": batch_query(rules)}
    for rule in shown:
        works[f"-{rule}"] = batch_query([r for r in rules if r != rule])
        works[f"+{rule}"] = batch_query([rule])
    times = cpu_seconds(works, args.repeat)
    empty, total = times[""], times["*"] - times[""]
    rows = [(times["*"] - times[f"-{rule}"], times[f"+{rule}"] - empty, rule) for rule in shown]

    facts_modules = [m for m in modules if judges_repository(m)]
    repository = 0.0
    if facts_modules:
        facts = [backend.eval_rules_each([f"data.{m.package}.{FACTS_RULE}" for m in facts_modules],
                                         batch) for batch in batches]
        values = [v for batch_values in facts for v in batch_values]

        def judge() -> None:
            for index, module in enumerate(facts_modules):
                items = [{"path": f"doc{n}", "facts": v[index]}
                         for n, v in enumerate(values) if v is not None]
                backend.set_input_json(json.dumps(items))
                for rule_name in module.result_rules:
                    backend.eval_rule(f"data.{module.package}.{rule_name}")
        repository = cpu_seconds({"": judge}, args.repeat)[""]

    print(f"{len(inputs)} {args.kind} documents from {args.corpus}, batches of {BATCH_DOCUMENTS}, "
          f"min of {args.repeat} runs, CPU seconds")
    print(f"{'marginal':>9} {'alone':>7}  rule")
    for marginal, alone, rule in sorted(rows, reverse=True):
        print(f"{marginal:9.3f} {alone:7.3f}  {rule}")
    print(f"{total:9.3f} {'':7}  total (all rules, one batch query; empty query {empty:.3f})")
    print(f"{repository:9.3f} {'':7}  repository rules, once over the corpus")
    if args.opa:
        opa_total, opa_empty = opa_seconds(args.opa, inputs, rules, args.repeat)
        print(f"{opa_total - opa_empty:9.3f} {'':7}  total in OPA (`opa eval`: {opa_total:.3f}, "
              f"of which reading the bundle and the documents {opa_empty:.3f})")


if __name__ == "__main__":
    main()
