"""CPU time of loading GitHub workflows in-process: file text to the JSON text Rego receives.

What `pe-policy check` spends per workflow before any rule runs (`loaders.load_file`, then
`json.dumps(doc.input)` as `engine.evaluate` does), without process start-up, rules or
reporting, so a loader change can be measured on its own:

    python benchmarks/load_workflows.py benchmarks/corpus/workflows-500/.github/workflows

Prints the minimum CPU seconds of `--repeat` passes over every `*.yml` in the directory
(the first pass, which builds the bash parser and imports, is not counted).  The built-in
policy pack is read first, as `check` reads it, so the heap (what every garbage collection
walks) is the size it is in a real run; `--bare` leaves it out.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--kind", default="workflow")
    parser.add_argument("--bare", action="store_true", help="do not read the policy pack first")
    args = parser.parse_args()

    from pe_policy.loaders import load_file, prepare_loader
    from pe_policy.pipeline import default_ruleset

    ruleset = None if args.bare else default_ruleset()

    files = sorted(args.directory.glob("*.y*ml"))
    if not files:
        parser.error(f"{args.directory}: no *.yml files")
    prepare_loader(args.kind)

    def one_pass() -> float:
        start = time.process_time()
        for path in files:
            doc = load_file(path, path.name, args.kind)
            if doc.input_json is None:
                json.dumps(doc.input)
        return time.process_time() - start

    one_pass()  # warm: imports, parser, lazily built tables
    best = min(one_pass() for _ in range(args.repeat))
    print(f"{len(files)} files: {best:.3f} s CPU (min of {args.repeat}), "
          f"{best / len(files) * 1000:.2f} ms per file"
          f"{'' if ruleset is None else f' ({len(ruleset.catalog)} rules read first)'}")


if __name__ == "__main__":
    main()
