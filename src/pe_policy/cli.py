"""The `pe-policy` command line: click commands and nothing else.

Heavy modules (pydantic models, the Rego engine) are imported inside the
commands, so `pe-policy --help` and a pre-commit run on one file start fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from pe_policy import __version__

# pydantic looks up plugins (the `pydantic` entry points of every installed distribution,
# through importlib.metadata: ~10 ms) when it builds the first model; the command line has no
# use for any.  A user's own setting of the variable stands.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

if TYPE_CHECKING:
    from pe_policy.config import Config
    from pe_policy.engine.pack import RuleSet
    from pe_policy.pipeline import CheckResult
    from pe_policy.trust import PolicyBase

SEVERITIES = ("critical", "high", "medium", "low", "info")
EXIT_USAGE = 2


def _fail(message: str) -> NoReturn:
    click.echo(f"pe-policy: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _fail_all(messages: list[str]) -> NoReturn:
    for message in messages:
        click.echo(f"pe-policy: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _write_output(text: str, output: str | None) -> None:
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    from pe_policy.output import write_atomic

    try:
        write_atomic(Path(output), text)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")


def _warn_sarif_cut(result: CheckResult, destination: str | None) -> None:
    """GitHub takes 25,000 results per SARIF run: say so where a CI log shows it."""
    from pe_policy.reporters.sarif import MAX_RESULTS_PER_RUN, results_left_out

    left_out = results_left_out(result)
    if left_out:
        click.echo(f"pe-policy: warning: the SARIF report{' ' + destination if destination else ''}"
                   f" leaves out the {left_out:,} least severe of {len(result.findings):,} "
                   f"results: GitHub code scanning takes at most {MAX_RESULTS_PER_RUN:,} per run",
                   err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pe-policy")
def main() -> None:
    """Policy-as-code for the whole delivery process."""


class _CheckCommand(click.Command):
    """Remembers the order of --format and --output, which click's `multiple` options lose."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        from pe_policy.report_plan import option_order

        ctx.meta["pe_policy.report_order"] = option_order(self, args, ("format_", "output"))
        return super().parse_args(ctx, args)


RETIRED_ENGINES = {
    "regopy": "regopy was retired: use `--engine regorus` (embedded, the default) or "
              "`--engine opa --opa-url http://host:8181` (a real OPA server)",
}


class _EngineChoice(click.Choice):
    """The Rego engines; a retired one is named with what to use instead (exit 2)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value.lower() in RETIRED_ENGINES:
            self.fail(RETIRED_ENGINES[value.lower()], param, ctx)
        return super().convert(value, param, ctx)


def _engine_options(func: Any) -> Any:
    """`--engine` and `--opa-url`, shared by check, test and verify."""
    func = click.option("--opa-url", envvar="PE_POLICY_OPA_URL", default=None,
                        help="OPA server for --engine opa (env: PE_POLICY_OPA_URL).")(func)
    return click.option("--engine", default="regorus", show_default=True,
                        type=_EngineChoice(["regorus", "opa"]),  # engine.rego.ENGINES
                        help="Rego engine: embedded regorus, or a real OPA server.")(func)


MAX_EVAL_TIMEOUT = 1_000_000.0  # seconds (11 days): more than any wait on a worker may be


class _Seconds(click.FloatRange):
    """A number of seconds: `nan` (which no range check refuses) and `inf` are usage errors."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import math

        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds.", param, ctx)
        return super().convert(number, param, ctx)


def _limit_options(func: Any) -> Any:
    """Bounds on hostile input and runaway policies (docs: runner.py, loaders)."""
    func = click.option("--eval-memory", type=click.IntRange(min=0), default=None, metavar="MB",
                        help="Memory the evaluation may use on top of the loaded files "
                        "(default: 4096; 0: no limit).")(func)
    func = click.option("--eval-timeout", type=_Seconds(min=0, max=MAX_EVAL_TIMEOUT), default=None,
                        metavar="SECONDS", help="Deadline for evaluating one file; a rule that "
                        "runs past it is stopped and reported (default: 60; 0: none).")(func)
    return click.option("--max-file-bytes", type=click.IntRange(min=1), default=None,
                        metavar="BYTES", help="Skip (and report) files larger than this "
                        "(default: max_file_bytes in the config, else 100 MB).")(func)


def _repo_options(func: Any) -> Any:
    """`--root`, `--config` and `--allow-python-rules`: which repository, and its configuration
    (check, rules, explain)."""
    func = click.option("--allow-python-rules", is_flag=True,
                        help="Run the repository's Python rules (isolated), as `python_rules: "
                        "true` in the configuration does; by default they are skipped.")(func)
    func = click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
                        default=None, help="Configuration file (default: .pe-policy.yaml at the "
                        "root).")(func)
    return click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=None,
                        help="Repository root (default: the enclosing git repository).")(func)


def _repo_config(root: Path, config_file: Path | None,
                 max_file_bytes: int | None = None, allow_python_rules: bool = False,
                 base: PolicyBase | None = None) -> Config:
    """`config.resolve_config`, or on a pull request the configuration of its `base`
    (trust.py); an invalid configuration ends the run (exit 2), every issue
    printed.  Repository Python rules it leaves off are named on stderr, as skipped."""
    from dataclasses import replace

    from pe_policy.config import ConfigError, resolve_config
    from pe_policy.engine.pack import PYTHON_RULES_OFF, skipped_python_rules
    from pe_policy.pull_request_run import TrustError

    try:
        config = (resolve_config(root, config_file, max_file_bytes=max_file_bytes) if base is None
                  else base.config(config_file, max_file_bytes=max_file_bytes))
    except ConfigError as exc:
        _fail_all([f"invalid configuration: {issue}" for issue in exc.issues])
    except TrustError as exc:
        _fail(str(exc))
    if allow_python_rules:
        config = replace(config, python_rules=True)
    if not config.python_rules:
        for path in skipped_python_rules(config.policies):
            click.echo(f"pe-policy: skipped {path}: {PYTHON_RULES_OFF}", err=True)
    return config


def _pull_request_base(root: Path, policy_ref: str | None,
                       pull_requests: tuple[Path, ...]) -> PolicyBase | None:
    """On a pull request, its base, which the configuration is read from (trust.py); None on
    any other run.  A base that cannot be read ends the run (exit 2), never falling back to
    the pull request's own configuration."""
    from pe_policy.pull_request_run import TrustError, pull_request_run

    if not pull_request_run(policy_ref, pull_requests, os.environ):
        return None  # trust.py (reading a base from git) is not even imported
    from pe_policy.trust import open_base

    try:
        base = open_base(root, policy_ref=policy_ref, pull_requests=pull_requests)
    except TrustError as exc:
        _fail(str(exc))
    if base is not None:
        click.get_current_context().call_on_close(base.close)  # its temporary directory
    return base


def _repo_ruleset(root: Path | None, config_file: Path | None,
                  allow_python_rules: bool = False) -> RuleSet:
    """The built-in rules and the repository's own (`policies:` in its configuration), found as
    `check` finds them from the current directory."""
    from pe_policy.discover import repo_root
    from pe_policy.engine.rego import PolicyError
    from pe_policy.pipeline import default_ruleset

    config = _repo_config(repo_root(root, Path.cwd()), config_file,
                          allow_python_rules=allow_python_rules)
    try:
        ruleset = default_ruleset(config.policies, config.python_rules)
    except PolicyError as exc:
        _fail(f"policy error: {exc}")
    for error in ruleset.unreadable:  # the other rules are still worth listing
        click.echo(f"pe-policy: warning: policy error: {error.text('its rules are left out')}",
                   err=True)
    return ruleset


def _format_choices() -> list[str]:
    from pe_policy.reporters import FORMATS

    return list(FORMATS)


@main.command(cls=_CheckCommand)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "-f", "format_", multiple=True, type=click.Choice(_format_choices()),
              help="Output format (default: text). Repeat for several reports in one run, each "
              "followed by its --output.")
@click.option("--output", "-o", multiple=True,
              help="Write the preceding --format's report to this file (`-`: standard output).")
@click.option("--fail-on", default="low", show_default=True, type=click.Choice(SEVERITIES),
              help="Exit 1 when a finding is at or above this severity.")
@click.option("--markdown-limit", type=click.IntRange(min=4096), default=None, metavar="BYTES",
              help="Cut the Markdown report to this many bytes (default: 1 MiB when it is "
              "written to $GITHUB_STEP_SUMMARY, else 65,536, GitHub's comment limit).")
@click.option("--kind", default=None, help="Treat every given file as this kind.")
@_repo_options
@click.option("--baseline", "baseline_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Fail only on findings not recorded in this baseline file.")
@click.option("--write-baseline", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Record the current findings in this baseline file (and accept them).")
@click.option("--strict-suppressions", is_flag=True,
              help="Also report inline suppressions that suppress nothing.")
@click.option("--ignore-unknown/--no-ignore-unknown", default=None,
              help="Skip named files of no known kind instead of failing (default: on under "
              "pre-commit).")
@click.option("--quiet", "-q", is_flag=True, default=None,
              help="Only findings: no code frames, no summary when clean (default under "
              "pre-commit).")
@click.option("--color/--no-color", default=None, help="Colour (default: only on a terminal).")
@click.option("--verbose", "-v", is_flag=True,
              help="Also list (on standard error) the files skipped because their content "
              "suggested a kind they turned out not to be.")
@click.option("--pr", "pr_files", multiple=True,
              type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="A pull request to check: a GitHub event payload or `gh pr view --json` "
              "output (repeatable).")
@click.option("--git-range", "git_ranges", multiple=True, metavar="BASE..HEAD",
              help="Check the commits of a local git range as a pull request (repeatable).")
@click.option("--repo", "git_repo", type=click.Path(path_type=Path, file_okay=False, exists=True),
              default=None, help="Repository for --git-range (default: the root).")
@click.option("--policy-ref", default=None, metavar="REF",
              help="Read the configuration, its policy directories and the baseline from this "
              "git ref (a pull request's base) instead of the work tree. Implied on a pull "
              "request: origin/$GITHUB_BASE_REF on pull_request events, the base of --pr.")
@_engine_options
@_limit_options
def check(
    paths: tuple[Path, ...], format_: tuple[str, ...], output: tuple[str, ...], fail_on: str,
    markdown_limit: int | None, kind: str | None, root: Path | None, config_file: Path | None,
    allow_python_rules: bool,
    baseline_file: Path | None,
    write_baseline: Path | None, strict_suppressions: bool, ignore_unknown: bool | None,
    quiet: bool | None, color: bool | None, verbose: bool, engine: str, opa_url: str | None,
    max_file_bytes: int | None, eval_timeout: float | None, eval_memory: int | None,
    pr_files: tuple[Path, ...], git_ranges: tuple[str, ...], git_repo: Path | None,
    policy_ref: str | None,
) -> None:
    """Check PATHS (files or directories; default: the current directory)."""
    import os
    from dataclasses import replace

    from pe_policy.config import ConfigError
    from pe_policy.discover import repo_root
    from pe_policy.engine.rego import PolicyError
    from pe_policy.filters import Baseline, BaselineError
    from pe_policy.filters import write_baseline as record_baseline
    from pe_policy.findings import Severity
    from pe_policy.loaders import KINDS
    from pe_policy.pipeline import check as run_check
    from pe_policy.pipeline import exit_code
    from pe_policy.progress import progress_for
    from pe_policy.report_plan import ReportPlanError, plan_reports
    from pe_policy.reporters import ReportOptions, render
    from pe_policy.runner import limits_from

    if kind is not None and kind not in KINDS:
        _fail(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
    try:
        reports = plan_reports(click.get_current_context().meta.get("pe_policy.report_order", []))
    except ReportPlanError as exc:
        _fail(str(exc))
    if baseline_file is not None and write_baseline is not None:
        _fail("--baseline and --write-baseline do not combine: --write-baseline records (and "
              "accepts) every current finding")
    under_pre_commit = bool(os.environ.get("PRE_COMMIT"))
    quiet = under_pre_commit if quiet is None else quiet
    ignore_unknown = under_pre_commit if ignore_unknown is None else ignore_unknown
    targets = list(paths) or ([] if pr_files or git_ranges else [Path.cwd()])
    root = repo_root(root, targets[0] if targets else Path.cwd())
    from pe_policy.pull_request_run import TrustError

    base = _pull_request_base(root, policy_ref, pr_files)  # None unless a pull request
    config = _repo_config(root, config_file, max_file_bytes, allow_python_rules, base=base)
    try:
        baseline = None if baseline_file is None else (
            Baseline.load(baseline_file) if base is None else base.baseline(baseline_file))
    except (BaselineError, TrustError) as exc:
        _fail(str(exc))
    progress = progress_for()
    try:
        result = run_check(targets, root, config=config, forced_kind=kind, baseline=baseline,
                           strict_suppressions=strict_suppressions, skip_unknown=ignore_unknown,
                           progress=progress, engine=engine, engine_options={"opa_url": opa_url},
                           limits=limits_from(eval_timeout, eval_memory),
                           pull_requests=pr_files, git_ranges=git_ranges, git_repo=git_repo,
                           pull_request_base=base)
    except ConfigError as exc:
        _fail_all([f"invalid configuration: {issue}" for issue in exc.issues])
    except PolicyError as exc:
        _fail(f"policy error: {exc}")
    except TrustError as exc:
        _fail(str(exc))
    finally:
        if progress is not None:
            progress.finish()
    if verbose:
        for path, why in result.skipped:
            click.echo(f"pe-policy: skipped {path}: {why}", err=True)
    if write_baseline is not None:
        try:
            written = record_baseline(write_baseline, result.findings, __version__)
        except OSError as exc:
            _fail(f"cannot write {write_baseline}: {exc.strerror or exc}")
        result = replace(result, findings=written.apply(result.findings))  # what it accepts
        recorded = written.size
        if not quiet:
            click.echo(f"pe-policy: recorded {recorded} finding{'s' if recorded != 1 else ''} "
                       f"in {write_baseline}", err=True)
    use_color = sys.stdout.isatty() if color is None else color
    for format_name, destination in reports:
        to_stdout = destination is None or destination == "-"
        text = render(format_name, result, ReportOptions(
            color=use_color and to_stdout and format_name == "text", tool_version=__version__,
            quiet=quiet, destination=destination, markdown_limit=markdown_limit,
            reports=tuple(reports)))
        _write_output(text, destination)
        if format_name == "sarif":
            _warn_sarif_cut(result, destination)
    sys.exit(exit_code(result, Severity.parse(fail_on)))


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--kind", default=None, help="Parse as this pe-policy kind instead of detecting it.")
@click.option("--positions", is_flag=True, help="Also print the source map (JSON path -> line).")
@click.option("--parser", default=None, help="conftest's parser for every file (yaml, json, hcl2).")
@click.option("--combine", is_flag=True, help="Print the files combined, as `test --combine` "
              "sees them.")
def parse(files: tuple[str, ...], kind: str | None, positions: bool, parser: str | None,
          combine: bool) -> None:
    """Print what policies see of FILES (secrets masked).

    One file of a kind pe-policy knows: its typed model, the exact input of `check`'s
    policies.  Several files, `--parser`, `--combine`, or a file of no pe-policy kind: the
    input `test` (conftest) gives, printed as `conftest parse` prints it.
    """
    import json

    from pe_policy.discover import detect_kind, relative_to_root, repo_root
    from pe_policy.findings import ParseError
    from pe_policy.loaders import KINDS, load_file
    from pe_policy.redact import redact, redact_path, redact_value

    if kind is not None and kind not in KINDS:
        _fail(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
    file = Path(files[0])
    conftest_form = len(files) > 1 or parser is not None or combine
    detected: str | None = kind
    if not conftest_form and files[0] != "-":
        if not file.exists():
            _fail(f"{file}: no such file")
        root = repo_root(None, file)
        display = relative_to_root(file, root)
        detected = kind or detect_kind(file, display)
    if conftest_form or (detected is None and kind is None and not positions):
        _conftest_parse(files, parser, combine)
        return
    if detected is None:
        _fail(f"{display}: cannot tell what kind of file this is; pass --kind "
              f"({', '.join(KINDS)})")
    try:
        doc = load_file(file, display, detected, root)
    except ParseError as exc:
        _fail(redact(str(exc)))
    payload: dict[str, Any] = {"kind": doc.kind, "path": doc.path,
                               "input": redact_value(doc.input)}
    if positions:
        payload["positions"] = [
            {"path": list(redact_path(p)), "line": s.line, "column": s.column,
             **({"file": s.path} if s.path else {})}
            for p, s in doc.source_map.spans.items()
        ]
    click.echo(json.dumps(payload, indent=2, default=str))


def _conftest_parse(files: tuple[str, ...], parser: str | None, combine: bool) -> NoReturn:
    """`conftest parse`: one file's value, several as `{path: value}`, or combined."""
    import json

    from pe_policy.conftest.inputs import InputError, check_parser, combined, read_input
    from pe_policy.conftest.outputs import go_json
    from pe_policy.findings import ParseError
    from pe_policy.loaders import DEFAULT_MAX_BYTES
    from pe_policy.redact import redact, redact_value

    try:
        if parser:
            check_parser(parser)
        configs = [read_input(name, parser, DEFAULT_MAX_BYTES) for name in files]
    except InputError as exc:
        _conftest_error(f"parse configurations: {exc}")
    except ParseError as exc:
        _conftest_error(f"parse configurations: {redact(str(exc))}")
    if combine:
        entries = [{"path": e["path"], "contents": json.loads(json.dumps(e["contents"], sort_keys=True))}
                   for e in redact_value(combined(configs).value)]
        text = go_json(entries, "\t", sort_keys=False) + "\n"
    elif len(configs) == 1:
        text = go_json(redact_value(configs[0].value), "  ")
    else:
        text = go_json({c.path: redact_value(c.value) for c in configs}, "  ")
    click.echo(text)
    sys.exit(0)


@main.command()
@click.option("--format", "-f", "format_", default="text", type=click.Choice(["text", "json"]))
@_repo_options
def rules(format_: str, root: Path | None, config_file: Path | None,
          allow_python_rules: bool) -> None:
    """List every rule: ID, severity, kinds and title (the repository's own policies too)."""
    import json

    metas = _repo_ruleset(root, config_file, allow_python_rules).described_rules()
    if format_ == "json":
        click.echo(json.dumps([
            {"id": m.id, "severity": m.severity.value, "kinds": list(m.kinds), "title": m.title,
             "engine": m.engine, "source": m.source}
            for m in metas
        ], indent=2))
        return
    for m in metas:
        kinds = ",".join(m.kinds) or "*"
        click.echo(f"{m.id:<12} {m.severity.value:<9} {kinds:<30} {m.title}")


@main.command()
@click.argument("rule_id")
@_repo_options
def explain(rule_id: str, root: Path | None, config_file: Path | None,
            allow_python_rules: bool) -> None:
    """Show a rule's description, remediation and source (the repository's own rules too)."""
    from pe_policy.catalog import INTERNAL_RULES, PULL_REQUEST_RULES

    known = {m.id: m for m in _repo_ruleset(root, config_file, allow_python_rules).described_rules()}
    for own in (*INTERNAL_RULES, *PULL_REQUEST_RULES):  # pe-policy's own: PE-PARSE, PE-CFG-001
        known.setdefault(own.id, own)
    meta = known.get(rule_id) or known.get(rule_id.upper())
    if meta is None:
        _fail(f"no rule {rule_id!r}; `pe-policy rules` lists them")
    click.echo(f"{meta.id}: {meta.title}")
    click.echo(f"severity: {meta.severity.value}    kinds: {', '.join(meta.kinds) or 'all'}"
               f"    engine: {meta.engine}")
    if meta.source:
        click.echo(f"source: {meta.source}")
    if meta.origin and meta.engine != "internal":
        origin = Path(meta.origin)
        if origin.is_absolute() and origin.is_relative_to(Path.cwd()):
            origin = origin.relative_to(Path.cwd())
        click.echo(f"defined in: {origin.as_posix()}")
    click.echo("")
    click.echo(meta.full_description)
    if meta.remediation:
        click.echo("")
        click.echo(f"How to fix: {meta.remediation}")
    if meta.help_uri:
        click.echo(f"More: {meta.help_uri}")


@main.command()
@click.argument("kind", required=False)
@click.option("--write", "write_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Write every kind's schema into this directory.")
def schema(kind: str | None, write_dir: Path | None) -> None:
    """Print the JSON Schema of KIND's model (the input its policies see)."""
    from pe_policy.models import MODEL_CLASSES
    from pe_policy.schemas import schema_text, write_schemas

    if write_dir is not None:
        for path in write_schemas(write_dir):
            click.echo(f"wrote {path}")
        return
    if kind is None or kind not in MODEL_CLASSES:
        _fail(f"name a kind: {', '.join(MODEL_CLASSES)}")
    click.echo(schema_text(kind), nl=False)


def _conftest_options(func: Any) -> Any:
    """The options `test` and `verify` share with conftest (`-p`, `-d`, `-n`, `-c` ...)."""
    for option in reversed([
        click.option("--policy", "-p", multiple=True, help="Policy file or directory "
                     "(repeatable, or comma-separated; default: policy)."),
        click.option("--data", "-d", multiple=True, help="JSON/YAML data files or directories, "
                     "merged into `data` (repeatable)."),
        click.option("--namespace", "-n", multiple=True, help="Package(s) to test; globs "
                     "(`*`, `?`, `[...]`) match the policies' packages (default: main)."),
        click.option("--rego-version", default="v1", show_default=True,
                     type=click.Choice(["v0", "v1", "V0", "V1"]), help="Rego syntax of the policies."),
        click.option("--strict", is_flag=True, help="Unused imports and variables are errors."),
        click.option("--no-color", is_flag=True, help="No colour (the default off a terminal)."),
        click.option("--quiet", is_flag=True, help="No output when every test passes."),
        click.option("--config-file", "-c", default=None, help="conftest settings file "
                     "(default: conftest.toml in the current directory)."),
    ]):
        func = option(func)
    return func


def _conftest_settings(ctx: click.Context) -> dict[str, Any]:
    """The command's parameters, with conftest.toml's (or -c's) where no flag was given."""
    from click.core import ParameterSource

    from pe_policy.conftest.settings import SettingsError, merged, read_settings

    try:
        settings = read_settings(ctx.params.get("config_file"))
    except SettingsError as exc:
        _conftest_error(str(exc))
    explicit = {name for name in ctx.params
                if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)}
    return merged(dict(ctx.params), explicit, settings)


def _conftest_error(message: str) -> NoReturn:
    """conftest's way out on an error: the message on stderr, exit 1."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@main.command("test", context_settings={"ignore_unknown_options": False})
@click.argument("files", nargs=-1)
@_conftest_options
@click.option("--all-namespaces", is_flag=True, help="Test the policies of every package.")
@click.option("--combine", is_flag=True,
              help="Evaluate all inputs at once, as an array of {path, contents}.")
@click.option("--parser", default=None, help="Parse every input with this conftest parser "
              "(yaml, json, hcl2).")
@click.option("--stdin-filename", default=None, help="Name for `-` (standard input) in the output.")
@click.option("--ignore", default=None, help="Skip paths matching this regular expression.")
@click.option("--output", "-o", default="stdout", show_default=True,
              type=click.Choice(["stdout", "json", "tap", "table", "junit", "github",
                                 "azuredevops", "sarif", "text"]),
              help="Output format, in conftest's layout (`text` is `stdout`).")
@click.option("--fail-on-warn", is_flag=True,
              help="Warnings fail too (exit 1; failures then exit 2, as in conftest).")
@click.option("--no-fail", is_flag=True, help="Exit 0 even when a policy fails.")
@click.option("--suppress-exceptions", is_flag=True, help="Leave exceptions out of the output.")
@click.option("--junit-hide-message", is_flag=True, help="JUnit test names without the message.")
@click.option("--github-hide-passed", is_flag=True, help="GitHub output without files that passed.")
@click.option("--locations", is_flag=True, help="pe-policy: add the line each result was found "
              "at (a result's `path` in the input) to the output.")
@click.option("--show-builtin-errors", is_flag=True, help="Accepted for conftest: a built-in's "
              "error is always an error in pe-policy.")
@click.option("--allow-net", is_flag=True, help="pe-policy: let policies call http.send and "
              "net.lookup_ip_addr (sandboxed otherwise); needs --engine opa.")
@_engine_options
@_limit_options
@click.pass_context
def test_command(ctx: click.Context, **_params: Any) -> None:
    """Test FILES (`-`: standard input) against conftest policies (deny/violation/warn rules)."""
    from pe_policy.conftest.engine import ResultError
    from pe_policy.conftest.inputs import InputError
    from pe_policy.conftest.outputs import OutputOptions, render
    from pe_policy.conftest.run import run_test
    from pe_policy.conftest.settings import as_list
    from pe_policy.engine.rego import PolicyError
    from pe_policy.findings import ParseError
    from pe_policy.runner import limits_from

    p = _conftest_settings(ctx)
    if not p["files"]:
        _conftest_error("missing required arguments")
    if p["allow_net"] and p["engine"] != "opa":
        _fail("--allow-net needs --engine opa (an OPA server: the embedded engine has no network)")
    from contextlib import nullcontext

    from pe_policy.engine.sandbox import GRANTABLE_BUILTINS, granted

    try:
        with granted(GRANTABLE_BUILTINS) if p["allow_net"] else nullcontext():
            run = run_test(
                list(p["files"]), [Path(x) for x in as_list(p["policy"]) or ["policy"]],
                namespaces=as_list(p["namespace"]) or ["main"],
                all_namespaces=bool(p["all_namespaces"]),
                data_paths=[Path(x) for x in as_list(p["data"])], combine=bool(p["combine"]),
                parser=p["parser"] or None, stdin_filename=p["stdin_filename"] or None,
                ignore=p["ignore"] or None, rego_version=str(p["rego_version"]),
                strict=bool(p["strict"]), engine=p["engine"],
                engine_options={"opa_url": p["opa_url"]},
                limits=limits_from(p["eval_timeout"], p["eval_memory"]),
                max_bytes=p["max_file_bytes"])
    except (InputError, ResultError, ParseError, PolicyError) as exc:
        _conftest_error(f"running test: {'load: ' if isinstance(exc, PolicyError) else ''}{exc}")
    for error in run.errors:
        click.echo(f"Error: {error}", err=True)
    code = run.exit_code(fail_on_warn=bool(p["fail_on_warn"]))
    if not p["quiet"] or code != 0:
        fmt = "stdout" if p["output"] == "text" else str(p["output"])
        options = OutputOptions(
            suppress_exceptions=bool(p["suppress_exceptions"]),
            junit_hide_message=bool(p["junit_hide_message"]),
            github_hide_passed=bool(p["github_hide_passed"]), locations=bool(p["locations"]),
            color=fmt == "stdout" and not p["no_color"] and sys.stdout.isatty())
        click.echo(render(fmt, run.results, options), nl=False)
        if p["no_fail"]:
            sys.exit(0)
    sys.exit(code)


@main.command()
@click.argument("directories", nargs=-1, type=click.Path(path_type=Path))
@_conftest_options
@click.option("--run", "-r", "pattern", default=None,
              help="Only tests whose name (data.<package>.<test>) matches this regex.")
@click.option("--coverage", is_flag=True, help="Report coverage per policy file (regorus).")
@click.option("--failures-only", is_flag=True, help="List only failing and erroring tests.")
@click.option("--output", "-o", default="stdout", show_default=True,
              type=click.Choice(["stdout", "json", "tap", "table", "junit", "github",
                                 "azuredevops", "sarif"]),
              help="conftest's output format (with --policy).")
@click.option("--report", default=None, type=click.Choice(["full", "notes", "fails"]),
              help="conftest's test report (with --policy; stdout only).")
@_engine_options
@_limit_options
@click.pass_context
def verify(ctx: click.Context, **_params: Any) -> None:
    """Run the `test_*` rules of the policies.

    `pe-policy verify DIRS` reports like `opa test` (file and line of each test, `--run`,
    `--coverage`); `pe-policy verify --policy DIR` (or no DIRS) as `conftest verify` does,
    with conftest's built-ins (`parse_config` & co.), `--data`, `--namespace` and outputs.
    """
    import re

    from pe_policy.engine.rego import PolicyError
    from pe_policy.engine.verify import render_report, run_tests
    from pe_policy.runner import limits_from

    p = _conftest_settings(ctx)
    try:
        selector = re.compile(p["pattern"]) if p["pattern"] else None
    except re.error as exc:
        _fail(f"--run: invalid regular expression: {exc}")
    limits = limits_from(p["eval_timeout"], p["eval_memory"])
    if p["directories"] and not ctx.params["policy"]:  # (conftest.toml's `policy` is not a flag)
        try:
            report = run_tests(list(p["directories"]), selector=selector, coverage=p["coverage"],
                               engine=p["engine"], engine_options={"opa_url": p["opa_url"]},
                               limits=limits)
        except PolicyError as exc:
            _fail(f"policy error: {exc}")
        click.echo(render_report(report, verbose=not p["failures_only"]), nl=False)
        sys.exit(report.exit_code)
    _conftest_verify(p, selector, limits)


def _conftest_verify(p: dict[str, Any], selector: Any, limits: Any) -> NoReturn:
    """`verify` as conftest runs it: policies from `--policy` (default `policy`), conftest's
    layout, exit 1 on a failing test."""
    from pe_policy.conftest.engine import load_policies
    from pe_policy.conftest.outputs import OutputOptions, render
    from pe_policy.conftest.run import load_data
    from pe_policy.conftest.settings import as_list
    from pe_policy.engine.rego import PolicyError
    from pe_policy.engine.verify import conftest_results, render_conftest_report, run_tests
    from pe_policy.findings import ParseError

    paths = [Path(x) for x in as_list(p["policy"]) or ["policy"]]  # (conftest ignores arguments)
    if p["report"] and p["output"] != "stdout":
        _conftest_error("report flag is supported with stdout only")
    try:
        modules = load_policies(paths, str(p["rego_version"]), bool(p["strict"]))
        report = run_tests(paths, selector=selector, engine=p["engine"],
                           engine_options={"opa_url": p["opa_url"]}, limits=limits,
                           data=load_data([Path(x) for x in as_list(p["data"])]), modules=modules,
                           builtins=True, namespaces=as_list(p["namespace"]) or None)
    except (PolicyError, ParseError) as exc:
        _conftest_error(f"running verification: load: {exc}")
    errors = [c for c in report.cases if c.status == "error"]
    for case in errors:
        click.echo(f"Error: running verification: run test: {case.file}:{case.line}: "
                   f"{case.name}: {case.message}", err=True)
    results = conftest_results(report)
    code = 1 if any(r.failures for r in results) else 0
    if not p["quiet"] or code:
        if p["report"]:
            click.echo(render_conftest_report(report), nl=False)
        else:
            click.echo(render(str(p["output"]), results, OutputOptions(
                show_skipped=True, color=p["output"] == "stdout" and not p["no_color"]
                and sys.stdout.isatty())), nl=False)
    sys.exit(code)


@main.command()
@click.option("--output", "-o", "output", default="bundle.tar.gz", show_default=True,
              type=click.Path(path_type=Path, dir_okay=False), help="Bundle file to write.")
@click.option("--policy", "-p", "policies", multiple=True, type=click.Path(path_type=Path),
              help="The repository's own policy directories (default: those in .pe-policy.yaml, "
              "plus policy/ and infra/policy/ when present).")
@click.option("--revision", default=None, help="Bundle revision (default: git HEAD, else a "
              "hash of the contents).")
def bundle(output: Path, policies: tuple[Path, ...], revision: str | None) -> None:
    """Write the built-in pack and the repository's policies as an OPA bundle."""
    from pe_policy.discover import repo_root
    from pe_policy.engine.bundle import build_bundle, default_policy_dirs
    from pe_policy.engine.rego import PolicyError

    root = repo_root(None, Path.cwd())
    dirs = list(policies) or default_policy_dirs(root)
    try:
        summary = build_bundle(output, dirs, root, revision=revision)
    except PolicyError as exc:
        _fail(f"policy error: {exc}")
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")
    for path in summary.skipped:
        click.echo(f"skipped {path}: Python rules cannot go into an OPA bundle", err=True)
    click.echo(f"wrote {output}: {len(summary.modules)} Rego modules, roots "
               f"{', '.join(summary.roots)}, revision {summary.revision}")

@main.command()
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Repository root (default: the enclosing git repository).")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.option("--pre-commit", "write_pre_commit", is_flag=True,
              help="Write .pre-commit-config.yaml too (default: print the snippet).")
def init(root: Path | None, force: bool, write_pre_commit: bool) -> None:
    """Write a commented starter .pe-policy.yaml and show how to run pe-policy in pre-commit."""
    from pe_policy.config import CONFIG_FILE_NAMES
    from pe_policy.discover import repo_root
    from pe_policy.starter import precommit_snippet, starter_config

    repo = repo_root(root, Path.cwd())
    existing = [repo / n for n in CONFIG_FILE_NAMES if (repo / n).exists()]
    if existing and not force:
        _fail(f"{existing[0]} already exists (--force overwrites it)")
    config_path = repo / CONFIG_FILE_NAMES[0]
    _write_output(starter_config(), str(config_path))
    click.echo(f"wrote {config_path}")
    snippet = precommit_snippet()
    hooks_path = repo / ".pre-commit-config.yaml"
    if write_pre_commit and (force or not hooks_path.exists()):
        _write_output(snippet, str(hooks_path))
        click.echo(f"wrote {hooks_path}; run `pre-commit install` to enable it")
        return
    if write_pre_commit:
        click.echo(f"{hooks_path} already exists; add this hook to it:")
    else:
        click.echo("To check files on every commit, put this in .pre-commit-config.yaml "
                   "(or run `pe-policy init --pre-commit`):")
    click.echo("")
    click.echo(snippet, nl=False)


def run() -> None:
    """The `pe-policy` command: `main`, then exit without tearing the interpreter down.

    Freeing every module and object at exit took 50-70 ms, a fifth of a pre-commit run on one
    file.  Everything that must outlive the process is already done by then: reports are
    written atomically and closed, workers are reaped; only the standard streams are flushed.
    """
    from pe_policy import pause_collector, without_pydantic_plugins
    from pe_policy.compile_cache import save_compile_cache, use_compile_cache

    without_pydantic_plugins()  # before the first model is built
    use_compile_cache()  # before the first dataclass or pattern is compiled
    pause_collector()  # until the inputs are loaded (runner.run, run_each)
    try:
        main()
        code: int = 0
    except SystemExit as exc:
        if isinstance(exc.code, str):
            sys.stderr.write(exc.code + "\n")
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    save_compile_cache()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # `| head` closed the pipe, or stream closed
            code = code or 1
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
