"""Typed models, one module per kind.  `MODEL_CLASSES` names the top-level model of each kind
(imported lazily), for `pe-policy schema KIND` and the generated `schemas/`."""

from __future__ import annotations

import importlib

from pydantic import BaseModel

MODEL_CLASSES: dict[str, str] = {
    "workflow": "workflow:Workflow",
    "action": "workflow:CompositeAction",
    "generic": "generic:GenericDocument",
    "pull_request": "pull_request:PullRequest",
    "terraform_plan": "terraform_plan:TerraformPlan",
    "terraform": "terraform:TerraformConfig",
    "runbook": "runbook:Runbook",
    "deployment_report": "report:DeploymentReport",
    "qa_report": "report:QAReport",
    "migration": "migration:Migration",
    "scan_report": "scan_report:ScanReport",
    "coverage": "coverage:CoverageReport",
}


def model_class(kind: str) -> type[BaseModel]:
    module_name, _, class_name = MODEL_CLASSES[kind].partition(":")
    module = importlib.import_module(f"pe_policy.models.{module_name}")
    cls: type[BaseModel] = getattr(module, class_name)
    return cls
