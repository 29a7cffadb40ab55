"""The `.tf` and plan loaders: blocks and values, positions, plan -> .tf mapping, errors, speed."""

from __future__ import annotations

import gc
import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pe_policy.document import Document
from pe_policy.findings import ParseError
from pe_policy.loaders import load_file, load_text
from pe_policy.loaders.hcl import heredoc_value
from pe_policy.models.terraform import TerraformConfig
from pe_policy.models.terraform_plan import ResourceChange, TerraformPlan
from tests.conftest import FIXTURES, REPO, line_of
from tests.tf_plan_factory import plan_text

TF_GOOD = FIXTURES / "terraform" / "good" / "platform"
TF_BAD = FIXTURES / "terraform" / "bad"
PLANS = FIXTURES / "terraform_plan"
WITH_CONFIG = PLANS / "bad" / "with-config"


def load_tf(path: Path) -> Document:
    return load_file(path, path.relative_to(REPO).as_posix(), "terraform", REPO)


def load_plan(path: Path) -> Document:
    return load_file(path, path.relative_to(REPO).as_posix(), "terraform_plan", REPO)


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def block_index(doc: Document, address: str) -> int:
    return next(i for i, b in enumerate(doc.input["blocks"]) if b["address"] == address)


def line_after(path: Path, anchor: str, needle: str) -> int:
    """The first line containing `needle` after the first line containing `anchor`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(lines) if anchor in line)
    return next(n + 1 for n in range(start, len(lines)) if needle in lines[n])


# ------------------------------------------------------------------------------ .tf files


def test_blocks_carry_type_name_address_and_line() -> None:
    path = TF_GOOD / "network.tf"
    doc = load_tf(path)
    assert isinstance(doc.model, TerraformConfig)
    resources = {b.address: b for b in doc.model.resources()}
    sg = resources["aws_security_group.alb"]
    assert (sg.type, sg.name, sg.file) == ("aws_security_group", "alb", rel(path))
    assert sg.line == line_of(path, 'resource "aws_security_group" "alb"')
    locals_block = doc.model.blocks[0]
    assert (locals_block.block_type, locals_block.address) == ("locals", "locals")


def test_attribute_and_nested_block_lines() -> None:
    path = TF_GOOD / "network.tf"
    doc = load_tf(path)
    k = block_index(doc, "aws_security_group.alb")
    values = doc.input["blocks"][k]["values"]
    assert values["ingress"][0]["from_port"] == 443
    assert values["ingress"][0]["cidr_blocks"] == ["0.0.0.0/0"]
    assert values["vpc_id"] == "${aws_vpc.main.id}"
    base = ("blocks", k, "values")
    assert doc.location((*base, "ingress", 0)).line == line_of(path, "ingress {")
    assert doc.location((*base, "ingress", 0, "ipv6_cidr_blocks")).line == line_of(path, '["::/0"]')
    assert doc.location((*base, "egress", 0, "protocol")).line == line_of(path, 'protocol    = "-1"')
    # a path the file does not have falls back to the nearest located ancestor
    assert doc.location((*base, "ingress", 0, "no_such")).line == line_of(path, "ingress {")


def test_jsonencode_policy_is_decoded_with_statement_lines() -> None:
    path = TF_GOOD / "iam.tf"
    doc = load_tf(path)
    k = block_index(doc, "aws_iam_policy.gateway_artifacts")
    policy = doc.input["blocks"][k]["values"]["policy"]
    assert policy["Statement"][1]["Action"] == ["s3:GetObject", "s3:PutObject"]
    documents = {(d.address, d.form): d for d in doc.model.policy_documents}
    jsonencoded = documents[("aws_iam_policy.gateway_artifacts", "jsonencode")]
    assert [s.sid for s in jsonencoded.statements] == ["ListArtifacts", "ReadWriteArtifacts",
                                                       "DescribeEverything"]
    assert jsonencoded.statements[1].line == line_of(path, 'Sid      = "ReadWriteArtifacts"') - 1
    assert jsonencoded.statements[2].resources == ["*"]


def test_policy_document_data_source_statements() -> None:
    path = TF_GOOD / "iam.tf"
    doc = load_tf(path)
    documents = {d.address: d for d in doc.model.policy_documents if d.form == "policy_document"}
    deployer = documents["data.aws_iam_policy_document.deployer"]
    first, second = deployer.statements
    assert (first.sid, first.effect, first.actions) == ("PassTaskRole", "Allow", ["iam:PassRole"])
    assert first.line == line_of(path, "statement {", occurrence=2)
    assert (second.effect, second.actions, second.resources) == ("Deny", ["*"], ["*"])
    assume = documents["data.aws_iam_policy_document.ecs_assume"]
    assert assume.statements[0].principals == {"Service": ["ecs-tasks.amazonaws.com"]}


def test_heredoc_json_policy_statement_lines() -> None:
    path = TF_BAD / "iam" / "iam.tf"
    doc = load_tf(path)
    k = block_index(doc, "aws_iam_role_policy.deployer_data")
    value = doc.input["blocks"][k]["values"]["policy"]
    assert json.loads(value)["Statement"][0]["Sid"] == "AllDynamo"
    statement = ("blocks", k, "values", "policy", "Statement", 0, "Action")
    assert doc.location(statement).line == line_of(path, '"Action": ["dynamodb:*"]')


def test_heredoc_values() -> None:
    assert heredoc_value("<<-EOT\n    {\n      \"a\": 1\n    }\n  EOT\n") == '{\n  "a": 1\n}\n'
    assert heredoc_value("<<EOT\nline ${var.x}\n\nEOT\n") == "line ${var.x}\n\n"
    assert heredoc_value("<<EOT\nEOT\n") == ""


def test_module_context_lists_the_sibling_files() -> None:
    doc = load_tf(TF_GOOD / "storage.tf")
    module = doc.model.module
    assert module is not None
    assert module.directory == rel(TF_GOOD)
    assert rel(TF_GOOD / "network.tf") in module.files
    siblings = {b.address for b in module.blocks}
    assert "aws_kms_key.data" in siblings and "provider.aws" in siblings
    assert "aws_s3_bucket.artifacts" not in siblings  # this file's own blocks are in `blocks`
    index = next(i for i, b in enumerate(module.blocks) if b.address == "aws_kms_key.data")
    where = doc.location(("module", "blocks", index))
    assert (where.path, where.line) == (rel(TF_GOOD / "database.tf"),
                                        line_of(TF_GOOD / "database.tf", 'resource "aws_kms_key"'))


def test_syntax_error_has_the_parser_position() -> None:
    path = TF_BAD / "syntax" / "unclosed.tf"
    with pytest.raises(ParseError) as caught:
        load_tf(path)
    assert caught.value.line == line_of(path, 'resource "aws_s3_bucket" "other"')
    assert caught.value.column is not None
    assert "HCL syntax error" in caught.value.message


@pytest.mark.parametrize(
    ("text", "needle", "message"),
    [
        ('resource "a" "b" {\n  x = 1\n  x = 2\n}\n', "x = 2", "already defined"),
        ('region = "eu-west-1"\n', "region", "top level"),
        ('resource "aws_s3_bucket" {\n}\n', "resource", "two labels"),
        ('resource "a" "b" {\n}\nresource "a" "b" {\n}\n', 'resource "a" "b" {', "declared twice"),
        ('variable "x" {\n  default = [1, 2\n}\n', "}", "syntax error"),
    ],
)
def test_invalid_configuration_is_a_parse_error(tmp_path: Path, text: str, needle: str,
                                               message: str) -> None:
    path = tmp_path / "main.tf"
    path.write_text(text)
    with pytest.raises(ParseError) as caught:
        load_file(path, "main.tf", "terraform", tmp_path)
    expected = line_of(path, needle, occurrence=2 if message == "declared twice" else 1)
    assert caught.value.line == expected
    assert message in caught.value.message


# ------------------------------------------------------------------------------- plans


def test_plan_model_is_lazy_and_typed() -> None:
    doc = load_plan(PLANS / "good" / "tfplan.json")
    plan = doc.model
    assert isinstance(plan, TerraformPlan)
    assert doc.input is doc.raw  # Rego gets the JSON as parsed, no model round trip
    assert "resource_changes" not in plan.__dict__  # not validated until a rule asks
    changes = plan.resource_changes
    assert all(isinstance(rc, ResourceChange) for rc in changes)
    worker = next(rc for rc in changes if rc.address == "aws_instance.worker")
    assert worker.deletes and worker.change.replace_paths == [["ami"]]
    assert plan.configuration is not None
    assert plan.model_dump(mode="json", exclude_none=True)["format_version"] == "1.2"


def test_plan_resources_are_located_by_address() -> None:
    path = PLANS / "bad" / "tfplan.json"
    doc = load_plan(path)
    index = next(i for i, rc in enumerate(doc.raw["resource_changes"])
                 if rc["address"] == "aws_ebs_volume.scratch")
    expected = line_after(path, '"resource_changes"', '"address": "aws_ebs_volume.scratch"')
    where = doc.location(("resource_changes", index, "change", "after", "encrypted"))
    assert (where.path, where.line, where.column) == (rel(path), expected, 7)


def test_one_line_plan_is_located_by_column() -> None:
    path = PLANS / "good" / "tfplan.json"
    text = path.read_text()
    doc = load_plan(path)
    changes = doc.raw["resource_changes"]
    index = next(i for i, rc in enumerate(changes) if rc["address"] == "aws_s3_bucket.artifacts")
    needle = '"address":"aws_s3_bucket.artifacts"'
    where = doc.location(("resource_changes", index))
    assert where.line == 1
    assert where.column == text.index(needle, text.index('"resource_changes"')) + 1


def test_plan_maps_resources_to_the_tf_block_beside_it() -> None:
    doc = load_plan(WITH_CONFIG / "tfplan.json")
    changes = doc.raw["resource_changes"]
    by_address = {rc["address"]: i for i, rc in enumerate(changes)}
    main = WITH_CONFIG / "main.tf"
    where = doc.location(("resource_changes", by_address["aws_iam_policy.ci"]))
    assert (where.path, where.line) == (rel(main), line_of(main, 'resource "aws_iam_policy" "ci"'))
    # a module with a local source maps into the module's directory
    storage = WITH_CONFIG / "modules" / "storage" / "main.tf"
    where = doc.location(("resource_changes", by_address["module.storage.aws_s3_bucket.uploads"]))
    assert (where.path, where.line) == (rel(storage), line_of(storage, 'resource "aws_s3_bucket"'))
    # a resource removed from the configuration stays in the plan
    where = doc.location(("resource_changes", by_address["aws_dynamodb_table.sessions"]))
    assert where.path == rel(WITH_CONFIG / "tfplan.json")


def test_plan_attribute_paths_map_to_tf_attribute_lines() -> None:
    doc = load_plan(WITH_CONFIG / "tfplan.json")
    main = WITH_CONFIG / "main.tf"
    changes = doc.raw["resource_changes"]
    sg = next(i for i, rc in enumerate(changes) if rc["address"] == "aws_security_group.admin")
    after = ("resource_changes", sg, "change", "after")
    # ingress is a set: the plan lists SSH first, the file second; matched by content
    assert changes[sg]["change"]["after"]["ingress"][0]["from_port"] == 22
    assert doc.location((*after, "ingress", 0, "cidr_blocks")).line == line_of(
        main, 'cidr_blocks = ["0.0.0.0/0"]', occurrence=2)
    assert doc.location((*after, "ingress", 1)).line == line_of(main, "ingress {")
    # a JSON policy string in the plan is a jsonencode() object in the file
    policy = next(i for i, rc in enumerate(changes) if rc["address"] == "aws_iam_policy.ci")
    path = ("resource_changes", policy, "change", "after", "policy", "Statement", 1, "Action")
    assert doc.location(path).line == line_of(main, 'Action   = "ecs:*"')
    # an attribute the file does not set falls back to the block
    assert doc.location((*after, "revoke_rules_on_delete")).line == line_of(
        main, 'resource "aws_security_group" "admin"')


def test_plan_without_configuration_beside_stays_in_the_plan(tmp_path: Path) -> None:
    plan = tmp_path / "tfplan.json"
    plan.write_text((WITH_CONFIG / "tfplan.json").read_text())
    doc = load_file(plan, "tfplan.json", "terraform_plan", tmp_path)
    assert doc.location(("resource_changes", 0)).path == "tfplan.json"


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('{\n  "format_version": "1.2",\n  "resource_changes": [\n', "invalid JSON", 4),
        ('[1, 2]', "must be a JSON object", 1),
        ('{\n  "terraform_version": "1.7.5",\n  "resource_changes": []\n}', "format_version", 1),
        ('{"format_version": "1.0", "values": {}}', "looks like state", 1),
        ('{\n  "format_version": "1.2",\n  "resource_changes": [\n    {"address": "a.b", "type": "a",'
         '\n     "change": {"actions": "create"}}\n  ]\n}', "change.actions", 4),
    ],
)
def test_invalid_plan_is_a_parse_error(text: str, message: str, line: int) -> None:
    with pytest.raises(ParseError) as caught:
        load_text(text, "plan.json", "terraform_plan")
    assert message in caught.value.message
    assert caught.value.line == line


def test_large_plan_loads_fast_and_leaves_gc_on() -> None:
    """10,000 resources: decoded once, no model validation, positions only on demand."""
    text = plan_text(10_000)
    assert gc.isenabled()
    start = time.perf_counter()
    doc = load_text(text, "tfplan.json", "terraform_plan")
    elapsed = time.perf_counter() - start
    assert gc.isenabled()
    assert len(doc.raw["resource_changes"]) == 10_000
    assert "resource_changes" not in doc.model.__dict__
    assert elapsed < 5.0, f"loading took {elapsed:.2f}s"
    where = doc.location(("resource_changes", 9_999))
    assert where.line == 1
    address = doc.raw["resource_changes"][9_999]["address"]
    assert text[where.column - 1:].startswith(f'"address":"{address}"')


# ---------------------------------------------------------------------------- robustness

_TF_SEEDS = [p.read_text() for p in sorted((FIXTURES / "terraform").rglob("*.tf"))]
_PLAN_SEED = (WITH_CONFIG / "tfplan.json").read_text()


def _only_document_or_parse_error(text: str, path: str, kind: str) -> None:
    try:
        doc = load_text(text, path, kind)
    except ParseError as exc:
        assert exc.line >= 1
        return
    assert isinstance(doc, Document)
    json.dumps(doc.input)  # what the engine hands to Rego must serialise


@st.composite
def mutated(draw: st.DrawFn, seeds: list[str]) -> str:
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate"]))
        if action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        elif action == "insert":
            text = text[:at] + draw(st.sampled_from(['"', "{", "}", "[", "]", "=", "\n", "${",
                                                     "<<EOF\n", "#", "\\", ",", "-1", "null"])) + text[at:]
        else:
            end = min(len(text), at + draw(st.integers(1, 80)))
            text = text[:end] + text[at:end] + text[end:]
    return text


_SETTINGS = settings(max_examples=200, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text_as_tf(text: str) -> None:
    _only_document_or_parse_error(text, "main.tf", "terraform")


@_SETTINGS
@given(mutated(_TF_SEEDS))
def test_mutated_tf(text: str) -> None:
    _only_document_or_parse_error(text, "main.tf", "terraform")


@_SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text_as_plan(text: str) -> None:
    _only_document_or_parse_error(text, "tfplan.json", "terraform_plan")


@_SETTINGS
@given(mutated([_PLAN_SEED]))
def test_mutated_plan(text: str) -> None:
    _only_document_or_parse_error(text, "tfplan.json", "terraform_plan")


@settings(max_examples=100, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["address", "type", "name", "mode", "change", "actions", "after",
                         "resource_changes", "format_version", "module_address"]),
        children, max_size=4),
    max_leaves=20))
def test_plan_shaped_json(value: object) -> None:
    """Anything JSON in the plan's keys: a Document whose positions resolve, or a ParseError."""
    text = json.dumps({"format_version": "1.2", "resource_changes": value})
    try:
        doc = load_text(text, "tfplan.json", "terraform_plan")
    except ParseError:
        return
    for index in range(len(doc.raw.get("resource_changes") or [])):
        assert doc.location(("resource_changes", index, "change", "after", "x")).line >= 1


def test_dynamic_blocks_are_nested_blocks_named_dynamic_with_their_label() -> None:
    """The shape rules read for settings inside `dynamic` blocks (models/terraform.py)."""
    path = REPO / "tests" / "corpus" / "terraform" / "valid" / "language" / "dynamic_blocks.tf"
    doc = load_tf(path)
    k = block_index(doc, "aws_instance.app")
    values = doc.input["blocks"][k]["values"]
    root = values["dynamic"][0]["root_block_device"]
    assert root["for_each"] == ["${var.root_volume}"]
    assert root["iterator"] == "volume"
    assert root["content"] == [{"volume_size": "${volume.value.size}", "encrypted": False}]
    ebs = values["dynamic"][1]["ebs_block_device"]
    assert "iterator" not in ebs
    assert ebs["content"][0]["dynamic"][0]["tag"]["content"] == [{"key": "${tag.key}",
                                                                  "value": "${tag.value}"}]
    base = ("blocks", k, "values", "dynamic")
    assert doc.location((*base, 0, "root_block_device", "content", 0, "encrypted")).line == \
        line_of(path, "encrypted   = false")
    assert doc.location((*base, 1, "ebs_block_device")).line == line_of(path, 'dynamic "ebs_block_device"')
    assert doc.location((*base, 1, "ebs_block_device", "content", 0, "dynamic", 0, "tag")).line == \
        line_of(path, 'dynamic "tag"')


def test_numbers_with_an_exponent_and_no_fraction() -> None:
    """`1e9` is an HCL number (tree-sitter-hcl's grammar wants `1.0e9`): read, with its value,
    and every later node still at its own line and column."""
    path = REPO / "tests" / "conftest_parity" / "fixtures" / "hcl2json" / "numbers.tf"
    doc = load_tf(path)
    values = doc.input["blocks"][0]["values"]
    assert values == {"retention_ms": 6.048e8, "max_bytes": 1e9, "small_fraction": 0.002,
                      "signed": 1000, "plain": 42, "label": "build-1e3"}
    table = doc.input["blocks"][block_index(doc, "aws_dynamodb_table.events")]
    assert table["values"]["read_capacity"] == 50
    assert table["line"] == line_of(path, 'resource "aws_dynamodb_table" "events"')
    location = doc.location(("blocks", block_index(doc, "aws_dynamodb_table.events"), "values",
                             "write_capacity"), "x")
    assert location.line == line_of(path, "write_capacity")
