"""conftest's built-ins for policies and their unit tests, on regorus:

* `parse_config(parser, text)`: `text` parsed by conftest's parser of that name;
* `parse_config_file(path)`: the file at `path` (relative to the calling policy's
  directory), parsed by the parser its name calls for;
* `parse_combined_config_files([path, ...])`: the files, combined as `--combine` does
  (`[{path, contents}, ...]`).

regorus extensions do not know which module calls them, so each module is handed to the
engine with its directory as a first argument of the two file built-ins (`with_directory`).
Files are read only inside the current directory (the repository being verified): a path
that leads out of it, directly or through a link, is an error, never read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pe_policy.engine.rego import PolicyError, RegoModule

NAMES = frozenset({"parse_config", "parse_config_file", "parse_combined_config_files"})
_FILE_CALL = re.compile(r"(?<![\w.])(parse_config_file|parse_combined_config_files)\(")


def with_directory(module: RegoModule) -> RegoModule:
    """The module, each file built-in called with the module's directory first."""
    if not _FILE_CALL.search(module.text):
        return module
    directory = Path(module.path).parent.as_posix()
    quoted = '"' + directory.replace("\\", "\\\\").replace('"', '\\"') + '", '
    return replace(module, text=_FILE_CALL.sub(lambda m: f"{m.group(1)}({quoted}", module.text))


def _inside(directory: str, path: str) -> Path:
    import os

    joined = os.path.normpath(os.path.join(directory, path))
    here = Path.cwd().resolve()
    target = (here / joined).resolve()
    if not target.is_relative_to(here):
        raise ValueError(f"{path}: outside the current directory (pe-policy reads files only "
                         "inside it)")
    return Path(joined)


def _parse(parser: str, text: str, path: str) -> Any:
    from pe_policy.conftest.inputs import parse_text

    return parse_text(text, path, parser).value


def parse_config(parser: str, text: str) -> Any:
    return _parse(parser, text, "<parse_config>")


def parse_config_file(directory: str, path: str) -> Any:
    from pe_policy.conftest.inputs import parser_for

    file = _inside(directory, path)
    parser = parser_for(file.as_posix(), None)
    if parser is None:
        raise ValueError(f"{path}: conftest has no parser for this file")
    return _parse(parser, file.read_text(encoding="utf-8"), file.as_posix())


def parse_combined_config_files(directory: str, paths: list[str]) -> Any:
    from pe_policy.conftest.inputs import combined, parse_text, parser_for

    configs = []
    for path in paths:
        file = _inside(directory, path)
        parser = parser_for(file.as_posix(), None)
        if parser is None:
            raise ValueError(f"{path}: conftest has no parser for this file")
        configs.append(parse_text(file.read_text(encoding="utf-8"), file.as_posix(), parser))
    return combined(configs).value


def refusal(modules: Sequence[RegoModule]) -> PolicyError | None:
    """The first module the sandbox refuses, a call to one of these built-ins counting as the
    module's own (everything else judged as `sandbox.refusals` judges it)."""
    from pe_policy.engine import sandbox

    own: dict[str, set[str]] = {}
    for module in modules:
        own.setdefault(module.package, set()).update(h.name for h in module.rules)
    for module in modules:
        error = sandbox.refusal(module, own.get(module.package, set()) | NAMES)
        if error is not None:
            return error
    return None


def engine_for(name: str, options: dict[str, Any], modules: list[RegoModule],
               data: dict[str, Any]) -> Any:
    """A backend holding `modules` (judged by `refusal` first) and `data`; on regorus, with
    these built-ins.  PolicyError for the first module refused or rejected."""
    from pe_policy.engine.backends import make_backend

    refused = refusal(modules)
    if refused is not None:
        raise refused
    backend = make_backend(name, **options)
    native = getattr(backend, "engine", None) if name == "regorus" else None
    if native is not None:
        register(native)
        modules = [with_directory(m) for m in modules]
    for module in modules:
        backend.add_module(module)
    backend.set_data(data)
    compile_now = getattr(backend, "refused_modules", None)
    for error in compile_now() if compile_now is not None else ():
        raise error
    return backend


def register(native: Any) -> None:
    """Add the built-ins to a regorus engine."""
    native.add_extension("parse_config", 2, parse_config)
    native.add_extension("parse_config_file", 2, parse_config_file)
    native.add_extension("parse_combined_config_files", 2, parse_combined_config_files)
