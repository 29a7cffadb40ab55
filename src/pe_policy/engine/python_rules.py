"""Python rules: a decorator that registers a function with its metadata.

    @rule("PE-WF-001", severity="high", kinds=["workflow"], title="...")
    def least_privilege(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
        yield Violation("job 'deploy' has no permissions", ("jobs", "deploy"))

A rule yields `Violation`s naming the JSON path of the offending node; the
engine turns that path into a file and line.  Rules never read files or the
network: what they may see is the document, the other loaded documents and
`ctx`.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from pe_policy.catalog import RuleMeta
from pe_policy.document import Document, LazyDocuments
from pe_policy.findings import JsonPath, Severity


class Violation(NamedTuple):
    message: str
    path: JsonPath = ()
    severity: Severity | None = None  # override the rule's default for this one finding
    document: Document | None = None  # for cross-document rules: the file the finding is in
    properties: Mapping[str, Any] | None = None
    snippet: str | None = None  # text inside the node to point at (a line of a `run:` block)


@dataclass
class RuleContext:
    """What a rule may look at besides its document."""

    params: Mapping[str, Any]
    documents: Sequence[Document] = ()
    repo_root: Path | None = None
    _paths: frozenset[str] | None = field(default=None, repr=False)

    def documents_of(self, kind: str) -> list[Document]:
        return [d for d in self.documents if d.kind == kind]

    def document_at(self, path: str) -> Document | None:
        if isinstance(self.documents, LazyDocuments):  # a lane's worker: load just that file
            return self.documents.at(path)
        for doc in self.documents:
            if doc.path == path:
                return doc
        return None

    def file_exists(self, path: str) -> bool:
        """Whether `path` (relative to the repository root) exists inside the repository.

        Paths that escape the root (`..`, absolute) are never looked at.
        """
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts or self.repo_root is None:
            return False
        return (self.repo_root / pure).is_file()


RuleFunction = Callable[[Document, RuleContext], Iterable[Violation]]


@dataclass(frozen=True)
class PythonRule:
    meta: RuleMeta
    check: RuleFunction


_registered: list[PythonRule] = []


def rule(
    rule_id: str,
    *,
    severity: str | Severity,
    kinds: Iterable[str],
    title: str,
    description: str = "",
    remediation: str = "",
    source: str = "",
    help_uri: str = "",
) -> Callable[[RuleFunction], RuleFunction]:
    def register(func: RuleFunction) -> RuleFunction:
        meta = RuleMeta(
            id=rule_id,
            title=title,
            severity=Severity.parse(severity),
            kinds=tuple(kinds),
            description=description or (func.__doc__ or "").strip(),
            remediation=remediation,
            source=source,
            engine="python",
            origin=func.__code__.co_filename if hasattr(func, "__code__") else "",
            help_uri=help_uri,
        )
        _registered.append(PythonRule(meta, func))
        return func

    return register


def load_python_rules(path: Path) -> list[PythonRule]:
    """Execute a rule file and return the rules it registered."""
    start = len(_registered)
    module_name = f"pe_policy_rules_{abs(hash(str(path.resolve())))}"
    if module_name in sys.modules:
        return [r for r in _loaded_from.get(module_name, [])]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load Python rules from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        del _registered[start:]
        raise
    rules = _registered[start:]
    del _registered[start:]
    _loaded_from[module_name] = rules
    return list(rules)


_loaded_from: dict[str, list[PythonRule]] = {}


def run_python_rule(rule_: PythonRule, doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    result = rule_.check(doc, ctx)
    if result is None:
        return
    for item in result:
        if isinstance(item, str):
            yield Violation(item)
        else:
            yield item
