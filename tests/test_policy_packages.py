"""Python rules: dispatched by the type they declare, and importing helpers from their policy
directory's package (`lib/` modules), in user policy directories as in the built-in pack."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pe_policy.config import resolve_config
from pe_policy.document import Document
from pe_policy.engine.pack import load_ruleset, python_rule_files
from pe_policy.engine.python_rules import (
    PythonRule,
    RuleContext,
    import_policy_module,
    is_rule_file,
    load_python_rules,
    model_types,
    run_python_rule,
)
from pe_policy.loaders import load_text
from pe_policy.models.generic import GenericDocument
from pe_policy.models.workflow import CompositeAction, Workflow
from pe_policy.pipeline import check
from pe_policy.runner import Limits

WORKFLOW = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n"
ACTION = "name: a\nruns:\n  using: composite\n  steps:\n    - run: make\n      shell: bash\n"

TYPED = '''\
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pe_policy.engine.python_rules import Violation, rule
from pe_policy.models.workflow import CompositeAction, Workflow

if TYPE_CHECKING:  # only the first parameter's annotation is resolved at run time
    from pe_policy.engine.python_rules import RuleContext


@rule("ACME-100", severity="low", kinds=["workflow", "action", "generic"], title="Typed")
def typed(workflow: Workflow, ctx: RuleContext) -> Iterator[Violation]:
    assert ctx.document is not None and ctx.document.model is workflow
    yield Violation(f"{type(workflow).__name__} {ctx.document.path} jobs={len(workflow.jobs)}")


@rule("ACME-101", severity="low", kinds=["workflow", "action", "generic"], title="Union")
def union(model: Workflow | CompositeAction, ctx: RuleContext) -> Iterator[str]:
    yield type(model).__name__


@rule("ACME-102", severity="low", kinds=["workflow", "action", "generic"], title="Later")
def later(model: Later, ctx: RuleContext) -> Iterator[str]:
    yield "never: no model is a Later"


class Later:
    """Defined below the rule that names it: resolved when the rule first runs."""
'''

OLD_STYLE = '''\
from __future__ import annotations

from typing import TYPE_CHECKING

from pe_policy.engine.python_rules import rule

if TYPE_CHECKING:
    from pe_policy.document import Document
    from pe_policy.engine.python_rules import RuleContext


@rule("ACME-110", severity="low", kinds=["workflow", "generic"], title="Document, type checking only")
def annotated(doc: Document, ctx: RuleContext):
    assert ctx.document is doc
    yield f"{doc.kind} {doc.path}"


@rule("ACME-111", severity="low", kinds=["workflow", "generic"], title="Not annotated")
def bare(doc, ctx):
    yield f"{doc.kind} {type(doc.model).__name__}"
'''


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return directory


def documents() -> list[Document]:
    return [load_text(WORKFLOW, ".github/workflows/ci.yml", "workflow"),
            load_text(ACTION, "action.yml", "action"),
            Document(kind="generic", path="x.yml", model=GenericDocument({"a": 1}), raw={"a": 1})]


def outcomes(rules: list[PythonRule], rule_id: str) -> list[str]:
    (found,) = [r for r in rules if r.meta.id == rule_id]
    out: list[str] = []
    for doc in documents():
        if found.meta.applies_to(doc.kind):
            out.extend(str(v.message) for v in run_python_rule(found, doc, RuleContext(params={})))
    return out


@pytest.fixture(params=["lazy", "run at once"])
def load(request: pytest.FixtureRequest, tmp_path: Path):
    """Rules of one file, read lazily from source (as `load_ruleset` does) or by running it."""
    def _load(name: str, text: str) -> list[PythonRule]:
        write(tmp_path, {name: text})
        if request.param == "lazy":
            return load_ruleset([tmp_path], python_rules="in-process").python_rules
        return load_python_rules(tmp_path / name, tmp_path)
    return _load


def test_a_typed_rule_gets_only_its_models_as_models(load) -> None:
    rules = load("acme_typed.py", TYPED)
    assert outcomes(rules, "ACME-100") == ["Workflow .github/workflows/ci.yml jobs=1"]
    assert outcomes(rules, "ACME-101") == ["Workflow", "CompositeAction"]
    assert outcomes(rules, "ACME-102") == []


def test_the_document_signature_still_gets_every_document(load) -> None:
    rules = load("acme_old.py", OLD_STYLE)
    assert outcomes(rules, "ACME-110") == ["workflow .github/workflows/ci.yml", "generic x.yml"]
    assert outcomes(rules, "ACME-111") == ["workflow Workflow", "generic GenericDocument"]


def test_model_types_reads_the_first_parameter() -> None:
    def typed(workflow: Workflow, ctx: RuleContext) -> None: ...
    def union(model: Workflow | CompositeAction, ctx: RuleContext) -> None: ...
    def old(doc: Document, ctx: RuleContext) -> None: ...
    def bare(doc, ctx) -> None: ...

    assert model_types(typed) == (Workflow,)
    assert model_types(union) == (Workflow, CompositeAction)
    assert model_types(old) is None and model_types(bare) is None


@pytest.mark.parametrize("annotation", ["list[str]", "Document | Workflow", "'NoSuchModel'"])
def test_an_annotation_that_is_no_model_class_is_a_policy_error(tmp_path: Path,
                                                                annotation: str) -> None:
    source = ("from pe_policy.document import Document\n"
              "from pe_policy.engine.python_rules import rule\n"
              "from pe_policy.models.workflow import Workflow\n\n\n"
              '@rule("ACME-120", severity="low", kinds=["workflow"], title="x")\n'
              f"def wrong(model: {annotation}, ctx):\n    yield 'x'\n")
    write(tmp_path, {"acme_wrong.py": source})
    if annotation.startswith("'"):  # unknown until run: the rule's error, at its first document
        (found,) = load_ruleset([tmp_path], python_rules="in-process").python_rules
        with pytest.raises(TypeError, match="cannot be resolved"):
            list(run_python_rule(found, documents()[0], RuleContext(params={})))
        return
    # described from source: runs when needed
    (found,) = load_ruleset([tmp_path], python_rules="in-process").python_rules
    with pytest.raises(TypeError, match="first parameter must be annotated"):
        list(run_python_rule(found, documents()[0], RuleContext(params={})))
    with pytest.raises(TypeError, match="first parameter must be annotated"):
        load_python_rules(tmp_path / "acme_wrong.py", tmp_path / "elsewhere")  # fails the file


PACKAGE = {
    "workflow/lib/__init__.py": "",
    "workflow/lib/names.py": '''\
        from __future__ import annotations

        from pe_policy.models.workflow import Workflow

        from ...shared.lib.words import shout


        def job_names(workflow: Workflow) -> list[str]:
            return [shout(name) for name in workflow.jobs]
        ''',
    "workflow/lib/broken.py": "raise RuntimeError('a helper nobody imports is never run')\n",
    "workflow/acme_jobs.py": '''\
        from __future__ import annotations

        from pe_policy.engine.python_rules import RuleContext, rule
        from pe_policy.models.workflow import Workflow

        from .lib.names import job_names


        @rule("ACME-130", severity="low", kinds=["workflow"], title="Jobs")
        def jobs(workflow: Workflow, ctx: RuleContext):
            yield ", ".join(job_names(workflow))
        ''',
    "shared/lib/words.py": "def shout(text: str) -> str:\n    return text.upper() + '!'\n",
    "_private.py": "raise RuntimeError('not a rule file')\n",
    "test_acme.py": "raise RuntimeError('not a rule file')\n",
}


def test_rule_files_import_helpers_from_their_policy_package(tmp_path: Path) -> None:
    policy = write(tmp_path / "policy", PACKAGE)
    assert [p.relative_to(policy).as_posix() for p in python_rule_files(policy)] == [
        "workflow/acme_jobs.py"]
    assert not is_rule_file(Path("workflow/lib/names.py")) and is_rule_file(Path("lib.py"))
    (found,) = load_ruleset([policy], python_rules="in-process").python_rules
    doc = documents()[0]
    assert [v.message for v in run_python_rule(found, doc, RuleContext(params={}))] == ["BUILD!"]
    # the helper the rule imported is the module its package holds, loaded once
    names = import_policy_module(policy, "workflow.lib.names")
    assert names.job_names(doc.model) == ["BUILD!"]
    assert load_python_rules(policy / "workflow/acme_jobs.py", policy)[0].check.__module__ == (
        names.__name__.rsplit(".", 2)[0] + ".acme_jobs")


def test_a_rule_file_imported_by_another_keeps_its_own_rules(tmp_path: Path) -> None:
    policy = write(tmp_path / "policy", {
        "acme_base.py": '''\
            from pe_policy.engine.python_rules import rule

            PREFIX = "base"


            @rule("ACME-140", severity="low", kinds=["generic"], title="Base")
            def base(doc, ctx):
                yield PREFIX
            ''',
        "acme_more.py": '''\
            from pe_policy.engine.python_rules import rule

            from .acme_base import PREFIX


            @rule("ACME-141", severity="low", kinds=["generic"], title="More")
            def more(doc, ctx):
                yield PREFIX + " and more"
            ''',
    })
    more = load_python_rules(policy / "acme_more.py", policy)
    base = load_python_rules(policy / "acme_base.py", policy)
    assert [r.meta.id for r in more] == ["ACME-141"] and [r.meta.id for r in base] == ["ACME-140"]


GUARDED = '''\
from __future__ import annotations

from pe_policy.engine.python_rules import RuleContext, rule
from pe_policy.models.workflow import Workflow

from .lib.reading import read

OUTSIDE_FILE = {outside!r}  # a repository's rules see no environment: the path is written in


@rule("ACME-150", severity="high", kinds=["workflow"], title="Outside read")
def outside(workflow: Workflow, ctx: RuleContext):
    yield read(OUTSIDE_FILE)


@rule("ACME-151", severity="low", kinds=["workflow"], title="Inside read")
def inside(workflow: Workflow, ctx: RuleContext):
    assert ctx.document is not None
    yield f"{len(read(str(ctx.repo_root / ctx.document.path)))} characters"
'''


@pytest.mark.parametrize("isolated", [True, False], ids=["worker", "in-process"])
def test_typed_rules_and_their_helpers_run_guarded(tmp_repo: Path, tmp_path_factory: pytest.TempPathFactory,
                                                   isolated: bool) -> None:
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text("canary", encoding="utf-8")
    write(tmp_repo, {
        ".github/workflows/ci.yml": WORKFLOW,
        "policies/workflow/acme_guarded.py": GUARDED.replace("{outside!r}", repr(str(outside))),
        "policies/workflow/lib/reading.py": "def read(path):\n"
                                            "    with open(path, encoding='utf-8') as fh:\n"
                                            "        return fh.read()\n",
        ".pe-policy.yaml": "policies: [policies]\npython_rules: true\n",
    })
    root = tmp_repo.resolve()
    # the repository's rules run in a locked-down worker either way; the rest as the limits say
    limits = Limits(timeout=20, memory_mb=1024) if isolated else Limits(None, None)
    result = check([root], root, config=resolve_config(root), limits=limits)
    errors = {f.properties["failed_rule"]: f.message for f in result.findings
              if f.rule_id == "PE-RULE-ERROR"}
    assert "may not read files outside the repository" in errors["ACME-150"]
    assert [f.message for f in result.findings if f.rule_id == "ACME-151"] == [
        f"{len(WORKFLOW)} characters"]
