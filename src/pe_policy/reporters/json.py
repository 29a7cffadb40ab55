"""Machine-readable findings: a stable, documented shape for scripts and dashboards."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pe_policy.findings import Severity
from pe_policy.reporters import dumps_json

if TYPE_CHECKING:
    from pe_policy.pipeline import CheckResult
    from pe_policy.reporters import ReportOptions


def render(result: CheckResult, options: ReportOptions) -> str:
    active = result.active
    payload: dict[str, Any] = {
        "version": 1,
        "tool": {"name": "pe-policy", "version": options.tool_version},
        "summary": {
            "files": len(result.checked_paths),
            "findings": len(active),
            "suppressed": len(result.findings) - len(active),
            "by_severity": {s.value: sum(1 for f in active if f.severity is s) for s in Severity},
        },
        "findings": [f.to_dict() for f in result.findings],
        "errors": [{"path": p, "message": m} for p, m in result.problems],
    }
    return dumps_json(payload, expand=2) + "\n"
