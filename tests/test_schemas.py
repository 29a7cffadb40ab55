"""`schemas/` is generated from the models: this fails when they drift apart."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from pe_policy.models import MODEL_CLASSES
from pe_policy.schemas import schema_file_name, schema_text
from tests.conftest import REPO, run_cli


@pytest.mark.parametrize("kind", sorted(MODEL_CLASSES))
def test_committed_schema_matches_the_model(kind: str) -> None:
    committed = REPO / "schemas" / schema_file_name(kind)
    assert committed.exists(), f"missing {committed}: run `make schemas`"
    assert committed.read_text(encoding="utf-8") == schema_text(kind), (
        f"{committed} is out of date with the {kind} model: run `make schemas`"
    )
    Draft202012Validator.check_schema(json.loads(committed.read_text(encoding="utf-8")))


def test_schema_command_prints_one() -> None:
    result = run_cli(["schema", "workflow"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert "jobs" in schema["properties"]
    assert run_cli(["schema", "nope"]).exit_code == 2
