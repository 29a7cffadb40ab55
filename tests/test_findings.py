"""A finding is immutable once made: every later step makes a new one (`dataclasses.replace`)."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from typing import Any

import pytest

from pe_policy.findings import Finding, FrozenDict, FrozenList, Location, Severity, Suppression
from pe_policy.pipeline import drop_repeats

SECRET = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def finding(**changes: Any) -> Finding:
    values: dict[str, Any] = {
        "rule_id": "PE-X-001", "severity": Severity.HIGH, "message": "bad thing",
        "location": Location("a.yml", 3, 5), "json_path": ("jobs", "a"),
        "properties": {"address": "aws_s3_bucket.b", "nested": {"list": [1, {"k": "v"}]}},
    }
    return Finding(**{**values, **changes})


@pytest.mark.parametrize("field", ["rule_id", "severity", "message", "location", "suppression",
                                   "properties", "fingerprint"])
def test_no_field_can_be_set(field: str) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(finding(), field, None)


def test_location_cannot_be_moved() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding().location.line = 4  # type: ignore[misc]


@pytest.mark.parametrize("change", [
    lambda p: p.__setitem__("address", "x"),
    lambda p: p.__delitem__("address"),
    lambda p: p.setdefault("document", "x"),
    lambda p: p.update(document="x"),
    lambda p: p.pop("address"),
    lambda p: p.clear(),
    lambda p: p["nested"].__setitem__("list", []),
    lambda p: p["nested"]["list"].append(2),
    lambda p: p["nested"]["list"][1].__setitem__("k", "w"),
], ids=["set", "delete", "setdefault", "update", "pop", "clear", "nested-set", "nested-append",
        "nested-deep"])
def test_properties_are_read_only_all_the_way_down(change: Any) -> None:
    found = finding()
    before = json.dumps(found.to_dict())
    with pytest.raises(TypeError, match="immutable"):
        change(found.properties)
    assert json.dumps(found.to_dict()) == before


def test_properties_read_like_the_dict_they_were_made_from() -> None:
    given = {"address": "aws_s3_bucket.b", "nested": {"list": [1, {"k": "v"}]}, "pair": (1, 2)}
    found = finding(properties=given)
    assert isinstance(found.properties, dict) and found.properties == given
    assert isinstance(found.properties["nested"]["list"], list)
    assert json.dumps(found.to_dict()["properties"]) == json.dumps(given)
    assert finding(properties={}).properties == {} and not finding(properties={}).properties


def test_a_finding_survives_pickling_and_copying() -> None:
    """Findings cross process boundaries (the runner's workers) and stay read-only."""
    found = finding(suppression=Suppression("external", "why", origin="waiver"))
    for twin in (pickle.loads(pickle.dumps(found)), copy.deepcopy(found), copy.copy(found)):
        assert twin == found
        assert isinstance(twin.properties, FrozenDict)
        assert isinstance(twin.properties["nested"]["list"], FrozenList)


def test_replace_makes_a_new_finding_and_leaves_the_old_one() -> None:
    found = finding()
    waived = dataclasses.replace(found, suppression=Suppression("external", "waived"),
                                 message=f"{found.message} (token {SECRET})")
    assert found.suppression is None and found.message == "bad thing"
    assert waived.suppressed and waived.fingerprint == found.fingerprint
    assert SECRET not in waived.message  # what replace passes in is masked like the original


def test_properties_given_are_masked_and_copied() -> None:
    given = {"line": f"token: {SECRET}", "list": [SECRET]}
    found = finding(properties=given)
    assert SECRET not in json.dumps(found.to_dict())
    assert given == {"line": f"token: {SECRET}", "list": [SECRET]}  # the caller's dict untouched


def test_drop_repeats_makes_a_new_finding_instead_of_editing_the_first() -> None:
    """A plan finding repeated at its `.tf` line keeps the plan as `document` (waivable by
    either), in a new finding: the evaluator's findings are not edited."""
    first = finding(properties={})
    repeat = finding(properties={"document": "plan.json"})
    (kept,) = drop_repeats([first, repeat])
    assert kept.properties == {"document": "plan.json"}
    assert first.properties == {} and kept is not first
    assert kept.fingerprint == first.fingerprint
    (again,) = drop_repeats([repeat, finding(properties={"document": "other.json"})])
    assert again is repeat  # the first document wins
