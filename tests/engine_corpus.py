"""A generated corpus of mixed kinds for the engine differential test.

Each fixture file is copied into variant folders, the structured ones (YAML, JSON,
markdown front matter, `.tf` attribute lines) with one seeded mutation each: a key
deleted, set to null, or given a value of the wrong type.  Mutations are where Rego
engines part ways: a rule that reads a missing field is undefined on one engine and
true on another, and the fixtures alone (complete, well-formed documents) never go
there.  The corpus is deterministic: the same seed gives the same files.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
SOURCES = (REPO / "fixtures", REPO / "infra" / "fixtures")
WRONG_TYPES: tuple[Any, ...] = (None, 7, "x", [], {}, True, 1.5)


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 booleans only: a workflow's `on:` stays the key `on`, not True."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", __import__("re").compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((*prefix, key))
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.append((*prefix, index))
            found.extend(_paths(value, (*prefix, index)))
    return found


def mutate_tree(tree: Any, rng: random.Random) -> Any:
    """`tree` with one node deleted or replaced by a value of another type."""
    paths = _paths(tree)
    if not paths:
        return tree
    path = rng.choice(paths)
    parent = tree
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if rng.random() < 0.4:
        del parent[last]
    else:
        parent[last] = rng.choice(WRONG_TYPES)
    return tree


def _mutate_yaml(text: str, rng: random.Random) -> str | None:
    try:
        tree = yaml.load(text, Loader=_Yaml12Loader)
    except yaml.YAMLError:
        return None
    if not isinstance(tree, (dict, list)):
        return None
    return yaml.safe_dump(mutate_tree(tree, rng), sort_keys=False)


def _mutate_json(text: str, rng: random.Random) -> str | None:
    try:
        tree = json.loads(text)
    except ValueError:
        return None
    return json.dumps(mutate_tree(tree, rng), indent=2)


def _mutate_markdown(text: str, rng: random.Random) -> str | None:
    if text.startswith("---\n") and "\n---\n" in text[4:]:
        front, body = text[4:].split("\n---\n", 1)
        mutated = _mutate_yaml(front, rng)
        if mutated is not None:
            return f"---\n{mutated}---\n{body}"
    lines = text.splitlines(keepends=True)
    if len(lines) < 3:
        return None
    del lines[rng.randrange(1, len(lines))]
    return "".join(lines)


def _mutate_tf(text: str, rng: random.Random) -> str | None:
    lines = text.splitlines(keepends=True)
    attributes = [i for i, line in enumerate(lines)
                  if " = " in line and not line.rstrip().endswith(("{", "[", "(", "<<EOF"))]
    if not attributes:
        return None
    index = rng.choice(attributes)
    if rng.random() < 0.5:
        del lines[index]
    else:
        name = lines[index].split(" = ", 1)[0]
        lines[index] = f"{name} = {rng.choice(['null', '7', 'true', '[]', '{}'])}\n"
    return "".join(lines)


MUTATORS = {".yml": _mutate_yaml, ".yaml": _mutate_yaml, ".json": _mutate_json,
            ".sarif": _mutate_json, ".md": _mutate_markdown, ".tf": _mutate_tf}


def source_files() -> list[tuple[Path, Path]]:
    """(file, its path relative to its source folder) for every fixture file."""
    out = []
    for source in SOURCES:
        out.extend((f, f.relative_to(source.parent)) for f in sorted(source.rglob("*"))
                   if f.is_file() and "__pycache__" not in f.parts)
    return out


def build_corpus(root: Path, variants: int = 3, seed: int = 20261204) -> int:
    """Write the corpus under `root` (a repository root); return how many files it holds."""
    rng = random.Random(seed)
    (root / ".git").mkdir(parents=True, exist_ok=True)
    count = 0
    for file, rel in source_files():
        mutate = MUTATORS.get(file.suffix)
        text = file.read_text(encoding="utf-8", errors="replace")
        for variant in range(variants):
            target = root / f"v{variant}" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            mutated = mutate(text, rng) if mutate else None
            if mutated is None:
                if variant:
                    continue  # unmutable files once, as they are
                shutil.copyfile(file, target)
            else:
                target.write_text(mutated, encoding="utf-8")
            count += 1
    return count


__all__ = ["build_corpus", "mutate_tree", "source_files"]
