"""discover -> load and evaluate -> filter: `check` chains them, for every kind of run.

Discovery names the inputs (files, and the pull requests of `--pr`/`--git-range`);
the runner (runner.py) loads and evaluates each of them in one worker, and loads any
other file a rule asks for on demand; the filters then apply suppressions, waivers
and the baseline.  Kept free of click so the same pipeline serves the CLI, the
pre-commit hook and tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pe_policy.catalog import Catalog
from pe_policy.config import Config
from pe_policy.discover import Candidate, discover
from pe_policy.document import CheckedFile
from pe_policy.engine.evaluate import Evaluator
from pe_policy.engine.pack import RuleSet, builtin_policy_dir, load_ruleset, select_rules
from pe_policy.filters import Baseline, apply_filters
from pe_policy.findings import PARSE_RULE_ID, Finding, Location, Severity
from pe_policy.loaders import DEFAULT_MAX_BYTES, SKIPPED, load_file
from pe_policy.redact import redact, redact_line
from pe_policy.runner import Limits, RunInput, run
from pe_policy.source_lines import SourceLines

if TYPE_CHECKING:
    from pe_policy.trust import PolicyBase

MAX_FRAME_CHARS = 240  # a longer source line is shown as a window around the finding
FRAME_CONTEXT_CHARS = 60  # ... starting this many characters before its column


@dataclass
class CheckResult:
    """Everything a reporter needs: findings, the rules behind them, and the sources."""

    findings: list[Finding]
    catalog: Catalog
    root: Path
    files: list[CheckedFile] = field(default_factory=list)  # the documents checked
    checked_paths: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, message): not findings
    # (path, why): files whose content suggested a kind they turned out not to be
    skipped: list[tuple[str, str]] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)  # path -> lines, for code frames
    _redactions: dict[tuple[str, int], list[tuple[int, int]]] | None = field(
        default=None, init=False, repr=False, compare=False)
    _lines: SourceLines | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if not f.suppressed]

    def _raw_line(self, path: str, line: int) -> str | None:
        if self._lines is None:  # the checked files' lines, then any other file inside the root
            self._lines = SourceLines(self.root, self.sources)
        return self._lines.line(path, line)

    def source_line(self, path: str, line: int) -> str | None:
        """The line as a reporter may show it: secrets masked, a long line cut short."""
        excerpt = self.source_excerpt(path, line)
        return None if excerpt is None else excerpt[0]

    def source_excerpt(self, path: str, line: int, column: int | None = None,
                       end_column: int | None = None) -> tuple[str, int | None, int | None] | None:
        """(text, column, end column) for a code frame, secrets masked.

        A line longer than MAX_FRAME_CHARS (minified JSON: a whole plan on one line) is cut
        to a window around `column`, and the columns are moved into it: a report of 10,000
        findings on a 40 MB line stays small.
        """
        raw = self._raw_line(path, line)
        if raw is None:
            return None
        if len(raw) <= MAX_FRAME_CHARS:
            return redact_line(self._redacted(path, line, raw)), column, end_column
        first = max(0, (column or 1) - 1 - FRAME_CONTEXT_CHARS)
        last = min(len(raw), first + MAX_FRAME_CHARS)
        # redact with a margin, so a secret cut by the window's edge is still recognised
        margin_first, margin_last = max(0, first - 200), min(len(raw), last + 200)
        wide = raw[margin_first:margin_last]
        masked = redact(self._redacted(path, line, wide, offset=margin_first))
        if masked == wide:
            text = raw[first:last]
            shift = first
        else:  # something was masked: show the masked text, without a precise caret
            text, shift, column, end_column = masked[: MAX_FRAME_CHARS], margin_first, None, None
        text = ("…" if shift else "") + text + ("…" if shift + len(text) < len(raw) else "")
        lead = 1 if shift else 0

        def moved(col: int | None) -> int | None:
            if col is None:
                return None
            inside = col - shift + lead
            return inside if 1 <= inside <= len(text) else None

        return text, moved(column), moved(end_column)

    def _redacted(self, path: str, line: int, text: str, offset: int = 0) -> str:
        """A finding marked `redact` (a leaked secret) never shows its text in a code frame.

        `text` is the line from its character `offset` on (a window of a long line)."""
        if self._redactions is None:  # built once: a report of 10,000 findings stays linear
            self._redactions = {}
            for finding in self.findings:
                loc = finding.location
                if (finding.properties.get("redact") and loc.column and loc.end_column
                        and loc.end_line in (None, loc.line)):
                    self._redactions.setdefault((loc.path, loc.line), []).append(
                        (loc.column - 1, loc.end_column - 1))
        for start, end in self._redactions.get((path, line), ()):
            start, end = max(0, start - offset), max(0, end - offset)
            text = text[:start] + "*" * max(0, min(end, len(text)) - start) + text[end:]
        return text

    def __post_init__(self) -> None:
        self.problems = [(path, redact(message)) for path, message in self.problems]


ProgressFn = Callable[[str, int, int], None]  # (phase, done, total)


def ruleset_for_kinds(ruleset: RuleSet, kinds: set[str]) -> RuleSet:
    """Only the Rego modules some document needs (and the libraries, which name no kind): a
    pre-commit run on one workflow never compiles the Terraform or runbook policies."""
    modules = [m for m in ruleset.rego_modules if not m.kinds or kinds.intersection(m.kinds)]
    if len(modules) == len(ruleset.rego_modules):
        return ruleset
    return replace(ruleset, rego_modules=modules)


def default_ruleset(extra_dirs: Iterable[Path] = (), python_rules: bool = False) -> RuleSet:
    """The built-in pack and `extra_dirs`; their Python rules only if `python_rules` (run in
    locked-down workers), else skipped (`pack.skipped_python_rules`)."""
    return load_ruleset([builtin_policy_dir(), *extra_dirs],
                        python_rules="isolated" if python_rules else "skip")


def check(
    paths: Sequence[Path],
    root: Path,
    *,
    config: Config | None = None,
    ruleset: RuleSet | None = None,
    forced_kind: str | None = None,
    engine: str = "regorus",
    engine_options: Mapping[str, Any] | None = None,
    baseline: Baseline | None = None,
    strict_suppressions: bool = False,
    skip_unknown: bool = False,
    progress: ProgressFn | None = None,
    limits: Limits | None = None,
    pull_requests: Sequence[Path] = (),
    git_ranges: Sequence[str] = (),
    git_repo: Path | None = None,
    pull_request_base: PolicyBase | None = None,  # a pull request's, `config` read from it
) -> CheckResult:
    config = config or Config()
    ruleset = select_rules(ruleset or default_ruleset(config.policies, config.python_rules), config)
    candidates, problems = discover(paths, root, forced_kind=forced_kind, excludes=config.exclude)
    known = [c for c in candidates if c.kind is not None]
    if not skip_unknown:
        problems.extend((c.path, "not a kind pe-policy knows (use --kind to say what it is)")
                        for c in candidates if c.kind is None)
    max_bytes = config.max_file_bytes or DEFAULT_MAX_BYTES
    limits = limits or Limits()

    inputs, sizes = _inputs(known, root, max_bytes)
    if pull_requests or git_ranges:  # `--pr FILE`, `--git-range A..B`
        from pe_policy.loaders.pull_request import KIND, pull_request_inputs

        named = {item.path for item in inputs}
        inputs += [RunInput(path, KIND, load) for path, load in
                   pull_request_inputs(pull_requests, git_ranges, git_repo or root, root)
                   if path not in named]
    _preload_loaders({item.kind for item in inputs})
    evaluator = Evaluator(ruleset_for_kinds(ruleset, {item.kind for item in inputs}),
                          config.params, backend_name=engine, repo_root=root,
                          backend_options=engine_options)
    files, findings = run(evaluator, inputs, root=root, max_bytes=max_bytes, limits=limits,
                          progress=progress, sizes=sizes)
    files = _with_module_files(files, known, findings)
    findings, skipped = _take_skipped(drop_repeats(findings))
    if pull_request_base is not None:  # what the pull request changes in the gate: PE-CFG-001
        changes = pull_request_base.change_findings(files, findings, ruleset, config)
        if changes:
            ruleset = pull_request_base.with_own_rules(ruleset, config)
            findings = [*findings, *changes]
    problems.extend((error.path, error.text("this policy was not evaluated; every other one was"))
                    for error in evaluator.policy_errors)
    findings = apply_filters(findings, files, root, config, rules=ruleset, baseline=baseline,
                             strict_suppressions=strict_suppressions)
    skipped_paths = {path for path, _ in skipped}
    checked = {c.path for c in known}
    return CheckResult(
        findings=findings,
        catalog=ruleset.catalog,
        root=root,
        files=files,
        checked_paths=[c.path for c in known if c.path not in skipped_paths]
        + [f.path for f in files if f.kind == "pull_request" and f.path not in checked],
        problems=problems,
        sources={f.path: f.lines for f in files if f.text is not None},
        skipped=skipped,
    )


def _take_skipped(findings: list[Finding]) -> tuple[list[Finding], list[tuple[str, str]]]:
    """(the findings, (path, why) of each file skipped as not of the kind its content
    suggested: its loader's NotOfKind, which is no finding)."""
    kept: list[Finding] = []
    skipped: list[tuple[str, str]] = []
    for finding in findings:
        if finding.rule_id == PARSE_RULE_ID and finding.properties.get(SKIPPED):
            skipped.append((finding.location.path,
                            f"its content suggested {finding.kind}, but {finding.message}"))
        else:
            kept.append(finding)
    return kept, skipped


def _inputs(candidates: Sequence[Candidate], root: Path,
            max_bytes: int) -> tuple[list[RunInput], list[int]]:
    """One input per file, in order, except Terraform's: one per module (the `.tf` files of a
    directory), at its first file, loaded and judged once (`loaders.terraform.load_module`).
    With each input's size in bytes.  The Terraform loader (and its models) is imported only
    when a `.tf` file is among them: a run over workflows never pays for it."""
    modules = _terraform_modules(candidates)
    inputs: list[RunInput] = []
    sizes: list[int] = []
    for candidate in candidates:
        if candidate.kind is None:
            continue
        if candidate.kind != "terraform":
            inputs.append(RunInput(candidate.path, candidate.kind, partial(
                load_file, candidate.abs_path, candidate.path, candidate.kind, root, max_bytes,
                candidate.sniffed)))
            sizes.append(_size(candidate.abs_path))
            continue
        members = modules[candidate.abs_path.parent]
        if members[0].path == candidate.path:
            from pe_policy.loaders.terraform import load_module

            files = [(member.abs_path, member.path) for member in members]
            inputs.append(RunInput(candidate.path, "terraform",
                                   partial(load_module, files, root, max_bytes)))
            sizes.append(sum(_size(abs_path) for abs_path, _ in files))
    return inputs, sizes


def _terraform_modules(candidates: Sequence[Candidate]) -> dict[Path, list[Candidate]]:
    """The `.tf` candidates by directory (a Terraform module), in the run's order."""
    modules: dict[Path, list[Candidate]] = {}
    for candidate in candidates:
        if candidate.kind == "terraform":
            modules.setdefault(candidate.abs_path.parent, []).append(candidate)
    return modules


def _with_module_files(files: list[CheckedFile], candidates: Sequence[Candidate],
                       findings: Sequence[Finding]) -> list[CheckedFile]:
    """A Terraform module is judged as one document, at its first file: each of its other
    files that loaded is a checked file too (reports list what was checked, file by file)."""
    unloaded = {f.location.path for f in findings if f.rule_id == PARSE_RULE_ID}
    modules = [[member.path for member in members]
               for members in _terraform_modules(candidates).values()]
    module_of = {path: paths for paths in modules for path in paths}
    out: list[CheckedFile] = []
    for file in files:
        out.append(file)
        if file.kind == "terraform":
            out.extend(CheckedFile(path, "terraform") for path in module_of.get(file.path, ())
                       if path != file.path and path not in unloaded)
    return out


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _preload_loaders(kinds: set[str]) -> None:
    """Import (and prepare) the loaders of the kinds in the run here, once, so that each
    worker inherits them instead of building them again."""
    from pe_policy.loaders import prepare_loader

    for kind in kinds:
        prepare_loader(kind)


def drop_repeats(findings: list[Finding]) -> list[Finding]:
    """One finding per rule, place and message.

    A plan checked next to its `.tf` files reports each problem twice at the same
    `.tf` line (once from each document): users want it once.
    """
    kept: dict[tuple[str, Location, str], Finding] = {}
    for finding in findings:
        key = (finding.rule_id, finding.location, finding.message)
        first = kept.setdefault(key, finding)
        if (first is not finding and "document" in finding.properties
                and "document" not in first.properties):  # waivable by either
            kept[key] = replace(first, properties={**first.properties,
                                                   "document": finding.properties["document"]})
    return list(kept.values())


def exit_code(result: CheckResult, fail_on: Severity) -> int:
    """0 clean, 1 findings at or above `fail_on`, 2 when some input could not be read."""
    active = result.active
    if result.problems or any(f.rule_id == "PE-PARSE" for f in active):
        return 2
    if any(f.severity.rank >= fail_on.rank for f in active):
        return 1
    return 0


__all__ = ["CheckResult", "Location", "check", "exit_code"]
