"""A form for each command, derived from the command's own body (the msgspec Struct the
API takes, interfaces/http/<resource>.py SPECS): one field per body field, the widget
chosen by the field's type and name, the choices from the domain's enums and the case at
hand (its scoped areas, its actions). Nothing about a step is written twice: the API and
the page send the same body to the same `execute`, so the same checks refuse the same
input with the same field named.

A form comes back as the body Struct (`parse_form`), with every unreadable field named at
once; the command's own parsers then check the values."""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import msgspec
from litestar.datastructures import FormMultiDict, UploadFile

from domain.enforcement_action import ResponseKind, Vote
from domain.importer_account import ComplianceClass, PartnershipProgramme
from domain.penalties import Culpability
from domain.reference import ComplianceArea, ControlRating
from domain.targeting_rule import Channel
from interfaces.http.commands import CommandSpec
from interfaces.http.problems import InvalidParam, InvalidRequestError


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    name: str
    """The form control's name: the body field, or `field.key` for one entry of a map."""
    label: str
    widget: str
    """text, textarea, date, number, decimal, select, checkbox, json, file, list."""
    required: bool
    choices: tuple[Choice, ...] = ()
    value: str = ""
    error: str = ""
    help: str = ""

    @property
    def dom_id(self) -> str:
        return "f-" + "".join(c if c.isalnum() else "-" for c in self.name)


@dataclass(frozen=True)
class StepForm:
    """One command's form on one case."""

    command: str
    """The HTTP command's name (`assign`, `add-action`): the form posts to
    /<resource>/<number>/<command>."""
    permission: str
    title: str
    fields: tuple[FormField, ...]
    version: int
    idempotency_key: str
    errors: tuple[str, ...] = ()
    """Refusals that name no field (a business rule, a state)."""
    open: bool = False
    multipart: bool = False
    danger: bool = False


_TEXTAREAS = frozenset({"reason", "description", "facts", "summary", "evidence"})
_DATES = frozenset({"surveyed_on", "due_on", "completed_on", "paid_on", "response_due_on",
                    "joined_on", "left_on", "effective_from", "effective_to",
                    "examinations_until", "registered_on", "period_start", "period_end"})
_COUNTS = frozenset({"lines_tested", "discrepancies"})
_AMOUNTS = frozenset({"value_tested", "value_in_error", "revenue_loss", "duty_paid", "amount",
                      "domestic_value", "dutiable_value"})
_LABELS = {"reason": "Reason (recorded with the event)", "officer": "Officer (user:<name>)",
           "owner": "Owner (user:<name>: the importer's representative or an officer)",
           "action_id": "Action",
           "sha256": "Document SHA-256", "duty_paid": "Duty paid in the period",
           "fraud_indicators": "Fraud indicators found", "kind": "Kind",
           "response_due_on": "Response due on", "value_in_error": "Value in error"}
_DANGER = frozenset({"cancel", "withdraw", "escalate", "retire", "close", "send-back",
                     "suspend"})


def _enum(kind: type[StrEnum]) -> tuple[Choice, ...]:
    return tuple(Choice(m.value, m.value.replace("_", " ")) for m in kind)


_ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "vote": Vote, "culpability": Culpability, "programme": PartnershipProgramme,
    "compliance_class": ComplianceClass, "channel": Channel, "area": ComplianceArea,
}
_ENUM_BY_COMMAND: dict[tuple[str, str], type[StrEnum]] = {
    ("respond", "kind"): ResponseKind,
}


def _areas(case: Any) -> tuple[ComplianceArea, ...]:
    """The areas a step on this case may name: an assessment's scope, a plan's deficient
    areas, a verification's areas."""
    for attribute in ("scope", "deficient_areas", "areas"):
        found = getattr(case, attribute, None)
        if found:
            return tuple(found)
    return tuple(ComplianceArea)


def _actions(case: Any, command: str) -> tuple[Choice, ...]:
    actions = getattr(case, "actions", ())
    if command == "complete-action":
        actions = [a for a in actions if not a.is_completed]
    return tuple(Choice(a.action_id, f"{a.action_id} · {a.area.value} · {a.description[:60]}")
                 for a in actions)


def _base_type(annotation: Any) -> tuple[Any, bool]:
    """(the type, optional?) of `X | None`."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (members[0] if len(members) == 1 else annotation), True
    return annotation, False


def _label(name: str) -> str:
    return _LABELS.get(name, name.replace("_", " ").capitalize())


def form_fields(spec: CommandSpec, case: Any) -> tuple[FormField, ...]:
    """The controls of `spec`'s form on `case`."""
    fields: list[FormField] = []
    for item in msgspec.structs.fields(spec.body):
        name = item.encode_name
        kind, optional = _base_type(item.type)
        required = item.required and not optional
        if name == "ratings":
            for area in _areas(case):
                fields.append(FormField(f"ratings.{area.value}",
                                        f"Internal controls: {area.value.replace('_', ' ')}",
                                        "select", True, _enum(ControlRating)))
            continue
        if name == "action_id":
            fields.append(FormField(name, _label(name), "select", True, _actions(case, spec.name)))
            continue
        enum = _ENUM_BY_COMMAND.get((spec.name, name)) or _ENUM_FIELDS.get(name)
        if name == "area":
            fields.append(FormField(name, "Area", "select", required,
                                    tuple(Choice(a.value, a.value.replace("_", " "))
                                          for a in _areas(case))))
        elif enum is not None:
            fields.append(FormField(name, _label(name), "select", required, _enum(enum)))
        elif kind is bool:
            fields.append(FormField(name, _label(name), "checkbox", False))
        elif typing.get_origin(kind) is dict:
            fields.append(FormField(name, _label(name), "json", required,
                                    help='a JSON object, e.g. {"origin": ["CN"], '
                                         '"min_value": "10000"}'))
        elif typing.get_origin(kind) is list:
            fields.append(FormField(name, _label(name), "list", required,
                                    help="separated by commas or spaces"))
        elif name in _TEXTAREAS:
            fields.append(FormField(name, _label(name), "textarea", required))
        elif name in _DATES:
            fields.append(FormField(name, _label(name), "date", required))
        elif name in _COUNTS or kind is int:
            fields.append(FormField(name, _label(name), "number", required))
        elif name in _AMOUNTS:
            fields.append(FormField(name, _label(name), "decimal", required,
                                    help="an amount, e.g. 1250.00"))
        else:
            fields.append(FormField(name, _label(name), "text", required))
    reason = [f for f in fields if f.name == "reason"]
    return (*[f for f in fields if f.name != "reason"], *reason)


def step_title(spec: CommandSpec) -> str:
    """The API's summary up to its first explanation ("Issue findings: per-area rates ..."
    → "Issue findings"): a button's words."""
    return re.split(r"[;:]", spec.summary, maxsplit=1)[0].strip()


def build_form(spec: CommandSpec, case: Any, *, idempotency_key: str,
               adapt: Callable[[StepForm], StepForm] | None = None) -> StepForm:
    title = step_title(spec)
    form = StepForm(spec.name, spec.permission, title, form_fields(spec, case),
                    int(case.version), idempotency_key, danger=spec.name in _DANGER)
    return adapt(form) if adapt is not None else form


def with_input(form: StepForm, sent: FormMultiDict, problems: Iterable[InvalidParam],
               errors: Iterable[str], version: int | None = None,
               idempotency_key: str | None = None) -> StepForm:
    """The form again, as the user filled it, each refusal beside its field (a map's, such
    as `ratings`, beside its first control); refusals naming no field of the form go
    above it."""
    by_field = {p.name: p.reason for p in problems}
    placed: set[str] = set()
    fields = []
    for item in form.fields:
        error = by_field.get(item.name, "")
        base = item.name.split(".")[0]
        if not error and base != item.name and base in by_field and base not in placed:
            error = by_field[base]
        if error:
            placed.add(item.name if base == item.name else base)
        value = "" if item.widget == "file" else _sent(sent, item)
        fields.append(replace(item, value=value, error=error))
    unplaced = [f"{p.name}: {p.reason}" for p in problems if p.name not in placed]
    return replace(form, fields=tuple(fields), errors=(*unplaced, *errors), open=True,
                   version=form.version if version is None else version,
                   idempotency_key=idempotency_key or form.idempotency_key)


def _sent(sent: FormMultiDict, item: FormField) -> str:
    value = sent.get(item.name)
    if item.widget == "checkbox":
        return "on" if value else ""
    return value if isinstance(value, str) else ""


def parse_form(spec: CommandSpec, sent: FormMultiDict,
               overrides: dict[str, Any] | None = None) -> Any:
    """The body Struct from a submitted form; every field that can't be read is named."""
    document: dict[str, Any] = {}
    problems: list[InvalidParam] = []
    for item in msgspec.structs.fields(spec.body):
        name = item.encode_name
        kind, optional = _base_type(item.type)
        if overrides and name in overrides:
            document[name] = overrides[name]
            continue
        if name == "ratings":
            document[name] = {key.split(".", 1)[1]: str(value)
                              for key, value in sent.multi_items()
                              if key.startswith("ratings.") and isinstance(value, str)}
            continue
        raw = sent.get(name)
        text = raw.strip() if isinstance(raw, str) else ""
        if kind is bool:
            document[name] = bool(text) if (text or not optional) else None
        elif typing.get_origin(kind) is dict:
            if text:
                try:
                    document[name] = json.loads(text)
                except ValueError:
                    problems.append(InvalidParam(name, "is not a JSON object"))
            elif item.required:
                problems.append(InvalidParam(name, "is required"))
        elif typing.get_origin(kind) is list:
            document[name] = [part for part in text.replace(",", " ").split() if part]
        elif kind is int:
            if text:
                try:
                    document[name] = int(text)
                except ValueError:
                    problems.append(InvalidParam(name, "expected a whole number"))
        elif text:
            document[name] = raw if name in _TEXTAREAS else text
        elif item.required and not optional:
            problems.append(InvalidParam(name, "is required"))
    if problems:
        raise InvalidRequestError(problems)
    try:
        return msgspec.convert(document, spec.body, strict=True)
    except msgspec.ValidationError as bad:
        raise InvalidRequestError([InvalidParam("form", str(bad))]) from None


def uploaded(sent: FormMultiDict, name: str) -> UploadFile | None:
    value = sent.get(name)
    return value if isinstance(value, UploadFile) else None


@dataclass
class StepOutcome:
    """What a submitted step did, for the notice on the page after the redirect."""

    command: str
    version: int
    created: list[str] = field(default_factory=list)
