"""A page per case (/assessments/{n}, /plans/{n}, /enforcement/{n}, /verifications/{n},
/rules/{n}): its state and facts, its recent events, and a form for each step that is
valid now for this user — the steps come from the domain's own transition table and the
caller's permissions (application.next_steps), the forms from the API's command bodies
(interfaces.web.step_forms), and a submitted form runs the API's own `execute`.

A refused step comes back with the refusal beside its field; a form sent on a version the
case has left shows what changed meanwhile and offers the form again on the new version,
never applying it silently."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from functools import cache, partial
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from application.access import Principal, acting_as
from application.errors import ConcurrencyConflictError, NotFoundError
from application.history import case_label, diff, history, recent_events
from application.next_steps import offered_steps
from domain.errors import DomainError, InvalidValueError
from infrastructure.evidence_store import EvidenceStore
from infrastructure.sql_tables import SqlTables
from interfaces.http.auth import services_of
from interfaces.http.commands import CommandSpec, execute
from interfaces.http.params import Caller, CaseNumber
from interfaces.http.problems import InvalidParam, InvalidRequestError, PreconditionFailedError
from interfaces.web.case_registry import CASE_TYPES, CaseType, case_url
from interfaces.web.rendering import page
from interfaces.web.step_forms import (
    Choice,
    StepForm,
    build_form,
    parse_form,
    step_title,
    uploaded,
    with_input,
)
from interfaces.web.step_forms import FormField as Field
from interfaces.web.work_context import assignee_choices

RECENT_EVENTS = 8
OptionalQuery = FromQuery[str | None]
EVIDENCE_FIELD = "document_file"


def _adapt(case_type: CaseType, officers: Callable[[], tuple[Choice, ...]],
           form: StepForm) -> StepForm:
    """The web's differences from the API: an officer is chosen from those the case may be
    given to (`officers`; the application still checks whoever is sent); completing a plan
    action takes the evidence document itself (stored by its SHA-256 here) instead of a
    reference and a hash."""
    if any(f.name == "officer" for f in form.fields):
        return replace(form, fields=tuple(
            replace(f, widget="select", choices=officers(), label="Officer")
            if f.name == "officer" else f for f in form.fields))
    if case_type.resource != "plans" or form.command != "complete-action":
        return form
    fields = [f for f in form.fields if f.name not in ("document", "sha256")]
    upload = Field(EVIDENCE_FIELD, "Evidence document (PDF, PNG, JPEG, office document or "
                   "plain text; up to 10 MB)", "file", True)
    fields.insert(2, upload)
    return StepForm(form.command, form.permission, form.title, tuple(fields), form.version,
                    form.idempotency_key, form.errors, form.open, True, form.danger)


def _officers(request: Request[Any, Any, Any], case: Any) -> Callable[[], tuple[Choice, ...]]:
    """The enabled officers and supervisors a case may be given to (its district's and
    national ones), read from the people view when a form first asks."""
    @cache
    def choices() -> tuple[Choice, ...]:
        district = str(getattr(case, "district", ""))
        return tuple(Choice(value, label) for value, label
                     in assignee_choices(services_of(request), district))
    return choices


def _forms(case_type: CaseType, case: Any, caller: Principal,
           officers: Callable[[], tuple[Choice, ...]],
           replaced: StepForm | None = None) -> list[StepForm]:
    allowed = set(offered_steps(case, caller))
    forms = []
    for spec in case_type.specs:
        if spec.permission not in allowed:
            continue
        if replaced is not None and replaced.command == spec.name:
            forms.append(replaced)
        else:
            forms.append(build_form(spec, case, idempotency_key=uuid.uuid4().hex,
                                    adapt=partial(_adapt, case_type, officers)))
    return forms


def _context(case_type: CaseType, request: Request[Any, Any, Any], caller: Principal,
             number: str, replaced: StepForm | None = None,
             stale: dict[str, Any] | None = None) -> dict[str, Any]:
    app = services_of(request).app
    with acting_as(caller), app.reading():
        case = case_type.load(app, number)
        described = case_type.describe(app, number)
        label = case_label(str(case.number)) or str(case.number)
        recent = recent_events(app, case.id, RECENT_EVENTS, label)
    return {"case_type": case_type, "resource": case_type.resource, "case": described,
            "number": str(case.number), "version": int(case.version),
            "state": str(getattr(case, "state", "")),
            "forms": _forms(case_type, case, caller, _officers(request, case), replaced),
            "recent": recent, "stale": stale, "case_url": case_url,
            "done": None, "created": []}


def _show(case_type: CaseType, request: Request[Any, Any, Any], caller: Principal,
          number: str, done: str | None, created: list[str]) -> Template:
    caller.require(case_type.read_permission)
    context = _context(case_type, request, caller, number)
    spec = case_type.spec(done) if done else None
    context["done"] = step_title(spec) if spec else None
    context["created"] = [n for n in created if case_url(n)][:5]
    return page(request, caller, "case.html", title=f"{case_type.title} {context['number']}",
                **context)


def _created_numbers(result: Any, number: str) -> list[str]:
    """The cases a step opened (findings open a plan or an enforcement action; reporting
    a plan implemented schedules a verification), to link from the notice."""
    if isinstance(result, dict):
        found = [str(v) for k, v in result.items() if k.endswith("_number") and v]
    elif isinstance(result, str):
        found = [result]
    else:
        found = []
    return [n for n in found if case_url(n) and n.upper() != number.upper()]


def _evidence_overrides(request: Request[Any, Any, Any], caller: Principal,
                        sent: FormMultiDict) -> dict[str, Any]:
    upload = uploaded(sent, EVIDENCE_FIELD)
    if upload is None or not upload.filename:
        raise InvalidRequestError([InvalidParam(EVIDENCE_FIELD, "choose the document")])
    services = services_of(request)
    content = upload.file.read()
    document = EvidenceStore(SqlTables(services.app.recorder)).store(
        content, upload.filename, by=caller.actor, at=services.now())
    return {"document": document.file_name, "sha256": document.sha256}


def _submit(case_type: CaseType, spec: CommandSpec, request: Request[Any, Any, Any],
            caller: Principal, number: str, sent: FormMultiDict) -> Response[Any]:
    app = services_of(request).app
    version_text = sent.get("version")
    expected = int(version_text) if isinstance(version_text, str) and version_text.isdigit() \
        else None
    key_sent = sent.get("idempotency_key")
    key = key_sent if isinstance(key_sent, str) and key_sent else None
    caller.require(spec.permission)
    with acting_as(caller), app.reading():
        case = case_type.load(app, number)  # out of scope: the 404 page, nothing stored
    blank = build_form(spec, case, idempotency_key=key or uuid.uuid4().hex,
                       adapt=partial(_adapt, case_type, _officers(request, case)))
    try:
        overrides = (_evidence_overrides(request, caller, sent)
                     if blank.multipart else None)
        body = parse_form(spec, sent, overrides)
        result = execute(spec, case_type.loader, app, caller, body, number, expected, key)
    except PreconditionFailedError as moved:
        assert expected is not None
        stale = _what_changed(request, caller, case_type, number, expected)
        again = with_input(blank, sent, [], [], version=moved.current)
        context = _context(case_type, request, caller, number, again, stale)
        return page(request, caller, "case.html", status_code=409,
                    title=f"{case_type.title} {context['number']}", **context)
    except (InvalidRequestError, InvalidValueError) as bad:
        params = bad.params if isinstance(bad, InvalidRequestError) else [
            InvalidParam(bad.field, bad.reason)]
        return _refused(case_type, request, caller, number, with_input(blank, sent, params, []),
                        422)
    except (DomainError, ConcurrencyConflictError) as refused:
        return _refused(case_type, request, caller, number,
                        with_input(blank, sent, [], [str(refused)]),
                        409 if isinstance(refused, ConcurrencyConflictError) else 422)
    query = {"done": spec.name}
    created = _created_numbers(result.result, result.number)
    if created:
        query["created"] = ",".join(created)
    return Redirect(f"/{case_type.resource}/{result.number}?{urlencode(query)}",
                    status_code=303)


def _refused(case_type: CaseType, request: Request[Any, Any, Any], caller: Principal,
             number: str, form: StepForm, status: int) -> Template:
    context = _context(case_type, request, caller, number, form)
    return page(request, caller, "case.html", status_code=status,
                title=f"{case_type.title} {context['number']}", **context)


def _what_changed(request: Request[Any, Any, Any], caller: Principal, case_type: CaseType,
                  number: str, since: int) -> dict[str, Any]:
    """The events recorded after the version the form was filled on, and the fields they
    changed (then → now), as the auditor's diff computes them."""
    app = services_of(request).app
    with acting_as(caller), app.reading():
        case = case_type.load(app, number)
        label = case_label(str(case.number)) or str(case.number)
        entries = history(app, case.id, label)
        fields = diff(app, case.id, since, int(case.version), label) if since >= 1 else {}
    return {"since": since, "now": int(case.version),
            "events": [e for e in entries if e.version > since],
            "fields": {k: v for k, v in fields.items() if k != "version"}}


def _case_routes(case_type: CaseType) -> list[Any]:
    resource = case_type.resource

    def show(request: Request[Any, Any, Any], caller: Principal, number: str,
             done: str | None = None, created: str | None = None) -> Template:
        return _show(case_type, request, caller, number, done,
                     (created or "").split(",") if created else [])

    async def submit(request: Request[Any, Any, Any], caller: Principal, number: str,
                     command: str) -> Response[Any]:
        spec = case_type.spec(command)
        if spec is None:
            raise NotFoundError(f"step of {resource}", command)
        sent = await request.form()
        return await anyio.to_thread.run_sync(
            partial(_submit, case_type, spec, request, caller, number, sent))

    show.__annotations__ = {"request": Request[Any, Any, Any], "caller": Caller,
                            "number": CaseNumber, "done": OptionalQuery,
                            "created": OptionalQuery,
                            "return": Template}
    submit.__annotations__ = {"request": Request[Any, Any, Any], "caller": Caller,
                              "number": CaseNumber, "command": FromPath[str],
                              "return": Response[Any]}
    show.__name__ = show.__qualname__ = f"page_{resource}"
    submit.__name__ = submit.__qualname__ = f"page_{resource}_step"
    return [get(f"/{resource}/{{number:str}}", sync_to_thread=True,
                include_in_schema=False)(show),
            post(f"/{resource}/{{number:str}}/{{command:str}}", include_in_schema=False,
                 status_code=303)(submit)]


@get("/plans/{number:str}/evidence/{sha256:str}", sync_to_thread=True,
     include_in_schema=False)
def evidence_document(request: Request[Any, Any, Any], caller: Caller, number: CaseNumber,
                      sha256: FromPath[str]) -> Response[bytes]:
    """An action's evidence, to whoever may read the plan, only as a download of the type
    it was accepted as (never rendered by the browser as a page of this site)."""
    caller.require("read:plans")
    app = services_of(request).app
    with acting_as(caller), app.reading():
        plan = app.get_plan(number)
    digests = {a.evidence.sha256 for a in plan.actions if a.evidence is not None}
    if sha256 not in digests:
        raise NotFoundError("evidence document", sha256[:64])
    found = EvidenceStore(SqlTables(app.recorder)).fetch(sha256)
    if found is None:
        raise NotFoundError("evidence document", sha256)
    document, content = found
    return Response(content, media_type=document.content_type, headers={
        "Content-Disposition": f'attachment; filename="{document.file_name}"',
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, no-store"})


ROUTES: list[Any] = [route for case_type in CASE_TYPES.values()
                     for route in _case_routes(case_type)]
ROUTES.append(evidence_document)
