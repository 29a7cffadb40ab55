"""Several reports in one run: `--format sarif --output a.sarif --format markdown --output b.md`.

click collects repeated options into separate tuples and forgets how they
interleaved, so the command records the order of the raw arguments and this
module pairs each `--format` with the `--output` that follows it.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

DEFAULT_FORMAT = "text"
STDOUT = "-"


class ReportPlanError(ValueError):
    """--format/--output given in an order that cannot be paired, or an --output that is not
    a file pe-policy may write: a usage error."""


def option_order(command: click.Command, args: Sequence[str],
                 names: Sequence[str]) -> list[tuple[str, str]]:
    """(option name, value) of the options `names`, in the order they appear in `args`.

    Values of every other option are skipped, so `--kind -f` never counts as a format.
    """
    takes_value: dict[str, str] = {}
    for param in command.params:
        if isinstance(param, click.Option) and not param.is_flag and not param.count:
            for opt in param.opts:
                takes_value[opt] = param.name or ""
    order: list[tuple[str, str]] = []
    index = 0
    while index < len(args):
        token = args[index]
        index += 1
        if token == "--":
            break
        name: str | None = None
        value = ""
        if token in takes_value:
            name = takes_value[token]
            if index < len(args):
                value = args[index]
            index += 1
        elif token.startswith("--") and "=" in token:
            option, _, value = token.partition("=")
            name = takes_value.get(option)
        elif token.startswith("-") and not token.startswith("--") and token[:2] in takes_value:
            name, value = takes_value[token[:2]], token[2:]
        if name is not None and name in names:
            order.append((name, value))
    return order


def plan_reports(order: Sequence[tuple[str, str]], format_name: str = "format_",
                 output_name: str = "output") -> list[tuple[str, str | None]]:
    """[(format, output file or None for stdout)], checked for ambiguity.

    One format and at most one output pair up in either order (`-o x.sarif -f
    sarif` has always worked); with several formats each output belongs to the
    format before it.  Every output must be a regular file or a new path
    (`output.output_problem`), checked here, before the run: a FIFO, a device,
    `/dev/stdout` or a directory is refused (`-` is standard output).
    """
    formats = [value for name, value in order if name == format_name]
    outputs = [value for name, value in order if name == output_name]
    _check_outputs(outputs)
    if len(formats) <= 1 and len(outputs) <= 1:
        return [(formats[0] if formats else DEFAULT_FORMAT, outputs[0] if outputs else None)]
    pairs: list[list[str | None]] = []
    for name, value in order:
        if name == format_name:
            pairs.append([value, None])
        elif not pairs:
            raise ReportPlanError(f"--output {value} comes before any --format: with several "
                                  "formats, put each --output after its --format")
        elif pairs[-1][1] is not None:
            raise ReportPlanError(f"--output {value} follows another --output: give one "
                                  f"--output per --format")
        else:
            pairs[-1][1] = value
    plan = [(str(f), o if o != STDOUT else None) for f, o in pairs]
    to_stdout = [f for f, o in plan if o is None]
    if len(to_stdout) > 1:
        raise ReportPlanError(f"formats {', '.join(to_stdout)} would all go to standard output: "
                              "give --output FILE for all but one")
    files = [o for _, o in plan if o is not None]
    duplicates = sorted({o for o in files if files.count(o) > 1})
    if duplicates:
        raise ReportPlanError(f"two reports would overwrite {duplicates[0]}")
    return plan


def _check_outputs(outputs: Sequence[str]) -> None:
    from pe_policy.output import output_problem

    for output in outputs:
        problem = None if output == STDOUT else output_problem(output)
        if problem is not None:
            raise ReportPlanError(f"--output {output}: {problem}")
