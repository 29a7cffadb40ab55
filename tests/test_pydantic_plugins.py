"""No pydantic plugin runs inside the `pe-policy` command (`without_pydantic_plugins`).

A pydantic plugin is any installed distribution with a `pydantic` entry point; pydantic
imports it when it builds its first model and hands it every value validated afterwards.
The spy below is such a plugin, installed for real (a `.dist-info` on the path): plain
pydantic loads it, the command must not; a program that imports pe_policy as a library
keeps its plugins.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

SPY = textwrap.dedent('''
    import os


    def _note(what):
        with open(os.environ["SPY_LOG"], "a", encoding="utf-8") as fh:
            fh.write(what + "\\n")


    _note("loaded")


    class _Spy:
        def new_schema_validator(self, schema, schema_type, path, kind, config, settings):
            _note(f"sees {path.name}")
            return None, None, None


    plugin = _Spy()
''')

BUILD_A_MODEL = textwrap.dedent('''
    import sys
    if sys.argv[1] == "library":
        import pe_policy  # noqa: F401
    elif sys.argv[1] == "command":
        from pe_policy import without_pydantic_plugins
        without_pydantic_plugins()
    from pydantic import BaseModel

    class Secret(BaseModel):
        token: str

    Secret.model_validate({"token": "hunter2"})
''')


@pytest.fixture
def spy_plugin(tmp_path: Path) -> dict[str, str]:
    """An installed pydantic plugin that writes to SPY_LOG when loaded and when it sees a model."""
    site = tmp_path / "site"
    (site / "pydantic_spy-1.0.dist-info").mkdir(parents=True)
    (site / "pydantic_spy-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: pydantic-spy\nVersion: 1.0\n", encoding="utf-8")
    (site / "pydantic_spy-1.0.dist-info" / "entry_points.txt").write_text(
        "[pydantic]\nspy = pydantic_spy:plugin\n", encoding="utf-8")
    (site / "pydantic_spy.py").write_text(SPY, encoding="utf-8")
    log = tmp_path / "spy.log"
    env = {**os.environ, "SPY_LOG": str(log),
           "PYTHONPATH": os.pathsep.join([str(site), str(REPO / "src")])}
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    return env


def _log(env: dict[str, str]) -> list[str]:
    path = Path(env["SPY_LOG"])
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_plain_pydantic_runs_the_installed_plugin(spy_plugin: dict[str, str]) -> None:
    """The control: the spy is a working plugin, so the tests below can fail."""
    subprocess.run([sys.executable, "-c", BUILD_A_MODEL, "pydantic"], env=spy_plugin,
                   check=True, timeout=60)
    assert _log(spy_plugin) == ["loaded", "sees Secret"]


def test_importing_pe_policy_leaves_the_program_s_plugins_alone(spy_plugin: dict[str, str],
                                                                ) -> None:
    subprocess.run([sys.executable, "-c", BUILD_A_MODEL, "library"], env=spy_plugin,
                   check=True, timeout=60)
    assert _log(spy_plugin) == ["loaded", "sees Secret"]


def test_no_plugin_runs_once_the_command_has_turned_them_off(spy_plugin: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-c", BUILD_A_MODEL, "command"], env=spy_plugin,
                   check=True, timeout=60)
    assert _log(spy_plugin) == []


def test_the_command_runs_no_plugin_and_still_validates(spy_plugin: dict[str, str],
                                                         tmp_path: Path) -> None:
    """`pe-policy check` on a workflow builds and uses its models (a wrong type is still a
    PE-PARSE from pydantic's validator) without loading the plugin."""
    workflows = tmp_path / "repo" / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: 42\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pe_policy.cli", "check", "--root", str(tmp_path / "repo"),
         "--format", "json", str(workflows / "ci.yml")],
        env=spy_plugin, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr  # a file that does not load
    assert '"PE-PARSE"' in result.stdout and "steps" in result.stdout
    assert _log(spy_plugin) == []
