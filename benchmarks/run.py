"""Benchmark harness: pe-policy against checkov and zizmor on the same generated files.

Every tool runs as its own process, as a user would run it; wall time comes
from the clock around the process, peak memory from `os.wait4`'s rusage of
that process (it includes the children it reaped, so checkov's workers count),
findings from each tool's JSON output.  The "floor" (`benchmarks/floor.py`) is
the least work any Rego-based checker must do: for a plan, `json.load` plus the
same Rego modules evaluated directly with regorus in one process; for
workflows, pe-policy's loader and the same pack in regorus on every core, with
nothing around them.

    python benchmarks/run.py                      # everything, peers when installed
    python benchmarks/run.py --quick              # small sizes, no 10,000-resource checkov
    python benchmarks/run.py --write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


@dataclass
class Run:
    """One measured process."""

    wall: float
    peak_mb: float
    findings: int | None
    exit_code: int
    error: str = ""
    cpu: float = 0.0  # user + system seconds of the process and the workers it waited for


@dataclass
class Row:
    case: str
    size: str
    tool: str
    runs: list[Run] = field(default_factory=list)
    note: str = ""

    @property
    def best(self) -> Run:
        ok = [r for r in self.runs if not r.error] or self.runs
        return min(ok, key=lambda r: r.wall)

    @property
    def wall(self) -> float:
        ok = [r.wall for r in self.runs if not r.error] or [r.wall for r in self.runs]
        return statistics.median(ok)

    @property
    def cpu(self) -> float:
        ok = [r.cpu for r in self.runs if not r.error] or [r.cpu for r in self.runs]
        return statistics.median(ok)


def _count_in_child(count: Callable[[str], int | None], path: str) -> tuple[int | None, str]:
    """Count findings in a forked child that exits: a 100 MB checkov report parsed here would
    grow the harness, and Linux counts a parent's memory in the peak RSS of every process it
    starts afterwards (the pre-exec image), inflating later measurements."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(reader)
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                result = json.dumps([count(fh.read()), ""])
        except (ValueError, KeyError, TypeError) as exc:
            result = json.dumps([None, f"unreadable output ({exc})"])
        os.write(writer, result.encode())
        os._exit(0)
    os.close(writer)
    chunks = []
    while chunk := os.read(reader, 65536):
        chunks.append(chunk)
    os.close(reader)
    os.waitpid(pid, 0)
    findings, error = json.loads(b"".join(chunks) or b'[null, "counter died"]')
    return findings, error


def measure(cmd: Sequence[str], cwd: Path, count: Callable[[str], int | None],
            timeout: float = 3600, env: dict[str, str] | None = None) -> Run:
    """Run `cmd`, wait for it with wait4 (its own peak RSS), count findings in its stdout."""
    with tempfile.NamedTemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=out, stderr=err,
                                env={**os.environ, **(env or {})})
        deadline = start + timeout
        status = rusage = None
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                _, status, rusage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.flush()
        findings, error = _count_in_child(count, out.name)
        if error:
            err.seek(0)
            error += "; stderr: " + err.read().decode("utf-8", "replace").strip()[-300:]
    peak_mb = rusage.ru_maxrss / 1024  # Linux: kilobytes
    if wall > timeout:
        error = f"killed after {timeout:.0f} s"
    cpu = rusage.ru_utime + rusage.ru_stime  # wait4: with the descendants it waited for
    return Run(wall, peak_mb, findings, proc.returncode, error, cpu)


# --------------------------------------------------------------------------- tools


def _count_pe(stdout: str) -> int:
    return int(json.loads(stdout)["summary"]["findings"])


def _count_checkov(stdout: str) -> int:
    data = json.loads(stdout)
    reports = data if isinstance(data, list) else [data]
    return sum(int(r.get("summary", {}).get("failed", 0)) for r in reports)


def _count_zizmor(stdout: str) -> int:
    return len(json.loads(stdout))


def _count_floor(stdout: str) -> int:
    return int(json.loads(stdout)["findings"])


def find_tool(name: str) -> str | None:
    for candidate in (REPO / ".bench-venv" / "bin" / name, REPO / ".venv" / "bin" / name):
        if candidate.is_file():
            return str(candidate)
    return shutil.which(name)


def tool_version(path: str | None, *args: str) -> str:
    if path is None:
        return "not installed"
    try:
        out = subprocess.run([path, *args], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else "?"


FLOOR = HERE / "floor.py"  # the least any checker built as the issues ask pays (its docstring)


@dataclass
class Tool:
    """One command to measure, and how to count findings in what it prints."""

    name: str
    cmd: Sequence[str]
    count: Callable[[str], int | None]
    repeat: int | None = None  # None: the run's --repeat
    env: dict[str, str] | None = None  # set for this tool's runs


ONE_FILE_REPEATS = 9
NO_CACHE_CASE = "one workflow, no cache"
NO_RULES_CASE = "workflows, no workflow rules"
ONE_OF_20_CASE = "one workflow of 20"  # a pre-commit run in a repository of 20 workflows
# the pack without its process rules (stages, scanner job, production gates, coverage gate),
# which no zizmor audit matches: the same kind of work as zizmor's, side by side with it
SAME_AUDITS_CASE = "workflows, zizmor's kind of audits"
PROCESS_RULES = ("PE-WF-003", "PE-WF-004", "PE-WF-005", "PE-WF-009")
ONE_CORE_CASE = "workflows, one core"  # `taskset -c 0`: how the run scales with cores
TF_CASE = ".tf module"


@dataclass
class Bench:
    out: Path
    repeat: int
    peers: bool
    checkov_max: int
    results: list[Row] = field(default_factory=list)
    tf_sizes: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.load_at_start = " / ".join(f"{x:.2f}" for x in os.getloadavg())
        self.pe = find_tool("pe-policy") or "pe-policy"
        self.python = str(REPO / ".venv" / "bin" / "python") if (
            REPO / ".venv" / "bin" / "python").is_file() else sys.executable
        self.checkov = find_tool("checkov") if self.peers else None
        self.zizmor = find_tool("zizmor") if self.peers else None
        # Installed, pe-policy runs from bytecode (pip compiles it). Run from this checkout with
        # PYTHONDONTWRITEBYTECODE set (as it is here), every module would be compiled again on
        # every run: 0.3 s of a one-workflow run. Compile once, as an install does.
        subprocess.run([self.python, "-m", "compileall", "-q", str(REPO / "src")],
                       check=False, stdout=subprocess.DEVNULL)

    def side_by_side(self, case: str, size: str, cwd: Path, tools: Sequence[Tool],
                     timeout: float = 3600) -> None:
        """Each tool's runs in turns (pe-policy, peer, pe-policy, peer...), not one tool's
        runs then the other's: a machine that slows down for a while (another VM on the
        host) then slows both alike, and the ratio stays fair."""
        rows = [Row(case, size, tool.name) for tool in tools]
        for turn in range(max(tool.repeat or self.repeat for tool in tools)):
            for tool, row in zip(tools, rows, strict=True):
                if turn < (tool.repeat or self.repeat):
                    row.runs.append(measure(tool.cmd, cwd, tool.count, timeout, tool.env))
        for row in rows:
            self.results.append(row)
            best = row.best
            print(f"  {case:<14} {size:>12} {row.tool:<10} {row.wall:8.3f} s  "
                  f"cpu {row.cpu:7.3f} s  {best.peak_mb:8.1f} MB  findings={best.findings}  {best.error}", flush=True)

    def pe_check(self, target: Path, root: Path, repeat: int | None = None,
                 options: Sequence[str] = (), env: dict[str, str] | None = None) -> Tool:
        cmd = [self.pe, "check", *options, "--format", "json", "--root", str(root), str(target)]
        return Tool("pe-policy", cmd, _count_pe, repeat, env)

    # ----------------------------------------------------------------- cases

    def plans(self, sizes: Sequence[int]) -> None:
        for n in sizes:
            plan = self.out / f"plan-{n}" / "tfplan.json"  # written by corpus.py (main)
            (plan.parent / ".git").mkdir(exist_ok=True)
            size = f"{n:,} res"
            tools = [self.pe_check(plan, plan.parent),
                     Tool("floor", [self.python, str(FLOOR), "plan", str(plan)], _count_floor)]
            if self.checkov and n <= self.checkov_max:  # its time varies 2x from run to run
                tools.append(Tool("checkov", [self.checkov, "-f", str(plan), "--framework",
                                              "terraform_plan", "-o", "json", "--skip-download",
                                              "--quiet"], _count_checkov,
                                  repeat=3 if n <= 1000 else 1))  # 10,000: minutes a run
            self.side_by_side("terraform plan", size, plan.parent, tools)

    def zizmor_check(self, target: Path, repeat: int | None = None) -> list[Tool]:
        """zizmor on `target` (a file or a directory), if installed: [] otherwise."""
        if not self.zizmor:
            return []
        return [Tool("zizmor", [self.zizmor, "--offline", "--format", "json", "--no-progress",
                                str(target)], _count_zizmor, repeat)]

    def workflow_sets(self, sizes: Sequence[int]) -> None:
        for n in sizes:
            directory = self.out / f"workflows-{n}"
            size = f"{n:,} files"
            peer = self.zizmor_check(directory)
            tools = [self.pe_check(directory, directory),
                     Tool("floor", [self.python, str(FLOOR), "workflows", str(directory)],
                          _count_floor), *peer]
            self.side_by_side("workflows", size, directory, tools)
            if n == max(sizes):  # what is not Rego: start-up, loading, workers, the report
                config = self.out / "no-workflow-rules.yaml"
                config.write_text('rules:\n  disable: ["PE-WF"]\n', encoding="utf-8")
                self.side_by_side(NO_RULES_CASE, size, directory, [
                    self.pe_check(directory, directory, options=("--config", str(config)))])
                audits = self.out / "security-rules-only.yaml"
                audits.write_text(f"rules:\n  disable: {json.dumps(list(PROCESS_RULES))}\n",
                                  encoding="utf-8")
                self.side_by_side(SAME_AUDITS_CASE, size, directory, [
                    self.pe_check(directory, directory, options=("--config", str(audits))),
                    *peer])
                taskset = shutil.which("taskset")
                if taskset and (os.cpu_count() or 1) > 1:  # the same runs held to one core
                    self.side_by_side(ONE_CORE_CASE, size, directory, [
                        replace(tool, cmd=[taskset, "-c", "0", *tool.cmd]) for tool in tools])

    def one_workflow(self) -> None:
        directory = self.out / "workflows-1"
        target = next((directory / ".github" / "workflows").glob("*.yml"))
        repeat = max(ONE_FILE_REPEATS, self.repeat)  # a fraction of a second each: more runs
        tools = [self.pe_check(target, directory, repeat), *self.zizmor_check(target, repeat)]
        self.side_by_side("one workflow", "1 file", directory, tools)
        # the usual pre-commit run: one changed workflow of a repository's 20, judged with the
        # other 19 (PE-WF-003/009), whose facts the first run keeps (engine/facts_cache.py)
        repository = self.out / "workflows-20"
        changed = sorted((repository / ".github" / "workflows").glob("*.yml"))[0]
        in_repository = [self.pe_check(changed, repository, repeat),
                         *self.zizmor_check(changed, repeat)]
        self.side_by_side(ONE_OF_20_CASE, "1 file", repository, in_repository)
        # the first run after installing: no Rego outline and no compiled start-up code kept
        self.side_by_side(NO_CACHE_CASE, "1 file", directory, [
            self.pe_check(target, directory, repeat, env={"PE_POLICY_CACHE_DIR": ""})])
        self.side_by_side("pe-policy --help", "-", directory,
                          [Tool("pe-policy", [self.pe, "--help"], lambda _out: None, repeat)])

    def tf_modules(self, sizes: Sequence[int]) -> None:
        """One Terraform module (a directory of `.tf` files), `checkov -d DIR` beside."""
        self.tf_sizes = list(sizes)
        for n in sizes:
            directory = self.out / f"tf-module-{n}"  # written by tf_module.py (main)
            (directory / ".git").mkdir(exist_ok=True)
            tools = [self.pe_check(directory, directory)]
            if self.checkov:
                tools.append(Tool("checkov", [self.checkov, "-d", str(directory), "--framework",
                                              "terraform", "-o", "json", "--skip-download",
                                              "--quiet"], _count_checkov))
            self.side_by_side(TF_CASE, f"{n:,} files", directory, tools)

    def repositories(self, sizes: Sequence[int]) -> None:
        for n in sizes:
            directory = self.out / f"repo-{n}"
            files = sum(1 for p in directory.rglob("*") if p.is_file())
            self.side_by_side("mixed repo", f"{files:,} files", directory,
                              [self.pe_check(directory, directory)])


# --------------------------------------------------------------------------- report


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "memory": memory,
            "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(),
            "load": " / ".join(f"{x:.2f}" for x in os.getloadavg())}


def _find(rows: list[Row], case: str, size: str, tool: str) -> Row | None:
    return next((r for r in rows if (r.case, r.size, r.tool) == (case, size, tool)), None)


def table(rows: list[Row]) -> list[str]:
    out = ["| case | input | tool | wall s (median) | CPU s (median) | peak MB | findings "
           "| pe-policy / this |",
           "|---|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        best = r.best
        ratio = ""
        if r.tool != "pe-policy":
            mine = _find(rows, r.case, r.size, "pe-policy")
            if mine is not None and r.wall > 0:
                ratio = (f"{mine.wall / r.wall:.3f} (pe-policy {r.wall / mine.wall:.1f}x faster)"
                         if mine.wall < r.wall else
                         f"{mine.wall / r.wall:.2f} (pe-policy {mine.wall / r.wall:.2f}x slower)")
        findings = "" if best.findings is None else f"{best.findings:,}"
        if best.error:
            findings = f"error: {best.error[:60]}"
        out.append(f"| {r.case} | {r.size} | {r.tool} | {r.wall:.3f} | {r.cpu:.3f} | "
                   f"{best.peak_mb:.0f} | {findings} | {ratio} |")
    return out


def targets(rows: list[Row], plan_sizes: Sequence[int], wf_sizes: Sequence[int]) -> list[str]:
    """The goals this project set itself, each with the measured figure and a verdict."""
    lines: list[str] = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    for n in plan_sizes:
        size = f"{n:,} res"
        mine, peer = _find(rows, "terraform plan", size, "pe-policy"), _find(
            rows, "terraform plan", size, "checkov")
        if n == 1000 and mine and peer:
            speedup = peer.wall / mine.wall
            lines.append(f"- 1,000-resource plan at least 100x faster than checkov: "
                         f"{speedup:.0f}x ({verdict(speedup >= 100)})")
        floor = _find(rows, "terraform plan", size, "floor")
        if n == 10000 and mine and floor:
            factor = mine.wall / floor.wall
            lines.append(f"- 10,000-resource plan within 3x of the floor (json.load + regorus): "
                         f"{factor:.2f}x ({verdict(factor <= 3)})")
    for n in wf_sizes:
        size = f"{n:,} files"
        mine, peer = _find(rows, "workflows", size, "pe-policy"), _find(
            rows, "workflows", size, "zizmor")
        if n == 500 and mine and peer:
            factor = mine.wall / peer.wall
            cores = os.cpu_count() or 1
            lines.append(f"- 500 workflows in no more time than zizmor: {factor:.2f}x "
                         f"({verdict(factor <= 1.0)}). pe-policy used {mine.cpu:.2f} s of CPU, "
                         f"so {mine.cpu / cores:.2f} s of wall time at the least on {cores} "
                         f"cores even if every core were busy all along; zizmor took "
                         f"{peer.wall:.2f} s ({peer.cpu:.2f} s of CPU)")
            floor = _find(rows, "workflows", size, "floor")
            if floor:
                lines.append(
                    f"- ... against the floor (`floor.py workflows`: pe-policy's loader and the "
                    f"whole pack in regorus, one process per core, nothing else): the floor took "
                    f"{floor.wall:.2f} s, {floor.wall / peer.wall:.2f}x zizmor's time, so the "
                    f"target leaves {max(0.0, peer.wall - floor.wall) * 1000:.0f} ms for all the "
                    f"rest (findings, report, repository rules); pe-policy took "
                    f"{(mine.wall - floor.wall) * 1000:.0f} ms more than its floor "
                    f"({mine.wall / floor.wall:.2f}x)")
            one_core = _find(rows, ONE_CORE_CASE, size, "pe-policy")
            if one_core and cores > 1 and one_core.wall > mine.wall:
                lines.append(scaling(one_core.wall, mine.wall, cores, peer.wall))
            audits = _find(rows, SAME_AUDITS_CASE, size, "pe-policy")
            audits_peer = _find(rows, SAME_AUDITS_CASE, size, "zizmor")
            if audits and audits_peer:
                lines.append(
                    f"- The same kind of audits (the `{SAME_AUDITS_CASE}` rows: the pack without "
                    f"its process rules {', '.join(PROCESS_RULES)}, which no zizmor audit "
                    f"matches): {audits.wall:.2f} s ({audits.cpu:.2f} s of CPU) against "
                    f"zizmor's {audits_peer.wall:.2f} s, {audits.wall / audits_peer.wall:.2f}x; "
                    f"the process rules cost {mine.cpu - audits.cpu:.2f} s of CPU")
    one = _find(rows, "one workflow", "1 file", "pe-policy")
    if one:
        lines.append(f"- one workflow file (pre-commit) in at most 0.2 s: {one.wall:.3f} s "
                     f"({verdict(one.wall <= 0.2)})")
    one_of_20 = _find(rows, ONE_OF_20_CASE, "1 file", "pe-policy")
    if one_of_20:
        lines.append(f"- ... and in a repository of 20 workflows (the other 19 judged with it, "
                     f"their facts kept from the first run): {one_of_20.wall:.3f} s "
                     f"({verdict(one_of_20.wall <= 0.2)})")
    for case, sizes, unit in (("terraform plan", plan_sizes, "res"),
                              ("workflows", wf_sizes, "files")):
        ordered = sorted(sizes)
        for small, big in itertools.pairwise(ordered):
            if big != small * 10:
                continue
            a = _find(rows, case, f"{small:,} {unit}", "pe-policy")
            b = _find(rows, case, f"{big:,} {unit}", "pe-policy")
            if a and b:
                growth = b.wall / a.wall
                lines.append(f"- {case}: 10x input ({small:,} -> {big:,}) costs {growth:.1f}x time "
                             f"({verdict(growth <= 11)}: at most 11x)")
    return lines


def scaling(one_core: float, all_cores: float, cores: int, peer: float) -> str:
    """Amdahl's law fitted to the run on one core and on `cores`: the part of the wall time
    that does not shrink with more cores (start-up, the report) and the part the workers
    share, and what that projects for 4 and 8 cores (pe-policy starts one worker per core)."""
    parallel = (one_core - all_cores) * cores / (cores - 1)
    serial = one_core - parallel
    projected = ", ".join(f"{serial + parallel / n:.2f} s on {n}" for n in (4, 8))
    return (f"- How it scales (the `{ONE_CORE_CASE}` row against the one above): "
            f"{serial:.2f} s that no core count shortens and {parallel:.2f} s the workers "
            f"share; projected {projected} cores, against zizmor's {peer:.2f} s (one core, "
            f"whatever the machine has)")


def tf_module_targets(rows: list[Row], sizes: Sequence[int]) -> list[str]:
    """The `.tf` module goals: 500 files at least 20x faster than checkov, 10x the files at
    most 11x the time."""
    lines: list[str] = []
    for n in sizes:
        mine, peer = _find(rows, TF_CASE, f"{n:,} files", "pe-policy"), _find(
            rows, TF_CASE, f"{n:,} files", "checkov")
        if n == 500 and mine and peer:
            speedup = peer.wall / mine.wall
            lines.append(f"- 500-file .tf module at least 20x faster than checkov: {speedup:.1f}x "
                         f"({'met' if speedup >= 20 else 'NOT met'})")
    for small, big in itertools.pairwise(sorted(sizes)):
        a = _find(rows, TF_CASE, f"{small:,} files", "pe-policy")
        b = _find(rows, TF_CASE, f"{big:,} files", "pe-policy")
        if big == small * 10 and a and b:
            growth = b.wall / a.wall
            lines.append(f"- {TF_CASE}: 10x input ({small:,} -> {big:,} files) costs {growth:.1f}x "
                         f"time ({'met' if growth <= 11 else 'NOT met'}: at most 11x)")
    return lines


def render_markdown(bench: Bench, rows: list[Row], plan_sizes: Sequence[int],
                    wf_sizes: Sequence[int], command: str) -> str:
    info = machine()
    versions = {
        "pe-policy": tool_version(bench.pe, "--version"),
        "checkov": tool_version(bench.checkov, "--version"),
        "zizmor": tool_version(bench.zizmor, "--version"),
    }
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`benchmarks/run.py --write docs/benchmarks.md`; the",
        "README carries a copy). Every figure is one process as a user runs it: wall time from the clock",
        "around the process (median of the repeats), peak memory from `os.wait4`'s rusage",
        "(includes reaped child processes), findings from each tool's JSON output.",
        "",
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['memory']} memory, "
        f"{info['os']}, Python {info['python']}. Load average (1/5/15 min) at the start: "
        f"{bench.load_at_start}, at the end: {info['load']} (other work on the machine slows "
        "every tool alike; compare ratios).",
        f"Tools: {versions['pe-policy']}; checkov {versions['checkov']}; "
        f"{'zizmor not installed' if bench.zizmor is None else versions['zizmor']}.",
        f"Command: `{command}` on {time.strftime('%Y-%m-%d')}.",
        "",
        *table(rows),
        "",
        "## Targets",
        "",
        *(targets(rows, plan_sizes, wf_sizes) + tf_module_targets(rows, bench.tf_sizes)
          or ["- (no target could be evaluated: peers missing)"]),
        "",
    ]
    return "\n".join(lines)


DOC_TAIL = """
## What is measured, and how

- **Corpus** (`benchmarks/corpus.py`, seeded, byte-identical on every machine):
  Terraform plans in `terraform show -json` shape (`planned_values`,
  `resource_changes`, `prior_state`, `configuration` with references, compact
  one-line JSON as Terraform writes it) of N resource changes over nine AWS
  resource types with 10-30 % violating instances; workflows drawn from seven
  realistic templates (CI, web build, release, deploy, triage on
  `pull_request_target`, CodeQL); a mixed repository with workflows, `.tf`,
  a plan, runbooks, deployment reports, Alembic and SQL migrations, a Trivy
  report and `coverage.xml`. Files land in `benchmarks/corpus/` (git-ignored).
- **pe-policy**: `pe-policy check --format json --root DIR TARGET`, the
  console script from `.venv`, the full built-in pack.
- **floor** (`benchmarks/floor.py`): for a plan, `json.load` it, add the
  built-in Rego modules for `terraform_plan` to regorus, `set_input_json` the
  raw text, evaluate every `deny`/`warn` rule: what a minimal single-process
  Rego checker pays. For workflows, the least a checker built as issue #16
  asks (every workflow rule in Rego, over the typed model with its parsed
  expressions and scripts) pays: after start-up (with pe-policy's start-up
  cache) and compiling the pack once, one forked process per core loads its
  share of the files with pe-policy's loader and evaluates the whole pack in
  regorus, batched as `check` does, with the garbage collector off; no finding
  objects, messages, report, limits or repository-level judgment. Its findings
  count is the number of values the rules return, so it matches pe-policy's.
- **checkov**: `checkov -f tfplan.json --framework terraform_plan -o json
  --skip-download --quiet` (no network, findings = `summary.failed`); for the
  `.tf` module case `checkov -d DIR --framework terraform` with the same options
  (benchmarks/tf_module.py writes the module: mixed AWS resources with heredoc and
  `jsonencode` policies, `dynamic` blocks, variables, locals and outputs).
- **zizmor**: `zizmor --offline --format json --no-progress DIR` (findings =
  length of the JSON list).
- Peers are installed into `.bench-venv` by `make bench` (checkov and
  zizmor from PyPI, at the versions of `requirements/peers.lock`); without
  them the harness still measures pe-policy and
  the floor. `python benchmarks/run.py --quick` skips the 10,000-resource
  sizes; `--no-peers` skips checkov and zizmor; `--repeat N` sets the
  repeats (one file: at least 9; checkov three times on 1,000 resources and
  once on 10,000, which takes minutes).
- Tools run in turns (pe-policy, peer, pe-policy, peer...), so a spell of
  slowness on a shared machine slows both sides of a ratio alike.
- Peak memory is `ru_maxrss` from `os.wait4`. Linux counts the memory of the
  process that started a program in its peak (the image before `exec`), so the
  harness keeps itself small: the corpus is written and each tool's output is
  counted in child processes.
- `make bench` byte-compiles `src/` and `policies/` first, as installing the
  wheel does (this environment sets `PYTHONDONTWRITEBYTECODE`, which would
  otherwise recompile every module on every run).
- Findings counts are not comparable one to one: each tool has its own rule
  set; they show that every tool read the files and found the planted problems.

## Where the time goes, and what keeps it short

- Start-up is most of a pre-commit run: Python, click, pydantic, PyYAML,
  tree-sitter and regorus cost about 0.14 s before any work. Everything else
  is imported lazily (a run on workflows never imports the Terraform, markdown
  or HCL loaders), `_test.rego` files are not read by `check`, and the
  command exits without tearing the interpreter down (`cli.run`: 50-70 ms).
  What start-up reads it reads once per content: the built-in pack's outlines
  with their METADATA and its Python rules' metadata come from the cache
  (12 ms for the whole pack, was 24). The workflow models are built on first
  use, only `Workflow`'s validator (`defer_build`), the bash parser's error
  query when a script has an error; the cycle collector is paused while the
  command starts (`pe_policy.pause_collector`: it scanned tens of thousands of
  long-lived objects, 13 ms) and what start-up built is frozen when it
  resumes. A run small enough for one worker judges the repository-level
  rules (PE-WF-003/009) in that worker, after its inputs, instead of forking
  another. The command looks for no pydantic plugin and loads none
  (`pe_policy.without_pydantic_plugins`, from `cli.run`: a plugin would see
  every value validated, secrets included; the search alone imported
  `importlib.metadata`, 16 ms). What Python compiles again at every start-up is
  kept in the user cache like bytecode (`pe_policy/compile_cache.py`): dataclass
  methods (400 compilations), typing's string annotations (730, mostly
  pydantic-core's) and regular expressions' matching programs (70, a third of
  the time in one character class of PyYAML's): 35 ms of a one-workflow run,
  read back in 1 ms. The first run after installing compiles them (the
  `one workflow, no cache` row: no cache at all, Rego outlines included).
- Rego: only the modules for the kinds present are compiled; all of a
  document's rules are evaluated in one engine call (helper rules computed
  once), and consecutive documents of one kind share one call (`with input
  as`), so the engine's fixed cost per query is paid once per 16 documents.
  The built-in packs avoid case-insensitive regular expressions (matching
  lowered text instead) and compute per-job and per-resource facts once.
- Runs of 20 files or more (or a few costly ones) are split into one forked
  worker per core, each loading and evaluating its own slice of the files
  (with the per-document deadline and memory limit), so parsing is shared
  between the cores as well; a cross-document rule loads the file it names on
  demand. The output is the serial run's, byte for byte. A second worker
  costs ~20 ms and pays from about 20 files (it was 80 until 2026-12-05: 50
  workflows took 0.34 s in one worker, 0.28 s in two).
- A plan's JSON text goes to regorus as it is, never re-serialised.
- Workflows are read in one pass over libyaml's events, which also records every
  string GitHub evaluates (no second walk to find the expressions); an expression
  or short script that recurs across files (`${{ secrets.GITHUB_TOKEN }}`, `npm ci`)
  is parsed once per process; the garbage collector pauses while a workflow loads.
  `python benchmarks/load_workflows.py DIR` measures loading alone (CPU, in process).
- The 500-workflow target (no more time than zizmor) is not met, and on these
  2-core machines it sits at the floor of the design the issue that set it
  also asks for (every workflow rule in Rego, over the typed model with parsed
  expressions and scripts). The `floor` rows (`benchmarks/floor.py workflows`)
  do only that work: start-up, the pack compiled once, then on each core its
  share of the files loaded with pe-policy's loader and the whole pack
  evaluated in regorus, with no finding objects, messages, report, limits or
  repository judgment, the garbage collector off. The floor takes about
  zizmor's time: 0.96x, 1.05x and 1.14x of it in three runs on 2026-12-05
  (two of the table, 0.74 s and 0.83 s; 0.70 s in 9 runs in turns). So the target
  leaves nothing for the rest of a check: discovery, ~2,000 findings with their
  locations and fingerprints, the report, the repository-level rules, the
  per-file deadline. pe-policy's run is 0.07-0.18 s longer than its floor
  (1.08x-1.24x in the same three runs), most of it before its workers start
  (the command line, configuration, discovery, the rule set and its metadata)
  and after them (the repository-level rules in a fork, the report). The floor's CPU: ~0.75 s
  evaluating the pack (`benchmarks/rego_cost.py`, one process: no rule above
  0.1 s, the process rules about half of it, ~0.37 s, their shared pipeline
  library ~0.15 s; regorus costs 1.6-3.3 us per regex match, ~2 us per function call and ~6
  us per rule per document before the rule does anything), ~0.24 s loading
  (`benchmarks/load_workflows.py`) and ~0.1 s of start-up on one core, ~1.2-1.3
  s in all. OPA itself is slower on the same query: `opa eval` of the bundle
  over the same 500 inputs takes 1.9 s of CPU beyond reading them
  (`python benchmarks/rego_cost.py DIR --opa .tools/bin/opa`).
  A sixth to a third of pe-policy's CPU (0.23-0.51 s in four runs of the table)
  is the process rules, PE-WF-003/004/005/009 and the pipeline library they
  share (which stage each job is in, what its steps run), which no zizmor
  audit matches; the rest of the pack, the same kind of audits as zizmor's
  (the `workflows, zizmor's kind of audits` rows), runs in about zizmor's
  time, not reliably less (0.86x-1.18x of zizmor across runs). The
  `workflows, one core` rows hold the tools to one core (`taskset -c 0`):
  fitted to both runs (the Targets line), ~0.25-0.37 s of pe-policy's run does
  not shrink with more cores and the rest is shared by its workers (one per
  core), so on 4 cores it would take ~0.6-0.65 s, about zizmor's time: a
  projection, as these machines have 2 cores.
- Measured and not kept (2026-12-05): regorus's compiled mode
  (`regorus.Program`/`Rvm`) runs the pack 1.8x faster in process but gives
  other values than the interpreter for 5 of its 19 rules on this corpus (the
  stage facts of PE-WF-003/009, PE-WF-006, PE-WF-014 and PE-WF-020) and
  cannot compile `walk`; a whole run with it (wrong values and all) was only 7 %
  faster (0.83 s against 0.90 s, zizmor 0.63 s). regorus 0.14.1 built from
  crates.io evaluates the pack 12 % faster than the PyPI build (0.65 s against
  0.74 s of CPU, the same values) and its compiled mode is wrong on 3 rules:
  not worth a Rust build in every install. Dealing the inputs to the workers
  a batch at a time on demand, with the last idle worker judging the
  repositories, made the workers finish together but the run no shorter
  (0.869 s against 0.865 s, median of 9 in turns): they were already within
  0-15 ms of each other, and judging the repositories costs its ~30 ms in a
  worker as in a fork. Threads cannot share the cores: the regorus binding
  holds the GIL while it evaluates (two threads took as long as one).
  OPA's Wasm target (measured 2026-12-05): `opa build -t wasm` of the workflow
  pack (OPA 1.22.4; its Wasm compiler refuses PE-WF-009's module and the
  conftest `--combine` fallback of PE-WF-003, type errors OPA's interpreter does
  not raise, so those were left out), run in process by wasmtime 51 from PyPI
  with one entrypoint for all the other rules, gives the same values as regorus
  on all 500 workflows but takes 0.83 s where regorus takes 0.62 s (the same
  query, one process), and 0.19 s more to compile the module on every start.
  So no Rego engine at hand evaluates the pack in the quarter of a second the
  target needs: regorus is the fastest of the three.
- One workflow file meets its target since the start-up cache above; the
  rest of the ~0.18 s is interpreter and imports (~0.1 s: pydantic, click,
  PyYAML and multiprocessing are about half of it), the rule set (12 ms),
  the workflow loader and its model (35 ms), compiling the pack (13 ms) and
  the forked worker (~20 ms, of which regorus's first query on a new engine
  ~5 ms). In a repository the run also judges the pipeline (PE-WF-003/009)
  with the repository's other workflows, each read, loaded and evaluated for
  its facts, ~1.5 ms a file: one workflow of 20 took 0.22 s, one of 50 0.26 s.
  Those facts are kept in the user cache for each file's text
  (`pe_policy/engine/facts_cache.py`), so from the second run on only the
  changed files are loaded (the `one workflow of 20` rows: the first of the
  repeats keeps them).
"""


CASES = ("one", "workflows", "plans", "tf", "repos")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "corpus")
    parser.add_argument("--resources", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--workflows", type=int, nargs="*", default=[50, 500])
    parser.add_argument("--repository", type=int, nargs="*", default=[20])
    parser.add_argument("--tf-files", type=int, nargs="*", default=[50, 500],
                        help="sizes (files) of the generated .tf module case")
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES),
                        help="run only these cases (default: all)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--checkov-max", type=int, default=10000,
                        help="largest plan to give checkov (it needs ~400 s and 4 GB at 10,000)")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--write", type=Path, default=None, help="write the markdown report here")
    parser.add_argument("--readme", type=Path, default=None,
                        help="and replace the `## Benchmarks` section of this README with it")
    args = parser.parse_args()
    if args.quick:
        args.resources = [100, 1000]
        args.workflows = [50, 500]
        args.repository = [5]
        args.checkov_max = 1000
    # The corpus is written by a child process: the harness stays small, so the processes it
    # forks for each measurement do not start with its memory counted in their peak RSS.
    subprocess.run([sys.executable, str(HERE / "corpus.py"), "--out", str(args.out),
                    "--resources", *map(str, args.resources), "--workflows", "1", "20",
                    *map(str, args.workflows), "--repository", *map(str, args.repository)],
                   check=True, stdout=subprocess.DEVNULL)
    if "tf" in args.cases:
        subprocess.run([sys.executable, str(HERE / "tf_module.py"), "--out", str(args.out),
                        "--files", *map(str, args.tf_files)], check=True, stdout=subprocess.DEVNULL)
    bench = Bench(args.out, args.repeat, not args.no_peers, args.checkov_max)
    print(f"pe-policy: {bench.pe}\ncheckov: {bench.checkov or 'not installed'}\n"
          f"zizmor: {bench.zizmor or 'not installed'}", flush=True)
    if "one" in args.cases:
        bench.one_workflow()
    if "workflows" in args.cases:
        bench.workflow_sets(args.workflows)
    if "plans" in args.cases:
        bench.plans(args.resources)
    if "tf" in args.cases:
        bench.tf_modules(args.tf_files)
    if "repos" in args.cases:
        bench.repositories(args.repository)
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:])
    report = render_markdown(bench, bench.results, args.resources, args.workflows, command.strip())
    print()
    print(report)
    if args.write:
        from pe_policy.output import write_atomic

        write_atomic(args.write, report + DOC_TAIL)
        print(f"wrote {args.write}")
    if args.readme:
        update_readme(args.readme, report + DOC_TAIL)
        print(f"updated the Benchmarks section of {args.readme}")


def update_readme(readme: Path, document: str) -> None:
    """Put the report in the README's `## Benchmarks` section (up to the next `## `), one level down."""
    from pe_policy.output import write_atomic

    text = readme.read_text(encoding="utf-8")
    start = text.index("\n## Benchmarks\n") + 1
    end = text.index("\n## ", start + 1) + 1
    section = "\n".join("#" + line if line.startswith("#") else line for line in document.splitlines())
    write_atomic(readme, text[:start] + section.strip() + "\n\n" + text[end:])


if __name__ == "__main__":
    main()
