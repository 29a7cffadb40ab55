"""Repository-level rules: judging all of a repository's documents of a kind at once.

Some verdicts belong to a repository, not to a file: a pipeline whose lint, test and
security jobs live in `lint.yml`, `test.yml` and `codeql.yml` has all its stages, though no
one file does.  A Rego module that defines `document_facts` (evaluate.FACTS_RULE) is such a
rule.  It runs in two steps:

1. with each document's other rules (same batch, same worker), its `document_facts` is
   evaluated on the document: what the rule needs of it (a few small values), kept on the
   document and sent back with its findings;
2. once the inputs are judged, its result rules are evaluated once per repository, with
   `input` = `[{"path": ..., "facts": ...}, ...]`: every document of the repository, the
   run's inputs and, read on demand, the repository's other files of the kind (so a
   pre-commit run given one workflow gets the verdict of a whole-repository run).  Each
   finding names its document in `file` (without one, it goes to the repository's first
   input); only findings on the run's inputs are reported.

So the cost is one small evaluation per repository, whatever its size, and no document is
loaded twice.  The Rego rules see the same input shape as conftest's `--combine`
(`[{"path": ..., "contents": ...}]`) and may compute the facts from `contents` themselves,
so the bundle works unchanged in OPA and conftest.

Which documents form a repository is a property of the kind (`GROUPS`): workflows are the
files of one `.github/workflows` directory; a workflow anywhere else is a repository of one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pe_policy.document import CheckedFile
from pe_policy.engine.evaluate import Evaluator, finding_for, rule_error
from pe_policy.findings import Finding

if TYPE_CHECKING:
    from pe_policy.document import Document
    from pe_policy.engine.rego import RegoModule
    from pe_policy.runner import RunDocuments

WORKFLOW_DIRECTORY = (".github", "workflows")
WORKFLOW_SUFFIXES = (".yml", ".yaml")


def workflow_group(path: str) -> str:
    """The `.github/workflows` directory the workflow is in, or the file itself."""
    parent = PurePosixPath(path).parent
    return parent.as_posix() if tuple(part.lower() for part in parent.parts[-2:]) == WORKFLOW_DIRECTORY else path


def workflow_members(group: str, root: Path | None) -> list[str]:
    """The workflow files of a `.github/workflows` directory (never outside the root)."""
    if root is None or PurePosixPath(group).suffix in WORKFLOW_SUFFIXES:
        return []
    from pe_policy.discover import inside_root

    directory = inside_root(root, group)
    if directory is None or not directory.is_dir():
        return []
    return sorted(f"{group}/{entry.name}" for entry in directory.iterdir()
                  if entry.suffix in WORKFLOW_SUFFIXES and entry.is_file())


# kind -> (the repository a document belongs to, that repository's files on disk)
GROUPS: dict[str, tuple[Callable[[str], str], Callable[[str, Path | None], list[str]]]] = {
    "workflow": (workflow_group, workflow_members),
}


def _group_of(kind: str, path: str) -> str:
    grouping = GROUPS.get(kind)
    return grouping[0](path) if grouping is not None else path


def has_repository_rules(evaluator: Evaluator, kinds: set[str]) -> bool:
    return any(evaluator.repository_modules(kind) for kind in kinds)


def repository_findings(evaluator: Evaluator, documents: RunDocuments,
                        files: dict[int, CheckedFile]) -> dict[int, list[Finding]]:
    """The findings of the repository-level rules, by input number (see the module doc).

    `files` are the judged inputs with their facts.  A rule that fails is a PE-RULE-ERROR
    on every input of the repository it failed on.
    """
    inputs = documents.inputs
    groups: dict[tuple[str, str], list[int]] = {}
    for number, checked in sorted(files.items()):
        if checked.facts and evaluator.repository_modules(checked.kind):
            groups.setdefault((checked.kind, _group_of(checked.kind, checked.path)),
                              []).append(number)
    out: dict[int, list[Finding]] = {}
    for (kind, group), numbers in groups.items():
        modules = evaluator.repository_modules(kind)
        facts: dict[str, dict[str, Any]] = {inputs[n].path: files[n].facts for n in numbers}
        grouping = GROUPS.get(kind)
        members = grouping[1](group, documents.root) if grouping else []
        facts.update(_others_facts(evaluator, documents, modules, kind, group,
                                   [path for path in members if path not in facts]))
        by_path = {inputs[n].path: n for n in numbers}
        for module in modules:
            _judge(evaluator, module, facts, by_path, documents, out)
    return out


def _others_facts(evaluator: Evaluator, documents: RunDocuments, modules: list[RegoModule],
                  kind: str, group: str, paths: list[str]) -> dict[str, dict[str, Any]]:
    """The facts of the repository's files that are not inputs: kept from an earlier run
    for a file whose text has not changed (engine/facts_cache.py), else loaded and evaluated
    (and kept).  A file that cannot be read, is not of the kind or does not load is left out
    (the repository is judged without it, as without a file that does not exist)."""
    from pe_policy.engine.facts_cache import FactsCache

    if not paths or documents.root is None:
        return {}
    cache = FactsCache.for_group(((m.path, m.text) for m in evaluator.ruleset.rego_modules),
                                 evaluator.data, documents.root, kind, group)
    found: dict[str, dict[str, Any]] = {}
    texts: dict[str, str] = {}
    pending: list[Document] = []
    for path in paths:
        read = documents.read_other(path)
        if read is None or read[1] != kind:
            continue
        kept = cache.get(path, read[2])
        if kept is not None:
            found[path] = kept
            continue
        other = documents.load_other(path, *read)
        if other is not None and other.kind == kind:
            texts[path] = read[2]
            pending.append(other)
    evaluator.document_facts(pending, modules)
    for other in pending:
        found[other.path] = other.facts
        if all(m.package in other.facts for m in modules):  # complete: worth keeping
            cache.put(other.path, texts[other.path], other.facts)
    cache.save(paths)
    return found


def _judge(evaluator: Evaluator, module: RegoModule, facts: dict[str, dict[str, Any]],
           by_path: dict[str, int], documents: RunDocuments,
           out: dict[int, list[Finding]]) -> None:
    items = [{"path": path, "facts": found[module.package]}
             for path, found in sorted(facts.items()) if module.package in found]
    if not items:
        return
    try:
        verdicts = evaluator.judge_repository(module, items)
    except Exception as exc:
        for number in by_path.values():
            item = documents.inputs[number]
            target = documents.get(number) or CheckedFile(item.path, item.kind)
            for rule_name in module.result_rules:
                meta = evaluator.rule_meta(module, rule_name)
                out.setdefault(number, []).append(rule_error(
                    target, meta.id, module.path, f"{type(exc).__name__}: {exc}", meta.severity))
        return
    for meta, violation in verdicts:
        properties = dict(violation.properties or {})
        file = properties.pop("file", None)
        # a finding without `file` is about the repository: on its first input
        reported = by_path.get(str(file)) if file else by_path[min(by_path)]
        if reported is None:
            continue  # a file of the repository the run does not report on
        doc = documents.get(reported)
        if doc is None:
            continue
        out.setdefault(reported, []).append(
            finding_for(meta, doc, violation._replace(properties=properties or None)))
