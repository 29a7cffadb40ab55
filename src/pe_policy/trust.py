"""Trusted configuration on a pull-request run: the gate comes from the base, never the PR.

On a pull-request run (`GITHUB_EVENT_NAME` is `pull_request` or `pull_request_target`,
`--pr` is given, or `--policy-ref REF` names the base) `.pe-policy.yaml`, the policy
directories it lists and the baseline are read from the base of the pull request, a git ref
(`origin/$GITHUB_BASE_REF`), with git itself: `git cat-file` of the blobs `git ls-tree`
lists, written into a temporary directory (no checkout, no filter, no hook, nothing run; a
symbolic link is kept only when it stays inside its policy directory).  A base that cannot be
read stops the run (exit 2) with how to fix it; the work tree is never used instead.

The files under test still come from the head, and inline suppressions in them still apply.
What the pull request changes in the gate is reported as PE-CFG-001, naming who must approve
(the owners of the configuration file in the base's CODEOWNERS): each weakening (a disabled
rule, a waiver, a lowered severity, a narrower `rules.enable`, an exclusion, a dropped policy
directory) at the line of the head's configuration that adds it, each inline suppression
comment it adds at that comment, and the change of the configuration and the policy
directories as a whole, with its diff summarised.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pe_policy.catalog import CONFIG_CHANGE_RULE_ID, PULL_REQUEST_RULES, Catalog
from pe_policy.config import (
    CONFIG_FILE_NAMES,
    Config,
    ConfigError,
    ConfigIssue,
    dotted,
    load_config,
    selects,
)
from pe_policy.findings import Finding, JsonPath, Location, ParseError, Severity
from pe_policy.output import write_atomic
from pe_policy.pull_request_run import PULL_REQUEST_EVENTS, TrustError, pull_request_run

if TYPE_CHECKING:
    from pe_policy.document import CheckedFile, Span
    from pe_policy.engine.pack import RuleSet
    from pe_policy.filters import Baseline

CODEOWNERS_FILES = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")  # GitHub's order
GIT_TIMEOUT = 120  # seconds for one git command
PAYLOAD_MAX_BYTES = 64 * 1024 * 1024
HEAD_MAX_BYTES = 16 * 1024 * 1024  # a head file read only to compare it with the base
MAX_NAMED_FILES = 5  # changed policy files a message names; the rest are counted
_SKIPPED_PARTS = ("__pycache__",)


def open_base(root: Path, *, policy_ref: str | None = None, pull_requests: Sequence[Path] = (),
              environ: Mapping[str, str] | None = None) -> PolicyBase | None:
    """The base a pull-request run reads its configuration from; None outside a pull request.

    The base is `--policy-ref` when given; else the base branch (`GITHUB_BASE_REF` on a
    pull-request event, else the base named in the `--pr` payloads) as `origin/<branch>`,
    or the local branch of that name when there is no remote-tracking one.
    Raises TrustError when it cannot be found or read."""
    environ = os.environ if environ is None else environ
    if not pull_request_run(policy_ref, pull_requests, environ):
        return None
    toplevel, prefix = _work_tree(root)
    if policy_ref is not None:
        if not policy_ref.strip() or policy_ref.startswith("-"):
            raise TrustError(f"--policy-ref {policy_ref!r}: not a git ref")
        candidates, shown, branch = [policy_ref], policy_ref, None
    else:
        branch = _base_branch(environ, pull_requests)
        if not branch or branch.startswith("-"):
            raise TrustError(
                "this pull-request run reads .pe-policy.yaml and its policies from the pull "
                "request's base, but nothing names the base: pass --policy-ref (e.g. "
                "--policy-ref origin/main), or set GITHUB_BASE_REF (GitHub Actions sets it "
                "on pull_request events)")
        candidates = [f"refs/remotes/origin/{branch}", f"refs/heads/{branch}"]
        shown = f"origin/{branch}"
    for candidate in candidates:
        commit = _resolve(toplevel, candidate)
        if commit is not None:
            if candidate.startswith("refs/heads/"):
                shown = candidate.removeprefix("refs/heads/")
            return PolicyBase(ref=shown, commit=commit, toplevel=toplevel, prefix=prefix,
                              root=root)
    fetch = f"git fetch --no-tags --depth=1 origin {branch or _branch_of(policy_ref)}"
    raise TrustError(
        f"cannot read the pull request's base {shown} in {toplevel} (not fetched, or a shallow "
        f"clone without it): fetch the base: {fetch}, or pass --policy-ref REF. On a pull "
        "request pe-policy reads .pe-policy.yaml and its policies from the base, never from "
        "the pull request itself")


def _branch_of(ref: str | None) -> str:
    ref = ref or "main"
    for lead in ("refs/remotes/origin/", "origin/", "refs/heads/"):
        if ref.startswith(lead):
            return ref[len(lead):]
    return ref


def _base_branch(environ: Mapping[str, str], pull_requests: Sequence[Path]) -> str | None:
    if environ.get("GITHUB_EVENT_NAME", "") in PULL_REQUEST_EVENTS and environ.get(
            "GITHUB_BASE_REF"):
        return environ["GITHUB_BASE_REF"]
    names = list(dict.fromkeys(name for name in map(_payload_base, pull_requests) if name))
    if len(names) > 1:
        raise TrustError(f"the pull requests given with --pr have different bases "
                         f"({', '.join(names)}): check them one at a time, or pass --policy-ref")
    return names[0] if names else None


def _payload_base(file: Path) -> str | None:
    """The base branch an event payload or `gh pr view --json` output names."""
    try:
        with open(file, "rb") as fh:
            data = json.loads(fh.read(PAYLOAD_MAX_BYTES))
    except (OSError, ValueError):
        return None  # the loader reports the file as unreadable (PE-PARSE)
    if not isinstance(data, dict):
        return None
    pr = data.get("pull_request")
    base = pr.get("base") if isinstance(pr, dict) else None
    ref = base.get("ref") if isinstance(base, dict) else data.get("baseRefName")
    return ref if isinstance(ref, str) and ref else None


# ---------------------------------------------------------------------------------------- git


def _git(toplevel: Path, *args: str, stdin: bytes | None = None, check: bool = True
         ) -> subprocess.CompletedProcess[bytes]:
    try:
        done = subprocess.run(["git", "--literal-pathspecs", "-C", str(toplevel), *args],
                              input=stdin,
                              capture_output=True, timeout=GIT_TIMEOUT, check=False)
    except FileNotFoundError:
        raise TrustError("a pull-request run reads its configuration from the base with git, "
                         "and git is not installed") from None
    except subprocess.TimeoutExpired:
        raise TrustError(f"git {args[0]} took more than {GIT_TIMEOUT} s in {toplevel}") from None
    if check and done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise TrustError(f"git {args[0]} failed in {toplevel}: "
                         f"{message[-1] if message else 'exit ' + str(done.returncode)}")
    return done


def _work_tree(root: Path) -> tuple[Path, str]:
    """The git work tree around `root`, and `root` relative to it (`""` or `"sub/dir/"`)."""
    done = _git(root, "rev-parse", "--show-toplevel", check=False)
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise TrustError(
            f"{root} is not a git repository ({reason[-1] if reason else 'git rev-parse failed'})"
            ": a pull-request run reads .pe-policy.yaml and its policies from the pull "
            "request's base with git; run it in the repository's clone")
    toplevel = Path(done.stdout.decode("utf-8", "surrogateescape").strip()).resolve()
    try:
        relative = root.resolve().relative_to(toplevel).as_posix()
    except ValueError:
        relative = "."
    return toplevel, "" if relative == "." else relative + "/"


def _resolve(toplevel: Path, ref: str) -> str | None:
    done = _git(toplevel, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    commit = done.stdout.decode("ascii", "replace").strip()
    return commit if done.returncode == 0 and commit else None


@dataclass(frozen=True)
class _Entry:
    """One line of `git ls-tree` in the base commit: a file or directory to read from the
    pull request's base, and the object that holds it."""

    mode: str
    kind: str
    object_id: str
    path: str  # from the work tree's top


def _batch(out: bytes, count: int) -> list[tuple[str, bytes] | None]:
    """`git cat-file --batch` output for `count` requests: (type, contents), None if missing."""
    results: list[tuple[str, bytes] | None] = []
    at = 0
    for _ in range(count):
        end = out.index(b"\n", at)
        header = out[at:end]
        at = end + 1
        if header.endswith((b" missing", b" ambiguous")):
            results.append(None)
            continue
        _, kind, size = header.rsplit(b" ", 2)
        results.append((kind.decode("ascii"), out[at:at + int(size)]))
        at += int(size) + 1
    return results


def _blob_id(data: bytes, object_format: str) -> str:
    digest = hashlib.sha256 if object_format == "sha256" else hashlib.sha1
    return digest(b"blob %d\0" % len(data) + data).hexdigest()


# ------------------------------------------------------------------------------- the base


@dataclass
class PolicyBase:
    """The base of a pull request, read with git: its configuration, policies and baseline.

    `config` extracts what the run needs into a temporary directory that `close` removes."""

    ref: str  # as messages name it: origin/main
    commit: str
    toplevel: Path  # the git work tree
    prefix: str  # the run's root below the work tree: "" or "sub/dir/"
    root: Path
    _tree: Path | None = field(default=None, repr=False)
    _codeowners: list[tuple[str, re.Pattern[str], tuple[str, ...]]] | None = field(
        default=None, repr=False)
    _object_format: str | None = field(default=None, repr=False)
    # what `config` read: the base's and the head's configuration file
    config_path: str | None = None  # from the work tree's top, in the base; None: no file
    config_text: str | None = None
    head_path: Path | None = None  # the head's configuration file, when the root has one
    base_config: Config | None = None
    policy_paths: tuple[str, ...] = ()  # the base's policy directories inside the repository

    # ------------------------------------------------------------------------ reading blobs

    def _entries(self, path: str, recursive: bool = False) -> list[_Entry]:
        args = ["ls-tree", "-z", "--full-tree"] + (["-r"] if recursive else [])
        done = _git(self.toplevel, *args, self.commit, "--", path)
        entries: list[_Entry] = []
        for record in done.stdout.split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, kind, object_id = meta.decode("ascii").split()
            entries.append(_Entry(mode, kind, object_id, name.decode("utf-8", "surrogateescape")))
        return entries

    def _blobs(self, object_ids: Sequence[str]) -> dict[str, bytes]:
        """The contents of blobs, by id, in one `git cat-file --batch`."""
        wanted = list(dict.fromkeys(object_ids))
        if not wanted:
            return {}
        out = _git(self.toplevel, "cat-file", "--batch",
                   stdin=("\n".join(wanted) + "\n").encode("ascii")).stdout
        return {object_id: found[1] for object_id, found in zip(wanted, _batch(out, len(wanted)),
                                                                strict=True)
                if found is not None and found[0] == "blob"}

    def read(self, path: str) -> bytes | None:
        """A regular file of the base (from the work tree's top); None when there is none."""
        entries = [e for e in self._entries(path) if e.path == path]
        if not entries or entries[0].kind != "blob":
            return None
        if entries[0].mode == "120000":
            raise TrustError(f"{self.ref}:{path} is a symbolic link: pe-policy reads only "
                             "regular files from the base")
        return self._blobs([entries[0].object_id]).get(entries[0].object_id)

    def read_texts(self, paths: Iterable[str]) -> dict[str, str]:
        """Several files of the base at once (from the work tree's top); missing ones absent."""
        names = [p for p in dict.fromkeys(paths) if p and "\n" not in p]
        if not names:
            return {}
        batch = "".join(f"{self.commit}:{name}\n" for name in names)
        out = _git(self.toplevel, "cat-file", "--batch",
                   stdin=batch.encode("utf-8", "surrogateescape")).stdout
        return {name: found[1].decode("utf-8", "replace")
                for name, found in zip(names, _batch(out, len(names)), strict=True)
                if found is not None and found[0] == "blob"}

    @property
    def object_format(self) -> str:
        if self._object_format is None:
            done = _git(self.toplevel, "rev-parse", "--show-object-format", check=False)
            self._object_format = done.stdout.decode().strip() or "sha1"
        return self._object_format

    # ------------------------------------------------------------------------- the tree

    @property
    def tree(self) -> Path:
        """The temporary directory the base's policy directories are written into."""
        if self._tree is None:
            self._tree = Path(tempfile.mkdtemp(prefix="pe-policy-base-"))
        return self._tree

    def close(self) -> None:
        if self._tree is not None:
            shutil.rmtree(self._tree, ignore_errors=True)
            self._tree = None

    def _extract(self, directory: str) -> Path:
        """The base's `directory` (from the work tree's top), written below the tree.

        Regular files are written; a symbolic link only when it stays inside `directory`
        (one that leaves it, or is absolute, is left out); submodules are left out."""
        target = self.tree / "repo" / directory
        target.mkdir(parents=True, exist_ok=True)
        entries = [e for e in self._entries(directory, recursive=True) if e.kind == "blob"
                   and e.path.startswith(directory.rstrip("/") + "/")]
        blobs = self._blobs([e.object_id for e in entries])
        top = (self.tree / "repo").resolve()
        for entry in entries:
            parts = entry.path.split("/")
            if any(part in ("", ".", "..") for part in parts):
                continue
            dest = self.tree / "repo" / entry.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not dest.parent.resolve().is_relative_to(top):
                continue  # never write through a link
            data = blobs.get(entry.object_id, b"")
            if entry.mode == "120000":
                link = data.decode("utf-8", "surrogateescape")
                landing = posixpath.normpath(posixpath.join(posixpath.dirname(entry.path), link))
                if (not link or posixpath.isabs(link)
                        or not landing.startswith(directory.rstrip("/") + "/")):
                    continue  # a link out of the policy directory is never followed
                os.symlink(link, dest)
                continue
            write_atomic(dest, data)
            if entry.mode == "100755":
                dest.chmod(0o755)
        return target

    # -------------------------------------------------------------------- configuration

    def _git_path(self, path: Path) -> str | None:
        """`path` (absolute, or relative to the current directory) from the work tree's top;
        None outside it.  Links above the work tree are followed (its ancestor that resolves
        to it is found), links inside it never: the head may have planted them."""
        absolute = Path(os.path.abspath(path))
        for ancestor in (absolute, *absolute.parents):
            try:
                at_top = ancestor.resolve() == self.toplevel
            except (OSError, RuntimeError):
                at_top = False
            if at_top:
                relative = absolute.relative_to(ancestor).as_posix()
                return None if relative == "." else relative
        return None

    def _entry_path(self, entry: str) -> str | None:
        """A `policies:` entry from the work tree's top; None when it leaves the repository."""
        if posixpath.isabs(entry):
            return self._git_path(Path(entry))
        relative = posixpath.normpath(self.prefix + entry)
        return None if relative == ".." or relative.startswith("../") else relative

    def config(self, explicit: Path | None = None, *, max_file_bytes: int | None = None
               ) -> Config:
        """The run's configuration, from the base: `explicit` (`--config`) or the root's
        `.pe-policy.yaml`; its policy directories extracted into the tree.  A base without
        the file is the default configuration.  Raises ConfigError (the issues name the ref)
        or TrustError."""
        from pe_policy.config import find_config

        if explicit is not None and self._git_path(explicit) is None:
            # a file outside the repository is not the pull request's to change
            config = load_config(explicit, self.root)
        else:
            if explicit is not None:
                names = [self._git_path(explicit) or ""]
                head = Path(os.path.abspath(explicit))
                self.head_path = head if head.is_file() or head.is_symlink() else None
            else:
                names = [self.prefix + name for name in CONFIG_FILE_NAMES]
                self.head_path = find_config(self.root)
            for name in names:
                data = self.read(name)
                if data is not None:
                    self.config_path, self.config_text = name, data.decode("utf-8", "replace")
                    break
            if self.config_text is None and explicit is not None and self.head_path is None:
                raise ConfigError([ConfigIssue(f"{self.ref}:{names[0]}",
                                               "configuration file not found")])
            config = Config() if self.config_text is None else self._load(self.config_text)
        self.base_config = config
        return config if max_file_bytes is None else replace(config, max_file_bytes=max_file_bytes)

    def _load(self, text: str) -> Config:
        """The base's configuration file (`text`), its policy directories extracted."""
        from pe_policy.loaders.yaml_source import load_yaml

        assert self.config_path is not None
        try:
            data, _ = load_yaml(text, self.config_path)
        except ParseError:
            data = None  # load_config reports it, with its line
        entries = data.get("policies") if isinstance(data, dict) else None
        located: dict[str, Path] = {}
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, str) or entry in located:
                continue
            inside = self._entry_path(entry)
            if inside is None:  # outside the repository: not the pull request's to change
                located[entry] = (self.root / entry).resolve()
                continue
            listed = [e for e in self._entries(inside) if e.path == inside]
            if not listed or listed[0].kind != "tree":
                located[entry] = self.tree / "missing" / inside  # load_config reports it
                continue
            located[entry] = self._extract(inside)
            self.policy_paths += (inside,)
        try:
            config = load_config(self.toplevel / self.config_path, self.root, text=text,
                                 policy_dir=lambda entry: located[entry])
        except ConfigError as exc:
            raise ConfigError([self._issue(i) for i in exc.issues]) from None
        return replace(config, display=f"{self.ref}:{config.display}")

    def _issue(self, issue: ConfigIssue) -> ConfigIssue:
        message = issue.message
        if self._tree is not None:
            message = message.replace(f"{self._tree / 'missing'}/", f"{self.ref}:")
        return replace(issue, path=f"{self.ref}:{issue.path}", message=message)

    def baseline(self, file: Path) -> Baseline:
        """The baseline as the base has it: a pull request cannot accept its own findings by
        adding them.  A file the base does not have accepts nothing; one outside the
        repository is read as it is."""
        from pe_policy.filters import Baseline, BaselineError

        name = self._git_path(file)
        if name is None:
            return Baseline.load(file)
        data = self.read(name)
        if data is None:
            return Baseline(Counter(), file.as_posix())
        copy = self.tree / "baseline" / posixpath.basename(name)
        copy.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(copy, data)
        try:
            loaded = Baseline.load(copy)
        except BaselineError as exc:
            raise BaselineError(str(exc).replace(copy.as_posix(), f"{self.ref}:{name}")) from None
        return replace(loaded, path=file.as_posix())

    # ------------------------------------------------------------------------- CODEOWNERS

    def owners(self, paths: Iterable[str]) -> list[str]:
        """The code owners (base's CODEOWNERS, last matching pattern wins) of `paths`."""
        if self._codeowners is None:
            self._codeowners = []
            texts = self.read_texts(CODEOWNERS_FILES)
            first = next((texts[name] for name in CODEOWNERS_FILES if name in texts), None)
            if first is not None:
                self._codeowners = parse_codeowners(first)
        found: list[str] = []
        for path in paths:
            for owner in owners_of(path, self._codeowners):
                if owner not in found:
                    found.append(owner)
        return found

    # ------------------------------------------------------------------ what the PR changes

    def with_own_rules(self, ruleset: RuleSet, config: Config) -> RuleSet:
        """`ruleset` (a run's selection, `select_rules`) with the rules only a pull-request run
        has (PE-CFG-001), as `config` leaves them on and grades them: the catalog of a run that
        reports one of them."""
        metas = [meta if (severity := config.severity_for(meta.id)) is None
                 else replace(meta, severity=severity)
                 for meta in PULL_REQUEST_RULES
                 if meta.id not in ruleset.catalog and config.rule_enabled(meta.id, internal=True)]
        if not metas:
            return ruleset
        return replace(ruleset, catalog=Catalog([*ruleset.catalog, *metas]))

    def change_findings(self, files: Sequence[CheckedFile], findings: Sequence[Finding],
                        rules: RuleSet, config: Config) -> list[Finding]:
        """PE-CFG-001 findings: what the pull request changes in the gate, compared with the
        base (`config`, and the run's selection `rules`); none when `config` turns it off."""
        own = self.with_own_rules(rules, config).catalog
        meta = own.get(CONFIG_CHANGE_RULE_ID)
        if meta is None:
            return []
        report = _Report(self, meta.severity)
        report.configuration(own)
        report.suppressions(files, findings)
        return report.findings


# ------------------------------------------------------------------------------ CODEOWNERS


def _codeowners_pattern(pattern: str) -> re.Pattern[str]:
    """A CODEOWNERS pattern (gitignore-like) as a regular expression over a path from the
    repository's top: `/` anchors it, `*` stays in one directory, `**` crosses them, a
    directory covers everything below it, `dir/*` only the files directly in it."""
    directory = pattern.endswith("/")
    body = pattern.strip("/")
    anchored = pattern.startswith("/") or "/" in body
    out, i = "", 0
    while i < len(body):
        if body.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif body.startswith("**", i):
            out, i = out + ".*", i + 2
        elif body[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif body[i] == "?":
            out, i = out + "[^/]", i + 1
        elif body[i] == "\\" and i + 1 < len(body):
            out, i = out + re.escape(body[i + 1]), i + 2
        else:
            out, i = out + re.escape(body[i]), i + 1
    last = body.rsplit("/", 1)[-1]
    below = "/.*" if directory else ("" if "*" in last else "(?:/.*)?")
    return re.compile(("" if anchored else "(?:.*/)?") + out + below)


def parse_codeowners(text: str) -> list[tuple[str, re.Pattern[str], tuple[str, ...]]]:
    """(pattern, its expression, owners) for every rule of a CODEOWNERS file, in order."""
    rules: list[tuple[str, re.Pattern[str], tuple[str, ...]]] = []
    for line in text.splitlines():
        words = line.strip().split()
        if not words or words[0].startswith("#"):
            continue
        owners: list[str] = []
        for word in words[1:]:
            if word.startswith("#"):
                break
            owners.append(word)
        rules.append((words[0], _codeowners_pattern(words[0]), tuple(owners)))
    return rules


def owners_of(path: str, rules: Sequence[tuple[str, re.Pattern[str], tuple[str, ...]]]
              ) -> tuple[str, ...]:
    """The owners of `path`: the last matching rule's (which may name none)."""
    owners: tuple[str, ...] = ()
    for _, expression, names in rules:
        if expression.fullmatch(path):
            owners = names
    return owners


# ------------------------------------------------------------------- the PE-CFG-001 report


@dataclass(frozen=True)
class _Change:
    """One way the head's configuration differs from the base's, for PE-CFG-001: each is a
    line of the summary, and one that weakens the gate is also a finding at its key."""

    text: str  # "rules.disable adds PE-WF-002": how the summary names it
    key: JsonPath  # where it is in the head's configuration
    weakens: str = ""  # the finding's message when it weakens the gate ("" when it does not)


def _strings(value: Any) -> list[tuple[int, str]]:
    return [(i, v) for i, v in enumerate(value) if isinstance(v, str)] if isinstance(
        value, list) else []


def _severity(value: Any) -> Severity | None:
    try:
        return Severity.parse(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _head_severity(severities: Mapping[str, Severity], rule_id: str) -> tuple[str, Severity] | None:
    best: tuple[str, Severity] | None = None
    for selector, severity in severities.items():
        if selects(selector, rule_id) and (best is None or len(selector) > len(best[0])):
            best = (selector, severity)
    return best


def configuration_changes(base: Config, base_data: Mapping[str, Any], head: Mapping[str, Any],
                          catalog: Catalog) -> list[_Change]:
    """What the head's configuration (`head`, as parsed) changes compared with the base's:
    weakenings first-class, every other change for the summary."""
    changes: list[_Change] = []
    rules = head.get("rules") if isinstance(head.get("rules"), dict) else {}
    assert isinstance(rules, dict)
    for i, selector in _strings(rules.get("disable")):
        if not any(selects(b, selector) for b in base.disable):
            changes.append(_Change(f"rules.disable adds {selector}", ("rules", "disable", i),
                                   f"disables {selector} (rules.disable)"))
    if "enable" in rules:  # what the base runs that the head's list leaves out
        enabled = [s for _, s in _strings(rules.get("enable"))]
        off = [meta.id for meta in catalog if meta.engine != "internal"
               and not any(selects(s, meta.id) for s in enabled)]
        if off:
            named = ", ".join(off[:3]) + (f" and {len(off) - 3} more" if len(off) > 3 else "")
            changes.append(_Change("rules.enable turns rules off", ("rules", "enable"),
                                   f"turns off {named} (rules.enable)"))
    head_severities = {k: s for k, v in (rules.get("severity") or {}).items()
                       if isinstance(k, str) and (s := _severity(v)) is not None
                       } if isinstance(rules.get("severity"), dict) else {}
    lowered: dict[str, list[str]] = {}
    for meta in catalog:  # at the base's severities, the rules the base runs
        picked = _head_severity(head_severities, meta.id)
        if picked is not None and picked[1].rank < meta.severity.rank:
            lowered.setdefault(picked[0], []).append(
                f"{meta.id} from {meta.severity.value} to {picked[1].value}")
    for selector, what in lowered.items():
        named = ", ".join(what[:3]) + (f" and {len(what) - 3} more" if len(what) > 3 else "")
        changes.append(_Change(f"rules.severity lowers {selector}",
                               ("rules", "severity", selector),
                               f"lowers {named} (rules.severity)"))
    known = {(w.rule.casefold(), w.path): w.expires for w in base.waivers}
    waivers = head.get("waivers")
    for i, waiver in enumerate(waivers if isinstance(waivers, list) else []):
        if not isinstance(waiver, dict):
            continue
        rule, path = str(waiver.get("rule", "")), str(waiver.get("path", ""))
        expires = str(waiver.get("expires", ""))
        try:
            until = date.fromisoformat(expires)
        except ValueError:
            until = date.max
        had = known.get((rule.casefold(), path))
        if had is not None and until <= had:
            continue
        owner = waiver.get("owner")
        by = f", owner {owner}" if isinstance(owner, str) and owner else ""
        if had is None:
            changes.append(_Change(f"waivers adds {rule} on {path!r}", ("waivers", i),
                                   f"adds a waiver of {rule} on {path!r} until {expires}{by} "
                                   "(waivers)"))
        else:
            changes.append(_Change(f"waivers extends {rule} on {path!r}", ("waivers", i),
                                   f"extends the waiver of {rule} on {path!r} from "
                                   f"{had.isoformat()} to {expires}{by} (waivers)"))
    for i, pattern in _strings(head.get("exclude")):
        if pattern not in base.exclude:
            changes.append(_Change(f"exclude adds {pattern!r}", ("exclude", i),
                                   f"excludes {pattern!r} from every check (exclude)"))
    head_policies = [p for _, p in _strings(head.get("policies"))]
    for entry in base_data.get("policies") or [] if isinstance(
            base_data.get("policies"), list) else []:
        if isinstance(entry, str) and entry not in head_policies:
            changes.append(_Change(f"policies drops {entry}", ("policies",),
                                   f"drops the policy directory {entry} (policies)"))
    base_policies = base_data.get("policies") if isinstance(base_data.get("policies"), list) else []
    for i, entry in enumerate(head_policies):
        if entry not in (base_policies or []):
            changes.append(_Change(f"policies adds {entry}", ("policies", i)))
    base_params = base_data.get("params") if isinstance(base_data.get("params"), dict) else {}
    head_params = head.get("params") if isinstance(head.get("params"), dict) else {}
    assert isinstance(base_params, dict) and isinstance(head_params, dict)
    for name in sorted(set(base_params) | set(head_params), key=str):
        if base_params.get(name) != head_params.get(name):
            changes.append(_Change(f"params.{name} changes", ("params", name)))
    for key in ("max_file_bytes", *sorted(k for k in set(head) | set(base_data) if k not in (
            "rules", "waivers", "exclude", "policies", "params", "max_file_bytes"))):
        if head.get(key) != base_data.get(key):
            changes.append(_Change(f"{key} changes", (key,)))
    return changes


class _Report:
    """PE-CFG-001 findings of one run, built from the base and the head."""

    def __init__(self, base: PolicyBase, severity: Severity) -> None:
        self.base = base
        self.severity = severity
        self.findings: list[Finding] = []
        head = base._git_path(base.head_path) if base.head_path is not None else None
        self.head_config = head  # from the work tree's top; None: the head has no file
        config_path = base.config_path or head or base.prefix + CONFIG_FILE_NAMES[0]
        self.config_owners = base.owners([config_path])
        self.config_shown = self._shown(config_path)

    def _shown(self, git_path: str) -> str:
        """A path from the work tree's top as findings name it: from the run's root."""
        if git_path.startswith(self.base.prefix):
            return git_path[len(self.base.prefix):]
        return posixpath.relpath(git_path, self.base.prefix.rstrip("/") or ".")

    def approval(self, owners: Sequence[str] | None = None) -> str:
        owners = self.config_owners if owners is None else owners
        if owners:
            return f"approval by {', '.join(owners)} (CODEOWNERS)"
        return (f"approval by the owners of {self.config_shown} (no CODEOWNERS entry names "
                "them: add one, so that GitHub asks them to review changes to the gate)")

    def add(self, message: str, location: Location, key: JsonPath,
            properties: Mapping[str, Any]) -> None:
        self.findings.append(Finding(
            rule_id=CONFIG_CHANGE_RULE_ID, severity=self.severity, message=message,
            location=location, kind="config", json_path=("pull_request", *key),
            properties={"base": self.base.ref, **properties}))

    # ---------------------------------------------------------------- the configuration

    def configuration(self, catalog: Catalog) -> None:
        """A finding for each weakening the head's configuration adds, at its line, and one
        for the change of the configuration and the policy directories as a whole."""
        from pe_policy.document import SourceMap
        from pe_policy.loaders.yaml_source import load_yaml

        base = self.base
        base_text = base.config_text or ""
        base_data = _parsed(base_text, self.config_shown)[0] if base_text else {}
        head_text, problem = "", ""
        head_data: dict[str, Any] = {}
        spans: dict[JsonPath, Span] = {}
        head_shown = self.config_shown
        if base.head_path is not None and self.head_config is not None:
            head_shown = self._shown(self.head_config)
            head_text, problem = _read_head(base.head_path, base.toplevel, head_shown)
            if not problem:
                try:
                    parsed, spans = load_yaml(head_text, head_shown)
                    head_data = parsed if isinstance(parsed, dict) else {}
                except ParseError as exc:
                    problem = f"cannot be read: {exc.message}"
        changes = (configuration_changes(base.base_config or Config(), base_data, head_data,
                                         catalog) if self.head_config is not None else [])
        source = SourceMap(spans)
        for change in changes:
            if change.weakens:
                span = source.locate(change.key)
                self.add(f"the pull request {change.weakens} in {head_shown}: this run ignores "
                         f"it (the configuration comes from {base.ref}); it takes effect only "
                         f"after merge, with {self.approval()}",
                         Location(head_shown, span.line, span.column),
                         ("config", dotted(change.key)),
                         {"change": change.text, "approvers": list(self.config_owners)})
        parts: list[str] = []
        where: Location | None = None
        changed: list[str] = []
        if self.head_config is None and base.config_text is not None:
            parts.append(f"deletes {self.config_shown}")
            where = Location(self.config_shown, 1)
            changed.append(self.config_shown)
        elif self.head_config is not None and (base.config_text is None or head_text != base_text
                                               or self.head_config != base.config_path):
            added, removed, line = _diff(base_text, head_text)
            what = "; ".join(c.text for c in changes) or problem or "no setting changes"
            verb = "adds" if base.config_text is None else "changes"
            parts.append(f"{verb} {head_shown} (+{added} -{removed} lines: {what})")
            where = Location(head_shown, line)
            changed.append(head_shown)
        files = self._policy_changes(head_data)
        owners = list(self.config_owners)
        if files:
            for owner in base.owners(path for path, _ in files):
                if owner not in owners:
                    owners.append(owner)
            shown = [self._shown(path) for path, _ in files]
            named = ", ".join(shown[:MAX_NAMED_FILES]) + (
                f" and {len(shown) - MAX_NAMED_FILES} more" if len(shown) > MAX_NAMED_FILES
                else "")
            parts.append(named if parts else f"changes {named}")
            changed.extend(shown)
            if where is None:
                where = Location(shown[0], files[0][1])
        if where is None:
            return
        self.add(f"the pull request {' and '.join(parts)}: these take effect only after merge; "
                 f"{self.approval(owners)}", where, ("changes",),
                 {"approvers": owners, "changed": changed})

    def _policy_changes(self, head_data: Mapping[str, Any]) -> list[tuple[str, int]]:
        """(path from the work tree's top, first changed line in the head) of every file of a
        policy directory (the base's, or the head's, inside the repository) that differs."""
        base = self.base
        directories = list(base.policy_paths)
        for _, entry in _strings(head_data.get("policies")):
            inside = base._entry_path(entry)
            if inside is not None and inside not in directories:
                directories.append(inside)
        changed: list[tuple[str, int]] = []
        for directory in directories:
            base_files = {e.path: e for e in base._entries(directory, recursive=True)
                          if e.kind == "blob" and e.path.startswith(directory + "/")
                          and not _skipped(e.path)}
            head_files = _head_files(base.toplevel, directory)
            differing = [path for path in sorted(set(base_files) | set(head_files))
                         if path not in base_files or path not in head_files
                         or _blob_id(head_files[path], base.object_format)
                         != base_files[path].object_id]
            olds = base._blobs([base_files[p].object_id for p in differing
                                if p in base_files and p in head_files])
            for path in differing:
                line = 1
                if path in base_files and path in head_files:
                    old = olds.get(base_files[path].object_id, b"")
                    line = _diff(old.decode("utf-8", "replace"),
                                 head_files[path].decode("utf-8", "replace"))[2]
                changed.append((path, line))
        return changed

    # ------------------------------------------------------------- inline suppressions

    def suppressions(self, files: Sequence[CheckedFile], findings: Sequence[Finding]) -> None:
        """A finding at each inline suppression comment on a line the pull request adds."""
        from pe_policy.filters import MARKER_WORD, scan_suppressions
        from pe_policy.source_lines import SourceLines

        base = self.base
        texts = {f.path: f.text for f in files if f.text is not None}
        lines = SourceLines(base.root, texts)
        scans = {}
        for path in dict.fromkeys([*texts, *(f.location.path for f in findings)]):
            if path.startswith("/") or MARKER_WORD not in lines.text(path):
                continue
            scan = scan_suppressions(path, lines.lines(path))
            if scan.suppressions:
                scans[path] = scan
        if not scans:
            return
        olds = base.read_texts(base.prefix + path for path in scans)
        for path, scan in scans.items():
            added = _added_lines(olds.get(base.prefix + path), lines.lines(path))
            for s in scan.suppressions:
                if s.line not in added:
                    continue
                hits = sorted({(f.rule_id, f.location.line) for f in findings
                               if f.location.path == path and f.location.line in s.targets
                               and f.rule_id.upper() in s.rule_ids})
                effect = ("; it suppresses " + ", ".join(f"{r} on line {n}" for r, n in hits)
                          if hits else "")
                self.add(f"the pull request adds an inline suppression of "
                         f"{', '.join(s.rule_ids)}{effect}: it applies to this run, and needs "
                         f"{self.approval()}",
                         Location(path, s.line, s.column),
                         ("suppression", ",".join(s.rule_ids), s.reason),
                         {"approvers": list(self.config_owners),
                          "suppresses": [r for r, _ in hits]})


def _parsed(text: str, shown: str) -> tuple[dict[str, Any], dict[JsonPath, Span]]:
    from pe_policy.loaders.yaml_source import load_yaml

    try:
        data, spans = load_yaml(text, shown)
    except ParseError:
        return {}, {}
    return (data if isinstance(data, dict) else {}), spans


def _read_head(path: Path, toplevel: Path, shown: str) -> tuple[str, str]:
    """(text, "") of a head file inside the work tree, or ("", why it cannot be read)."""
    from pe_policy.loaders import read_text

    try:
        Path(os.path.realpath(path)).relative_to(toplevel)
    except ValueError:
        return "", "cannot be read: a link out of the repository"
    try:
        return read_text(path, shown, HEAD_MAX_BYTES), ""
    except ParseError as exc:
        return "", f"cannot be read: {exc.message}"


def _skipped(path: str) -> bool:
    return any(part in _SKIPPED_PARTS for part in path.split("/")) or path.endswith(".pyc")


def _head_files(toplevel: Path, directory: str) -> dict[str, bytes]:
    """The files of a policy directory in the work tree (from its top): contents, a link as
    its target (as git stores it); links to directories are not followed."""
    top = toplevel / directory
    files: dict[str, bytes] = {}
    if top.is_symlink() or not top.is_dir():
        return files
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_PARTS)
        for name in sorted(filenames):
            file = Path(dirpath, name)
            relative = file.relative_to(toplevel).as_posix()
            if _skipped(relative):
                continue
            try:
                if file.is_symlink():
                    files[relative] = os.readlink(file).encode("utf-8", "surrogateescape")
                elif file.is_file() and file.stat().st_size <= HEAD_MAX_BYTES:
                    files[relative] = file.read_bytes()
            except OSError:
                files[relative] = b""
        for name in dirnames:  # a link to a directory: git stores the link
            entry = Path(dirpath, name)
            if entry.is_symlink():
                files[entry.relative_to(toplevel).as_posix()] = os.readlink(entry).encode(
                    "utf-8", "surrogateescape")
    return files


def _diff(old: str, new: str) -> tuple[int, int, int]:
    """(lines added, lines removed, first changed line of `new`) from `old` to `new`."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    added = removed = 0
    first = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        added += j2 - j1
        removed += i2 - i1
        if not first:
            first = min(j1 + 1, max(1, len(new.splitlines())))
    return added, removed, first or 1


def _added_lines(old: str | None, new: Sequence[str]) -> set[int]:
    """The 1-based lines of `new` that `old` does not have (all of them for a new file)."""
    if old is None:
        return set(range(1, len(new) + 1))
    matcher = difflib.SequenceMatcher(None, old.splitlines(), list(new), autojunk=False)
    added: set[int] = set()
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag in ("insert", "replace"):
            added.update(range(j1 + 1, j2 + 1))
    return added


__all__ = ["PULL_REQUEST_EVENTS", "PolicyBase", "TrustError", "open_base", "owners_of",
           "parse_codeowners", "pull_request_run"]
