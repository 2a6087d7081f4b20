"""The people the demos' cases name, created before the demos act, so that the demos run
with access control on and every actor in their log is a user holding the role its
commands need, within its scope.

Created by `system:demo` (system actors hold the admin role), in one transaction: the
demo creates hundreds of users and one command per user would be the slowest part of it.
Only the users whose logins the demo prints get a password, all the same one, hashed once
(argon2 is slow on purpose: hashing it per user would take minutes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from application.compliance_cases import ComplianceCases
from domain.reference import DISTRICTS
from domain.user import USER_DIRECTORY_ID, Role, User, UserDirectory

SYSTEM = "system:demo"
DEMO_PASSWORD = "harbour-ledger-walkthrough"
"""Printed by the demo with its logins; long enough for the password policy, and in no
list of common passwords. A demo ledger is for trying things, never for real cases."""
ACCOUNT_MANAGERS = 60
OFFICERS_PER_DISTRICT = 4
REVIEWERS_PER_DISTRICT = 3
ANALYST, SUPERVISOR = "user:analyst.national", "user:supervisor.national"
LOGIN_ORDER = (Role.ADMIN, Role.OFFICER, Role.SUPERVISOR, Role.ANALYST, Role.AUDITOR,
               Role.IMPORTER_REPRESENTATIVE)


@dataclass(frozen=True)
class Person:
    username: str
    roles: tuple[Role, ...]
    districts: tuple[str, ...] = ()
    importers: tuple[str, ...] = ()


def representative(importer_number: str) -> str:
    """The actor of an importer's representative in the demo: `user:rep-<number>`."""
    return f"user:rep-{importer_number.replace('-', '').lower()}"


def national_people() -> list[Person]:
    """Who every demo needs: an admin and an auditor to log in as, and the national risk
    centre's analyst, who drafts the demo's targeting rules, and supervisor, who approves
    and publishes them (rules are an analyst's work, so that supervisor is an analyst
    too; the approver is never the author)."""
    return [Person("admin", (Role.ADMIN,)), Person("auditor", (Role.AUDITOR,)),
            Person("analyst.national", (Role.ANALYST,)),
            Person("supervisor.national", (Role.SUPERVISOR, Role.ANALYST))]


def district_people(districts: Iterable[str] = DISTRICTS) -> list[Person]:
    """Each district's officers, supervisor, enforcement evaluation team (supervisors who
    review) and analyst, and the national account managers (officers)."""
    people = []
    for district in districts:
        scope = (district,)
        people += [Person(f"officer-{district}-{n}", (Role.OFFICER,), scope)
                   for n in range(1, OFFICERS_PER_DISTRICT + 1)]
        people.append(Person(f"supervisor-{district}", (Role.SUPERVISOR,), scope))
        people += [Person(f"eet-{district}-{n}", (Role.SUPERVISOR,), scope)
                   for n in range(1, REVIEWERS_PER_DISTRICT + 1)]
        people.append(Person(f"analyst-{district}", (Role.ANALYST,), scope))
    people += [Person(f"am-{n:02d}", (Role.OFFICER,)) for n in range(1, ACCOUNT_MANAGERS + 1)]
    return people


def representatives(importer_numbers: Iterable[str]) -> list[Person]:
    return [Person(representative(number).removeprefix("user:"),
                   (Role.IMPORTER_REPRESENTATIVE,), importers=(number,))
            for number in dict.fromkeys(importer_numbers)]


DEMO_MAIL_DOMAINS = ("customs.example.org", "importers.example.org")
"""Reserved example domains (RFC 2606): the demo's reminders go to a test SMTP server,
never to a real mailbox."""


def demo_email(person: Person) -> str:
    staff, importers = DEMO_MAIL_DOMAINS
    return f"{person.username}@{importers if person.importers else staff}"


def create_people(app: ComplianceCases, people: Iterable[Person], at: datetime) -> int:
    """Creates those not yet users, and lists them in the user directory, in one
    transaction, as `system:demo`; returns how many were created."""
    app.authorise(SYSTEM, "add_user")
    directory = app.find_aggregate(USER_DIRECTORY_ID)
    if directory is None:
        directory = UserDirectory.start(actor=SYSTEM, at=at)
    assert isinstance(directory, UserDirectory)
    known = set(directory.usernames)
    created = []
    for person in people:
        if person.username in known:
            continue
        known.add(person.username)
        created.append(User.create(person.username, roles=person.roles,
                                   districts=person.districts, importers=person.importers,
                                   email=demo_email(person), actor=SYSTEM,
                                   reason="demo staff", at=at))
        directory.list_user(person.username, actor=SYSTEM, at=at)
    if created:
        app.save(directory, *created)
    return len(created)


def give_logins(app: ComplianceCases, logins: Mapping[Role, str], password_hash: str,
                at: datetime) -> None:
    """The demo password (already hashed, once) for the users whose logins are printed."""
    users = []
    for username in dict.fromkeys(logins.values()):
        user = app.get_user(username)
        user.set_password_hash(password_hash, actor=SYSTEM, reason="demo login", at=at)
        users.append(user)
    app.save(*users)


def login_lines(logins: Mapping[Role, str]) -> list[str]:
    """`demo logins (password: ...)` and one `role: username` line per role."""
    width = max(len(role.value) for role in logins) if logins else 0
    return [f"demo logins (password: {DEMO_PASSWORD}):",
            *(f"  {role.value:<{width}}  {logins[role]}" for role in LOGIN_ORDER
              if role in logins)]


__all__ = ["ANALYST", "DEMO_PASSWORD", "SUPERVISOR", "Person", "create_people",
           "district_people", "give_logins", "login_lines", "national_people",
           "representative", "representatives"]
