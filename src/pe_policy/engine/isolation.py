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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pe_policy.document import Document
from pe_policy.engine.evaluate import (
    COMBINED_KEY,
    Evaluator,
    evaluate_all,
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
        index = self.COMBINED if key == COMBINED_KEY else self._index.get(key, self.NOT_IN_RULE)
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
            watch: RuleWatch, stderr_fd: int, memory_mb: int | None) -> None:
    """The forked worker: evaluate documents[start:], one message per document."""
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
        for number in range(start, len(documents)):
            watch.begin(number)
            conn.send((number, evaluator.evaluate(documents[number], documents)))
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


class _Run:
    """One isolated evaluation of a list of documents."""

    def __init__(self, evaluator: Evaluator, documents: Sequence[Document], limits: Limits,
                 progress: ProgressFn | None) -> None:
        self.evaluator = evaluator
        self.documents = documents
        self.limits = limits
        self.progress = progress
        self.keys = rule_keys(evaluator)
        self.watch = RuleWatch([rule.key for rule in self.keys])
        self.results: dict[int, list[Finding]] = {}
        self.errors: dict[int, list[Finding]] = {}
        self.ctx = multiprocessing.get_context("fork")

    def failure(self, number: int, rule_index: int, reason: str) -> int:
        """Record why (document, rule) failed; return the document to resume from."""
        doc = self.documents[number]
        if rule_index == RuleWatch.COMBINED:  # some rule in the batch: run them one by one to name it
            self.watch.skip.add((number, rule_index))
            return number
        if rule_index == RuleWatch.NOT_IN_RULE:
            self.errors.setdefault(number, []).append(rule_error(doc, "(all rules)", "pe-policy", reason))
            self.results[number] = []
            return number + 1
        rule = self.keys[rule_index]
        self.errors.setdefault(number, []).append(rule_error(doc, rule.rule_id, rule.origin, reason))
        self.watch.skip.add((number, rule_index))
        if rule.rego is not None:  # later workers evaluate it alone: its next stop costs one deadline
            self.evaluator.run_alone(*rule.rego)
        return number

    def run(self) -> list[Finding]:
        # Build the engine here, once: every worker inherits it compiled.
        if self.evaluator.ruleset.policy_modules:
            _ = self.evaluator.backend
        start = 0
        while start < len(self.documents):
            start = self._one_worker(start)
        findings: list[Finding] = []
        for number in range(len(self.documents)):
            findings.extend(self.results.get(number, ()))
            findings.extend(self.errors.get(number, ()))
        return findings

    def _one_worker(self, start: int) -> int:
        """Run a worker from document `start`; return where the next worker must begin."""
        receiver, sender = self.ctx.Pipe(duplex=False)
        with tempfile.TemporaryFile() as stderr_file:
            gc.collect()
            gc.freeze()  # the worker must not touch (and so copy) every object to collect it
            try:
                process = self.ctx.Process(
                    target=_worker, daemon=True,
                    args=(sender, self.evaluator, self.documents, start, self.watch,
                          stderr_file.fileno(), self.limits.memory_mb))
                process.start()
            finally:
                gc.unfreeze()
            sender.close()
            died = False
            try:
                resume, died = self._collect(process, receiver, start, stderr_file)
            finally:
                receiver.close()
                if process.is_alive():
                    process.kill()
                process.join()
            if not died:  # what rules printed, passed on; a dead worker's noise is in the finding
                stderr_file.seek(0)
                leftover = stderr_file.read()
                if leftover.strip():
                    sys.stderr.write(leftover.decode("utf-8", "replace"))
            return resume

    def _collect(self, process: Any, receiver: Any, start: int,
                 stderr_file: Any) -> tuple[int, bool]:
        """Read the worker's messages; (next document to start from, whether the worker died)."""
        timeout = self.limits.timeout or None
        while True:
            wait = None if timeout is None else timeout
            if not receiver.poll(wait):
                number, rule_index = self.watch.position
                process.kill()
                return self.failure(number, rule_index,
                                    f"did not finish within the evaluation deadline of "
                                    f"{timeout:g} s (raise it with --eval-timeout)"), True
            try:
                message = receiver.recv()
            except (EOFError, OSError):
                process.join(5)
                number, rule_index = self.watch.position
                stderr_file.seek(0)
                text = stderr_file.read().decode("utf-8", "replace")
                return self.failure(number, rule_index, _death_reason(
                    process.exitcode, text, self.limits.memory_mb)), True
            if message is None:
                return len(self.documents), False
            if message[0] == "error":
                number, rule_index = self.watch.position
                return self.failure(number, rule_index, str(message[1])), True
            number, found = message
            self.results[number] = found
            if self.progress is not None:
                self.progress("checking", number + 1, len(self.documents))


def evaluate_documents(evaluator: Evaluator, documents: Sequence[Document],
                       limits: Limits | None = None,
                       progress: ProgressFn | None = None) -> list[Finding]:
    """Every document's findings, in document order; isolated when limits are set and possible."""
    limits = limits or Limits()
    backend_name = getattr(evaluator, "_backend_name", "regorus")
    if not documents or not limits.active or not fork_available() or backend_name == "opa":
        return evaluate_all(evaluator, documents, progress)
    return _Run(evaluator, documents, limits, progress).run()


__all__ = ["DEFAULT_EVAL_MEMORY_MB", "DEFAULT_EVAL_TIMEOUT", "Limits", "RuleWatch",
           "evaluate_documents", "fork_available", "limits_from"]
