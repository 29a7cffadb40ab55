"""Evaluation that a runaway rule cannot hang or exhaust: a forked worker with a deadline.

Rego is not Turing-complete, but `numbers.range(1, 1e9)` or a comprehension
over two 100,000-element ranges runs for hours or eats every byte of memory,
and the engines give no way to stop an evaluation from Python (regorus offers
only policy-length limits).  So the documents are evaluated in a worker forked
from this process after loading (it inherits the compiled engine and the
documents, nothing is re-parsed or sent), with an address-space limit, while
this process waits on a pipe with a per-document deadline.  The worker writes
which document and which rule it is in to shared memory before each rule;
when the deadline passes (or the worker dies), this process reads it, kills the
worker, reports a `PE-RULE-ERROR` naming the rule, and starts a fresh worker
on the same document without that rule.  The findings are exactly those of an
in-process run, in the same order.

Cost on the common path: one `fork` per run and one pipe message per
document (a few milliseconds).  Where `fork` does not exist, or for the OPA
server backend (a remote process with its own limits), evaluation stays in
process and has no deadline.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pe_policy.document import Document
from pe_policy.engine.evaluate import (
    BATCH_KEY,
    COMBINED_KEY,
    Evaluator,
    evaluate_all,
    evaluate_each,
    python_rule_key,
    rego_rule_key,
    rule_error,
)
from pe_policy.findings import Finding

DEFAULT_EVAL_TIMEOUT = 60.0  # seconds for one document's rules: 100x what a 10,000-resource plan needs
DEFAULT_EVAL_MEMORY_MB = 4096  # address space a worker may add to what this process already maps

ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Limits:
    """`timeout`: seconds per document (None or 0: none); `memory_mb`: worker memory (None: none)."""

    timeout: float | None = DEFAULT_EVAL_TIMEOUT
    memory_mb: int | None = DEFAULT_EVAL_MEMORY_MB

    @property
    def active(self) -> bool:
        return bool(self.timeout) or bool(self.memory_mb)


def limits_from(timeout: float | None, memory_mb: int | None) -> Limits:
    """Command-line values (None: the default, 0: no limit) as Limits."""
    return Limits(
        timeout=DEFAULT_EVAL_TIMEOUT if timeout is None else (timeout or None),
        memory_mb=DEFAULT_EVAL_MEMORY_MB if memory_mb is None else (memory_mb or None),
    )


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class RuleWatch:
    """Shared between this process and the worker: where the worker is, and what to skip."""

    NOT_IN_RULE = -1
    COMBINED = -2  # the one-call evaluation of every Rego rule (evaluate.COMBINED_KEY)
    BATCH = -3  # ... over several documents (evaluate.BATCH_KEY)
    _SPECIAL = {COMBINED_KEY: COMBINED, BATCH_KEY: BATCH}

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = list(keys)
        self._index = {key: i for i, key in enumerate(self.keys)}
        ctx = multiprocessing.get_context("fork")
        self.state = ctx.RawArray("q", 2)  # [document number, rule index]
        self.skip: set[tuple[int, int]] = set()

    def begin(self, doc_number: int) -> None:
        self.state[0] = doc_number
        self.state[1] = self.NOT_IN_RULE

    def enter(self, key: str) -> bool:
        """Called by the evaluator before each rule; False: skip this rule on this document."""
        index = self._SPECIAL.get(key)
        if index is None:
            index = self._index.get(key, self.NOT_IN_RULE)
        self.state[1] = index
        return index == self.NOT_IN_RULE or (self.state[0], index) not in self.skip

    @property
    def position(self) -> tuple[int, int]:
        return int(self.state[0]), int(self.state[1])


@dataclass(frozen=True)
class _Rule:
    key: str  # what the evaluator passes to `watch`
    rule_id: str
    origin: str  # the defining file, as the error names it
    rego: tuple[str, str] | None = None  # (module path, rule name) for Rego rules


def rule_keys(evaluator: Evaluator) -> list[_Rule]:
    """Every rule the evaluator may run, in a fixed order (its index is what the worker shares)."""
    out = [_Rule(python_rule_key(r), r.meta.id, r.meta.origin)
           for r in evaluator.ruleset.python_rules]
    for module in evaluator.ruleset.policy_modules:
        for rule_name in module.result_rules:
            meta = evaluator.rule_meta(module, rule_name)
            out.append(_Rule(rego_rule_key(module, rule_name), meta.id,
                             f"{module.path} rule {rule_name}", (module.path, rule_name)))
    return out


def _address_space() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _worker(conn: Any, evaluator: Evaluator, documents: Sequence[Document], start: int,
            end: int, watch: RuleWatch, stderr_fd: int, memory_mb: int | None) -> None:
    """The forked worker: evaluate documents[start:end], one message per document."""
    os.dup2(2, 1)  # a rule's print() must never end up inside a JSON or SARIF report on stdout
    os.dup2(stderr_fd, 2)  # the engine's abort messages are read back by the parent
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent stops us
    if memory_mb:
        import resource

        limit = _address_space() + memory_mb * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    evaluator.watch = watch.enter
    code = 0
    try:
        for number, found in evaluate_each(evaluator, documents, start, end, watch.begin):
            conn.send((number, found))
        conn.send(None)
    except MemoryError:
        code = 3
    except BaseException as exc:  # reported by the parent as this rule's error
        with contextlib.suppress(Exception):
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        code = 4
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
    os._exit(code)


def _death_reason(exitcode: int | None, stderr_text: str, memory_mb: int | None) -> str:
    tail = next((ln.strip() for ln in stderr_text.splitlines()
                 if "memory allocation" in ln or "MemoryError" in ln), "")
    if exitcode == 3 or tail or exitcode == -signal.SIGABRT:
        limit = f" of {memory_mb:,} MB" if memory_mb else ""
        detail = f" ({tail})" if tail else ""
        return (f"ran out of memory: exceeded the evaluation memory limit{limit}{detail}; "
                "raise it with --eval-memory if the input really needs it")
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"crashed the evaluation worker ({name})"
    return f"stopped the evaluation worker (exit status {exitcode})"


MIN_DOCUMENTS_PER_LANE = 40  # fewer: one worker (another fork costs more than it saves)
MAX_LANES = 8


class _Lane:
    """A slice of the documents evaluated by one worker at a time (restarted after a stop)."""

    def __init__(self, run: _Run, start: int, end: int) -> None:
        self.run = run
        self.next = start  # the next document without a result
        self.end = end
        self.watch = RuleWatch([rule.key for rule in run.keys])
        self.watch.skip = run.skip  # shared: the parent adds to it, each fork takes a snapshot
        self.process: Any = None
        self.receiver: Any = None
        self.stderr_file: Any = None
        self.deadline: float | None = None

    @property
    def done(self) -> bool:
        return self.next >= self.end

    def spawn(self) -> None:
        run = self.run
        receiver, sender = run.ctx.Pipe(duplex=False)
        self.stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        gc.freeze()  # the worker must not touch (and so copy) every object to collect it
        try:
            self.process = run.ctx.Process(
                target=_worker, daemon=True,
                args=(sender, run.evaluator, run.documents, self.next, self.end, self.watch,
                      self.stderr_file.fileno(), run.limits.memory_mb))
            self.process.start()
        finally:
            gc.unfreeze()
        sender.close()
        self.receiver = receiver
        self.restart_clock()

    def restart_clock(self) -> None:
        timeout = self.run.limits.timeout
        self.deadline = time.monotonic() + timeout if timeout else None

    def stop(self, died: bool) -> None:
        """Reap the worker; pass on what its rules printed unless its death is the finding."""
        self.receiver.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.stderr_file.seek(0)
        leftover = self.stderr_file.read()
        self.stderr_file.close()
        if leftover.strip() and not died:
            sys.stderr.write(leftover.decode("utf-8", "replace"))
        self.process = None

    def timed_out(self) -> None:
        number, rule_index = self.watch.position
        self.process.kill()
        self.stop(died=True)
        timeout = self.run.limits.timeout or 0
        self.next = self.run.failure(number, rule_index,
                                     f"did not finish within the evaluation deadline of "
                                     f"{timeout:g} s (raise it with --eval-timeout)")

    def receive(self) -> None:
        """Handle one message (or the worker's death)."""
        run = self.run
        try:
            message = self.receiver.recv()
        except (EOFError, OSError):
            self.process.join(5)
            number, rule_index = self.watch.position
            self.stderr_file.seek(0)
            text = self.stderr_file.read().decode("utf-8", "replace")
            exitcode = self.process.exitcode
            self.stop(died=True)
            self.next = run.failure(number, rule_index,
                                    _death_reason(exitcode, text, run.limits.memory_mb))
            return
        if message is None:
            self.stop(died=False)
            self.next = self.end
            return
        if message[0] == "error":
            number, rule_index = self.watch.position
            self.stop(died=True)
            self.next = run.failure(number, rule_index, str(message[1]))
            return
        number, found = message
        run.results[number] = found
        self.next = number + 1
        self.restart_clock()
        run.report_progress()


class _Run:
    """One isolated evaluation of a list of documents, in one or more lanes of workers."""

    def __init__(self, evaluator: Evaluator, documents: Sequence[Document], limits: Limits,
                 progress: ProgressFn | None, lanes: int = 1) -> None:
        self.evaluator = evaluator
        self.documents = documents
        self.limits = limits
        self.progress = progress
        self.keys = rule_keys(evaluator)
        self.skip: set[tuple[int, int]] = set()
        self.results: dict[int, list[Finding]] = {}
        self.errors: dict[int, list[Finding]] = {}
        self.ctx = multiprocessing.get_context("fork")
        size = -(-len(documents) // max(1, lanes))
        self.lanes = [_Lane(self, start, min(start + size, len(documents)))
                      for start in range(0, len(documents), size)]

    def report_progress(self) -> None:
        if self.progress is not None:
            self.progress("checking", len(self.results), len(self.documents))

    def failure(self, number: int, rule_index: int, reason: str) -> int:
        """Record why (document, rule) failed; return the document to resume from."""
        doc = self.documents[number]
        if rule_index == RuleWatch.BATCH:  # stopped in a batch: the next worker goes one by one
            self.evaluator.batching = False
            return number
        if rule_index == RuleWatch.COMBINED:  # some rule in the batch: run them one by one to name it
            self.skip.add((number, rule_index))
            return number
        if rule_index == RuleWatch.NOT_IN_RULE:
            self.errors.setdefault(number, []).append(rule_error(doc, "(all rules)", "pe-policy", reason))
            self.results[number] = []
            self.report_progress()
            return number + 1
        rule = self.keys[rule_index]
        self.errors.setdefault(number, []).append(rule_error(doc, rule.rule_id, rule.origin, reason))
        self.skip.add((number, rule_index))
        if rule.rego is not None:  # later workers evaluate it alone: its next stop costs one deadline
            self.evaluator.run_alone(*rule.rego)
        return number

    def run(self) -> list[Finding]:
        # Build the engine here, once: every worker inherits it compiled.
        if self.evaluator.ruleset.policy_modules:
            _ = self.evaluator.backend
        try:
            self._drive()
        finally:
            for lane in self.lanes:
                if lane.process is not None:
                    lane.stop(died=True)
        findings: list[Finding] = []
        for number in range(len(self.documents)):
            findings.extend(self.results.get(number, ()))
            findings.extend(self.errors.get(number, ()))
        return findings

    def _drive(self) -> None:
        """Keep one worker running per unfinished lane; wait on all of them, deadlines included."""
        from multiprocessing.connection import wait

        while True:
            for lane in self.lanes:
                if lane.process is None and not lane.done:
                    lane.spawn()
            active = [lane for lane in self.lanes if lane.process is not None]
            if not active:
                return
            deadlines = [lane.deadline for lane in active if lane.deadline is not None]
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            ready = wait([lane.receiver for lane in active], timeout)
            by_receiver = {id(lane.receiver): lane for lane in active}
            for receiver in ready:
                by_receiver[id(receiver)].receive()
            now = time.monotonic()
            for lane in active:
                if (lane.process is not None and lane.deadline is not None
                        and now >= lane.deadline and lane.receiver not in ready):
                    lane.timed_out()


def lane_count(documents: Sequence[Document], cpus: int | None = None) -> int:
    """Workers to evaluate with at once: one per core, for runs big enough to share.

    Unlike loading (parallel.py), busy cores are not held against it: a lane sends back only
    small findings, so an oversubscribed lane costs little, and the load average would count
    pe-policy's own previous run against it.
    """
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    return max(1, min(MAX_LANES, cpus, len(documents) // MIN_DOCUMENTS_PER_LANE))


def evaluate_documents(evaluator: Evaluator, documents: Sequence[Document],
                       limits: Limits | None = None,
                       progress: ProgressFn | None = None, lanes: int | None = None) -> list[Finding]:
    """Every document's findings, in document order; isolated when limits are set and possible.

    Many documents are split into contiguous slices evaluated side by side (`lanes`, default:
    one per idle core); the findings are merged back in document order, so the report is
    the same as a serial run's.
    """
    limits = limits or Limits()
    backend_name = getattr(evaluator, "_backend_name", "regorus")
    if not documents or not limits.active or not fork_available() or backend_name == "opa":
        return evaluate_all(evaluator, documents, progress)
    return _Run(evaluator, documents, limits, progress, lanes or lane_count(documents)).run()


__all__ = ["DEFAULT_EVAL_MEMORY_MB", "DEFAULT_EVAL_TIMEOUT", "Limits", "RuleWatch",
           "evaluate_documents", "fork_available", "limits_from"]
