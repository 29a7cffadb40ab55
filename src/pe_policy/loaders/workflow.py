"""GitHub Actions workflows (`.github/workflows/*.yml`) and `action.yml` files."""

from __future__ import annotations

from pe_policy.document import Document
from pe_policy.loaders import Source
from pe_policy.loaders.structured import structured_document
from pe_policy.models.workflow import CompositeAction, Workflow


def load(source: Source) -> Document:
    if source.kind == "action":
        return structured_document(source, CompositeAction, "action metadata")
    return structured_document(source, Workflow, "workflow")
