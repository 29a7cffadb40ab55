"""The repository-level facts of the files a run reads but does not check, kept between runs.

A run given one workflow still judges the repository's pipeline (PE-WF-003, PE-WF-009) with
every other workflow of its `.github/workflows` (engine/repository.py): each is read, loaded
into the model and its `document_facts` evaluated, ~1.5 ms a file, so a pre-commit run on one
workflow of a repository of 20 took 0.22 s instead of 0.19 s.  Those other files seldom change
from one run to the next, so their facts are kept in the user cache (cache_dir.py), as Python
keeps bytecode: one file per repository group (a root's `.github/workflows`) and set-up, which
maps each path to the digest of the text its facts were worked out from, and the facts.

The set-up is in the file's name, so a change of any of it starts a new file: pe-policy's
own code and the libraries that parse and evaluate (their files' sizes and modification
times), every Rego module of the run (its path and text), the run's data (`params`), the root
and the group.  The text is in the entry: a file whose text changed is loaded and evaluated
again.  Only facts are kept, never findings: the run's inputs are always evaluated, and the
repository is judged every run from the facts.

The file is read only when it is a regular file owned by this user that no one else may write
(the rule compile_cache.py applies to its own file), and written with mode 0600; one that is
torn, foreign or not ours is ignored and the facts are worked out again.  A file not written
for a month goes when a new one is written (STALE_SECONDS).
`PE_POLICY_CACHE_DIR` set to an empty value turns it off with the rest of the cache.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pe_policy.cache_dir import cache_directory, read_trusted

FORMAT = "facts-1"
# A cache file not written for this long goes when another is written: the files of a former
# set-up (an upgrade, an edited policy) are never read again.  A repository whose workflows
# stayed the same that long has its facts worked out once more.
STALE_SECONDS = 30 * 24 * 3600
# Besides pe-policy itself, what turns a file into facts: the parsers and the engine (their
# compiled parts: an upgrade rewrites them)
PARSING_MODULES = ("yaml", "yaml._yaml", "tree_sitter._binding", "tree_sitter_bash._binding",
                   "pydantic_core._pydantic_core", "regorus.regorus")


@functools.cache
def code_fingerprint() -> bytes:
    """pe-policy's source files and the parsing libraries' files, by size and time: what a
    new version, an edit or an upgrade of them changes."""
    import pe_policy

    files = sorted(str(path) for path in Path(pe_policy.__file__).parent.rglob("*.py"))
    for name in PARSING_MODULES:  # loaded by now: the run has loaded and evaluated a file
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None) if module is not None else None
        files.append(origin or f"<{name} not loaded>")  # the key differs: a miss, never stale
    digest = hashlib.blake2b(FORMAT.encode(), digest_size=20)
    for file in files:
        try:
            info = os.stat(file)
            digest.update(f"{file}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
        except OSError:
            digest.update(f"{file}\0-\n".encode())
    return digest.digest()


def text_digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


class FactsCache:
    """The kept facts of one repository group: `get` before loading a file, `put` after
    evaluating it, `save` once the group is done."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self.entries: dict[str, list[Any]] = _read(file) if file is not None else {}
        self.changed = False

    @classmethod
    def for_group(cls, modules: Iterable[tuple[str, str]], data: Any, root: Path,
                  kind: str, group: str) -> FactsCache:
        """The cache of `group` (of `kind`, under `root`) for a run of these Rego modules
        ((path, text) each) and this data; one that keeps nothing without a cache directory."""
        directory = cache_directory()
        if directory is None:
            return cls(None)
        digest = hashlib.blake2b(code_fingerprint(), digest_size=20)
        for path, text in sorted(modules):
            digest.update(f"{path}\0{len(text)}\0".encode())
            digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(json.dumps(data, sort_keys=True, default=str).encode())
        digest.update(f"\0{root.resolve()}\0{kind}\0{group}".encode("utf-8", "surrogatepass"))
        return cls(Path(directory) / "facts" / f"{digest.hexdigest()}.json")

    def get(self, path: str, text: str) -> dict[str, Any] | None:
        entry = self.entries.get(path)
        if (isinstance(entry, list) and len(entry) == 2 and entry[0] == text_digest(text)
                and isinstance(entry[1], dict)):
            return entry[1]
        return None

    def put(self, path: str, text: str, facts: dict[str, Any]) -> None:
        if self.file is not None:
            self.entries[path] = [text_digest(text), facts]
            self.changed = True

    def save(self, paths: Iterable[str]) -> None:
        """Keep the entries of `paths` (the group's files now: a deleted file's goes)."""
        if self.file is None:
            return
        kept = {path: self.entries[path] for path in paths if path in self.entries}
        if not self.changed and kept.keys() == self.entries.keys():
            return
        from pe_policy.output import write_atomic

        with contextlib.suppress(OSError, ValueError):  # read-only or full disk: next time
            self.file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            new = not self.file.exists()
            write_atomic(self.file, json.dumps(kept), mode=0o600)
            if new:  # a new set-up or repository: the time to let the old files go
                _sweep(self.file.parent, keep=self.file)


def _sweep(directory: Path, keep: Path) -> None:
    limit = time.time() - STALE_SECONDS
    for file in directory.glob("*.json"):
        with contextlib.suppress(OSError):
            if file != keep and file.stat().st_mtime < limit:
                file.unlink()


def _read(file: Path) -> dict[str, list[Any]]:
    data = read_trusted(str(file))
    if data is None:
        return {}
    try:
        table = json.loads(data)
    except ValueError:  # torn or not ours: worked out again
        return {}
    return table if isinstance(table, dict) else {}
