"""Terraform plans as JSON (`terraform show -json tfplan`).

Speed first: a plan of 10,000 resources is tens of megabytes.  The text is
decoded once by `json` (with the cyclic garbage collector paused: millions of
fresh containers would otherwise trigger it over and over), the decoded data
is the input Rego sees as it is, and the pydantic model validates its large
parts only when a Python rule reads them.

Positions are computed only when a finding needs one.  JSON carries none, so a
resource change is found by its `"address": "..."` in the text (one forward
scan for all of them); when the configuration sits beside the plan (`.tf`
files in the plan's directory or a parent), the resource maps to its block in
the `.tf` file, and a path into `change.after` (`ingress[0].cidr_blocks`) maps
to that attribute's line in the block.
"""

from __future__ import annotations

import gc
import json
import os
import posixpath
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pe_policy.document import Document, SourceMap, Span
from pe_policy.findings import JsonPath, ParseError
from pe_policy.loaders import NotOfKind, Source
from pe_policy.models.terraform_plan import TerraformPlan

GC_PAUSE_BYTES = 1_000_000  # below this, decoding is fast enough with the collector on
MAX_PARENT_LEVELS = 4  # how far above the plan to look for the configuration

_ADDRESS = re.compile(r'"address"\s*:\s*("(?:[^"\\]|\\.)*")')
_MODULE_STEP = re.compile(r'module\.([A-Za-z0-9_-]+)(?:\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\])?')


# ---------------------------------------------------------------------------- decoding


def decode(source: Source) -> Any:
    """`json.loads`, the collector paused for big inputs; errors as ParseError."""
    big = len(source.text) >= GC_PAUSE_BYTES
    paused = big and gc.isenabled()
    if paused:
        gc.disable()
    try:
        return json.loads(source.text)
    except json.JSONDecodeError as exc:
        raise ParseError(source.path, f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise ParseError(source.path, "invalid JSON: nested too deeply") from None
    finally:
        if paused:
            gc.freeze()  # the plan's objects are never garbage: keep later collections off them
            gc.enable()


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _key_position(text: str, key: str) -> tuple[int, int]:
    offset = text.find(f'"{key}"')
    return _position(text, offset) if offset >= 0 else (1, 1)


def _shape_error(source: Source, index: int, rc: Any, problem: str) -> ParseError:
    if isinstance(rc, dict) and isinstance(rc.get("address"), str):
        found = address_positions(source.text, [rc["address"]], _changes_offset(source.text))[0]
        line, column = found or _key_position(source.text, "resource_changes")
    else:
        line, column = _key_position(source.text, "resource_changes")
    return ParseError(source.path, f"not a valid Terraform plan: resource_changes[{index}]: {problem}",
                      line, column)


def not_a_plan(data: dict[str, Any]) -> str | None:
    """Why `data` is not decisively `terraform show -json` output of a plan; None if it is.

    Terraform writes `format_version` and `terraform_version` (strings) and the plan's
    `planned_values` (an object) and `resource_changes` (an array; absent when nothing
    changes): a JSON schema of a plan names the same keys with other values.
    """
    for key in ("format_version", "terraform_version"):
        if not isinstance(data.get(key), str):
            return f"\"{key}\" is not a version string"
    planned, changes = data.get("planned_values"), data.get("resource_changes")
    if planned is not None and not isinstance(planned, dict):
        return "\"planned_values\" is not an object"
    if changes is not None and not isinstance(changes, list):
        return "\"resource_changes\" is not an array"
    if planned is None and changes is None:
        return "neither \"planned_values\" nor \"resource_changes\""
    return None


def check_shape(source: Source, data: Any) -> dict[str, Any]:
    """What the rules and the source map rely on; the rest is validated on use."""
    if not isinstance(data, dict):
        raise NotOfKind(source.path, "a Terraform plan must be a JSON object "
                        f"(`terraform show -json tfplan`), found a {type(data).__name__}")
    if not isinstance(data.get("format_version"), str):
        raise NotOfKind(source.path, "not a Terraform plan: no \"format_version\" "
                        "(write the plan with `terraform show -json tfplan`)",
                        *_key_position(source.text, "format_version"))
    if "resource_changes" not in data and "planned_values" not in data:
        hint = " (this looks like state: use the plan file)" if "values" in data else ""
        raise NotOfKind(source.path, f"not a Terraform plan: no \"resource_changes\"{hint}")
    if source.sniffed:  # guessed from its first kilobytes: the whole shape must be a plan's
        why = not_a_plan(data)
        if why is not None:
            raise NotOfKind(source.path, f"not a Terraform plan: {why}")
    changes = data.get("resource_changes", [])
    if not isinstance(changes, list):
        raise ParseError(source.path, "not a valid Terraform plan: resource_changes must be a list",
                         *_key_position(source.text, "resource_changes"))
    for index, rc in enumerate(changes):
        if not isinstance(rc, dict):
            raise _shape_error(source, index, rc, "must be an object")
        for key in ("address", "type"):
            if not isinstance(rc.get(key), str):
                raise _shape_error(source, index, rc, f"{key!r} must be a string")
        change = rc.get("change")
        actions = change.get("actions") if isinstance(change, dict) else None
        if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
            raise _shape_error(source, index, rc, "change.actions must be a list of strings")
    return data


# --------------------------------------------------------------------------- positions


def _changes_offset(text: str) -> int:
    """Where `resource_changes` starts: `planned_values` and `resource_drift` come first
    and hold the same addresses."""
    match = re.search(r'"resource_changes"\s*:\s*\[', text)
    return match.end() if match else 0


def address_positions(text: str, addresses: list[str], start: int = 0) -> list[tuple[int, int] | None]:
    """(line, column) of each address's `"address": "..."` key, in order, in one forward scan."""
    result: list[tuple[int, int] | None] = [None] * len(addresses)
    found: list[tuple[int, str]] = []
    for match in _ADDRESS.finditer(text, start):
        literal = match.group(1)
        value = literal[1:-1] if "\\" not in literal else _decode_string(literal)
        found.append((match.start(), value))
    cursor = 0
    line, line_start, counted = 1, 0, 0
    for index, address in enumerate(addresses):
        probe = cursor
        while probe < len(found) and found[probe][1] != address:
            probe += 1
        if probe == len(found):
            continue  # not in the text as expected: the resource falls back to the file
        offset = found[probe][0]
        newlines = text.count("\n", counted, offset)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", counted, offset) + 1
        counted = offset
        result[index] = (line, offset - line_start + 1)
        cursor = probe + 1
    return result


def _decode_string(literal: str) -> str:
    try:
        value = json.loads(literal)
    except ValueError:
        return literal[1:-1]
    return value if isinstance(value, str) else literal[1:-1]


def module_names(module_address: str | None) -> tuple[str, ...]:
    """`module.net["a"].module.subnets[0]` -> ("net", "subnets")."""
    if not module_address:
        return ()
    return tuple(_MODULE_STEP.findall(module_address))


def _has_tf_files(directory: Path) -> bool:
    try:
        return any(name.endswith((".tf", ".tf.json")) for name in os.listdir(directory))
    except OSError:
        return False


class ConfigIndex:
    """The `.tf` configuration beside a plan: module path -> parsed files and their blocks."""

    def __init__(self, source: Source, data: dict[str, Any]) -> None:
        self._source = source
        self._data = data
        self._root_dir: Path | None = None
        self._modules: dict[tuple[str, ...], tuple[list[Any], dict[tuple[str, str], tuple[int, int]]]] = {}
        if source.abs_path is not None:
            self._root_dir = self._find_root_dir(source.abs_path.parent)

    # where the configuration is
    def _display(self, directory: Path) -> str | None:
        """`directory` relative to the repository root (POSIX); None when outside it."""
        source = self._source
        if source.root is not None:
            try:
                rel = directory.resolve().relative_to(source.root.resolve()).as_posix()
            except ValueError:
                return None
            return "" if rel == "." else rel
        assert source.abs_path is not None
        rel = os.path.relpath(directory, source.abs_path.parent)
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(source.path),
                                                   Path(rel).as_posix()))
        return "" if joined == "." else joined

    def _load_dir(self, directory: Path) -> tuple[list[Any], dict[tuple[str, str], tuple[int, int]]]:
        display = self._display(directory)
        if display is None or not _has_tf_files(directory):  # a plan alone: no HCL loader import
            return [], {}
        from pe_policy.loaders.terraform import parse_module

        files = parse_module(directory, display, self._source.root)
        index: dict[tuple[str, str], tuple[int, int]] = {}
        for file_index, parsed in enumerate(files):
            for key, block_index in parsed.block_index().items():
                index.setdefault(key, (file_index, block_index))
        return files, index

    def _root_addresses(self) -> set[tuple[str, str]]:
        """(mode, type.name) of root-module resources, to recognise the right directory."""
        keys: set[tuple[str, str]] = set()
        for rc in self._data.get("resource_changes") or ():
            if not rc.get("module_address"):
                keys.add(("data" if rc.get("mode") == "data" else "resource",
                          f"{rc['type']}.{rc.get('name', '')}"))
        return keys

    def _find_root_dir(self, start: Path) -> Path | None:
        root = self._source.root.resolve() if self._source.root is not None else None
        wanted = self._root_addresses()
        directory = start.resolve()
        for _ in range(MAX_PARENT_LEVELS + 1):
            files, index = self._load_dir(directory)
            if files and (not wanted or wanted & index.keys()):
                self._modules[()] = (files, index)
                return directory
            if root is None or directory == root or root not in directory.parents:
                return None
            directory = directory.parent
        return None

    def _module(self, names: tuple[str, ...]) -> tuple[list[Any], dict[tuple[str, str], tuple[int, int]]]:
        cached = self._modules.get(names)
        if cached is not None:
            return cached
        result: tuple[list[Any], dict[tuple[str, str], tuple[int, int]]] = ([], {})
        directory = self._module_dir(names)
        if directory is not None:
            result = self._load_dir(directory)
        self._modules[names] = result
        return result

    def _module_dir(self, names: tuple[str, ...]) -> Path | None:
        """Follow local `source = "./..."` module calls from the root module's directory."""
        if self._root_dir is None:
            return None
        configuration = self._data.get("configuration")
        module = configuration.get("root_module") if isinstance(configuration, dict) else None
        directory = self._root_dir
        for name in names:
            calls = module.get("module_calls") if isinstance(module, dict) else None
            call = calls.get(name) if isinstance(calls, dict) else None
            source = call.get("source") if isinstance(call, dict) else None
            if call is None or not isinstance(source, str) or not source.startswith(("./", "../")):
                return None  # a registry or git module: its code is not in this repository
            directory = (directory / source).resolve()
            module = call.get("module")
        return directory

    def block_for(self, rc: dict[str, Any]) -> tuple[Any, int] | None:
        """The parsed `.tf` file and block index declaring resource change `rc`."""
        if self._root_dir is None:
            return None
        files, index = self._module(module_names(rc.get("module_address")))
        key = ("data" if rc.get("mode") == "data" else "resource", f"{rc['type']}.{rc.get('name', '')}")
        found = index.get(key)
        if found is None:
            return None
        return files[found[0]], found[1]


def _score(plan_item: Any, tf_item: Any) -> int:
    if isinstance(plan_item, dict) and isinstance(tf_item, dict):
        return sum(1 for k, v in tf_item.items() if k in plan_item and plan_item[k] == v)
    return 1 if plan_item == tf_item else 0


def _match_index(plan_list: Any, index: int, tf_list: list[Any]) -> int | None:
    """The `.tf` element a plan list element came from.

    Nested blocks like `ingress` are sets: the plan orders them by hash, not
    as written, so the element is matched by content; on a tie, by position.
    """
    if not tf_list:
        return None
    plan_item = plan_list[index] if isinstance(plan_list, list) and 0 <= index < len(plan_list) else None
    if plan_item is None:
        return index if index < len(tf_list) else None
    scores = [_score(plan_item, tf_item) for tf_item in tf_list]
    best = max(scores)
    if best == 0:
        return index if index < len(tf_list) else None
    if index < len(tf_list) and scores[index] == best:
        return index
    return scores.index(best)


def _decoded(value: Any) -> Any:
    """A policy attribute is a JSON string in the plan and an object in the `.tf` file."""
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class PlanSourceMap(SourceMap):
    """Resource changes located by address; `.tf` blocks and attributes when the config is beside."""

    def __init__(self, source: Source, data: dict[str, Any]) -> None:
        super().__init__(resolver=self._resolve)
        self._plan_source = source
        self._data = data
        self._config: ConfigIndex | None = None

    @property
    def config(self) -> ConfigIndex:
        if self._config is None:
            self._config = ConfigIndex(self._plan_source, self._data)
        return self._config

    def _resolve(self) -> dict[JsonPath, Span]:
        text = self._plan_source.text
        spans: dict[JsonPath, Span] = {}
        for key in ("resource_changes", "configuration", "planned_values", "prior_state"):
            if key in self._data:
                spans[(key,)] = Span(*_key_position(text, key))
        changes: list[dict[str, Any]] = self._data.get("resource_changes") or []
        positions = address_positions(text, [rc["address"] for rc in changes], _changes_offset(text))
        config = self.config
        for index, (rc, position) in enumerate(zip(changes, positions, strict=True)):
            target = config.block_for(rc)
            if target is not None:
                parsed, block_index = target
                block = parsed.spans.get(("blocks", block_index))
                if block is not None:
                    spans[("resource_changes", index)] = Span(
                        block.line, block.column, block.end_line, block.end_column, path=parsed.path)
                    continue
            if position is not None:
                spans[("resource_changes", index)] = Span(*position)
        return spans

    def locate(self, path: Iterable[str | int]) -> Span:
        key = tuple(path)
        if (len(key) > 4 and key[0] == "resource_changes" and isinstance(key[1], int)
                and key[2] == "change" and key[3] == "after"):
            span = self._attribute_span(key[1], key[4:])
            if span is not None:
                return span
        return super().locate(key)

    def _attribute_span(self, index: int, rest: JsonPath) -> Span | None:
        """A path under `change.after` -> the attribute's line in the `.tf` block."""
        changes = self._data.get("resource_changes") or []
        if not 0 <= index < len(changes):
            return None
        rc = changes[index]
        target = self.config.block_for(rc)
        if target is None:
            return None
        parsed, block_index = target
        tf_path: list[str | int] = ["blocks", block_index, "values"]
        tf_value: Any = parsed.blocks[block_index]["values"]
        plan_value: Any = (rc.get("change") or {}).get("after")
        for step in rest:
            plan_value = _decoded(plan_value)
            if isinstance(step, int) and isinstance(tf_value, list):
                matched = _match_index(plan_value, step, tf_value)
                if matched is None:
                    break
                tf_path.append(matched)
                tf_value = tf_value[matched]
                plan_value = plan_value[step] if isinstance(plan_value, list) and step < len(plan_value) else None
            elif isinstance(step, str) and isinstance(tf_value, dict) and step in tf_value:
                tf_path.append(step)
                tf_value = tf_value[step]
                plan_value = plan_value.get(step) if isinstance(plan_value, dict) else None
            else:
                break
        spans = parsed.spans
        probe = tuple(tf_path)
        while len(probe) >= 2:
            span = spans.get(probe)
            if span is not None:
                return Span(span.line, span.column, span.end_line, span.end_column, path=parsed.path)
            probe = probe[:-1]
        return None


# --------------------------------------------------------------------------------- load


def load(source: Source) -> Document:
    data = check_shape(source, decode(source))
    return Document(kind=source.kind, path=source.path, model=TerraformPlan.lazy(data),
                    source_map=PlanSourceMap(source, data), text=source.text, raw=data,
                    input_json=source.text)  # raw is json.loads(text): Rego reads the text
