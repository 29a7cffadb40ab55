"""Rego modules read from the engine's parse tree; rule IDs defined once; the repository's own
rules in `rules` and `explain`; a module regorus rejects and OPA accepts.

Reading: package, rules (their names, kinds and lines), v0/v1 and the `# METADATA`
annotations all come from regorus's syntax tree (engine/rego_ast.py), never from a pattern
over the text, and the annotations are grouped and attached as OPA does (the reference
test asks the real `opa parse`).
"""

from __future__ import annotations

import datetime
import json
import os
import textwrap
from pathlib import Path

import pytest

from pe_policy.cache_dir import CACHE_ENV
from pe_policy.engine import rego_ast
from pe_policy.engine.rego import PolicyError, RegoSyntaxError, parse_module
from tests.conftest import REPO, line_of, run_cli
from tests.reference_tools import run_tool

WORKFLOW = """\
name: ci
on: push
permissions: {}
jobs:
  build:
    name: ci
    runs-on: ubuntu-latest
    steps:
      - run: make test
"""


def module(text: str, path: str = "p.rego"):  # type: ignore[no-untyped-def]
    return parse_module(path, textwrap.dedent(text))


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def policy_repo(root: Path, policies: dict[str, str]) -> Path:
    """A repository with one workflow and its own policies in `policy/` (`.pe-policy.yaml`)."""
    write(root, ".github/workflows/ci.yml", WORKFLOW)
    write(root, ".pe-policy.yaml", "policies: [policy]\npython_rules: true\n")
    for name, text in policies.items():
        write(root, f"policy/{name}", text)
    return root


def check_json(root: Path, *args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    result = run_cli(["check", str(root), "--format", "json", *args], cwd=root)
    return result.exit_code, json.loads(result.stdout) if result.stdout else {}, result.stderr


def messages(report: dict, rule_id: str) -> list[str]:  # type: ignore[type-arg]
    return sorted(f["message"] for f in report["findings"] if f["rule_id"] == rule_id)


def header(rule_id: str, package: str = "acme.ci") -> str:
    return (f"# METADATA\n# title: {rule_id} check\n# custom:\n#   id: {rule_id}\n"
            f"#   severity: medium\n#   kinds: [workflow]\npackage {package}\n\nimport rego.v1\n\n")


# ---------------------------------------------------------------- rules, from the parse tree


def test_a_rule_indented_by_one_space_is_a_rule_and_gives_its_finding(tmp_repo: Path) -> None:
    text = header("ACME-100") + ' deny contains "indented rule ran" if input.jobs.build\n'
    assert module(text).result_rules == ("deny",)
    code, report, _ = check_json(policy_repo(tmp_repo, {"indented.rego": text}))
    assert code == 1
    assert messages(report, "ACME-100") == ["indented rule ran"]


def test_a_raw_string_line_that_reads_like_a_rule_is_not_one(tmp_repo: Path) -> None:
    text = header("ACME-101") + textwrap.dedent("""\
        help := `
        deny_x := 1
        deny contains "not a rule either" if true
        `

        deny contains help if input.jobs.build
        """)
    parsed = module(text)
    assert parsed.result_rules == ("deny",)
    assert set(parsed.rule_lines) == {"help", "deny"}
    code, report, _ = check_json(policy_repo(tmp_repo, {"raw.rego": text}))
    assert code == 1
    assert messages(report, "ACME-101") == ["\ndeny_x := 1\ndeny contains \"not a rule either\" if true\n"]
    assert report["errors"] == []


def test_rule_kinds_lines_and_which_rules_give_findings() -> None:
    parsed = module("""\
        package kinds

        import rego.v1

        default allow := false
        deny contains "a" if input.a
        deny_value := 1
        warn_f(x) := x
        violation[x] := 1 if some x in input.b
        test_ok if true
        """)
    assert [(h.name, h.kind, h.line) for h in parsed.rules] == [
        ("allow", "default", 5), ("deny", "multi-value", 6), ("deny_value", "single-value", 7),
        ("warn_f", "function", 8), ("violation", "single-value", 9), ("test_ok", "single-value", 10)]
    assert parsed.result_rules == ("deny", "deny_value", "violation")  # a function gives none
    assert parsed.test_rules == ("test_ok",)
    assert parsed.rule_lines["deny"] == 6 and parsed.rule_lines["allow"] == 5


@pytest.mark.parametrize(("declared", "package"), [
    ("acme.ci", "acme.ci"),
    ('acme.ci["deploy-rules"]', 'acme.ci["deploy-rules"]'),
    ('acme["ci"].deploy', "acme.ci.deploy"),  # a key that can be a name is written as one
    ('acme["if"]', 'acme["if"]'),  # a keyword cannot
])
def test_package_paths_dotted_and_quoted(declared: str, package: str) -> None:
    assert module(f"package {declared}\n\nimport rego.v1\n\ndeny contains 1 if false\n").package \
        == package


def test_a_quoted_key_package_is_evaluated(tmp_repo: Path) -> None:
    text = header("ACME-102", 'acme.ci["deploy-rules"]') + 'deny contains "quoted ran" if true\n'
    code, report, _ = check_json(policy_repo(tmp_repo, {"quoted.rego": text}))
    assert code == 1
    assert messages(report, "ACME-102") == ["quoted ran"]
    assert report["errors"] == []


# ---------------------------------------------------------------- v0 and v1


@pytest.mark.parametrize(("text", "v0"), [
    ("package m\n\ndeny[msg] {\n\tmsg := \"v0\"\n}\n", True),
    ("package m\n\nimport rego.v1\n\ndeny contains \"v1\" if true\n", True),  # as it always was
    ("package m\n\ndeny contains \"v1\" if true\n", False),
    ("package m\n\ntest_x if {\n\ttrue\n}\n", False),  # regorus's v0 parser: rules test_x, `if`
    ("package m\n\nlimit := 3\n", True),  # reads the same either way
    ("package m\n\nimport future.keywords.if\n\np if { true }\n", True),
])
def test_v0_and_v1_modules(text: str, v0: bool) -> None:
    parsed = module(text)
    assert parsed.v0 is v0
    assert "if" not in parsed.rule_lines


def test_v0_and_v1_user_modules_both_give_findings(tmp_repo: Path) -> None:
    v0 = ("# METADATA\n# custom:\n#   id: ACME-103\npackage acme.v0\n\n"
          "deny[msg] {\n\tinput.jobs.build\n\tmsg := \"v0 ran\"\n}\n")
    v1 = ("# METADATA\n# custom:\n#   id: ACME-104\npackage acme.v1\n\n"
          "deny contains \"v1 ran\" if input.jobs.build\n")
    code, report, _ = check_json(policy_repo(tmp_repo, {"old.rego": v0, "new.rego": v1}))
    assert code == 1
    assert messages(report, "ACME-103") == ["v0 ran"]
    assert messages(report, "ACME-104") == ["v1 ran"]


def test_the_v0_parse_prints_nothing(capfd: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """regorus's v0 parser warns on stderr about every v1 keyword it meets."""
    monkeypatch.setenv(CACHE_ENV, "")  # parsed, not read from the cache
    module("package quiet\n\ndeny contains msg if {\n\tsome x in input\n\tmsg := x\n}\n")
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize(("text", "line", "column"), [
    ("package broken\n\nimport rego.v1\n\ndeny contains msg if {\n\tmsg := \n}\n", 6, 9),
    ("package broken\n\ndeny contains msg if {\n\tmsg := \n}\n", 4, 9),  # v1, no import
    ("package broken\n\np {\n\tx := [1,\n}\n", 3, 3),  # v0: its `{` is never closed
])
def test_a_syntax_error_names_file_line_and_column(text: str, line: int, column: int) -> None:
    """regorus's error, at its place (the v0 one for a v0 module, not v1's "`if` required")."""
    with pytest.raises(RegoSyntaxError) as caught:
        module(text, "policy/broken.rego")
    assert (caught.value.path, caught.value.line, caught.value.column) == (
        "policy/broken.rego", line, column)
    assert str(caught.value).startswith(f"policy/broken.rego:{line}:{column}: ")
    assert "`if` keyword is required" not in caught.value.message


# ---------------------------------------------------------------- METADATA


ANNOTATED = """\
# METADATA
# title: CI rules
# custom:
#   id: ACME-200
#   kinds: [workflow]
package acme.annotated

import rego.v1

deny contains "package-scope ID" if true

deny_second contains "same ID" if true

# METADATA
# title: Its own
# custom:
#   id: ACME-201
#   severity: low

# a plain comment between the annotation and its rule
warn_own contains "own ID" if true

# METADATA
# scope: document
# description: every definition of deny_doc
# custom:
#   id: ACME-202
deny_doc contains 1 if input.a

deny_doc contains 2 if input.b
"""


def test_metadata_on_package_and_rule_scope() -> None:
    parsed = module(ANNOTATED)
    notes = [(n.scope, n.rule, n.line) for n in parsed.annotations]
    assert notes == [("package", None, 1), ("rule", "warn_own", 14), ("document", "deny_doc", 23)]
    ids = {rule: parsed.meta_for(rule).id for rule in parsed.result_rules}  # type: ignore[union-attr]
    assert ids == {"deny": "ACME-200", "deny_second": "ACME-200", "warn_own": "ACME-201",
                   "deny_doc": "ACME-202"}
    own = parsed.meta_for("warn_own")
    assert own is not None and own.title == "Its own" and own.severity.value == "low"
    assert own.kinds == ("workflow",)  # from the package's annotation
    assert parsed.kinds == ("workflow",)


def test_annotations_are_grouped_and_attached_as_opa_does(tmp_path: Path) -> None:
    """The real `opa parse` reads the same annotations, at the same lines, with the same data."""
    text = textwrap.dedent("""\
        # A licence header, not an annotation
        # METADATA
        # title: pkg
        package acme.reference

        import rego.v1

        # METADATA
        # title: first

        # METADATA
        # title: second
        #   still part of the title
        # METADATA
        # title: third, a block of its own
        deny contains 1 if true

        # METADATA
        # entrypoint: true
        allow if true

        x := `
        # METADATA
        # title: inside a string
        `

        # METADATA
        # description: |
        #   kept as written,
        #   last line break included
         indented_rule := 1
        """)
    path = write(tmp_path, "reference.rego", text)
    parsed = parse_module(path.name, text)
    opa = run_tool("opa", "parse", "--format", "json", "--json-include", "locations",
                   str(path))
    assert opa.returncode == 0, opa.stderr
    theirs = sorted(
        (a["scope"], a["location"]["row"],
         {k: v for k, v in a.items() if k not in ("scope", "location")})
        for a in json.loads(opa.stdout)["annotations"])
    ours = sorted((n.scope, n.line, {k: v for k, v in n.data.items() if k != "scope"})
                  for n in parsed.annotations)
    assert ours == theirs
    assert [(n.rule, n.line) for n in parsed.annotations if n.rule] == [
        ("deny", 8), ("deny", 11), ("deny", 14), ("allow", 18), ("indented_rule", 27)]


@pytest.mark.parametrize(("text", "message"), [
    ("package p\n\n# METADATA\n# title: x\nimport rego.v1\n", "above an import"),
    ("package p\n\nimport rego.v1\n\n# METADATA\n# title: dangling\n", "nothing after it"),
    ("# METADATA\n# scope: rule\npackage p\n", "scope 'rule' above a package"),
    ("package p\n\n# METADATA\n# scope: package\np := 1\n", "scope 'package' above a rule"),
    ("package p\n\n# METADATA\n# title: [unclosed\np := 1\n", "invalid METADATA annotation"),
    ("package p\n\n# METADATA\n# - a list\np := 1\n", "must be a YAML mapping"),
])
def test_misplaced_or_invalid_annotations_are_errors_at_their_line(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        module(text, "m.rego")
    assert message in caught.value.message
    assert caught.value.line == line_of_text(text, "# METADATA")


def line_of_text(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_the_built_in_pack_reads_as_before() -> None:
    """Every built-in policy: its rules and IDs, read from the parse tree."""
    from pe_policy.engine.pack import builtin_policy_dir, load_ruleset

    ruleset = load_ruleset([builtin_policy_dir()], include_tests=True)
    assert not ruleset.unreadable
    for m in ruleset.rego_modules:
        if m.is_test:
            assert m.test_rules and not m.result_rules, m.path
        elif m.result_rules:
            assert all(m.meta_for(rule) is not None for rule in m.result_rules), m.path
    assert "PE-WF-002" in ruleset.catalog


# ---------------------------------------------------------------- the outline cache


def test_outlines_are_cached_by_content(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    text = ANNOTATED
    first = module(text)
    assert len(list((tmp_path / "rego").glob("*.json"))) == 1

    def no_parsing(path: str, text: str) -> None:
        raise AssertionError("read from the cache, not parsed")

    monkeypatch.setattr(rego_ast, "_parse", no_parsing)
    again = module(text, "elsewhere.rego")  # the path is not part of the outline
    assert (again.package, again.v0, again.result_rules, again.rules, again.annotations) == (
        first.package, first.v0, first.result_rules, first.rules, first.annotations)
    with pytest.raises(AssertionError, match="not parsed"):
        module(text + "\n# changed\n")


def test_a_damaged_cache_entry_is_read_again(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    first = module(ANNOTATED)
    (entry,) = (tmp_path / "rego").glob("*.json")
    entry.write_text('{"package": 1', encoding="utf-8")
    assert module(ANNOTATED).annotations == first.annotations
    assert json.loads(entry.read_text(encoding="utf-8"))["package"] == "acme.annotated"


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="no file ownership on this platform")
def test_an_entry_others_may_write_is_not_read(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    """An outline decides which rules a module has (and how its negations are rewritten for
    regorus): one that someone else could have written is parsed again, and rewritten ours."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    first = module(ANNOTATED)
    (entry,) = (tmp_path / "rego").glob("*.json")
    assert entry.stat().st_mode & 0o777 == 0o600
    forged = json.loads(entry.read_text(encoding="utf-8"))
    forged["rules"] = []  # a module without rules: nothing it would report
    entry.write_text(json.dumps(forged), encoding="utf-8")
    entry.chmod(0o666)
    assert module(ANNOTATED).result_rules == first.result_rules != ()
    assert entry.stat().st_mode & 0o777 == 0o600
    entry.chmod(0o600)  # ours again, as the forger left it: now it is read
    entry.write_text(json.dumps(forged), encoding="utf-8")
    assert module(ANNOTATED).result_rules == ()


def test_metadata_is_read_once_per_content_and_a_value_json_cannot_carry_every_time(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The cache keeps each METADATA block read as YAML when JSON carries it unchanged, so a
    later run reads no YAML; a block with a date (YAML's, not JSON's) is read from its text
    on every run, as it always was, and gives the same annotation."""
    import yaml

    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    dated = ANNOTATED.replace("# title: CI rules", "# title: CI rules\n# custom_date: 2024-05-01")
    fresh = [module(ANNOTATED).annotations, module(dated).annotations]
    assert fresh[1][0].data["custom_date"] == datetime.date(2024, 5, 1)
    reads: list[str] = []
    real_load = yaml.load
    monkeypatch.setattr(yaml, "load", lambda text, **kw: reads.append(text) or real_load(text, **kw))
    assert [module(ANNOTATED).annotations, module(dated).annotations] == fresh  # cached outlines
    assert reads == [rego_ast.known_outline("p.rego", textwrap.dedent(dated)).blocks[0].text]


def test_an_empty_cache_setting_turns_the_cache_off(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, "")
    monkeypatch.chdir(tmp_path)
    module(ANNOTATED)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- one rule, one ID


REDEFINED_IN_REGO = header("PE-WF-002") + 'deny contains "mine" if true\n'
REDEFINED_IN_PYTHON = '''\
from pe_policy.engine.python_rules import rule


@rule("PE-WF-002", severity="low", kinds=["workflow"], title="Pinned, my way")
def pinned(doc, ctx):
    return []
'''


@pytest.mark.parametrize(("name", "text"), [("pinned.rego", REDEFINED_IN_REGO),
                                            ("pinned.py", REDEFINED_IN_PYTHON)])
def test_a_user_rule_redefining_a_built_in_id_is_an_error_naming_both(
        tmp_repo: Path, name: str, text: str) -> None:
    root = policy_repo(tmp_repo, {name: text})
    result = run_cli(["check", str(root)], cwd=root)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert f"policy/{name}" in result.stderr
    assert "policies/workflow/pe_wf_002_pinned_actions.rego" in result.stderr
    assert "rule ID PE-WF-002 is defined twice" in result.stderr
    assert run_cli(["rules"], cwd=root).exit_code == 2


def test_two_user_files_with_one_id_is_an_error(tmp_repo: Path) -> None:
    root = policy_repo(tmp_repo, {
        "a.rego": header("ACME-300", "acme.a") + 'deny contains "a" if true\n',
        "b.rego": header("ACME-300", "acme.b") + 'deny contains "b" if true\n'})
    code, _, stderr = check_json(root)
    assert code == 2
    assert "policy/b.rego:1: rule ID ACME-300 is defined twice: here and in policy/a.rego:1" \
        in stderr


def test_two_python_rules_with_one_id_in_one_file_is_an_error(tmp_repo: Path) -> None:
    twice = REDEFINED_IN_PYTHON.replace("PE-WF-002", "ACME-301") + (
        '\n\n@rule("ACME-301", severity="low", kinds=["workflow"], title="Again")\n'
        "def again(doc, ctx):\n    return []\n")
    code, _, stderr = check_json(policy_repo(tmp_repo, {"twice.py": twice}))
    assert code == 2
    assert "rule ID ACME-301 is defined twice: here and in policy/twice.py" in stderr


def test_pe_policys_own_ids_are_taken(tmp_repo: Path) -> None:
    code, _, stderr = check_json(policy_repo(tmp_repo, {
        "parse.rego": header("PE-PARSE") + 'deny contains "x" if true\n'}))
    assert code == 2
    assert "rule ID PE-PARSE is one of pe-policy's own" in stderr


def test_rules_of_one_module_share_its_package_id(tmp_repo: Path) -> None:
    """`deny` and `deny_x` under the package's annotation are one rule, not a duplicate."""
    text = header("ACME-302") + ('deny contains "from deny" if true\n\n'
                                 'deny_x contains "from deny_x" if true\n')
    code, report, _ = check_json(policy_repo(tmp_repo, {"shared.rego": text}))
    assert code == 1
    assert messages(report, "ACME-302") == ["from deny", "from deny_x"]


# ---------------------------------------------------------------- rules and explain


USER_RULE = """\
# METADATA
# title: Jobs name their owner
# description: Every job says which team owns it.
# custom:
#   id: ACME-400
#   severity: low
#   kinds: [workflow]
#   remediation: Add `env.OWNER` to the job.
package acme.owner

import rego.v1

deny contains "no owner" if false
"""
CONFTEST_STYLE = "package main\n\nimport rego.v1\n\nwarn contains \"plain\" if false\n"


def test_rules_and_explain_include_the_configured_policies(tmp_repo: Path) -> None:
    root = policy_repo(tmp_repo, {"owner.rego": USER_RULE, "plain.rego": CONFTEST_STYLE})
    listed = {r["id"]: r for r in json.loads(
        run_cli(["rules", "--format", "json"], cwd=root / ".github").stdout)}  # as check: the
    assert listed["ACME-400"]["title"] == "Jobs name their owner"  # repository around the cwd
    assert listed["ACME-400"]["severity"] == "low"
    assert listed["main.warn"]["severity"] == "low"  # the ID its findings carry
    assert "PE-WF-002" in listed
    assert "ACME-400" in run_cli(["rules"], cwd=root).stdout
    explained = run_cli(["explain", "ACME-400"], cwd=root)
    assert explained.exit_code == 0
    assert "ACME-400: Jobs name their owner" in explained.stdout
    assert "How to fix: Add `env.OWNER` to the job." in explained.stdout
    assert "defined in: policy/owner.rego" in explained.stdout
    assert run_cli(["explain", "main.warn"], cwd=root).exit_code == 0


def test_rules_and_explain_take_root_and_config(tmp_repo: Path, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    root = policy_repo(tmp_repo, {"owner.rego": USER_RULE})
    (root / ".pe-policy.yaml").rename(root / "custom.yaml")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    assert "ACME-400" not in run_cli(["rules", "--root", str(root)], cwd=elsewhere).stdout
    args = ["--root", str(root), "--config", str(root / "custom.yaml")]
    assert "ACME-400" in run_cli(["rules", *args], cwd=elsewhere).stdout
    assert run_cli(["explain", "ACME-400", *args], cwd=elsewhere).exit_code == 0
    bad = write(root, "bad.yaml", "policies: [nowhere]\n")
    result = run_cli(["rules", "--root", str(root), "--config", str(bad)], cwd=elsewhere)
    assert result.exit_code == 2 and "invalid configuration" in result.stderr


def test_rules_lists_the_rest_when_a_module_cannot_be_read(tmp_repo: Path) -> None:
    root = policy_repo(tmp_repo, {"owner.rego": USER_RULE,
                                  "broken.rego": "package broken\n\np if {\n"})
    result = run_cli(["rules"], cwd=root)
    assert result.exit_code == 0
    assert "ACME-400" in result.stdout
    assert "warning: policy error: policy/broken.rego:4:1" in result.stderr


# ---------------------------------------------------------------- accepted by OPA, not regorus


SHADOWED = """\
# METADATA
# title: No job named like its workflow
# custom:
#   id: ACME-500
#   severity: low
#   kinds: [workflow]
package acme.shadow

import rego.v1

# Inside the comprehension `name` is a variable of its own (OPA's scoping, as in conftest's
# examples/combine policy); regorus takes it for the outer one, used before it is defined.
deny contains msg if {
	name := input.name
	names := [name | some job in input.jobs; job.name == name; name := job.name]
	count(names) > 0
	msg := sprintf("a job is named like the workflow (%s)", [name])
}
"""
FINE = header("ACME-501") + 'deny contains "still evaluated" if input.jobs.build\n'


def test_a_module_opa_accepts_and_regorus_rejects_is_named_with_the_opa_hint(
        tmp_repo: Path) -> None:
    root = policy_repo(tmp_repo, {"shadow.rego": SHADOWED, "fine.rego": FINE})
    opa = run_tool("opa", "check", str(root / "policy" / "shadow.rego"))
    assert opa.returncode == 0, opa.stderr  # the real OPA accepts it
    code, report, _ = check_json(root)
    assert code == 2
    (error,) = [e for e in report["errors"] if e["path"] == "policy/shadow.rego"]
    line = line_of(root / "policy" / "shadow.rego", "names := [name |")
    assert f"policy/shadow.rego:{line}:" in error["message"]
    assert "used before definition" in error["message"]  # regorus's own words
    assert "regorus (the embedded engine) rejects this module" in error["message"]
    assert "--engine opa --opa-url" in error["message"]
    assert messages(report, "ACME-501") == ["still evaluated"]  # every other module still runs
    assert not [f for f in report["findings"] if f["rule_id"] == "PE-RULE-ERROR"]


def test_the_hinted_engine_evaluates_it(tmp_repo: Path, opa_url: str) -> None:
    root = policy_repo(tmp_repo, {"shadow.rego": SHADOWED, "fine.rego": FINE})
    code, report, stderr = check_json(root, "--engine", "opa", "--opa-url", opa_url)
    assert report["errors"] == [], stderr
    assert code == 1
    assert messages(report, "ACME-500") == ["a job is named like the workflow (ci)"]
    assert messages(report, "ACME-501") == ["still evaluated"]


def test_conftest_style_test_stops_on_it_with_the_hint(tmp_repo: Path) -> None:
    root = policy_repo(tmp_repo, {"shadow.rego": SHADOWED})
    result = run_cli(["test", ".github/workflows/ci.yml", "--policy", "policy",
                      "--namespace", "acme.shadow"], cwd=root)
    assert result.exit_code == 1  # conftest's code for an error
    assert "used before definition" in result.stderr and "--engine opa" in result.stderr


def test_no_hint_for_other_policy_errors(tmp_repo: Path) -> None:
    code, report, _ = check_json(policy_repo(tmp_repo, {
        "broken.rego": "package broken\n\nimport rego.v1\n\np if {\n"}))
    assert code == 2
    (error,) = report["errors"]
    assert "Hint" not in error["message"]  # regorus cannot read it: OPA's engine would not
    assert error["message"].startswith("policy/broken.rego:6:1: ")  # evaluate it either


def test_the_repository_itself_is_unaffected() -> None:
    """No `.pe-policy.yaml` at this repository's root: `rules` lists the built-in pack."""
    assert not (REPO / ".pe-policy.yaml").exists()
    listed = json.loads(run_cli(["rules", "--format", "json"], cwd=REPO).stdout)
    assert all(not r["id"].startswith("ACME-") for r in listed)
