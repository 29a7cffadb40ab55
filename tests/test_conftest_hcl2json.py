"""`pe-policy parse --parser hcl2` prints what the real `conftest parse --parser hcl2` prints
(tmccombs/hcl2json's shape), byte for byte: over a sample of the Terraform corpus (realistic
files from the providers' documentation) and over fixtures that hold every form hcl2json
rewrites (templates, directives, strip markers, heredocs, keys, numbers, `.tfvars`, `.hcl`).
A block with and without labels under one name is an error in both, with hcl2json's words."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.reference_tools import REPO, run_tool

CORPUS = REPO / "tests" / "corpus" / "terraform" / "valid"
FIXTURES = REPO / "tests" / "conftest_parity" / "fixtures" / "hcl2json"
SAMPLE = 40


def corpus_sample() -> list[str]:
    """Every n-th file of the sorted corpus (all providers and the language files), 40 in all."""
    files = sorted(str(p.relative_to(REPO)) for p in CORPUS.rglob("*.tf"))
    assert len(files) >= SAMPLE
    step = len(files) / SAMPLE
    return [files[int(i * step)] for i in range(SAMPLE)]


def pe_policy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pe_policy", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300, check=False)


def assert_same_parse(files: list[str]) -> None:
    real = run_tool("conftest", "parse", "--parser", "hcl2", *files)
    ours = pe_policy("parse", "--parser", "hcl2", *files)
    assert real.returncode == 0, real.stderr
    assert (ours.returncode, ours.stderr) == (0, "")
    assert ours.stdout == real.stdout


def test_a_sample_of_the_terraform_corpus_parses_as_conftest_parses_it() -> None:
    assert_same_parse(corpus_sample())


def test_the_invalid_corpus_is_rejected_where_conftest_rejects_it() -> None:
    """HCL syntax errors fail both, each with a line; what is valid HCL but not valid
    Terraform (a resource without a name, a top-level argument) is data to both."""
    for path in sorted((CORPUS.parent / "invalid").glob("*.tf")):
        name = str(path.relative_to(REPO))
        real = run_tool("conftest", "parse", "--parser", "hcl2", name)
        ours = pe_policy("parse", "--parser", "hcl2", name)
        assert (name, ours.returncode) == (name, real.returncode)
        if real.returncode:
            assert f"{name}:" in ours.stderr and "Traceback" not in ours.stderr
        else:
            assert ours.stdout == real.stdout


@pytest.mark.parametrize("name", ["templates.tf", "prod.tfvars", "settings.hcl", "numbers.tf"])
def test_every_form_hcl2json_rewrites(name: str) -> None:
    assert_same_parse([str((FIXTURES / name).relative_to(REPO))])


@pytest.mark.parametrize(("name", "line", "message"), [
    ("labels_then_none.hcl", 5,
     'invalid HCL detected for "block" block, cannot have blocks with and without labels'),
    ("none_then_labels.hcl", 5, "Unable to convert Block to JSON: block.lab"),
])
def test_blocks_with_and_without_labels_fail_as_in_conftest(name: str, line: int,
                                                            message: str) -> None:
    path = str((FIXTURES / name).relative_to(REPO))
    real = run_tool("conftest", "parse", "--parser", "hcl2", path)
    ours = pe_policy("parse", "--parser", "hcl2", path)
    assert real.returncode == ours.returncode == 1
    assert message in real.stderr
    assert f"{path}:{line}:1: {message}" in ours.stderr
