"""The `pe-policy` command line: click commands and nothing else.

Heavy modules (pydantic models, the Rego engine) are imported inside the
commands, so `pe-policy --help` and a pre-commit run on one file start fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from pe_policy import __version__

SEVERITIES = ("critical", "high", "medium", "low", "info")
EXIT_USAGE = 2


def _fail(message: str) -> NoReturn:
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pe-policy")
def main() -> None:
    """Policy-as-code for the whole delivery process."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "-f", "format_", default="text", show_default=True,
              type=click.Choice(["text", "json", "sarif", "markdown"]),
              help="Output format.")
@click.option("--output", "-o", default=None, help="Write the report to this file.")
@click.option("--fail-on", default="low", show_default=True, type=click.Choice(SEVERITIES),
              help="Exit 1 when a finding is at or above this severity.")
@click.option("--kind", default=None, help="Treat every given file as this kind.")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Repository root (default: the enclosing git repository).")
@click.option("--color/--no-color", default=None, help="Colour (default: only on a terminal).")
def check(
    paths: tuple[Path, ...], format_: str, output: str | None, fail_on: str, kind: str | None,
    root: Path | None, color: bool | None,
) -> None:
    """Check PATHS (files or directories; default: the current directory)."""
    from pe_policy.discover import find_root
    from pe_policy.engine.rego import PolicyError
    from pe_policy.findings import Severity
    from pe_policy.loaders import KINDS
    from pe_policy.pipeline import check as run_check
    from pe_policy.pipeline import exit_code
    from pe_policy.reporters import ReportOptions, render

    if kind is not None and kind not in KINDS:
        _fail(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
    targets = list(paths) or [Path.cwd()]
    repo_root = (root or find_root(targets[0] if targets[0].is_dir() else targets[0].parent
                                   if targets[0].parent != Path() else Path.cwd())).resolve()
    try:
        result = run_check(targets, repo_root, forced_kind=kind)
    except PolicyError as exc:
        _fail(f"policy error: {exc}")
    use_color = sys.stdout.isatty() if color is None else color
    text = render(format_, result,
                  ReportOptions(color=use_color and output is None, tool_version=__version__))
    _write_output(text, output)
    sys.exit(exit_code(result, Severity.parse(fail_on)))


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--kind", default=None, help="Parse as this kind instead of detecting it.")
@click.option("--positions", is_flag=True, help="Also print the source map (JSON path -> line).")
def parse(file: Path, kind: str | None, positions: bool) -> None:
    """Print FILE's typed model as JSON: the exact input Rego policies see."""
    import json

    from pe_policy.discover import detect_kind, find_root, relative_to_root
    from pe_policy.findings import ParseError
    from pe_policy.loaders import KINDS, load_file

    if kind is not None and kind not in KINDS:
        _fail(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
    if not file.exists():
        _fail(f"{file}: no such file")
    root = find_root(file.parent if str(file.parent) else Path.cwd())
    display = relative_to_root(file, root)
    detected = kind or detect_kind(file, display)
    if detected is None:
        _fail(f"{display}: cannot tell what kind of file this is; pass --kind "
              f"({', '.join(KINDS)})")
    try:
        doc = load_file(file, display, detected, root)
    except ParseError as exc:
        _fail(str(exc))
    payload: dict[str, Any] = {"kind": doc.kind, "path": doc.path, "input": doc.input}
    if positions:
        payload["positions"] = [
            {"path": list(p), "line": s.line, "column": s.column,
             **({"file": s.path} if s.path else {})}
            for p, s in doc.source_map.spans.items()
        ]
    click.echo(json.dumps(payload, indent=2, default=str))


@main.command()
@click.option("--format", "-f", "format_", default="text", type=click.Choice(["text", "json"]))
def rules(format_: str) -> None:
    """List every rule: ID, severity, kinds and title."""
    import json

    from pe_policy.engine.rego import PolicyError
    from pe_policy.pipeline import default_ruleset

    try:
        catalog = default_ruleset().catalog
    except PolicyError as exc:
        _fail(f"policy error: {exc}")
    metas = [m for m in catalog if m.engine != "internal"]
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
def explain(rule_id: str) -> None:
    """Show a rule's description, remediation and source."""
    from pe_policy.pipeline import default_ruleset

    meta = default_ruleset().catalog.get(rule_id.upper())
    if meta is None:
        _fail(f"no rule {rule_id!r}; `pe-policy rules` lists them")
    click.echo(f"{meta.id}: {meta.title}")
    click.echo(f"severity: {meta.severity.value}    kinds: {', '.join(meta.kinds) or 'all'}"
               f"    engine: {meta.engine}")
    if meta.source:
        click.echo(f"source: {meta.source}")
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


if __name__ == "__main__":  # pragma: no cover
    main()
