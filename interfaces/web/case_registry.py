"""The case types the web pages show, each with what the API already defines for it: its
commands (SPECS), how to load it within the caller's scope, and how to describe it.
Adding a case type to the pages is one entry here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from application.compliance_cases import ComplianceCases
from interfaces.http import assessments, enforcement, plans, rules, verifications
from interfaces.http.commands import CommandSpec


@dataclass(frozen=True)
class CaseType:
    resource: str
    """The URL segment: /<resource>/<number>, as in the API."""
    title: str
    read_permission: str
    module: ModuleType

    @property
    def specs(self) -> list[CommandSpec]:
        """The commands on an existing case, in the API's order."""
        return [spec for spec in self.module.SPECS if not spec.creates]

    def spec(self, command: str) -> CommandSpec | None:
        return next((s for s in self.specs if s.name == command), None)

    def load(self, app: ComplianceCases, number: str) -> Any:
        return self.module.load(app, number)

    @property
    def loader(self) -> Callable[[ComplianceCases, str], Any]:
        return self.module.load  # type: ignore[no-any-return]

    def describe(self, app: ComplianceCases, number: str) -> dict[str, Any]:
        if self.resource == "rules":
            return rules.rule_document(app.get_rule(number))
        return self.module.describe(app, number)  # type: ignore[no-any-return]


CASE_TYPES = {case.resource: case for case in (
    CaseType("assessments", "Compliance assessment", "read:assessments", assessments),
    CaseType("plans", "Improvement plan", "read:plans", plans),
    CaseType("enforcement", "Enforcement action", "read:enforcement", enforcement),
    CaseType("verifications", "Follow-up verification", "read:verifications", verifications),
    CaseType("rules", "Targeting rule", "read:rules", rules),
)}

PREFIX_TO_RESOURCE = {"CA": "assessments", "IP": "plans", "EA": "enforcement",
                      "FV": "verifications", "TR": "rules"}


def case_url(number: str) -> str | None:
    """The page of a case number (CA-2026-00001 → /assessments/CA-2026-00001)."""
    resource = PREFIX_TO_RESOURCE.get(number.split("-", 1)[0].upper())
    return f"/{resource}/{number}" if resource else None
