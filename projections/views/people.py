"""People: every user with their e-mail address, roles, districts and importers, as they
are now. The scheduler reads it to know whom to tell (an importer's representatives, a
district's supervisors) in one query, instead of loading every user from the log.

Lists are kept space-delimited with a space at each end (" officer supervisor "), so a
grant or a revocation is one UPDATE on either store without reading the row first."""

from __future__ import annotations

from typing import Any, ClassVar

from domain.user import User
from projections.view import Handler, Statement, View

CREATE = ("INSERT INTO {people_users} (username, email, enabled, roles, districts, importers) "
          "VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT (username) DO NOTHING")
GRANT = ("UPDATE {people_users} SET roles = CASE WHEN roles LIKE ? THEN roles "
         "ELSE roles || ? END WHERE username = ?")
REVOKE = "UPDATE {people_users} SET roles = REPLACE(roles, ?, ' ') WHERE username = ?"


def spaced(values: Any) -> str:
    return " " + " ".join(str(v) for v in values) + " " if values else " "


def _set(column: str, value: Any) -> Handler:
    def handler(_: Any, event: Any, __: int) -> list[Statement]:
        return [Statement(f"UPDATE {{people_users}} SET {column} = ? WHERE username = "
                          "(SELECT username FROM {people_ids} WHERE user_id = ?)",
                          (value(event), str(event.originator_id)))]
    return handler


def _granted(_: Any, event: Any, __: int) -> list[Statement]:
    role = str(event.role)
    return [Statement(GRANT.replace("WHERE username = ?", "WHERE username = (SELECT "
                                    "username FROM {people_ids} WHERE user_id = ?)"),
                      (f"% {role} %", f"{role} ", str(event.originator_id)))]


def _revoked(_: Any, event: Any, __: int) -> list[Statement]:
    return [Statement(REVOKE.replace("WHERE username = ?", "WHERE username = (SELECT "
                                     "username FROM {people_ids} WHERE user_id = ?)"),
                      (f" {event.role} ", str(event.originator_id)))]


def _created(_: Any, event: Any, __: int) -> list[Statement]:
    """Also files the user's id under its name: later events carry only the id."""
    return [Statement("INSERT INTO {people_ids} (user_id, username) VALUES (?, ?) "
                      "ON CONFLICT (user_id) DO NOTHING",
                      (str(event.originator_id), event.username)),
            Statement(CREATE, (event.username, event.email, spaced(event.roles),
                               spaced(event.districts), spaced(event.importers)))]


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
