"""What auditors read over HTTP: the audit log (`GET /api/audit`) and the history of one
case, importer or user (`GET /api/history/{number}`, as of a version or a moment, or the
changes between two versions), as `compliance audit|history` print them (verify and seal
are interfaces.http.integrity).

History is scoped like every read: a case outside the caller's districts is 404, like a
missing one. A user's history (who was granted what, when, by whom) is a user read
("read:users"), not a case read. Credential hashes are "<redacted>" by
application.history wherever they sit; this module adds nothing that could carry one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get
from litestar.params import QueryParameter

from application.access import Principal, acting_as, scope_of
from application.compliance_cases import ComplianceCases
from application.errors import NotFoundError
from application.history import case_label, diff, history, resolve_case, state_as_of
from domain.errors import InvalidValueError
from domain.user import User, UserDirectory
from domain.values import parse_importer_number
from interfaces.http.auth import services_of
from interfaces.http.commands import parse_fields
from interfaces.http.params import Caller, CaseNumber
from interfaces.http.problems import InvalidParam, InvalidRequestError
from interfaces.http.worklist import answer, current
from projections import queries
from projections.views.audit_log import AuditLog

AnyRequest = Request[Any, Any, Any]


def plain(value: Any) -> Any:
    """Event data and states as JSON values (value objects, enums, dates, amounts)."""
    return msgspec.to_builtins(value, str_keys=True, order="deterministic")


# -- the audit log --------------------------------------------------------------------------


def _moment(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidValueError(name, value, "expected an ISO timestamp such as "
                                "2026-03-01T12:00:00+00:00") from None
    return value.strip()


@get("/api/audit", sync_to_thread=True, tags=["audit"],
     summary="Search the audit log of every case by actor, case and period")
def audit(request: AnyRequest, caller: Caller,
          actor: Annotated[str | None, QueryParameter(description="user:<id> or system:<job>")
                           ] = None,
          case: Annotated[str | None, QueryParameter(description="Case or importer number")
                          ] = None,
          since: Annotated[str | None, QueryParameter(description="ISO timestamp (inclusive)")
                           ] = None,
          until: Annotated[str | None, QueryParameter(description="ISO timestamp (exclusive)")
                           ] = None,
          limit: Annotated[int, QueryParameter(ge=1, le=10_000, description="Rows at most")
                           ] = 200) -> Response[Any]:
    caller.require("read:audit")
    checked = parse_fields(since=lambda: _moment("since", since),
                           until=lambda: _moment("until", until))
    store = current(services_of(request), [AuditLog]).projections.store
    rows = queries.audit_log(store, actor=actor, case=case.upper() if case else None,
                             since=checked["since"], until=checked["until"], limit=limit)
    return answer(request, rows, "audit", ("notification_id", "recorded_at", "actor",
                                            "case_ref", "aggregate", "event", "reason"))


# -- history --------------------------------------------------------------------------------


class HistoryChange(msgspec.Struct, rename={"before": "from", "after": "to"}):
    before: Any
    after: Any


class HistoryEvent(msgspec.Struct):
    version: int
    recorded_at: datetime
    actor: str
    event: str
    reason: str
    data: dict[str, Any]
    changes: dict[str, HistoryChange]


class FiledCase(msgspec.Struct):
    kind: str
    number: str


class CaseHistory(msgspec.Struct):
    """Every event, oldest first; for an importer also the cases on its file."""

    id: str
    label: str | None
    events: list[HistoryEvent]
    cases: list[FiledCase] = msgspec.field(default_factory=list)


class StateAsOf(msgspec.Struct):
    """The state after `as_of` (a version, or the last event at or before a moment)."""

    id: str
    label: str | None
    as_of: str
    state: dict[str, Any]


class Differences(msgspec.Struct):
    """Field by field, what changed from version `from_version` to `to_version`."""

    id: str
    label: str | None
    from_version: int
    to_version: int
    changes: dict[str, HistoryChange]


def _changes(found: dict[str, tuple[Any, Any]]) -> dict[str, HistoryChange]:
    return {str(key): HistoryChange(plain(old), plain(new)) for key, (old, new) in found.items()}


def _names_a_user(key: str) -> bool:
    return key.strip().lower().startswith("user:")


def _checked(app: ComplianceCases, caller: Principal, key: str) -> tuple[UUID, str | None]:
    """The aggregate `key` names, if the caller may read it: a case (or importer) in its
    scope, or, for "read:users", a user. Anything else is 404, as if it did not exist."""
    aggregate_id, label = resolve_case(key), case_label(key)
    found = app.find_aggregate(aggregate_id)
    of_users = isinstance(found, User | UserDirectory) or _names_a_user(key)
    caller.require("read:users" if of_users else "read:history")
    scope = scope_of(found) if found is not None else None
    if found is None or (scope is not None and not caller.sees(*scope)):
        raise NotFoundError("case", label or key)
    return aggregate_id, label


def _as_of(value: str) -> tuple[int | None, datetime | None]:
    text = value.strip()
    if text.isdigit():
        return int(text), None
    try:
        return None, datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValueError("as_of", value, "expected a version number or an ISO "
                                "timestamp such as 2026-03-01T12:00:00+00:00") from None


def _versions(value: str) -> tuple[int, int]:
    first, _, second = value.partition(",")
    if not (first.strip().isdigit() and second.strip().isdigit()):
        raise InvalidValueError("diff", value, "expected two versions, e.g. diff=2,5")
    return int(first), int(second)


@get("/api/history/{number:str}", sync_to_thread=True, tags=["audit"],
     summary="Every event of a case, importer or user (user:NAME); or its state as of a "
             "version or moment; or the changes between two versions")
def case_history(request: AnyRequest, caller: Caller, number: CaseNumber,
                 as_of: Annotated[str | None, QueryParameter(
                     description="A version (5) or an ISO timestamp: the state then")] = None,
                 diff_of: Annotated[str | None, QueryParameter(
                     name="diff", description="Two versions, e.g. 2,5: what changed")
                                    ] = None) -> CaseHistory | StateAsOf | Differences:
    caller.require("read:users" if _names_a_user(number) else "read:history")
    if as_of is not None and diff_of is not None:
        raise InvalidRequestError([InvalidParam("diff", "give as_of or diff, not both")])
    app = services_of(request).app
    with acting_as(caller):
        aggregate_id, label = _checked(app, caller, number)
        if as_of is not None:
            version, moment = _as_of(as_of)
            state = state_as_of(app, aggregate_id, version=version, moment=moment,
                                label=label)
            return StateAsOf(str(aggregate_id), label, as_of.strip(), plain(state))
        if diff_of is not None:
            first, second = _versions(diff_of)
            found = diff(app, aggregate_id, first, second, label)
            return Differences(str(aggregate_id), label, first, second, _changes(found))
        entries = history(app, aggregate_id, label)
        cases = _importer_cases(app, number)
    return CaseHistory(str(aggregate_id), label, [
        HistoryEvent(e.version, e.recorded_at, e.actor, e.event, e.reason, plain(e.data),
                     _changes(e.changes)) for e in entries], cases)


def _importer_cases(app: ComplianceCases, key: str) -> list[FiledCase]:
    try:
        number = parse_importer_number(key)
    except InvalidValueError:
        return []
    return [FiledCase(ref.kind, ref.number) for ref in app.get_case_file(number)]


ROUTES = [audit, case_history]
