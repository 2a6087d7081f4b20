"""One error hierarchy, so every refusal maps to one clear HTTP/CLI outcome."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused by the domain; nothing was recorded."""


class RuleViolationError(DomainError):
    """A named business rule was broken; the message says which and why."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


class InvalidTransitionError(DomainError):
    """The case is not in a state that allows this step."""

    def __init__(self, case: str, state: str, step: str, allowed_from: tuple[str, ...]) -> None:
        allowed = ", ".join(allowed_from) if allowed_from else "no state"
        message = f"{case} is {state}: cannot {step} (only allowed when {allowed})"
        super().__init__(message)
        self.case = case
        self.state = state
        self.step = step


class InvalidValueError(DomainError):
    """An input value is malformed; names the field and the offending value."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(f"{field}={value!r}: {reason}")
        self.field = field
        self.value = value
        self.reason = reason
