"""Application-level refusals (the domain's own live in domain.errors)."""

from __future__ import annotations

from typing import Any


class NotFoundError(LookupError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"no {what} {key}")
        self.what, self.key = what, key


class ConcurrencyConflictError(Exception):
    """Something the command read changed before it could save; nothing was recorded.

    `case` names what conflicted (the case, or the number sequence or case file saved with
    it), `expected` the version the command read or was told to expect, `current` the
    version now stored (None when unknown)."""

    def __init__(self, case: str, expected: int | None, current: int | None, *,
                 message: str | None = None) -> None:
        if message is None:
            message = self._stale(case, expected, current)
        super().__init__(message)
        self.case, self.expected, self.current = case, expected, current

    @staticmethod
    def _stale(case: str, expected: int | None, current: int | None) -> str:
        again = "nothing was recorded — re-read it and try again"
        if expected is None or current is None:
            return f"{case} was changed by someone else while this command ran; {again}"
        if current < expected:
            return (f"{case} is at version {current}, not version {expected} as you "
                    f"expected; {again}")
        return (f"{case} was changed by someone else since you read it (you expected "
                f"version {expected}, it is now at version {current}); {again}")

    @classmethod
    def number_taken(cls, prefix: str, expected: int, current: int | None,
                     ) -> ConcurrencyConflictError:
        return cls(f"{prefix} case numbers", expected, current, message=(
            f"another {prefix} case was opened at the same moment and took the next number; "
            "nothing was recorded — run the command again"))

    @classmethod
    def case_filed(cls, importer_number: str, expected: int, current: int | None,
                   ) -> ConcurrencyConflictError:
        return cls(f"case file of importer {importer_number}", expected, current, message=(
            f"another case was opened on importer {importer_number} at the same moment; "
            "nothing was recorded — run the command again"))

    @classmethod
    def created_meanwhile(cls, case: str, current: int | None) -> ConcurrencyConflictError:
        return cls(case, 0, current, message=(
            f"{case} was created by someone else at the same moment; nothing was recorded "
            "— re-read it before running the command again"))

    @classmethod
    def key_taken(cls, key: str, current: int | None) -> ConcurrencyConflictError:
        return cls(f"idempotency key {key!r}", 0, current, message=(
            f"idempotency key {key!r} was used by another command at the same moment; "
            "nothing was recorded"))

    @classmethod
    def unexplained(cls, case: str) -> ConcurrencyConflictError:
        return cls(case, None, None, message=(
            f"{case}: a record this command depends on was changed at the same moment; "
            "nothing was recorded — run the command again"))


class DamagedHistoryError(Exception):
    """A case's stored events are missing, out of order or cannot be decoded or replayed,
    so the case cannot be shown or changed; nothing was written. `compliance verify` says
    what else was altered."""

    def __init__(self, label: str, version: int | None, detail: str) -> None:
        where = label if version is None else f"{label} version {version}"
        super().__init__(f"{where}: {detail} — run compliance verify")
        self.label, self.version, self.detail = label, version, detail


class DamagedInputError(Exception):
    """Stored ingest rows no longer match the digests their import batches recorded, so a
    run refuses to compute from them; names the batch and the row."""

    def __init__(self, findings: list[Any]) -> None:
        first = "; ".join(str(f) for f in findings[:3])
        more = f" (and {len(findings) - 3} more)" if len(findings) > 3 else ""
        super().__init__(f"refusing to read altered import data: {first}{more}; run "
                         "compliance verify")
        self.findings = findings
