"""Application-level refusals (the domain's own live in domain.errors)."""

from __future__ import annotations

from typing import Any


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
