"""`pe-policy bundle`: the built-in pack and the repository's policies as an OPA bundle.

An OPA bundle is a gzipped tarball: `/.manifest` (revision, roots), the Rego
modules at their paths, and `/data.json`.  `opa run -b bundle.tar.gz`,
`opa eval -b` and `conftest --bundle`-style consumers load it as it is, so an
organisation can decide centrally on exactly the policies pe-policy runs.
Rule parameters go in as `data.pe.params` (their defaults).  Python rules
cannot be shipped to OPA: they are listed as skipped.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pe_policy.engine.pack import builtin_policy_dir, policy_files, python_rule_files
from pe_policy.engine.rego import PolicyError, RegoModule, read_module

DEFAULT_REPO_POLICY_DIRS = ("policy", "infra/policy")
BUILTIN_PREFIX = "pe-policy"  # where the built-in pack sits inside the bundle


@dataclass
class BundleSummary:
    """What `build_bundle` wrote, for `pe-policy bundle` to report: the manifest's revision
    and roots, the modules inside, and the Python rule files left out."""

    revision: str
    roots: list[str]
    modules: list[str] = field(default_factory=list)  # paths inside the bundle
    skipped: list[str] = field(default_factory=list)  # Python rule files


def default_policy_dirs(root: Path) -> list[Path]:
    """The repository's own policies: `.pe-policy.yaml` `policies`, `policy/`, `infra/policy/`."""
    dirs: list[Path] = []
    try:
        from pe_policy.config import resolve_config

        dirs.extend(Path(p) if Path(p).is_absolute() else root / p
                    for p in getattr(resolve_config(root), "policies", []) or [])
    except Exception:  # a broken config is `check`'s to report; the defaults still apply
        pass
    dirs.extend(root / d for d in DEFAULT_REPO_POLICY_DIRS)
    unique: list[Path] = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in {u.resolve() for u in unique}:
            unique.append(d)
    return unique


def _is_v0(module: RegoModule) -> bool:
    """Plain v0 syntax (no `import rego.v1`, no `if`/`contains`): OPA 1.x must be told."""
    return module.v0 and "rego.v1" not in module.text


def _package_root(package: str) -> str:
    return package.split(".", 1)[0].split("[", 1)[0]


def _git_revision(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def collect(policy_dirs: Sequence[Path], root: Path
            ) -> tuple[list[tuple[str, RegoModule]], list[str]]:
    """(path inside the bundle, module) for every policy; Python rule files skipped."""
    entries: list[tuple[str, RegoModule]] = []
    skipped: list[str] = []
    sources = [(builtin_policy_dir(), BUILTIN_PREFIX)]
    for directory in policy_dirs:
        if not directory.is_dir():
            raise PolicyError(directory.as_posix(), "policy directory not found")
        try:
            prefix = directory.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            prefix = directory.name
        sources.append((directory, prefix))
    for directory, prefix in sources:
        for file in policy_files(directory, ".rego"):
            inner = f"{prefix}/{file.relative_to(directory).as_posix()}"
            module = read_module(file, inner)
            if not module.is_test:
                entries.append((inner, module))
        for file in python_rule_files(directory):
            skipped.append(f"{prefix}/{file.relative_to(directory).as_posix()}")
    return entries, skipped


def roots_for(modules: Sequence[RegoModule]) -> list[str]:
    """Top-level names the bundle owns: each package's first segment, and `pe` for the data."""
    return sorted({"pe", *(_package_root(m.package) for m in modules)})


def _add(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    info.mode = 0o644
    info.mtime = 0  # reproducible: the same policies give the same bytes
    tar.addfile(info, io.BytesIO(payload))


def build_bundle(output: Path, policy_dirs: Sequence[Path], root: Path, *,
                 revision: str | None = None) -> BundleSummary:
    from pe_policy.config import DEFAULT_PARAMS

    entries, skipped = collect(policy_dirs, root)
    modules = [m for _path, m in entries]
    data = {"pe": {"params": DEFAULT_PARAMS}}
    digest = hashlib.sha256()
    for inner, module in entries:
        digest.update(inner.encode() + b"\0" + module.text.encode() + b"\0")
    digest.update(json.dumps(data, sort_keys=True).encode())
    rev = revision or _git_revision(root) or f"sha256:{digest.hexdigest()[:16]}"
    manifest: dict[str, object] = {"revision": rev, "roots": roots_for(modules)}
    v0_files = {f"/{inner}": 0 for inner, m in entries if _is_v0(m)}
    if v0_files:
        manifest["file_rego_versions"] = v0_files  # OPA 1.x reads v1 unless told otherwise
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w") as tar:
        _add(tar, ".manifest", json.dumps(manifest, indent=2).encode())
        _add(tar, "data.json", json.dumps(data, indent=2).encode())
        for inner, module in entries:
            _add(tar, inner, module.text.encode("utf-8"))
    from pe_policy.output import write_atomic  # a killed run never leaves half a bundle

    write_atomic(output, buffer.getvalue())
    return BundleSummary(rev, list(manifest["roots"]),  # type: ignore[call-overload]
                         [inner for inner, _m in entries], skipped)


def read_bundle(path: Path) -> tuple[dict[str, object], dict[str, object], dict[str, str]]:
    """(manifest, data, {path: rego text}) of a bundle: for tests and `opa`-less checks."""
    manifest: dict[str, object] = {}
    data: dict[str, object] = {}
    modules: dict[str, str] = {}
    with tarfile.open(path, mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            handle = tar.extractfile(member)
            if handle is None:
                continue
            payload = handle.read().decode("utf-8")
            name = member.name.lstrip("/")
            if name == ".manifest":
                manifest = json.loads(payload)
            elif name == "data.json":
                data = json.loads(payload)
            elif name.endswith(".rego"):
                modules[name] = payload
    return manifest, data, modules
