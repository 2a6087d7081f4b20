"""Who may be given work: the person a command names to take a case on (an assessment's or
a verification's officer, an importer account's manager), checked once here for every
interface (CLI, HTTP, web pages, the work list's bulk assignment).

The person must be an enabled user (`user:<username>`, resolved as an actor is, by
`principal_for_actor`), holding a role that does casework (ASSIGNEE_ROLES), whose districts
include the case's or the account's district (a national user works in every district).
Anything else is refused with InvalidValueError naming the field, before anything is
written. A `system:<job>` actor works, but is never given work: nobody could be asked
about it.

The check is part of access control: a ledger built without it (the application's own
tests and loaders, which also name whichever actors they like) names whom it likes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from application.access import Principal, UnknownActorError
from application.case_store import CaseStore
from application.histories import HistoryRequest
from domain.errors import DomainError, InvalidValueError
from domain.user import Role, parse_username, user_id
from domain.values import parse_actor

ASSIGNEE_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR})
"""The roles that do casework (survey, test, re-test: application.access's _CASEWORK):
officers, and supervisors, who may do their officers' work (the work list offers both).
An importer's account is managed by the same people: managing an account is casework
(setting its class, its partnerships, suspending it are an officer's permissions), and the
domain's account managers are customs officers, so an account manager holds one of these
roles too; an analyst, an auditor, an admin or a representative does not."""

_RESOLVED: ContextVar[dict[str, Principal] | None] = ContextVar("resolved_assignees",
                                                                default=None)
"""People checked already by the running `assigning` block (a bulk assignment), by actor."""


class Assignees(CaseStore):
    """The check, shared by the command modules that name a person to be given work."""

    def _check_assignee(self, field: str, person: str, district: str) -> None:
        """Refuse (InvalidValueError naming `field`) unless `person` may be given work in
        `district` (see the module's docstring)."""
        if not self.access_control:
            return
        principal = self._assignee(field, person)
        if principal.districts is not None and district not in principal.districts:
            raise InvalidValueError(field, person, f"{person} does not work in district "
                                                   f"{district}")

    def _check_owner(self, field: str, person: str, district: str, importer: str) -> None:
        """Refuse (InvalidValueError naming `field`) unless `person` may own an action of
        a plan of `importer` in `district`: a representative of that importer (who answers
        for the company's actions), or someone who may be given work in the district (an
        officer who takes an action on for the importer). Anyone else, a representative of
        another importer above all, would be named on a plan that is not theirs to see."""
        if not self.access_control:
            return
        principal = self._user(field, person)
        if principal.importers is not None:
            if importer not in principal.importers:
                raise InvalidValueError(field, person, f"{person} does not represent "
                                                       f"importer {importer}")
            return
        if not principal.roles & ASSIGNEE_ROLES:
            raise InvalidValueError(field, person, f"{person} is neither a representative "
                                                   f"of importer {importer} nor an officer")
        if principal.districts is not None and district not in principal.districts:
            raise InvalidValueError(field, person, f"{person} does not work in district "
                                                   f"{district}")

    def _assignee(self, field: str, person: str) -> Principal:
        resolved = _RESOLVED.get()
        if resolved is not None and person in resolved:
            return resolved[person]
        principal = self._user(field, person)
        if not principal.roles & ASSIGNEE_ROLES:
            raise InvalidValueError(field, person, f"{person} is not an officer (nor a "
                                                   "supervisor)")
        return principal

    def _user(self, field: str, person: str) -> Principal:
        """The enabled user `person` names (`user:<username>`), else InvalidValueError
        naming `field`."""
        parse_actor(person, field)
        if not person.startswith("user:"):
            raise InvalidValueError(field, person, f"{person} is not a person: work is "
                                                   "given to a user")
        try:
            return self.principal_for_actor(person)
        except UnknownActorError as unknown:
            raise InvalidValueError(field, person, str(unknown)) from None

    def _assignee_loads(self, person: str) -> list[HistoryRequest]:
        """The named user, to fetch with the command's case in one query (`_once`'s
        `loads`): nothing when the check is off, was done already, or the name is not a
        user's (the check refuses it without loading anything)."""
        resolved = _RESOLVED.get()
        if (not self.access_control or not isinstance(person, str)
                or not person.startswith("user:") or (resolved and person in resolved)):
            return []
        try:
            return [HistoryRequest.full(user_id(parse_username(person[5:])))]
        except DomainError:
            return []

    @contextmanager
    def assigning(self, field: str, person: str) -> Iterator[None]:
        """Checks `person` (all but the district) once, refusing before any work, and lets
        the commands run inside reuse the answer: a bulk assignment loads its officer once,
        not once per case. Each case's district is still checked by its command."""
        resolved = dict(_RESOLVED.get() or {})
        if self.access_control:
            resolved[person] = self._assignee(field, person)
        token = _RESOLVED.set(resolved)
        try:
            yield
        finally:
            _RESOLVED.reset(token)
