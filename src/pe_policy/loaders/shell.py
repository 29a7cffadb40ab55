"""`run:` scripts as bash reads them, with tree-sitter-bash (a maintained bash grammar).

What rules need of a script: the environment variables it expands, the commands it runs,
and what it writes to the files GitHub reads back between steps (`$GITHUB_ENV`,
`$GITHUB_PATH`, `$GITHUB_OUTPUT`, `$GITHUB_STATE`, `$GITHUB_STEP_SUMMARY`).  GitHub
splices `${{ }}` into the text before bash runs, so each expression is parsed here as an
opaque word of the same length (offsets stay those of the script) and remembered by its
ordinal: a write that carries `${{ github.event.issue.title }}` names that expression.

Offsets are characters of the script; the workflow loader turns them into lines and columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

# files whose content GitHub reads back: environment, PATH, outputs, state, summary
GITHUB_FILES = ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STATE",
                "GITHUB_STEP_SUMMARY")
_PLACEHOLDER = "%"  # a word character for bash that can never extend a variable name
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(=|<<)")
_WRITE_COMMANDS = frozenset({"tee"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")  # not `$1`, `$@`: positional and special


@dataclass
class Variable:
    """An environment variable a script expands (`$X`, `${X}`), at its offsets."""

    name: str
    start: int
    end: int
    quoted: bool  # inside "double quotes" or a heredoc: no word splitting or globbing


@dataclass
class Command:
    """A command the script runs: its words as written, and where its standard output goes."""

    name: str
    arguments: list[str]
    start: int
    end: int
    # where its standard output goes: "log" (the job log), "pipe" (the next command of a
    # pipeline), "file" (a redirect), "captured" (`$(...)`, `<(...)`, a backquote)
    stdout: str = "log"
    variables: list[str] = field(default_factory=list)  # variables its words expand, in order
    # per argument, what it expands and where: ("variable", NAME, offset) for `$NAME`/`${NAME}`,
    # ("expression", ordinal of the `${{ }}`, offset); offsets in characters into the argument
    # as written, so a rule knows what a path starts with (`"$RUNNER_TEMP/x"`: offset 1);
    # empty (not a list per argument) when no argument expands anything: most commands
    expansions: list[list[tuple[str, str | int, int]]] = field(default_factory=list)


@dataclass
class Write:
    """A write to a file GitHub reads back between steps (`>> "$GITHUB_ENV"`), and what the
    written content carries."""

    file: str  # GITHUB_ENV, GITHUB_PATH, ...
    command: str  # what writes: `echo`, `printf`, `cat` (a heredoc), `tee`, `{ ... }`
    names: list[str]  # `NAME=...` / `NAME<<DELIM` that the content starts a line with
    variables: list[str]  # variables the written content expands
    expressions: list[int]  # ordinals of the `${{ }}` spliced into the written content
    start: int
    end: int


@dataclass
class ShellScript:
    """What rules need of one bash script (see the module docstring).  `parse_bash` shares
    the one of a short script with every caller that parses the same text: read it, never
    change it."""

    variables: list[Variable] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)  # offsets where bash syntax is broken


@lru_cache(maxsize=1)
def _bash() -> tuple[Any, Any, Callable[[], Any]]:
    """The parser, the query that picks the nodes rules need (matched in C, not walked), and
    the query of syntax errors, compiled the first time a script has one (4 ms a query)."""
    import tree_sitter_bash
    from tree_sitter import Language, Parser, Query

    language = Language(tree_sitter_bash.language())
    nodes = Query(language, "(simple_expansion) @variable (expansion) @variable "
                            "(command) @command (redirected_statement) @redirect")

    @lru_cache(maxsize=1)
    def errors() -> Any:
        return Query(language, "(ERROR) @error (MISSING) @error")

    return Parser(language), nodes, errors


def prepare() -> None:
    """Build the parser and its queries now (loaders.prepare_loader), not at the first script."""
    _bash()


# A script this short is parsed once per process: the same `npm ci`, `make test` or
# `echo "x=${{ ... }}" >> "$GITHUB_OUTPUT"` recurs across a repository's workflows.
SHARED_SCRIPT_CHARS = 4096


def parse_bash(script: str, templates: list[tuple[int, int]]) -> ShellScript:
    """Parse `script`, whose `${{ }}` sit at `templates` ((start, end) offsets, in order).

    The result of a short script is shared by every caller that parses the same text: read
    it, never change it.
    """
    if len(script) <= SHARED_SCRIPT_CHARS:
        return _parse_bash_shared(script, tuple(templates))
    return _parse_bash(script, templates)


@lru_cache(maxsize=2048)
def _parse_bash_shared(script: str, templates: tuple[tuple[int, int], ...]) -> ShellScript:
    return _parse_bash(script, list(templates))


def _parse_bash(script: str, templates: list[tuple[int, int]]) -> ShellScript:
    masked = list(script)
    for start, end in templates:
        masked[start:end] = _PLACEHOLDER * (end - start)
    text = "".join(masked)
    data = text.encode("utf-8")
    parser, nodes, errors = _bash()
    tree = parser.parse(data)
    return _Reader(script, text, data, templates).read(tree.root_node, nodes, errors)


_STDOUT_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>"})
_CAPTURING = frozenset({"command_substitution", "process_substitution"})
_STATEMENT_ENDS = frozenset({"program", "function_definition"})


def _stdout(node: Any) -> str:
    """Where the standard output of command `node` goes, from the statements around it: the
    innermost pipeline, redirect or substitution decides (`{ echo $X; } > f` is a file)."""
    current = node
    while current.parent is not None and current.parent.type not in _STATEMENT_ENDS:
        parent = current.parent
        if parent.type in _CAPTURING:
            return "captured"
        if parent.type == "pipeline":
            commands = [c for c in parent.children if c.is_named]
            if commands and commands[-1] != current:
                return "pipe"
        if parent.type == "redirected_statement" and parent.child_by_field_name("body") == current \
                and any(_redirects_stdout(r) for r in parent.children if r.type == "file_redirect"):
            return "file"
        current = parent
    return "log"


def _redirects_stdout(redirect: Any) -> bool:
    """`> f`, `>> f`, `1> f`, `&> f`; not `2> f` nor `>&2` (that is the log too)."""
    descriptor = redirect.child_by_field_name("descriptor")
    if descriptor is not None and descriptor.text not in (b"1",):
        return False
    operators = [c.type for c in redirect.children if not c.is_named]
    return bool(operators) and operators[0] in _STDOUT_REDIRECTS


class _Reader:
    def __init__(self, script: str, text: str, data: bytes,
                 templates: list[tuple[int, int]]) -> None:
        self.script = script  # as written: what words and messages show
        self.text = text  # with the `${{ }}` masked: what was parsed
        self.data = data
        self.templates = templates
        self.ascii = len(data) == len(text)
        self._offsets: list[int] | None = None

    def char(self, byte: int) -> int:
        """Character offset of a byte offset (the same for ASCII scripts)."""
        if self.ascii:
            return byte
        if self._offsets is None:
            offsets = []
            for index, char in enumerate(self.text):
                offsets.extend([index] * len(char.encode("utf-8")))
            offsets.append(len(self.text))
            self._offsets = offsets
        return self._offsets[byte]

    def span(self, node: Any) -> tuple[int, int]:
        return self.char(node.start_byte), self.char(node.end_byte)

    def node_text(self, node: Any) -> str:
        start, end = self.span(node)
        return self.script[start:end]

    def read(self, root: Any, nodes: Any, errors: Callable[[], Any]) -> ShellScript:
        from tree_sitter import QueryCursor

        result = ShellScript()
        found = QueryCursor(nodes).captures(root)
        for node in found.get("variable", ()):
            name = self.variable_name(node)
            if name is not None and _NAME.match(name):
                start, end = self.span(node)
                result.variables.append(Variable(name, start, end, self.quoted(node)))
        for node in found.get("command", ()):
            result.commands.append(self.command(node))
            write = self.tee_write(node)
            if write is not None:
                result.writes.append(write)
        for node in found.get("redirect", ()):
            result.writes.extend(self.redirect_writes(node))
        if root.has_error:
            result.errors = sorted(self.span(node)[0]
                                   for node in QueryCursor(errors()).captures(root).get("error", ()))
        result.variables.sort(key=lambda v: v.start)
        result.commands.sort(key=lambda c: c.start)
        result.writes.sort(key=lambda w: w.start)
        return result

    @staticmethod
    def quoted(node: Any) -> bool:
        """Inside "double quotes" or a heredoc: bash neither splits nor globs the value."""
        parent = node.parent
        while parent is not None:
            if parent.type in ("string", "heredoc_body"):
                return True
            parent = parent.parent
        return False

    @staticmethod
    def variable_name(node: Any) -> str | None:
        for child in node.children:
            if child.type == "variable_name":
                return str(child.text.decode("utf-8"))
            if child.type == "subscript":  # ${arr[0]}
                name = child.child_by_field_name("name")
                return None if name is None else str(name.text.decode("utf-8"))
        return None

    def command(self, node: Any) -> Command:
        name_node = node.child_by_field_name("name")
        name = self.word(name_node) if name_node is not None else ""
        argument_nodes = node.children_by_field_name("argument")
        arguments = [self.word(arg) for arg in argument_nodes]
        start, end = self.span(node)
        expansions = [self.argument_expansions(arg) for arg in argument_nodes]
        return Command(name, arguments, start, end, _stdout(node), self.expanded(node),
                       expansions if any(expansions) else [])

    def argument_expansions(self, node: Any) -> list[tuple[str, str | int, int]]:
        """What one argument expands (see Command.expansions), in order."""
        start, end = self.span(node)
        if "$" not in self.script[start:end]:  # neither a variable nor a `${{ }}`: most words
            return []
        found: list[tuple[str, str | int, int]] = [
            ("expression", ordinal, t_start - start)
            for ordinal, (t_start, t_end) in enumerate(self.templates)
            if start <= t_start and t_end <= end]
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type in ("simple_expansion", "expansion"):
                name = self.variable_name(current)
                if name is not None and _NAME.match(name):
                    found.append(("variable", name, self.char(current.start_byte) - start))
            stack.extend(current.children)
        return sorted(found, key=lambda expansion: expansion[2])

    def expanded(self, node: Any) -> list[str]:
        """The variables `node`'s words expand (`$X`, `${X}`, quoted or not), in order."""
        names: list[str] = []
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type in ("simple_expansion", "expansion"):
                name = self.variable_name(current)
                if name is not None and _NAME.match(name) and name not in names:
                    names.append(name)
            stack.extend(reversed(current.children))
        return names

    def word(self, node: Any) -> str:
        """A word as bash would see it before expansion: outer quotes off."""
        text = self.node_text(node)
        if node.type == "command_name" and node.child_count == 1:
            return self.word(node.children[0])
        if node.type == "raw_string" or (node.type == "string" and "$" not in text):
            return text[1:-1]
        return text

    def github_file(self, node: Any) -> str | None:
        """GITHUB_ENV when `node` is `$GITHUB_ENV`, `${GITHUB_ENV}` or either in quotes."""
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type in ("simple_expansion", "expansion"):
                name = self.variable_name(current)
                if name in GITHUB_FILES:
                    return name
            stack.extend(current.children)
        return None

    def content(self, node: Any, excluded: list[Any], command: str, file: str) -> Write:
        """The write of what `node` prints, less the `excluded` nodes (the destination)."""
        start, end = self.span(node)
        holes = [self.span(e) for e in excluded]
        variables: list[str] = []
        names: list[str] = []
        stack = [node]
        while stack:
            current = stack.pop()
            span = self.span(current)
            if any(h_start <= span[0] and span[1] <= h_end for h_start, h_end in holes):
                continue
            if current.type in ("simple_expansion", "expansion"):
                name = self.variable_name(current)
                if name is not None and name not in variables:
                    variables.append(name)
            elif current.type in ("string", "raw_string", "word", "concatenation",
                                  "heredoc_body") and current.parent is not None \
                    and current.parent.type in ("command", "heredoc_redirect"):
                names.extend(self.assigned_names(current))
            stack.extend(reversed(current.children))
        expressions = [
            ordinal for ordinal, (t_start, t_end) in enumerate(self.templates)
            if start <= t_start and t_end <= end
            and not any(h_start <= t_start and t_end <= h_end for h_start, h_end in holes)]
        return Write(file, command, list(dict.fromkeys(names)), variables, expressions, start, end)

    def assigned_names(self, node: Any) -> list[str]:
        text = self.node_text(node)
        if node.type in ("string", "raw_string"):
            text = text[1:-1]
        return [m.group(1) for line in text.splitlines()
                if (m := _ASSIGNMENT.match(line.strip())) is not None]

    def redirect_writes(self, node: Any) -> list[Write]:
        """`... >> "$GITHUB_ENV"` (a command, a `{ }` group, a heredoc, a loop...)."""
        body = node.child_by_field_name("body")
        redirects = [child for child in node.children
                     if child.type in ("file_redirect", "heredoc_redirect")]
        # a heredoc's own `>> $GITHUB_ENV` sits inside its redirect node
        files = [nested for redirect in redirects
                 for nested in ([redirect] if redirect.type == "file_redirect" else
                                [c for c in redirect.children if c.type == "file_redirect"])]
        writes = []
        for redirect in files:
            operator = redirect.children[0].type if redirect.children else ""
            destination = redirect.child_by_field_name("destination")
            if operator not in (">", ">>", ">|", "&>", "&>>") or destination is None:
                continue
            file = self.github_file(destination)
            if file is None:
                continue
            command = "" if body is None else (
                self.command(body).name if body.type == "command" else body.type)
            writes.append(self.content(node, [redirect], command, file))
        return writes

    def tee_write(self, node: Any) -> Write | None:
        """`... | tee -a "$GITHUB_OUTPUT"`: what the earlier commands of the pipeline print."""
        name_node = node.child_by_field_name("name")
        if name_node is None or self.word(name_node) not in _WRITE_COMMANDS:
            return None
        parent = node.parent
        if parent is None or parent.type != "pipeline":
            return None
        for argument in node.children_by_field_name("argument"):
            file = self.github_file(argument)
            if file is not None:
                break
        else:
            return None
        before = [child for child in parent.children if child.end_byte <= node.start_byte
                  and child.type not in ("|", "|&")]
        if not before:
            return None
        write = self.content(parent, [node], "tee", file)
        write.start = self.span(before[0])[0]
        return write
