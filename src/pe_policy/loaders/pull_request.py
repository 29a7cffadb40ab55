"""Pull requests from a GitHub event payload, `gh pr view --json` output, or a git range.

All three become one `PullRequest` model (see `models/pull_request.py`).  The
model is not the file's shape, so Rego sees the model dump and the source map
is built for the dump's paths: the loader records, for each model node, the
node of the input file it came from, and positions are looked up (with the
YAML parser: JSON is YAML) only when a finding needs a line.

A git range has no file at all: its document is named `git:<range>` and every
rule message names the commit it is about.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pe_policy.document import Document, SourceMap, Span
from pe_policy.findings import JsonPath, ParseError
from pe_policy.loaders import NotOfKind, Source, load_file
from pe_policy.loaders.generic import parse_json
from pe_policy.loaders.yaml_source import load_yaml
from pe_policy.models.pull_request import (
    CheckSource,
    PullRequest,
    PullRequestSource,
    ReviewerType,
    SignatureStatus,
    parse_checklist,
)

KIND = "pull_request"

# keys only `gh pr view --json` output has (camelCase GraphQL names)
GH_KEYS = frozenset({"headRefName", "baseRefName", "headRefOid", "statusCheckRollup",
                     "reviewDecision", "mergeStateStatus", "isDraft", "latestReviews"})
# every field `gh pr view --json` can print (gh's api.PullRequestFields): its output has
# these keys and no other
GH_FIELDS = GH_KEYS | frozenset({
    "additions", "assignees", "author", "autoMergeRequest", "baseRefOid", "body", "changedFiles",
    "closed", "closedAt", "closingIssuesReferences", "comments", "commits", "createdAt",
    "deletions", "files", "fullDatabaseId", "headRepository", "headRepositoryOwner", "id",
    "isCrossRepository", "labels", "maintainerCanModify", "mergeCommit", "mergeable", "mergedAt",
    "mergedBy", "milestone", "number", "potentialMergeCommit", "projectCards", "projectItems",
    "reactionGroups", "reviewRequests", "reviews", "state", "title", "updatedAt", "url"})
# what the fields that identify a pull request must be, in either shape
_GH_TYPES: dict[str, type] = {"number": int, "title": str, "url": str, "headRefName": str,
                              "baseRefName": str, "headRefOid": str}
_REF_TYPES: dict[str, type] = {"ref": str, "sha": str}
# what gh prints as arrays; a GraphQL node of a pull request has connections
# (`{"nodes": [...]}`) there, and is not gh's output
_GH_ARRAYS: dict[str, type] = dict.fromkeys(
    ("assignees", "comments", "commits", "files", "labels", "latestReviews", "projectCards",
     "reviewRequests", "reviews", "statusCheckRollup"), list)

Origins = dict[JsonPath, JsonPath]  # model path -> path in the input file


# --- reading untrusted JSON ------------------------------------------------------------------


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def dotted(path: JsonPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "document"


def _clean(text: str) -> str:
    """Lone surrogates (`"\\ud800"` is valid JSON) cannot be encoded, so no engine could read them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


class _Input:
    """The parsed file, with typed getters that fail at the offending line."""

    def __init__(self, source: Source, data: Any) -> None:
        self.source = source
        self.data = data

    @cached_property
    def spans(self) -> dict[JsonPath, Span]:
        try:
            return load_yaml(self.source.text, self.source.path)[1]
        except ParseError:
            return {}

    def fail(self, path: JsonPath, message: str) -> ParseError:
        span = SourceMap(self.spans).locate(path)
        return ParseError(self.source.path, message, span.line, span.column)

    def _get(self, node: dict[str, Any], path: JsonPath, key: str, types: tuple[type, ...],
             what: str, required: bool) -> Any:
        value = node.get(key)
        if value is None:
            if required:
                raise self.fail(path, f"`{dotted(path)}` has no `{key}` ({what} expected)")
            return None
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise self.fail((*path, key),
                            f"`{dotted((*path, key))}` must be {what}, found {_type_name(value)}")
        return value

    def text(self, node: dict[str, Any], path: JsonPath, key: str, required: bool = False
             ) -> str | None:
        value = self._get(node, path, key, (str,), "a string", required)
        return None if value is None else _clean(value)

    def need_text(self, node: dict[str, Any], path: JsonPath, key: str) -> str:
        return self.text(node, path, key, required=True) or ""

    def integer(self, node: dict[str, Any], path: JsonPath, key: str) -> int | None:
        value: int | None = self._get(node, path, key, (int,), "an integer", False)
        return value

    def flag(self, node: dict[str, Any], path: JsonPath, key: str) -> bool | None:
        value: bool | None = self._get(node, path, key, (bool,), "true or false", False)
        return value

    def mapping(self, node: dict[str, Any], path: JsonPath, key: str, required: bool = False
                ) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self._get(node, path, key, (dict,), "an object", required)
        return value

    def array(self, node: dict[str, Any], path: JsonPath, key: str, required: bool = False
              ) -> list[Any] | None:
        value: list[Any] | None = self._get(node, path, key, (list,), "an array", required)
        return value

    def obj(self, value: Any, path: JsonPath) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"`{dotted(path)}` must be an object, found {_type_name(value)}")
        return value

    def items(self, values: list[Any], path: JsonPath) -> list[tuple[JsonPath, dict[str, Any]]]:
        """(path, object) for each element of an array of objects."""
        return [((*path, index), self.obj(item, (*path, index))) for index, item in enumerate(values)]

    def login(self, node: dict[str, Any], path: JsonPath, key: str) -> str | None:
        """`{"login": ...}` under `key` (GitHub users, gh authors); null for deleted accounts."""
        user = self.mapping(node, path, key)
        return None if user is None else self.text(user, (*path, key), "login")


def _subject(message: str | None) -> str | None:
    return message.split("\n", 1)[0].strip() if message else message


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None


_ZERO_TIME = "0001-01-01T00:00:00Z"  # gh prints Go's zero time for "never"


def _when(*values: str | None) -> str | None:
    return next((v for v in values if v and v != _ZERO_TIME), None)


# --- pieces shared by the REST and gh shapes ------------------------------------------------

_UNKNOWN_REASONS = frozenset({"gpgverify_unavailable", "ocsp_pending", "ocsp_error"})


def _signature(inp: _Input, verification: dict[str, Any], path: JsonPath) -> dict[str, Any]:
    """GitHub's `verification {verified, reason}` as a signature state."""
    verified = inp.flag(verification, path, "verified")
    reason = inp.text(verification, path, "reason")
    if verified:
        status = SignatureStatus.VERIFIED
    elif reason == "unsigned":
        status = SignatureStatus.UNSIGNED
    elif reason in _UNKNOWN_REASONS or verified is None:
        status = SignatureStatus.UNKNOWN  # GitHub could not check it just then
    else:
        status = SignatureStatus.UNVERIFIED
    return {"status": status, "reason": reason}


def _parents(inp: _Input, commit: dict[str, Any], path: JsonPath) -> list[str] | None:
    """REST `parents: [{sha}]`; also `{oid}` or bare SHAs when someone enriched gh output."""
    values = inp.array(commit, path, "parents")
    if values is None:
        return None
    shas = []
    for index, value in enumerate(values):
        if isinstance(value, str):
            shas.append(_clean(value))
            continue
        item_path = (*path, "parents", index)
        item = inp.obj(value, item_path)
        sha = inp.text(item, item_path, "sha") or inp.text(item, item_path, "oid")
        if sha is None:
            raise inp.fail(item_path, f"`{dotted(item_path)}` has no `sha`")
        shas.append(sha)
    return shas


def _rest_commit(inp: _Input, item: dict[str, Any], path: JsonPath, index: int,
                 origins: Origins) -> dict[str, Any]:
    """An element of GET /repos/{o}/{r}/pulls/{n}/commits."""
    inner = inp.mapping(item, path, "commit") or {}
    inner_path = (*path, "commit")
    name = None
    inner_author = inp.mapping(inner, inner_path, "author")
    if inner_author is not None:
        name = inp.text(inner_author, (*inner_path, "author"), "name")
    out: dict[str, Any] = {
        "sha": inp.need_text(item, path, "sha"),
        "subject": _subject(inp.text(inner, inner_path, "message")),
        "author": inp.login(item, path, "author") or name,
        "parents": _parents(inp, item, path),
    }
    origins[("commits", index)] = (*path, "sha")
    origins[("commits", index, "parents")] = (*path, "parents")
    verification = inp.mapping(inner, inner_path, "verification")
    verification_path = (*inner_path, "verification")
    if verification is None:  # some tools flatten it onto the commit
        verification = inp.mapping(item, path, "verification")
        verification_path = (*path, "verification")
    if verification is not None:
        out["signature"] = _signature(inp, verification, verification_path)
        origins[("commits", index, "signature")] = verification_path
    return out


def _gh_commit(inp: _Input, item: dict[str, Any], path: JsonPath, index: int,
               origins: Origins) -> dict[str, Any]:
    """An element of gh's `commits`: no signature or parents unless someone added the REST ones."""
    author = None
    authors = inp.array(item, path, "authors")
    if authors:
        first_path, first = inp.items(authors, (*path, "authors"))[0]
        author = inp.text(first, first_path, "login") or inp.text(first, first_path, "name")
    out: dict[str, Any] = {
        "sha": inp.text(item, path, "oid") or inp.need_text(item, path, "sha"),
        "subject": inp.text(item, path, "messageHeadline"),
        "author": author,
        "parents": _parents(inp, item, path),
    }
    origins[("commits", index)] = (*path, "oid") if "oid" in item else (*path, "sha")
    origins[("commits", index, "parents")] = (*path, "parents")
    verification = inp.mapping(item, path, "verification")
    if verification is not None:
        out["signature"] = _signature(inp, verification, (*path, "verification"))
        origins[("commits", index, "signature")] = (*path, "verification")
    return out


def _review_origins(origins: Origins, index: int, path: JsonPath, commit_key: JsonPath) -> None:
    origins[("reviews", index)] = (*path, "state")
    origins[("reviews", index, "commit_id")] = (*path, *commit_key)


def _rest_review(inp: _Input, item: dict[str, Any], path: JsonPath, index: int,
                 origins: Origins) -> dict[str, Any]:
    """An element of GET /repos/{o}/{r}/pulls/{n}/reviews."""
    user = inp.mapping(item, path, "user")
    login = user_type = None
    if user is not None:
        login = inp.text(user, (*path, "user"), "login")
        user_type = inp.text(user, (*path, "user"), "type")
    kind = ReviewerType.UNKNOWN
    if user_type == "Bot" or (login or "").lower().endswith("[bot]"):
        kind = ReviewerType.BOT
    elif user_type in ("User", "Organization"):
        kind = ReviewerType.HUMAN
    _review_origins(origins, index, path, ("commit_id",))
    return {
        "author": login,
        "author_type": kind,
        "state": inp.need_text(item, path, "state").upper(),
        "commit_id": inp.text(item, path, "commit_id"),
        "submitted_at": inp.text(item, path, "submitted_at"),
    }


def _gh_review(inp: _Input, item: dict[str, Any], path: JsonPath, index: int,
               origins: Origins) -> dict[str, Any]:
    """An element of gh's `reviews`: bots appear without `[bot]`, so the type is often unknown."""
    login = inp.login(item, path, "author")
    commit = inp.mapping(item, path, "commit")
    _review_origins(origins, index, path, ("commit", "oid"))
    return {
        "author": login,
        "author_type": ReviewerType.BOT if (login or "").lower().endswith("[bot]")
        else ReviewerType.UNKNOWN,
        "state": inp.need_text(item, path, "state").upper(),
        "commit_id": None if commit is None else inp.text(commit, (*path, "commit"), "oid"),
        "submitted_at": _when(inp.text(item, path, "submittedAt")),
    }


def _check_origins(origins: Origins, index: int, path: JsonPath, name: str, conclusion: str,
                   sha: str | None) -> None:
    """A check's name, verdict and commit; a commit status has one `state` for status and verdict."""
    origins[("checks", index)] = (*path, name)
    origins[("checks", index, "conclusion")] = (*path, conclusion)
    origins[("checks", index, "status")] = (*path, "status" if conclusion == "conclusion" else "state")
    if sha:
        origins[("checks", index, "commit_sha")] = (*path, sha)


def _rest_check_run(inp: _Input, item: dict[str, Any], path: JsonPath, index: int,
                    origins: Origins) -> dict[str, Any]:
    _check_origins(origins, index, path, "name", "conclusion", "head_sha")
    return {
        "name": inp.need_text(item, path, "name"),
        "source": CheckSource.CHECK_RUN,
        "status": _lower(inp.text(item, path, "status")) or "completed",
        "conclusion": _lower(inp.text(item, path, "conclusion")),
        "commit_sha": inp.text(item, path, "head_sha"),
        "updated_at": _when(inp.text(item, path, "completed_at"),
                            inp.text(item, path, "started_at")),
        "url": inp.text(item, path, "html_url") or inp.text(item, path, "details_url"),
    }


_STATUS_URL_SHA = re.compile(r"/statuses/([0-9a-fA-F]{40})\b")


def _rest_status(inp: _Input, item: dict[str, Any], path: JsonPath, index: int,
                 origins: Origins, sha: str | None) -> dict[str, Any]:
    """A commit status; its SHA comes from the combined status object or the status's `url`."""
    state = _lower(inp.text(item, path, "state"))
    if sha is None:
        match = _STATUS_URL_SHA.search(inp.text(item, path, "url") or "")
        sha = match.group(1) if match else None
    _check_origins(origins, index, path, "context", "state", None)
    return {
        "name": inp.need_text(item, path, "context"),
        "source": CheckSource.COMMIT_STATUS,
        "status": "pending" if state in (None, "pending") else "completed",
        "conclusion": state,
        "commit_sha": sha,
        "updated_at": _when(inp.text(item, path, "updated_at"), inp.text(item, path, "created_at")),
        "url": inp.text(item, path, "target_url"),
    }


def _gh_check(inp: _Input, item: dict[str, Any], path: JsonPath, index: int,
              origins: Origins, head_sha: str | None) -> dict[str, Any]:
    """A `statusCheckRollup` entry: a CheckRun or a StatusContext of the head commit."""
    if item.get("__typename") == "StatusContext" or ("context" in item and "name" not in item):
        state = _lower(inp.text(item, path, "state"))
        _check_origins(origins, index, path, "context", "state", None)
        return {
            "name": inp.need_text(item, path, "context"),
            "source": CheckSource.COMMIT_STATUS,
            "status": "pending" if state in (None, "pending", "expected") else "completed",
            "conclusion": state,
            "commit_sha": head_sha,
            "updated_at": _when(inp.text(item, path, "startedAt"), inp.text(item, path, "createdAt")),
            "url": inp.text(item, path, "targetUrl"),
        }
    _check_origins(origins, index, path, "name", "conclusion", None)
    return {
        "name": inp.need_text(item, path, "name"),
        "source": CheckSource.CHECK_RUN,
        "status": _lower(inp.text(item, path, "status")) or "completed",
        "conclusion": _lower(inp.text(item, path, "conclusion")),
        "commit_sha": head_sha,
        "updated_at": _when(inp.text(item, path, "completedAt"), inp.text(item, path, "startedAt")),
        "url": inp.text(item, path, "detailsUrl"),
    }


def _labels(inp: _Input, node: dict[str, Any], path: JsonPath, origins: Origins) -> list[str] | None:
    values = inp.array(node, path, "labels")
    if values is None:
        return None
    origins[("labels",)] = (*path, "labels")
    names = []
    for index, value in enumerate(values):
        item_path = (*path, "labels", index)
        origins[("labels", index)] = item_path
        if isinstance(value, str):
            names.append(_clean(value))
        else:
            label = inp.obj(value, item_path)
            names.append(inp.need_text(label, item_path, "name"))
    return names


def _body(inp: _Input, node: dict[str, Any], path: JsonPath, out: dict[str, Any],
          origins: Origins) -> None:
    """`body` and its checklist; a null body is an empty description, a missing one unknown."""
    if "body" not in node:
        return
    body = inp.text(node, path, "body") or ""
    out["body"] = body
    out["checklist"] = parse_checklist(body)
    origins[("body",)] = (*path, "body")
    for index in range(len(out["checklist"])):
        origins[("checklist", index)] = (*path, "body")


def _listed(inp: _Input, node: dict[str, Any], path: JsonPath, key: str, model_key: str,
            origins: Origins, convert: Any) -> list[dict[str, Any]] | None:
    values = inp.array(node, path, key)
    if values is None:
        return None
    origins[(model_key,)] = (*path, key)
    return [convert(inp, item, item_path, index, origins)
            for index, (item_path, item) in enumerate(inp.items(values, (*path, key)))]


# --- the two file shapes --------------------------------------------------------------------


def _from_event(inp: _Input, data: dict[str, Any]) -> tuple[dict[str, Any], Origins]:
    top: JsonPath = ()
    pr_path: JsonPath = ("pull_request",)
    pr = inp.mapping(data, top, "pull_request", required=True) or {}
    origins: Origins = {(): pr_path}
    out: dict[str, Any] = {"source": PullRequestSource.EVENT}
    for model_key, key in (("title", "title"), ("url", "html_url")):
        out[model_key] = inp.text(pr, pr_path, key)
        origins[(model_key,)] = (*pr_path, key)
    out["number"] = inp.integer(pr, pr_path, "number") or inp.integer(data, top, "number")
    origins[("number",)] = (*pr_path, "number")
    _body(inp, pr, pr_path, out, origins)
    for side in ("head", "base"):
        ref = inp.mapping(pr, pr_path, side)
        if ref is not None:
            out[f"{side}_ref"] = inp.text(ref, (*pr_path, side), "ref")
            origins[(f"{side}_ref",)] = (*pr_path, side, "ref")
            if side == "head":
                out["head_sha"] = inp.text(ref, (*pr_path, side), "sha")
                origins[("head_sha",)] = (*pr_path, side, "sha")
    out["author"] = inp.login(pr, pr_path, "user")
    origins[("author",)] = (*pr_path, "user")
    out["labels"] = _labels(inp, pr, pr_path, origins)
    count = pr.get("commits")
    out["commit_count"] = count if isinstance(count, int) and not isinstance(count, bool) else None

    # the enrichment: REST lists added as top-level keys
    out["commits"] = _listed(inp, data, top, "commits", "commits", origins, _rest_commit)
    out["reviews"] = _listed(inp, data, top, "reviews", "reviews", origins, _rest_review)
    checks: list[dict[str, Any]] = []
    sources: list[CheckSource] = []
    runs, runs_path = _unwrap(inp, data, "check_runs", "check_runs")
    if runs is not None:
        sources.append(CheckSource.CHECK_RUN)
        origins[("checks",)] = ("check_runs",)
        for item_path, item in inp.items(runs, runs_path):
            checks.append(_rest_check_run(inp, item, item_path, len(checks), origins))
    statuses, statuses_path = _unwrap(inp, data, "statuses", "statuses")
    if statuses is not None:
        sources.append(CheckSource.COMMIT_STATUS)
        origins.setdefault(("checks",), ("statuses",))
        combined = data.get("statuses")
        sha = inp.text(combined, ("statuses",), "sha") if isinstance(combined, dict) else None
        # the REST list is newest first; the model is oldest first like every other list
        for item_path, item in reversed(inp.items(statuses, statuses_path)):
            checks.append(_rest_status(inp, item, item_path, len(checks), origins, sha))
    out["checks"] = checks if sources else None
    out["check_sources"] = sources
    return out, origins


def _unwrap(inp: _Input, data: dict[str, Any], key: str, inner: str
            ) -> tuple[list[Any] | None, JsonPath]:
    """A REST list given either as is or inside its response object (`{"total_count", key: [...]}`)."""
    value = data.get(key)
    if isinstance(value, dict):
        return inp.array(value, (key,), inner, required=True), (key, inner)
    return inp.array(data, (), key), (key,)


def _from_gh(inp: _Input, data: dict[str, Any]) -> tuple[dict[str, Any], Origins]:
    top: JsonPath = ()
    origins: Origins = {}
    out: dict[str, Any] = {"source": PullRequestSource.GH}
    for model_key, key in (("title", "title"), ("url", "url"), ("head_ref", "headRefName"),
                           ("head_sha", "headRefOid"), ("base_ref", "baseRefName")):
        out[model_key] = inp.text(data, top, key)
        origins[(model_key,)] = (key,)
    out["number"] = inp.integer(data, top, "number")
    origins[("number",)] = ("number",)
    _body(inp, data, top, out, origins)
    out["author"] = inp.login(data, top, "author")
    origins[("author",)] = ("author",)
    out["labels"] = _labels(inp, data, top, origins)
    out["commits"] = _listed(inp, data, top, "commits", "commits", origins, _gh_commit)
    out["reviews"] = _listed(inp, data, top, "reviews", "reviews", origins, _gh_review)
    rollup = inp.array(data, top, "statusCheckRollup")
    if rollup is not None:
        origins[("checks",)] = ("statusCheckRollup",)
        out["checks"] = [_gh_check(inp, item, item_path, index, origins, out["head_sha"])
                         for index, (item_path, item)
                         in enumerate(inp.items(rollup, ("statusCheckRollup",)))]
        out["check_sources"] = [CheckSource.CHECK_RUN, CheckSource.COMMIT_STATUS]
    return out, origins


def _source_map(source: Source, origins: Origins) -> SourceMap:
    """Model paths -> positions of the input nodes they came from, computed on first use."""

    def resolve() -> dict[JsonPath, Span]:
        try:
            spans = load_yaml(source.text, source.path)[1]
        except ParseError:
            return {}
        out: dict[JsonPath, Span] = {}
        for model_path, raw_path in origins.items():
            key = raw_path
            while key and key not in spans:
                key = key[:-1]
            if key:
                out[model_path] = spans[key]
        return out

    return SourceMap(resolver=resolve)


def _model(display: str, data: dict[str, Any]) -> PullRequest:
    try:
        return PullRequest.model_validate(data)
    except ValidationError as exc:  # the readers above type-check; this is a last resort
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ParseError(display, f"pull request: {where}: {error['msg']}") from None


def _wrong_types(node: dict[str, Any], types: dict[str, type], where: str) -> str | None:
    """The first of `types`' keys present in `node` (and not null) with another type."""
    for key, expected in types.items():
        value = node.get(key)
        if value is not None and (not isinstance(value, expected) or isinstance(value, bool)):
            return f"`{where}{key}` is {_type_name(value)}, not what gh or GitHub write there"
    return None


def not_a_pull_request(data: dict[str, Any]) -> str | None:
    """Why `data` is not decisively a pull request; None when it is one.

    A file whose kind was only guessed from a few keys in its first kilobytes (a GraphQL
    response fixture mentions `headRefName`) must show the whole structure: an event
    payload's `pull_request` object with its `number` and `head`/`base` refs, or gh's
    output, whose top-level keys are all `gh pr view --json` fields.
    """
    pr = data.get("pull_request")
    if isinstance(pr, dict):
        if not isinstance(pr.get("number"), int) or isinstance(pr.get("number"), bool):
            return "its `pull_request` object has no `number` (an event payload's has)"
        for side in ("head", "base"):
            ref = pr.get(side)
            if not isinstance(ref, dict) or not isinstance(ref.get("ref"), str):
                return f"its `pull_request` object has no `{side}.ref` (an event payload's has)"
            wrong = _wrong_types(ref, _REF_TYPES, f"pull_request.{side}.")
            if wrong:
                return wrong
        return _wrong_types(pr, {"title": str}, "pull_request.")
    others = sorted(data.keys() - GH_FIELDS)
    if others or not data.keys() & (GH_KEYS | {"number"}):
        shown = ", ".join(f"`{key}`" for key in (others or sorted(data))[:5]) or "none"
        return ("no `pull_request` object (an event payload), and its top-level keys "
                f"({shown}) are not those of `gh pr view --json` output")
    return _wrong_types(data, {**_GH_TYPES, **_GH_ARRAYS}, "")


def load(source: Source) -> Document:
    data = parse_json(source)
    inp = _Input(source, data)
    if not isinstance(data, dict):
        raise NotOfKind(source.path, "a pull request must be a JSON object (an event payload or "
                        f"`gh pr view --json` output), found {_type_name(data)}")
    why = not_a_pull_request(data) if source.sniffed else None  # named: read what is there
    if why is not None:
        raise NotOfKind(source.path, f"not a pull request: {why}")
    if "pull_request" in data:
        fields, origins = _from_event(inp, data)
    elif GH_KEYS & data.keys() or {"number", "title"} <= data.keys():
        fields, origins = _from_gh(inp, data)
        _parents_from_repository(source, fields, origins)
    else:
        raise NotOfKind(source.path, "not a pull request: expected a GitHub event payload (with "
                        "a `pull_request` object) or `gh pr view --json` output (with "
                        "`headRefName`, `title`, ...)")
    pr = _model(source.path, fields)
    doc = Document(kind=source.kind, path=source.path, model=pr, text=source.text)
    # only paths that exist in what Rego sees (absent values are not dumped)
    present = {path: raw for path, raw in origins.items() if _exists(doc.input, path)}
    doc.source_map = _source_map(source, present)
    return doc


def _exists(data: Any, path: JsonPath) -> bool:
    for part in path:
        in_object = isinstance(data, dict) and isinstance(part, str) and part in data
        in_array = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_object or in_array):
            return False
        data = data[part]
    return True


# --- a local git range ----------------------------------------------------------------------

GIT_TIMEOUT = 60.0
# subject last: it is the only field that may contain a separator
_LOG_FORMAT = "%H%x1f%P%x1f%an%x1f%G?%x1f%GS%x1f%GK%x1f%s"
_SIGNATURE_FORMAT = "%G?%x1f%GS%x1f%GK"
_PLAIN_LOG_FORMAT = _LOG_FORMAT.replace(_SIGNATURE_FORMAT, "%x1f%x1f")  # no signature checks

# git log --format=%G? (git-log(1), "Placeholders that expand to information extracted from the commit").
# Fail closed: a signature that is there but cannot be verified is unverified, never "unknown".
_GIT_SIGNATURE: dict[str, tuple[SignatureStatus, str]] = {
    "G": (SignatureStatus.VERIFIED, "good signature"),
    "U": (SignatureStatus.VERIFIED, "good signature with unknown validity (key not certified)"),
    "X": (SignatureStatus.UNVERIFIED, "good signature that has expired"),
    "Y": (SignatureStatus.UNVERIFIED, "good signature made by an expired key"),
    "R": (SignatureStatus.UNVERIFIED, "good signature made by a revoked key"),
    "B": (SignatureStatus.UNVERIFIED, "bad signature"),
    "E": (SignatureStatus.UNVERIFIED, "the signature cannot be checked (e.g. missing key)"),
    "N": (SignatureStatus.UNSIGNED, "no signature"),
}
# git says U for an SSH signature whose key no allowed signer names: any key at all
_UNKNOWN_SIGNER = ("good signature, but made by a key that no entry of "
                   "gpg.ssh.allowedSignersFile names")
_UNCHECKED = ("signed, but git could not verify the signature (for SSH signatures set "
              "gpg.ssh.allowedSignersFile; for GPG import the key)")


def _signature_state(letter: str, signer: str, key: str) -> dict[str, Any]:
    """A commit's signature from git's `%G?`, `%GS` and `%GK`."""
    if not letter:  # `_signature_of`: git cannot even read the signature header
        return {"status": SignatureStatus.UNVERIFIED,
                "reason": "signed, but git cannot read the signature"}
    status, reason = _GIT_SIGNATURE.get(
        letter, (SignatureStatus.UNVERIFIED, "a verdict pe-policy does not know"))
    if letter == "U" and not signer:  # a GPG key in the keyring has a user ID; an unknown SSH key none
        status, reason = SignatureStatus.UNVERIFIED, _UNKNOWN_SIGNER
    return {"status": status, "reason": f"git %G?={letter}: {reason}",
            "signer": signer or None, "key": key or None}


def _git(repo: Path, args: Sequence[str], display: str, timeout: float,
         stdin: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run git non-interactively; every way it can fail becomes a ParseError."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True,
                              timeout=timeout, env=env, check=False)
    except FileNotFoundError:
        raise ParseError(display, "git is not installed (or not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise ParseError(display, f"`git {args[0]}` timed out after {timeout:g} s in {repo}") from None
    except OSError as exc:
        raise ParseError(display, f"cannot run git: {exc.strerror or exc}") from None
    if check and done.returncode != 0:
        raise ParseError(display, f"`git {args[0]}` failed in {repo}: {_git_error(done.stderr)}")
    return done


def _git_error(stderr: bytes) -> str:
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line.split(":", 1)[1].strip()
    return lines[0].strip() if lines else "unknown error"


def _split_range(rev_range: str, display: str) -> tuple[str, str]:
    """`A..B` / `A...B` -> (A, B), empty sides meaning HEAD, as git reads them."""
    if not rev_range or rev_range.startswith("-") or any(c.isspace() for c in rev_range):
        raise ParseError(display, f"invalid git range {rev_range!r}: expected e.g. origin/main..HEAD")
    separator = "..." if "..." in rev_range else ".."
    if separator not in rev_range:
        raise ParseError(display, f"{rev_range!r} is not a range: pass the PR's commits as "
                         "BASE..HEAD, e.g. origin/main..HEAD")
    base, _, head = rev_range.partition(separator)
    if base.startswith("-") or head.startswith("-"):  # rev-parse (git < 2.43) has no --end-of-options
        raise ParseError(display, f"invalid git range {rev_range!r}: expected e.g. origin/main..HEAD")
    return base or "HEAD", head or "HEAD"


def _branch(repo: Path, rev: str, display: str, timeout: float) -> str | None:
    """The branch a revision names (`origin/main` -> `main`), or None (a SHA, a detached HEAD)."""
    done = _git(repo, ["rev-parse", "--symbolic-full-name", rev], display, timeout, check=False)
    full = done.stdout.decode("utf-8", "replace").strip() if done.returncode == 0 else ""
    if full.startswith("refs/heads/"):
        return full.removeprefix("refs/heads/")
    if full.startswith("refs/remotes/"):
        remote_branch = full.removeprefix("refs/remotes/").split("/", 1)
        if len(remote_branch) == 2 and remote_branch[1] != "HEAD":
            return remote_branch[1]
    return None


def _commit_headers(repo: Path, shas: list[str], display: str, timeout: float
                    ) -> dict[str, list[bytes]]:
    """The header lines (`tree`, `parent`, `author`, `gpgsig`...) of each commit of `shas`
    that `repo` holds, read raw with `git cat-file --batch`; a missing one is left out."""
    if not shas:
        return {}
    out = _git(repo, ["cat-file", "--batch"], display, timeout,
               stdin="".join(f"{sha}\n" for sha in shas).encode()).stdout
    headers: dict[str, list[bytes]] = {}
    pos = 0
    while pos < len(out):
        newline = out.find(b"\n", pos)
        if newline < 0:
            break
        header = out[pos:newline].split()
        if len(header) != 3:  # "<sha> missing"
            pos = newline + 1
            continue
        size = int(header[2])
        content = out[newline + 1 : newline + 1 + size]
        pos = newline + 1 + size + 1
        if header[1] == b"commit":
            headers[header[0].decode()] = content.split(b"\n\n", 1)[0].split(b"\n")
    return headers


def _signed_but_unchecked(repo: Path, shas: list[str], display: str, timeout: float) -> set[str]:
    """Commits git calls unsigned (`N`) that do carry a signature header.

    git prints N, not E, for an SSH signature when no allowed-signers file is
    configured; reading the raw commit tells "unsigned" from "unchecked".
    """
    return {sha for sha, lines in _commit_headers(repo, shas, display, timeout).items()
            if any(line.startswith((b"gpgsig ", b"gpgsig-sha256 ")) for line in lines)}


_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _parents_from_repository(source: Source, fields: dict[str, Any], origins: Origins,
                             timeout: float = GIT_TIMEOUT) -> None:
    """Fill in the parents gh does not print from the repository being checked.

    `gh pr view --json commits` gives each commit's `oid`, never its parents, so a merge
    commit cannot be told from any other: when the commits are in the local repository
    (the branch is checked out or fetched), git's own record of them decides.  A commit
    it does not hold keeps unknown parents (PE-PR-007 says it could not judge it); a
    repository that is not one, or no git, leaves them all unknown.
    """
    commits = fields.get("commits") or []
    wanted = [c["sha"] for c in commits if c.get("parents") is None
              and isinstance(c.get("sha"), str) and _OBJECT_ID.fullmatch(c["sha"])]
    if not wanted or source.root is None or not source.root.is_dir():
        return
    try:
        headers = _commit_headers(source.root, wanted, source.path, timeout)
    except ParseError:  # not a git repository, or no git: the parents stay unknown
        return
    for index, commit in enumerate(commits):
        lines = headers.get(commit["sha"]) if commit.get("parents") is None else None
        if lines is not None:
            commit["parents"] = [line.split()[1].decode() for line in lines
                                 if line.startswith(b"parent ")]
            origins[("commits", index, "parents")] = origins[("commits", index)]


def _log(repo: Path, rev_range: str, display: str, timeout: float) -> list[list[str]]:
    """The range's commits, oldest first: [sha, parents, author, %G?, %GS, %GK, subject].

    git stops the whole log at a signature header it cannot parse at all (`bad/incompatible
    signature`); then the commits are listed without their signatures, and each signature is
    checked on its own: one that git cannot read is unverified (`_signature_of`).
    """
    args = ["log", "--no-color", "-z", "--reverse", f"--format={_LOG_FORMAT}", "--end-of-options",
            rev_range, "--"]
    done = _git(repo, args, display, timeout, check=False)
    checked = done.returncode == 0  # else each commit's signature is checked on its own
    if not checked:
        args[4] = f"--format={_PLAIN_LOG_FORMAT}"
        done = _git(repo, args, display, timeout)  # a bad range fails here too, as itself
    records: list[list[str]] = []
    for record in done.stdout.decode("utf-8", "replace").split("\0"):
        record = record.strip("\n")
        if not record:
            continue
        parts = record.split("\x1f", 6)
        if len(parts) != 7:
            raise ParseError(display, f"unexpected `git log` output: {record[:80]!r}")
        if not checked:
            parts[3:6] = _signature_of(repo, parts[0], display, timeout)
        records.append(parts)
    return records


def _signature_of(repo: Path, sha: str, display: str, timeout: float) -> list[str]:
    """[%G?, %GS, %GK] of one commit; a signature git cannot read gives "" (unverified).

    git may die of SIGPIPE checking a junk SSH signature (ssh-keygen rejects it before
    reading the commit git writes to it): that is tried again, a few times.
    """
    for _ in range(3):
        done = _git(repo, ["log", "-1", "--no-walk", f"--format={_SIGNATURE_FORMAT}", sha, "--"],
                    display, timeout, check=False)
        if done.returncode >= 0:
            break
    parts = done.stdout.decode("utf-8", "replace").strip("\n").split("\x1f")
    return parts if done.returncode == 0 and len(parts) == 3 else ["", "", ""]


def load_git_range(repo: Path, rev_range: str, *, timeout: float = GIT_TIMEOUT) -> Document:
    """The commits of `rev_range` (e.g. `origin/main..HEAD`) in `repo`, read with git itself.

    Only what git knows is known: commits, their signatures and parents, the
    branch names.  Title, body, labels, reviews and checks stay unknown.
    """
    display = f"git:{rev_range}"
    base, head = _split_range(rev_range, display)
    commits: list[dict[str, Any]] = []
    for sha, parents, author, letter, signer, key, subject in _log(repo, rev_range, display,
                                                                   timeout):
        commits.append({"sha": sha, "subject": subject, "author": author or None,
                        "parents": parents.split(),
                        "signature": _signature_state(letter, signer, key)})
    unsigned = [c["sha"] for c in commits if c["signature"]["status"] is SignatureStatus.UNSIGNED]
    unchecked = _signed_but_unchecked(repo, unsigned, display, timeout)
    for commit in commits:
        if commit["sha"] in unchecked:  # git says N, but the commit carries a signature
            commit["signature"] = {"status": SignatureStatus.UNVERIFIED,
                                   "reason": f"git %G?=N: {_UNCHECKED}"}
    head_sha = _git(repo, ["rev-parse", "--verify", f"{head}^{{commit}}"], display,
                    timeout).stdout.decode().strip()
    fields = {
        "source": PullRequestSource.GIT,
        "head_ref": _branch(repo, head, display, timeout),
        "base_ref": _branch(repo, base, display, timeout),
        "head_sha": head_sha,
        "commits": commits,
        "commit_count": len(commits),
    }
    return Document(kind=KIND, path=display, model=_model(display, fields))


# --- the CLI's --pr and --git-range -----------------------------------------------------------


def pull_request_inputs(pr_files: Sequence[Path], git_ranges: Sequence[str], repo: Path,
                        root: Path) -> list[tuple[str, Callable[[], Document]]]:
    """(path, loader) of each pull request `check --pr FILE` and `--git-range A..B` name.

    The run loads each like a file (loading raises ParseError, a PE-PARSE finding).
    """
    from functools import partial

    from pe_policy.discover import relative_to_root

    inputs: list[tuple[str, Callable[[], Document]]] = []
    for file in pr_files:
        display = relative_to_root(file, root)
        inputs.append((display, partial(load_file, file, display, KIND, root)))
    for rev_range in git_ranges:
        inputs.append((f"git:{rev_range}", partial(load_git_range, repo, rev_range)))
    return inputs
