"""A `.tf` file written out again in Terraform's JSON syntax (`.tf.json`), for twin tests.

The HCL loader reads the `.tf` file; this writes what a person (or CDK for Terraform) would
write for it in JSON, following https://developer.hashicorp.com/terraform/language/syntax/json:
block types and labels as nested objects (an array where a label repeats, `provider "aws"`
with an alias), nested blocks as objects (one) or arrays of objects, expressions as `"${...}"`
strings, `jsonencode({...})` as `"${jsonencode({...})}"` (an HCL object written in JSON's
syntax, which HCL reads), and the arguments Terraform reads without `${}` (`depends_on`, a
resource's `provider`, `lifecycle.ignore_changes`, a variable's `type`, a dynamic block's
`iterator`) as bare expressions.  Only the blocks' values are read from the loader: which
argument holds a `jsonencode` call is read from the `.tf` text itself.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from pe_policy.findings import JsonPath
from pe_policy.loaders.terraform import parse_config

_BARE_ITEMS = frozenset({"depends_on", "ignore_changes", "replace_triggered_by"})
_LABELLED_NESTED = frozenset({"dynamic", "provisioner"})
_ARGUMENTS_ONLY = frozenset({"variable", "locals", "module", "output"})  # bodies without blocks


def _bare(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return value


class _Writer:
    def __init__(self, text: str, spans: dict[JsonPath, Any]) -> None:
        self.lines = text.splitlines()
        self.spans = spans

    def _is_jsonencode(self, path: JsonPath) -> bool:
        span = self.spans.get(path)
        if span is None:
            return False
        line = self.lines[span.line - 1]
        return re.search(r"=\s*jsonencode\(", line) is not None

    def body(self, values: dict[str, Any], path: JsonPath, block_type: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in values.items():
            here: JsonPath = (*path, key)
            if key in _LABELLED_NESTED and isinstance(value, list):
                out[key] = [{label: self.body(inner, (*here, n, label), key)
                             for label, inner in item.items()} for n, item in enumerate(value)]
            elif key in _BARE_ITEMS and isinstance(value, list):
                out[key] = [_bare(item) for item in value]
            elif key == "providers" and block_type == "module" and isinstance(value, dict):
                out[key] = {name: _bare(item) for name, item in value.items()}
            elif (key == "provider" and block_type in ("resource", "data")) or (
                    key == "type" and block_type == "variable") or (
                    key == "iterator" and block_type == "dynamic"):
                out[key] = _bare(value)
            elif isinstance(value, (dict, list)) and self._is_jsonencode(here):
                out[key] = "${jsonencode(" + json.dumps(value) + ")}"
            elif (isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
                  and block_type not in _ARGUMENTS_ONLY):
                out[key] = [self.body(item, (*here, n), key) for n, item in enumerate(value)]
                if len(out[key]) == 1:
                    out[key] = out[key][0]  # one nested block: an object, as CDKTF writes it
            else:
                out[key] = value
        return out


def to_tf_json(text: str, path: str) -> str:
    """`text` (a `.tf` file) in Terraform's JSON syntax."""
    parsed = parse_config(text, path)
    writer = _Writer(text, parsed.spans)
    root: dict[str, Any] = {"//": f"the JSON twin of {Path(path).name}"}
    for index, block in enumerate(parsed.blocks):
        body = writer.body(block["values"], ("blocks", index, "values"), block["block_type"])
        labels = block["labels"]
        if not labels:
            root.setdefault(block["block_type"], []).append(body)
            continue
        level = root.setdefault(block["block_type"], {})
        for label in labels[:-1]:
            level = level.setdefault(label, {})
        level.setdefault(labels[-1], []).append(body)
    for block_type, value in root.items():
        if block_type != "//":
            root[block_type] = _one_body_bare(value)
    return json.dumps(root, indent=2) + "\n"


def _one_body_bare(level: Any) -> Any:
    """Below a block type, the label levels: where one body has the labels, the body itself
    (the common form); several stay an array (`provider "aws"` twice, with an alias)."""
    if isinstance(level, list):
        return level[0] if len(level) == 1 else level
    return {label: _one_body_bare(inner) for label, inner in level.items()}


def twin_tree(source: Path, target: Path) -> list[str]:
    """`source` copied to `target` with every `.tf` file replaced by its `.tf.json` twin;
    the names of the files converted, relative to `target`."""
    shutil.copytree(source, target)
    converted: list[str] = []
    for tf in sorted(target.rglob("*.tf")):
        text = tf.read_text(encoding="utf-8")
        tf.with_name(tf.name + ".json").write_text(to_tf_json(text, tf.name), encoding="utf-8")
        tf.unlink()
        converted.append(tf.relative_to(target).as_posix() + ".json")
    return converted
