"""Trade, risk and targeting in the demos, through the real import, risk, channel and
selection paths, with progress: `compliance demo --scale national` for the national
population, and the cases demo (`compliance demo`) for its own importers, smaller."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import click
import numpy as np
from rich.progress import Progress

from application.compliance_cases import ComplianceCases
from application.ingest.ingestion import Ingestion
from application.ingest.schemas import SCHEMAS, IngestKind
from application.risk.risk_run import RiskRunSummary
from application.targeting.channel import ChannelSummary
from application.targeting.selection import PlanResult
from domain.importer_account import AccountStatus, ImporterAccount
from domain.targeting_rule import RuleDefinition
from domain.user import Role
from domain.values import Period
from infrastructure.csv_files import read_csv_file
from interfaces.analysis_composition import (
    build_channel,
    build_effectiveness,
    build_ingestion,
    build_risk_run,
    build_selection,
    risk_tables,
    targeting_tables,
)
from interfaces.cli.context import CliContext
from interfaces.cli.progress import progress_bar, stage_reporter
from interfaces.cli.step_times import StepTimes
from interfaces.composition import build_password_hasher
from interfaces.demo_users import (
    ANALYST,
    DEMO_PASSWORD,
    SUPERVISOR,
    create_people,
    give_logins,
    login_lines,
    national_people,
)
from interfaces.national_data import (
    NationalFiles,
    Population,
    write_entries,
    write_exam_results,
    write_national_files,
    write_population_files,
)

DEMO_RULES = (
    ("Steel from China (AD/CVD evasion)", {"hs_prefix": ["72"], "origin": ["CN"]}, "red", ()),
    ("Footwear from Viet Nam (origin claims)", {"hs_prefix": ["64"], "origin": ["VN"]}, "red",
     ()),
    ("Telecom equipment from Taiwan (IPR), southern ports", {"hs_prefix": ["85"],
                                                              "origin": ["TW"]}, "red",
     ("24", "26")),
    ("Apparel, tier 4 importers (classification)", {"hs_prefix": ["61", "62"], "tier": [4]},
     "amber", ()),
)


def publish_demo_rules(app: ComplianceCases, year: int) -> list[str]:
    numbers = []
    for name, conditions, channel, districts in DEMO_RULES:
        definition = RuleDefinition.parse(name=name, conditions=conditions, channel=channel,
                                          districts=list(districts),
                                          effective_from=f"{year}-01-01")
        number = app.draft_rule(definition, actor=ANALYST,
                                reason="pattern found by the national risk centre")
        app.approve_rule(number, actor=SUPERVISOR, reason="criterion reviewed")
        app.publish_rule(number, actor=SUPERVISOR, reason="in force nationally")
        numbers.append(number)
    return numbers


@dataclass(frozen=True)
class TradeAndTargeting:
    """What the analysis part of a demo loaded and decided."""

    files: NationalFiles
    risk: RiskRunSummary
    rules: list[str]
    channelled: ChannelSummary | None
    plan: PlanResult


def load_national(context: CliContext, *, importers: int, samples: int, entries: int,
                  seed: int, today: date, directory: Path, times: StepTimes) -> None:
    """The national population through the real import, risk, channel and selection
    paths, each step timed into `times`."""
    app = context.app
    with times.step("users and logins"):
        create_people(app, national_people(), app.clock())
        logins = {Role.ADMIN: "admin", Role.SUPERVISOR: SUPERVISOR.removeprefix("user:"),
                  Role.ANALYST: ANALYST.removeprefix("user:"), Role.AUDITOR: "auditor"}
        give_logins(app, logins, build_password_hasher(context.settings).hash(DEMO_PASSWORD),
                    app.clock())
    with progress_bar() as bar:
        with times.step("generating the national files"):
            generating = bar.add_task("generating national files", total=1)
            files = write_national_files(directory, year=today.year, today=today,
                                         importers=importers, samples=samples, seed=seed)
            bar.update(generating, completed=1)
        with times.step("importing the accounts"):
            _import(build_ingestion(app), IngestKind.ACCOUNTS, files.accounts, bar)
        loaded = load_trade_and_targeting(context, files, entries=entries, seed=seed,
                                          today=today, directory=directory, bar=bar,
                                          times=times)
    click.echo(f"national demo loaded into {context.settings.describe}:")
    click.echo(f"  {files.importers:,} importer accounts (files in {directory})")
    describe_trade_and_targeting(context, loaded, tiers=True)
    planted = files.risky_importers
    likely = risk_tables(app).ranking(1000, by="likelihood")
    hits = sum(1 for row in likely if row["importer_number"] in planted)
    click.echo(f"  planted non-compliant importers among the 1,000 least likely to comply: "
               f"{hits} (chance would give about {len(planted) * 1000 / files.importers:.0f})")
    for line in login_lines(logins):
        click.echo(line)


def load_demo_trade(context: CliContext, importers: Sequence[ImporterAccount], *,
                    samples: int, entries: int, seed: int, today: date) -> TradeAndTargeting:
    """The cases demo's trade and targeting: a year of trade, samples and declarations for
    its own importers (not closed), written as the national systems export them into a
    temporary folder and imported through the same import commands, then risk, rules,
    channel, exam results and a selection plan, as in the national demo."""
    active = [a for a in importers if a.status is not AccountStatus.CLOSED]
    active.sort(key=lambda a: a.annual_value or Decimal(0), reverse=True)
    population = Population(
        [a.importer_number for a in active],
        np.array([float(a.annual_value or 0) for a in active], dtype=np.float64),
        np.array([a.industry for a in active]), np.array([a.district for a in active]),
        [a.legal_name for a in active],
        np.array([a.registered_on.isoformat() for a in active]))
    with tempfile.TemporaryDirectory(prefix="compliance-demo-") as folder, \
            progress_bar() as bar:
        directory = Path(folder)
        generating = bar.add_task("generating trade, samples and declarations", total=1)
        files = write_population_files(directory, np.random.default_rng(seed), population,
                                       year=today.year, today=today, samples=samples)
        bar.update(generating, completed=1)
        return load_trade_and_targeting(context, files, entries=entries, seed=seed,
                                        today=today, directory=directory, bar=bar,
                                        times=StepTimes())


def load_trade_and_targeting(context: CliContext, files: NationalFiles, *, entries: int,
                             seed: int, today: date, directory: Path,
                             bar: Progress, times: StepTimes) -> TradeAndTargeting:
    """Import the year's trade and samples, assess risk, publish the demo rules, channel
    `entries` declarations, load the exam results as samples (and assess again), then plan
    the next assessments for last year; each step timed into `times`."""
    app = context.app
    year = today.year
    ingestion = build_ingestion(app)
    for kind, path in ((IngestKind.TRADE, files.trade), (IngestKind.SAMPLES, files.samples)):
        with times.step(f"importing {kind.value}"):
            _import(ingestion, kind, path, bar)
    with times.step("first risk run"):
        summary = _assess(app, year, bar, "risk assessment")
    rules: list[str] = []
    channelled = None
    if entries:
        with times.step("publishing the demo rules"):
            rules = publish_demo_rules(app, year)
        with times.step("generating the declarations"):
            entries_path = directory / "entries.csv"
            write_entries(entries_path, files, count=entries, year=year, today=today)
        with times.step("importing entries"):
            _import(ingestion, IngestKind.ENTRIES, entries_path, bar)
        with times.step("channel decisions"):
            channel_task = bar.add_task("channel decisions", total=entries)
            channelled = build_channel(app).decide(
                actor="system:demo",
                random_share=float(context.settings.channel_random_share),
                seed=seed, progress=lambda _stage, done, total: bar.update(
                    channel_task, completed=done, total=total))
        with times.step("importing the exam results"):
            exams_path = directory / "exam-results.csv"
            write_exam_results(exams_path, targeting_tables(app).examined_entries(),
                               files.risky_importers, seed=seed)
            _import(ingestion, IngestKind.SAMPLES, exams_path, bar)
        with times.step("second risk run"):
            summary = _assess(app, year, bar, "risk assessment with the exam results")
    with times.step("selection plan"):
        plan = build_selection(app).plan(
            Period(date(year - 1, 1, 1), date(year - 1, 12, 31)),
            max(10, files.importers // 100), 0.1, actor="system:demo",
            exclude_months=context.settings.selection_exclude_months, seed=seed)
    return TradeAndTargeting(files, summary, rules, channelled, plan)


def _assess(app: ComplianceCases, year: int, bar: Progress, label: str) -> RiskRunSummary:
    task = bar.add_task(label, total=6)
    return build_risk_run(app).assess(
        year, actor="system:demo", progress=lambda stage, done, _total: bar.update(
            task, description=f"{label}: {stage}", completed=done))


def describe_trade_and_targeting(context: CliContext, loaded: TradeAndTargeting, *,
                                 tiers: bool) -> None:
    app, files, risk = context.app, loaded.files, loaded.risk
    click.echo(f"  {files.trade_rows:,} trade rows and {files.sample_rows:,} examined sample "
               f"lines for {risk.year}, imported; risk run scored {risk.importers:,} "
               f"importers ({risk.changed:,} RiskAssessed events)")
    if tiers:
        for row in risk_tables(app).tiers():
            click.echo(f"  tier {row['tier']}: {int(row['importers']):,} importers")
    channelled = loaded.channelled
    if channelled is not None:
        click.echo(f"  {channelled.entries:,} declarations channelled: "
                   + ", ".join(f"{k} {v:,}" for k, v in channelled.counts.items())
                   + f" ({channelled.random_exams:,} at random) under rules "
                   f"{', '.join(loaded.rules)}; exam results loaded as samples")
        overall = build_effectiveness(app).measure().overall
        click.echo(f"  targeting hit rate {overall.targeted.rate:.1%} "
                   f"({overall.targeted.low:.1%}-{overall.targeted.high:.1%}) against random "
                   f"{overall.random.rate:.1%} ({overall.random.low:.1%}-"
                   f"{overall.random.high:.1%})")
    plan = loaded.plan
    click.echo(f"  selection plan for {plan.period}: {len(plan.picks)} assessments of capacity "
               f"{plan.capacity} ({sum(p.basis == 'random' for p in plan.picks)} at random)")


def _import(ingestion: Ingestion, kind: IngestKind, path: Path, bar: Progress) -> None:
    csv_file = read_csv_file(path, SCHEMAS[kind](date.min).columns)
    report = ingestion.import_file(kind, csv_file, actor="system:demo",
                                   progress=stage_reporter(bar, f"{kind.value}: "))
    if report.status not in ("loaded", "already_imported"):
        raise click.ClickException(f"{kind.value} import {report.status}: {report.errors[:3]}")
