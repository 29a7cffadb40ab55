"""GitHub Actions workflows and composite actions.

The models mirror the YAML key for key (aliases keep GitHub's spelling), so a
path into the model is a path into the file and the source map applies as is.
Unknown keys are kept: GitHub adds keys faster than any model can follow.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Node(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Step(_Node):
    id: str | None = None
    name: str | None = None
    uses: str | None = None
    run: str | None = None
    shell: str | None = None
    with_: dict[str, Any] | None = Field(default=None, alias="with")
    env: dict[str, Any] | str | None = None
    if_: str | bool | None = Field(default=None, alias="if")
    working_directory: str | None = Field(default=None, alias="working-directory")


class Job(_Node):
    name: str | None = None
    runs_on: Any = Field(default=None, alias="runs-on")
    needs: str | list[str] | None = None
    permissions: str | dict[str, str] | None = None
    environment: str | dict[str, Any] | None = None
    if_: str | bool | None = Field(default=None, alias="if")
    env: dict[str, Any] | str | None = None
    steps: list[Step] = Field(default_factory=list)
    uses: str | None = None  # a reusable workflow call
    with_: dict[str, Any] | None = Field(default=None, alias="with")
    secrets: dict[str, Any] | str | None = None
    strategy: dict[str, Any] | str | None = None

    @property
    def needs_list(self) -> list[str]:
        if self.needs is None:
            return []
        return [self.needs] if isinstance(self.needs, str) else list(self.needs)


class Workflow(_Node):
    name: str | None = None
    on: str | list[str] | dict[str, Any] | None = None
    permissions: str | dict[str, str] | None = None
    env: dict[str, Any] | str | None = None
    jobs: dict[str, Job] = Field(default_factory=dict)

    @property
    def triggers(self) -> list[str]:
        if self.on is None:
            return []
        if isinstance(self.on, str):
            return [self.on]
        if isinstance(self.on, list):
            return [str(t) for t in self.on]
        return list(self.on)


class ActionRuns(_Node):
    using: str | None = None
    steps: list[Step] = Field(default_factory=list)
    main: str | None = None
    image: str | None = None


class CompositeAction(_Node):
    """An `action.yml`: composite, JavaScript or Docker."""

    name: str | None = None
    description: str | None = None
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    runs: ActionRuns | None = None


def iter_steps(model: BaseModel) -> Iterator[tuple[tuple[str | int, ...], str, Step]]:
    """Every step with its JSON path and job id ('' in an action), for rules to walk."""
    if isinstance(model, Workflow):
        for job_id, job in model.jobs.items():
            for index, step in enumerate(job.steps):
                yield ("jobs", job_id, "steps", index), job_id, step
    elif isinstance(model, CompositeAction) and model.runs is not None:
        for index, step in enumerate(model.runs.steps):
            yield ("runs", "steps", index), "", step
