"""GitHub Actions workflows and composite actions.

The models mirror the YAML key for key (aliases keep GitHub's spelling), so a
path into the model is a path into the file and the source map applies as is.
Unknown keys are kept: GitHub adds keys faster than any model can follow.
What the workflow rules share to walk steps and scripts and read `${{ }}`
expressions lives beside them, in `policies/workflow/lib/`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Permissions = str | dict[str, str]
EnvMap = dict[str, Any] | str  # a mapping, or one `${{ fromJSON(...) }}` expression


class _Node(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Step(_Node):
    """One entry of `steps:`: either `uses:` an action or `run:` a script."""

    id: str | None = Field(default=None, description="Step id, for `steps.<id>.outputs`.")
    name: str | None = None
    uses: str | None = Field(
        default=None,
        description="Action reference: `owner/repo[/path]@ref`, `./local/path` or "
        "`docker://image[@sha256:digest]`.",
    )
    run: str | None = Field(default=None, description="Shell script; `${{ }}` is expanded "
                            "into it before the shell runs.")
    shell: str | None = None
    with_: dict[str, Any] | None = Field(default=None, alias="with",
                                         description="Inputs of the action in `uses:`.")
    env: EnvMap | None = Field(default=None, description="Environment of this step.")
    if_: str | bool | None = Field(default=None, alias="if")
    working_directory: str | None = Field(default=None, alias="working-directory")
    continue_on_error: bool | str | None = Field(default=None, alias="continue-on-error")
    timeout_minutes: int | float | str | None = Field(default=None, alias="timeout-minutes")


class Job(_Node):
    """One entry of `jobs:`: steps on a runner, or a call of a reusable workflow (`uses:`)."""

    name: str | None = None
    runs_on: Any = Field(default=None, alias="runs-on")
    needs: str | list[str] | None = Field(default=None,
                                          description="Jobs that must succeed first.")
    permissions: Permissions | None = Field(
        default=None, description="GITHUB_TOKEN scopes: `read-all`, `write-all`, or a mapping "
        "scope -> `read`|`write`|`none`.")
    environment: str | dict[str, Any] | None = Field(
        default=None, description="Deployment environment: a name or `{name, url}`.")
    if_: str | bool | None = Field(default=None, alias="if")
    env: EnvMap | None = None
    steps: list[Step] = Field(default_factory=list)
    uses: str | None = Field(default=None, description="A reusable workflow call: "
                             "`owner/repo/.github/workflows/x.yml@ref` or `./.github/workflows/x.yml`.")
    with_: dict[str, Any] | None = Field(default=None, alias="with",
                                         description="Inputs of the reusable workflow.")
    secrets: dict[str, Any] | str | None = None
    strategy: dict[str, Any] | str | None = None
    continue_on_error: bool | str | None = Field(default=None, alias="continue-on-error")
    timeout_minutes: int | float | str | None = Field(default=None, alias="timeout-minutes")
    container: str | dict[str, Any] | None = None
    services: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    concurrency: str | dict[str, Any] | None = None
    defaults: dict[str, Any] | None = None

    @property
    def needs_list(self) -> list[str]:
        if self.needs is None:
            return []
        return [self.needs] if isinstance(self.needs, str) else list(self.needs)

    @property
    def environment_name(self) -> str | None:
        if isinstance(self.environment, dict):
            name = self.environment.get("name")
            return name if isinstance(name, str) else None
        return self.environment


class Workflow(_Node):
    """A workflow file under `.github/workflows/`."""

    name: str | None = None
    run_name: str | None = Field(default=None, alias="run-name")
    on: str | list[str] | dict[str, Any] | None = Field(
        default=None, description="Triggers: an event name, a list of them, or a mapping "
        "event -> filters (`branches`, `tags`, `types`, ...).")
    permissions: Permissions | None = Field(
        default=None, description="Default GITHUB_TOKEN scopes for every job.")
    env: EnvMap | None = None
    defaults: dict[str, Any] | None = None
    concurrency: str | dict[str, Any] | None = None
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
    using: str | None = Field(default=None, description="`composite`, `docker`, `node20`...")
    steps: list[Step] = Field(default_factory=list)
    main: str | None = None
    image: str | None = Field(default=None, description="Docker actions: `Dockerfile` or "
                              "`docker://image`.")


class CompositeAction(_Node):
    """An `action.yml`: composite, JavaScript or Docker."""

    name: str | None = None
    description: str | None = None
    author: str | None = None
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    runs: ActionRuns | None = None

