"""Business rules as small named objects that read as sentences.

A rule is checked in a command method before any event is triggered, so a broken rule
never leaves a half-applied command behind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from domain.errors import RuleViolationError


class BusinessRule(ABC):
    """A rule the domain refuses to break. Subclass names read as sentences."""

    @abstractmethod
    def is_broken(self) -> bool:
        """True when the command would violate the rule."""

    @abstractmethod
    def message(self) -> str:
        """Explains the refusal in words a compliance officer understands."""

    @property
    def name(self) -> str:
        return type(self).__name__


def check(*rules: BusinessRule) -> None:
    """Raise for the first broken rule, in the order given."""
    for rule in rules:
        if rule.is_broken():
            raise RuleViolationError(rule.name, rule.message())
