"""Terraform's JSON syntax (`*.tf.json`): read and judged like `.tf`, never skipped.

The twins: each Terraform fixture of the repository written again in JSON
(tests/tf_json_twin.py) must give the same findings (rule, message, file) as the `.tf`
original, each at a line of the `.tf.json` that holds what the `.tf` line held.  Then
hand-written files: a module of `.tf` and `.tf.json` files referring to each other, a
plan mapped onto a `.tf.json` configuration, CDK for Terraform's shape, malformed files,
and discovery (hidden files, override files).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pe_policy.discover import kind_by_path
from pe_policy.findings import ParseError
from pe_policy.loaders.terraform import module_files, parse_config
from pe_policy.pipeline import CheckResult, check
from tests.conftest import FIXTURES, run_cli
from tests.reference_tools import peer, run_tool
from tests.test_fuzz_loaders import CHARS, FUZZ, assert_usable, mutated
from tests.tf_json_twin import to_tf_json, twin_tree

TWIN_FIXTURES = {
    "credentials": FIXTURES / "terraform" / "bad" / "credentials",
    "exposure": FIXTURES / "terraform" / "bad" / "exposure",
    "iam": FIXTURES / "terraform" / "bad" / "iam",  # jsonencode, heredoc, policy documents
    "network": FIXTURES / "terraform" / "bad" / "network",
    "storage": FIXTURES / "terraform" / "bad" / "storage",  # nested and dynamic blocks
    "tags": FIXTURES / "terraform" / "bad" / "tags",
    "platform": FIXTURES / "terraform" / "good" / "platform",  # variables, locals, outputs
    "demo": FIXTURES / "demo" / "infra",
    "plan-with-config": FIXTURES / "terraform_plan" / "bad" / "with-config",  # a child module
}
_BLOCK_HEADER = re.compile(r'\s*(?:resource|data|module|variable|output|provider)\b.*"([^"]+)"\s*\{')
_ATTRIBUTE = re.compile(r'\s*"?([\w-]+)"?\s*(?:=|\{|:)')
_ELEMENT = re.compile(r'\s*"((?:[^"\\]|\\.)*)"\s*,?\s*$')


def _check(path: Path, root: Path) -> CheckResult:
    return check([path], root.resolve())


def _anchor(line: str) -> str | None:
    """What a `.tf` line a finding points at names: a block's last label, an attribute, or
    the string of a list element."""
    element = _ELEMENT.match(line)
    if element:
        return element.group(1)
    header = _BLOCK_HEADER.match(line)
    if header:
        return header.group(1)
    attribute = _ATTRIBUTE.match(line)
    return attribute.group(1) if attribute else None


def _by_finding(result: CheckResult, json_twin: bool) -> dict[tuple[str, str, str], list[tuple[str, int]]]:
    out: dict[tuple[str, str, str], list[tuple[str, int]]] = defaultdict(list)
    for finding in result.findings:
        path = finding.location.path
        key_path = path[:-len(".json")] if json_twin and path.endswith(".tf.json") else path
        out[(finding.rule_id, key_path, finding.message)].append((path, finding.location.line))
    return {key: sorted(value) for key, value in out.items()}


@pytest.mark.parametrize("name", list(TWIN_FIXTURES))
def test_a_json_twin_has_the_findings_of_its_tf_original(name: str, tmp_path: Path) -> None:
    original = tmp_path / "tf" / name
    shutil.copytree(TWIN_FIXTURES[name], original)
    converted = twin_tree(TWIN_FIXTURES[name], tmp_path / "json" / name)
    assert converted and not list((tmp_path / "json").rglob("*.tf"))

    tf_result = _check(original, tmp_path / "tf")
    json_result = _check(tmp_path / "json" / name, tmp_path / "json")
    expected = _by_finding(tf_result, json_twin=False)
    found = _by_finding(json_result, json_twin=True)
    assert sorted(found) == sorted(expected)
    assert sorted(json_result.checked_paths) == sorted(
        p + ".json" if p.endswith(".tf") else p for p in tf_result.checked_paths)

    checked = 0
    for key, tf_places in expected.items():
        for (tf_path, tf_line), (json_path, json_line) in zip(tf_places, found[key], strict=True):
            json_lines = (tmp_path / "json" / json_path).read_text(encoding="utf-8").splitlines()
            assert 1 <= json_line <= len(json_lines)
            if not tf_path.endswith(".tf"):
                assert (json_path, json_line) == (tf_path, tf_line)  # the plan's own line
                continue
            assert json_path == tf_path + ".json"
            anchor = _anchor((tmp_path / "tf" / tf_path).read_text(encoding="utf-8").splitlines()[tf_line - 1])
            if anchor is not None:
                text = json_lines[json_line - 1]
                assert f'"{anchor}"' in text or f'\\"{anchor}\\"' in text, (key, text)
                checked += 1
    assert checked or not expected


def test_the_twins_cover_what_they_claim(tmp_path: Path) -> None:
    """The fixtures twinned have the constructs the JSON reader must get right."""
    texts = {name: "".join(to_tf_json(p.read_text(encoding="utf-8"), p.name)
                           for p in sorted(path.rglob("*.tf")))
             for name, path in TWIN_FIXTURES.items()}
    assert '"${jsonencode(' in texts["iam"]
    assert '"dynamic"' in texts["storage"] and '"content"' in texts["storage"]
    assert '"variable"' in texts["platform"] and '"output"' in texts["platform"]
    assert sum(bool(_check(FIXTURES / "terraform" / "bad" / n, FIXTURES).findings)
               for n in ("iam", "storage", "network", "tags", "exposure")) == 5


# ------------------------------------------------------------------------- hand-written


def _write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


BUCKET_JSON = """{
  "resource": {
    "aws_s3_bucket": {
      "logs": {
        "bucket": "pe-logs",
        "acl": "public-read"
      }
    }
  }
}
"""
ACCESS_BLOCK_TF = """resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
"""


def test_a_module_of_tf_and_tf_json_files_is_one_module(tmp_path: Path) -> None:
    """The bucket in JSON, its public access block in HCL referring to it: one module,
    so the bucket has its companion, and the ACL finding points into the .tf.json."""
    module = _write(tmp_path / "infra", {"buckets.tf.json": BUCKET_JSON, "access.tf": ACCESS_BLOCK_TF})
    result = _check(module, tmp_path)
    assert sorted(result.checked_paths) == ["infra/access.tf", "infra/buckets.tf.json"]
    hits = [(f.rule_id, f.location.path, f.location.line, f.location.column, f.message)
            for f in result.findings]
    assert hits == [("PE-TF-003", "infra/buckets.tf.json", 6, 9,
                     'aws_s3_bucket.logs sets the public ACL "public-read": use acl = "private" '
                     "and keep the public access block on")]

    alone = _write(tmp_path / "alone", {"buckets.tf.json": BUCKET_JSON})
    assert "has no aws_s3_bucket_public_access_block" in " ".join(
        f.message for f in _check(alone, tmp_path).findings)


def test_a_file_checked_alone_sees_its_json_siblings(tmp_path: Path) -> None:
    """Checked alone (pre-commit), the .tf file's module context holds the .tf.json blocks."""
    module = _write(tmp_path / "infra", {"buckets.tf.json": BUCKET_JSON, "access.tf": ACCESS_BLOCK_TF})
    result = run_cli(["parse", str(module / "access.tf")], cwd=tmp_path)
    document = json.loads(result.stdout)
    assert document["input"]["module"]["files"] == ["access.tf", "buckets.tf.json"]
    assert [b["address"] for b in document["input"]["module"]["blocks"]] == ["aws_s3_bucket.logs"]
    assert document["input"]["module"]["blocks"][0]["file"] == "buckets.tf.json"


def test_json_references_are_the_hcl_ones(tmp_path: Path) -> None:
    """`"${aws_s3_bucket.logs.id}"` is `aws_s3_bucket.logs.id`; a literal is a literal."""
    hcl = parse_config('resource "aws_s3_bucket_policy" "p" {\n  bucket = aws_s3_bucket.logs.id\n'
                       '  acl    = "public-read"\n  count  = 2\n  name   = "prefix-${local.env}"\n'
                       '  depends_on = [aws_s3_bucket.logs]\n  provider = aws.west\n'
                       '  on = "${true}"\n}\n', "main.tf")
    js = parse_config(json.dumps({"resource": {"aws_s3_bucket_policy": {"p": {
        "bucket": "${ aws_s3_bucket.logs.id }", "acl": "public-read", "count": 2,
        "name": "prefix-${local.env}", "depends_on": ["aws_s3_bucket.logs"],
        "provider": "aws.west", "on": "${true}"}}}}, indent=2), "main.tf.json")
    assert js.blocks[0]["values"] == hcl.blocks[0]["values"] | {"on": True}
    assert hcl.blocks[0]["values"]["on"] == "${true}"  # a quoted .tf string stays as written
    nested = parse_config('{"resource": {"aws_x": {"a": {"idp": {"provider": "my idp"}}}}}', "x.tf.json")
    assert nested.blocks[0]["values"] == {"idp": [{"provider": "my idp"}]}  # only a resource's own
    # `provider` is a reference; a nested block's is the provider's argument, a template
    unlocated = ("line", "end_line", "file", "values")
    assert {k: v for k, v in js.blocks[0].items() if k not in unlocated} == \
        {k: v for k, v in hcl.blocks[0].items() if k not in unlocated}


def test_every_node_has_its_line_and_column() -> None:
    text = """{
  "resource": {
    "aws_security_group": {
      "web": {
        "ingress": [
          {
            "cidr_blocks": ["0.0.0.0/0", "10.0.0.0/8"]
          }
        ],
        "tags": {"Name": "web"}
      }
    }
  },
  "provider": {"aws": [{"region": "eu-west-1"}, {"alias": "west", "region": "us-west-2"}]}
}
"""
    parsed = parse_config(text, "main.tf.json")
    spans = parsed.spans
    values = ("blocks", 0, "values")
    lines = text.splitlines()

    def at(path: tuple[str | int, ...]) -> str:
        span = spans[path]
        return lines[span.line - 1][span.column - 1:]

    assert at(("blocks", 0)).startswith('"web"')
    assert at((*values, "ingress")).startswith('"ingress"')
    assert at((*values, "ingress", 0)).startswith("{")
    assert at((*values, "ingress", 0, "cidr_blocks")).startswith('"cidr_blocks"')
    assert at((*values, "ingress", 0, "cidr_blocks", 1)).startswith('"10.0.0.0/8"')
    assert at((*values, "tags", "Name")).startswith('"Name"')
    assert [b["address"] for b in parsed.blocks] == ["aws_security_group.web", "provider.aws",
                                                      "provider.aws.west"]
    assert at(("blocks", 2)).startswith('{"alias"')
    assert parsed.blocks[0]["values"]["tags"] == {"Name": "web"}  # a map, not a nested block


def test_cdktf_output_is_read(tmp_path: Path) -> None:
    """The shape `cdktf synth` writes: `//` metadata, `provider` as an array, nested blocks
    as objects, references as `${...}`."""
    cdk = {
        "//": {"metadata": {"backend": "local", "stackName": "pe", "version": "0.20.0"},
               "outputs": {}},
        "provider": {"aws": [{"region": "eu-west-1"}]},
        "resource": {
            "aws_s3_bucket": {"site": {"//": {"metadata": {"path": "pe/site", "uniqueId": "site"}},
                                       "bucket": "pe-site"}},
            "aws_s3_bucket_acl": {"site_acl": {"bucket": "${aws_s3_bucket.site.id}",
                                               "acl": "public-read"}},
            "aws_security_group": {"ssh": {"ingress": [{"from_port": 22, "to_port": 22,
                                                        "protocol": "tcp",
                                                        "cidr_blocks": ["0.0.0.0/0"]}]}},
        },
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.0.0"}},
                      "backend": {"local": {"path": "terraform.tfstate"}}},
    }
    stack = _write(tmp_path / "cdktf.out" / "stacks" / "pe",
                   {"cdk.tf.json": json.dumps(cdk, indent=2)})
    result = _check(stack, tmp_path)
    assert result.checked_paths == ["cdktf.out/stacks/pe/cdk.tf.json"]
    rules = sorted({f.rule_id for f in result.findings})
    assert "PE-TF-002" in rules  # SSH open to the world
    terraform = parse_config(json.dumps(cdk), "cdk.tf.json").blocks[-1]
    assert terraform["values"]["required_providers"] == [{"aws": {"source": "hashicorp/aws",
                                                                   "version": "5.0.0"}}]
    assert terraform["values"]["backend"] == [{"local": {"path": "terraform.tfstate"}}]


def test_a_plan_maps_onto_a_json_configuration(tmp_path: Path) -> None:
    """The plan beside `.tf.json` files: its findings point at the `.tf.json` lines."""
    twin_tree(FIXTURES / "terraform_plan" / "bad" / "with-config", tmp_path / "with-config")
    result = _check(tmp_path / "with-config" / "tfplan.json", tmp_path)
    into_json = [f for f in result.findings if f.location.path.endswith(".tf.json")]
    assert into_json and all(f.kind == "terraform_plan" for f in into_json)
    assert {f.location.path for f in into_json} >= {"with-config/main.tf.json"}
    shutil.copytree(FIXTURES / "terraform_plan" / "bad" / "with-config", tmp_path / "tf")
    with_tf = _check(tmp_path / "tf" / "tfplan.json", tmp_path)
    assert sorted((f.rule_id, f.message) for f in result.findings) == sorted(
        (f.rule_id, f.message) for f in with_tf.findings)


# ----------------------------------------------------------------------------- bad input

MALFORMED = {
    "trailing comma": ('{\n  "resource": {\n    "aws_s3_bucket": {"a": {"acl": "x",}}\n  }\n}\n',
                       3, 40, "invalid JSON: Expecting property name enclosed in double quotes"),
    "top-level array": ("[1, 2]\n", 1, 1, "a Terraform JSON file is an object whose properties "
                        "are block types (resource, variable, ...), found an array"),
    "resource is a string": ('{\n  "resource": {\n    "aws_s3_bucket": "nope"\n  }\n}\n', 3, 22,
                             "resource.aws_s3_bucket: expected an object keyed by the block's "
                             "label, found a string"),
    "resource is a number": ('{"resource": 3}', 1, 14, "resource: expected an object keyed by "
                             "the block's labels, found a number"),
    "unknown block type": ('{"resorce": {}}', 1, 2, "resorce: unknown block type 'resorce'"),
    "body is an array of strings": ('{"variable": {"x": ["a"]}}', 1, 21,
                                    "variable.x[0]: expected an object, found a string"),
    "repeated argument": ('{"output": {"o": {"value": 1,\n "value": 2}}}', 2, 2,
                          "output.o.value: 'value' is already defined at line 1"),
    "unclosed template": ('{"resource": {"aws_s3_bucket": {"a": {"bucket": "${var.x"}}}}', 1, 49,
                          "resource.aws_s3_bucket.a.bucket: invalid template '${var.x'"),
    "bad reference": ('{"resource": {"aws_s3_bucket": {"a": {"depends_on": ["aws_s3_bucket."]}}}}',
                      1, 54, "resource.aws_s3_bucket.a.depends_on[0]: invalid expression"),
    "declared twice": ('{"resource": {"aws_s3_bucket": {"a": [{}, {}]}}}', 1, 43,
                       "aws_s3_bucket.a is declared twice (first at line 1)"),
    "NaN": ('{"locals": {"x": NaN}}', 1, 18, "invalid JSON: 'NaN' is not a JSON value"),
    "empty": ("", 1, 1, "invalid JSON: Expecting value"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_json_is_a_parse_error_with_its_place(name: str) -> None:
    text, line, column, message = MALFORMED[name]
    with pytest.raises(ParseError) as caught:
        parse_config(text, "main.tf.json")
    assert (caught.value.path, caught.value.line, caught.value.column) == ("main.tf.json", line, column)
    assert caught.value.message.startswith(message), caught.value.message


def test_a_bad_json_file_leaves_the_others_checked(tmp_path: Path) -> None:
    module = _write(tmp_path / "infra", {"broken.tf.json": '{"resource": [1]}',
                                         "buckets.tf.json": BUCKET_JSON, "access.tf": ACCESS_BLOCK_TF})
    result = run_cli(["check", "--format", "json", str(module)], cwd=tmp_path)
    assert result.exit_code == 2  # an input that could not be read
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule_id"], f["location"]["path"], f["location"]["line"]) for f in findings] == [
        ("PE-PARSE", "broken.tf.json", 1), ("PE-TF-003", "buckets.tf.json", 6)]
    assert "Traceback" not in result.stdout


def test_a_large_json_file_stops_at_the_limit() -> None:
    from pe_policy.loaders import terraform_json

    text = json.dumps({"locals": {"x": [1] * (terraform_json.MAX_NODES + 1)}})
    with pytest.raises(ParseError, match="too large to check"):
        parse_config(text, "main.tf.json")
    deep = '{"locals": {"x": ' + "[" * 300 + "]" * 300 + "}}"
    with pytest.raises(ParseError, match="nested deeper than"):
        parse_config(deep, "main.tf.json")


# ------------------------------------------------------------------------------ discovery


@pytest.mark.parametrize(("path", "kind"), [
    ("main.tf.json", "terraform"), ("infra/cdk.tf.json", "terraform"),
    ("override.tf.json", "terraform"), ("infra/network_override.tf.json", "terraform"),
    ("infra/.hidden.tf.json", None), ("package.json", None), ("main.tf.json.bak", None),
    ("MAIN.TF.JSON", None),  # Terraform's suffixes are case-sensitive: it never loads this
    ("tfplan.json", "terraform_plan"),
])
def test_tf_json_is_terraform_by_its_name(path: str, kind: str | None) -> None:
    assert kind_by_path(path) == kind


def test_the_module_holds_json_files_as_terraform_loads_them(tmp_path: Path) -> None:
    module = _write(tmp_path / "m", {"main.tf": "", "cdk.tf.json": "{}", "override.tf.json": "{}",
                                     "a_override.tf": "", ".hidden.tf.json": "{}",
                                     "main.tf.json~": "{}", "vars.json": "{}"})
    names = [p.name for p in module_files(module)]
    assert names == ["a_override.tf", "cdk.tf.json", "main.tf", "override.tf.json"]
    result = _check(module, tmp_path)
    assert sorted(result.checked_paths) == ["m/a_override.tf", "m/cdk.tf.json", "m/main.tf",
                                            "m/override.tf.json"]


def test_conftest_parses_tf_json_with_its_json_parser(tmp_path: Path) -> None:
    """`test`/`parse` (conftest's commands) read `.tf.json` as conftest does: as JSON."""
    _write(tmp_path, {"main.tf.json": BUCKET_JSON, "cdk.tf.json": json.dumps({"//": "x"})})
    for files in (["main.tf.json", "cdk.tf.json"],):
        reference = run_tool("conftest", "parse", *files, cwd=tmp_path)
        assert reference.returncode == 0, reference.stderr
        ours = run_cli(["parse", *files], cwd=tmp_path)
        assert ours.stdout == reference.stdout
    reference = run_tool("conftest", "parse", "main.tf.json", cwd=tmp_path)
    ours = run_cli(["parse", "--parser", "json", "main.tf.json"], cwd=tmp_path)
    assert ours.stdout == reference.stdout


# ------------------------------------------------------------------------ the corpus

CORPUS = Path(__file__).parent / "corpus" / "terraform" / "valid"
# An object in a provider's body is a nested block or a map argument by the provider's schema,
# which pe-policy does not have: these maps (in the corpus) are read as nested blocks.
KNOWN_AMBIGUOUS = {("google_compute_instance", "metadata"), ("kubernetes_service", "selector")}


def _differences(hcl: object, js: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    if isinstance(hcl, dict) and isinstance(js, dict) and hcl.keys() == js.keys():
        return [d for key in hcl for d in _differences(hcl[key], js[key], (*path, key))]
    if isinstance(hcl, list) and isinstance(js, list) and len(hcl) == len(js):
        return [d for n, (a, b) in enumerate(zip(hcl, js, strict=True)) for d in _differences(a, b, (*path, n))]
    return [] if hcl == js else [path]


def test_json_twins_of_the_corpus_read_as_their_hcl() -> None:
    """Every valid `.tf` of the corpus (the providers' and the language's documentation
    examples), written in JSON, reads as the same blocks with the same values."""
    files = sorted(CORPUS.rglob("*.tf"))
    assert len(files) > 300
    same = ambiguous = 0
    for file in files:
        text = file.read_text(encoding="utf-8")
        hcl = parse_config(text, file.name)
        js = parse_config(to_tf_json(text, file.name), file.name + ".json")
        json_blocks: dict[str, list[dict[str, object]]] = defaultdict(list)
        for block in js.blocks:
            json_blocks[block["address"]].append(block)
        assert sorted(json_blocks) == sorted({b["address"] for b in hcl.blocks}), file
        differences = [(block["type"], *difference) for block in hcl.blocks
                       for difference in _differences(block["values"],
                                                      json_blocks[block["address"]].pop(0)["values"])]
        for difference in differences:
            kind, where = difference[0], [p for p in difference[1:] if isinstance(p, str)]
            assert (kind, where[-1]) in KNOWN_AMBIGUOUS, (file, difference)
            ambiguous += 1
        same += not differences
    assert same >= len(files) - 20 and ambiguous


# ---------------------------------------------------------------- checkov, a peer

# checkov checks that judge what a pe-policy rule judges, with the pe-policy finding's
# message fragment that says the same: (check, rule, resource type, fragment)
CHECKOV_PAIRS = [
    ("CKV_AWS_20", "PE-TF-003", "aws_s3_bucket", "sets the public ACL"),
    ("CKV_AWS_53", "PE-TF-003", "aws_s3_bucket_public_access_block", "block_public_acls"),
    ("CKV_AWS_54", "PE-TF-003", "aws_s3_bucket_public_access_block", "block_public_policy"),
    ("CKV_AWS_55", "PE-TF-003", "aws_s3_bucket_public_access_block", "ignore_public_acls"),
    ("CKV_AWS_56", "PE-TF-003", "aws_s3_bucket_public_access_block", "restrict_public_buckets"),
    ("CKV_AWS_17", "PE-TF-008", "aws_db_instance", "publicly accessible"),
    ("CKV_AWS_3", "PE-TF-004", "aws_ebs_volume", "encrypted"),
]
OPEN_PORT_CHECKS = ("CKV_AWS_24", "CKV_AWS_25")  # SSH, RDP from anywhere: PE-TF-002 flags more


def test_checkov_flags_the_resources_pe_policy_flags_in_json(tmp_path: Path) -> None:
    """checkov reads `.tf.json` (its `terraform_json` framework): on the JSON twins of the
    bad fixtures, the resources it fails for each paired check are those pe-policy flags."""
    checkov = peer("checkov")
    for name in ("network", "storage", "exposure"):
        twin_tree(TWIN_FIXTURES[name], tmp_path / name)
    run = subprocess.run([checkov, "-d", str(tmp_path), "--framework", "terraform_json",
                          "-o", "json", "--skip-download", "--quiet"],
                         capture_output=True, text=True, timeout=600, check=False)
    reports = json.loads(run.stdout)
    failed: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for report in reports if isinstance(reports, list) else [reports]:
        for result in report.get("results", {}).get("failed_checks", []):
            failed[result["check_id"]].add((Path(result["file_path"]).name,
                                            result["resource"].rsplit(".", 1)[-1]))
    ours = _check(tmp_path, tmp_path).findings

    def flagged(rule: str, resource_type: str, fragment: str) -> set[tuple[str, str]]:
        return {(Path(f.location.path).name, f.properties["address"].rsplit(".", 1)[-1])
                for f in ours if f.rule_id == rule and fragment in f.message
                and f.properties.get("address", "").startswith(resource_type + ".")}

    compared = 0
    for check_id, rule, resource_type, fragment in CHECKOV_PAIRS:
        assert failed.get(check_id, set()) == flagged(rule, resource_type, fragment), check_id
        compared += len(failed.get(check_id, ()))
    assert compared >= 5
    open_ports = set().union(*(failed.get(c, set()) for c in OPEN_PORT_CHECKS))
    assert open_ports and open_ports <= {(Path(f.location.path).name,
                                          f.properties["address"].rsplit(".", 1)[-1])
                                         for f in ours if f.rule_id == "PE-TF-002"}


# ---------------------------------------------------------------------------- fuzzed

_FUZZ_SEEDS = [to_tf_json(path.read_text(encoding="utf-8"), path.name)
               for path in sorted((FIXTURES / "terraform" / "bad" / "storage").glob("*.tf"))
               + sorted((FIXTURES / "terraform" / "bad" / "iam").glob("*.tf"))]


@FUZZ
@given(data=st.data())
def test_mutated_json_loads_or_is_a_parse_error(data: st.DataObject) -> None:
    """Any text in a `.tf.json` file loads into a usable document or is a ParseError at a line."""
    from pe_policy.loaders import Source
    from pe_policy.loaders.terraform import load

    seed = data.draw(st.sampled_from(_FUZZ_SEEDS), label="seed")
    text = data.draw(st.one_of(mutated(seed), st.text(CHARS, max_size=400)), label="text")
    try:
        doc = load(Source(path="infra/main.tf.json", text=text, kind="terraform"))
    except ParseError as exc:
        assert exc.path == "infra/main.tf.json" and exc.line >= 1 and exc.message.strip()
        return
    assert_usable(doc, "terraform", "infra/main.tf.json")
