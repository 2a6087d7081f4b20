"""Run the benchmarks and write docs/benchmarks.md.

    .venv/bin/python -m bench.run                  # full run, writes docs/benchmarks.md
    .venv/bin/python -m bench.run --quick          # smoke run with small sizes
    .venv/bin/python -m bench.run --only commit,load --no-sqlite
    .venv/bin/python -m bench.run --only rebuild,lag     # benchmark 6 (the views)
    .venv/bin/python -m bench.run --only ingest,accounts,risk --output /tmp/ingest.md
                                                    # benchmarks 7-9 (ingest, risk run)
    .venv/bin/python -m bench.run --only risk,channel,select --output /tmp/targeting.md
                                                    # benchmarks 10-11 (channel, selection)
    .venv/bin/python -m bench.run --only http --output /tmp/http.md   # benchmark 12 (HTTP)
    BENCH_NATIONAL_SCHEMA=bench_national_kept .venv/bin/python -m bench.run \
        --only http-national --output /tmp/national.md   # benchmark 13 (national lists)
    .venv/bin/python -m bench.run --only due-scan --output /tmp/due-scan.md   # benchmark 14
    .venv/bin/python -m bench.run --only mail --output /tmp/mail.md   # benchmark 15 (mail)
    BENCH_NATIONAL_SCHEMA=bench_national_kept .venv/bin/python -m bench.run \
        --only periodic-reports --output /tmp/periodic.md   # benchmark 16 (plan, annual)
    .venv/bin/python -m bench.run --only reports --output /tmp/dossier.md  # 16a (dossier)
    BENCH_NATIONAL_SCHEMA=bench_national_kept .venv/bin/python -m bench.run \
        --only web-pages --output docs/benchmark-web-pages.md   # benchmark 17 (web pages)

PostgreSQL comes from --database-url, else COMPLIANCE_BENCH_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/test. Each benchmark uses a fresh schema named
bench_<name>_<random>, dropped afterwards (also on Ctrl-C or SIGTERM).

A quick run writes no report unless --output is given, so it never overwrites the full
figures. The report holds only the benchmarks of its run: give --output with --only unless
the run is meant to replace docs/benchmarks.md. When accounts and risk run together, risk
uses the store accounts imported (443,000 accounts) instead of importing them again; when
channel or select run after risk, they use the store risk scored instead of building one
the same way (register, trade, samples, a risk run; about two minutes, not timed).

Missed targets do not change the exit status: these are measurements, not
assertions. The exit status is 1 only when a benchmark could not run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import psycopg
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from bench.accounts_benchmark import bench_accounts
from bench.benchmarks import FULL, QUICK, Sizes, bench_commit
from bench.channel_benchmark import bench_channel
from bench.common import DATABASE_URL_VARIABLE, DEFAULT_DATABASE_URL, Result, machine_facts
from bench.due_scan_benchmark import bench_due_scan
from bench.http_benchmark import bench_http
from bench.http_national import bench_http_national
from bench.ingest_benchmarks import IngestBenchmarks
from bench.mail_benchmark import bench_mail
from bench.periodic_report_benchmark import bench_periodic_reports
from bench.registration_benchmark import bench_bulk
from bench.report import render, verdict
from bench.report_benchmark import bench_dossier
from bench.samples_benchmark import bench_samples
from bench.selection_benchmark import bench_select
from bench.verify_load_benchmarks import bench_load, bench_verify
from bench.view_benchmarks import bench_lag, bench_rebuild
from bench.web_pages_benchmark import bench_web_pages
from bench.workflow_benchmark import bench_workflow

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"
BENCHMARKS = ("commit", "bulk", "verify", "load", "workflow", "rebuild", "lag", "ingest",
              "accounts", "risk", "channel", "select", "http", "http-national",
              "due-scan", "mail", "periodic-reports", "reports", "web-pages")


class RichUI:
    """Progress bars for long phases and timestamped log lines."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = time.perf_counter()

    @contextmanager
    def phase(self, description: str, total: int | None = None
              ) -> Iterator[Callable[[int], None]]:
        columns = [TextColumn("[bold blue]{task.description}"), BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
        with Progress(*columns, console=self.console, transient=False) as progress:
            task = progress.add_task(description, total=total)
            yield lambda n: progress.advance(task, n)

    def log(self, message: str) -> None:
        elapsed = time.perf_counter() - self.started
        self.console.print(f"[dim]{elapsed:7.1f}s[/dim] {message}")


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verify-accounts", type=int, default=None,
                        help="accounts populated for benchmarks 3 and 4 (about 2.3 events "
                             "each; 430000 gives about 1,000,000 events)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run with small sizes (e.g. 10,000 registrations)")
    parser.add_argument("--database-url",
                        default=os.environ.get(DATABASE_URL_VARIABLE) or DEFAULT_DATABASE_URL,
                        help=f"PostgreSQL URL (default: ${DATABASE_URL_VARIABLE} or "
                             f"{DEFAULT_DATABASE_URL})")
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help=f"comma-separated subset of {', '.join(BENCHMARKS)}")
    parser.add_argument("--no-sqlite", action="store_true",
                        help="skip the SQLite comparison runs of bulk, verify, load, lag "
                             "and risk")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"report path (default: {DEFAULT_OUTPUT.relative_to(ROOT)} for a "
                             "full run, none for --quick)")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(BENCHMARKS)}")
    args.only = chosen
    if args.output is None and not args.quick:
        args.output = DEFAULT_OUTPUT
    return args


def _terminate(signum: int, _frame: FrameType | None) -> None:
    """Turn SIGTERM into an exception so the schemas are dropped on the way out."""
    raise SystemExit(128 + signum)


def _summary_table(results: Sequence[Result]) -> Table:
    table = Table(title="Benchmarks (ratios against same-run baselines)")
    for column in ("Benchmark", "Store", "Ratio", "Target", "Result"):
        table.add_column(column)
    for result in results:
        ratio = (f"{result.ratio:.1%}" if result.higher_is_better
                 else f"{result.ratio:.2f}x")
        style = "green" if result.met else "red"
        table.add_row(result.title, result.backend, ratio, result.target_text,
                      f"[{style}]{verdict(result).replace('**', '')}[/{style}]")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    signal.signal(signal.SIGTERM, _terminate)
    console = Console()
    ui = RichUI(console)
    sizes: Sizes = QUICK if args.quick else FULL
    if args.verify_accounts is not None:
        sizes = dataclasses.replace(sizes, verify_accounts=args.verify_accounts)
    url: str = args.database_url
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        console.print(f"[red]PostgreSQL at {url} does not answer: {error}[/red]")
        return 1
    facts = machine_facts(url)
    for key, value in facts.items():
        console.print(f"[bold]{key}[/bold]: {value}")
    console.print(f"Sizes: {'quick' if args.quick else 'full'} {sizes}")

    chosen = set(args.only)
    ingest = IngestBenchmarks(url, sizes, ui, keep_register={"accounts", "risk"} <= chosen,
                              keep_scored="risk" in chosen and bool({"channel", "select"}
                                                                    & chosen),
                              sqlite=not args.no_sqlite)
    runners: dict[str, Callable[[], list[Result]]] = {
        "commit": lambda: [bench_commit(url, sizes, ui)],
        "bulk": lambda: bench_bulk(url, sizes, ui, sqlite=not args.no_sqlite),
        "verify": lambda: bench_verify(url, sizes, ui, sqlite=not args.no_sqlite),
        "load": lambda: bench_load(url, sizes, ui, sqlite=not args.no_sqlite),
        "workflow": lambda: bench_workflow(url, sizes, ui),
        "rebuild": lambda: bench_rebuild(url, sizes, ui, sqlite=not args.no_sqlite),
        "lag": lambda: bench_lag(url, sizes, ui, sqlite=not args.no_sqlite),
        "ingest": lambda: bench_samples(ingest),
        "accounts": lambda: bench_accounts(ingest),
        "risk": ingest.risk,
        "channel": lambda: bench_channel(url, sizes, ui, ingest),
        "select": lambda: bench_select(url, sizes, ui, ingest),
        "http": lambda: bench_http(url, sizes.http_requests, sizes.http_seconds,
                                   sizes.http_commands),
        "http-national": lambda: bench_http_national(url, quick=args.quick, log=ui.log),
        "due-scan": lambda: bench_due_scan(url, quick=args.quick, log=ui.log),
        "mail": lambda: bench_mail(url, quick=args.quick, sqlite=not args.no_sqlite,
                                   log=ui.log),
        "reports": lambda: bench_dossier(url, quick=args.quick, sqlite=not args.no_sqlite,
                                         log=ui.log),
        "periodic-reports": lambda: bench_periodic_reports(url, quick=args.quick,
                                                           log=ui.log),
        "web-pages": lambda: bench_web_pages(url, quick=args.quick, log=ui.log),
    }
    results: list[Result] = []
    failed: list[str] = []
    started = time.perf_counter()
    with ingest:  # drops the schemas and files benchmarks 8-11 share
        for name in args.only:
            console.rule(f"[bold]{name}")
            try:
                produced = runners[name]()
            except KeyboardInterrupt:
                console.print("[red]interrupted[/red]")
                return 130
            except Exception:  # report and carry on with the other benchmarks
                console.print(f"[red]benchmark {name} failed:[/red]\n{traceback.format_exc()}")
                failed.append(name)
                continue
            for result in produced:
                ratio = (f"{result.ratio:.1%}" if result.higher_is_better
                         else f"{result.ratio:.2f}x")
                if result.higher_is_better or result.ours.median_ms is None:
                    sides = (f"ours {result.ours.rate:,.0f} {result.ours.unit}/s vs baseline "
                             f"{result.baseline.rate:,.0f} {result.baseline.unit}/s")
                else:
                    sides = (f"ours median {result.ours.median_ms:.3f} ms vs baseline median "
                             f"{result.baseline.median_ms or 0.0:.3f} ms")
                ui.log(f"[bold]{result.title}[/bold] ({result.backend}): {sides} -> {ratio}, "
                       f"target {result.target_text}: {verdict(result).replace('**', '')}")
                for fact in result.facts:
                    ui.log(f"  {fact}")
            results.extend(produced)
    elapsed = time.perf_counter() - started

    console.rule("[bold]summary")
    console.print(_summary_table(results))
    console.print(f"Whole run: {elapsed:.0f} s")
    if args.output is not None and results:
        command = ".venv/bin/python -m bench.run" + (
            " " + shlex.join(argv if argv is not None else sys.argv[1:])
            if (argv if argv is not None else sys.argv[1:]) else "")
        command = command.replace(url, "<database-url>") if url in command else command
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(render(results, facts, quick=args.quick, elapsed_s=elapsed,
                                      command=command), encoding="utf-8")
        console.print(f"Report written to {args.output}")
    elif args.quick:
        console.print("Quick run: no report written (pass --output PATH to write one).")
    if failed:
        console.print(f"[red]failed: {', '.join(failed)}[/red]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
