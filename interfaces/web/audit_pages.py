"""/audit: the audit log searched by actor, case and period, newest first, a page at a
time, each event linking to the timeline of its case (/history/{number}) — what
`compliance audit` and GET /api/audit give, for the auditor (read:audit; anyone else gets
the 403 page). The search stays in the URL; the period is a day range (both days
included) or, typed in the URL, two moments (the second excluded), in UTC."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from application.audit_page_queries import AuditSearch, audit_page, moment
from application.history import resolve_case
from domain.errors import InvalidValueError
from interfaces.http.auth import services_of
from interfaces.http.params import Caller
from interfaces.http.worklist import current
from interfaces.web.rendering import page
from projections.views.audit_log import AuditLog

READ = "read:audit"
PAGE_SIZE = 50
MAX_TEXT = 120


def _actor(text: str) -> str | None:
    """`user:NAME` or `system:JOB`; a bare name is a user's."""
    value = text.strip()
    if not value:
        return None
    return value if ":" in value else f"user:{value}"


def _case(text: str) -> str | None:
    """How the log names a case: its number (CA-2026-00001, 12-3456789AB) as written in
    capitals; a user (user:NAME), which the log names by id, by that id."""
    value = text.strip()
    if not value:
        return None
    if value.lower().startswith("user:"):
        return str(resolve_case(value))
    return value.lower() if value.count("-") == 4 else value.upper()


def _until(text: str) -> str | None:
    """A day is included whole (up to the next day's start); a moment is the end."""
    value = text.strip()
    if len(value) == 10:
        try:
            return (date.fromisoformat(value) + timedelta(days=1)).isoformat()
        except ValueError:
            pass
    return moment("until", value)


def parse_search(sent: dict[str, str]) -> tuple[AuditSearch, dict[str, str]]:
    errors: dict[str, str] = {}
    found: dict[str, str | None] = {}
    for name, parse in (("actor", _actor), ("case", _case),
                        ("since", lambda text: moment("since", text)), ("until", _until)):
        text = sent[name]
        if len(text) > MAX_TEXT:
            errors[name] = f"at most {MAX_TEXT} characters"
            continue
        try:
            found[name] = parse(text)
        except InvalidValueError as bad:
            errors[name] = bad.reason
    return AuditSearch(**found), errors


@get("/audit", sync_to_thread=True, include_in_schema=False)
def audit_search(request: Request[Any, Any, Any], caller: Caller,
                 actor: FromQuery[str | None] = None, case: FromQuery[str | None] = None,
                 since: FromQuery[str | None] = None, until: FromQuery[str | None] = None,
                 before: FromQuery[str | None] = None) -> Template:
    caller.require(READ)
    sent = {"actor": actor or "", "case": case or "", "since": since or "",
            "until": until or ""}
    search, errors = parse_search(sent)
    rows: list[dict[str, Any]] = []
    older = None
    if not errors:
        store = current(services_of(request), [AuditLog]).projections.store
        try:
            found = audit_page(store, search, limit=PAGE_SIZE, before=before)
        except InvalidValueError as bad:
            errors[bad.field] = bad.reason
        else:
            rows, older = found.rows, found.next_before
    return page(request, caller, "audit.html", status_code=422 if errors else 200,
                rows=rows, older=older, before=before, sent=sent, errors=errors,
                params={k: v for k, v in sent.items() if v})


ROUTES = [audit_search]
