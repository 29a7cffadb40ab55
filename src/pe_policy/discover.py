"""Which files to check, and what kind each one is.

Detection looks at the path first (cheap, and what users expect: a file under
`.github/workflows/` is a workflow) and only then at the first few kilobytes of
content, so a repository walk stays fast.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".terraform",
     ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".hypothesis", "dist", "build"}
)
SNIFF_BYTES = 8192

_RUNBOOK_HEADING = re.compile(r"^#\s+[A-Z][A-Z0-9]*-\d+\s*:", re.MULTILINE)
_FRONT_MATTER = re.compile(r"\A(?:\ufeff)?---\s*\n(.*?)\n(?:---|\.\.\.)\s*(?:\n|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Candidate:
    """A file found by `discover`, with its kind as judged from its path or its first few
    kilobytes (None: a file named explicitly that is not checked, so the run can say so)."""

    abs_path: Path
    path: str  # relative to the root, POSIX
    kind: str | None  # None: not a kind pe-policy knows
    sniffed: bool = False  # the kind is a guess from the content: loading it decides


@functools.lru_cache(maxsize=8)
def _resolved_absolute(root: Path) -> Path:
    return root.resolve()


def _resolved(root: Path) -> Path:
    """The root resolved once per run, not once per file (a relative root follows the cwd)."""
    return _resolved_absolute(root) if root.is_absolute() else root.resolve()


def relative_to_root(abs_path: Path, root: Path) -> str:
    try:
        resolved = abs_path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: name the link itself; reading it reports it
        resolved = Path(os.path.abspath(abs_path))
    try:
        return resolved.relative_to(_resolved(root)).as_posix()
    except ValueError:
        return abs_path.as_posix()


# what marks a repository's root, in order: a git work tree; outside one, a directory
# holding the workflows or pe-policy's configuration (a checkout without `.git`, an export)
ROOT_MARKERS: tuple[tuple[str, ...], ...] = ((".git",), (".github", ".pe-policy.yaml"))


def find_root(start: Path) -> Path:
    """The repository root: the nearest ancestor holding `.git`; in no git work tree, the
    nearest holding `.github` or `.pe-policy.yaml`; else `start` itself; resolved.

    So `pe-policy check repo/.github/workflows` finds `repo`, and with it the workflows'
    kind, whether or not `repo` is a git clone.  The ancestors are those of `start` as
    written (made absolute), and one reached through fewer symbolic links wins:
    `pe-policy check docs`, where `docs` is a link out of the repository (to another
    checkout, say), finds the repository holding the link, not the one it points into, so
    the link is refused as leading out of the root.
    """
    lexical = Path(os.path.abspath(start))
    chain = [*reversed(lexical.parents), lexical]  # from `/` down to `start`
    for markers in ROOT_MARKERS:
        best: tuple[int, Path] | None = None
        links = 0
        for candidate in chain:
            links += candidate.is_symlink()
            if (any((candidate / marker).exists() for marker in markers)
                    and (best is None or links <= best[0])):
                best = (links, candidate)  # deeper wins unless reached through more links
        if best is not None:
            return best[1].resolve()
    return lexical.resolve()


LINK_OUT_OF_ROOT = "symbolic link to a file outside the repository: not read"
DIRECTORY_LINK_OUT_OF_ROOT = "symbolic link to a directory outside the repository: not read"


def place(abs_path: Path, root: Path) -> tuple[str, bool]:
    """(the path findings name, whether it leads out of `root` through a symbolic link).

    A file inside the root is named relative to it, links resolved.  A path that some link
    (the file itself, or a directory on the way) takes outside the root is never read: it
    is named as it lies in the root, and its target is not looked at.  A path outside the
    root with no link on the way (a file named on the command line) is named as given; a
    symlink loop too (reading it reports the loop, and reads nothing).
    """
    try:
        resolved = abs_path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return relative_to_root(abs_path, root), False
    base = _resolved(root)
    if resolved.is_relative_to(base):
        return resolved.relative_to(base).as_posix(), False
    lexical = Path(os.path.abspath(abs_path))
    if resolved == lexical:
        return abs_path.as_posix(), False
    if lexical.is_relative_to(base):
        return lexical.relative_to(base).as_posix(), True
    return abs_path.as_posix(), True


def _placed_below(file: Path, walked: Path, under: str, root: Path) -> tuple[str, bool]:
    """`place` for a file the walk of directory `walked` (placed at `under`, inside the root)
    found.  The walk enters no linked directory, so only a link itself can lead elsewhere: any
    other file is named by its path below the directory, without resolving every component
    of it again (7 system calls a file: 20 ms of a run on 500 workflows)."""
    if os.path.islink(file):
        return place(file, root)
    return under + file.relative_to(walked).as_posix(), False


def link_out_of_root(abs_path: Path, root: Path) -> bool:
    """Whether a symbolic link takes `abs_path` outside `root` (so it must not be read)."""
    return place(abs_path, root)[1]


def inside_root(root: Path, path: str) -> Path | None:
    """`path` (relative, POSIX) as a file inside `root`, links resolved; None if it escapes.

    For every file read because something names it (a rule's `ctx.document_at`, a code
    frame, an inline suppression: source_lines.SourceLines): `..`, an absolute path or a
    symlink that leads out of the repository is never read.
    """
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts:
        return None
    candidate = root / pure
    try:
        resolved = candidate.resolve()
        resolved.relative_to(_resolved(root))
    except (OSError, RuntimeError, ValueError):
        return None
    return candidate


def repo_root(explicit: Path | None, anchor: Path) -> Path:
    """The root a command works in, resolved: `explicit` (`--root`) when given, else the
    repository around `anchor` (the first path given, or the current directory)."""
    if explicit is not None:
        return explicit.resolve()
    start = anchor if anchor.is_dir() else anchor.parent if anchor.parent != Path() else Path.cwd()
    return find_root(start).resolve()


def kind_by_path(path: str) -> str | None:
    p = PurePosixPath(path)
    name = p.name.lower()
    parts = [part.lower() for part in p.parts]
    suffix = p.suffix.lower()
    if suffix in (".yml", ".yaml"):
        if len(parts) >= 3 and parts[-3] == ".github" and parts[-2] == "workflows":
            return "workflow"
        if name in ("action.yml", "action.yaml"):
            return "action"
    # `.tf.json`: Terraform's JSON syntax, by its name as Terraform (case-sensitive) tells it.
    # Terraform never loads a hidden file (loaders.terraform.ignored_by_terraform)
    if suffix == ".tf" or p.name.endswith(".tf.json"):
        return None if p.name.startswith(".") else "terraform"
    if name.endswith((".tfplan.json", ".plan.json")) or name in ("tfplan.json", "plan.json"):
        return "terraform_plan"
    if name.endswith((".up.sql", ".down.sql")):
        return "migration"
    if (suffix == ".py" and ("versions" in parts[:-1] or "migrations" in parts[:-1])
            and name not in ("__init__.py", "env.py")):  # package marker, Alembic's env
        return "migration"
    if name.endswith(".sarif") or name.endswith(".sarif.json"):
        return "scan_report"
    if name in ("coverage.xml", "cobertura.xml", "coverage.json", "cobertura-coverage.xml"):
        return "coverage"
    return None


_REPORT_TITLE = re.compile(r"^#\s+(?:\*\*)?(QA|Deploy(?:ment)?)\s+Report\b",
                           re.MULTILINE | re.IGNORECASE)
_RUNBOOK_SECTION = re.compile(
    r"^#{2,4}\s+(?:\d+\.\s*)?(?:Goal Description|Compliance Checklist|Proposed Changes)\b",
    re.MULTILINE | re.IGNORECASE,
)
_FRONT_TAGS = re.compile(r"^tags\s*:(.*?)(?=^\S|\Z)", re.MULTILINE | re.DOTALL)


def _empty_markdown_kind(path: str) -> str | None:
    """The kind an empty markdown file would be where it lies: a runbook in a runbook's place
    (`runbooks/`, `*-runbook.md`), a report named like one (`QA-Report-*`, `Deploy-*` under
    `deployments/`).  Empty, it says nothing else, and must be reported, not skipped."""
    p = PurePosixPath(path.lower())
    if p.name in ("readme.md", "index.md"):
        return None
    if "runbook" in path.lower():
        return "runbook"
    if p.name.startswith("qa") and "report" in p.name:
        return "qa_report"
    if p.name.startswith("deploy") and ("report" in p.name or "deployments" in p.parts[:-1]):
        return "deployment_report"
    return None


def _markdown_kind(path: str, head: str) -> str | None:
    """Seed 003 reports (front matter; the title, else `unit_id` plus tags or file name, say
    which) and seed 004 runbooks.

    A runbook is `# <STORY-ID>: <Title>` plus one of its own sections (or `runbook` in its
    path), so an ADR (`# ADR-001: ...`, `Status: Accepted`) is not mistaken for one.
    """
    if not head.strip():
        return _empty_markdown_kind(path)
    name = PurePosixPath(path).name.lower()
    match = _FRONT_MATTER.match(head)
    if match:
        front = match.group(1)
        title = _REPORT_TITLE.search(head, match.end())
        if title:
            return "qa_report" if title.group(1).lower() == "qa" else "deployment_report"
        if re.search(r"^unit_id\s*:", front, re.MULTILINE):
            tags_match = _FRONT_TAGS.search(front)
            tags = set(re.findall(r"[\w-]+", tags_match.group(1).lower())) if tags_match else set()
            if ("deployment" in tags or name.startswith("deploy")
                    or re.search(r"^deployed\s*:|^\s+qa_report\s*:", front, re.MULTILINE)):
                return "deployment_report"
            if "qa" in tags or name.startswith("qa"):
                return "qa_report"
    if _RUNBOOK_HEADING.search(head) and (_RUNBOOK_SECTION.search(head) or "runbook" in
                                          path.lower()):
        return "runbook"
    return None


_PR_OBJECT = re.compile(r'"pull_request"\s*:\s*\{')
_ISSUE_OBJECT = re.compile(r'"issue"\s*:\s*\{')
_GH_PR_KEYS = ('"headRefName"', '"baseRefName"', '"headRefOid"', '"statusCheckRollup"')


def _looks_like_pull_request(head: str) -> bool:
    """An event payload carrying a `pull_request` object, or `gh pr view --json` output.

    gh sorts its keys, so a long `body` can push `headRefName` past the sniffed
    head; `baseRefName` comes before it.  An issue_comment payload names its PR
    inside `issue` without carrying it: not one.
    """
    if any(key in head for key in _GH_PR_KEYS):
        return True
    match = _PR_OBJECT.search(head)
    if match is None:
        return False
    issue = _ISSUE_OBJECT.search(head)
    return issue is None or issue.start() > match.start()


def kind_by_content(path: str, head: str) -> str | None:
    """Sniff the start of a file whose path did not decide its kind."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix == ".md":
        return _markdown_kind(path, head)
    if suffix == ".json":
        if '"format_version"' in head and '"terraform_version"' in head:
            return "terraform_plan"  # `terraform show -json` writes these two first
        if '"SchemaVersion"' in head and ('"Results"' in head or '"ArtifactName"' in head):
            return "scan_report"
        if '"auditReportVersion"' in head or ('"dependencies"' in head and '"vulns"' in head):
            return "scan_report"
        if '"advisories"' in head or ('"actions"' in head and '"resolves"' in head):
            return "scan_report"  # npm audit before v7
        if head.lstrip().startswith("[") and '"vulns"' in head and '"name"' in head:
            return "scan_report"  # pip-audit's list form
        if '"runs"' in head and ("sarif" in head.lower()
                                 or re.search(r'"version"\s*:\s*"2\.1\.0"', head)):
            return "scan_report"
        # coverage.py JSON: `meta` first, `totals` last (past the sniffed head in a big report)
        if '"meta"' in head and ('"show_contexts"' in head
                                 or ('"totals"' in head and '"percent_covered"' in head)):
            return "coverage"
        if _looks_like_pull_request(head):
            return "pull_request"
        return None
    if suffix == ".xml" and "<coverage" in head and ("line-rate" in head or "lines-valid" in head):
        return "coverage"
    if suffix == ".py" and ("from alembic import op" in head or "django.db" in head):
        return "migration" if ("def upgrade" in head or "class Migration" in head) else None
    return None


def _sniff(abs_path: Path) -> str | None:
    """The first SNIFF_BYTES of a regular file ("" if it is empty); None if it cannot be read."""
    try:
        # O_NONBLOCK: a FIFO named `x.json` must not hang the walk; only regular files are read
        fd = os.open(abs_path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, SNIFF_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None
    finally:
        os.close(fd)


_SNIFF_SUFFIXES = frozenset({".md", ".json", ".xml", ".py"})


def detect(abs_path: Path, path: str) -> tuple[str | None, bool]:
    """(kind, whether it was guessed from the content).

    The path decides when it can; else the first SNIFF_BYTES of the content suggest a
    kind, and the loader, which reads the whole file, confirms it (loaders.NotOfKind).
    """
    kind = kind_by_path(path)
    if kind is not None:
        return kind, False
    head = _sniff(abs_path) if PurePosixPath(path).suffix.lower() in _SNIFF_SUFFIXES else None
    if head is not None:
        return kind_by_content(path, head), True
    return None, False


def detect_kind(abs_path: Path, path: str) -> str | None:
    return detect(abs_path, path)[0]


def _candidate(abs_path: Path, path: str, forced_kind: str | None) -> Candidate:
    if forced_kind is not None:
        return Candidate(abs_path, path, forced_kind)
    kind, sniffed = detect(abs_path, path)
    return Candidate(abs_path, path, kind, sniffed and kind is not None)


def path_matches(path: str, pattern: str) -> bool:
    """A glob (`*` crosses `/`) or a directory prefix (`legacy/`): for excludes and waivers."""
    return fnmatch.fnmatch(path, pattern) or path.startswith(pattern.rstrip("/") + "/")


def _excluded(path: str, excludes: Iterable[str]) -> bool:
    return any(path_matches(path, pattern) for pattern in excludes)


def _read_when_found(path: str, forced_kind: str | None) -> bool:
    """Whether a walk would read `path` (to check it, or to sniff its kind)."""
    return (forced_kind is not None or kind_by_path(path) is not None
            or PurePosixPath(path).suffix.lower() in _SNIFF_SUFFIXES)


class GitIgnore:
    """What the `.gitignore` files below `base` (and `.git/info/exclude`) leave out.

    Git's own rules, by pathspec's GitIgnoreSpec: a file's deepest `.gitignore` with a
    pattern that matches decides (a `!pattern` re-includes), and a directory left out is
    not entered at all.  The same whether or not `base` is a git work tree, so a checkout
    without `.git` is walked as its clone would be.
    """

    def __init__(self, base: Path) -> None:
        self.base = base
        self._specs: dict[str, Any] = {}  # directory (relative, POSIX; "" is base) -> spec
        self._applies: dict[str, list[tuple[int, Any]]] = {}

    def _spec(self, directory: str) -> Any:
        if directory not in self._specs:
            from pathspec import GitIgnoreSpec

            sources = [self.base / directory / ".gitignore"]
            if not directory:
                sources.insert(0, self.base / ".git" / "info" / "exclude")  # the lowest rank
            lines: list[str] = []
            for source in sources:
                with contextlib.suppress(OSError, UnicodeDecodeError):
                    if source.is_file():
                        lines += source.read_text(encoding="utf-8").splitlines()
            self._specs[directory] = GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[directory]

    def _applying(self, directory: str) -> list[tuple[int, Any]]:
        """(length of the directory's prefix to cut, spec) of each .gitignore that applies
        in `directory`, the deepest first; worked out once per directory."""
        if directory not in self._applies:
            parts = directory.split("/") if directory else []
            self._applies[directory] = [
                (len(prefix) + 1 if prefix else 0, spec)
                for prefix in ("/".join(parts[:depth]) for depth in range(len(parts), -1, -1))
                if (spec := self._spec(prefix)) is not None]
        return self._applies[directory]

    def ignored(self, path: str, is_dir: bool = False) -> bool:
        """Whether `path` (relative to `base`, POSIX) is left out; its parents are not."""
        directory = path.rpartition("/")[0]
        for cut, spec in self._applying(directory):
            verdict = spec.check_file(path[cut:] + ("/" if is_dir else "")).include
            if verdict is not None:
                return bool(verdict)
        return False


def walk(directory: Path, ignore: GitIgnore | None = None, prefix: str = "") -> Iterator[Path]:
    """Files below `directory`, sorted, skipping VCS/tool directories and symlinked dirs,
    and what `ignore` leaves out (`prefix`: `directory` relative to its base, "" for it)."""
    for dirpath, dirnames, filenames in os.walk(directory, followlinks=False):
        here = Path(dirpath).relative_to(directory).as_posix()
        at = "/".join(part for part in (prefix, "" if here == "." else here) if part)
        inside = f"{at}/" if at else ""
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not (
            ignore is not None and ignore.ignored(inside + d, is_dir=True)))
        for name in sorted(filenames):
            if ignore is None or not ignore.ignored(inside + name):
                yield Path(dirpath, name)


def _walk_honouring_gitignore(directory: Path, root: Path) -> Iterator[Path]:
    """`walk` with the `.gitignore` files of `root` (those above `directory` too, as git
    applies them), or of `directory` itself when it lies outside `root`."""
    base, resolved = _resolved(root), directory.resolve()
    if not resolved.is_relative_to(base):
        base = resolved
    prefix = resolved.relative_to(base).as_posix()
    return walk(directory, GitIgnore(base), "" if prefix == "." else prefix)


def discover(
    paths: Iterable[Path],
    root: Path,
    *,
    excludes: Iterable[str] = (),
    forced_kind: str | None = None,
) -> tuple[list[Candidate], list[tuple[str, str]]]:
    """Expand `paths` into candidates; return them and (path, problem) pairs for bad paths.

    Files named explicitly are always returned (kind None when unknown, so the
    caller can say so); files found by walking a directory only when their kind
    is known.  A symbolic link that leads out of the root is never read, not even to
    sniff its kind: it is a problem (LINK_OUT_OF_ROOT) when it would have been read.
    """
    excludes = tuple(excludes)
    found: dict[str, Candidate] = {}
    problems: list[tuple[str, str]] = []
    links_out: set[str] = set()

    def link_out(rel: str, message: str = LINK_OUT_OF_ROOT) -> None:
        if rel not in links_out:
            links_out.add(rel)
            problems.append((rel, message))

    for given in paths:
        if os.path.isdir(given):
            shown, outside = place(given, root)
            if outside:
                link_out(shown, DIRECTORY_LINK_OUT_OF_ROOT)
                continue
            before = (len(found), len(links_out))
            under = "" if shown == "." else f"{shown}/"
            for file in _walk_honouring_gitignore(given, root):
                rel, outside = _placed_below(file, given, under, root)
                if _excluded(rel, excludes) or rel in found:
                    continue
                if outside:
                    if _read_when_found(rel, forced_kind):
                        link_out(rel)
                    continue
                candidate = _candidate(file, rel, forced_kind)
                if candidate.kind is not None:
                    found[rel] = candidate
            if (len(found), len(links_out)) == before:
                problems.append((str(given), "no files pe-policy knows how to check in this directory"))
        elif os.path.lexists(given):
            rel, outside = place(given, root)
            if rel in found or _excluded(rel, excludes):
                continue
            if outside and _read_when_found(rel, forced_kind):
                link_out(rel)
            elif outside:  # never read: "not a kind pe-policy knows", or skipped as one
                found[rel] = Candidate(given, rel, None)
            else:
                found[rel] = _candidate(given, rel, forced_kind)
        else:
            problems.append((str(given), "no such file or directory"))
    return sorted(found.values(), key=lambda c: c.path), problems
