"""Node types shared by the markdown kinds (runbooks, deployment and QA reports).

Every node carries its 1-based `line` so `pe-policy parse` shows where it came
from; rules still locate findings through the source map, never these fields.

Repository paths named in a document (a wiki link `[[QA/QA-Report-U-1]]`, a
runbook's `[MODIFY] services/gateway/app/main.py`) are resolved by one rule,
`candidate_paths`:

* `./x` and `../x` are relative to the document's directory;
* `/x` is relative to the repository root;
* anything else is tried beside the document, then in each parent directory up
  to the repository root, nearest first (an Obsidian vault or a project inside a
  monorepo need not be the repository root).

A wiki link names a note, so `.md` is appended unless the target already ends
in `.md`; `|alias` and `#heading` parts are dropped.  Paths that escape the
repository root, absolute file URLs and web URLs have no candidates.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote

from pydantic import BaseModel, Field


class Section(BaseModel):
    heading: str = Field(description="The heading text, markup removed.")
    key: str = Field(
        description="The heading normalised for matching: lower case, leading numbering, "
        "punctuation and markup removed (`## 4. Verification Plan:` -> `verification plan`)."
    )
    level: int = Field(description="Heading level, 1 for `#` to 6 for `######`.")
    line: int = Field(description="Line of the heading.")
    end_line: int = Field(description="Last line with content before the next heading of the "
                          "same or a higher level (the heading line when the section is empty).")
    empty: bool = Field(description="No content under the heading: sub-headings and HTML "
                        "comments do not count.")
    placeholder: str | None = Field(
        default=None,
        description="When the only content is template placeholders (`<Summary of what "
        "changes>`, TBD, TODO, N/A): the first of them.",
    )


class ChecklistItem(BaseModel):
    text: str = Field(description="The item's text after the `[ ]`/`[x]` box, markup removed.")
    checked: bool = Field(description="Whether the box is ticked (`[x]` or `[X]`).")
    line: int = Field(description="Line of the item.")
    mentions: list[str] = Field(
        default_factory=list,
        description="Names @-mentioned in the item, without the `@` (`@Security approved?` -> "
        "`Security`).",
    )
    section: str | None = Field(
        default=None,
        description="Key of the top-level section holding the item (see Section.key).",
    )


class TableRow(BaseModel):
    name: str = Field(description="What the row is about: the Action/Step/Check/Test column, "
                      "else the first cell.")
    status: str | None = Field(
        default=None,
        description="The `Status` (or `Result`/`Outcome`, else last) column, upper case, "
        "emphasis and emoji removed; empty for `-`.",
    )
    cells: dict[str, str] = Field(default_factory=dict,
                                  description="Cell text by column header, markup removed.")
    line: int = Field(description="Line of the row.")


class WikiLink(BaseModel):
    raw: str = Field(description="The value as written, e.g. `[[QA/QA-Report-U-1]]`.")
    target: str = Field(description="The file it names, e.g. `QA/QA-Report-U-1.md`.")
    candidates: list[str] = Field(
        default_factory=list,
        description="Repository paths it may refer to, in resolution order (see the module "
        "docstring); empty when it points outside the repository.",
    )


_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?|[ivxlc]+[.)]|[a-z][.)])\s+")
_NON_WORD = re.compile(r"[^\w\s/&+-]+")
_SPACES = re.compile(r"\s+")


def heading_key(text: str) -> str:
    """`## 4. Verification Plan:` and `## **verification plan**` both give `verification plan`."""
    key = _SPACES.sub(" ", text).strip().lower()
    key = _NUMBERING.sub("", key)
    key = _NON_WORD.sub("", key)
    return _SPACES.sub(" ", key).strip(" -")


_PLACEHOLDER = re.compile(
    r"""^(?:
        <[^<>]*>                                   # <Summary of what changes>
      | \[[^\[\]]*\]                               # [fill in]
      | tbd | tba | todo | fixme | n/?a | none | - | \u2014 | \u2013 | \.\.\. | … | \?+
      | (?:change\ description|how\ to\ test|summary\ of\ what\ changes)\s*(?:\.\.\.|…)?
    )[.:]?$""",
    re.IGNORECASE | re.VERBOSE,
)


def placeholder_text(text: str) -> bool:
    """Template text left in place, not content: `<...>`, TBD, TODO, N/A, `How to test...`."""
    stripped = text.strip().strip("*_`").strip()
    return bool(stripped) and bool(_PLACEHOLDER.match(stripped))


# ---------------------------------------------------------------------------------------------
# Repository paths named in documents


def _normalise(path: str) -> str | None:
    """A POSIX path inside the repository, or None when it escapes the root."""
    joined = posixpath.normpath(path) if path else "."
    if joined == "." or joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    return joined


_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def candidate_paths(document_path: str, target: str) -> list[str]:
    """Repository paths `target` (as written in `document_path`) may name, nearest first."""
    target = target.strip()
    if not target or "\x00" in target or _URL.match(target) or target.startswith("~"):
        return []
    base = posixpath.dirname(document_path)
    if target.startswith(("./", "../")):
        found = _normalise(posixpath.join(base, target))
        return [found] if found else []
    if target.startswith("/"):
        found = _normalise(target.lstrip("/"))
        return [found] if found else []
    out: list[str] = []
    directory = base
    while True:
        found = _normalise(posixpath.join(directory, target) if directory else target)
        if found and found not in out:
            out.append(found)
        if not directory or directory in (".", "/"):
            break
        directory = posixpath.dirname(directory)
    return out


_WIKI = re.compile(r"^\[\[([^\[\]]+)\]\]$")
_MD_LINK = re.compile(r"^\[[^\]]*\]\(\s*<?([^)>\s]+)>?(?:\s+\"[^\"]*\")?\s*\)$")


def clean_reference(text: str) -> str:
    """A file named in markdown: URL-decoded, `file://` and `#anchor`/`:line` suffixes removed."""
    value = text.strip().strip("`").strip()
    if value.lower().startswith("file://"):
        value = value[len("file://"):]
    value = unquote(value.split("#", 1)[0].split("?", 1)[0])
    return re.sub(r":\d+(?::\d+)?$", "", value)


def parse_link(document_path: str, raw: str) -> WikiLink:
    """`[[QA/QA-Report-U-1|QA]]`, `[QA](../QA/QA-Report-U-1.md)` or a bare path, resolved."""
    value = raw.strip()
    wiki = _WIKI.match(value)
    if wiki:
        target = wiki.group(1).split("|", 1)[0].split("#", 1)[0].strip()
        if not target.lower().endswith(".md"):
            target += ".md"
    else:
        link = _MD_LINK.match(value)
        target = clean_reference(link.group(1) if link else value)
    return WikiLink(raw=raw, target=target, candidates=candidate_paths(document_path, target))

