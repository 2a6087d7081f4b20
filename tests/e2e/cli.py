"""Run `compliance` commands against a given store: in this process through the
executable's own entry point by default (tests/e2e/in_process.py: same exit code, stdout
and stderr as a process, without its second of imports), or as the installed executable in
a subprocess with `Cli(env, process=True)`, for tests that need a process boundary
(kills, signals, locks or races between processes, servers, workers, the README).

Every command that records something names its `--actor`, and the application refuses an
actor that is not an enabled user holding a role for the command (exit 3). The tests are
about the commands, not about who may run them (tests/e2e/test_cli_users.py and
tests/integration/test_access_control.py are), so `Cli` provisions users first:

- before running a command whose `--actor user:NAME` names a user this store does not
  have yet, it adds that user in-process (the application built with access control off
  on the same store, actor `system:test-setup`);
- a name that looks like an importer's representative's (it contains `rep`, `broker` or
  `importer`) becomes an `importer_representative` bound to the importer of the case the
  command names (CA-/IP-/EA-/FV- number, looked up in the store) or to the importer number
  it names; when it names neither, nothing is provisioned and the command is refused as it
  would be for anyone;
- any other name becomes a national user with the roles officer, supervisor, analyst and
  admin, so that it may run every customs command on every case;
- `audit --actor` is a filter, not an actor, and names nobody to provision;
- the person an assignment names (`assessments assign` and `verifications assign`
  `--officer`, `accounts assign-manager --manager`) is provisioned like an actor, since
  only a user who may take the work is accepted (application.assignees); a test of that
  refusal runs the command with `Cli.as_is`.

Tests of refusals still see them: a disabled user exists (so it is not provisioned again),
an actor that is not `user:<valid name>` is left to the command, and `Cli.as_is` runs a
command without provisioning anyone (an unknown actor must be refused).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.case_numbers import case_id, is_case_number
from domain.errors import DomainError
from domain.user import Role, parse_username
from domain.values import parse_importer_number
from infrastructure.settings import load_settings
from interfaces.composition import build_application
from tests.e2e.in_process import run_in_process

EXECUTABLE = Path(sys.executable).parent / "compliance"
SETUP_ACTOR = "system:test-setup"
PROCESSES_VARIABLE = "E2E_CLI_PROCESSES"
"""Set to 1, every Cli not told otherwise runs its commands as processes: to compare the
two ways."""
REPRESENTATIVE_NAME = re.compile(r"rep|broker|importer")
CUSTOMS_ROLES = (Role.OFFICER, Role.SUPERVISOR, Role.ANALYST, Role.ADMIN)
ASSIGNMENTS = {("assessments", "assign"): "--officer", ("verifications", "assign"): "--officer",
               ("accounts", "assign-manager"): "--manager"}
"""The commands that name a person to be given work, and the option naming them."""


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def named_actors(args: Sequence[str]) -> list[str]:
    """The usernames the command's `--actor user:NAME` options name, and the person an
    assignment names (valid names only)."""
    if args and args[0] == "audit":
        return []
    options = ["--actor"]
    if tuple(args[:2]) in ASSIGNMENTS:
        options.append(ASSIGNMENTS[(args[0], args[1])])
    values = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg in options]
    values += [arg.split("=", 1)[1] for arg in args
               if arg.split("=", 1)[0] in options and "=" in arg]
    names = []
    for value in values:
        if not value.startswith("user:"):
            continue
        try:
            name = parse_username(value[5:])
        except DomainError:
            continue
        if name == value[5:]:
            names.append(name)
    return names


def _importers_named(app: Any, args: Sequence[str]) -> list[str]:
    """The importer of the first case the command names, else the first importer number."""
    for arg in args:
        if is_case_number(arg):
            found = app.find_aggregate(case_id(arg))
            number = getattr(found, "importer_number", None)
            if isinstance(number, str):
                return [number]
    for arg in args:
        try:
            return [parse_importer_number(arg)]
        except DomainError:
            continue
    return []


def provision_actors(env: Mapping[str, str], args: Sequence[str], known: set[str]) -> None:
    """Adds the users `args` act as that the store does not have yet (see the module's
    docstring); `known` remembers those already seen, so the store is opened only for a
    name this Cli has not met."""
    wanted = [name for name in named_actors(args) if name not in known]
    if not wanted:
        return
    try:
        app = build_application(load_settings(dict(env)), access_control=False)
    except Exception:  # no ledger yet, or none this version opens: the command says so
        return
    try:
        for name in wanted:
            if app.find_user(name) is not None:
                known.add(name)
                continue
            if REPRESENTATIVE_NAME.search(name):
                importers = _importers_named(app, args)
                if not importers:
                    continue
                app.add_user(name, roles=[Role.IMPORTER_REPRESENTATIVE], importers=importers,
                             actor=SETUP_ACTOR, reason="representative named by a test")
            else:
                app.add_user(name, roles=CUSTOMS_ROLES, actor=SETUP_ACTOR,
                             reason="customs staff named by a test")
            known.add(name)
    finally:
        app.close()


class Cli:
    """Commands on one store; `env` is what the command's process sees: this process's
    environment, less the store settings `env` does not name, plus `env`."""

    def __init__(self, env: dict[str, str], *, process: bool | None = None) -> None:
        if process is None:  # in this process, unless E2E_CLI_PROCESSES=1
            process = os.environ.get(PROCESSES_VARIABLE) == "1"
        self.process = process
        self.env = {**os.environ, **env}
        for key in ("COMPLIANCE_DATABASE_URL", "COMPLIANCE_SQLITE_PATH",
                    "COMPLIANCE_POSTGRES_SCHEMA", "COMPLIANCE_SEAL_KEY",
                    "COMPLIANCE_SEAL_PUBLIC_KEY", "COMPLIANCE_SNAPSHOT_INTERVAL",
                    "COMPLIANCE_SEAL_WITNESS"):
            if key not in env:
                self.env.pop(key, None)
        self.known_users: set[str] = set()

    def __call__(self, *args: str, stdin: str | None = None) -> Result:
        provision_actors(self.env, args, self.known_users)
        return self.as_is(*args, stdin=stdin)

    def as_is(self, *args: str, stdin: str | None = None) -> Result:
        """The command as given, provisioning nobody (see the module's docstring)."""
        if not self.process:
            return Result(*run_in_process(self.env, args, stdin))
        done = subprocess.run([str(EXECUTABLE), *args], env=self.env, capture_output=True,
                              text=True, timeout=120, check=False, input=stdin)
        return Result(done.returncode, done.stdout, done.stderr)

    def separate(self) -> Cli:
        """This Cli's store, users already provisioned and environment, with every
        command run as the installed executable in a process of its own."""
        other = Cli({}, process=True)
        other.env, other.known_users = self.env, self.known_users
        return other

    def ok(self, *args: str, stdin: str | None = None) -> Result:
        result = self(*args, stdin=stdin)
        assert result.code == 0, f"{args} failed ({result.code}): {result.err}"
        return result

    def provision(self, actors: Iterable[str], *args: str) -> None:
        """Provisions these actors now, as if a command naming them and `args` ran."""
        provision_actors(self.env, [*(a for actor in actors for a in ("--actor", actor)),
                                    *args], self.known_users)

    def events(self) -> int:
        return int(self.ok("status", "--json").json()["events"])
