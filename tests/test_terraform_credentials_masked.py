"""PE-TF-009 reports credentials written into Terraform without printing them, in every format.

The values below sit in fixtures/terraform/bad/credentials/main.tf; some look like nothing a
detector knows (`Res3arch!2024` under `default`), so only the rule's own masking of its
finding's line keeps them out of code frames.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pe_policy.reporters import FORMATS
from tests.conftest import FIXTURES, run_cli

CREDENTIALS = FIXTURES / "terraform" / "bad" / "credentials"
VALUES = (
    "AKIAQ3EGRTY7ZB4NW2JK",  # provider access_key
    "q8Vb0Xz3LmT6yR1wN4pK7sD2fG5hJ9aE0cU3iO6Z",  # provider secret_key
    "Res3arch!2024",  # var.db_password's default
    "Mustbe8characters",  # aws_redshift_cluster master_password
    "AKIAR7KD2WQ9XPL4TM3B",  # exported in user_data
    "Zp4nR8vL2xQ7mT1kW9sD3fH6jB0cY5gU8eA2iO4N",
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("credentials")
    (root / ".git").mkdir()
    shutil.copytree(CREDENTIALS, root / "infra")
    return root


def test_the_fixture_holds_the_values() -> None:
    text = (CREDENTIALS / "main.tf").read_text(encoding="utf-8")
    assert all(value in text for value in VALUES)


@pytest.mark.parametrize("format_", FORMATS)
def test_no_format_prints_a_terraform_credential(repo: Path, format_: str) -> None:
    result = run_cli(["check", "--root", str(repo), "--format", format_, "--color", str(repo)],
                     cwd=repo)
    output = result.stdout + result.stderr
    assert result.exit_code == 1, output[-2000:]
    assert "PE-TF-009" in output
    for value in VALUES:
        assert value not in output, f"{format_} printed {value[:6]}..."


@pytest.mark.parametrize("command", [["parse"], ["parse", "--kind", "terraform"]])
def test_parse_prints_no_terraform_credential(repo: Path, command: list[str]) -> None:
    """`parse` hands the model out: a variable's default named like a secret is masked there too."""
    result = run_cli([*command, str(repo / "infra" / "main.tf")], cwd=repo)
    output = result.stdout + result.stderr
    assert result.exit_code == 0, output[-2000:]
    assert '"default"' in output  # the model is printed, only its secrets masked
    for value in VALUES:
        assert value not in output, f"parse printed {value[:6]}..."
