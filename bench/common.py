"""Shared plumbing for the benchmarks: throwaway stores, timing, profiling, machine facts."""

from __future__ import annotations

import cProfile
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from application.compliance_cases import ComplianceCases
from application.ports import Clock
from infrastructure.settings import Settings
from interfaces.composition import build_application, initialise_store, utc_now

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DATABASE_URL_VARIABLE = "COMPLIANCE_BENCH_DATABASE_URL"
SCHEMA_PREFIX = "bench_"


# -- results -------------------------------------------------------------------------------


@dataclass
class Measure:
    """One measured side of a comparison (ours, the baseline, or a diagnostic)."""

    label: str
    seconds: float  # total wall time of the measured work
    count: int  # operations (commits, rows, events, loads) in that time
    unit: str  # what `count` counts
    median_ms: float | None = None  # per-operation median, where operations are timed singly
    p95_ms: float | None = None
    note: str = ""
    p99_ms: float | None = None
    max_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else float("inf")


@dataclass
class Stage:
    label: str
    seconds: float
    share: float


@dataclass
class ProfileSummary:
    """Where the time of `ours` goes, by stage, from one short cProfile run."""

    what: str
    total_s: float
    stages: list[Stage]
    top_functions: list[tuple[str, float, int]]  # (function, own seconds, calls)


@dataclass
class Result:
    key: str
    title: str
    backend: str
    ours: Measure
    baseline: Measure
    ratio: float
    ratio_text: str  # how the ratio is formed
    target: float
    target_text: str
    higher_is_better: bool
    sizes: dict[str, Any] = field(default_factory=dict)
    diagnostics: list[Measure] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    limits: str = ""
    profile: ProfileSummary | None = None
    comparison_only: bool = False  # labelled comparison run (SQLite), target shown as info
    has_target: bool = True  # False: a measurement that is reported, not judged

    @property
    def met(self) -> bool:
        if not self.has_target:
            return True
        return self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target


# -- timing --------------------------------------------------------------------------------


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


def percentile_ms(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of `samples` (seconds), in milliseconds."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] * 1000


def p95_ms(samples: Sequence[float]) -> float:
    return percentile_ms(samples, 0.95)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


# -- stores --------------------------------------------------------------------------------


def unique_schema(name: str) -> str:
    return f"{SCHEMA_PREFIX}{name}_{uuid.uuid4().hex[:10]}"


def pg_connect(url: str, **kwargs: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=True, connect_timeout=10, **kwargs)


def drop_schema(url: str, schema: str) -> None:
    with pg_connect(url) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
            sql.Identifier(schema)))


@contextmanager
def pg_schema(url: str, name: str) -> Iterator[str]:
    """A fresh, uniquely named schema, dropped afterwards whatever happens."""
    schema = unique_schema(name)
    with pg_connect(url) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield schema
    finally:
        drop_schema(url, schema)


@contextmanager
def sqlite_file(name: str) -> Iterator[Path]:
    """A SQLite database file in a temporary directory on disk, removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix=f"compliance-bench-{name}-"))
    try:
        yield directory / "bench.db"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def pg_settings(url: str, schema: str) -> Settings:
    return Settings(database_url=url, sqlite_path=Path("unused.db"), postgres_schema=schema)


def sqlite_settings(path: Path) -> Settings:
    return Settings(database_url=None, sqlite_path=path)


@contextmanager
def application(settings: Settings, clock: Clock = utc_now) -> Iterator[ComplianceCases]:
    """The application exactly as production composes it (on a store initialised as
    `compliance init` initialises it), closed afterwards."""
    initialise_store(settings)
    app = build_application(settings, clock, access_control=False)
    try:
        yield app
    finally:
        app.close()


def events_table(app: ComplianceCases) -> str:
    return str(getattr(app.recorder, "events_table_name", "compliancecases_events"))


def baseline_table_ddl(schema: str, table: str) -> list[sql.Composed]:
    """The same shape as the library's events table: the four stored-event columns, the same
    primary key, a bigserial notification id and its unique index."""
    ident = sql.Identifier(schema, table)
    return [
        sql.SQL("CREATE TABLE {} (originator_id uuid NOT NULL, originator_version bigint NOT "
                "NULL, topic text, state bytea, notification_id bigserial, PRIMARY KEY "
                "(originator_id, originator_version))").format(ident),
        sql.SQL("CREATE UNIQUE INDEX {} ON {} (notification_id ASC)").format(
            sql.Identifier(f"{table}_notification_id_idx"), ident),
    ]


def create_baseline_table(url: str, schema: str, table: str) -> None:
    with pg_connect(url) as conn:
        for statement in baseline_table_ddl(schema, table):
            conn.execute(statement)


# -- profiling -----------------------------------------------------------------------------

StageSpec = tuple[str, list[tuple[str, str, str, int]]]
"""(label, [(path fragment, function name, 'cum' | 'tot', +1 | -1), ...])"""

WAITING = ("psycopg/", "wait", "tot", 1)
WAITING_LABEL = "waiting for PostgreSQL (network round trips + server work, incl. commit)"


def profile(fn: Callable[[], Any], what: str, stages: Sequence[StageSpec],
            top: int = 8) -> ProfileSummary:
    """Run `fn` under cProfile; split its time into the given stages (plus 'other').

    A stage adds or subtracts the time of functions matched by path fragment and name (each
    may list alternatives separated by '|'): 'cum' sums their cumulative time, 'tot' their
    own time, 'outer' takes the largest cumulative time among them (the outermost call when
    one overrides and calls another). Stages must not nest in one another. cProfile inflates
    Python-side work relative to waiting on the database, so shares are indicative."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        fn()
    finally:
        profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in stats.values())

    def pick(fragment: str, name: str, mode: str) -> float:
        fragments, names = fragment.split("|"), set(name.split("|"))
        found: list[float] = []
        for (path, _line, func), (_cc, _nc, tt, ct, _callers) in stats.items():
            path = path.replace(os.sep, "/")
            if func in names and any(part in path for part in fragments):
                found.append(tt if mode == "tot" else ct)
        if mode == "outer":
            return max(found, default=0.0)
        return sum(found)

    rows = []
    for label, parts in stages:
        seconds = sum(sign * pick(fragment, name, mode) for fragment, name, mode, sign in parts)
        rows.append(Stage(label, max(seconds, 0.0), 0.0))
    other = max(total - sum(stage.seconds for stage in rows), 0.0)
    rows.append(Stage("other (glue code, interpreter, garbage collection)", other, 0.0))
    for stage in rows:
        stage.share = stage.seconds / total if total else 0.0
    functions = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    top_rows = [(_function_name(key), value[2], value[1]) for key, value in functions]
    return ProfileSummary(what=what, total_s=total, stages=rows, top_functions=top_rows)


def _function_name(key: tuple[str, int, str]) -> str:
    path, line, func = key
    if path == "~":
        return func
    path = path.replace(os.sep, "/")
    for marker in ("site-packages/", "/work/main/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line}({func})"


# -- machine -------------------------------------------------------------------------------


def _meminfo_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def code_version() -> str:
    """The commit measured, and which tracked files differed from it (bench/ and docs/ aside)."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, check=True,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain"], cwd=root, check=True,
                                capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    changed = sorted({line[3:] for line in status.splitlines()
                      if not line[3:].startswith(("bench/", "docs/"))})
    if not changed:
        return f"commit {head}"
    return f"commit {head} plus uncommitted changes to " + ", ".join(changed)


def machine_facts(url: str) -> dict[str, str]:
    facts = {
        "Code": code_version(),
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": f"{os.cpu_count()} cores (nproc), {_cpu_model()}",
        "RAM": _meminfo_gib(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "Libraries": ", ".join(f"{name} {package_version(name)}" for name in
                               ("eventsourcing", "psycopg", "psycopg-pool", "msgspec")),
        "SQLite": sqlite3.sqlite_version,
        "Load average at start": " / ".join(f"{v:.2f}" for v in os.getloadavg())
        + " (1/5/15 min; the machine may be shared, which is why each comparison is "
        "interleaved within the run)",
    }
    try:
        with pg_connect(url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            settings = {}
            for name in ("synchronous_commit", "fsync", "wal_sync_method", "shared_buffers"):
                value = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
                settings[name] = value[0] if value else "?"
        facts["PostgreSQL"] = (f"{row[0] if row else '?'} at {_safe_url(url)} ("
                               + ", ".join(f"{k}={v}" for k, v in settings.items()) + ")")
    except psycopg.Error as error:
        facts["PostgreSQL"] = f"unavailable: {error}"
    return facts


def _safe_url(url: str) -> str:
    """The URL without any password."""
    parsed = psycopg.conninfo.conninfo_to_dict(url)
    host, port, db = parsed.get("host", "?"), parsed.get("port", "5432"), parsed.get("dbname")
    return f"{parsed.get('user', '')}@{host}:{port}/{db}"
