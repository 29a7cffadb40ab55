"""conftest's own acceptance tests (acceptance.bats, beside its source in the Go module cache
that `make tools` builds it from), through a shim that only renames the command: every
`./conftest test|verify|parse` line over inputs pe-policy parses (YAML, JSON, HCL2), in
conftest's source tree, by conftest and by pe-policy, must agree (exit code and results).

Left out, by what they need: the parsers pe-policy does not have (Dockerfile, HCL1, TOML,
INI, ...), the flags it does not take (`--trace`, `--update`, `--capabilities`: its sandbox
fixes what a policy may call), `--report` (OPA's trace) and
the lines that are not tests of a policy (`--help`, `--version`, `-c $DIR`)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.conftest_parity.cases import Case
from tests.conftest_parity.test_parity import normalised, pe_policy
from tests.reference_tools import pinned_versions, tool

LEFT_OUT = re.compile(
    r"docker|Dockerfile|hcl1|toml|edn|xml|hocon|vcl|jsonnet|ignore|cue|\.ini|ini/|properties|"
    r"CODEOWNERS|jenkins|--trace|--update|--version|--help|internal/|\$DIR|--report|cyclonedx|"
    r"spdx|textproto|dotenv|--capabilities")
# modules regorus rejects and OPA accepts: run on a real OPA server (the hint pe-policy gives)
ON_OPA = re.compile(r"examples/combine/policy")


def conftest_source() -> Path:
    """conftest's source at the pinned version, in the Go module cache."""
    version = pinned_versions().get("conftest", "")
    try:
        cache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True,
                               check=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        cache = ""
    source = Path(cache) / "github.com" / "open-policy-agent" / f"conftest@{version}"
    if not (source / "acceptance.bats").is_file():
        message = f"conftest {version}'s source is not in the Go module cache: run `make tools`"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI never skips the reference tools)")
        pytest.skip(message)
    return source


def acceptance_lines(source: Path) -> list[tuple[list[str], str | None]]:
    """(arguments, standard input) of each `run ./conftest ...` line that is kept."""
    out: list[tuple[list[str], str | None]] = []
    for raw in (source / "acceptance.bats").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line.startswith("run ./conftest ") or LEFT_OUT.search(line):
            continue
        command, _, redirect = line[len("run ./conftest "):].partition(" < ")
        stdin = (source / redirect.strip()).read_text(encoding="utf-8") if redirect else None
        out.append((shlex.split(command), stdin))
    return out


def test_conftest_acceptance_lines_agree(opa_url: str) -> None:
    source = conftest_source()
    lines = acceptance_lines(source)
    assert len(lines) >= 30, "acceptance.bats changed shape: fewer lines kept than expected"
    mismatches: list[str] = []
    for args, stdin in lines:
        case = Case("acceptance", tuple(args), "json" if "json" in args else "messages", stdin)
        run_args = dict(cwd=source, input=stdin or "", capture_output=True, text=True, timeout=300,
                        check=False)
        real = subprocess.run([tool("conftest"), *args], **run_args)  # type: ignore[call-overload]
        extra = ["--engine", "opa", "--opa-url", opa_url] if ON_OPA.search(" ".join(args)) else []
        ours = subprocess.run([*pe_policy(), *args, *extra], **run_args)  # type: ignore[call-overload]
        same_code = real.returncode == ours.returncode
        if real.returncode != 0 and not real.stdout.strip():  # conftest stopped on an error
            agree = same_code and bool(ours.stderr.strip())
        else:
            agree = same_code and normalised(case, real) == normalised(case, ours)
        if not agree:
            mismatches.append(f"conftest {' '.join(args)}: exit {real.returncode} vs "
                              f"{ours.returncode}\n{real.stdout}\n--- pe-policy\n{ours.stdout}{ours.stderr}")
    assert not mismatches, f"{len(mismatches)} of {len(lines)} disagree:\n" + "\n".join(mismatches)
