"""What Python compiles again at every start-up, compiled once per interpreter instead.

Three things are compiled from the same text on every run of the command, before any input is
read: dataclass methods, string annotations and regular expressions.

* `dataclasses` writes each class's `__init__`, `__repr__`, `__eq__`, `__hash__` (and a
  frozen class's `__setattr__`/`__delattr__`) as source text and compiles it with `exec`
  whenever the class is defined: a `pe-policy check` on one workflow defines about 90 (its
  own records, pydantic's and annotated-types'), 400 compilations, 20 ms.
* `typing` compiles each annotation written as a string (`ForwardRef`): pydantic-core's 85
  schema types alone have 730, 5 ms.
* `re` parses each pattern and assembles its matching program in Python, at import for most
  of them: 70 patterns, 12 ms (a third of it one character class in PyYAML's reader).

That was 35 ms of a 230 ms pre-commit run on one workflow.  So the `pe-policy` command
(`cli.run`, like `without_pydantic_plugins`) keeps the results in the user cache, as Python
keeps a module's bytecode in `__pycache__`: one file per interpreter, mapping each method's
and annotation's exact source text to its code object, and each pattern (with its flags) to
its matching program.  Where Python would compile a text the file has, it takes the result
from the file (1 ms to read them all); a text not seen before is compiled as before and kept
for the next run.  The classes, annotations and patterns are the same either way: only the
compilation is skipped.

Matching programs are `re`'s internal format: they are kept only for the exact interpreter
build and `_sre` engine (`_ENGINE`), only on Python 3.11, whose `re._compiler.compile`
`_compile_pattern` follows step by step (other versions compile patterns as usual), and one
that `_sre` refuses is compiled again.

The file holds code that is executed, so it is read only when it is a regular file owned by
this user that no one else may write (the rule for `~/.ssh`), and written with mode 0600.
`PE_POLICY_CACHE_DIR` set to an empty value turns it off with the rest of the cache.
Importing pe_policy as a library changes nothing.
"""

import _sre
import builtins
import dataclasses
import marshal
import os
import sys
import typing
from array import array
from pathlib import Path
from types import CodeType
from typing import Any

from pe_policy.cache_dir import cache_directory, read_trusted

_MAX_ENTRIES = 5000  # per table: texts of several versions of pe-policy and its libraries
# a matching program is only valid for the engine that made it
_ENGINE = f"{sys.version}\0{_sre.MAGIC}\0{_sre.CODESIZE}"

# pattern key (type name, pattern, flags) -> (flags, program, groups - 1, groupindex, indexgroup);
# the program as the bytes of an array of _sre code words: one object to read back, not one per
# word (a table of every pattern pe-policy's loaders use took 5 ms to read as lists of ints)
_Program = tuple[int, bytes, int, dict[str, int], tuple[str | None, ...]]
_WORD = {2: "H", 4: "I", 8: "Q"}.get(_sre.CODESIZE, "I")

_methods: dict[str, CodeType] = {}
_annotations: dict[str, CodeType] = {}
_patterns: dict[tuple[str, str | bytes, int], _Program] = {}
_new_methods: dict[str, CodeType] = {}  # compiled in this run: written back by `save`
_new_annotations: dict[str, CodeType] = {}
_new_patterns: dict[tuple[str, str | bytes, int], _Program] = {}
_file: str | None = None
_re_modules: Any = (None, None)  # re._compiler and re._parser, once replaced
_original_compile: Any = None  # `re._compiler.compile` as it was


def _cache_file() -> str | None:
    directory = cache_directory()
    tag = sys.implementation.cache_tag
    if directory is None or tag is None:
        return None
    return os.path.join(directory, f"compiled-{tag}.marshal")


def _cached_code(source: str, mode: str, known: dict[str, CodeType],
                 new: dict[str, CodeType]) -> CodeType:
    """The code of `source` from the cache, else compiled as the caller would have.

    `dont_inherit=True`: `dataclasses` and `typing` have no `from __future__` flags to pass
    on to what they compile."""
    code = known.get(source) or new.get(source)
    if code is None:
        code = new[source] = compile(source, "<string>", mode, dont_inherit=True)
    return code


def _exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:
    """`exec` as dataclasses calls it: a method's text, with its code from the cache."""
    if isinstance(source, str):
        source = _cached_code(source, "exec", _methods, _new_methods)
    builtins.exec(source, globals, locals)


def _compile(source: Any, filename: Any, mode: str, *args: Any, **kwargs: Any) -> Any:
    """`compile` as typing's ForwardRef calls it: an annotation's text, with its code from the
    cache (anything else is compiled as asked)."""
    if isinstance(source, str) and filename == "<string>" and mode == "eval" and not (args or kwargs):
        return _cached_code(source, "eval", _annotations, _new_annotations)
    return builtins.compile(source, filename, mode, *args, **kwargs)


def _compile_pattern(pattern: Any, flags: int = 0) -> Any:
    """`re._compiler.compile` (Python 3.11), with the matching program from the cache."""
    compiler, parser = _re_modules
    if not isinstance(pattern, (str, bytes)) or flags & compiler.SRE_FLAG_DEBUG:
        return _original_compile(pattern, flags)
    key = (type(pattern).__name__, pattern, int(flags))  # ints: a RegexFlag is no marshal type
    program = _patterns.get(key) or _new_patterns.get(key)
    if program is None:
        parsed = parser.parse(pattern, flags)
        code = array(_WORD, compiler._code(parsed, flags)).tobytes()
        groupindex = dict(parsed.state.groupdict)
        names: list[str | None] = [None] * parsed.state.groups
        for name, index in groupindex.items():
            names[index] = name
        program = _new_patterns[key] = (int(flags | parsed.state.flags), code,
                                        parsed.state.groups - 1, groupindex, tuple(names))
    final_flags, code, groups, groupindex, indexgroup = program
    try:
        words = array(_WORD)
        words.frombytes(code)
        return _sre.compile(pattern, final_flags, words.tolist(), groups, groupindex, indexgroup)
    except (RuntimeError, TypeError, ValueError, OverflowError):  # not a program _sre takes
        _patterns.pop(key, None)
        _new_patterns.pop(key, None)
        return _original_compile(pattern, flags)


def _read(path: str) -> dict[str, Any]:
    data = read_trusted(path)
    if data is None:
        return {}
    try:
        table = marshal.loads(data)
    except (EOFError, ValueError, TypeError):  # torn or not ours: compile again
        return {}
    return table if isinstance(table, dict) else {}


def _valid_codes(table: Any) -> dict[str, CodeType]:
    if not isinstance(table, dict):
        return {}
    return {text: code for text, code in table.items()
            if isinstance(text, str) and isinstance(code, CodeType)}


def _valid_patterns(table: Any) -> dict[tuple[str, str | bytes, int], _Program]:
    if not isinstance(table, dict):
        return {}
    valid = {}
    for key, program in table.items():
        if (isinstance(key, tuple) and len(key) == 3 and isinstance(program, tuple)
                and len(program) == 5 and isinstance(program[1], bytes)):
            valid[key] = program
    return valid


def use_compile_cache() -> None:
    """From now on, dataclasses, string annotations and regular expressions made in this
    process take their compiled form from the cache (see the module doc).  Does nothing
    without a cache directory, or when something else already replaced what it replaces."""
    global _file, _re_modules, _original_compile
    if _file is not None or "exec" in vars(dataclasses) or "compile" in vars(typing):
        return
    _file = _cache_file()
    if _file is None:
        return
    table = _read(_file)
    _methods.update(_valid_codes(table.get("methods")))
    _annotations.update(_valid_codes(table.get("annotations")))
    dataclasses.exec = _exec  # type: ignore[attr-defined]
    typing.compile = _compile  # type: ignore[attr-defined]
    if sys.version_info[:2] != (3, 11):
        return
    from re import _compiler, _parser  # type: ignore[attr-defined]

    if _compiler.compile.__module__ == "re._compiler":  # not already replaced
        if table.get("engine") == _ENGINE:
            _patterns.update(_valid_patterns(table.get("patterns")))
        _re_modules = (_compiler, _parser)
        _original_compile = _compiler.compile
        _compiler.compile = _compile_pattern


def _merged(known: dict[Any, Any], new: dict[Any, Any]) -> dict[Any, Any]:
    merged = {**known, **new}
    return merged if len(merged) <= _MAX_ENTRIES else dict(new)  # beyond that, start over


def save_compile_cache() -> None:
    """Keep what this run compiled for the next one (nothing to do on a warm cache)."""
    if _file is None or not (_new_methods or _new_annotations or _new_patterns):
        return
    table = {"engine": _ENGINE, **{
        name: _merged(known, new) for name, known, new in (
            ("methods", _methods, _new_methods),
            ("annotations", _annotations, _new_annotations),
            ("patterns", _patterns, _new_patterns))}}
    from pe_policy.output import write_atomic

    try:
        os.makedirs(os.path.dirname(_file), mode=0o700, exist_ok=True)
        # a reader sees the old table or this one; 0600 whatever the umask (see _trusted)
        write_atomic(Path(_file), marshal.dumps(table), mode=0o600)
    except (OSError, ValueError):  # read-only or full disk, or a value marshal refuses: the
        return  # next run compiles again
    _methods.update(_new_methods)
    _annotations.update(_new_annotations)
    _patterns.update(_new_patterns)
    _new_methods.clear()
    _new_annotations.clear()
    _new_patterns.clear()
