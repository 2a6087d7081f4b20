"""The CLI never prints Python's `None`: a value that is not there is `-` (one formatter,
interfaces.cli.text.shown) in `show`, in a history's changes and in tables."""

from __future__ import annotations

from interfaces.cli.text import NONE_SHOWN, shown
from tests.e2e.cli import Cli
from tests.e2e.test_cli_assessment_lifecycle import IMPORTER, open_assessment, register


def test_shown_writes_a_missing_value_as_a_dash() -> None:
    assert shown(None) == NONE_SHOWN == "-"
    assert shown(0) == "0"
    assert shown("a\nb") == "a\\nb"  # still one printable line


def test_show_and_history_print_no_none(sqlite_cli: Cli) -> None:
    cli = sqlite_cli
    register(cli)
    account = cli.ok("accounts", "show", IMPORTER).out
    tier_line = next(line for line in account.splitlines() if line.strip().startswith("tier:"))
    assert tier_line.split(":", 1)[1].strip() == "-"  # a new account has no tier yet
    number = open_assessment(cli)
    cli.ok("users", "add", "officer-7", "--role", "officer", "--actor", "user:admin",
           "--reason", "new officer")
    cli.ok("assessments", "assign", number, "--officer", "user:officer-7",
           "--actor", "user:supervisor-11", "--reason", "mine")
    history = cli.ok("history", number).out
    assert "officer: - -> user:officer-7" in history, history
    for text in (account, history, cli.ok("assessments", "show", number).out,
                 cli.ok("worklist").out):
        assert "None" not in text, text
