"""The workflow loader's output, byte for byte, on every workflow the project has.

A faster loader must read each file into exactly the same input, source map and typed
model: this test loads the benchmark corpus (`benchmarks/corpus.py`, 500 workflows), the
zizmor differential corpus (tests/zizmor_corpus.py) and every workflow and action.yml of
fixtures/, renders what `pe-policy parse --positions` prints (the input and every span, here
with its end too) plus the model, and compares a digest of each with the one recorded in
tests/golden/workflow_loader.json.  A file the loader refuses is recorded by its error
(message, line, column), so refusals must stay where they were too.

Regenerate (only for a deliberate change of the model, after reading what changed):
    PE_POLICY_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_workflow_loader_unchanged.py
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import pytest

from pe_policy.findings import ParseError
from pe_policy.loaders import load_text
from tests.zizmor_corpus import write_corpus

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden" / "workflow_loader.json"


def _benchmark_workflows() -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("corpus", REPO / "benchmarks" / "corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {f"benchmark/.github/workflows/{name}": text
            for name, text in module.workflows(500).items()}


def _inputs(tmp: Path) -> dict[str, tuple[str, str]]:
    """name -> (kind, text) of every workflow and action.yml compared."""
    files: dict[str, tuple[str, str]] = {}
    for name, text in _benchmark_workflows().items():
        files[name] = ("workflow", text)
    for path in write_corpus(tmp):
        kind = "action" if path.name == "action.yml" else "workflow"
        files[f"zizmor/{path.relative_to(tmp).as_posix()}"] = (kind, path.read_text("utf-8"))
    for path in sorted((REPO / "fixtures").rglob("*.y*ml")):
        relative = path.relative_to(REPO).as_posix()
        if "/.github/workflows/" in f"/{relative}":
            files[relative] = ("workflow", path.read_text("utf-8"))
        elif path.name in ("action.yml", "action.yaml"):
            files[relative] = ("action", path.read_text("utf-8"))
    return files


def rendered(kind: str, text: str, path: str) -> str:
    """What the loader made of `text`: the input and every span, in order, and the model;
    or the refusal."""
    try:
        doc = load_text(text, path, kind)
    except ParseError as exc:
        return json.dumps({"error": exc.message, "line": exc.line, "column": exc.column})
    positions = [[list(p), s.line, s.column, s.end_line, s.end_column, s.path]
                 for p, s in doc.source_map.spans.items()]
    return json.dumps({"kind": doc.kind, "path": doc.path, "input": doc.input,
                       "positions": positions,
                       "model": doc.model.model_dump(mode="json", by_alias=True)},
                      indent=2, default=str)


def test_every_workflow_loads_exactly_as_recorded(tmp_path: Path) -> None:
    digests = {name: hashlib.sha256(rendered(kind, text, name).encode()).hexdigest()
               for name, (kind, text) in _inputs(tmp_path).items()}
    assert len(digests) > 600  # the corpora are all there
    if os.environ.get("PE_POLICY_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n", "utf-8")
        pytest.skip("golden updated")
    expected = json.loads(GOLDEN.read_text("utf-8"))
    changed = sorted(name for name in expected.keys() | digests.keys()
                     if expected.get(name) != digests.get(name))
    assert not changed, f"{len(changed)} files load differently, e.g. {changed[:5]}"
