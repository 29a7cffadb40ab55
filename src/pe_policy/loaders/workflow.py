"""GitHub Actions workflows (`.github/workflows/*.yml`) and `action.yml` files.

Besides the YAML itself, rules get every `${{ }}` expression parsed (`expressions`, see
`pe_policy.models.workflow.ExpressionUse`), with the exact line and column of each
expression, context reference and function call, and where in the workflow it sits.
The loader also reads the file the way GitHub does: a duplicate key, an unknown top-level
key or a job with neither `runs-on` nor `uses` is refused (PE-PARSE), and a scalar of any
YAML type where GitHub expects a string (`run: true`) is that string.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from pe_policy.document import Document, SourceMap, Span
from pe_policy.findings import JsonPath, ParseError
from pe_policy.loaders import Source
from pe_policy.loaders.expressions import (
    ExpressionSyntaxError,
    Template,
    copied,
    find_templates,
    parse_expression_shared,
)
from pe_policy.loaders.structured import validate
from pe_policy.loaders.yaml_source import ScalarSource, load_yaml, new_span
from pe_policy.models.workflow import CompositeAction, Workflow

# keys whose value is an expression even without `${{ }}`
CONDITION_KEYS = frozenset({"if", "pre-if", "post-if"})
# keys GitHub reads as strings: a `true` or `42` there is the text as written
_STRING_KEYS = {
    "workflow": frozenset({"name", "run-name"}),
    "job": frozenset({"name", "uses"}),
    "step": frozenset({"id", "name", "uses", "run", "shell", "working-directory"}),
    "action": frozenset({"name", "description", "author"}),
    "runs": frozenset({"using", "main", "image", "pre", "post", "entrypoint"}),
}
_RECORDED_KEYS = CONDITION_KEYS.union(*_STRING_KEYS.values())
# what the loader adds to the file's own keys
_DERIVED = ("expressions", "scripts")
# under these keys the next key names an input, a variable, a secret or an output
_NAMED = frozenset({"with", "env", "secrets", "outputs", "inputs"})


def load(source: Source) -> Document:
    """The workflow or action.yml in `source`, read as GitHub reads it.

    The cyclic garbage collector is paused while it loads: a workflow is thousands of new
    dicts, lists and spans, none in a cycle, and in a run whose heap holds the engine and
    its policies the collections they trigger walk far more than them (0.05 s of the 1.5 s
    CPU of a 500-workflow run).  Reference counting still frees what it drops.
    """
    import gc

    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load(source)
    finally:
        if collecting:
            gc.enable()


def _load(source: Source) -> Document:
    is_action = source.kind == "action"
    scalars: dict[JsonPath, ScalarSource] = {}
    irregular: set[str] = set()
    data, spans = load_yaml(source.text, source.path, scalars=scalars,
                            scalar_keys=_RECORDED_KEYS, unique_keys=True, irregular=irregular)
    what = "action metadata" if is_action else "workflow"
    source_map = SourceMap(spans)
    if isinstance(data, dict):
        if not is_action:
            _check_top_level_keys(data, spans, source.path)
        _coerce_strings(data, scalars, source.text, is_action)
        reader = StringReader(source, scalars, source_map, is_action, tree=not irregular)
        data["expressions"] = list(reader.read(data))
        data["scripts"] = list(reader.scripts(data))
    model = validate(CompositeAction if is_action else Workflow, data, spans, source.path, what)
    if not is_action:
        _check_jobs(data, spans, source.path)
    return Document(kind=source.kind, path=source.path, model=model, source_map=source_map,
                    text=source.text, raw=data)


def prepare() -> None:
    """What the first workflow would build (loaders.prepare_loader): the top-level keys from
    the schema, the bash parser and its queries."""
    from pe_policy.loaders.shell import prepare as prepare_shell

    workflow_keys()
    prepare_shell()


def vendored_schema(name: str) -> Path:
    """`schemas/vendor/schemastore/<name>` in a checkout, or its copy inside an installed wheel."""
    package_dir = Path(__file__).resolve().parent.parent
    relative = Path("vendor") / "schemastore" / name
    installed = package_dir / "_schemas" / relative
    if installed.is_file():
        return installed
    return package_dir.parent.parent / "schemas" / relative


@lru_cache(maxsize=1)
def workflow_keys() -> frozenset[str]:
    """The top-level keys GitHub accepts, from SchemaStore's maintained workflow schema."""
    import json

    schema = json.loads(vendored_schema("github-workflow.json").read_text(encoding="utf-8"))
    return frozenset(schema["properties"])


def _check_top_level_keys(data: dict[str, Any], spans: dict[JsonPath, Span], path: str) -> None:
    """GitHub refuses a workflow with a key it does not know at the top."""
    for key in data:
        if key not in workflow_keys():
            span = spans.get((key,), Span(1))
            raise ParseError(path, f"workflow: unknown top-level key {key!r}: GitHub refuses the "
                             f"file (allowed: {', '.join(sorted(workflow_keys()))})",
                             span.line, span.column)


def _check_jobs(data: dict[str, Any], spans: dict[JsonPath, Span], path: str) -> None:
    """GitHub refuses a job that says neither where to run nor which workflow to call."""
    jobs = data.get("jobs")
    if isinstance(jobs, dict):
        for job_id, job in jobs.items():
            if isinstance(job, dict) and "runs-on" not in job and "uses" not in job:
                span = spans.get(("jobs", job_id), Span(1))
                raise ParseError(path, f"workflow: jobs.{job_id} has neither `runs-on` nor `uses`: "
                                 "GitHub refuses the file (a job runs on a runner or calls a "
                                 "reusable workflow)", span.line, span.column)


def _string_fields(data: dict[str, Any], is_action: bool) -> Iterator[tuple[dict[str, Any], JsonPath,
                                                                           frozenset[str]]]:
    """(mapping, its path, keys GitHub reads as strings there) for every level of the file."""
    def steps(container: Any, path: JsonPath) -> Iterator[tuple[dict[str, Any], JsonPath,
                                                              frozenset[str]]]:
        if isinstance(container, list):
            for index, step in enumerate(container):
                if isinstance(step, dict):
                    yield step, (*path, index), _STRING_KEYS["step"]

    if is_action:
        yield data, (), _STRING_KEYS["action"]
        runs = data.get("runs")
        if isinstance(runs, dict):
            yield runs, ("runs",), _STRING_KEYS["runs"]
            yield from steps(runs.get("steps"), ("runs", "steps"))
        return
    yield data, (), _STRING_KEYS["workflow"]
    jobs = data.get("jobs")
    if isinstance(jobs, dict):
        for job_id, job in jobs.items():
            if isinstance(job, dict):
                yield job, ("jobs", job_id), _STRING_KEYS["job"]
                yield from steps(job.get("steps"), ("jobs", job_id, "steps"))


def _coerce_strings(data: dict[str, Any], scalars: dict[JsonPath, ScalarSource], text: str,
                    is_action: bool) -> None:
    """`run: true`, `name: 2024`: GitHub reads the text as written, so do we."""
    for mapping, path, keys in _string_fields(data, is_action):
        for key, value in mapping.items():  # a value replaced, no key added: safe to iterate
            if key not in keys or value is None or isinstance(value, (str, dict, list)):
                continue
            scalar = scalars.get((*path, key))
            if scalar is not None and scalar.style == "":
                mapping[key] = text[scalar.start:scalar.end]
            else:
                mapping[key] = (("true" if value else "false") if isinstance(value, bool)
                                else str(value))


class _Lines:
    """Character offset in the file -> 1-based line and column."""

    def __init__(self, text: str) -> None:
        self.starts = _line_starts(text.split("\n"), 0)

    def at(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1


_ESCAPE_LENGTH = {"x": 4, "u": 6, "U": 10}


def align(value: str, text: str, scalar: ScalarSource) -> list[int] | _LineMapping:
    """For each offset in a scalar's value (and its end), the offset in the file it came from.

    The value differs from its source by indentation, folding, quotes and escapes, never by
    the non-blank characters of an expression; those are matched in order, so every token of
    an expression lands on its column in the file.
    """
    if scalar.style == "|":
        by_line = _literal_block(value, text, scalar)
        if by_line is not None:
            return by_line
    position = scalar.start
    end = scalar.end
    if scalar.style in ("", "'", '"'):  # most: one line, written as it reads
        first = position + (scalar.style != "")
        written = text[first:first + len(value)]
        if (written == value and first + len(value) <= end and "\n" not in value
                and not (scalar.style == '"' and "\\" in written)):
            return _Shift(first)
    if scalar.style in ("'", '"'):
        position += 1
    elif scalar.style in ("|", ">"):
        newline = text.find("\n", position, end)
        position = end if newline < 0 else newline + 1
    mapping = [0] * (len(value) + 1)
    double = scalar.style == '"'
    for index, char in enumerate(value):
        if double and position < end and text[position] == "\\":
            mapping[index] = position
            escape = text[position + 1] if position + 1 < end else ""
            if escape == "\n":  # an escaped line break: no character of the value
                position += 2
                while position < end and text[position] in " \t":
                    position += 1
                mapping[index] = position
                if position < end and text[position] == char:
                    position += 1
                continue
            position += _ESCAPE_LENGTH.get(escape, 2)
            continue
        if char in " \t\r\n":
            mapping[index] = position
            if position < end and text[position] == char:
                position += 1
            continue
        found = text.find(char, position, end)
        if found < 0:
            mapping[index] = position
            continue
        mapping[index] = found
        position = found + 1
    mapping[len(value)] = min(position, end)
    return mapping


class _LineMapping:
    """`align`'s answer for a literal block, worked out per line on demand: each line of
    the value is a line of the file less its indent (most scripts are thousands of
    characters, and a script's expressions and commands ask for a few dozen offsets)."""

    __slots__ = ("file_starts", "value_starts")

    def __init__(self, value_starts: list[int], file_starts: list[int]) -> None:
        self.value_starts = value_starts  # offset in the value of each line's first character
        self.file_starts = file_starts  # offset in the file of the same character

    def __getitem__(self, offset: int) -> int:
        line = bisect_right(self.value_starts, offset) - 1
        return self.file_starts[line] + offset - self.value_starts[line]


class _Shift(_LineMapping):
    """`align`'s answer for a one-line scalar written as it reads: offset `i` of the value is
    `first + i` in the file, on the line (and from the column) of `first`: one line whose
    spans StringReader._span works out by arithmetic."""

    __slots__ = ("column", "first", "line")

    def __init__(self, first: int) -> None:
        self.first = first
        self.line = 0  # worked out by the first StringReader._span that needs it
        self.column = 0

    def __getitem__(self, offset: int) -> int:
        return self.first + offset


def _literal_block(value: str, text: str, scalar: ScalarSource) -> _LineMapping | None:
    """`run: |` (most scripts): each line of the value is a line of the file less its indent.

    None when that does not hold (an indentation indicator, tabs): `align` then matches
    character by character.
    """
    header_end = text.find("\n", scalar.start, scalar.end)
    if header_end < 0 or any(c.isdigit() for c in text[scalar.start:header_end]):
        return None
    raw_lines = text[header_end + 1:scalar.end].split("\n")
    value_lines = value.split("\n")
    if len(value_lines) > len(raw_lines):
        return None
    indent = next((len(line) - len(line.lstrip(" ")) for line in raw_lines if line.strip()), 0)
    del raw_lines[len(value_lines):]  # chomped lines: fewer values
    if [raw[indent:] for raw in raw_lines] != value_lines:
        return None
    # where each line starts (after the previous one and its line break), in the value and
    # in the file; a line shorter than the indent (a blank one) starts at its end
    value_starts = _line_starts(value_lines, 0)
    file_starts = [start + min(indent, len(raw))
                   for start, raw in zip(_line_starts(raw_lines, header_end + 1), raw_lines,
                                         strict=True)]
    return _LineMapping(value_starts, file_starts)


def _line_starts(lines: list[str], first: int) -> list[int]:
    """Offset of each of `lines` when they are joined by line breaks from offset `first`."""
    from itertools import accumulate

    starts = list(accumulate(map((1).__add__, map(len, lines)), initial=first))
    del starts[-1]
    return starts


class StringReader:
    """The strings GitHub evaluates or runs: every `${{ }}` parsed, located and placed
    (ExpressionUse), and every `run:` script with its shell (ShellScript)."""

    def __init__(self, source: Source, scalars: dict[JsonPath, ScalarSource],
                 source_map: SourceMap, is_action: bool, tree: bool = False) -> None:
        self.source = source
        self.scalars = scalars
        # the data is a tree of the file's nodes in its order (no alias, merge key or second
        # document: load_yaml's `irregular`): `scalars` lists, in order, every string to read
        self.tree = tree
        self.source_map = source_map
        self.is_action = is_action
        self._lines: _Lines | None = None
        self._mappings: dict[JsonPath, list[int] | _LineMapping | None] = {}
        # the `${{ }}` of each string read (read() first): scripts() needs those of `run:`
        self._templates: dict[JsonPath, list[Template]] = {}

    def mapping(self, path: JsonPath, value: str) -> list[int] | _LineMapping | None:
        """Offsets in the string at `path` -> offsets in the file (None: no source, an alias)."""
        if path not in self._mappings:
            scalar = self.scalars.get(path)
            self._mappings[path] = (align(value, self.source.text, scalar)
                                    if scalar is not None else None)
        return self._mappings[path]

    @property
    def lines(self) -> _Lines:
        if self._lines is None:
            self._lines = _Lines(self.source.text)
        return self._lines

    def read(self, data: Any) -> Iterator[dict[str, Any]]:
        """Every `${{ }}` of the file's strings and every condition, in the file's order."""
        if self.tree:
            yield from self._read_recorded(data)
            return
        stack: list[tuple[JsonPath, Any]] = [((), data)]
        while stack:
            path, node = stack.pop()
            if isinstance(node, dict):
                stack.extend(((*path, key), value) for key, value in reversed(node.items())
                             if path or key not in _DERIVED)
            elif isinstance(node, list):
                stack.extend(((*path, index), value)
                             for index, value in reversed(list(enumerate(node))))
            elif self._holds_expressions(path, node):
                yield from self._scalar(path, node)

    def _read_recorded(self, data: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """read() without walking the data: load_yaml recorded every string that holds
        `${{` and every value under a condition key, in the file's order (see `tree`)."""
        for path, scalar in self.scalars.items():
            if path[0] in _DERIVED or not (scalar.expression or path[-1] in CONDITION_KEYS):
                continue
            node: Any = data
            for part in path:
                node = node[part]
            if self._holds_expressions(path, node):
                yield from self._scalar(path, node)

    def _holds_expressions(self, path: JsonPath, node: Any) -> bool:
        """A string with a `${{ }}` or a condition: everywhere, descriptions included, as
        GitHub's template reader parses every `${{ }}` of a workflow or action.yml and
        refuses the file over a bad one."""
        return isinstance(node, str) and ("${{" in node or self._is_condition(path))

    def _place(self, path: JsonPath) -> dict[str, Any]:
        """Scope (workflow, job, step, action), job id, step index, and the key within the scope."""
        job: str | None = None
        step: int | None = None
        if self.is_action:
            if path[:2] == ("runs", "steps") and len(path) > 2 and isinstance(path[2], int):
                scope, step, rest = "step", path[2], path[3:]
            else:
                scope, rest = "action", path[1:] if path[:1] == ("runs",) else path
        elif len(path) > 1 and path[0] == "jobs":
            job = str(path[1])
            if len(path) > 3 and path[2] == "steps" and isinstance(path[3], int):
                scope, step, rest = "step", path[3], path[4:]
            else:
                scope, rest = "job", path[2:]
        else:
            scope, rest = "workflow", path
        where = str(rest[0]) if rest else ""
        named = rest
        if rest[:2] == ("strategy", "matrix"):
            where, named = "matrix", rest[1:]
        name = named[1] if where in _NAMED and len(named) > 1 and isinstance(named[1], str) else None
        return {"scope": scope, "job": job, "step": step, "where": where, "name": name,
                "key_path": list(rest)}

    def _is_condition(self, path: JsonPath) -> bool:
        """`if:` (`pre-if`, `post-if`) of the workflow, a job, a step or the action itself."""
        if not path or path[-1] not in CONDITION_KEYS:
            return False
        return len(self._place(path)["key_path"]) == 1

    def _span(self, mapping: list[int] | _LineMapping | None, path: JsonPath, start: int, end: int) -> Span:
        if mapping is None:  # no source for this scalar (behind an alias): the node itself
            node = self.source_map.locate(path)
            return new_span(node.line, node.column, node.end_line, node.end_column)
        if mapping.__class__ is _Shift:  # one line: columns by arithmetic, no line lookups
            if not mapping.line:
                mapping.line, mapping.column = self.lines.at(mapping.first)
            return new_span(mapping.line, mapping.column + start, mapping.line,
                            mapping.column + max(start, end - 1) + (1 if end > start else 0))
        line, column = self.lines.at(mapping[start])
        # the end: just after the last character (mapped), so a span never runs past its text
        end_line, end_column = self.lines.at(mapping[max(start, end - 1)] + (1 if end > start else 0))
        return new_span(line, column, end_line, end_column)

    def _scalar(self, path: JsonPath, value: str) -> Iterator[dict[str, Any]]:
        mapping = self.mapping(path, value)
        implicit = "${{" not in value  # a condition without `${{ }}`: all of it is the expression
        try:
            templates = ([Template(0, len(value), 0, len(value))] if implicit
                         else find_templates(value))
        except ExpressionSyntaxError as exc:
            raise self._error(exc, mapping, path) from None
        self._templates[path] = templates
        place = self._place(path)
        for ordinal, template in enumerate(templates):
            body = value[template.body_start:template.body_end]
            base = template.body_start  # offsets in `parsed` are in `body`, shared (see below)
            try:
                parsed = parse_expression_shared(body)
            except ExpressionSyntaxError as exc:
                raise self._error(ExpressionSyntaxError(str(exc), base + exc.offset),
                                  mapping, path) from None
            at = (*path, ordinal)
            use: dict[str, Any] = {
                "path": list(path), "at": list(at), **place,
                "text": value[template.start:template.end],
                "expression": body.strip(),
                "implicit": implicit,
                "whole": template.start == 0 and template.end == len(value),
                "offset": template.start,
                **self._located(at, mapping, path, template.start, template.end),
                # the parse is shared by every string with this body: each use has its own copy
                "ast": copied(parsed.ast),
                "contexts": [
                    {"path": ".".join(ref.parts), "parts": list(ref.parts),
                     "written": list(ref.written),
                     "text": value[base + ref.start:base + ref.end],
                     "functions": list(ref.functions), "flows": ref.flows, "dynamic": ref.dynamic,
                     **self._located((*at, "contexts", index), mapping, path, base + ref.start,
                                     base + ref.end)}
                    for index, ref in enumerate(parsed.contexts)],
                "functions": [
                    {"name": call.name, "text": value[base + call.start:base + call.end],
                     "arguments": copied(call.arguments), "functions": list(call.functions),
                     "flows": call.flows,
                     **self._located((*at, "functions", index), mapping, path, base + call.start,
                                     base + call.end)}
                    for index, call in enumerate(parsed.calls)],
            }
            yield use

    def _located(self, at: JsonPath, mapping: list[int] | _LineMapping | None, path: JsonPath, start: int,
                 end: int) -> dict[str, Any]:
        """`at` and the position fields, with `at` entered in the source map."""
        span = self._span(mapping, path, start, end)
        self.source_map[at] = span
        return {"at": list(at), "line": span.line, "column": span.column,
                "end_line": span.end_line, "end_column": span.end_column}

    def _error(self, exc: ExpressionSyntaxError,
               mapping: list[int] | _LineMapping | None, path: JsonPath) -> ParseError:
        span = self._span(mapping, path, exc.offset, exc.offset + 1)
        dotted = ".".join(str(p) for p in path)
        return ParseError(self.source.path, f"{dotted}: invalid expression: {exc} (GitHub refuses "
                          "the file)", span.line, span.column)

    def scripts(self, data: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every `run:` with its shell; bash and sh scripts parsed (see ShellScript)."""
        for path, step, defaults in _run_steps(data, self.is_action):
            run = step.get("run")
            if not isinstance(run, str):
                continue
            shell = _shell_name(step.get("shell"), defaults)
            run_path = (*path, "run")
            script: dict[str, Any] = {"path": list(run_path), **self._place(run_path),
                                      "shell": shell, "parsed": shell in _BASH_SHELLS,
                                      "complete": False, "errors": [], "variables": [],
                                      "commands": [], "writes": []}
            if script["parsed"]:
                script.update(self._bash(run_path, run))
            yield script

    def _bash(self, path: JsonPath, run: str) -> dict[str, Any]:
        from pe_policy.loaders.shell import parse_bash

        # found by read() (a `run:` without `${{` has none)
        templates = [(t.start, t.end) for t in self._templates.get(path, [])]
        parsed = parse_bash(run, templates)
        mapping = self.mapping(path, run)

        def located(kind: str, index: int, start: int, end: int) -> dict[str, Any]:
            return {"text": run[start:end],
                    **self._located((*path, kind, index), mapping, path, start, end)}

        return {
            "complete": not parsed.errors,
            "errors": [{"line": span.line, "column": span.column}
                       for span in (self._span(mapping, path, offset, offset + 1)
                                    for offset in parsed.errors)],
            "variables": [{"name": v.name, "quoted": v.quoted,
                           **located("variables", i, v.start, v.end)}
                          for i, v in enumerate(parsed.variables)],
            # `parsed` is shared by every script of this text: each has its own lists
            "commands": [{"name": c.name, "arguments": list(c.arguments), "stdout": c.stdout,
                          "variables": list(c.variables),
                          "expansions": [[{"variable": what, "offset": offset} if kind == "variable"
                                          else {"expression": [*path, what], "offset": offset}
                                          for kind, what, offset in argument]
                                         for argument in c.expansions],
                          **located("commands", i, c.start, c.end)}
                         for i, c in enumerate(parsed.commands)],
            "writes": [{"file": w.file, "command": w.command, "names": list(w.names),
                        "variables": list(w.variables),
                        "expressions": [[*path, ordinal] for ordinal in w.expressions],
                        **located("writes", i, w.start, w.end)}
                       for i, w in enumerate(parsed.writes)],
        }


_BASH_SHELLS = frozenset({"bash", "sh"})


def _run_steps(data: dict[str, Any], is_action: bool) -> Iterator[tuple[JsonPath, dict[str, Any],
                                                                        list[Any]]]:
    """(step path, step, the `defaults` and `runs-on` that choose its shell, innermost first)."""
    def steps(container: Any, path: JsonPath, defaults: list[Any]) -> Iterator[
            tuple[JsonPath, dict[str, Any], list[Any]]]:
        if isinstance(container, list):
            for index, step in enumerate(container):
                if isinstance(step, dict):
                    yield (*path, index), step, defaults

    if is_action:
        runs = data.get("runs")
        if isinstance(runs, dict):
            yield from steps(runs.get("steps"), ("runs", "steps"), [])
        return
    jobs = data.get("jobs")
    if not isinstance(jobs, dict):
        return
    for job_id, job in jobs.items():
        if isinstance(job, dict):
            chain = [_default_shell(job.get("defaults")), _default_shell(data.get("defaults")),
                     "pwsh" if "windows" in str(job.get("runs-on", "")).lower() else None]
            yield from steps(job.get("steps"), ("jobs", job_id, "steps"), chain)


def _default_shell(defaults: Any) -> Any:
    run = defaults.get("run") if isinstance(defaults, dict) else None
    return run.get("shell") if isinstance(run, dict) else None


def _shell_name(shell: Any, defaults: list[Any]) -> str:
    """`bash`, `sh`, `pwsh`, `python`, `cmd`...: the program of `shell:` (`bash -e {0}` -> bash).

    The step's own, else the job's and the workflow's `defaults.run.shell`, else what GitHub
    runs by default: pwsh on Windows runners, bash elsewhere.  An expression stays as written.
    """
    for candidate in (shell, *defaults):
        if isinstance(candidate, str) and candidate.strip():
            if "${{" in candidate:
                return candidate.strip()
            return candidate.split()[0].rsplit("/", 1)[-1]
    return "bash"
