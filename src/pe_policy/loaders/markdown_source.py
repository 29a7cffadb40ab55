"""Markdown with positions: markdown-it-py tokens turned into blocks, sections and tables.

Shared by the runbook and report loaders.  Every position comes from a token's
`.map` (0-based, end-exclusive line range), never from searching the text.
YAML front matter (a `---` fence on the first line) is parsed by
`yaml_source.load_yaml` with its lines offset into the file and blanked out
before markdown-it sees the text, so every token's map is a file line.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pe_policy.document import Span
from pe_policy.findings import JsonPath, ParseError
from pe_policy.loaders.yaml_source import load_yaml
from pe_policy.models.markdown import heading_key, placeholder_text

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_block import StateBlock
    from markdown_it.rules_core import StateCore
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

LINE_BREAK = re.compile(r"\r\n?|\n")
_FENCE = re.compile(r"^---[ \t]*$")
_FENCE_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$")
_TASK_BOX = re.compile(r"^\[([ xX])\](?:\s+|$)")
_COMMENT_ONLY = re.compile(r"^\s*(?:<!--.*?-->\s*)+$", re.DOTALL)

# What one document may expand to.  markdown-it makes an object of every block, table cell
# and inline span (a few hundred bytes each): a 10 MB report of one-character table cells, or
# of `*a*`, was 3-4 GB of them.  A real report or runbook has a few thousand; past these
# limits the file is refused (PE-PARSE) before the objects are made.
# Lines cost too (markdown-it keeps five numbers per line): 10 MB of blank lines was 1 GB.
MAX_LINES = 250_000
MAX_ELEMENTS = 300_000  # blocks, table cells and inline spans of one document
MAX_TABLE_CELLS = 50_000  # cells of all its tables, header rows and padded cells included

_PATH = "pe_policy.path"  # keys of the parse's `env`
_MADE = "pe_policy.made"  # elements made before the inline being parsed
_LINE = "pe_policy.line"  # where the inline being parsed starts
_CELLS = "pe_policy.cells"


def _too_many(env: Any, line: int, what: str) -> ParseError:
    return ParseError(env.get(_PATH, "<markdown>"), f"{what}: too large to check", line)


def _elements_over(env: Any, line: int) -> ParseError:
    return _too_many(env, line, f"markdown with more than {MAX_ELEMENTS:,} elements (blocks, "
                                "table cells and inline spans)")


def _block_budget(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """First of the block rules, so it runs before each block is made: never matches."""
    if len(state.tokens) > MAX_ELEMENTS:
        raise _elements_over(state.env, start_line + 1)
    return False


def _delimiter_cells(state: StateBlock, line: int) -> int:
    """Cells of a table's delimiter row (`|---|:-:|`): its column count, padding included."""
    text = state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]
    parts = text.strip().split("|")
    if parts and not parts[0].strip():
        parts.pop(0)
    if parts and not parts[-1].strip():
        parts.pop()
    return len(parts)


def _budgeted_table(table: Callable[..., bool]) -> Callable[..., bool]:
    """markdown-it's table rule, refused before it makes more cells than the budget allows.

    Every row gets as many cells as the header has columns: counted from the delimiter row
    and the lines the table can span (up to a blank line) before any is made."""

    def rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        if silent or not table(state, start_line, end_line, True):
            return table(state, start_line, end_line, silent)
        env = state.env
        last = start_line + 2
        while last < end_line and not state.isEmpty(last) and state.sCount[last] >= state.blkIndent:
            last += 1
        columns = _delimiter_cells(state, start_line + 1)
        cells = columns * (last - start_line - 1)
        if env.get(_CELLS, 0) + cells > MAX_TABLE_CELLS:
            raise _too_many(env, start_line + 1, f"tables with more than {MAX_TABLE_CELLS:,} "
                                                  "cells in all")
        if len(state.tokens) + 3 * cells > MAX_ELEMENTS:
            raise _elements_over(env, start_line + 1)
        before = len(state.tokens)
        found = table(state, start_line, end_line, silent)
        env[_CELLS] = env.get(_CELLS, 0) + sum(
            1 for token in state.tokens[before:] if token.type in ("td_open", "th_open"))
        return found

    return rule


def _inline_budget(state: StateInline, silent: bool) -> bool:
    """First of the inline rules, so it runs before each inline span is made: never matches."""
    if not silent and state.env.get(_MADE, 0) + len(state.tokens) > MAX_ELEMENTS:
        line = state.env.get(_LINE, 1)
        raise _elements_over(state.env, line)
    return False


def _inline_all(state: StateCore) -> None:
    """markdown-it's `inline` core rule, keeping count of the elements made so far."""
    env = state.env
    env[_MADE] = len(state.tokens)
    for token in state.tokens:
        if token.type == "inline":
            if token.children is None:
                token.children = []
            env[_LINE] = token.map[0] + 1 if token.map else 1
            state.md.inline.parse(token.content, state.md, env, token.children)
            env[_MADE] += len(token.children)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt
    from markdown_it.rules_block import table

    # commonmark + GFM tables; HTML kept so comments (`<!-- pe-policy: ignore -->`) stay blocks
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    md.block.ruler.at("table", _budgeted_table(table), {"alt": ["paragraph", "reference"]})
    md.block.ruler.before("table", "pe_policy_budget", _block_budget)
    md.inline.ruler.before("text", "pe_policy_budget", _inline_budget)
    md.core.ruler.at("inline", _inline_all)
    return md


def split_lines(text: str) -> list[str]:
    """Lines as markdown-it counts them (`\\n`, `\\r\\n` or `\\r`)."""
    return LINE_BREAK.split(text)


def _check_line_count(text: str, path: str) -> None:
    """Refuse a document of more than MAX_LINES lines before they are split."""
    breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
    if breaks >= MAX_LINES:
        raise ParseError(path, f"markdown with more than {MAX_LINES:,} lines: too large to check",
                         MAX_LINES + 1)


@dataclass
class FrontMatter:
    """The YAML front matter of a Markdown file, parsed, its spans in lines of the file."""

    data: Any  # the parsed YAML; None for an empty block
    spans: dict[JsonPath, Span]  # keyed from the front matter's root, lines in the file
    line: int  # the opening fence
    end_line: int  # the closing fence


@dataclass
class Block:
    """A leaf of the document: heading, paragraph, list item, table row, code or HTML."""

    kind: str  # heading | paragraph | item | row | code | html | comment | hr
    line: int
    end_line: int
    text: str  # plain text: emphasis, link and code marks removed; soft breaks kept as "\n"
    source: str = ""  # the inline markdown as written
    level: int = 0  # heading level
    checked: bool | None = None  # list items: the task box, None when not a task item
    links: tuple[str, ...] = ()  # link targets inside, in order
    code: tuple[str, ...] = ()  # inline code spans inside, in order

    def text_lines(self) -> list[tuple[int, str]]:
        """(line, plain text) per source line; all on the first line when they cannot be aligned."""
        parts = self.text.split("\n")
        if len(parts) == self.end_line - self.line + 1:
            return [(self.line + i, part) for i, part in enumerate(parts)]
        return [(self.line, " ".join(parts))]

    @property
    def is_content(self) -> bool:
        return self.kind not in ("heading", "comment", "hr") and not (
            self.kind in ("paragraph", "item", "code") and not self.text.strip()
        )


@dataclass
class Cell:
    """A table cell's plain text, and where it sits in its line, for a finding to point at."""

    text: str
    column: int | None = None  # 1-based, where the cell's text starts in its line
    end_column: int | None = None


@dataclass
class Row:
    """A row of a table's body, at its line."""

    line: int
    cells: list[Cell]


@dataclass
class Table:
    """A Markdown table: its header and body rows, and the lines it spans."""

    line: int
    end_line: int
    header: list[Cell]
    rows: list[Row]


@dataclass
class Section:
    """A heading and everything under it, up to the next heading of the same or a higher
    level; `key` is the heading as rules match it (`heading_key`)."""

    heading: str
    key: str
    level: int
    line: int
    end_line: int  # last content line, or the heading's line when empty
    index: int
    blocks: list[Block] = field(default_factory=list)  # everything under it, sub-sections too

    def placeholder(self) -> str | None:
        """The first placeholder when every content block is one (`<Summary ...>`, TBD)."""
        content = [b for b in self.blocks if b.is_content]
        if content and all(_is_placeholder_block(b) for b in content):
            return content[0].text.strip()
        return None

    def contains(self, line: int) -> bool:
        return self.line <= line <= self.end_line


def _is_placeholder_block(block: Block) -> bool:
    if block.kind == "row":
        return False
    lines = [text for _, text in block.text_lines() if text.strip()]
    return bool(lines) and all(placeholder_text(text) for text in lines)


@dataclass
class MarkdownDocument:
    """A Markdown file parsed once into positioned pieces, which the runbook and report
    loaders look up by heading or by line."""

    lines: list[str]
    front_matter: FrontMatter | None
    blocks: list[Block]
    tables: list[Table]
    sections: list[Section]
    _top_cache: list[Section] | None = field(default=None, repr=False)

    @property
    def title(self) -> Section | None:
        """The first level-1 heading, when it comes before every other heading."""
        if self.sections and self.sections[0].level == 1:
            return self.sections[0]
        return None

    def section(self, predicate: Callable[[str], bool]) -> Section | None:
        for section in self.sections:
            if predicate(section.key):
                return section
        return None

    def top_section(self, line: int) -> Section | None:
        """The outermost section holding `line` (not on its heading), the document title excepted."""
        tops = self._tops()
        position = bisect.bisect_left([s.line for s in tops], line) - 1
        if position >= 0 and tops[position].contains(line):
            return tops[position]
        return None

    def _tops(self) -> list[Section]:
        if self._top_cache is None:
            title = self.title
            tops: list[Section] = []
            for section in self.sections:
                if section is title:
                    continue
                if tops and tops[-1].contains(section.line) and tops[-1].level < section.level:
                    continue
                tops.append(section)
            self._top_cache = tops
        return self._top_cache

    def enclosing(self, line: int) -> list[Section]:
        """Sections holding `line`, outermost first."""
        return [s for s in self.sections if s.contains(line) and s.line != line]

    def tables_in(self, section: Section) -> list[Table]:
        return [t for t in self.tables if section.contains(t.line)]

    def line_span(self, line: int, end_line: int | None = None) -> Span:
        """A span starting at the first non-blank character of `line`."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        column = len(text) - len(text.lstrip()) + 1
        return Span(line, column, end_line or line, None)


def split_front_matter(
    lines: list[str], path: str, *, required_closed: bool
) -> tuple[FrontMatter | None, list[str]]:
    """Parse a leading `---` block; return it and the lines with it blanked out.

    `required_closed`: an opening fence without a closing one is an error (reports);
    otherwise it is left alone and read as a thematic break (runbooks).
    """
    if not lines or not _FENCE.match(lines[0].lstrip("\ufeff")):
        return None, lines
    for index in range(1, len(lines)):
        if _FENCE_END.match(lines[index]):
            break
    else:
        if required_closed:
            raise ParseError(path, "front matter opened by `---` on line 1 is never closed: "
                             "end it with a `---` line", 1, 1)
        return None, lines
    text = "\n".join(lines[1:index])
    data, spans = load_yaml(text, path, line_offset=1)
    if data is not None and not isinstance(data, dict):
        raise ParseError(path, f"front matter must be a YAML mapping (`key: value` lines), found "
                         f"a {type(data).__name__}", 2, 1)
    blanked = [""] * (index + 1) + lines[index + 1:]
    return FrontMatter(data if data is not None else {}, spans, 1, index + 1), blanked


# ---------------------------------------------------------------------------------------------
# tokens -> blocks


def _inline(token: Token) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """Plain text, link targets and code spans of an inline token."""
    parts: list[str] = []
    links: list[str] = []
    code: list[str] = []
    for child in token.children or []:
        kind = child.type
        if kind in ("text", "text_special"):
            parts.append(child.content)
        elif kind == "code_inline":
            parts.append(child.content)
            code.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif kind == "link_open":
            href = child.attrs.get("href")
            if isinstance(href, str):
                links.append(href)
        elif kind == "image":
            parts.append(child.content)
    return "".join(parts), tuple(links), tuple(code)


def _span_lines(token: Token) -> tuple[int, int]:
    start, end = token.map if token.map else (0, 1)
    return start + 1, max(start + 1, end)


def cell_columns(line: str) -> list[tuple[int, int]]:
    """(column, end column) of each cell of a pipe-table line, 1-based; `\\|` does not split."""
    cells: list[tuple[int, int]] = []
    start = 0
    stripped = line.lstrip()
    position = len(line) - len(stripped)
    if stripped.startswith("|"):
        position += 1
    start = position
    escaped = False
    for index in range(position, len(line) + 1):
        char = line[index] if index < len(line) else "|"
        if escaped:
            escaped = False
            continue
        if char == "\\":
            escaped = True
            continue
        if char == "|":
            raw = line[start:index]
            lead = len(raw) - len(raw.lstrip())
            text = raw.strip()
            if text or index < len(line):
                cells.append((start + lead + 1, start + lead + len(text) + 1))
            start = index + 1
    return cells


class _Walker:
    """One pass over the token stream, collecting blocks and tables."""

    def __init__(self, tokens: list[Token], lines: list[str]) -> None:
        self.tokens = tokens
        self.lines = lines
        self.blocks: list[Block] = []
        self.tables: list[Table] = []
        self._items: list[dict[str, Any]] = []  # open list items: their first paragraph pending

    def run(self) -> None:
        tokens = self.tokens
        index = 0
        while index < len(tokens):
            token = tokens[index]
            kind = token.type
            if kind == "heading_open" and index + 1 < len(tokens):
                text, links, code = _inline(tokens[index + 1])
                line, end = _span_lines(token)
                self.blocks.append(Block("heading", line, end, text, tokens[index + 1].content,
                                         level=int(token.tag[1:] or 1), links=links, code=code))
                index += 3
                continue
            if kind == "list_item_open":
                self._items.append({"token": token, "done": False})
            elif kind == "list_item_close":
                item = self._items.pop() if self._items else None
                if item is not None and not item["done"]:
                    line, end = _span_lines(item["token"])
                    self.blocks.append(Block("item", line, line, ""))
            elif kind == "paragraph_open" and index + 1 < len(tokens):
                self._paragraph(token, tokens[index + 1])
                index += 3
                continue
            elif kind == "table_open":
                index = self._table(index)
                continue
            elif kind in ("fence", "code_block"):
                line, end = _span_lines(token)
                self.blocks.append(Block("code", line, end, token.content, token.content))
            elif kind == "hr":
                line, end = _span_lines(token)
                self.blocks.append(Block("hr", line, end, ""))
            elif kind == "html_block":
                line, end = _span_lines(token)
                block_kind = "comment" if _COMMENT_ONLY.match(token.content) else "html"
                self.blocks.append(Block(block_kind, line, end, token.content.strip(),
                                         token.content))
            index += 1

    def _paragraph(self, token: Token, inline: Token) -> None:
        text, links, code = _inline(inline)
        line, end = _span_lines(token)
        item = self._items[-1] if self._items else None
        if item is not None and not item["done"]:
            item["done"] = True
            box = _TASK_BOX.match(text)
            checked = None
            if box:
                checked = box.group(1) in "xX"
                text = text[box.end():]
            item_line, _ = _span_lines(item["token"])
            self.blocks.append(Block("item", min(item_line, line), end, text, inline.content,
                                     checked=checked, links=links, code=code))
            return
        self.blocks.append(Block("paragraph", line, end, text, inline.content, links=links,
                                 code=code))

    def _table(self, index: int) -> int:
        tokens = self.tokens
        line, end = _span_lines(tokens[index])
        header: list[Cell] = []
        rows: list[Row] = []
        current: list[Cell] | None = None
        row_line = line
        in_head = False
        index += 1
        while index < len(tokens) and tokens[index].type != "table_close":
            token = tokens[index]
            if token.type == "thead_open":
                in_head = True
            elif token.type == "thead_close":
                in_head = False
            elif token.type == "tr_open":
                current = []
                row_line, _ = _span_lines(token) if token.map else (row_line + 1, 0)
            elif token.type == "inline" and current is not None:
                text, _, _ = _inline(token)
                current.append(Cell(text.strip()))
            elif token.type == "tr_close" and current is not None:
                self._place_cells(row_line, current)
                if in_head:
                    header = current
                else:
                    rows.append(Row(row_line, current))
                    self.blocks.append(Block("row", row_line, row_line,
                                             " | ".join(c.text for c in current)))
                current = None
            index += 1
        self.tables.append(Table(line, end, header, rows))
        return index + 1

    def _place_cells(self, line: int, cells: list[Cell]) -> None:
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        for cell, (column, end_column) in zip(cells, cell_columns(source), strict=False):
            cell.column, cell.end_column = column, end_column


def _sections(blocks: list[Block], last_line: int) -> list[Section]:
    """Each heading's section: up to the next heading of the same or a higher level."""
    headings = [b for b in blocks if b.kind == "heading"]
    starts = [b.line for b in blocks]
    limits: list[int] = [last_line] * len(headings)
    open_: list[int] = []  # indices of headings whose section is still open
    for position, heading in enumerate(headings):
        while open_ and headings[open_[-1]].level >= heading.level:
            limits[open_.pop()] = heading.line - 1
        open_.append(position)
    sections: list[Section] = []
    for position, heading in enumerate(headings):
        limit = max(limits[position], heading.line)
        inside = blocks[bisect.bisect_right(starts, heading.line):
                        bisect.bisect_right(starts, limit)]
        inside = [b for b in inside if b is not heading]
        end = max((b.end_line for b in inside), default=heading.line)
        sections.append(Section(heading.text.strip(), heading_key(heading.text), heading.level,
                                heading.line, min(max(end, heading.line), limit), position,
                                inside))
    return sections


def parse_markdown(text: str, path: str, *, front_matter: str = "optional") -> MarkdownDocument:
    """Parse `text`; `front_matter` is "optional" (unclosed fence = markdown) or "strict"."""
    _check_line_count(text, path)
    lines = split_lines(text)
    matter, body_lines = split_front_matter(lines, path, required_closed=front_matter == "strict")
    tokens = _parser().parse("\n".join(body_lines), {_PATH: path})
    walker = _Walker(tokens, lines)
    walker.run()
    blocks = sorted(walker.blocks, key=lambda b: (b.line, b.kind != "heading"))
    return MarkdownDocument(lines, matter, blocks, walker.tables, _sections(blocks, len(lines)))


def key_values(blocks: list[Block]) -> Iterator[tuple[int, str, str]]:
    """(line, key, value) for each `Key: value` line of paragraphs and list items."""
    for block in blocks:
        if block.kind not in ("paragraph", "item"):
            continue
        for line, text in block.text_lines():
            match = _KEY_VALUE.match(text)
            if match:
                yield line, match.group(1).strip(), match.group(2).strip()


_KEY_VALUE = re.compile(r"^\s*([^:\n]{1,60}?)\s*:\s*(.*)$")


def section_spans(doc: MarkdownDocument) -> dict[JsonPath, Span]:
    """("sections", i) for each section, ("sections",) for the whole body (so text-level
    rules can place any line), and () / ("title",) at the document's title."""
    spans: dict[JsonPath, Span] = {}
    body_start = doc.front_matter.end_line + 1 if doc.front_matter is not None else 1
    if body_start <= len(doc.lines):
        spans[("sections",)] = Span(body_start, 1, len(doc.lines), None)
    for index, section in enumerate(doc.sections):
        spans[("sections", index)] = Span(section.line, 1, section.end_line, None)
        spans[("sections", index, "heading")] = doc.line_span(section.line)
    title = doc.title
    if title is not None:
        spans[()] = doc.line_span(title.line)
        spans[("title",)] = doc.line_span(title.line)
    return spans
