"""The one execution mechanism: every run loads and evaluates its inputs here.

A run is a list of inputs (files found by discovery, pull requests named by `--pr`
or `--git-range`).  Each input is loaded and evaluated by the same worker, and a rule
that reads another file (`ctx.document_at`) asks the run's `RunDocuments`, which loads
that file on demand whether or not it was among the inputs: a pre-commit hook that
passes one deployment report gets the verdict a whole-repository run gives.

Where evaluation happens:

* in worker processes forked from this one, "lanes" of them for a big run (one per
  core, inputs dealt a batch at a time), one for a small run.  They inherit the
  compiled engine and the imported loaders; each sends back one message per input
  (its findings and what reporting needs of the file, never the model).  A worker
  writes which input and which rule it is in to shared memory before each one; when
  the per-input deadline passes, or the worker dies (the address-space limit, a
  crash), this process reads that, kills it, reports a `PE-RULE-ERROR` naming the
  rule (or a `PE-PARSE` naming the file it was loading) and starts a fresh worker
  that goes on past it.  Rego is not Turing-complete, but `numbers.range(1, 1e9)`
  runs for hours, and no engine can be stopped from Python: so this is the only
  place a runaway rule is stopped.
* in this process, when there are no limits to enforce, `fork` does not exist, or
  the engine is an OPA server (a remote process with its own limits).

A repository's own Python rules (`PythonRule.isolated`: any policy directory but the
built-in pack, run only when the configuration enables them) are code a pull request
can change.  They never run in this process, nor in the workers above: after those,
workers of their own evaluate them, each forked, loading its inputs, then locked down
for good (isolation.py: no environment, no network, no processes or threads, no
writes, reads only of the repository, the policies and Python) before it imports a
rule file.  What such a worker sends back is JSON, checked here (never pickle, whose
loading runs code): only findings of its own rules.  Its death, a deadline passed or a
malformed message is a `PE-RULE-ERROR` for the rule it was in, as for any worker.

Repository-level rules (engine/repository.py: PE-WF-003 and PE-WF-009 judge a repository's
workflows together) run last: each worker sends back, with an input's findings, the facts
such a rule needs of it, and one more worker (`run_each`, with the same deadline and memory
limit) judges each repository from them, reading the repository's files that were not
inputs on demand.  A run of one lane spares that fork: its worker, once it has answered for
every input, judges the repositories itself (with a deadline of their own, as `run_each`
gives), unless it was restarted on the way.

Either way the findings come back in input order, so the report is the same.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import mmap
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

from pe_policy import resume_collector
from pe_policy.document import CheckedFile, Document
from pe_policy.engine.evaluate import (
    ALL_RULES,
    BATCH_DOCUMENTS,
    BATCH_KEY,
    RULE_ERROR_ID,
    Evaluator,
    evaluate_each,
    python_rule_key,
    rego_rule_key,
    rule_error,
)
from pe_policy.findings import PARSE_RULE_ID, Finding, ParseError, Severity

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
    BATCH = -3  # the one engine call for the Rego rules of a batch of inputs (evaluate.BATCH_KEY)
    LOADING = -4  # reading and parsing the input
    _SPECIAL = {BATCH_KEY: BATCH}

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = list(keys)
        self._index = {key: i for i, key in enumerate(self.keys)}
        # [document number, rule index, the last rule entered on this document], in an anonymous
        # shared mapping that forked workers write to (multiprocessing's RawArray is the same,
        # but its first one imports ctypes and makes an arena file: 9 ms of a one-file run)
        self._memory = mmap.mmap(-1, 3 * 8)
        self.state = memoryview(self._memory).cast("q")
        self.skip: set[tuple[int, int]] = set()

    def begin(self, doc_number: int) -> None:
        self.state[0] = doc_number
        self.state[1] = self.state[2] = self.NOT_IN_RULE

    def loading(self, doc_number: int) -> None:
        self.state[0] = doc_number
        self.state[1] = self.LOADING

    def enter(self, key: str) -> bool:
        """Called by the evaluator before each rule; False: skip this rule on this document."""
        index = self._SPECIAL.get(key)
        if index is None:
            index = self._index.get(key, self.NOT_IN_RULE)
            if index >= 0:
                self.state[2] = index
        self.state[1] = index
        return index == self.NOT_IN_RULE or (self.state[0], index) not in self.skip

    @property
    def position(self) -> tuple[int, int]:
        return int(self.state[0]), int(self.state[1])

    @property
    def last_rule(self) -> int:
        return int(self.state[2])


@dataclass(frozen=True)
class _Rule:
    """A rule a worker may run, by its index in `rule_keys`: when a worker stops inside it
    (deadline, memory, crash), what its PE-RULE-ERROR says, and for Rego what to run alone."""

    key: str  # what the evaluator passes to `watch`
    rule_id: str
    origin: str  # the defining file, as the error names it
    rego: tuple[str, str] | None = None  # (module path, rule name) for Rego rules
    severity: Severity | None = None  # the rule's own: what its PE-RULE-ERROR counts at


def rule_keys(evaluator: Evaluator) -> list[_Rule]:
    """Every rule the evaluator may run, in a fixed order (its index is what the worker shares)."""
    out = [_Rule(python_rule_key(r), r.meta.id, r.meta.origin, severity=r.meta.severity)
           for r in evaluator.ruleset.python_rules]
    for module in evaluator.ruleset.policy_modules:
        for rule_name in module.result_rules:
            meta = evaluator.rule_meta(module, rule_name)
            out.append(_Rule(rego_rule_key(module, rule_name), meta.id,
                             f"{module.path} rule {rule_name}", (module.path, rule_name),
                             meta.severity))
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


@dataclass(frozen=True)
class RunInput:
    """One input of a run: where findings name it, its kind, and how a worker loads it."""

    path: str
    kind: str
    load: Callable[[], Document]  # raises ParseError (never anything else)


class RunDocuments:
    """The run's documents as rules see them, each loaded the first time it is needed.

    A worker loads the inputs it checks through `get`; a cross-document rule's
    `ctx.document_at(path)` reaches `at`, which is an input of the run or, if not, any
    file inside the repository root whose kind pe-policy knows, read with the same size
    limit and hardening as an input (a symlink out of the root, `..` or an absolute path
    is never read).  Such a file is only read, never reported on.
    """

    def __init__(self, inputs: Sequence[RunInput], root: Path | None, max_bytes: int) -> None:
        self.inputs = inputs
        self.root = root
        self.max_bytes = max_bytes
        self.unloadable: dict[int, Finding] = {}  # number -> its PE-PARSE finding
        self._loaded: dict[int, Document | None] = {}
        self._numbers = {item.path: number for number, item in enumerate(inputs)}
        self._others: dict[str, Document | None] = {}

    def get(self, number: int) -> Document | None:
        """Input `number`, loaded once; None when it does not load (see `unloadable`)."""
        if number not in self._loaded:
            doc: Document | None = None
            if number not in self.unloadable:
                item = self.inputs[number]
                try:
                    doc = item.load()
                except ParseError as exc:
                    self.unloadable[number] = exc.to_finding(item.kind)
            self._loaded[number] = doc
        return self._loaded[number]

    def at(self, path: str) -> Document | None:
        """The document at `path` (relative to the root), loaded on demand; None if none."""
        number = self._numbers.get(path)
        if number is not None:
            return self.get(number)
        if path not in self._others:
            self._others[path] = self._load_other(path)
        return self._others[path]

    def _load_other(self, path: str) -> Document | None:
        read = self.read_other(path)
        return None if read is None else self.load_other(path, *read)

    def read_other(self, path: str) -> tuple[Path, str, str] | None:
        """(where it is, its kind, its text) of a file of the repository that is not an input,
        read with an input's hardening and size limit; None when it cannot be (outside the
        root, not a kind pe-policy knows, unreadable).  `load_other` then parses it."""
        from pe_policy.discover import detect_kind, inside_root
        from pe_policy.loaders import read_text

        if self.root is None or path in self._numbers:
            return None
        abs_path = inside_root(self.root, path)
        if abs_path is None or not abs_path.is_file():
            return None
        kind = detect_kind(abs_path, path)
        if kind is None:
            return None
        try:
            return abs_path, kind, read_text(abs_path, path, self.max_bytes)
        except ParseError:
            return None

    def load_other(self, path: str, abs_path: Path, kind: str, text: str) -> Document | None:
        """The document `read_other` read, parsed once (None when it does not parse)."""
        from pe_policy.loaders import load_text

        if path not in self._others:
            try:
                self._others[path] = load_text(text, path, kind, abs_path=abs_path, root=self.root)
            except ParseError:
                self._others[path] = None
        return self._others[path]

    def __iter__(self) -> Iterator[Document]:
        """Every input that loads (a rule that walks them all loads them all)."""
        for number in range(len(self.inputs)):
            doc = self.get(number)
            if doc is not None:
                yield doc

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:  # without loading everything, as `len` would
        return bool(self.inputs)


Message = tuple[int, list[Any], CheckedFile | None]  # (input number, its results, its file)


def _runs(numbers: Sequence[int]) -> Iterator[tuple[int, int]]:
    """[first, last) ranges of consecutive numbers in ascending `numbers`."""
    index = 0
    while index < len(numbers):
        first = last = numbers[index]
        while index < len(numbers) and numbers[index] == last:
            index += 1
            last += 1
        yield first, last


Begin = Callable[[int], None]
# Judges a batch of loaded documents: (index in the batch, its results), in order.  `check`'s
# results are findings; `test`'s are conftest's per-namespace results.  `begin(index)` is
# called before each document (the worker records where it is).
Judge = Callable[[Evaluator, Sequence[Document], "RunDocuments", Begin], Iterator[tuple[int, list[Any]]]]


def judge_findings(evaluator: Evaluator, documents: Sequence[Document], everything: RunDocuments,
                   begin: Begin) -> Iterator[tuple[int, list[Any]]]:
    """`check`: every rule's findings on each document, batches prefetched."""
    yield from evaluate_each(evaluator, documents, begin=begin, others=everything)


class _Work:
    """The inputs of a run: what a worker (or this process) loads and judges, in order."""

    def __init__(self, documents: RunDocuments, judge: Judge = judge_findings) -> None:
        self.documents = documents
        self.judge = judge

    def __len__(self) -> int:
        return len(self.documents.inputs)

    def target(self, number: int) -> CheckedFile:
        item = self.documents.inputs[number]
        return CheckedFile(item.path, item.kind)

    def messages(self, evaluator: Evaluator, numbers: Sequence[int],
                 watch: RuleWatch | None, *, freeze_loaded: bool = False) -> Iterator[Message]:
        """Load a batch's worth of inputs, evaluate them, one message per input.

        `freeze_loaded` (a forked worker, which exits at the end): each batch's documents,
        once loaded, leave the collector's generations (`gc.freeze`).  They stay alive to
        the end of the run (cross-document rules read them), so every full collection that
        evaluating the next batches triggers would walk all of them again to find them
        alive: 0.05 s of the 1.5 s of CPU of a 500-workflow run.
        """
        everything = self.documents
        batch = BATCH_DOCUMENTS if evaluator.batching else 1
        for first, last in _runs(numbers):
            for start in range(first, last, batch):
                loaded: list[tuple[int, Document]] = []
                for number in range(start, min(start + batch, last)):
                    if watch is not None:
                        watch.loading(number)
                    doc = everything.get(number)
                    if doc is None:
                        yield number, [everything.unloadable[number]], None
                    else:
                        loaded.append((number, doc))
                numbers_in = [number for number, _ in loaded]
                if freeze_loaded:
                    gc.freeze()
                documents = [doc for _, doc in loaded]

                def begin_document(index: int, numbers_in: list[int] = numbers_in) -> None:
                    if watch is not None:
                        watch.begin(numbers_in[index])

                for index, found in self.judge(evaluator, documents, everything, begin_document):
                    yield numbers_in[index], found, documents[index].checked()

    def unloadable_because(self, number: int, reason: str) -> None:
        item = self.documents.inputs[number]
        error = ParseError(item.path, f"loading it {reason}")
        self.documents.unloadable[number] = error.to_finding(item.kind)


REPOSITORY_MESSAGE = "repository"  # a worker's findings of the repository-level rules


def _worker(conn: Any, evaluator: Evaluator, work: _Work, numbers: list[int],
            watch: RuleWatch, stderr_fd: int, memory_mb: int | None,
            isolation: _Isolation | None = None, repository: bool = False) -> None:
    """The forked worker: these documents of the work, in order, one message each; then, with
    `repository`, the findings of the repository-level rules on them (`_repository_findings`)."""
    os.dup2(2, 1)  # a rule's print() must never end up inside a JSON or SARIF report on stdout
    os.dup2(stderr_fd, 2)  # the engine's abort messages are read back by the parent
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent stops us
    if memory_mb:
        import resource

        limit = _address_space() + memory_mb * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if isolation is not None:
        _locked_down_worker(conn, evaluator, work, numbers, watch, isolation)
    evaluator.watch = watch.enter
    def send_all() -> None:
        files: dict[int, CheckedFile] = {}
        for message in work.messages(evaluator, numbers, watch, freeze_loaded=True):
            conn.send(message)
            if message[2] is not None:
                files[message[0]] = message[2]
        if repository:  # every input answered: what the parent would fork `run_each` for
            from pe_policy.engine.repository import repository_findings

            evaluator.watch = None  # no document's rule: the parent knows this phase
            conn.send((REPOSITORY_MESSAGE, repository_findings(evaluator, work.documents, files)))
        conn.send(None)

    _exit_after(send_all, lambda error: conn.send(("error", error)))


def _exit_after(work: Callable[[], None], send_error: Callable[[str], None]) -> NoReturn:
    """A worker's last act: do `work`, then exit 0; 3 out of memory; 4 on any other error,
    which is sent first (the parent reports it as the error of the rule the worker was in)."""
    code = 0
    try:
        work()
    except MemoryError:
        code = 3
    except BaseException as exc:
        with contextlib.suppress(Exception):
            send_error(f"{type(exc).__name__}: {exc}")
        code = 4
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
    os._exit(code)


@dataclass(frozen=True)
class _Isolation:
    """How the workers of repository Python rules are locked down, and what they may send."""

    readable: tuple[str, ...]  # what they may read (isolation.readable_paths)
    rule_ids: frozenset[str]  # the rules they run: no finding of any other is accepted


ISOLATED_DOCUMENTS_PER_WORKER = 64  # a worker loads its documents before it is locked down
ISOLATED_STOPS_PER_RULE = 3  # a repository rule that stops its worker this often runs no more
MAX_ISOLATED_MESSAGE_BYTES = 64 << 20


def _locked_down_worker(conn: Any, evaluator: Evaluator, work: _Work, numbers: list[int],
                        watch: RuleWatch, isolation: _Isolation) -> NoReturn:
    """A worker for repository Python rules: load, lock down, then evaluate; JSON messages.

    Its documents are loaded first (a loader may run git, or read a file given outside the
    repository); the first message says what the platform could not enforce, sent before
    any rule file is imported.
    """
    from pe_policy.isolation import encode_findings, lock_down

    # everything its rules print goes to the file the parent reads back (and quotes): the
    # standard streams, whatever this process had made of them, are descriptors 1 and 2 again
    os.dup2(2, 1)
    sys.stdout = sys.stderr = io.TextIOWrapper(io.FileIO(2, mode="w", closefd=False),
                                               encoding="utf-8", errors="replace",
                                               line_buffering=True)
    def load_lock_evaluate() -> None:
        for number in numbers:
            watch.loading(number)
            work.documents.get(number)
        watch.begin(numbers[0])
        notes = lock_down(isolation.readable, keep_fds=(conn.fileno(),))
        conn.send_bytes(json.dumps({"notes": notes}).encode())
        evaluator.watch = watch.enter
        for number, found, _checked in work.messages(evaluator, numbers, watch):
            kept = [f for f in found if isinstance(f, Finding) and f.rule_id != PARSE_RULE_ID]
            conn.send_bytes(json.dumps({"number": number, "findings": encode_findings(kept)}).encode())
        sys.stdout.flush()  # before the parent reads it back
        conn.send_bytes(json.dumps({"done": True}).encode())

    _exit_after(load_lock_evaluate,
                lambda error: conn.send_bytes(json.dumps({"error": error}).encode()))


def _past_deadline(timeout: float | None) -> str:
    return (f"did not finish within the evaluation deadline of {timeout or 0:g} s (raise it "
            "with --eval-timeout)")


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


# Fewer inputs than twice this: one worker.  A second worker costs ~20 ms (its fork, its
# first query on the inherited engine, the repository rules judged in a fork of their own)
# and saves half of what the inputs cost (~2.5 ms a workflow or deployment report), so it
# pays from about 20 inputs on (measured 2026-12-05, median of 12-14 runs in turns, 2 cores:
# 20 workflows 0.234 -> 0.221 s, 20 deployment reports 0.268 -> 0.241 s, 30 workflows
# 0.281 -> 0.255 s, 50 workflows 0.338 -> 0.283 s; 40 migrations the same either way).
MIN_DOCUMENTS_PER_LANE = 10
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
        self.given: list[int] = []  # what the running worker was given
        self.greeted = False  # a locked-down worker's first message (its notes) has come
        self.repository = False  # the running worker judges the repositories after the inputs

    @property
    def done(self) -> bool:
        return self.next >= len(self.numbers)

    @property
    def judging_repository(self) -> bool:
        """Whether the worker has answered for every input and is judging the repositories."""
        return self.repository and self.done and self.run.repository_found is None

    def spawn(self) -> None:
        run = self.run
        pending = self.pending()
        if run.isolation is not None:
            pending = pending[:ISOLATED_DOCUMENTS_PER_WORKER]
        self.given, self.greeted = pending, False
        # only a worker given every input has the facts of each (a restarted one has not)
        self.repository = run.repository_in_worker and pending == self.numbers
        self.watch.begin(pending[0])  # a worker that dies before its first document names it
        receiver, sender = run.ctx.Pipe(duplex=False)
        self.stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        gc.freeze()  # the worker must not touch (and so copy) every object to collect it
        try:
            self.process = run.ctx.Process(
                target=_worker, daemon=True,
                args=(sender, run.evaluator, run.work, pending, self.watch,
                      self.stderr_file.fileno(), run.limits.memory_mb, run.isolation,
                      self.repository))
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
            text = leftover.decode("utf-8", "replace")
            if self.run.isolation is not None:  # a repository rule's: quoted, inert
                from pe_policy.isolation import quoted_output

                text = quoted_output(text)
            sys.stderr.write(text)
        self.process = None

    def stopped(self, number: int, rule_index: int, reason: str) -> None:
        """The worker ended without its last message (deadline, death, an error): a failure
        where it was, or, once it had answered for every input, of the repositories it judged."""
        in_repository = self.judging_repository
        self.stop(died=True)
        if in_repository:
            self.run.repository_stop = reason
        else:
            self.failed(number, rule_index, reason)

    def failed(self, number: int, rule_index: int, reason: str) -> None:
        self.run.failure(number, rule_index, reason)
        if self.run.isolation is not None:
            self.run.give_up_on(rule_index, reason)
        self.move_on()

    def move_on(self) -> None:
        """`next`: the first document without a result (a loading worker may send out of order)."""
        while self.next < len(self.numbers) and self.numbers[self.next] in self.run.results:
            self.next += 1

    def pending(self) -> list[int]:
        """What the next worker does: every document of the share still without a result."""
        results = self.run.results
        return [n for n in self.numbers[self.next:] if n not in results]

    def position(self) -> tuple[int, int]:
        """Where the worker is (RuleWatch).  A locked-down worker's word is not trusted: an
        input it was not given or has answered is the first it has not, an index that names
        no rule it runs is "no rule", so every stop moves the run on.  Between two of its
        rules, it is in the last one (what it does then is the rules' doing: pe-policy's code
        in it only passes documents and results)."""
        number, rule_index = self.watch.position
        if self.run.isolation is None:
            return number, rule_index
        if rule_index == RuleWatch.NOT_IN_RULE:
            rule_index = self.watch.last_rule
        open_numbers = [n for n in self.given if n not in self.run.results]
        if number not in open_numbers:  # every input answered: the error goes with the last
            number = open_numbers[0] if open_numbers else self.given[-1]
        if not (0 <= rule_index < len(self.run.keys)) and rule_index != RuleWatch.LOADING:
            rule_index = RuleWatch.NOT_IN_RULE
        return number, rule_index

    def timed_out(self) -> None:
        self.process.kill()
        number, rule_index = self.position()
        self.stopped(number, rule_index, _past_deadline(self.run.limits.timeout))

    def died(self) -> None:
        """The worker's end without its last message: a failure where it was."""
        self.process.join(5)
        number, rule_index = self.position()
        self.stderr_file.seek(0)
        text = self.stderr_file.read().decode("utf-8", "replace")
        self.stopped(number, rule_index,
                     _death_reason(self.process.exitcode, text, self.run.limits.memory_mb))

    def receive(self) -> None:
        """Handle one message (or the worker's death)."""
        run = self.run
        if run.isolation is not None:
            self.receive_json(run.isolation)
            return
        try:
            message = self.receiver.recv()
        except (EOFError, OSError):
            self.died()
            return
        if message is None:
            self.stop(died=False)
            self.next = len(self.numbers)
            return
        if message[0] == "error":
            number, rule_index = self.watch.position
            self.stopped(number, rule_index, str(message[1]))
            return
        if message[0] == REPOSITORY_MESSAGE:
            run.repository_found = message[1]
            return
        number, found, checked = message
        run.results[number] = found
        if checked is not None:
            run.files[number] = checked
        self.move_on()
        self.restart_clock()
        run.report_progress()

    def receive_json(self, isolation: _Isolation) -> None:
        """One message of a locked-down worker, checked before anything is taken from it."""
        from pe_policy.isolation import NOTE_TEXT, MalformedMessage, decode_findings

        run = self.run
        try:
            data = self.receiver.recv_bytes(MAX_ISOLATED_MESSAGE_BYTES)
        except (EOFError, OSError):
            self.died()
            return
        try:
            message = json.loads(data)
            if not isinstance(message, dict):
                raise MalformedMessage("not an object")
            if not self.greeted:  # sent before any rule file was imported
                notes = message.get("notes")
                if not isinstance(notes, list):
                    raise MalformedMessage("no notes first")
                for note in notes:
                    if (isinstance(note, list) and len(note) == 2 and note[0] in NOTE_TEXT
                            and isinstance(note[1], str)):
                        run.notes.add((note[0], note[1][:300]))
                self.greeted = True
                return
            if message.get("done") is True:
                unanswered = [n for n in self.given if n not in run.results]
                if unanswered:
                    raise MalformedMessage("finished without an answer for every input")
                self.stop(died=False)
                self.move_on()
                return
            if "error" in message:
                self.stop(died=True)
                number, rule_index = self.position()
                self.failed(number, rule_index, str(message["error"])[:2000])
                return
            answered = message.get("number")
            if type(answered) is not int or answered not in self.given or answered in run.results:
                raise MalformedMessage(f"an answer for an input it was not given: {answered!r}")
            run.results[answered] = decode_findings(message.get("findings"), isolation.rule_ids,
                                                    RULE_ERROR_ID)
        except (ValueError, MalformedMessage) as exc:  # json's errors are ValueErrors
            self.stop(died=True)  # first: where it stopped is where it was
            number, rule_index = self.position()
            self.failed(number, rule_index,
                        f"sent pe-policy a message it does not accept ({str(exc)[:300]})")
            return
        self.move_on()
        self.restart_clock()


class _Run:
    """One isolated evaluation of a list of documents, in one or more lanes of workers."""

    def __init__(self, evaluator: Evaluator, work: _Work, limits: Limits,
                 progress: ProgressFn | None, lanes: int = 1, *,
                 numbers: Sequence[int] | None = None, isolation: _Isolation | None = None,
                 repository: bool = False) -> None:
        self.evaluator = evaluator
        self.work = work
        self.limits = limits
        self.progress = progress
        self.keys = rule_keys(evaluator)
        self.skip: set[tuple[int, int]] = set()
        self.stops: set[tuple[int, int]] = set()  # (document, rule index) where a worker stopped
        self.results: dict[int, list[Any]] = {}
        self.errors: dict[int, list[Finding]] = {}
        self.files: dict[int, CheckedFile] = {}  # what loading workers sent of each file
        self.ctx = multiprocessing.get_context("fork")
        self.isolation = isolation  # repository Python rules: locked-down workers
        self.rule_stops: dict[int, int] = {}  # rule index -> how often it stopped a worker
        self.notes: set[tuple[str, str]] = set()  # what their platform could not enforce
        # `repository`: the worker judges the repositories too, once it has answered for every
        # input (one lane); what it found, or why it stopped there
        self.repository_in_worker = repository and lanes == 1
        self.repository_found: dict[int, list[Any]] | None = None
        self.repository_stop: str | None = None
        chosen = list(range(len(work))) if numbers is None else list(numbers)
        self.lanes = [_Lane(self, [chosen[i] for i in share])
                      for share in _shares(len(chosen), lanes)]

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
        if rule_index == RuleWatch.BATCH:
            # Stopped in the one engine call of a batch: later batches hold one input each,
            # and this input's rules run one by one, so the next stop names the rule.
            self.evaluator.batching = False
            self.skip.add((number, rule_index))
        elif rule_index == RuleWatch.LOADING:  # the next worker reports the file, unread
            self.work.unloadable_because(number, reason)
        elif rule_index == RuleWatch.NOT_IN_RULE:
            self.errors.setdefault(number, []).append(rule_error(
                doc, ALL_RULES, "pe-policy", reason, self.evaluator.highest_severity(doc.kind)))
            self.results[number] = []
            self.report_progress()
        else:
            rule = self.keys[rule_index]
            self.errors.setdefault(number, []).append(rule_error(doc, rule.rule_id, rule.origin,
                                                                 reason, rule.severity))
            self.skip.add((number, rule_index))
            if rule.rego is not None:  # later workers evaluate it alone: its next stop costs one deadline
                self.evaluator.run_alone(*rule.rego)

    def run(self) -> list[Any]:
        # Build the engine here, once: every worker inherits it compiled.
        if self.evaluator.ruleset.policy_modules:
            _ = self.evaluator.backend
        if self.repository_in_worker:  # imported once, here, not in each worker
            import pe_policy.engine.repository  # noqa: F401
        try:
            self._drive()
        finally:
            for lane in self.lanes:
                if lane.process is not None:
                    lane.stop(died=True)
        findings: list[Any] = []
        for number in range(len(self.work)):
            findings.extend(self.results.get(number, ()))
            findings.extend(self.errors.get(number, ()))
        return findings

    def findings_of(self, number: int) -> list[Any]:
        return [*self.results.get(number, ()), *self.errors.get(number, ())]

    def give_up_on(self, rule_index: int, reason: str) -> None:
        """A repository rule that stopped its worker ISOLATED_STOPS_PER_RULE times (an
        `os._exit` when its file is imported, a loop past the deadline) is an error on every
        input it has not run on yet, without running: a pull request's rule cannot make a
        run cost a worker, or a deadline, per input."""
        if not 0 <= rule_index < len(self.keys):
            return
        self.rule_stops[rule_index] = self.rule_stops.get(rule_index, 0) + 1
        if self.rule_stops[rule_index] != ISOLATED_STOPS_PER_RULE:
            return
        meta = self.evaluator.ruleset.python_rules[rule_index].meta
        inputs = self.work.documents.inputs
        for lane in self.lanes:
            for number in lane.numbers:
                if (number not in self.results and (number, rule_index) not in self.skip
                        and meta.applies_to(inputs[number].kind)):
                    self.failure(number, rule_index, f"not run: it stopped its worker on "
                                 f"{ISOLATED_STOPS_PER_RULE} inputs already (the last: {reason})")

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


# Rough load cost, milliseconds per kilobyte, measured on the fixtures (2.1 GHz Xeon): markdown
# is costly per byte, YAML and JSON are cheap.  A second lane pays for itself when the load
# alone takes about LANE_MIN_MS; below twice MIN_DOCUMENTS_PER_LANE inputs it does only then.
PARSE_MS_PER_KB: dict[str, float] = {
    "deployment_report": 3.0, "qa_report": 2.0, "runbook": 1.3, "migration": 1.1,
    "terraform": 0.5, "workflow": 0.15, "action": 0.15, "generic": 0.15, "coverage": 0.1,
    "scan_report": 0.08, "terraform_plan": 0.05, "pull_request": 0.03,
}
DEFAULT_MS_PER_KB = 0.5
LANE_MIN_MS = 500.0


def estimated_ms(sizes_and_kinds: Sequence[tuple[int, str]]) -> float:
    """How long loading inputs of these sizes (bytes) and kinds would take in one process."""
    return sum(size / 1024 * PARSE_MS_PER_KB.get(kind, DEFAULT_MS_PER_KB)
               for size, kind in sizes_and_kinds)


def lane_count(count: int, cpus: int | None = None, load_ms: float = 0.0) -> int:
    """Workers to load and evaluate `count` inputs with at once: one per core for runs big
    enough to share (by their number, or by what loading them would cost)."""
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    wanted = max(count // MIN_DOCUMENTS_PER_LANE, int(load_ms // LANE_MIN_MS))
    return max(1, min(MAX_LANES, cpus, count, wanted))


def lanes_for(evaluator: Evaluator, inputs: Sequence[RunInput], limits: Limits,
              sizes: Sequence[int] = ()) -> int:
    """Lanes of workers for these inputs; 0 when the run stays in this process."""
    if not inputs or not limits.active or not fork_available() or evaluator.backend_name == "opa":
        return 0
    load_ms = estimated_ms([(size, item.kind) for size, item in zip(sizes, inputs, strict=False)])
    return lane_count(len(inputs), load_ms=load_ms)


def run(evaluator: Evaluator, inputs: Sequence[RunInput], *, root: Path | None,
        max_bytes: int, limits: Limits, progress: ProgressFn | None = None,
        lanes: int | None = None, sizes: Sequence[int] = (), judge: Judge = judge_findings,
        ) -> tuple[list[CheckedFile], list[Any]]:
    """Load and judge every input: (the files that loaded, every result), in input order.

    The results are what `judge` makes of each document (`check`'s findings by default), and
    Findings for what could not be judged: a `PE-PARSE` for an input that does not load, a
    `PE-RULE-ERROR` for a rule stopped or failed in a worker.

    `lanes` overrides how many workers (0: in this process); by default `lanes_for`.
    `sizes` (bytes per input, where known) lets a costly load use more cores.
    """
    resume_collector()  # loading documents makes garbage: no longer start-up (cli.run)
    documents = RunDocuments(inputs, root, max_bytes)
    work = _Work(documents, judge)
    count = lanes_for(evaluator, inputs, limits, sizes) if lanes is None else lanes
    repository_rules = [r for r in evaluator.ruleset.python_rules if r.isolated]
    ruleset = evaluator.ruleset
    if repository_rules:  # evaluated apart, below
        evaluator.ruleset = replace(ruleset, python_rules=[
            r for r in ruleset.python_rules if not r.isolated])
    try:
        judged: _Run | None = None  # the run whose worker judged the repositories, if one did
        if count:
            isolated = _Run(evaluator, work, limits, progress, count,
                            repository=judge is judge_findings)
            isolated.run()
            by_number = {number: isolated.findings_of(number) for number in range(len(work))}
            files_by_number = isolated.files
            results = isolated.results
            judged = isolated
        else:
            by_number, files_by_number, results = {}, {}, {}
            for number, found, checked in work.messages(evaluator, range(len(work)), None):
                results[number] = found
                by_number[number] = list(found)
                if checked is not None:
                    files_by_number[number] = checked
                if progress is not None:
                    progress("checking", len(results), len(work))
        if judge is judge_findings:
            for number, found in _repository_findings(evaluator, documents, files_by_number,
                                                      limits, judged).items():
                by_number.setdefault(number, []).extend(found)
    finally:
        evaluator.ruleset = ruleset
    if repository_rules:
        for number, found in _repository_rule_findings(evaluator, repository_rules, work,
                                                       limits, root).items():
            by_number.setdefault(number, []).extend(found)
    findings = [f for number in range(len(work)) for f in by_number.get(number, ())]
    files = [files_by_number.get(number) or work.target(number)  # a worker died on it: no text
             for number in range(len(work))
             if not any(isinstance(f, Finding) and f.rule_id == PARSE_RULE_ID
                        for f in results.get(number, ()))]
    return files, findings


def _repository_findings(evaluator: Evaluator, documents: RunDocuments,
                         files: dict[int, CheckedFile], limits: Limits,
                         judged: _Run | None = None) -> dict[int, list[Any]]:
    """The repository-level rules' findings (engine/repository.py), by input number: in a
    worker with the run's deadline and memory limit, as every other evaluation.  That is the
    worker of `judged` when it got that far (a run of one lane), else one forked for them."""
    from pe_policy.engine.repository import has_repository_rules, repository_findings

    if not has_repository_rules(evaluator, {checked.kind for checked in files.values()}):
        return {}
    if judged is not None and judged.repository_found is not None:
        return dict(judged.repository_found)
    if evaluator.backend_name == "opa":  # a server with its own limits, not to be forked
        limits = Limits(timeout=None, memory_mb=None)

    def stopped(_number: int, reason: str) -> dict[int, list[Any]]:
        out: dict[int, list[Any]] = {}
        for number, checked in files.items():
            for module in evaluator.repository_modules(checked.kind):
                for rule_name in module.result_rules:
                    meta = evaluator.rule_meta(module, rule_name)
                    out.setdefault(number, []).append(
                        rule_error(checked, meta.id, module.path, reason, meta.severity))
        return out

    if judged is not None and judged.repository_stop is not None:
        return stopped(0, judged.repository_stop)
    [found], _ = run_each(1, lambda _number: repository_findings(evaluator, documents, files),
                          limits, stopped=stopped)
    return dict(found)


_noted: set[str] = set()  # what was said on stderr already (once per process)


def _note(text: str) -> None:
    if text not in _noted:
        _noted.add(text)
        sys.stderr.write(f"pe-policy: note: {text}\n")


def _repository_rule_findings(evaluator: Evaluator, rules: Sequence[Any], work: _Work,
                              limits: Limits, root: Path | None) -> dict[int, list[Any]]:
    """The findings of the repository's Python rules, input by input, from locked-down
    workers of their own (nothing of theirs runs in this process)."""
    numbers = [number for number, item in enumerate(work.documents.inputs)
               if any(r.meta.applies_to(item.kind) for r in rules)]
    if not numbers:
        return {}
    if not fork_available():  # fail closed: each is an error where it would have run
        reason = ("not run: a repository's Python rules run only in a worker process of their "
                  "own, which this platform cannot start (no fork)")
        return {number: [rule_error(work.target(number), r.meta.id, r.meta.origin, reason)
                         for r in rules if r.meta.applies_to(work.target(number).kind)]
                for number in numbers}
    from pe_policy.engine.pack import RuleSet
    from pe_policy.isolation import NOTE_TEXT, readable_paths

    policy_dirs = {Path(getattr(r.check, "root", None) or Path(r.meta.origin).parent)
                   for r in rules}
    isolation = _Isolation(readable=tuple(readable_paths(root, policy_dirs)),
                           rule_ids=frozenset(r.meta.id for r in rules))
    apart = Evaluator(RuleSet(catalog=evaluator.ruleset.catalog, python_rules=list(rules)),
                      evaluator.params, repo_root=evaluator.repo_root)
    isolated = _Run(apart, work, limits, None, lane_count(len(numbers)), numbers=numbers,
                    isolation=isolation)
    isolated.run()
    for code, detail in sorted(isolated.notes):
        _note(f"repository Python rules ran with {NOTE_TEXT[code]}: {detail}")
    return {number: isolated.findings_of(number) for number in numbers}


# ---------------------------------------------------------------- tasks (`pe-policy verify`)


def run_each(count: int, task: Callable[[int], Any], limits: Limits, *,
             stopped: Callable[[int, str], Any], finish: Callable[[], Any] | None = None,
             ) -> tuple[list[Any], list[Any]]:
    """`task(0)` ... `task(count - 1)`, in order, in a worker forked from this process with the
    deadline and memory limit `run` gives a document: each task has `limits.timeout` seconds,
    and the worker `limits.memory_mb` of address space over what this process maps.  A task
    still running at its deadline, or during which the worker dies (out of memory, a crash,
    an exception out of `task`), is `stopped(number, reason)` instead, and a fresh worker goes
    on with the next.  The worker inherits what this process built (a compiled engine):
    nothing is sent to it; each result comes back pickled.

    Returns (the results, in order; what `finish()` returned in each worker that got past its
    last task: one, unless a worker was stopped).  In this process when there are no limits,
    no `fork`, or no task.
    """
    resume_collector()  # the tasks make garbage: no longer start-up (cli.run)
    if not count or not limits.active or not fork_available():
        return [task(number) for number in range(count)], [finish()] if finish is not None else []
    from multiprocessing.connection import wait

    ctx = multiprocessing.get_context("fork")
    results: dict[int, Any] = {}
    finished: list[Any] = []
    pending = list(range(count))
    while pending:
        receiver, sender = ctx.Pipe(duplex=False)
        with tempfile.TemporaryFile() as stderr_file:
            gc.freeze()  # the worker must not touch (and so copy) every object to collect it
            try:
                process = ctx.Process(target=_task_worker, daemon=True,
                                      args=(sender, task, list(pending), finish,
                                            stderr_file.fileno(), limits.memory_mb))
                process.start()
            finally:
                gc.unfreeze()
            sender.close()
            reason: str | None = None
            deadline = time.monotonic() + limits.timeout if limits.timeout else None
            while True:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                if not wait([receiver], left):
                    reason = _past_deadline(limits.timeout)
                    break
                try:
                    message = receiver.recv()
                except (EOFError, OSError):
                    process.join(5)
                    stderr_file.seek(0)
                    reason = _death_reason(process.exitcode,
                                           stderr_file.read().decode("utf-8", "replace"),
                                           limits.memory_mb)
                    break
                if message is None:
                    break
                kind, number, value = message
                if kind == "error":
                    reason = str(value)
                    break
                if kind == "finish":
                    finished.append(value)
                else:
                    results[number] = value
                    pending.remove(number)
                    deadline = time.monotonic() + limits.timeout if limits.timeout else None
            receiver.close()
            if process.is_alive():
                process.kill()
            process.join()
            stderr_file.seek(0)
            leftover = stderr_file.read()
        if reason is None and leftover.strip():  # what its tasks printed: passed on
            sys.stderr.write(leftover.decode("utf-8", "replace"))
        if reason is not None and pending:
            number = pending.pop(0)
            results[number] = stopped(number, reason)
    return [results[number] for number in range(count)], finished


def _task_worker(conn: Any, task: Callable[[int], Any], numbers: list[int],
                 finish: Callable[[], Any] | None, stderr_fd: int, memory_mb: int | None) -> None:
    """`run_each`'s forked worker: these tasks in order, one message each, then `finish`."""
    os.dup2(2, 1)  # nothing a task prints may end up in this process's standard output
    os.dup2(stderr_fd, 2)  # the engine's abort messages are read back by the parent
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent stops us
    import faulthandler

    if faulthandler.is_enabled():  # its crash dump too (it may write to a copy of stderr)
        with contextlib.suppress(Exception):
            faulthandler.enable(file=2)
    if memory_mb:
        import resource

        limit = _address_space() + memory_mb * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    def run_tasks() -> None:
        for number in numbers:
            conn.send(("task", number, task(number)))
        if finish is not None:
            conn.send(("finish", -1, finish()))
        conn.send(None)

    # an error is reported by the parent as the task's error
    _exit_after(run_tasks, lambda error: conn.send(("error", -1, error)))


__all__ = [
    "DEFAULT_EVAL_MEMORY_MB",
    "DEFAULT_EVAL_TIMEOUT",
    "Limits",
    "RuleWatch",
    "RunDocuments",
    "RunInput",
    "fork_available",
    "lane_count",
    "lanes_for",
    "limits_from",
    "run",
    "run_each",
]
