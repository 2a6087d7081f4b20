"""`compliance users ...` and `compliance tokens ...` through the real executable: the first
admin bootstrapped by a system actor, users added, granted, scoped, disabled and re-enabled,
passwords from stdin and never shown, tokens shown once; and the refusals every command
gets from the ledger's access control (a disabled or unknown actor, a case of another
district), each writing nothing."""

from __future__ import annotations

import pytest

from tests.e2e.cli import Cli, Result

PASSWORD = "a passphrase nobody guesses"
ADMIN = ("--actor", "user:admin", "--reason")
IMPORTER11, IMPORTER12 = "31-4159265AB", "27-1828182CD"


@pytest.fixture
def staffed(cli: Cli) -> Cli:
    """The first admin, added by `system:setup` with a password (cheap argon2 settings)."""
    cli.env |= {"COMPLIANCE_ARGON2_TIME_COST": "1", "COMPLIANCE_ARGON2_MEMORY_KIB": "8"}
    added = cli.ok("users", "add", "admin", "--role", "admin", "--password-stdin",
                   "--actor", "system:setup", "--reason", "first admin", stdin=PASSWORD + "\n")
    assert added.out.strip() == "added user:admin: roles admin; national; password set"
    return cli


def no_secret_in(*results: Result) -> None:
    for result in results:
        text = result.out + result.err
        assert PASSWORD not in text
        assert "$argon2" not in text
        assert "Traceback" not in text


def test_users_are_added_listed_shown_and_changed(staffed: Cli) -> None:
    cli = staffed
    shown = [cli.ok("users", "add", "officer-11", "--role", "officer", "--district", "11",
                    "--email", "o11@customs.example", *ADMIN, "hired"),
             cli.ok("users", "add", "rep-jade", "--role", "importer_representative",
                    "--importer", IMPORTER11, *ADMIN, "the importer's broker")]
    assert "no password: cannot log in" in shown[0].out
    users = {u["username"]: u for u in cli.ok("users", "list", "--json").json()}
    assert sorted(users) == ["admin", "officer-11", "rep-jade"]
    officer = users["officer-11"]
    assert (officer["roles"], officer["districts"], officer["national"], officer["email"],
            officer["enabled"], officer["locked"], officer["password_set"]) == (
        ["officer"], ["11"], False, "o11@customs.example", True, False, False)
    assert users["rep-jade"]["importers"] == [IMPORTER11]
    assert users["admin"]["password_set"] is True
    listed = cli.ok("users", "list")
    assert listed.out.splitlines()[-1] == "3 users"
    assert "importers 31-4159265AB" in listed.out

    shown += [cli.ok("users", "grant", "officer-11", "--role", "supervisor", *ADMIN, "promoted"),
              cli.ok("users", "revoke", "officer-11", "--role", "officer", *ADMIN, "only that"),
              cli.ok("users", "districts", "officer-11", *ADMIN, "moved to the centre"),
              cli.ok("users", "importers", "rep-jade", "--importer", IMPORTER11,
                     "--importer", IMPORTER12, *ADMIN, "second client"),
              cli.ok("users", "disable", "officer-11", *ADMIN, "on leave")]
    assert shown[-3].out.strip() == "user:officer-11: national (version 4)"
    assert shown[-1].out.strip() == "user:officer-11 disabled (version 5); 0 sessions ended"
    text = cli.ok("users", "show", "officer-11")
    assert "     districts: national" in text.out
    assert "         state: disabled" in text.out
    shown += [text, cli.ok("users", "enable", "officer-11", *ADMIN, "back"),
              cli.ok("users", "reset-password", "user:officer-11", "--password-stdin",
                     *ADMIN, "first login", stdin=PASSWORD)]
    assert shown[-1].out.strip() == ("user:officer-11: password reset (version 7); "
                                     "0 sessions ended")
    officer = cli.ok("users", "show", "officer-11", "--json").json()
    assert (officer["roles"], officer["districts"], officer["enabled"],
            officer["password_set"], officer["version"]) == (["supervisor"], [], True, True, 7)
    assert cli.ok("users", "show", "rep-jade", "--json").json()["importers"] == [
        IMPORTER12, IMPORTER11]
    history = cli.ok("history", "user:officer-11", "--json")
    events = [e["event"] for e in history.json()["events"]]
    assert events == ["User.Created", "User.RoleGranted", "User.RoleRevoked",
                      "User.DistrictsAssigned", "User.Disabled", "User.Enabled",
                      "User.PasswordSet"]
    assert history.json()["events"][-1]["data"] == {"password_hash": "<redacted>"}
    text_history = cli.ok("history", "user:officer-11")
    assert "password_hash: - -> <redacted>" in text_history.out
    no_secret_in(*shown, history, text_history, cli.ok("history", "user:admin", "--json"),
                 cli.ok("history", "user:officer-11", "--diff", "1", "7"),
                 cli.ok("history", "user:admin", "--as-of", "2", "--json"),
                 cli.ok("users", "list", "--json"), cli.ok("audit", "--json"))


BAD_INPUT: list[tuple[tuple[str, ...], str | None, int, str]] = [
    (("users", "add", "weak", "--role", "officer", "--password-stdin"), "password1234", 2,
     "password='<redacted>': is a commonly used password"),
    (("users", "add", "weak", "--role", "officer", "--password-stdin"), "weak-name-weak", 2,
     "must not contain the username"),
    (("users", "add", "empty", "--role", "officer", "--password-stdin"), "", 2,
     "no password on stdin"),
    (("users", "add", "wiz", "--role", "wizard"), None, 2, "role='wizard'"),
    (("users", "add", "far", "--role", "officer", "--district", "99"), None, 2,
     "district='99'"),
    (("users", "add", "rep-x", "--role", "importer_representative"), None, 2,
     "must be bound to at least one importer"),
    (("users", "add", "mixed", "--role", "officer", "--role", "importer_representative",
      "--importer", IMPORTER11), None, 3, "[RepresentativeHoldsNoCustomsRole]"),
    (("users", "add", "Bad Name", "--role", "officer"), None, 2, "username="),
    (("users", "add", "admin", "--role", "officer"), None, 3, "[UsernameUnique]"),
    (("users", "grant", "admin", "--role", "auditor"), None, 3,
     "[AdminCannotChangeOwnAccess]"),
    (("users", "revoke", "admin", "--role", "admin"), None, 3, "refused"),
    (("users", "disable", "admin"), None, 3, "[AdminCannotChangeOwnAccess]"),
    (("users", "reset-password", "admin"), None, 2, "--password-stdin"),
    (("users", "grant", "nobody", "--role", "auditor"), None, 4, "not found"),
    (("tokens", "create", "admin", "--name", "ci", "--role", "officer"), None, 2,
     "a token's roles must be some of its owner's"),
    (("tokens", "create", "admin", "--name", "ci", "--role", "admin", "--expires-in-days",
      "367"), None, 2, "367"),
    (("tokens", "revoke", "admin", "0123456789abcdef"), None, 2, "no token"),

]
"""(arguments, stdin, exit code, what the error says): each run by the admin."""


def test_bad_input_is_refused_naming_it_and_writes_nothing(staffed: Cli) -> None:
    events = staffed.events()
    for args, stdin, code, says in BAD_INPUT:
        refused = staffed(*args, *ADMIN, "trying", stdin=stdin)
        assert refused.code == code, (args, refused)
        assert says in refused.err, (args, refused)
        assert refused.out == "", args
        if stdin:
            assert stdin not in refused.err
        no_secret_in(refused)
    assert staffed.events() == events


def test_a_token_is_shown_once_listed_without_its_secret_and_revoked(staffed: Cli) -> None:
    cli = staffed
    cli.ok("users", "add", "batch-system", "--role", "officer", "--role", "analyst",
           "--district", "11", "--district", "12", *ADMIN, "a system account")
    created = cli.ok("tokens", "create", "batch-system", "--name", "nightly import",
                     "--role", "analyst", "--district", "11", "--expires-in-days", "30",
                     *ADMIN, "the import job")
    lines = created.out.splitlines()
    token_id = lines[0].split()[1]
    assert lines[1].startswith(f"clt_batch-system_{token_id}_")
    assert "shown only now and cannot be shown again" in created.err
    secret = lines[1]
    as_json = cli.ok("tokens", "create", "batch-system", "--name", "second", "--role",
                     "officer", *ADMIN, "another job", "--json").json()
    assert as_json["token"].startswith("clt_batch-system_")
    assert "shown only now" in as_json["warning"]
    listed = cli.ok("tokens", "list", "--json").json()
    assert [(t["name"], t["roles"], t["districts"], t["state"]) for t in listed] == [
        ("nightly import", ["analyst"], ["11"], "live"), ("second", ["officer"], None, "live")]
    revoked = cli.ok("tokens", "revoke", "batch-system", token_id, *ADMIN, "leaked")
    assert revoked.out.strip().startswith(f"token {token_id} of user:batch-system revoked")
    assert cli("tokens", "revoke", "batch-system", token_id, *ADMIN, "again").code == 3
    mine = cli.ok("tokens", "list", "batch-system")
    assert "revoked" in mine.out
    assert mine.out.splitlines()[-1] == "2 tokens"
    shown = cli.ok("users", "show", "batch-system")
    history = cli.ok("history", "user:batch-system", "--json")
    for result in (mine, shown, history, cli.ok("tokens", "list", "--json")):
        assert secret.rsplit("_", 1)[1] not in result.out
        assert '"secret_hash": "<redacted>"' in result.out or "secret_hash" not in result.out


def test_a_disabled_or_unknown_actor_is_refused_and_nothing_is_written(staffed: Cli) -> None:
    cli = staffed
    cli.ok("users", "add", "clerk", "--role", "officer", *ADMIN, "hired")
    cli.ok("users", "disable", "clerk", *ADMIN, "left")
    events = cli.events()
    register = ("accounts", "register", "--importer-number", IMPORTER11, "--name", "Jade",
                "--district", "11", "--industry", "61", "--registered-on", "2019-04-01")
    disabled = cli(*register, "--actor", "user:clerk", "--reason", "new importer")
    assert (disabled.code, disabled.err.strip()) == (3, "error: refused: user:clerk is "
                                                        "disabled")
    unknown = cli.as_is(*register, "--actor", "user:stranger", "--reason", "new importer")
    assert unknown.code == 3
    assert unknown.err.strip() == ("error: refused: user:stranger is not a user of this "
                                   "ledger: add it with `compliance users add` first")
    forbidden = cli(*register, "--actor", "user:admin", "--reason", "new importer")
    assert forbidden.code == 3
    assert "user:admin may not register importer: it takes the role officer" in forbidden.err
    no_secret_in(disabled, unknown, forbidden)
    assert cli.events() == events


def test_an_officer_finds_no_case_of_another_district(staffed: Cli) -> None:
    cli = staffed
    cli.ok("accounts", "register", "--importer-number", IMPORTER12, "--name", "Euler Metals",
           "--district", "12", "--industry", "72", "--registered-on", "2019-04-01",
           "--actor", "user:registrar", "--reason", "new importer")
    number = cli.ok("assessments", "open", IMPORTER12, "--origin", "random",
                    "--period-start", "2025-01-01", "--period-end", "2025-12-31",
                    "--scope", "classification", "--actor", "user:registrar",
                    "--reason", "random pick", "--json").json()["number"]
    cli.ok("users", "add", "officer-11", "--role", "officer", "--district", "11", *ADMIN,
           "hired")
    events = cli.events()
    for args in (("accounts", "suspend", IMPORTER12),
                 ("assessments", "cancel", number)):
        refused = cli(*args, "--actor", "user:officer-11", "--reason", "not mine")
        assert refused.code == 4, refused
        assert refused.err.startswith("error: not found: ")
    assert cli.events() == events
    cli.ok("users", "districts", "officer-11", "--district", "11", "--district", "12",
           *ADMIN, "covers 12 too")
    cli.ok("assessments", "cancel", number, "--actor", "user:officer-11", "--reason", "now")
