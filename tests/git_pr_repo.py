"""Real git repositories shaped like a pull request branch, for the git-range loader and rules.

The branch `gateway/PE-12-bootstrap-fastapi` holds, oldest first: a commit
signed with a throwaway SSH key, an unsigned commit, and a merge of `main`.
Whether git can check the signature is the caller's choice (`allowed_signers`),
because git reports an SSH signature it cannot check as `N`, like no signature.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

BRANCH = "gateway/PE-12-bootstrap-fastapi"
SIGNER = "mara@plasma-engine.dev"

# no user or system configuration (commit.gpgsign, hooks...) leaks into the tests
ISOLATED_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


@dataclass(frozen=True)
class PrRepo:
    path: Path
    base: str  # main's first commit
    signed: str
    unsigned: str
    merge: str  # head of the branch: merges `main_side` in
    main_side: str


def isolate_git(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ISOLATED_ENV.items():
        monkeypatch.setenv(name, value)


def git(repo: Path, *args: str, when: int = 0) -> str:
    stamp = f"@{1_741_600_000 + when * 60} +0000"  # commit order = log order
    env = {**os.environ, **ISOLATED_ENV, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env,
                          check=True, timeout=30)
    return done.stdout.strip()


def commit(repo: Path, name: str, message: str, when: int, *flags: str) -> str:
    (repo / name).write_text(f"{message}\n", encoding="utf-8")
    git(repo, "add", name)
    git(repo, "-c", "commit.gpgsign=false", "commit", "-q", *flags, "-m", message, when=when)
    return git(repo, "rev-parse", "HEAD")


def make_pr_repo(directory: Path, *, allowed_signers: bool = True) -> PrRepo:
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / "signing_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", SIGNER, "-f", str(key)],
                   check=True, capture_output=True, timeout=30)
    public = (directory / "signing_key.pub").read_text(encoding="utf-8").split()
    repo = directory / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for name, value in (("user.name", "Mara Okafor"), ("user.email", SIGNER),
                        ("gpg.format", "ssh"), ("user.signingkey", str(key))):
        git(repo, "config", name, value)
    if allowed_signers:
        signers = directory / "allowed_signers"
        signers.write_text(f'{SIGNER} namespaces="git" {public[0]} {public[1]}\n', encoding="utf-8")
        git(repo, "config", "gpg.ssh.allowedSignersFile", str(signers))
    base = commit(repo, "README.md", "chore: initial commit", 0)
    git(repo, "checkout", "-q", "-b", BRANCH)
    signed = commit(repo, "app.py", "feat(gateway): FastAPI app factory", 1, "-S")
    unsigned = commit(repo, "health.py", "feat(gateway): health endpoint", 2)
    git(repo, "checkout", "-q", "main")
    main_side = commit(repo, "CODEOWNERS", "chore: add CODEOWNERS", 3)
    git(repo, "checkout", "-q", BRANCH)
    git(repo, "-c", "commit.gpgsign=false", "merge", "-q", "--no-ff", "-m",
        "Merge branch 'main' into " + BRANCH, "main", when=4)
    merge = git(repo, "rev-parse", "HEAD")
    return PrRepo(repo, base, signed, unsigned, merge, main_side)
