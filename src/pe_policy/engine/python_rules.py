"""Python rules: a decorator that registers a function with its metadata.

    @rule("PE-WF-001", severity="high", kinds=["workflow"], title="...")
    def least_privilege(workflow: Workflow, ctx: RuleContext) -> Iterator[Violation]:
        yield Violation("job 'deploy' has no permissions", ("jobs", "deploy"))

The first parameter's annotation says what the rule looks at.  A model class
(`Workflow`, or a union such as `Workflow | CompositeAction`) makes the rule
typed: the engine hands it the document's model, and only documents whose
model is an instance of that class (the rule never checks `isinstance`
itself); `ctx.document` is the Document, for a rule that needs its path or
text.  `Document`, or no annotation, is the original signature: the rule gets
every document of its `kinds`, `(doc, ctx)`.  String annotations (`from
__future__ import annotations`) are resolved in the rule module's namespace,
so import the model class at module level.

A rule yields `Violation`s naming the JSON path of the offending node; the
engine turns that path into a file and line.  Rules never read files or the
network: what they may see is the document, the other loaded documents and
`ctx`.

A rule file runs as a module of its policy directory's package
(`policy_package`): `policy/workflow/acme.py` is `<package>.workflow.acme`, so
it imports helpers from beside it relatively (`from .lib.scripts import
iter_scripts`, `from ..shared.lib.names import ...`).  Files in a `lib/`
directory, and `_*.py`, `test_*.py`, `conftest.py`, are never rule files
(`is_rule_file`).  A rule file may import its own policy directory's package
and pe-policy's public modules (`pe_policy.engine.python_rules`,
`pe_policy.document`, `pe_policy.findings`, `pe_policy.models`, and the shared
scanners `pe_policy.secrets` and `pe_policy.sql`), never loaders or engine
internals, nor another policy directory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.machinery
import importlib.util
import inspect
import os
import sys
import threading
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from types import ModuleType
from typing import Any, NamedTuple, TypeVar

from pe_policy.catalog import RuleMeta
from pe_policy.document import Document
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
    """What a rule may look at besides its document (and `document`, the document itself)."""

    params: Mapping[str, Any]
    documents: Iterable[Document] = ()
    repo_root: Path | None = None
    _paths: frozenset[str] | None = field(default=None, repr=False)
    # the document the rule is looking at: `run_python_rule` sets it for every rule it runs
    document: Document | None = None

    def documents_of(self, kind: str) -> list[Document]:
        return [d for d in self.documents if d.kind == kind]

    def document_at(self, path: str) -> Document | None:
        """The document at `path` (relative to the root): the run loads it on demand, whether
        or not it was among the paths given (runner.RunDocuments)."""
        at = getattr(self.documents, "at", None)
        if at is not None:
            return at(path)
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


RuleFunction = Callable[..., Iterable[Violation]]
"""`(model, ctx)`, or `(doc, ctx)` for a rule that takes the Document (see the module docstring)."""

_F = TypeVar("_F", bound=RuleFunction)


@dataclass(frozen=True)
class PythonRule:
    """A rule a `@rule(...)` decorator registered: its metadata, and the function that checks."""

    meta: RuleMeta
    check: RuleFunction  # the function, or a stand-in with `resolve()` until its file runs
    # a repository's rule (not the built-in pack's): its file is imported and run only in a
    # locked-down worker of its own (runner.py, isolation.py), never in the main process
    isolated: bool = False


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
) -> Callable[[_F], _F]:
    def register(func: _F) -> _F:
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
        # a wrong annotation fails the file now, not its first document; a class defined
        # further down the module (NameError) is resolved when the rule first runs
        with contextlib.suppress(NameError):
            model_types(func)
        _rules_by_module.setdefault(_owner(func), []).append(PythonRule(meta, func))
        return func

    return register


# ---------------------------------------------------------------- what a rule takes

_input_types: dict[Callable[..., Any], tuple[type, ...] | None] = {}


def model_types(func: Callable[..., Any]) -> tuple[type, ...] | None:
    """The model classes `func` takes, from its first parameter's annotation; None when it
    takes the Document (annotated `Document`, or not annotated)."""
    try:
        return _input_types[func]
    except (KeyError, TypeError):  # not known yet (or a callable that cannot be a key)
        pass
    hint = _first_parameter_hint(func)
    found = _model_classes(hint, func)
    with contextlib.suppress(TypeError):
        _input_types[func] = found
    return found


def _first_parameter_hint(func: Callable[..., Any]) -> Any:
    """The first parameter's annotation, a string resolved in the rule module's namespace.

    Only that annotation is evaluated: the others may name what the module imports for type
    checking only.  NameError: it names something the module has not defined (yet).
    """
    try:
        parameters = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return None
    if not parameters or parameters[0].kind not in (inspect.Parameter.POSITIONAL_ONLY,
                                                    inspect.Parameter.POSITIONAL_OR_KEYWORD):
        return None
    first = parameters[0]
    if first.annotation is inspect.Parameter.empty or not isinstance(first.annotation, str):
        return None if first.annotation is inspect.Parameter.empty else first.annotation

    def probe() -> None: ...

    probe.__annotations__ = {first.name: first.annotation}
    namespace = getattr(inspect.unwrap(func), "__globals__", None)
    try:
        return typing.get_type_hints(probe, globalns=namespace)[first.name]
    except NameError:
        if first.annotation.rpartition(".")[2] == "Document":
            return Document  # imported for type checking only: the old signature
        raise


def _model_classes(hint: Any, func: Callable[..., Any]) -> tuple[type, ...] | None:
    if hint is None or hint is Any or hint is Document:
        return None
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        members = tuple(m for m in typing.get_args(hint) if m is not type(None))
    else:
        members = (hint,)
    if members == (Document,):
        return None  # Optional[Document]
    if not members or Document in members or not all(
            isinstance(m, type) and not isinstance(m, types.GenericAlias) for m in members):
        name = getattr(func, "__qualname__", repr(func))
        raise TypeError(f"rule {name}: its first parameter must be annotated with a model class "
                        f"(`workflow: Workflow`), a union of them, or `Document`, not {hint!r}")
    return members


def rule_function(rule_: PythonRule) -> RuleFunction:
    """The rule's function (a rule read lazily is loaded now)."""
    resolve = getattr(rule_.check, "resolve", None)
    function: RuleFunction = resolve() if callable(resolve) else rule_.check
    return function


def run_python_rule(rule_: PythonRule, doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    """The rule's violations on `doc`: none when the rule takes a model class and `doc.model`
    is not an instance of it (the rule is not given the document at all).

    The caller runs this inside the rule's guard (`guard.python_rule_guard`).
    """
    function = rule_function(rule_)
    try:
        wanted = model_types(function)
    except NameError as exc:
        raise TypeError(f"the annotation of the rule's first parameter cannot be resolved "
                        f"({exc}): import the model class at the top of the rule file") from None
    if wanted is not None and not isinstance(doc.model, wanted):
        return
    if ctx.document is not doc:
        ctx = dataclasses.replace(ctx, document=doc)
    result = function(doc if wanted is None else doc.model, ctx)
    if result is None:
        return
    for item in result:
        if isinstance(item, str):
            yield Violation(item)
        else:
            yield item


# ---------------------------------------------------------------- rule files and their package

_PACKAGE_PREFIX = "pe_policy_policies_"
_package_roots: dict[str, Path] = {}  # package name -> the policy directory it is rooted at
_rules_by_module: dict[str, list[PythonRule]] = {}  # what each module registered
_loading: list[str] = []  # rule files being executed, innermost last
_load_lock = threading.RLock()


def is_rule_file(relative: PurePath) -> bool:
    """Whether a `.py` file, relative to its policy directory, holds rules.

    Not rule files: helpers in a `lib/` directory, `_private.py`, `test_*.py`, `conftest.py`.
    """
    return (relative.suffix == ".py" and not relative.name.startswith(("test_", "_"))
            and relative.name != "conftest.py" and "lib" not in relative.parts[:-1])


def policy_package(directory: Path) -> str:
    """The name of the package a policy directory is imported as (created on first use).

    It is rooted at the directory; its subdirectories are packages as Python makes them
    (namespace packages, or regular ones with an `__init__.py`), so a rule file may import
    what sits beside it: `from .lib.scripts import iter_scripts`.
    """
    root = directory.resolve()
    name = _PACKAGE_PREFIX + hashlib.sha256(os.fsencode(root)).hexdigest()[:16]
    if name not in sys.modules:
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(root)]
        sys.modules[name] = importlib.util.module_from_spec(spec)
        _package_roots[name] = root
    return name


def import_policy_module(directory: Path, module: str) -> ModuleType:
    """A module of a policy directory's package, as its rule files see it:
    `import_policy_module(Path("policies"), "workflow.lib.scripts")` (tests of helpers)."""
    return importlib.import_module(f"{policy_package(directory)}.{module}")


def _relative(path: Path, root: Path) -> PurePath | None:
    for file, top in ((Path(os.path.abspath(path)), Path(os.path.abspath(root))),
                      (path.resolve(), root.resolve())):
        with contextlib.suppress(ValueError):
            return file.relative_to(top)
    return None


def _module_name(path: Path, root: Path) -> str:
    """`<package of root>.workflow.pe_wf_006_untrusted_input`; a file outside `root`, or below a
    directory whose name has a dot, runs as a module of its own (no relative imports)."""
    relative = _relative(path, root)
    if relative is not None and relative.parts and not any("." in p for p in relative.parts[:-1]):
        stem = relative.stem.replace(".", "_")
        return ".".join((policy_package(root), *relative.parts[:-1], stem))
    return f"pe_policy_rules_{hashlib.sha256(os.fsencode(path.resolve())).hexdigest()[:16]}"


def _is_rule_module(name: str) -> bool:
    """Whether module `name` is a rule file of a policy package (not a helper)."""
    if name in _loading:
        return True
    root = _package_roots.get(name.partition(".")[0])
    file = getattr(sys.modules.get(name), "__file__", None)
    if root is None or file is None:
        return False
    relative = _relative(Path(file), root)
    return relative is not None and is_rule_file(relative)


def _owner(func: Callable[..., Any]) -> str:
    """The module a rule belongs to: the rule file that defines it, or, for a rule a helper
    (a `lib/` module) registers, the rule file being loaded."""
    module = getattr(func, "__module__", None) or ""
    if _loading and not _is_rule_module(module):
        return _loading[-1]
    return module


def load_python_rules(path: Path, root: Path | None = None) -> list[PythonRule]:
    """Execute a rule file and return the rules it registered.

    The file runs as a submodule of the package of its policy directory `root` (by default
    the file's own directory): `root/workflow/x.py` is `<package>.workflow.x`, and imports
    `root/workflow/lib/y.py` as `from .lib.y import ...`.  A file runs once per process.
    """
    with _load_lock:
        name = _module_name(path, root if root is not None else path.parent)
        if name not in sys.modules:
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load Python rules from {path}")
            parent = name.rpartition(".")[0]
            if parent:
                importlib.import_module(parent)  # its directory's package
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            _loading.append(name)
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                _rules_by_module.pop(name, None)
                raise
            finally:
                _loading.pop()
        return list(_rules_by_module.get(name, ()))
