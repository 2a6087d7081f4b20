"""The user pages' forms: what a form sent, kept to be shown again (a password never),
with each refusal by field, and the API's command body built from it. The forms use the
API's own field names, so a refusal that names a field lands beside it."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Request
from litestar.datastructures import FormMultiDict

from application.receipts import parse_idempotency_key, receipt_id
from domain.errors import InvalidValueError
from domain.password_policy import MIN_LENGTH
from domain.reference import DISTRICTS
from domain.user import Role
from interfaces.http.auth import services_of
from interfaces.http.users import UserCommand

AnyRequest = Request[Any, Any, Any]
LIST_FIELDS = frozenset({"roles", "districts", "importers"})
CHOSEN_FIELDS = frozenset({"roles", "districts"})
"""Chosen from options (several values); importers are typed, as one text."""
SECRET_INPUTS = frozenset({"password"})
"""Never sent back into a page, even when the form is refused."""
ALIASES = {"role": "roles", "district": "districts", "importer": "importers",
           "token": "token_id"}
"""The domain names one item (`role`); a form field may hold several (`roles`)."""
ROLES = [(role.value, role.value.replace("_", " ")) for role in Role]
DISTRICT_CHOICES = [(code, f"{code} · {name}") for code, name in DISTRICTS.items()]
PASSWORD_POLICY = (f"At least {MIN_LENGTH} characters (a passphrase is welcome), not a "
                   "commonly used password, and not containing the username.")


@dataclass
class Sent:
    """One form: what the user typed (a password never) and its refusals by field."""

    command: str
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    refusal: str = ""
    version: int | None = None
    key: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def of(cls, command: str, form: FormMultiDict) -> Sent:
        values: dict[str, Any] = {}
        for name in form:
            if name in CHOSEN_FIELDS:
                values[name] = [v for v in form.getall(name, []) if isinstance(v, str) and v]
            elif name not in SECRET_INPUTS and isinstance(form.get(name), str):
                values[name] = str(form.get(name))
        values.pop("csrf_token", None)
        version = str(values.pop("version", ""))
        key = str(values.pop("idempotency_key", "")) or uuid.uuid4().hex
        return cls(command, values, version=int(version) if version.isdigit() else None,
                   key=key)

    def refuse(self, name: str, reason: str, fields: tuple[str, ...]) -> None:
        name = ALIASES.get(name, name) if name not in fields else name
        if name in fields:
            self.errors.setdefault(name, reason)
        else:
            self.refusal = f"{name}: {reason}" if name else reason


def items(form: FormMultiDict, name: str) -> list[str]:
    """A list field: chosen options, or importer numbers typed with commas or spaces."""
    values = [v for v in form.getall(name, []) if isinstance(v, str)]
    return [item for value in values for item in re.split(r"[,\s]+", value) if item]


def command_body(spec: UserCommand, form: FormMultiDict) -> Any:
    """The API's body for the command, from the form (an empty e-mail clears it, an empty
    initial password leaves the user without one until an admin sets it)."""
    data: dict[str, Any] = {}
    for name in spec.body.__struct_fields__:
        if name in LIST_FIELDS:
            data[name] = items(form, name)
            continue
        value = form.get(name)
        text = value if isinstance(value, str) else ""
        blank = not text.strip() if name == "email" else (
            name == "password" and spec.creates and not text)
        data[name] = None if blank else text
    return msgspec.convert(data, spec.body)


def answered(request: AnyRequest, key: str | None) -> bool:
    """A repeat of a form that was recorded (a double click): its receipt answers it."""
    if key is None:
        return False
    try:
        return services_of(request).app.find_aggregate(
            receipt_id(parse_idempotency_key(key))) is not None
    except InvalidValueError:
        return False
