"""Pull requests: one model for the three ways a PR reaches pe-policy.

A GitHub event payload, `gh pr view --json` output and a local git range
each know different things about a pull request.  The loader normalises all
three into `PullRequest`; what an input does not carry stays `None` and is
listed in `unknown` with a hint saying how to supply it, so a rule can say
"could not be evaluated" instead of passing on an invented empty list.

Checklist parsing (the loader's) lives here; what only the rules share
(latest review per reviewer, latest check per context, bot detection) lives
beside them, in `policies/pull_request/lib/`.
"""

from __future__ import annotations

import enum
import re

from pydantic import BaseModel, ConfigDict, Field, computed_field


class PullRequestSource(str, enum.Enum):
    """Which input shape the PR was read from."""

    EVENT = "event"  # $GITHUB_EVENT_PATH, optionally enriched with REST lists
    GH = "gh"  # `gh pr view --json ...`
    GIT = "git"  # a local commit range


class SignatureStatus(str, enum.Enum):
    VERIFIED = "verified"
    UNVERIFIED = "unverified"  # signed, but the signature is bad, expired, revoked or unknown key
    UNSIGNED = "unsigned"
    UNKNOWN = "unknown"  # the input does not say, or the signature could not be checked


class ReviewerType(str, enum.Enum):
    BOT = "bot"
    HUMAN = "human"
    UNKNOWN = "unknown"  # gh does not say whether a reviewer is a bot


class CheckSource(str, enum.Enum):
    CHECK_RUN = "check_run"
    COMMIT_STATUS = "commit_status"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)


class Signature(_Model):
    status: SignatureStatus = Field(description="Verified, unverified, unsigned or unknown.")
    reason: str | None = Field(
        default=None,
        description="GitHub's `verification.reason` (`valid`, `unsigned`, `unknown_key`...) or "
        "git's `%G?` verdict in words.",
    )
    signer: str | None = Field(default=None, description="Signer identity (git `%GS`).")
    key: str | None = Field(default=None, description="Signing key fingerprint (git `%GK`).")


class Commit(_Model):
    sha: str = Field(description="Full commit SHA.")
    subject: str | None = Field(default=None, description="First line of the commit message.")
    author: str | None = Field(default=None, description="GitHub login when known, else the author name.")
    parents: list[str] | None = Field(
        default=None, description="Parent SHAs; null when the input does not list them (gh)."
    )
    signature: Signature = Field(
        default_factory=lambda: Signature(status=SignatureStatus.UNKNOWN),
        description="Signature verification state.",
    )

    @property
    def short_sha(self) -> str:
        return self.sha[:12]

    def describe(self) -> str:
        """`abc123def456 ("subject")`: what messages call a commit."""
        if self.subject:
            return f'{self.short_sha} ("{_shorten(self.subject)}")'
        return self.short_sha


class Review(_Model):
    author: str | None = Field(default=None, description="Reviewer login.")
    author_type: ReviewerType = Field(default=ReviewerType.UNKNOWN, description="Bot or human.")
    state: str = Field(
        description="APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING (upper case)."
    )
    commit_id: str | None = Field(default=None, description="The commit the review was made on.")
    submitted_at: str | None = Field(default=None, description="ISO 8601 submission time.")


class StatusCheck(_Model):
    name: str = Field(description="Check run name or commit status context.")
    source: CheckSource = Field(description="A check run or a commit status.")
    status: str = Field(
        default="completed",
        description="queued, in_progress, completed ... (lower case; commit statuses: completed "
        "unless pending).",
    )
    conclusion: str | None = Field(
        default=None,
        description="success, failure, neutral, skipped, cancelled, timed_out, action_required, "
        "stale, error, pending (lower case); null while a check run is not completed.",
    )
    commit_sha: str | None = Field(default=None, description="The commit the check ran on.")
    updated_at: str | None = Field(default=None, description="ISO 8601 time of the latest update.")
    url: str | None = Field(default=None, description="Details page.")

    @property
    def passed(self) -> bool:
        """GitHub's rule for required checks: success, neutral and skipped all let a PR merge."""
        return self.status == "completed" and self.conclusion in PASSING_CONCLUSIONS

    @property
    def pending(self) -> bool:
        return self.status != "completed" or self.conclusion in (None, "pending", "expected")


PASSING_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})


class ChecklistItem(_Model):
    text: str = Field(description="The item's text after the checkbox.")
    checked: bool = Field(description="Whether the box is ticked (`[x]`).")
    line: int = Field(description="1-based line of the item within the PR body.")
    raw: str = Field(description="The item's line as written, for locating it in the input file.")


class PullRequest(_Model):
    """A pull request as the PR rules see it, whichever input it came from."""

    source: PullRequestSource = Field(description="event, gh or git.")
    number: int | None = Field(default=None, description="PR number.")
    url: str | None = Field(default=None, description="PR web page.")
    title: str | None = Field(default=None, description="PR title.")
    body: str | None = Field(default=None, description="PR description (markdown); '' when empty.")
    checklist: list[ChecklistItem] | None = Field(
        default=None, description="Task-list items (`- [ ]` / `- [x]`) found in the body."
    )
    head_ref: str | None = Field(default=None, description="Head branch name.")
    head_sha: str | None = Field(default=None, description="Head commit SHA (the latest commit).")
    base_ref: str | None = Field(default=None, description="Base branch name.")
    author: str | None = Field(default=None, description="Login of the PR's author.")
    labels: list[str] | None = Field(default=None, description="Label names.")
    commits: list[Commit] | None = Field(default=None, description="The PR's commits, oldest first.")
    commit_count: int | None = Field(
        default=None, description="How many commits the platform says the PR has."
    )
    reviews: list[Review] | None = Field(default=None, description="Reviews, oldest first.")
    checks: list[StatusCheck] | None = Field(
        default=None, description="Check runs and commit statuses reported for the PR."
    )
    check_sources: list[CheckSource] = Field(
        default_factory=list, description="Which kinds of checks the input supplied."
    )

    @computed_field(description="Fields the input does not carry, each with how to supply it.")  # type: ignore[prop-decorator]
    @property
    def unknown(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in _UNKNOWABLE:
            if getattr(self, name) is None:
                out[name] = unknown_hint(name, self.source)
        if self.commits:
            if all(c.signature.status is SignatureStatus.UNKNOWN for c in self.commits):
                out["commit_signatures"] = unknown_hint("commit_signatures", self.source)
            if all(c.parents is None for c in self.commits):
                out["commit_parents"] = unknown_hint("commit_parents", self.source)
        if (self.commits is not None and self.commit_count is not None
                and self.commit_count > len(self.commits)):
            out["commits"] = (
                f"the input lists {len(self.commits)} of the PR's {self.commit_count} commits: "
                "fetch every page of GET /repos/{owner}/{repo}/pulls/{number}/commits "
                "(`gh api --paginate`)"
            )
        return out

    def not_evaluable(self, *fields: str) -> str | None:
        """'not evaluated: <how to supply it>' for the first unknown field, or None."""
        unknown = self.unknown
        for name in fields:
            if name in unknown:
                return f"could not be evaluated: {unknown[name]}"
        return None


_UNKNOWABLE = ("number", "url", "title", "body", "checklist", "head_ref", "head_sha", "base_ref",
               "author", "labels", "commits", "reviews", "checks")

_GH_FIELD = {"number": "number", "url": "url", "title": "title", "body": "body",
             "checklist": "body", "head_ref": "headRefName", "head_sha": "headRefOid",
             "base_ref": "baseRefName", "author": "author", "labels": "labels",
             "commits": "commits", "reviews": "reviews", "checks": "statusCheckRollup"}

_EVENT_HINTS = {
    "commits": "the event payload has no commit list: add `commits` (GET /repos/{owner}/{repo}/"
    "pulls/{number}/commits) to it, or check the branch with `--git-range`",
    "reviews": "the event payload has no reviews: add `reviews` (GET /repos/{owner}/{repo}/pulls/"
    "{number}/reviews) to it, or use `gh pr view --json reviews,...`",
    "checks": "the event payload has no checks: add `check_runs` (GET /repos/{owner}/{repo}/"
    "commits/{sha}/check-runs) and `statuses` (.../commits/{sha}/statuses) to it, or use "
    "`gh pr view --json statusCheckRollup,...`",
}
_COMMIT_HINTS = {
    (PullRequestSource.GH, "commit_signatures"): "gh does not report commit signatures: add each "
    "commit's REST `verification` object (GET /repos/{owner}/{repo}/pulls/{number}/commits), "
    "or check the branch with `--git-range`",
    (PullRequestSource.GH, "commit_parents"): "gh does not report commit parents, and the "
    "repository checked does not hold these commits: fetch the branch (`gh pr checkout "
    "<number>`) and check again, add each commit's REST `parents`, or check the branch with "
    "`--git-range`",
    (PullRequestSource.EVENT, "commit_signatures"): "the `commits` list carries no "
    "`commit.verification`: pass the REST list GET /repos/{owner}/{repo}/pulls/{number}/commits "
    "as is",
    (PullRequestSource.EVENT, "commit_parents"): "the `commits` list carries no `parents`: pass "
    "the REST list GET /repos/{owner}/{repo}/pulls/{number}/commits as is",
}


def unknown_hint(name: str, source: PullRequestSource) -> str:
    """How to make `name` known, for the input shape at hand."""
    if name in ("commit_signatures", "commit_parents"):
        return _COMMIT_HINTS.get((source, name), f"the input does not carry {name.replace('_', ' ')}")
    if source is PullRequestSource.GIT and name == "head_ref":
        return ("the head of the git range is not a branch (a detached HEAD or a SHA): name the "
                "branch in the range (origin/main..my-branch) or pass the event payload with `--pr`")
    if source is PullRequestSource.GIT:
        return (f"a git range has no PR {name.replace('_', ' ')}: pass the event payload or "
                "`gh pr view --json` output with `--pr`")
    if source is PullRequestSource.GH:
        return f"the gh output has no `{_GH_FIELD[name]}`: add it to `gh pr view --json`"
    if name in _EVENT_HINTS:
        return _EVENT_HINTS[name]
    return f"the event payload's `pull_request` has no {name.replace('_', ' ')}"


# --- checklist parsing (used by the loader) --------------------------------------------------

_TASK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[(?P<mark>[ xX])\]\s+(?P<text>.*?)\s*$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def parse_checklist(body: str) -> list[ChecklistItem]:
    """Task-list items in a markdown body, skipping fenced code and HTML comments.

    PR templates often keep instructions inside `<!-- -->`; a box in there is
    not part of the checklist the author filled in.
    """
    items: list[ChecklistItem] = []
    fence: str | None = None
    in_comment = False
    for number, line in enumerate(body.splitlines(), start=1):
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            continue
        if in_comment:
            if "-->" in line:
                in_comment = False
                line = line.split("-->", 1)[1]
            else:
                continue
        line = re.sub(r"<!--.*?-->", "", line)
        if "<!--" in line:
            in_comment = True
            line = line.split("<!--", 1)[0]
        fenced = _FENCE.match(line)
        if fenced:
            fence = fenced.group(1)[:3]
            continue
        match = _TASK.match(line)
        if match and match.group("text"):
            items.append(ChecklistItem(text=match.group("text"), checked=match.group("mark") != " ",
                                       line=number, raw=line.strip()))
    return items


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
