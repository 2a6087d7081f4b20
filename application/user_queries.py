"""The users page's list: the people view (projections.views.people: every user's name,
e-mail, roles, districts, importers and whether enabled, as they are now) filtered by role,
district, state and part of the name or address, paged by seek on the username.

One query over the view, never a replay of the log for the list: a national ledger has a
representative per importer, hundreds of users. The page then loads only the users it
shows (for what the view does not hold: locked, last login, tokens)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from application.account_page_queries import ViewReader
from domain.errors import InvalidValueError
from domain.user import Role, parse_username
from domain.values import parse_district

USER_STATES = ("enabled", "disabled")
MAX_TEXT = 100


@dataclass(frozen=True)
class UserFilter:
    role: str | None = None
    district: str | None = None
    """Users who work in this district (national users are not listed under one)."""
    state: str | None = None
    text: str | None = None
    """Part of the username or e-mail address (any case)."""


@dataclass(frozen=True)
class UserPage:
    usernames: list[str]
    next_cursor: str | None


def checked_user_filter(role: str | None, district: str | None, state: str | None,
                        text: str | None) -> UserFilter:
    """The filters as typed (empty means none); InvalidValueError naming the first bad one."""
    if role and role not in {r.value for r in Role}:
        raise InvalidValueError("role", role, "one of " + ", ".join(r.value for r in Role))
    if state and state not in USER_STATES:
        raise InvalidValueError("state", state, "enabled or disabled")
    words = " ".join((text or "").split())
    if len(words) > MAX_TEXT:
        raise InvalidValueError("q", words[:20] + "...", f"at most {MAX_TEXT} characters")
    return UserFilter(role or None, parse_district(district) if district else None,
                      state or None, words or None)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def user_page(reader: ViewReader, wanted: UserFilter, *, limit: int = 50,
              cursor: str | None = None) -> UserPage:
    """A page of usernames in username order (the view's primary key)."""
    clauses: list[str] = []
    params: list[Any] = []
    if wanted.role:
        clauses.append("roles LIKE ?")
        params.append(f"% {wanted.role} %")
    if wanted.district:
        clauses.append("districts LIKE ?")
        params.append(f"% {wanted.district} %")
    if wanted.state:
        clauses.append("enabled = ?")
        params.append(1 if wanted.state == "enabled" else 0)
    if wanted.text:
        clauses.append("(LOWER(username) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(email, '')) "
                       "LIKE ? ESCAPE '\\')")
        params += [_like(wanted.text.lower())] * 2
    name = reader.collated("username {code_points}")
    if cursor:
        try:
            after = parse_username(cursor, "cursor")
        except InvalidValueError:
            raise InvalidValueError("cursor", cursor[:40], "not a cursor this list gave; "
                                    "start again from the first page") from None
        clauses.append(f"{name} > ?")
        params.append(after)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    found = reader.rows(f"SELECT username FROM {reader.qualified('people_users')}{where} "
                        f"ORDER BY {name} LIMIT ?", [*params, limit + 1])
    names = [str(row[0]) for row in found[:limit]]
    return UserPage(names, names[-1] if len(found) > limit else None)
