"""CPU time of loading GitHub workflows in-process: file text to the JSON text Rego receives.

What `pe-policy check` spends per workflow before any rule runs, without process start-up,
rules or reporting, so a loader change can be measured on its own:

    python benchmarks/load_workflows.py benchmarks/corpus/workflows-500/.github/workflows

Prints the minimum CPU seconds of `--repeat` passes over every `*.yml` in the directory
(the first pass, which builds the bash parser and imports, is not counted; the
per-process parse memos are emptied before each pass, as a run starts without them):
from the file's text (`loaders.load_text`: YAML, expressions, scripts, the typed model)
to the JSON text regorus receives (`json.dumps(doc.input)`, as `engine.evaluate` makes
it), and, separately, with reading the file too (`loaders.load_file`).  The built-in policy pack
is read first, as `check` reads it, so the heap (what every garbage collection walks)
is the size it is in a real run; `--bare` leaves it out.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--kind", default="workflow")
    parser.add_argument("--bare", action="store_true", help="do not read the policy pack first")
    args = parser.parse_args()

    from pe_policy.document import Document
    from pe_policy.loaders import load_file, load_text, prepare_loader, read_text
    from pe_policy.pipeline import default_ruleset

    ruleset = None if args.bare else default_ruleset()
    files = sorted(args.directory.glob("*.y*ml"))
    if not files:
        parser.error(f"{args.directory}: no *.yml files")
    prepare_loader(args.kind)
    texts = [(path.name, read_text(path, path.name)) for path in files]

    def forget_parses() -> None:
        """Empty the per-process parse memos, which the previous pass filled."""
        from pe_policy.loaders import expressions, shell

        expressions._parse_shared.cache_clear()
        shell._parse_bash_shared.cache_clear()

    def best(load: Callable[[int], Document]) -> float:
        def one_pass() -> float:
            forget_parses()  # a run parses each distinct expression and script once: so do we
            start = time.process_time()
            for index in range(len(files)):
                doc = load(index)
                if doc.input_json is None:
                    json.dumps(doc.input)
            return time.process_time() - start

        one_pass()  # warm: imports, parser, lazily built tables
        return min(one_pass() for _ in range(args.repeat))

    from_text = best(lambda i: load_text(texts[i][1], texts[i][0], args.kind))
    from_file = best(lambda i: load_file(files[i], files[i].name, args.kind))
    print(f"{len(files)} files, min of {args.repeat} passes"
          f"{'' if ruleset is None else f', {len(ruleset.catalog)} rules read first'}: "
          f"text to JSON {from_text:.3f} s CPU ({from_text / len(files) * 1000:.2f} ms a file), "
          f"file to JSON {from_file:.3f} s")


if __name__ == "__main__":
    main()
