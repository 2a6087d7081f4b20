"""People: every user with their e-mail address, roles, districts and importers, as they
are now. The scheduler reads it to know whom to tell (an importer's representatives, a
district's supervisors) in one query, instead of loading every user from the log.

Lists are kept space-delimited with a space at each end (" officer supervisor "), so a
grant or a revocation is one UPDATE on either store without reading the row first."""

from __future__ import annotations

from typing import Any, ClassVar

from domain.user import User
from projections.rows import Lookup, Rows, WithoutWord, WithWord
from projections.view import Handler, View

USERS, IDS = "people_users", "people_ids"


def spaced(values: Any) -> str:
    return " " + " ".join(str(v) for v in values) + " " if values else " "


def _user(event: Any) -> Lookup:
    """The user's row, found by name: later events carry only the user's id."""
    return Lookup(IDS, str(event.originator_id), "username")


def _set(column: str, value: Any) -> Handler:
    def handler(rows: Rows, event: Any, _: int) -> None:
        rows.update(USERS, _user(event), {column: value(event)})
    return handler


def _granted(rows: Rows, event: Any, _: int) -> None:
    rows.update(USERS, _user(event), {"roles": WithWord(str(event.role))})


def _revoked(rows: Rows, event: Any, _: int) -> None:
    rows.update(USERS, _user(event), {"roles": WithoutWord(str(event.role))})


def _created(rows: Rows, event: Any, _: int) -> None:
    """Also files the user's id under its name."""
    rows.insert(IDS, (str(event.originator_id), event.username))
    rows.insert(USERS, (event.username, event.email, 1, spaced(event.roles),
                        spaced(event.districts), spaced(event.importers)))


class People(View):
    name = "people"
    tables: ClassVar[dict[str, str]] = {
        "people_users": ("username TEXT PRIMARY KEY, email TEXT, enabled INTEGER NOT NULL, "
                     "roles TEXT NOT NULL, districts TEXT NOT NULL, importers TEXT NOT NULL"),
        "people_ids": "user_id TEXT PRIMARY KEY, username TEXT NOT NULL",
    }
    handlers: ClassVar[dict[type[Any], Handler]] = {
        User.Created: _created,
        User.EmailSet: _set("email", lambda e: e.email),
        User.RoleGranted: _granted,
        User.RoleRevoked: _revoked,
        User.DistrictsAssigned: _set("districts", lambda e: spaced(e.districts)),
        User.ImportersAssigned: _set("importers", lambda e: spaced(e.importers)),
        User.Disabled: _set("enabled", lambda _: 0),
        User.Enabled: _set("enabled", lambda _: 1),
    }


PEOPLE_COLUMNS = ("username", "email", "enabled", "roles", "districts", "importers")
