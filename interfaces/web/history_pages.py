"""/history/{number}: the auditor's timeline of a case, an importer or a user (user:NAME)
— every event with its time, actor, reason and the fields it changed, a page at a time
(newest or oldest first, "more" loaded in place by htmx); the state as of any version or
moment; the fields that differ between any two versions; and the case's integrity (its
chain and commit signatures, the latest seal), loaded after the page.

Everything comes from application.history, the same calls GET /api/history makes, scoped
the same way (interfaces.http.audit decides who may read what; outside one's scope is the
404 page). The choices stay in the URL: ?as_of=3, ?at=2026-03-01T10:00, ?diff=2..5,
?order=oldest&start=51, so an auditor can send a colleague the exact view."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from application.access import Principal, acting_as
from application.errors import NotFoundError
from application.history import HistoryEntry, diff, history, state_as_of
from domain.errors import InvalidValueError
from infrastructure.case_integrity import check_case
from interfaces.http.audit import _checked, _importer_cases
from interfaces.http.auth import services_of
from interfaces.http.params import Caller, CaseNumber
from interfaces.web.case_registry import case_url
from interfaces.web.history_view import (
    PAGE_SIZE,
    Choices,
    event_row,
    events_page,
    parse_choices,
    shown,
)
from interfaces.web.rendering import is_htmx, page

AnyRequest = Request[Any, Any, Any]
Order = Annotated[str, QueryParameter(description="newest or oldest first")]
Start = Annotated[int | None, QueryParameter(ge=1, description="First version shown")]


def _subject_links(label: str | None, kind: str, cases: list[Any]) -> dict[str, Any]:
    """Where the subject of the timeline has a page of its own."""
    own = None
    if label and kind == "ImporterAccount":
        own = f"/accounts/{label}"
    elif label:
        own = case_url(label)
    return {"own_page": own, "filed": [
        {"kind": ref.kind, "number": ref.number, "url": case_url(ref.number)}
        for ref in cases]}


def _state(app: Any, aggregate_id: Any, label: str | None, entries: list[HistoryEntry],
           choices: Choices) -> dict[str, Any]:
    """The state the picker asks for (the latest when it asks for none)."""
    version = choices.as_of
    if choices.at is not None:
        eligible = [e.version for e in entries if e.recorded_at <= choices.at]
        if not eligible:
            return {"error": f"nothing was recorded at or before {shown(choices.at)}",
                    "version": None, "fields": [], "event": None}
        version = eligible[-1]
    chosen = version or entries[-1].version
    try:
        state = state_as_of(app, aggregate_id, version=chosen, label=label)
    except (NotFoundError, InvalidValueError) as wrong:
        return {"error": str(wrong), "version": None, "fields": [], "event": None}
    return {"error": None, "version": chosen, "latest": version is None,
            "event": entries[chosen - 1] if chosen <= len(entries) else None,
            "fields": [(name, shown(value)) for name, value in state.items()]}


def _diff(app: Any, aggregate_id: Any, label: str | None,
          choices: Choices) -> dict[str, Any] | None:
    if choices.diff is None:
        return None
    first, second = choices.diff
    try:
        found = diff(app, aggregate_id, first, second, label)
    except (NotFoundError, InvalidValueError) as wrong:
        return {"first": first, "second": second, "error": str(wrong), "fields": []}
    return {"first": first, "second": second, "error": None,
            "fields": [(name, shown(before), shown(after))
                       for name, (before, after) in found.items()]}


def _timeline(request: AnyRequest, caller: Principal,
              number: str) -> tuple[Any, str | None, list[HistoryEntry], Any]:
    app = services_of(request).app
    aggregate_id, label = _checked(app, caller, number)
    return aggregate_id, label, history(app, aggregate_id, label), app


@get("/history/{number:str}", sync_to_thread=True, include_in_schema=False)
def history_page(request: AnyRequest, caller: Caller, number: CaseNumber,
                 order: Order = "newest", start: Start = None,
                 as_of: Annotated[str | None, QueryParameter()] = None,
                 at: Annotated[str | None, QueryParameter()] = None,
                 diff_of: Annotated[str | None, QueryParameter(name="diff")] = None,
                 diff_from: Annotated[str | None, QueryParameter(name="from")] = None,
                 diff_to: Annotated[str | None, QueryParameter(name="to")] = None,
                 ) -> Response[Any]:
    choices = parse_choices(order, start, as_of, at, diff_of, diff_from, diff_to)
    if (diff_from is not None or diff_to is not None) and choices.diff is not None:
        # the two-select form: sent on to the URL that keeps the choice (?diff=2..5)
        return Redirect(f"/history/{number}?{urlencode(choices.params())}#diff",
                        status_code=303)
    with acting_as(caller):
        aggregate_id, label, entries, app = _timeline(request, caller, number)
        with app.reading():
            state = _state(app, aggregate_id, label, entries, choices)
            differences = _diff(app, aggregate_id, label, choices)
        cases = _importer_cases(app, number)
    kind = entries[0].event.split(".", 1)[0]
    rows, following = events_page(entries, choices)
    bad = choices.errors or state["error"] or (differences and differences["error"])
    return page(request, caller, "history.html", status_code=422 if bad else 200,
                key=label or number, label=label, kind=kind, choices=choices,
                params=choices.params(), total=len(entries),
                versions=[(e.version, e.recorded_at, e.event) for e in entries],
                rows=[event_row(e) for e in rows], following=following, state=state,
                differences=differences, page_size=PAGE_SIZE,
                **_subject_links(label, kind, list(cases)))


@get("/history/{number:str}/events", sync_to_thread=True, include_in_schema=False)
def history_events(request: AnyRequest, caller: Caller, number: CaseNumber,
                   order: Order = "newest", start: Start = None) -> Response[Any]:
    """The next page of events as table rows, for the "more" row to swap itself with."""
    choices = parse_choices(order, start, None, None, None, None, None)
    if not is_htmx(request):
        return Redirect(f"/history/{number}?{urlencode(choices.params())}#events",
                        status_code=303)
    with acting_as(caller):
        _, label, entries, _ = _timeline(request, caller, number)
    rows, following = events_page(entries, choices)
    return page(request, caller, "history_rows.html", key=label or number,
                choices=choices, params=choices.params(),
                rows=[event_row(e) for e in rows], following=following)


@get("/history/{number:str}/integrity", sync_to_thread=True, include_in_schema=False)
def history_integrity(request: AnyRequest, caller: Caller, number: CaseNumber) -> Template:
    """The integrity panel: a fragment for the page's htmx, a page of its own without."""
    services = services_of(request)
    app = services.app
    with acting_as(caller):
        aggregate_id, label = _checked(app, caller, number)
    settings = services.settings
    result = check_case(app.recorder, aggregate_id, settings.seal_public_key_path,
                        settings.seal_witness_path)
    return page(request, caller, "history_integrity.html", key=label or number,
                result=result, checked_at=services.now())


ROUTES = [history_page, history_events, history_integrity]
