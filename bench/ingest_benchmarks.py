"""The ingest group: what benchmarks 7-11 share (the generated files in one temporary
directory, the national register, the schemas handed on) and benchmark 9, the national risk
run, which builds the scored store benchmarks 10-11 read.

9. `compliance risk assess` over every importer, first run (every importer changes) and
   second run (nothing changes), against the raw GROUP BY reads of the same trade and sample
   tables (target: a time).

Benchmarks 7 and 8 are in bench.samples_benchmark and bench.accounts_benchmark; 8 hands its
schema (443,000 imported accounts) to 9 when both run, and 9 hands its scored store
(bench.scored_store) to benchmarks 10-11 (bench.channel_benchmark,
bench.selection_benchmark) when they run after it; without 9, `scored_store()` builds one
the same way. Ours is `build_risk_run(app).assess(year)`; generating and loading inputs
(bench.ingest_runs.timed_import) is never timed. Benchmark 9's runs, raw reads, report and
SQLite comparison are in bench.risk_benchmark.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from types import TracebackType

from psycopg import sql

from application.ingest.ingestion import Ingestion
from application.ingest.schemas import IngestKind
from bench.benchmarks import UI, Sizes
from bench.common import (
    Result,
    application,
    events_table,
    pg_schema,
    pg_settings,
    profile,
)
from bench.harness import load_fact
from bench.ingest_data import Register, Trade, write_register, write_samples, write_trade
from bench.ingest_runs import timed_import
from bench.pg_raw import scalar
from bench.risk_benchmark import (
    ASSESSED_TOPIC,
    RISK_ACTOR,
    RISK_PROFILE_STAGES,
    RiskInputs,
    assess,
    check_counts,
    raw_reads,
    risk_on_sqlite,
    risk_result,
)
from bench.scored_store import RegisterStore, ScoredStore
from interfaces.analysis_composition import build_ingestion, build_risk_run, risk_tables


class IngestBenchmarks:
    """Benchmarks 7-11's shared inputs and benchmark 9, sharing generated files, (8 -> 9)
    the imported register and (9 -> 10-11) the scored store. Use as a
    context manager: kept schemas and the temporary directory go on exit."""

    def __init__(self, url: str, sizes: Sizes, ui: UI, *, keep_register: bool,
                 keep_scored: bool = False, sqlite: bool = False) -> None:
        """`sqlite`: benchmark 9 also runs on a SQLite file, as a labelled comparison."""
        self.sqlite = sqlite
        self.url = url
        self.sizes = sizes
        self.ui = ui
        self.keep_register = keep_register
        self.keep_scored = keep_scored
        self._scored: ScoredStore | None = None
        self.year = date.today().year - 1
        self._stack = ExitStack()
        self._directory: Path | None = None
        self._register: Register | None = None
        self._kept: RegisterStore | None = None

    def __enter__(self) -> IngestBenchmarks:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._kept = None
        self._scored = None
        self._stack.close()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    @property
    def directory(self) -> Path:
        if self._directory is None:
            self._directory = Path(tempfile.mkdtemp(prefix="compliance-bench-ingest-"))
        return self._directory

    def full_register(self) -> Register:
        """The national register (`register_accounts` importers), generated once (not
        timed)."""
        if self._register is None:
            count = self.sizes.register_accounts
            self.ui.log(f"generating the register of {count:,} importers (not timed)")
            self._register = write_register(self.directory / "register.csv", count,
                                            seed=443, prefix=60)
        return self._register

    def keep(self, store: RegisterStore, stack: ExitStack) -> None:
        """Hold benchmark 8's imported register (its schema and application, entered on
        `stack`) for benchmark 9, until the group closes."""
        self._kept = store
        self._stack.push(stack.pop_all())

    # -- 9 ---------------------------------------------------------------------------------

    def risk(self) -> list[Result]:
        url, sizes, ui = self.url, self.sizes, self.ui
        load = os.getloadavg()[0]
        with ExitStack() as stack:
            kept, self._kept = self._kept, None
            if kept is None:
                register = self.full_register()
                schema = stack.enter_context(pg_schema(url, "risk"))
                app = stack.enter_context(application(pg_settings(url, schema)))
                ingestion = build_ingestion(app)
                with ui.phase(f"risk: importing the register ({register.count:,} accounts, "
                              "not timed)", 2 * register.count) as advance:
                    timed_import(ingestion, IngestKind.ACCOUNTS, register.path, advance)
            else:
                schema, app, ingestion, register = (kept.schema, kept.app, kept.ingestion,
                                                    kept.register)
                ui.log(f"risk: using the {register.count:,} accounts imported by benchmark 8")
            count = register.count
            trade, loaded = self._risk_inputs(ingestion, register, sizes.risk_samples, "full")
            run = build_risk_run(app)
            reads: list[float] = []
            read_rows = 0

            def raw() -> None:
                nonlocal read_rows
                seconds, read_rows = raw_reads(url, schema, self.year)
                reads.append(seconds)

            raw()
            with ui.phase(f"risk: first run over {count:,} importers", 6) as advance:
                first = assess(run, self.year, advance)
            raw()
            with ui.phase("risk: second run (nothing changed)", 6) as advance:
                second = assess(run, self.year, advance)
            raw()
            events = sql.Identifier(schema, events_table(app))
            check_counts(first, second, count, scalar(url, sql.SQL(
                "SELECT count(*) FROM {} WHERE topic = %s").format(events), (ASSESSED_TOPIC,)))
            tiers = risk_tables(app).tiers()
            if self.keep_scored:
                self._scored = ScoredStore(schema, app, ingestion, register, trade,
                                           self.directory / "risk-samples-full.csv",
                                           sizes.risk_samples, self.year,
                                           "benchmark 9 (the same run)")
                self._stack.push(stack.pop_all())

        small = sizes.risk_profile_accounts
        small_register = write_register(self.directory / "risk-profile.csv", small,
                                        seed=445, prefix=62)
        with (pg_schema(url, "riskprof") as schema,
              application(pg_settings(url, schema)) as app):
            ingestion = build_ingestion(app)
            ui.log(f"risk: a {small:,}-importer store for the profile (not timed)")
            timed_import(ingestion, IngestKind.ACCOUNTS, small_register.path)
            self._risk_inputs(ingestion, small_register,
                              max(1, sizes.risk_samples * small // count), "profile")
            small_run = build_risk_run(app)
            ui.log(f"risk: profiling a first run over {small:,} importers")
            summary = profile(lambda: small_run.assess(self.year, actor=RISK_ACTOR),
                              f"first RiskRun.assess over {small:,} importers (every one "
                              "changes)", RISK_PROFILE_STAGES)
        inputs = RiskInputs(register, trade, self.directory / "risk-samples-full.csv", loaded,
                            self.year)
        result = risk_result(first, second, reads, read_rows, inputs, tiers, summary)
        result.facts.append(load_fact(load))
        if not self.sqlite:
            return [result]
        load = os.getloadavg()[0]
        compared = risk_on_sqlite(inputs, ui)
        compared.facts.append(load_fact(load))
        return [result, compared]

    def scored_store(self) -> ScoredStore:
        """Benchmark 9's store when it ran earlier in this run with keep_scored; otherwise
        one built the same way (not timed): the register imported, a year of trade and the
        sample lines imported, one risk run. Dropped when the group closes."""
        if self._scored is not None:
            return self._scored
        url, sizes, ui = self.url, self.sizes, self.ui
        register = self.full_register()
        with ExitStack() as stack:
            schema = stack.enter_context(pg_schema(url, "targeting"))
            app = stack.enter_context(application(pg_settings(url, schema)))
            ingestion = build_ingestion(app)
            with ui.phase(f"store: importing the register ({register.count:,} accounts, not "
                          "timed)", 2 * register.count) as advance:
                timed_import(ingestion, IngestKind.ACCOUNTS, register.path, advance)
            trade, _loaded = self._risk_inputs(ingestion, register, sizes.risk_samples, "full")
            with ui.phase(f"store: risk run over {register.count:,} importers (not timed)",
                          6) as advance:
                run = assess(build_risk_run(app), self.year, advance)
            if run.summary.changed != register.count:
                raise AssertionError(f"risk run scored {run.summary.changed}, expected "
                                     f"{register.count}")
            self._scored = ScoredStore(schema, app, ingestion, register, trade,
                                       self.directory / "risk-samples-full.csv",
                                       sizes.risk_samples, self.year,
                                       "this group (built as benchmark 9 builds it)")
            self._stack.push(stack.pop_all())
        return self._scored

    def _risk_inputs(self, ingestion: Ingestion, register: Register, sample_lines: int,
                     name: str) -> tuple[Trade, dict[str, float]]:
        """A year of trade for every importer and `sample_lines` sample lines, half of them
        on the top 2% of importers by value, imported through the ingestion (not timed)."""
        ui = self.ui
        ui.log(f"risk: generating a year of trade for {register.count:,} importers and "
               f"{sample_lines:,} sample lines (not timed)")
        trade = write_trade(self.directory / f"trade-{name}.csv", register, self.year,
                            seed=446)
        top = trade.by_value[:max(1, round(register.count * 0.02))]

        def pick(rng: random.Random) -> int:
            return rng.choice(top) if rng.random() < 0.5 else rng.randrange(register.count)

        samples = self.directory / f"risk-samples-{name}.csv"
        write_samples(samples, register.numbers, sample_lines, self.year, seed=447, pick=pick,
                      industries=register.industries)
        loaded: dict[str, float] = {}
        with ui.phase(f"risk: importing {trade.rows:,} trade rows (not timed)",
                      2 * trade.rows) as advance:
            loaded["trade"] = timed_import(ingestion, IngestKind.TRADE, trade.path, advance).seconds
        with ui.phase(f"risk: importing {sample_lines:,} sample lines (not timed)",
                      2 * sample_lines) as advance:
            loaded["samples"] = timed_import(ingestion, IngestKind.SAMPLES, samples,
                                        advance).seconds
        loaded["trade rows"] = trade.rows
        loaded["sample lines"] = sample_lines
        return trade, loaded
