"""Any JSON or YAML document, for user policies written against raw data (conftest style)."""

from __future__ import annotations

from typing import Any

from pydantic import RootModel


class GenericDocument(RootModel[Any]):
    """The parsed data as it is."""
