"""The steps and scripts of a workflow or composite action, as the Python workflow rules walk them.

Every rule that looks at scripts walks the same ones: `run:` blocks and, optionally,
`actions/github-script` `script:` inputs, with the environment each step sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from pe_policy.findings import JsonPath
from pe_policy.models.workflow import CompositeAction, Step, Workflow


def iter_steps(model: Workflow | CompositeAction) -> Iterator[tuple[JsonPath, str, Step]]:
    """Every step with its JSON path and job id ('' in an action)."""
    if isinstance(model, Workflow):
        for job_id, job in model.jobs.items():
            for index, step in enumerate(job.steps):
                yield ("jobs", job_id, "steps", index), job_id, step
    elif isinstance(model, CompositeAction) and model.runs is not None:
        for index, step in enumerate(model.runs.steps):
            yield ("runs", "steps", index), "", step


class Script(NamedTuple):
    """Code that GitHub expands `${{ }}` into before running it."""

    path: JsonPath  # the `run` (or `with.script`) node
    text: str
    where: str  # for messages: "`run:` script"
    job_id: str
    step: Step


GITHUB_SCRIPT_ACTION = "actions/github-script"


def iter_scripts(model: Workflow | CompositeAction, *, github_script: bool = True) -> Iterator[Script]:
    """`run:` blocks, and (optionally) `actions/github-script` `script:` inputs."""
    for step_path, job_id, step in iter_steps(model):
        if step.run:
            yield Script((*step_path, "run"), step.run, "`run:` script", job_id, step)
        if (github_script and step.uses and isinstance(step.with_, dict)
                and step.uses.lower().split("@")[0] == GITHUB_SCRIPT_ACTION):
            script = step.with_.get("script")
            if isinstance(script, str):
                yield Script((*step_path, "with", "script"), script,
                             "github-script `script:`", job_id, step)


def step_env(model: Workflow | CompositeAction, job_id: str, step: Step) -> dict[str, Any]:
    """The environment a step sees from `env:` mappings: workflow, then job, then step."""
    scopes: list[Any] = []
    if isinstance(model, Workflow):
        scopes.append(model.env)
        job = model.jobs.get(job_id)
        if job is not None:
            scopes.append(job.env)
    scopes.append(step.env)
    env: dict[str, Any] = {}
    for scope in scopes:
        if isinstance(scope, dict):
            env.update(scope)
    return env
