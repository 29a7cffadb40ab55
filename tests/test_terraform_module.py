"""Terraform's unit is the module: a directory's `.tf` files are loaded and judged once,
every finding at its own file and line; child modules are part of the configuration;
files Terraform never loads are not checked."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from pe_policy.document import Document
from pe_policy.engine.evaluate import Evaluator
from pe_policy.findings import Finding, ParseError
from pe_policy.loaders.terraform import ParsedFile, load_module
from pe_policy.pipeline import check
from pe_policy.runner import Limits
from tests.conftest import FIXTURES, REPO, line_of

STORAGE = FIXTURES / "terraform" / "bad" / "storage"
CORPUS = REPO / "tests" / "corpus" / "terraform" / "valid"
IN_PROCESS = Limits(timeout=None, memory_mb=None)


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def test_a_module_is_one_document_whose_blocks_keep_their_file_and_line() -> None:
    files = sorted(STORAGE.glob("*.tf"))
    doc = load_module([(f, rel(f)) for f in files], REPO)
    assert doc.path == rel(files[0])
    blocks = doc.input["blocks"]
    assert {b["file"] for b in blocks} == {rel(f) for f in files}
    assert doc.input["module"]["blocks"] == []  # every file is in the document itself
    s3 = STORAGE / "s3.tf"
    index, block = next((i, b) for i, b in enumerate(blocks) if b["file"] == rel(s3))
    where = doc.location(("blocks", index, "values"))
    assert (where.path, where.line) == (rel(s3), block["line"])
    assert block["line"] == line_of(s3, f'resource "{block["type"]}" "{block["name"]}"')


def test_a_module_is_evaluated_once_with_findings_in_each_file(monkeypatch: pytest.MonkeyPatch) -> None:
    evaluated: list[str] = []
    original = Evaluator.evaluate

    def counting(self: Evaluator, doc: Document, documents: Iterable[Document] = ()) -> list[Finding]:
        evaluated.append(doc.path)
        return original(self, doc, documents)

    monkeypatch.setattr(Evaluator, "evaluate", counting)
    result = check([STORAGE], REPO, limits=IN_PROCESS)
    assert evaluated == [rel(sorted(STORAGE.glob("*.tf"))[0])]  # the module, at its first file
    places = {f.location.path for f in result.active}
    assert {rel(STORAGE / "s3.tf"), rel(STORAGE / "database.tf")} <= places
    assert {f.path for f in result.files} == {rel(f) for f in STORAGE.glob("*.tf")}


def test_same_findings_as_each_file_checked_alone(tmp_path: Path) -> None:
    """Judging the module at once finds what judging each file (siblings as context) finds."""
    together = check([STORAGE], REPO, limits=IN_PROCESS)
    alone = [f for path in sorted(STORAGE.glob("*.tf"))
             for f in check([path], REPO, limits=IN_PROCESS).active]
    key = lambda f: (f.rule_id, f.location.path, f.location.line, f.message)  # noqa: E731
    assert sorted(map(key, together.active)) == sorted(map(key, alone))


def test_a_broken_file_is_a_parse_error_and_the_rest_of_the_module_is_judged(tmp_path: Path) -> None:
    module = tmp_path / "storage"
    shutil.copytree(STORAGE, module)
    (tmp_path / ".git").mkdir()
    broken = module / "a_broken.tf"  # sorts first: the module's document is the next file
    broken.write_text('resource "aws_s3_bucket" "x" {\n  bucket = "x"\n', encoding="utf-8")
    result = check([module], tmp_path, limits=IN_PROCESS)
    parse = [f for f in result.active if f.rule_id == "PE-PARSE"]
    assert [f.location.path for f in parse] == ["storage/a_broken.tf"]
    assert parse[0].location.line >= 1 and parse[0].location.column is not None
    judged = {f.location.path for f in result.active if f.rule_id.startswith("PE-TF")}
    assert {"storage/s3.tf", "storage/database.tf"} <= judged
    assert "storage/a_broken.tf" not in {f.path for f in result.files}


def test_files_terraform_never_loads_are_not_checked(tmp_path: Path) -> None:
    """A hidden `.tf` file (an editor's backup, a disabled file) is not part of the module."""
    module = tmp_path / "network"
    shutil.copytree(FIXTURES / "terraform" / "good" / "platform", module)
    (tmp_path / ".git").mkdir()
    (module / ".old-network.tf").write_text(
        'resource "aws_security_group" "old" {\n  ingress {\n    from_port   = 22\n'
        '    to_port     = 22\n    protocol    = "tcp"\n    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n',
        encoding="utf-8")
    result = check([module], tmp_path, limits=IN_PROCESS)
    assert not [f for f in result.active if ".old-network.tf" in f.location.path]
    assert "network/.old-network.tf" not in result.checked_paths
    doc = load_module([(p, f"network/{p.name}") for p in sorted(module.glob("[!.]*.tf"))], tmp_path)
    assert "network/.old-network.tf" not in doc.input["module"]["files"]


def test_public_access_block_in_a_child_module_is_found() -> None:
    covered = CORPUS / "child-module-public-access-block"
    result = check([covered], REPO, limits=IN_PROCESS)
    assert not [f for f in result.active if f.rule_id == "PE-TF-003"]
    doc = load_module([(covered / "main.tf", rel(covered / "main.tf"))], REPO)
    children = doc.input["module"]["children"]
    assert children["assets_public_access_block"]["directory"] == rel(
        covered / "modules" / "public-access-block")
    child_block = children["assets_public_access_block"]["blocks"][0]
    assert child_block["type"] == "aws_s3_bucket_public_access_block"
    where = doc.location(("module", "children", "assets_public_access_block", "blocks", 0))
    assert where.path == rel(covered / "modules" / "public-access-block" / "main.tf")


def test_a_child_module_that_locks_down_its_own_bucket_does_not_cover_the_root_one() -> None:
    other = CORPUS / "child-module-other-bucket"
    result = check([other], REPO, limits=IN_PROCESS)
    found = [(f.location.path, f.location.line) for f in result.active if f.rule_id == "PE-TF-003"]
    assert found == [(rel(other / "main.tf"), line_of(other / "main.tf", 'resource "aws_s3_bucket" "uploads"'))]


def test_a_child_module_outside_the_repository_is_never_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "main.tf").write_text('resource "aws_s3_account_public_access_block" "x" {\n}\n')
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.tf").write_text('module "x" {\n  source = "../outside"\n}\n')
    doc = load_module([(repo / "main.tf", "main.tf")], repo)
    assert "children" not in doc.input["module"]


def test_a_large_module_is_parsed_on_every_core_with_the_same_result(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pe_policy.loaders import terraform

    sources = sorted((CORPUS / "providers").rglob("*.tf"))[:terraform.PARALLEL_MIN_FILES + 6]
    files = []
    for n, source in enumerate(sources):
        target = tmp_path / f"{n:03d}_{source.name}"
        shutil.copyfile(source, target)
        files.append((target, target.name))
    (tmp_path / "999_broken.tf").write_text('resource "a" "b" {\n', encoding="utf-8")
    files.append((tmp_path / "999_broken.tf", "999_broken.tf"))
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)  # two cores
    collected: list[int] = []
    collect = terraform._collect

    def counting(pid: int, reader: int, *rest: Any) -> dict[int, ParsedFile | ParseError]:
        shares = collect(pid, reader, *rest)
        collected.append(len(shares))
        return shares

    monkeypatch.setattr(terraform, "_collect", counting)
    monkeypatch.setattr(terraform, "_parse_one", _not_in_the_parent(terraform._parse_one, os.getpid()))
    forked = terraform._parse_files(files, 1 << 20)
    assert collected and sum(collected) > 0  # a helper parsed its share, not this process
    assert len(_PARSED_IN_PARENT) == len(files) - sum(collected)
    monkeypatch.undo()
    terraform._parse_cached.cache_clear()
    serial = [terraform._parse_one(path, name, 1 << 20) for path, name in files]
    assert isinstance(forked[-1], ParseError) and isinstance(serial[-1], ParseError)
    assert (forked[-1].line, forked[-1].message) == (serial[-1].line, serial[-1].message)
    for one, other in zip(forked[:-1], serial[:-1], strict=True):
        assert isinstance(one, ParsedFile) and isinstance(other, ParsedFile)
        assert (one.path, one.blocks, one.spans) == (other.path, other.blocks, other.spans)


def _not_in_the_parent(parse: Callable[..., Any], parent: int) -> Callable[..., Any]:
    """`parse` that records, in the parent, which files it parsed there (a helper's are not)."""
    def recording(*args: Any) -> Any:
        if os.getpid() == parent:
            _PARSED_IN_PARENT.append(args[1])
        return parse(*args)
    return recording


_PARSED_IN_PARENT: list[str] = []
