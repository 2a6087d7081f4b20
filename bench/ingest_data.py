"""Generated ingest files for benchmarks 7-9: the importer register, a year of trade and
compliance sample lines, written as CSV with the stdlib csv module and a fixed seed.

Every row is valid (the benchmarks measure loading, not rejecting), and the files use the
national systems' export formats that `compliance import accounts|trade|samples` reads.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from application.ingest.schemas import SCHEMAS, IngestKind
from bench.workloads import importer_numbers
from domain.reference import DISTRICTS, ComplianceArea
from interfaces.demo_population import CONCENTRATION, INDUSTRIES, importer_values

NATIONAL_IMPORTERS = 443_000
COUNTRIES = ("CN", "VN", "DE", "MX", "JP", "KR", "IN", "IT", "TW", "TH", "MY", "GB", "FR",
             "ID", "CA", "BR", "TR", "ES", "NL", "CH")
AREAS = tuple(area.value for area in ComplianceArea)
NAMES = ("Acme", "Pacific", "Golden Bridge", "Northern Star", "Harbour", "Jade River",
         "Silk Road", "Evergreen", "Summit", "Orient", "Meridian", "Blue Ocean")
SUFFIXES = ("Trading Co.", "Imports Ltd", "Industries", "Logistics", "Manufacturing",
            "Electronics", "Foods", "Holdings")
DISCREPANCY_RATE = 0.06
# The seed points of the national concentration curve: (importers from the top, share).
SEED_POINTS = tuple((round(share_of_importers * NATIONAL_IMPORTERS), share)
                    for share_of_importers, share in CONCENTRATION[1:-1])


def columns(kind: IngestKind) -> tuple[str, ...]:
    return SCHEMAS[kind](date.min).columns


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass(frozen=True)
class Register:
    """The register file and, aligned with its rows, each importer's number and industry."""

    path: Path
    numbers: list[str]
    industries: list[str]

    @property
    def count(self) -> int:
        return len(self.numbers)


def write_register(path: Path, count: int, *, seed: int, prefix: int) -> Register:
    """`count` importers (importer_number, legal_name, district, industry, registered_on)."""
    rng = random.Random(seed)
    numbers = importer_numbers(prefix)
    districts = sorted(DISTRICTS)
    first = date(1995, 1, 1).toordinal()
    last = date(2024, 12, 31).toordinal()
    registered: list[str] = []
    industries: list[str] = []
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(columns(IngestKind.ACCOUNTS))
        for index in range(count):
            number = next(numbers)
            industry = rng.choice(INDUSTRIES)
            writer.writerow((number, f"{rng.choice(NAMES)} {rng.choice(SUFFIXES)} {index + 1}",
                             rng.choice(districts), industry,
                             date.fromordinal(rng.randint(first, last)).isoformat()))
            registered.append(number)
            industries.append(industry)
    return Register(path, registered, industries)


@dataclass(frozen=True)
class Trade:
    path: Path
    rows: int
    total_cents: int
    top_shares: dict[int, float]
    """Share of the year's value carried by the top N importers, for each seed point N
    (scaled to the number of importers)."""
    by_value: list[int]
    """Register row of each importer, largest annual value first."""


def write_trade(path: Path, register: Register, year: int, *, seed: int) -> Trade:
    """A year of trade for every importer: annual values from the national concentration
    curve (demo_population.importer_values) given to the importers in a random order; the
    top 2% by value trade every month, the others in 1-3 months (mostly one); chapter
    mostly the importer's industry, one origin country per row."""
    rng = random.Random(seed)
    count = register.count
    values = importer_values(count, rng)  # by rank, largest first
    owner = list(range(count))
    rng.shuffle(owner)  # rank -> importer index
    monthly = max(1, round(count * CONCENTRATION[3][0]))
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(columns(IngestKind.TRADE))
        for rank, value in enumerate(values):
            index = owner[rank]
            number, industry = register.numbers[index], register.industries[index]
            months = range(1, 13) if rank < monthly else sorted(
                rng.sample(range(1, 13), rng.choice((1, 1, 1, 2, 3))))
            cents = int(value * 100)
            weights = [rng.random() + 0.5 for _ in months]
            scale = sum(weights)
            left = cents
            for position, (month, weight) in enumerate(zip(months, weights, strict=True)):
                part = left if position == len(weights) - 1 else int(cents * weight / scale)
                left -= part
                entries = max(1, min(part // 4_000_000, 1_000_000))
                chapter = industry if rng.random() < 0.8 else rng.choice(INDUSTRIES)
                writer.writerow((number, f"{year:04d}-{month:02d}", entries,
                                 entries * rng.randint(1, 3), _money(part),
                                 _money(int(part * rng.uniform(0.02, 0.08))), chapter,
                                 rng.choice(COUNTRIES)))
                rows += 1
    total = sum(values, Decimal(0))
    shares = {}
    for top, _share in SEED_POINTS:
        scaled = max(1, round(top * count / NATIONAL_IMPORTERS))
        shares[scaled] = float(sum(values[:scaled], Decimal(0)) / total)
    return Trade(path, rows, int(total * 100), shares, owner)


def write_samples(path: Path, importers: Sequence[str], count: int, year: int, *, seed: int,
                  pick: Callable[[random.Random], int] | None = None,
                  industries: Sequence[str] | None = None) -> int:
    """`count` examined lines of the year, 1-5 lines per entry, spread over `importers`
    (uniformly, or by `pick`); about 6% of lines have a discrepancy (an area and a loss).
    Returns the number of entries."""
    rng = random.Random(seed)
    chooser = pick or (lambda r: r.randrange(len(importers)))
    first = date(year, 1, 1)
    days = min((date(year, 12, 31) - first).days, (date.today() - first).days) + 1
    written = 0
    entry = 0
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(columns(IngestKind.SAMPLES))
        while written < count:
            entry += 1
            index = chooser(rng)
            number = importers[index]
            exam_date = (first + timedelta(days=rng.randrange(days))).isoformat()
            selection = "random" if rng.random() < 0.7 else "targeted"
            origin = rng.choice(COUNTRIES)
            home = industries[index] if industries else rng.choice(INDUSTRIES)
            for line in range(1, min(rng.randint(1, 5), count - written) + 1):
                chapter = home if rng.random() < 0.8 else rng.choice(INDUSTRIES)
                hs_code = f"{chapter}{rng.randrange(10_000):04d}" + (
                    f"{rng.randrange(100):02d}" if rng.random() < 0.5 else "")
                value = rng.randint(10_000, 5_000_000)
                if rng.random() < DISCREPANCY_RATE:
                    found, area = "true", rng.choice(AREAS)
                    loss = _money(int(value * rng.uniform(0.0, 0.15)))
                else:
                    found, area, loss = "false", "", "0.00"
                writer.writerow((f"E{year % 100:02d}-{entry:09d}", line, number, exam_date,
                                 hs_code, origin, _money(value), selection, found, area, loss))
                written += 1
    return entry
