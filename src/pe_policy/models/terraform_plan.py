"""`terraform show -json` plan output (Terraform's JSON output format, format_version 1.x).

The models mirror the JSON key for key, so a path into the model is a path into
the file, and Rego sees the plan exactly as `terraform show -json` wrote it (the
same input OPA and conftest get).  Unknown keys are kept: Terraform adds fields
in minor releases.

Plans run to tens of thousands of resources, so the loader checks only the
shape rules rely on (`resource_changes[*].address/type/change.actions`) and then
validates the large parts only when a Python rule first reads them (see
`TerraformPlan.lazy`).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter


class _Node(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Change(_Node):
    """What Terraform will do to one object; `before`/`after` are attribute values."""

    actions: list[str] = Field(
        default_factory=list,
        description='["no-op"], ["create"], ["read"], ["update"], ["delete"], '
        '["delete","create"] or ["create","delete"] (replace), ["forget"]',
    )
    before: Any = Field(default=None, description="values before the change (null on create)")
    after: Any = Field(default=None, description="values after the change (null on delete); "
                       "unknown values are absent and marked in after_unknown")
    after_unknown: Any = Field(default=None, description="true where a value is known only after apply")
    before_sensitive: Any = Field(default=None, description="true where a before value is sensitive")
    after_sensitive: Any = Field(default=None, description="true where an after value is sensitive")
    replace_paths: list[list[str | int]] | None = Field(
        default=None, description="attribute paths that force replacement")
    importing: dict[str, Any] | None = Field(default=None, description="set when the change imports")


class ResourceChange(_Node):
    """One entry of `resource_changes`: a resource instance and its planned change."""

    address: str = Field(description='full instance address, e.g. module.db.aws_db_instance.main[0]')
    previous_address: str | None = Field(default=None, description="address before a `moved` block")
    module_address: str | None = Field(default=None, description="module instance, absent for root")
    mode: str = Field(default="managed", description='"managed" (resource) or "data"')
    type: str = Field(description="resource type, e.g. aws_s3_bucket")
    name: str = Field(default="", description="resource name in its module")
    index: int | str | None = Field(default=None, description="count index or for_each key")
    provider_name: str | None = Field(default=None, description="provider source address")
    deposed: str | None = Field(default=None, description="deposed object key, for create_before_destroy")
    action_reason: str | None = Field(default=None, description="why, e.g. replace_because_tainted")
    change: Change = Field(default_factory=Change)

    @property
    def deletes(self) -> bool:
        """Delete or replace: the object behind this address is destroyed."""
        return "delete" in self.change.actions


class ConfigResource(_Node):
    """A `resource`/`data` block as written, with its expressions (constants and references)."""

    address: str = Field(description="address within its module, without instance keys")
    mode: str = "managed"
    type: str
    name: str = ""
    provider_config_key: str | None = None
    expressions: dict[str, Any] = Field(
        default_factory=dict,
        description='attribute -> {"constant_value": ...} or {"references": [...]}; '
        "nested blocks are lists of such objects",
    )
    schema_version: int | None = None
    count_expression: dict[str, Any] | None = None
    for_each_expression: dict[str, Any] | None = None


class ModuleCall(_Node):
    source: str | None = Field(default=None, description='module source, e.g. "./modules/network"')
    version_constraint: str | None = None
    expressions: dict[str, Any] = Field(default_factory=dict)
    module: ConfigModule | None = None


class ConfigModule(_Node):
    resources: list[ConfigResource] = Field(default_factory=list)
    module_calls: dict[str, ModuleCall] = Field(default_factory=dict)
    outputs: dict[str, Any] | None = None
    variables: dict[str, Any] | None = None


class Configuration(_Node):
    """The configuration the plan was made from."""

    provider_config: dict[str, Any] = Field(default_factory=dict)
    root_module: ConfigModule = Field(default_factory=ConfigModule)


class StateResource(_Node):
    address: str
    mode: str = "managed"
    type: str
    name: str = ""
    index: int | str | None = None
    provider_name: str | None = None
    schema_version: int | None = None
    values: dict[str, Any] | None = None
    sensitive_values: Any = None


class StateModule(_Node):
    address: str | None = None
    resources: list[StateResource] = Field(default_factory=list)
    child_modules: list[StateModule] = Field(default_factory=list)


class StateValues(_Node):
    outputs: dict[str, Any] | None = None
    root_module: StateModule = Field(default_factory=StateModule)


class PriorState(_Node):
    format_version: str | None = None
    terraform_version: str | None = None
    values: StateValues | None = None


class TerraformPlan(_Node):
    """A saved plan as JSON: `terraform show -json tfplan > plan.json`."""

    format_version: str = Field(description="JSON output format version, e.g. 1.2")
    terraform_version: str | None = Field(default=None, description="Terraform that made the plan")
    variables: dict[str, Any] | None = None
    planned_values: StateValues | None = None
    resource_drift: list[ResourceChange] | None = None
    resource_changes: list[ResourceChange] = Field(default_factory=list)
    output_changes: dict[str, Change] | None = None
    prior_state: PriorState | None = None
    configuration: Configuration | None = None
    relevant_attributes: list[Any] | None = None
    timestamp: str | None = None
    applyable: bool | None = None
    complete: bool | None = None
    errored: bool | None = None

    _source: dict[str, Any] | None = PrivateAttr(default=None)

    @classmethod
    def lazy(cls, data: dict[str, Any]) -> TerraformPlan:
        """The model over already shape-checked plan data, validating the big parts on first use.

        `resource_changes`, `planned_values`, `prior_state`... hold every
        resource's whole state: validating them costs more than parsing the
        JSON did, and the Rego rules read the JSON itself.  They are validated
        when a Python rule (or `model_dump`) first touches them.
        """
        plan = cls.model_validate({k: v for k, v in data.items() if k not in _HEAVY})
        for key in _HEAVY:
            plan.__dict__.pop(key, None)
        plan._source = data
        return plan

    def _materialize(self, name: str) -> Any:
        private = self.__pydantic_private__ or {}
        source = private.get("_source") or {}
        raw = source.get(name)
        if raw is None:
            value = type(self).model_fields[name].get_default(call_default_factory=True)
        else:
            value = _adapter(name).validate_python(raw)
            self.__pydantic_fields_set__.add(name)
        self.__dict__[name] = value
        return value

    def materialize(self) -> TerraformPlan:
        """Validate every lazily held part now (e.g. before dumping the model)."""
        for name in _HEAVY:
            if name not in self.__dict__:
                self._materialize(name)
        return self

    if not TYPE_CHECKING:  # pydantic defines __getattr__ only outside type checking too

        def __getattr__(self, name: str) -> Any:
            if name in _HEAVY:
                return self._materialize(name)
            return super().__getattr__(name)

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        return super(TerraformPlan, self.materialize()).model_dump(**kwargs)

    def model_dump_json(self, **kwargs: Any) -> str:
        return super(TerraformPlan, self.materialize()).model_dump_json(**kwargs)


_HEAVY = ("resource_changes", "resource_drift", "configuration", "planned_values", "prior_state",
          "relevant_attributes")


@functools.lru_cache(maxsize=len(_HEAVY))
def _adapter(name: str) -> TypeAdapter[Any]:
    annotation = TerraformPlan.model_fields[name].annotation
    assert annotation is not None
    return TypeAdapter(annotation)


ModuleCall.model_rebuild()
StateModule.model_rebuild()
