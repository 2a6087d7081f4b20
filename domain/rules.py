"""Business rules as small named objects that read as sentences.

A rule is checked in a command method before any event is triggered, so a broken rule
never leaves a half-applied command behind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

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


class FourEyesRule(BusinessRule):
    """Four eyes: an act that needs a second person is refused when its actor is the person
    who did the first act. Subclasses name the rule and say what the first act was.

    `first_actor` is None when it was not recorded (state restored from a snapshot taken
    before the case remembered it): nothing to compare, so the rule holds."""

    first_act: ClassVar[str]
    """What `first_actor` did, completing "<actor> ...": e.g. "submitted this plan"."""

    def __init__(self, actor: str, first_actor: str | None, step: str) -> None:
        self.actor, self.first_actor, self.step = actor, first_actor, step

    def is_broken(self) -> bool:
        return self.first_actor is not None and self.actor == self.first_actor

    def message(self) -> str:
        return (f"{self.actor} {self.first_act} and cannot also {self.step}; "
                "four eyes: another person must")
