"""`pe-policy bundle`: an OPA bundle read back and evaluated with regorus."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import regorus

from pe_policy.config import DEFAULT_PARAMS
from pe_policy.engine.bundle import read_bundle
from pe_policy.engine.pack import builtin_policy_dir, policy_files, python_rule_files
from pe_policy.engine.rego import parse_module
from tests.conftest import REPO, run_cli


def test_bundle_holds_manifest_data_and_modules(tmp_path: Path) -> None:
    out = tmp_path / "bundle.tar.gz"
    result = run_cli(["bundle", "-o", str(out), "--revision", "test-rev"], cwd=REPO)
    assert result.exit_code == 0, result.stderr
    manifest, data, modules = read_bundle(out)
    assert manifest["revision"] == "test-rev"
    assert data == {"pe": {"params": json.loads(json.dumps(DEFAULT_PARAMS))}}
    packages = {parse_module(p, t).package for p, t in modules.items()}
    roots = manifest["roots"]
    assert isinstance(roots, list) and "pe" in roots and "main" in roots and "destroy" in roots
    assert all(any(pkg == r or pkg.startswith(r + ".") for r in roots) for pkg in packages)
    assert "infra/policy/main.rego" in modules
    assert not any(p.endswith("_test.rego") for p in modules)
    builtin_rego = [f for f in policy_files(builtin_policy_dir(), ".rego")
                    if not f.name.endswith("_test.rego")]
    assert len([p for p in modules if p.startswith("pe-policy/")]) == len(builtin_rego)
    python_rules = python_rule_files(builtin_policy_dir())
    assert python_rules
    for rule_file in python_rules:
        assert f"{rule_file.name}: Python rules cannot go into an OPA bundle" in result.stderr
    assert "lib/checks.py" not in result.stderr  # a helper the rules import, not a rule file
    with tarfile.open(out, "r:gz") as tar:
        assert {m.name for m in tar.getmembers()} >= {".manifest", "data.json"}


def test_bundle_evaluates_like_the_policies(tmp_path: Path) -> None:
    out = tmp_path / "bundle.tar.gz"
    assert run_cli(["bundle", "-o", str(out)], cwd=REPO).exit_code == 0
    _manifest, data, modules = read_bundle(out)
    engine = regorus.Engine()
    for path, text in sorted(modules.items()):
        if path.startswith("infra/"):
            engine.set_rego_v0(parse_module(path, text).v0)
            engine.add_policy(path, text)
    engine.add_data_json(json.dumps(data))
    plan = (REPO / "infra/fixtures/bad/tfplan.json").read_text(encoding="utf-8")
    engine.set_input_json(plan)
    ssh = json.loads(engine.eval_rule_as_json("data.main.deny_open_admin_port"))
    assert [r["path"] for r in ssh] == [["resource_changes", 3, "change", "after", "ingress", 1]]
    cli = run_cli(["test", "infra/fixtures/bad/tfplan.json", "-p", "infra/policy", "-o", "json"],
                  cwd=REPO)
    failures = json.loads(cli.stdout)[0]["failures"]
    assert ssh[0]["msg"] in {f["msg"] for f in failures}


def test_bundle_is_reproducible(tmp_path: Path) -> None:
    a, b = tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"
    for out in (a, b):
        assert run_cli(["bundle", "-o", str(out), "--revision", "r1"], cwd=REPO).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
