"""Just enough SQL lexing to split a migration into statements and to read it safely.

Why our own and not `sqlparse`: we need character offsets (so every statement
gets its line), a mask that blanks comments and literals (so `'DROP TABLE'`
inside an INSERT is not a DROP), and a hard error with line and column for an
unterminated quote or comment.  `sqlparse.split` returns bare strings, and a
quote-, comment- and dollar-quote-aware scanner is a screenful of code.

Understood: `-- line` and nested `/* block */` comments, '...' strings with ''
(and backslash escapes in E'...'), "..." and `...` identifiers, PostgreSQL
$tag$...$tag$ bodies.  Not understood: MySQL `DELIMITER` and BEGIN...END
trigger bodies without dollar quotes (they split at their inner semicolons).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_$]")


class SqlSyntaxError(ValueError):
    """An unterminated literal or comment; `offset` is where it opens."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Lexed:
    """The text, its mask (comments and literal contents blanked, same length, newlines kept)
    and the offsets of top-level semicolons."""

    text: str
    mask: str
    semicolons: tuple[int, ...]


def _blank(chars: list[str], start: int, end: int) -> None:
    for i in range(start, end):
        if chars[i] != "\n":
            chars[i] = " "


def lex(text: str, *, strict: bool = True) -> Lexed:
    """Scan `text` once; with `strict`, an unterminated literal or comment is an error,
    else it runs to the end (SQL embedded in Python may be a fragment)."""
    chars = list(text)
    semicolons: list[int] = []
    i, n = 0, len(text)

    def unterminated(what: str, at: int) -> int:
        if strict:
            raise SqlSyntaxError(f"unterminated {what}", at)
        _blank(chars, at, n)
        return n

    while i < n:
        c = text[i]
        if c == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            _blank(chars, i, end)
            i = end
        elif c == "/" and text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                i = unterminated("/* comment", i)
            else:
                _blank(chars, i, j)
                i = j
        elif c in "'\"`":
            backslash = c == "'" and i > 0 and text[i - 1] in "eE" and (
                i < 2 or not _IDENT_CHAR.match(text[i - 2]))
            j = i + 1
            while j < n:
                if backslash and text[j] == "\\":
                    j += 2
                elif text[j] == c:
                    if text.startswith(c * 2, j):  # doubled quote: an escaped quote
                        j += 2
                    else:
                        break
                else:
                    j += 1
            if j >= n:
                what = "string" if c == "'" else "quoted identifier"
                i = unterminated(f"{what} (opening {c})", i)
            else:
                _blank(chars, i + 1, j)
                i = j + 1
        elif c == "$" and (i == 0 or not _IDENT_CHAR.match(text[i - 1])):
            match = _DOLLAR_TAG.match(text, i)
            if match is None:
                i += 1
                continue
            tag = match.group(0)
            end = text.find(tag, match.end())
            if end < 0:
                i = unterminated(f"dollar-quoted body (opening {tag})", i)
            else:
                _blank(chars, match.end(), end)
                i = end + len(tag)
        elif c == ";":
            semicolons.append(i)
            i += 1
        else:
            i += 1
    return Lexed(text, "".join(chars), tuple(semicolons))


@dataclass(frozen=True)
class RawStatement:
    """One statement: offsets of its first significant character and of its end
    (the semicolon, or the end of the text), plus its text and masked text."""

    start: int
    end: int
    text: str
    mask: str


def split_statements(text: str, *, strict: bool = True) -> list[RawStatement]:
    """Non-empty statements (comments alone are not statements), in order."""
    lexed = lex(text, strict=strict)
    out: list[RawStatement] = []
    begin = 0
    for stop in (*lexed.semicolons, len(text)):
        masked = lexed.mask[begin:stop]
        stripped = masked.lstrip()
        if stripped.strip():
            start = begin + len(masked) - len(stripped)
            end = begin + len(masked.rstrip())
            out.append(RawStatement(start, end, text[start:end], lexed.mask[start:end]))
        begin = stop + 1
    return out


class LineIndex:
    """Offset → 1-based (line, column) for one text."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


def first_keyword(mask: str) -> str:
    """The statement's command word, upper-cased (`DROP`, `ALTER`, `TRUNCATE`...)."""
    match = re.match(r"\s*([A-Za-z]+)", mask)
    return match.group(1).upper() if match else ""
