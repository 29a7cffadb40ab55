"""PE-PR-001: every commit in the pull request carries a verified signature."""

from __future__ import annotations

from collections.abc import Iterator

from pe_policy.engine.python_rules import RuleContext, Violation, rule
from pe_policy.findings import Severity
from pe_policy.models.pull_request import PullRequest, SignatureStatus


@rule(
    "PE-PR-001",
    severity="high",
    kinds=["pull_request"],
    title="Every commit is signed and verified",
    description=(
        "Branch protection requires signed commits: a verified signature proves the commit was "
        "made by the holder of a key registered to its author, not by someone who merely set "
        "`user.email`. An unsigned commit, or one whose signature GitHub (or git) cannot verify, "
        "blocks the merge."
    ),
    remediation=(
        "Sign the commits and force-push: `git rebase --exec 'git commit --amend --no-edit -S' "
        "origin/main` then `git push --force-with-lease`. For an unverified signature, add the "
        "signing key to the author's GitHub account (Settings, SSH and GPG keys, as a signing "
        "key) and make sure the commit e-mail is one of the account's verified addresses."
    ),
    source="seed 002 (branch protection: require signed commits)",
)
def signed_commits(pr: PullRequest, ctx: RuleContext) -> Iterator[Violation]:
    unchecked: list[str] = []
    for index, commit in enumerate(pr.commits or []):
        status = commit.signature.status
        reason = f" (reason: {commit.signature.reason})" if commit.signature.reason else ""
        if status is SignatureStatus.UNSIGNED:
            yield Violation(
                f"commit {commit.describe()} is not signed: sign it (git commit -S) and "
                "force-push the branch",
                ("commits", index, "signature"),
            )
        elif status is SignatureStatus.UNVERIFIED:
            yield Violation(
                f"commit {commit.describe()} has a signature that could not be verified{reason}: "
                "register the signing key with the author's account, or re-sign the commit",
                ("commits", index, "signature"),
            )
        elif status is SignatureStatus.UNKNOWN:
            unchecked.append(f"{commit.short_sha}{reason}")
    whole = pr.not_evaluable("commits", "commit_signatures")
    if whole is not None:
        yield Violation(whole, ("commits",), severity=Severity.INFO)
    elif unchecked:
        yield Violation(
            f"could not verify the signatures of commits {', '.join(unchecked)}",
            ("commits",),
            severity=Severity.INFO,
        )
