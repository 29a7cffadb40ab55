"""Rule metadata: the one place a rule's ID, severity, title and help live.

Python rules declare it in their `@rule(...)` decorator; Rego rules in their
`# METADATA` annotation (custom.id, custom.severity, ...).  Both end up as a
`RuleMeta` in a `Catalog`, which `rules`, `explain` and every reporter read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pe_policy.findings import PARSE_RULE_ID, Severity


@dataclass(frozen=True)
class RuleMeta:
    """What pe-policy knows of one rule, from a `@rule(...)` decorator or a `# METADATA`
    annotation: the same for every engine, so `rules`, `explain` and reporters treat all alike."""

    id: str
    title: str
    severity: Severity
    kinds: tuple[str, ...] = ()  # empty: every kind
    description: str = ""
    remediation: str = ""
    source: str = ""  # the process document (seed) the rule comes from
    engine: str = "python"  # "python" | "rego" | "internal"
    origin: str = ""  # file that defines the rule
    help_uri: str = ""
    tags: tuple[str, ...] = field(default=())

    def applies_to(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds

    @property
    def full_description(self) -> str:
        return self.description or self.title

    @property
    def help_text(self) -> str:
        parts = [self.full_description]
        if self.remediation:
            parts.append(f"How to fix: {self.remediation}")
        if self.source:
            parts.append(f"Source: {self.source}")
        return "\n\n".join(parts)


INTERNAL_RULES: tuple[RuleMeta, ...] = (
    RuleMeta(
        id=PARSE_RULE_ID,
        title="Input could not be read",
        severity=Severity.HIGH,
        description="The file could not be read or parsed as its kind, so no other rule checked it.",
        remediation="Fix the syntax error at the reported line, or exclude the file.",
        engine="internal",
    ),
    RuleMeta(
        id="PE-RULE-ERROR",
        title="A rule failed while evaluating",
        severity=Severity.HIGH,
        description="A policy raised an error or exceeded its time budget on this document; "
        "its verdict is unknown.",
        remediation="Fix the policy named in the message; other rules still ran.",
        engine="internal",
    ),
    RuleMeta(
        id="PE-SUPPRESS",
        title="Suppression comments give a reason and suppress something",
        severity=Severity.MEDIUM,
        description="An inline `pe-policy: ignore[RULE-ID]` comment must say why the finding is "
        "acceptable, must be well-formed, and (with --strict-suppressions) must still suppress a "
        "finding; otherwise exceptions pile up without anyone knowing why.",
        remediation="Write the reason after the bracket, e.g. `# pe-policy: ignore[PE-WF-002] "
        "internal action, pinned by our registry`, or remove a suppression that matches nothing.",
        engine="internal",
    ),
)


CONFIG_CHANGE_RULE_ID = "PE-CFG-001"

# pe-policy's own rules that only a pull-request run has (trust.py): the catalog of a run that
# reports one holds it; every other run lists (in SARIF) exactly the rules it always did.
PULL_REQUEST_RULES: tuple[RuleMeta, ...] = (
    RuleMeta(
        id=CONFIG_CHANGE_RULE_ID,
        title="A pull request that weakens or changes the gate is approved by its owners",
        severity=Severity.HIGH,
        description="On a pull-request run pe-policy reads `.pe-policy.yaml` and the policy "
        "directories it lists from the base of the pull request, never from the pull request "
        "itself: a pull request cannot switch the gate off for its own changes. What it changes "
        "there (a disabled rule, a waiver, a lowered severity, a narrower `rules.enable`, an "
        "exclusion, a policy file) takes effect only after merge, and is reported here: each "
        "weakening at the line that adds it, and the change as a whole with its diff summarised. "
        "Inline suppression comments the pull request adds apply to the run (they sit in the "
        "files under test) and are reported here too. The message names who must approve: the "
        "owners of the configuration file in the base's CODEOWNERS.",
        remediation="Have the owners named in the message review the change (GitHub requests "
        "their review when CODEOWNERS names them for `.pe-policy.yaml`), or drop the change and "
        "fix the finding instead. An exception this pull request itself needs belongs in the "
        "base branch's configuration first (a waiver, with its owner and expiry).",
        source="seed 002 (CODEOWNERS; branch protection: passing checks), seed 000 (RACI: "
        "accountable: repo CODEOWNERS)",
        engine="internal",
    ),
)


class DuplicateRuleError(ValueError):
    """One rule ID defined in two places."""


class Catalog:
    """Rule metadata by ID, in a stable order."""

    def __init__(self, rules: list[RuleMeta] | None = None) -> None:
        self._rules: dict[str, RuleMeta] = {}
        for meta in (*INTERNAL_RULES, *(rules or [])):
            self.add(meta)

    def add(self, meta: RuleMeta) -> None:
        """Add a rule; the same ID again from elsewhere is an error, never an override.

        Re-adding an ID from the same origin (a copy of the catalog with overridden
        severities) replaces it; an internal rule is replaced only by an internal one.
        """
        existing = self._rules.get(meta.id)
        if existing is not None:
            if existing.engine == "internal" and meta.engine != "internal":
                raise DuplicateRuleError(f"rule ID {meta.id} is one of pe-policy's own "
                                         f"({existing.title}); {meta.origin} cannot define it")
            if existing.engine != "internal" and existing.origin != meta.origin:
                raise DuplicateRuleError(f"rule ID {meta.id} is defined twice: in "
                                         f"{existing.origin} and in {meta.origin}")
        self._rules[meta.id] = meta

    def get(self, rule_id: str) -> RuleMeta | None:
        return self._rules.get(rule_id)

    def __getitem__(self, rule_id: str) -> RuleMeta:
        return self._rules[rule_id]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __iter__(self) -> Iterator[RuleMeta]:
        return iter(sorted(self._rules.values(), key=lambda m: m.id))

    def __len__(self) -> int:
        return len(self._rules)
