"""Loading many files on every core, with results in exactly the serial order.

Parsing (YAML events, pydantic validation, HCL) is CPU-bound Python, so threads
do not help; worker processes forked from this one do (they inherit every
imported module, so nothing is imported twice).  A document crosses back by
pickle, and the parent unpickles every one of them alone: for cheap formats
(YAML, JSON) that costs about half of what parsing did, so the pool pays only
for costly parsers (markdown, HCL) or very large runs; `worker_count` estimates
the serial cost from sizes and kinds and keeps everything else serial (a
pre-commit hook on one file never starts a pool).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path

from pe_policy.discover import Candidate
from pe_policy.document import Document, SourceMap
from pe_policy.findings import Finding, ParseError
from pe_policy.loaders import load_file

# Rough parse cost, milliseconds per kilobyte, measured on the fixtures (2.1 GHz Xeon): markdown
# is costly per byte, YAML and JSON are cheap.  The pool starts (fork, pickling each document
# back) for about 0.1-0.2 s and its gain on two cores is at most half the serial time, so it
# runs only when the serial load would take well over a second.
PARSE_MS_PER_KB: dict[str, float] = {
    "deployment_report": 3.0, "qa_report": 2.0, "runbook": 1.3, "migration": 1.1,
    "terraform": 0.5, "workflow": 0.15, "action": 0.15, "generic": 0.15, "coverage": 0.1,
    "scan_report": 0.08, "terraform_plan": 0.05, "pull_request": 0.03,
}
DEFAULT_MS_PER_KB = 0.5
PARALLEL_MIN_MS = 1000.0  # estimated serial load time below which the pool is not worth it
MAX_WORKERS = 8

Loaded = Document | Finding  # a Finding: the PE-PARSE error for that file
ProgressFn = Callable[[str, int, int], None]


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def estimated_ms(candidates: Sequence[Candidate]) -> float:
    """How long loading these in this process would take, from their sizes and kinds."""
    return sum(_size(c.abs_path) / 1024 * PARSE_MS_PER_KB.get(c.kind or "", DEFAULT_MS_PER_KB)
               for c in candidates)


def idle_cpus(cpus: int | None = None, load: float | None = None) -> int:
    """Cores this process may use and that other processes leave idle (a shared CI runner)."""
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    if load is None:
        try:
            load = os.getloadavg()[0]
        except OSError:
            load = 0.0
    return max(1, min(cpus, int(cpus - load + 0.5)))


def worker_count(candidates: Sequence[Candidate], cpus: int | None = None,
                 load: float | None = None) -> int:
    """How many processes to load with; 0 means in this process.

    `cpus` and `load` (the 1-minute load average) default to this machine's.
    """
    if len(candidates) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    if estimated_ms(candidates) < PARALLEL_MIN_MS:
        return 0
    count = min(idle_cpus(cpus, load), MAX_WORKERS, len(candidates))
    return count if count >= 2 else 0


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
    from concurrent.futures import ProcessPoolExecutor  # only when a pool is worth starting
    from concurrent.futures.process import BrokenProcessPool

    chunk = max(1, min(64, total // (count * 4)))
    # Collect garbage here, in this thread: the pool unpickles results on a thread of its own,
    # and a collection there would drop objects (a regorus engine) that must die where born.
    gc.collect()
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


__all__ = ["PARALLEL_MIN_MS", "PARSE_MS_PER_KB", "estimated_ms", "idle_cpus", "load_all",
           "worker_count"]
