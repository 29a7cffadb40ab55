"""pe-policy: policy-as-code for the whole delivery process."""

import gc
import sys
import types

__version__ = "0.1.0"
# where pe-policy lives: pre-commit installs it from here (`pe-policy init`), SARIF names it
REPOSITORY_URL = "https://github.com/pe-policy/pe-policy"

_collector_paused = False


def pause_collector() -> None:
    """Start-up (imports, configuration, the rule set) builds tens of thousands of objects that
    live as long as the process and leaves no garbage cycles worth collecting, yet the cycle
    collector scanned them again and again: 13 ms of a 270 ms pre-commit run.  The command
    line (cli.run) pauses it until `resume_collector`, where inputs are loaded and judged."""
    global _collector_paused
    if gc.isenabled():
        gc.disable()
        _collector_paused = True


def resume_collector() -> None:
    """The collector back on if `pause_collector` turned it off (a caller's own setting stands).

    What start-up built is frozen first (moved out of the collector's generations): every
    object made while it was off still counts as new, and the first collection would scan
    them all (10 ms) only to find them alive."""
    global _collector_paused
    if _collector_paused:
        _collector_paused = False
        gc.freeze()
        gc.enable()


def without_pydantic_plugins() -> None:
    """pydantic loads every installed distribution's `pydantic` entry point into the process
    the first time it builds a model, and each such plugin then sees every value validated:
    a workflow's `env:` or a Terraform variable's default, secrets included.  The `pe-policy`
    command runs no plugin (no third-party code may observe the documents it checks), so
    `cli.run` replaces the module that finds them, before pydantic imports it, by one that
    finds none.  That module imports `importlib.metadata` (email, zipfile, csv...) to search
    the entry points: 16 ms, 8 % of a pre-commit run on one workflow.  Importing pe_policy
    as a library changes nothing: the embedding program's plugins are its own business.

    pydantic reads it in one place (`plugin/_schema_validator.create_schema_validator`:
    `from ._loader import get_plugins`, then a plain `SchemaValidator` when there are none);
    tests/test_pydantic_plugins.py fails if that changes or if a plugin still runs.
    """
    name = "pydantic.plugin._loader"
    if name in sys.modules:  # imported already (by the embedding program): leave it be
        return
    loader = types.ModuleType(name, "pe-policy: no pydantic plugin runs (pe_policy/__init__.py)")
    loader.get_plugins = lambda: ()  # type: ignore[attr-defined]
    sys.modules[name] = loader
