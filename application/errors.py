"""Application-level refusals (the domain's own live in domain.errors)."""

from __future__ import annotations


class NotFoundError(LookupError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"no {what} {key}")
        self.what, self.key = what, key


class ConcurrencyConflictError(Exception):
    """The case changed since the caller read it; nothing was written."""

    def __init__(self, case: str, expected: int | None, current: int | None) -> None:
        if expected is None:
            message = (f"{case} was changed by someone else while this command ran "
                       f"(now at version {current}); nothing was written, retry")
        else:
            message = (f"{case} is at version {current}, not the expected version {expected}; "
                       f"nothing was written. Reload and retry")
        super().__init__(message)
        self.case, self.expected, self.current = case, expected, current
