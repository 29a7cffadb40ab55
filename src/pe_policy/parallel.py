"""Loading many files on every core, with results in exactly the serial order.

Parsing (YAML events, pydantic validation, HCL) is CPU-bound Python, so threads
do not help; worker processes forked from this one do (they inherit every
imported module, so nothing is imported twice).  A document crosses back by
pickle, which costs roughly a tenth of what parsing it did; below a few dozen
files or a few megabytes the pool's start-up costs more than it saves, so
small runs (a pre-commit hook on one file) stay serial.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from pe_policy.discover import Candidate
from pe_policy.document import Document, SourceMap
from pe_policy.findings import Finding, ParseError
from pe_policy.loaders import load_file

PARALLEL_MIN_FILES = 48  # fewer files: serial (the pool's start-up would dominate)
PARALLEL_MIN_BYTES = 4 * 1024 * 1024  # ... unless they add up to this much text
MAX_WORKERS = 8

Loaded = Document | Finding  # a Finding: the PE-PARSE error for that file
ProgressFn = Callable[[str, int, int], None]


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def worker_count(candidates: Sequence[Candidate], cpus: int | None = None) -> int:
    """How many processes to load with; 0 means in this process."""
    cpus = cpus if cpus is not None else len(os.sched_getaffinity(0)) if hasattr(
        os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cpus < 2 or len(candidates) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    if len(candidates) < PARALLEL_MIN_FILES and sum(
            _size(c.abs_path) for c in candidates) < PARALLEL_MIN_BYTES:
        return 0
    return min(cpus, MAX_WORKERS, len(candidates))


def load_one(candidate: Candidate, root: Path, max_bytes: int) -> Loaded:
    assert candidate.kind is not None
    try:
        return load_file(candidate.abs_path, candidate.path, candidate.kind, root, max_bytes)
    except ParseError as exc:
        return exc.to_finding(candidate.kind)


def _portable(source_map: SourceMap) -> None:
    """A lazily computed source map crosses processes only if its resolver pickles; else resolve now."""
    resolver = getattr(source_map, "_resolver", None)
    if resolver is None:
        return
    try:
        pickle.dumps(resolver)
    except Exception:
        _ = source_map.spans


def _load_in_worker(args: tuple[Candidate, Path, int]) -> Loaded:
    loaded = load_one(*args)
    if isinstance(loaded, Document):
        _portable(loaded.source_map)
    return loaded


def load_all(candidates: Sequence[Candidate], root: Path, max_bytes: int,
             progress: ProgressFn | None = None, workers: int | None = None) -> list[Loaded]:
    """Load every candidate of a known kind, in candidate order, in parallel when it pays."""
    todo = [c for c in candidates if c.kind is not None]
    count = worker_count(todo) if workers is None else workers
    total = len(todo)
    results: list[Loaded] = []
    if count < 2:
        for number, candidate in enumerate(todo, start=1):
            if progress is not None:
                progress("reading", number, total)
            results.append(load_one(candidate, root, max_bytes))
        return results
    chunk = max(1, min(64, total // (count * 4)))
    with ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("fork")) as pool:
        try:
            for number, loaded in enumerate(
                    pool.map(_load_in_worker, [(c, root, max_bytes) for c in todo],
                             chunksize=chunk), start=1):
                results.append(loaded)
                if progress is not None:
                    progress("reading", number, total)
        except BrokenProcessPool:
            pass  # a worker died (killed, or a parser crashed): finish here, in order
        except BaseException:
            with contextlib.suppress(Exception):
                pool.shutdown(wait=False, cancel_futures=True)
            raise
    for number, candidate in enumerate(todo[len(results):], start=len(results) + 1):
        if progress is not None:
            progress("reading", number, total)
        results.append(load_one(candidate, root, max_bytes))
    return results


__all__ = ["PARALLEL_MIN_BYTES", "PARALLEL_MIN_FILES", "load_all", "worker_count"]
