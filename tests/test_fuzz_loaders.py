"""Every loader, fuzzed: any text either loads into a usable Document or raises ParseError.

Generic over `LOADER_MODULES`: a kind added later is fuzzed without touching this file.
Inputs are the repository's own fixtures of that kind, mutated (bytes cut, duplicated,
swapped, truncated, structural characters inserted), plus arbitrary text.  The loader is
called directly, not through `load_text`, whose catch-all would hide a loader bug as a
PE-PARSE.  Examples per loader: the hypothesis profile's `max_examples` (tests/conftest.py:
1,000 under CI, 10,000 with `make fuzz`), at least 200.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pe_policy.discover import discover
from pe_policy.findings import ParseError
from pe_policy.loaders import LOADER_MODULES, Source, loader_for
from tests.conftest import FIXTURES

MAX_SEED_BYTES = 6_000  # bigger fixtures make slower examples without new shapes
SEEDS_PER_KIND = 4

FUZZ = settings(max_examples=max(200, settings.default.max_examples), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

# kinds no fixture is detected as: a seed written here, with the path its loader expects
EXTRA_SEEDS: dict[str, list[tuple[str, str]]] = {
    "generic": [("config/app.yaml", "service: gateway\nreplicas: 3\nports: [80, 443]\n"),
                ("config/app.json", '{"service": "gateway", "replicas": 3, "tags": ["a"]}\n')],
}


def _seeds() -> dict[str, list[tuple[str, str]]]:
    candidates, _ = discover([FIXTURES], FIXTURES)
    seeds: dict[str, list[tuple[str, str]]] = {k: list(v) for k, v in EXTRA_SEEDS.items()}
    for candidate in sorted(candidates, key=lambda c: (c.abs_path.stat().st_size, c.path)):
        if candidate.kind is None:
            continue
        bucket = seeds.setdefault(candidate.kind, [])
        # small seeds first; a kind whose fixtures are all large still gets its smallest one
        if not bucket or (len(bucket) < SEEDS_PER_KIND
                          and candidate.abs_path.stat().st_size <= MAX_SEED_BYTES):
            try:
                bucket.append((candidate.path, candidate.abs_path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError):
                continue
    return seeds


SEEDS = _seeds()
STRUCTURE = "{}[]<>:;,=\"'`#|&*!-?%@/\\\n\t  ~"
CHARS = st.one_of(st.sampled_from(STRUCTURE), st.characters(codec="utf-8"),
                  st.sampled_from("abcxyz0129_.${}"))


@st.composite
def mutated(draw: st.DrawFn, seed: str) -> str:
    text = seed
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 80)))
        operation = draw(st.sampled_from(["delete", "insert", "duplicate", "swap", "truncate",
                                          "replace"]))
        if operation == "delete":
            text = text[:i] + text[j:]
        elif operation == "insert":
            text = text[:i] + draw(st.text(CHARS, min_size=1, max_size=12)) + text[i:]
        elif operation == "duplicate":
            text = text[:j] + text[i:j] * draw(st.integers(1, 3)) + text[j:]
        elif operation == "swap" and j < len(text):
            k = draw(st.integers(j, min(len(text), j + 80)))
            text = text[:i] + text[j:k] + text[i:j] + text[k:]
        elif operation == "truncate":
            text = text[:i]
        else:
            text = text[:i] + draw(st.text(CHARS, min_size=1, max_size=4)) + text[j:]
    return text


def assert_usable(doc: object, kind: str, path: str) -> None:
    from pe_policy.document import Document

    assert isinstance(doc, Document)
    assert doc.kind == kind and doc.path == path
    json.dumps(doc.input, default=str)  # what Rego gets must serialise
    location = doc.location(())
    assert location.line >= 1
    for json_path in list(doc.source_map.spans)[:40]:
        assert doc.location(json_path).line >= 1


@pytest.mark.parametrize("kind", sorted(LOADER_MODULES))
def test_every_kind_has_seeds(kind: str) -> None:
    assert SEEDS.get(kind), f"no fixture of kind {kind} under fixtures/ to fuzz from"


@pytest.mark.parametrize("kind", sorted(LOADER_MODULES))
@FUZZ
@given(data=st.data())
def test_loader_loads_or_raises_parse_error(kind: str, data: st.DataObject) -> None:
    seeds = SEEDS.get(kind)
    if not seeds:
        pytest.skip(f"no seed for {kind}")
    path, seed = data.draw(st.sampled_from(seeds), label="seed")
    text = data.draw(st.one_of(mutated(seed), st.text(CHARS, max_size=400)), label="text")
    load = loader_for(kind)
    try:
        doc = load(Source(path=path, text=text, kind=kind, abs_path=None, root=None))
    except ParseError as exc:
        assert exc.path == path and exc.line >= 1 and exc.message.strip()
        return
    assert_usable(doc, kind, path)


@pytest.mark.parametrize("kind", sorted(LOADER_MODULES))
def test_seeds_themselves_load(kind: str) -> None:
    """The unmutated fixtures load (or fail only as the bad fixtures mean to): the fuzzing
    starts from inputs the loader understands, not from noise."""
    loaded = 0
    for path, seed in SEEDS.get(kind, []):
        try:
            assert_usable(loader_for(kind)(Source(path=path, text=seed, kind=kind)), kind, path)
            loaded += 1
        except ParseError:
            continue
    assert loaded >= 1
