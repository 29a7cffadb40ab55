"""JSON Schemas of the typed models: what policy authors write Rego against.

Generated from the pydantic models (never edited by hand); a test fails when
`schemas/` drifts from the models.  Regenerate with `make schemas`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pe_policy.models import MODEL_CLASSES, model_class

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def model_schema(kind: str) -> dict[str, Any]:
    schema = model_class(kind).model_json_schema(by_alias=True, mode="serialization")
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"https://pe-policy.dev/schemas/{kind}.schema.json",
        "description": f"pe-policy input for documents of kind `{kind}`"
        + (f": {schema['description']}" if schema.get("description") else ""),
        **{k: v for k, v in schema.items() if k != "description"},
    }


def schema_text(kind: str) -> str:
    return json.dumps(model_schema(kind), indent=2, sort_keys=True) + "\n"


def schema_file_name(kind: str) -> str:
    return f"{kind}.schema.json"


def write_schemas(directory: Path) -> list[Path]:
    from pe_policy.output import write_atomic

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in MODEL_CLASSES:
        path = directory / schema_file_name(kind)
        write_atomic(path, schema_text(kind))
        written.append(path)
    return written
