"""Evaluation that a runaway rule cannot hang or exhaust: a forked worker with a deadline.

Rego is not Turing-complete, but `numbers.range(1, 1e9)` or a comprehension
over two 100,000-element ranges runs for hours or eats every byte of memory,
and the engines give no way to stop an evaluation from Python (regorus offers
only policy-length limits).  So the documents are evaluated in workers forked
from this process (they inherit the compiled engine, nothing is sent to them),
with an address-space limit, while this process waits on pipes with a
per-document deadline.  A worker writes which document and which rule it is in
to shared memory before each rule; when the deadline passes (or the worker
dies), this process reads it, kills the worker, reports a `PE-RULE-ERROR`
naming the rule, and starts a fresh worker on the same document without that
rule.  The findings are exactly those of an in-process run, in the same order.

Many documents are dealt to "lanes" a batch at a time, one worker each.
The documents are either loaded here first (`evaluate_documents`) or, for a
big run, loaded by the lane that checks them (`load_and_evaluate`), so that
loading is shared between the cores as well; a file whose loading kills a
worker is then reported as unreadable, like any file that does not parse.

Cost on the common path: one `fork` per lane and one pipe message per
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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pe_policy.discover import Candidate
from pe_policy.document import CheckedFile, Document, LazyDocuments
from pe_policy.engine.evaluate import (
    BATCH_DOCUMENTS,
    BATCH_KEY,
    COMBINED_KEY,
    Evaluator,
    evaluate_all,
    evaluate_each,
    python_rule_key,
    rego_rule_key,
    rule_error,
)
from pe_policy.findings import PARSE_RULE_ID, Finding, ParseError

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
    LOADING = -4  # reading and parsing the file, in a worker that loads its own files
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

    def loading(self, doc_number: int) -> None:
        self.state[0] = doc_number
        self.state[1] = self.LOADING

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


Message = tuple[int, list[Finding], CheckedFile | None]  # (document number, findings, file)


def _runs(numbers: Sequence[int]) -> Iterator[tuple[int, int]]:
    """[first, last) ranges of consecutive numbers in ascending `numbers`."""
    index = 0
    while index < len(numbers):
        first = last = numbers[index]
        while index < len(numbers) and numbers[index] == last:
            index += 1
            last += 1
        yield first, last


class _LoadedWork:
    """Documents this process loaded: a lane's worker inherits them and only evaluates."""

    def __init__(self, documents: Sequence[Document]) -> None:
        self.documents = documents

    def __len__(self) -> int:
        return len(self.documents)

    def target(self, number: int) -> CheckedFile:
        return self.documents[number].checked()

    def messages(self, evaluator: Evaluator, numbers: Sequence[int],
                 watch: RuleWatch) -> Iterator[Message]:
        for first, last in _runs(numbers):
            for number, found in evaluate_each(evaluator, self.documents, first, last, watch.begin):
                yield number, found, None


class _LoadingWork:
    """Files a lane's worker loads itself, so that loading is shared out like evaluation.

    It sends back each file's findings with what reporting needs of it (`CheckedFile`),
    never the model; a file that does not load sends its `PE-PARSE` finding instead.  A
    file whose loading stopped a worker is entered in `unloadable` by this process, so the
    next worker (forked from it) reports it without loading it again.
    """

    def __init__(self, candidates: Sequence[Candidate], load: Callable[[Candidate], Document | Finding]
                 ) -> None:
        self.candidates = candidates
        self.load = load
        self.unloadable: dict[int, Finding] = {}  # number -> its PE-PARSE finding

    def __len__(self) -> int:
        return len(self.candidates)

    def target(self, number: int) -> CheckedFile:
        candidate = self.candidates[number]
        return CheckedFile(candidate.path, candidate.kind or "")

    def _load(self, number: int) -> Document | None:
        if number in self.unloadable:
            return None
        loaded = self.load(self.candidates[number])
        if isinstance(loaded, Finding):
            self.unloadable[number] = loaded
            return None
        return loaded

    def messages(self, evaluator: Evaluator, numbers: Sequence[int],
                 watch: RuleWatch) -> Iterator[Message]:
        everything = LazyDocuments([c.path for c in self.candidates], self._load)
        for first, last in _runs(numbers):
            for start in range(first, last, BATCH_DOCUMENTS):  # a batch's worth, then evaluate it
                loaded: list[tuple[int, Document]] = []
                for number in range(start, min(start + BATCH_DOCUMENTS, last)):
                    watch.loading(number)
                    doc = everything.get(number)
                    if doc is None:
                        yield number, [self.unloadable[number]], None
                    else:
                        loaded.append((number, doc))
                yield from self._evaluate(evaluator, loaded, everything, watch.begin)

    def unloadable_because(self, number: int, reason: str) -> None:
        candidate = self.candidates[number]
        error = ParseError(candidate.path, f"loading it {reason}")
        self.unloadable[number] = error.to_finding(candidate.kind or "")

    @staticmethod
    def _evaluate(evaluator: Evaluator, loaded: list[tuple[int, Document]],
                  everything: LazyDocuments, begin: Callable[[int], None]) -> Iterator[Message]:
        numbers = [number for number, _ in loaded]
        documents = [doc for _, doc in loaded]

        def begin_document(index: int) -> None:
            begin(numbers[index])

        for index, found in evaluate_each(evaluator, documents, begin=begin_document,
                                          others=everything):
            yield numbers[index], found, documents[index].checked()


Work = _LoadedWork | _LoadingWork


def _worker(conn: Any, evaluator: Evaluator, work: Work, numbers: list[int],
            watch: RuleWatch, stderr_fd: int, memory_mb: int | None) -> None:
    """The forked worker: these documents of the work, in order, one message each."""
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
        for message in work.messages(evaluator, numbers, watch):
            conn.send(message)
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


def _shares(total: int, lanes: int) -> list[list[int]]:
    """Documents 0..total-1 dealt to the lanes in turn, a batch at a time.

    Interleaved rather than halves: files of one sort sit together (a repository's
    deploy workflows, then its release ones), and a lane given all the costly ones would
    finish last while the other core idles.  A batch stays together, so batching works.
    """
    lanes = max(1, min(lanes, total))
    chunk = max(1, min(BATCH_DOCUMENTS, -(-total // lanes)))
    shares: list[list[int]] = [[] for _ in range(lanes)]
    for first in range(0, total, chunk):
        shares[(first // chunk) % lanes].extend(range(first, min(first + chunk, total)))
    return [share for share in shares if share]


class _Lane:
    """A share of the documents evaluated by one worker at a time (restarted after a stop)."""

    def __init__(self, run: _Run, numbers: list[int]) -> None:
        self.run = run
        self.numbers = numbers  # ascending
        self.next = 0  # index in `numbers` of the first document without a result
        self.watch = RuleWatch([rule.key for rule in run.keys])
        self.watch.skip = run.skip  # shared: the parent adds to it, each fork takes a snapshot
        self.process: Any = None
        self.receiver: Any = None
        self.stderr_file: Any = None
        self.deadline: float | None = None

    @property
    def done(self) -> bool:
        return self.next >= len(self.numbers)

    def spawn(self) -> None:
        run = self.run
        pending = self.pending()
        self.watch.begin(pending[0])  # a worker that dies before its first document names it
        receiver, sender = run.ctx.Pipe(duplex=False)
        self.stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        gc.freeze()  # the worker must not touch (and so copy) every object to collect it
        try:
            self.process = run.ctx.Process(
                target=_worker, daemon=True,
                args=(sender, run.evaluator, run.work, pending, self.watch,
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

    def failed(self, number: int, rule_index: int, reason: str) -> None:
        self.run.failure(number, rule_index, reason)
        self.move_on()

    def move_on(self) -> None:
        """`next`: the first document without a result (a loading worker may send out of order)."""
        while self.next < len(self.numbers) and self.numbers[self.next] in self.run.results:
            self.next += 1

    def pending(self) -> list[int]:
        """What the next worker does: every document of the share still without a result."""
        results = self.run.results
        return [n for n in self.numbers[self.next:] if n not in results]

    def timed_out(self) -> None:
        number, rule_index = self.watch.position
        self.process.kill()
        self.stop(died=True)
        timeout = self.run.limits.timeout or 0
        self.failed(number, rule_index, f"did not finish within the evaluation deadline of "
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
            self.failed(number, rule_index, _death_reason(exitcode, text, run.limits.memory_mb))
            return
        if message is None:
            self.stop(died=False)
            self.next = len(self.numbers)
            return
        if message[0] == "error":
            number, rule_index = self.watch.position
            self.stop(died=True)
            self.failed(number, rule_index, str(message[1]))
            return
        number, found, checked = message
        run.results[number] = found
        if checked is not None:
            run.files[number] = checked
        self.move_on()
        self.restart_clock()
        run.report_progress()


class _Run:
    """One isolated evaluation of a list of documents, in one or more lanes of workers."""

    def __init__(self, evaluator: Evaluator, work: Work, limits: Limits,
                 progress: ProgressFn | None, lanes: int = 1) -> None:
        self.evaluator = evaluator
        self.work = work
        self.limits = limits
        self.progress = progress
        self.keys = rule_keys(evaluator)
        self.skip: set[tuple[int, int]] = set()
        self.stops: set[tuple[int, int]] = set()  # (document, rule index) where a worker stopped
        self.results: dict[int, list[Finding]] = {}
        self.errors: dict[int, list[Finding]] = {}
        self.files: dict[int, CheckedFile] = {}  # what loading workers sent of each file
        self.ctx = multiprocessing.get_context("fork")
        self.lanes = [_Lane(self, share) for share in _shares(len(work), lanes)]

    def report_progress(self) -> None:
        if self.progress is not None:
            self.progress("checking", len(self.results), len(self.work))

    def failure(self, number: int, rule_index: int, reason: str) -> None:
        """Record why (document, rule) failed, so that the next worker goes on past it.

        A worker that stops at the same place twice gives up the whole document: every
        stop then moves the run on, so it always ends.
        """
        doc = self.work.target(number)
        if (number, rule_index) in self.stops:
            rule_index = RuleWatch.NOT_IN_RULE
        self.stops.add((number, rule_index))
        if rule_index == RuleWatch.BATCH:  # stopped in a batch: the next worker goes one by one
            self.evaluator.batching = False
        elif rule_index == RuleWatch.COMBINED:  # some rule in the batch: run them one by one to name it
            self.skip.add((number, rule_index))
        elif rule_index == RuleWatch.LOADING:  # the next worker reports the file, unread
            assert isinstance(self.work, _LoadingWork)
            self.work.unloadable_because(number, reason)
        elif rule_index == RuleWatch.NOT_IN_RULE:
            self.errors.setdefault(number, []).append(rule_error(doc, "(all rules)", "pe-policy", reason))
            self.results[number] = []
            self.report_progress()
        else:
            rule = self.keys[rule_index]
            self.errors.setdefault(number, []).append(rule_error(doc, rule.rule_id, rule.origin, reason))
            self.skip.add((number, rule_index))
            if rule.rego is not None:  # later workers evaluate it alone: its next stop costs one deadline
                self.evaluator.run_alone(*rule.rego)

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
        for number in range(len(self.work)):
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


def lane_count(count: int, cpus: int | None = None) -> int:
    """Workers to evaluate `count` documents with at once: one per core, for runs big enough to share.

    Unlike loading (parallel.py), busy cores are not held against it: a lane sends back only
    small findings, so an oversubscribed lane costs little, and the load average would count
    pe-policy's own previous run against it.
    """
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    return max(1, min(MAX_LANES, cpus, count // MIN_DOCUMENTS_PER_LANE))


def isolated_lanes(evaluator: Evaluator, count: int, limits: Limits) -> int:
    """Lanes of workers for `count` documents; 0 when evaluation stays in this process."""
    backend_name = getattr(evaluator, "_backend_name", "regorus")
    if not count or not limits.active or not fork_available() or backend_name == "opa":
        return 0
    return lane_count(count)


def evaluate_documents(evaluator: Evaluator, documents: Sequence[Document],
                       limits: Limits | None = None,
                       progress: ProgressFn | None = None, lanes: int | None = None) -> list[Finding]:
    """Every document's findings, in document order; isolated when limits are set and possible.

    Many documents are dealt to workers evaluating side by side (`lanes`, default:
    one per core); the findings are merged back in document order, so the report is
    the same as a serial run's.
    """
    limits = limits or Limits()
    if not isolated_lanes(evaluator, len(documents), limits):
        return evaluate_all(evaluator, documents, progress)
    work = _LoadedWork(documents)
    return _Run(evaluator, work, limits, progress,
                lanes or isolated_lanes(evaluator, len(documents), limits)).run()


def load_and_evaluate(evaluator: Evaluator, candidates: Sequence[Candidate],
                      load: Callable[[Candidate], Document | Finding], lanes: int,
                      limits: Limits, progress: ProgressFn | None = None,
                      ) -> tuple[list[CheckedFile], list[Finding]]:
    """Load and evaluate in the same lanes: each worker loads the slice it checks.

    Loading 500 workflows takes a quarter of a run; here it is shared out like evaluation,
    where `load_candidates` then `evaluate_documents` would load them all in this process
    while the other cores wait.  Returns the files that loaded, and every finding
    (`PE-PARSE` included), both in candidate order.
    """
    run = _Run(evaluator, _LoadingWork(candidates, load), limits, progress, lanes)
    findings = run.run()
    files = [run.files.get(number) or run.work.target(number)  # a worker died on it: no text
             for number in range(len(candidates))
             if not any(f.rule_id == PARSE_RULE_ID for f in run.results.get(number, ()))]
    return files, findings


__all__ = ["DEFAULT_EVAL_MEMORY_MB", "DEFAULT_EVAL_TIMEOUT", "Limits", "RuleWatch",
           "evaluate_documents", "fork_available", "isolated_lanes", "lane_count",
           "limits_from", "load_and_evaluate"]
