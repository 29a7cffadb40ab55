"""GitHub Actions workflows and composite actions.

The models mirror the YAML key for key (aliases keep GitHub's spelling), so a
path into the model is a path into the file and the source map applies as is.
Unknown keys are kept: GitHub adds keys faster than any model can follow.
Where GitHub takes a mapping it also takes one `${{ }}` expression that yields it
(`with: ${{ fromJSON(needs.setup.outputs.inputs) }}`): those fields are `dict | str`.

`expressions` and `scripts` (added by the loader, not keys of the file) hold every
`${{ }}` of the file parsed (ExpressionUse) and every `run:` script (ShellScript).
What the workflow rules share (steps, untrusted contexts, the pipeline's stages) lives
beside them, in `policies/workflow/lib/*.rego`.

Every class is built when first used (`defer_build`), not when this module is imported:
validating a workflow needs only `Workflow`'s validator, whose schema holds the nested
classes, and building each class's own validator and serializer too took 10 ms of every
run.  `loaders.prepare_loader` builds the model of each kind in the run before workers fork.
"""

# no `from __future__ import annotations`: pydantic would evaluate each annotation from its
# text when it builds a class (1.5 ms of every run for this module)

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Permissions = str | dict[str, str]
EnvMap = dict[str, Any] | str  # a mapping, or one `${{ fromJSON(...) }}` expression
Mapping = dict[str, Any] | str  # likewise


# Default factories written in Python: pydantic reads a factory's signature, and for a builtin
# (`list`, `dict`) that means tokenizing its text signature, with a tokenizer pattern built
# anew each run (set order): 2 ms of every start-up, which compile_cache.py cannot keep.
def _empty_list() -> list[Any]:
    return []


def _empty_dict() -> dict[str, Any]:
    return {}


class _Node(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


class _Located(BaseModel):
    """Where a piece of an expression is: exact 1-based line and column, end exclusive.

    `at` is a path into the document's source map with exactly this span (the node's
    path, then the expression's ordinal in that string, then `contexts`/`functions` and an
    index): a rule that reports `"path": x.at` points at the expression itself.
    """

    model_config = ConfigDict(defer_build=True)

    at: list[str | int]
    line: int
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None


class ContextReference(_Located):
    """One reference to a context: `github.event.pull_request.title`, `secrets.TOKEN`, `env.X`."""

    path: str = Field(description="Dotted, lower-cased (GitHub's contexts are case-insensitive); "
                      "`['x']` reads as `.x`, `.*`/`[*]`/a computed index as `*`, `[0]` as `.0`.")
    parts: list[str]
    written: list[str] = Field(description="`parts` as written (original case, `['x']` read "
                               "as `x`): `secrets.Api_Key` -> `[secrets, Api_Key]`. For messages "
                               "that name what the file names; compare `parts`.")
    text: str = Field(description="As written.")
    functions: list[str] = Field(description="Calls around the reference, outermost first, spelled "
                                 "as GitHub's docs spell them (`toJSON`, `contains`...).")
    flows: bool = Field(description="Its value (or part of it) can be the expression's value, "
                        "i.e. reach the text the expression expands into: false under a "
                        "comparison, `!`, a non pass-through function (`contains`, "
                        "`startsWith`, `hashFiles`...), a computed index, a predicate of "
                        "`case()`, or on the left of `&&`.")
    dynamic: bool = Field(default=False, description="Has a computed index (`matrix[inputs.os]`).")


class FunctionCall(_Located):
    name: str = Field(description="As GitHub's docs spell it when known (`fromJSON`), else as written.")
    text: str
    arguments: list[dict[str, Any]] = Field(description="AST of each argument (see ExpressionUse.ast).")
    functions: list[str]
    flows: bool


class ExpressionUse(_Located):
    """One `${{ }}` (or a whole `if:` condition) of the file, parsed, and where it sits.

    `ast` nodes: `{"type": "literal", "value": v}`, `{"type": "context", "path": "a.b",
    "parts": [...], "indexes": [ast...]?}`, `{"type": "call", "name": n, "arguments": [...]}`,
    `{"type": "binary", "op": "==|!=|<|<=|>|>=|&&||||", "left", "right"}`,
    `{"type": "not", "operand"}`, `{"type": "index", "target", "index"}` (on a call's result),
    `{"type": "wildcard"}`.
    """

    path: list[str | int] = Field(description="The string node holding it (`jobs.b.steps.0.run`).")
    scope: str = Field(description="`workflow`, `job`, `step` or `action` (action.yml outside steps).")
    job: str | None = None
    step: int | None = Field(default=None, description="Index in the job's (or action's) steps.")
    where: str = Field(description="The key in the scope: `run`, `with`, `env`, `if`, `uses`, "
                       "`runs-on`, `container`, `services`, `matrix` (strategy.matrix), "
                       "`strategy`, `secrets`, `outputs`, `inputs`, `name`, `run-name`, "
                       "`concurrency`, `environment`, `on`...")
    name: str | None = Field(default=None, description="The input, variable, secret or output "
                             "under `with`/`env`/`secrets`/`outputs`/`inputs`.")
    key_path: list[str | int] = Field(description="The path below the scope (`[with, script]`).")
    text: str = Field(description="As written, `${{ }}` included (a bare `if:` has none).")
    expression: str
    implicit: bool = Field(description="An `if:` without `${{ }}`: all of it is the expression.")
    whole: bool = Field(description="The expression is all of the string: its value is the "
                        "node's value (not text spliced into more text).")
    offset: int = Field(description="Where `text` starts in the string (characters; 0 for an "
                        "implicit `if:`): what comes before it is `string[:offset]`.")
    ast: dict[str, Any]
    contexts: list[ContextReference]
    functions: list[FunctionCall]


class ShellVariable(_Located):
    name: str = Field(description="`$NAME`, `${NAME}`, `${NAME:-x}`... (not `$1`, `$@`).")
    text: str
    quoted: bool = Field(description="Inside double quotes or a heredoc: no word splitting.")


class ArgumentExpansion(BaseModel):
    """A variable or a `${{ }}` in one argument of a command, and where in it."""

    model_config = ConfigDict(defer_build=True)

    variable: str | None = Field(default=None, description="`$NAME`, `${NAME}`, `${NAME:-x}`...")
    expression: list[str | int] | None = Field(default=None, description="`at` of the `${{ }}` "
                                               "(see ExpressionUse.at).")
    offset: int = Field(description="Characters into the argument as written (`arguments`): "
                        "`\"$RUNNER_TEMP/x\"` has `RUNNER_TEMP` at 1.")


class ShellCommand(_Located):
    name: str = Field(description="The command as written (`echo`, `kubectl`, `./deploy.sh`).")
    arguments: list[str] = Field(description="Each argument as written, outer quotes off when "
                                 "it expands nothing.")
    stdout: str = Field(default="log", description="Where its output goes: `log` (the job log), "
                        "`pipe` (the next command of a pipeline), `file` (a redirect), "
                        "`captured` (`$(...)`).")
    variables: list[str] = Field(default_factory=_empty_list,
                                 description="Variables its words expand, in order.")
    expansions: list[list[ArgumentExpansion]] = Field(
        default_factory=_empty_list, description="Per argument, the variables and `${{ }}` it "
        "expands, in order: what a path argument starts with. Empty when no argument expands "
        "anything.")
    text: str


class ShellWrite(_Located):
    """What a script writes to a file GitHub reads back (`>> "$GITHUB_ENV"`, `| tee -a ...`)."""

    file: str = Field(description="GITHUB_ENV, GITHUB_PATH, GITHUB_OUTPUT, GITHUB_STATE or "
                      "GITHUB_STEP_SUMMARY.")
    command: str = Field(description="`echo`, `printf`, `cat` (heredoc), `tee`, or the kind of "
                         "group redirected (`compound_statement`, `for_statement`...).")
    names: list[str] = Field(description="`NAME=` / `NAME<<DELIM` the written lines start with.")
    variables: list[str] = Field(description="Shell variables the written content expands.")
    expressions: list[list[str | int]] = Field(description="`at` of each `${{ }}` spliced into "
                                               "the written content (see ExpressionUse.at).")
    text: str


class ShellScript(BaseModel):
    """A `run:` script: its shell and, for bash and sh, what tree-sitter-bash reads in it.

    `${{ }}` are parsed as opaque words (GitHub splices them in before the shell runs).
    """

    model_config = ConfigDict(defer_build=True)

    path: list[str | int] = Field(description="The `run` node.")
    scope: str
    job: str | None = None
    step: int | None = None
    where: str = "run"
    name: str | None = None
    key_path: list[str | int]
    shell: str = Field(description="Program of `shell:` (step, else job/workflow "
                       "`defaults.run.shell`, else pwsh on Windows runners, else bash).")
    parsed: bool = Field(description="A bash or sh script, parsed; the lists below are empty "
                         "otherwise.")
    complete: bool = Field(description="Parsed without a bash syntax error.")
    errors: list[dict[str, int | None]] = Field(description="`line`/`column` of syntax errors.")
    variables: list[ShellVariable]
    commands: list[ShellCommand]
    writes: list[ShellWrite]


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
    with_: Mapping | None = Field(default=None, alias="with",
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
    steps: list[Step] = Field(default_factory=_empty_list)
    uses: str | None = Field(default=None, description="A reusable workflow call: "
                             "`owner/repo/.github/workflows/x.yml@ref` or `./.github/workflows/x.yml`.")
    with_: Mapping | None = Field(default=None, alias="with",
                                  description="Inputs of the reusable workflow.")
    secrets: dict[str, Any] | str | None = None
    strategy: dict[str, Any] | str | None = None
    continue_on_error: bool | str | None = Field(default=None, alias="continue-on-error")
    timeout_minutes: int | float | str | None = Field(default=None, alias="timeout-minutes")
    container: str | dict[str, Any] | None = None
    services: Mapping | None = None
    outputs: Mapping | None = None
    concurrency: str | dict[str, Any] | None = None
    defaults: Mapping | None = None

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
    defaults: Mapping | None = None
    concurrency: str | dict[str, Any] | None = None
    jobs: dict[str, Job] = Field(default_factory=_empty_dict)
    expressions: list[ExpressionUse] = Field(default_factory=_empty_list, description="Added by the "
                                             "loader: every expression of the file.")
    scripts: list[ShellScript] = Field(default_factory=_empty_list, description="Added by the loader: "
                                       "every `run:` script.")

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
    steps: list[Step] = Field(default_factory=_empty_list)
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
    expressions: list[ExpressionUse] = Field(default_factory=_empty_list, description="Added by the "
                                             "loader: every expression of the file.")
    scripts: list[ShellScript] = Field(default_factory=_empty_list, description="Added by the loader: "
                                       "every `run:` script.")

