"""conftest's configuration file: `conftest.toml` (or `.yaml`/`.json`) in the current
directory, or the one `-c/--config-file` names; its keys are the flags' names
(`policy = "test"`, `namespace = "conftest"`, `all-namespaces = true`).  A flag given on
the command line wins over the file, the file over the flag's default, as in conftest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pe_policy.findings import ParseError

CONFIG_NAMES = ("conftest.toml", "conftest.yaml", "conftest.yml", "conftest.json")


class SettingsError(Exception):
    pass


def read_settings(config_file: str | None) -> dict[str, Any]:
    """The file's settings (empty when there is none and none was named)."""
    if config_file:
        path = Path(config_file)
        if not path.is_file():
            raise SettingsError(f"error reading config: open {config_file}: no such file or directory")
    else:
        found = [Path(name) for name in CONFIG_NAMES if Path(name).is_file()]
        if not found:
            return {}
        path = found[0]
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".toml":
            import sys

            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover - Python 3.10
                import tomli as tomllib
            values = tomllib.loads(text)
        else:  # YAML and JSON: the project's reader (its limits, its line numbers)
            from pe_policy.loaders.yaml_source import load_yaml

            values = load_yaml(text, path.as_posix())[0] or {}
    except ParseError as exc:  # names the file and line already
        raise SettingsError(f"error reading config: {exc}") from None
    except Exception as exc:  # tomllib.TOMLDecodeError
        raise SettingsError(f"error reading config: {path}: {exc}") from None
    if not isinstance(values, dict):
        raise SettingsError(f"error reading config: {path}: expected a table of settings")
    return values


def as_list(value: Any) -> list[str]:
    """A string-slice flag's value: a list, or a comma-separated string (as cobra splits it)."""
    if value is None:
        return []
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    out: list[str] = []
    for item in items:
        out.extend(str(item).split(","))
    return out


def merged(given: dict[str, Any], explicit: set[str], settings: dict[str, Any]) -> dict[str, Any]:
    """`given` (click's values by parameter name) with the file's values where the command
    line left an option at its default; keys are matched with `-` or `_`."""
    out = dict(given)
    for key, value in settings.items():
        name = str(key).replace("-", "_")
        if name in out and name not in explicit:
            out[name] = value
    return out
