"""What every CLI command shares: settings read once, the application built on first use,
JSON output, and one table that maps errors to messages and exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NoReturn
from uuid import UUID

import click
import msgspec

from application.access import ForbiddenError, UnknownActorError
from application.compliance_cases import ComplianceCases
from application.errors import (
    ConcurrencyConflictError,
    DamagedHistoryError,
    DamagedInputError,
    NotFoundError,
)
from application.identity import AuthenticationError
from application.queries import case_summaries
from domain.errors import DomainError, InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.values import parse_district, parse_importer_number
from infrastructure.event_store import ChainBrokenError
from infrastructure.settings import Settings, SettingsError, load_settings
from infrastructure.signing_keys import SealKeyError
from infrastructure.stores import DatabaseUnavailableError
from interfaces.cli.text import one_line, shown
from interfaces.composition import build_application
from projections.listing import CASE_SORTS, MAX_LIMIT, case_page
from projections.views.worklist import WorkList

EXIT_CODES: list[tuple[type[BaseException], int, str]] = [
    (InvalidValueError, 2, "invalid input"),
    (SettingsError, 2, "invalid setting"),
    (RuleViolationError, 3, "refused"),
    (InvalidTransitionError, 3, "refused"),
    (DomainError, 3, "refused"),
    (ForbiddenError, 3, "refused"),
    (UnknownActorError, 3, "refused"),
    (AuthenticationError, 3, "refused"),
    (NotFoundError, 4, "not found"),
    (ConcurrencyConflictError, 5, "conflict"),
    (DatabaseUnavailableError, 6, "database unavailable"),
    (DamagedHistoryError, 8, "damaged history"),
    (DamagedInputError, 8, "damaged import data"),
    (ChainBrokenError, 8, "damaged history"),
    (SealKeyError, 6, "signing key unavailable"),
]
"""Exit code 1 is `verify` finding tampering, 7 a view stopped at an event it cannot apply
(interfaces.cli.views), 70 an unexpected internal error (see `guard_unexpected`)."""

INTERNAL_ERROR = 70
DEBUG_VARIABLE = "COMPLIANCE_DEBUG"


def fail(error: BaseException) -> NoReturn:
    for kind, code, label in EXIT_CODES:
        if isinstance(error, kind):
            detail = f" [{error.rule}]" if isinstance(error, RuleViolationError) else ""
            click.echo(f"error: {label}{detail}: {one_line(error)}", err=True)
            sys.exit(code)
    raise error


@dataclass
class CliContext:
    settings: Settings
    _app: ComplianceCases | None = field(default=None, repr=False)

    @property
    def app(self) -> ComplianceCases:
        if self._app is None:
            self._app = build_application(self.settings)
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


def load_context() -> CliContext:
    return CliContext(load_settings(os.environ))


def cli_context() -> CliContext:
    context = click.get_current_context().find_object(CliContext)
    assert context is not None
    return context


def to_plain(value: Any) -> Any:
    return msgspec.to_builtins(value, str_keys=True, order="deterministic")


def emit_json(value: Any) -> None:
    click.echo(msgspec.json.format(msgspec.json.encode(to_plain(value)), indent=2))


def run_guarded(action: Callable[[], None]) -> None:
    try:
        action()
    except (DomainError, NotFoundError, ConcurrencyConflictError, SettingsError,
            DatabaseUnavailableError, DamagedHistoryError, DamagedInputError,
            SealKeyError, ChainBrokenError, ForbiddenError, UnknownActorError,
            AuthenticationError) as error:
        fail(error)


def write_refused(error: BaseException) -> bool:
    """A role that may only read (an auditor's) tried to write: PostgreSQL's
    insufficient_privilege, or a read-only SQLite file."""
    seen: BaseException | None = error
    while seen is not None:
        if getattr(seen, "sqlstate", None) == "42501" or "readonly database" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def guard_unexpected(run: Callable[[], None]) -> None:
    """The last line of defence around the whole command line: an error nothing else
    expected is reported in one line, without a traceback, with exit code 70, unless
    COMPLIANCE_DEBUG=1 asks for the traceback. A command commits its effects in one
    transaction as its last step, so one that failed before then wrote nothing (the
    message cannot know about an error raised after the commit, while printing)."""
    try:
        run()
    except Exception as error:
        if os.environ.get(DEBUG_VARIABLE, "").strip() == "1":
            raise
        if write_refused(error):
            click.echo("error: database unavailable: the database refused to write for this "
                       "role (read-only); nothing was recorded", err=True)
            sys.exit(6)
        click.echo(f"error: internal error ({type(error).__name__}); nothing was changed by "
                   "the failed command", err=True)
        sys.exit(INTERNAL_ERROR)


actor_option = click.option("--actor", required=True,
                            help="Who decides: user:<id> or system:<job>.")
reason_option = click.option("--reason", required=True, help="Why (recorded with the event).")
version_option = click.option("--expected-version", type=int, default=None,
                              help="Refuse if the case has changed since this version.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
idempotency_option = click.option(
    "--idempotency-key", default=None,
    help="Run at most once for this key; a repeat returns the first result.")


StepCall = Callable[[ComplianceCases, str, dict[str, Any]], Any]


def case_step(name: str, help_text: str, call: StepCall,
              describe: Callable[[str, Any], str],
              extra: tuple[Callable[[Callable[..., None]], Callable[..., None]], ...] = (),
              ) -> click.Command:
    """A lifecycle command on one case: NUMBER, the step's own options, --actor, --reason,
    --expected-version, --idempotency-key and --json; prints what it recorded."""
    def command(number: str, as_json: bool, **options: Any) -> None:
        def action() -> None:
            result = call(cli_context().app, number, options)
            if as_json:
                emit_json({"number": number.upper(), "step": name, "result": result})
            else:
                click.echo(one_line(describe(number.upper(), result)))
        run_guarded(action)

    for decorate in (*reversed(extra), json_option, idempotency_option, version_option,
                     reason_option, actor_option, click.argument("number")):
        command = decorate(command)
    return click.command(name=name, help=help_text)(command)


def common(options: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments every command method takes, from the CLI options."""
    return {"actor": options["actor"], "reason": options["reason"],
            "expected_version": options["expected_version"],
            "idempotency_key": options["idempotency_key"]}


def recorded(number: str, version: Any) -> str:
    return f"{number}: recorded (version {version})"


Refine = Callable[[ComplianceCases, list[dict[str, Any]], dict[str, Any]],
                  list[dict[str, Any]]]
Filters = Callable[[ComplianceCases, dict[str, Any]], dict[str, Any]]


def page_options(sorts: Iterable[str], default: str,
                 ) -> tuple[Callable[[Callable[..., None]], Callable[..., None]], ...]:
    """--limit, --cursor, --sort and --desc of a paged list."""
    return (click.option("--limit", type=int, default=MAX_LIMIT, show_default=True,
                         help=f"Rows per page (1-{MAX_LIMIT})."),
            click.option("--cursor", default=None,
                         help="Start after the previous page (its `next page:` line)."),
            click.option("--sort", type=click.Choice(list(sorts)), default=default,
                         show_default=True, help="Order by this column, then by number."),
            click.option("--desc", "descending", is_flag=True, help="Largest first."))


def echo_page(rows: list[dict[str, Any]], as_json: bool, line: Callable[[dict[str, Any]], str],
              noun: str, next_cursor: str | None) -> None:
    """A page of a list: JSON, or one line per row and the count; then, when more rows
    follow, how to ask for them (on stderr under --json, which stays one array)."""
    if as_json:
        emit_json(rows)
    else:
        for row in rows:
            click.echo(one_line(line(row)))
        click.echo(f"{len(rows)} {noun}")
    if next_cursor is not None:
        click.echo(f"next page: --cursor {next_cursor}", err=as_json)


def case_list(help_text: str, kind: str, states: list[str],
              line: Callable[[dict[str, Any]], str], noun: str,
              refine: Refine | None = None,
              extra: tuple[Callable[[Callable[..., None]], Callable[..., None]], ...] = (),
              filters: Filters | None = None) -> click.Command:
    """`list` for a case type: filters by state, district and importer, paged, --json.
    The page is found in the work list's view (caught up first, as `worklist` does) and
    each of its cases summarised from its own events: never a replay of the log."""
    def command(state: str | None, district: str | None, importer_number: str | None,
                limit: int, cursor: str | None, sort: str, descending: bool,
                as_json: bool, **options: Any) -> None:
        def action() -> None:
            from interfaces.cli.views import _current  # it imports this module

            app = cli_context().app
            if district is not None:  # a bad filter exits 2 before anything is caught up
                parse_district(district)
            if importer_number is not None:
                parse_importer_number(importer_number)
            page = case_page(_current([WorkList]).store, kind=kind, districts=None,
                             importers=None, state=state, district=district,
                             importer_number=importer_number, sort=sort,
                             descending=descending, limit=limit, cursor=cursor,
                             **(filters(app, options) if filters is not None else {}))
            rows = case_summaries(app, [UUID(row["case_id"]) for row in page.rows])
            if refine is not None:
                rows = refine(app, rows, options)
            echo_page(rows, as_json, line, noun, page.next_cursor)
        run_guarded(action)

    for decorate in (*reversed(extra), json_option, *reversed(page_options(CASE_SORTS,
                                                                          "number")),
                     click.option("--importer", "importer_number", default=None),
                     click.option("--district", default=None, help="District code 01-42."),
                     click.option("--state", type=click.Choice(states), default=None)):
        command = decorate(command)
    return click.command(name="list", help=help_text)(command)


def case_show(help_text: str, describe: Callable[[ComplianceCases, str], dict[str, Any]],
              ) -> click.Command:
    """`show` for a case type: every field, or --json."""
    @click.argument("number")
    @json_option
    def command(number: str, as_json: bool) -> None:
        def action() -> None:
            summary = describe(cli_context().app, number)
            if as_json:
                emit_json(summary)
                return
            for key, value in summary.items():
                click.echo(f"{key:>20}: {shown(to_plain(value))}")
        run_guarded(action)

    return click.command(name="show", help=help_text)(command)
