"""The floor: the least any checker built as pe-policy's issues require it to be pays.

    python benchmarks/floor.py plan tfplan.json     # one process
    python benchmarks/floor.py workflows DIR        # DIR/.github/workflows/*.yml, all cores

Each prints one JSON line, `{"findings": N, ...}`: N counts the members of the rules' sets,
so it can be checked against the tool's own count.

- `plan`: `json.load` of the plan (what any checker that also runs Python rules holds) and
  the built-in Rego modules for `terraform_plan` evaluated on its text directly with
  regorus, in one process: a minimal single-process Rego checker.
- `workflows`: the workflow pack as the issue that set the 500-workflow target also asks
  for it (#16: every workflow rule in Rego, over the typed model with parsed expressions
  and scripts). After the set-up every checker needs (interpreter, imports with
  pe-policy's start-up cache, the pack compiled once), one forked process per core loads
  its share of the files with pe-policy's loader and evaluates every rule of the pack on
  them with regorus, batched as `check` does (`with input as`, 16 documents a query), with
  the garbage collector off. Nothing else: no finding objects, no messages between
  processes beyond a count, no report, no repository-level judgment, no limits. Whatever
  pe-policy does with the values is on top of this, so a target below this floor cannot
  be met by any change outside the loader, the pack and the engine.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path
from typing import Any

BATCH = 16  # documents a query, as engine.evaluate.BATCH_DOCUMENTS


def pack_backend(kind: str) -> tuple[Any, list[str]]:
    """regorus with the built-in modules for `kind` (and the libraries) and the default
    parameters, compiled; and the rules `check` evaluates on a document of that kind."""
    from pe_policy.config import DEFAULT_PARAMS
    from pe_policy.engine.backends import RegorusBackend
    from pe_policy.engine.evaluate import FACTS_RULE, judges_repository
    from pe_policy.engine.pack import builtin_policy_dir, policy_files
    from pe_policy.engine.rego import parse_module

    modules = [parse_module(f.name, f.read_text(encoding="utf-8"))
               for f in policy_files(builtin_policy_dir(), ".rego")
               if not f.name.endswith("_test.rego")]
    modules = [m for m in modules if not m.kinds or kind in m.kinds]
    backend = RegorusBackend()  # regorus, plus the rego.metadata polyfill every module needs
    for module in modules:
        backend.add_module(module)
    backend.set_data({"pe": {"params": DEFAULT_PARAMS}})
    backend.refused_modules()  # compiles the pack, once
    rules = [f"data.{m.package}.{rule}" for m in modules if kind in m.kinds
             for rule in ((FACTS_RULE,) if judges_repository(m) else m.result_rules)]
    return backend, rules


def count_values(values: Any) -> int:
    """Findings among the values of the rules on one document: the members of each rule's
    set (a repository rule's `document_facts` is an object, facts rather than findings)."""
    return sum(len(v) for v in values or () if isinstance(v, list))


def plan_floor(plan: Path) -> dict[str, int]:
    text = plan.read_text(encoding="utf-8")
    data = json.loads(text)
    backend, rules = pack_backend("terraform_plan")
    backend.set_input_json(text)
    result = json.loads(backend.engine.eval_query_as_json("[" + ", ".join(rules) + "]"))["result"]
    values = result[0]["expressions"][0]["value"] if result else []
    return {"findings": count_values(values), "rules": len(rules),
            "resources": len(data.get("resource_changes", []))}


def workflows_floor(root: Path) -> dict[str, int]:
    from pe_policy.loaders import load_file

    root = root.resolve()
    files = sorted((root / ".github" / "workflows").glob("*.y*ml"))
    backend, rules = pack_backend("workflow")
    lanes = min(os.cpu_count() or 1, max(1, len(files)))
    batches = [files[i:i + BATCH] for i in range(0, len(files), BATCH)]
    pipes: list[int] = []
    for lane in range(lanes):
        read, write = os.pipe()
        if os.fork() == 0:  # pragma: no cover - the child
            os.close(read)
            found = 0
            for batch in batches[lane::lanes]:
                texts = [json.dumps(load_file(path, str(path.relative_to(root)), "workflow",
                                              root).input) for path in batch]
                found += sum(count_values(values)
                             for values in backend.eval_rules_each(rules, texts))
            os.write(write, str(found).encode())
            os._exit(0)
        os.close(write)
        pipes.append(read)
    found = 0
    for read in pipes:
        found += int(os.read(read, 64) or b"0")
        os.close(read)
        os.wait()
    return {"findings": found, "files": len(files), "rules": len(rules), "processes": lanes}


def main() -> None:
    gc.disable()  # a floor: no collection at all
    from pe_policy import without_pydantic_plugins
    from pe_policy.compile_cache import use_compile_cache

    without_pydantic_plugins()  # as `pe-policy` starts
    use_compile_cache()
    floors = {"plan": plan_floor, "workflows": workflows_floor}
    if len(sys.argv) != 3 or sys.argv[1] not in floors:
        sys.exit(f"usage: floor.py {{{','.join(floors)}}} PATH")
    print(json.dumps(floors[sys.argv[1]](Path(sys.argv[2]))))


if __name__ == "__main__":
    main()
