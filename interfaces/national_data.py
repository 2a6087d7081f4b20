"""The seeds' national population as the national systems would export it: the importer
register, a year of trade activity and the year's examined sample lines, as CSV files.

Values follow the seed concentration (top 463 of 443,000 importers carry ~50% of value,
1,000 ~60%, 8,601 ~82%). Non-compliance is planted three ways, so targeting has
something true to find: by industry and area (e.g. footwear origin claims), by origin
country within an industry, and a small set of individually non-compliant importers.
Generation is vectorised (numpy, pyarrow) so the national files take seconds. The cases
demo writes the same files, smaller, for its own importers (`write_population_files`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv

from domain.reference import DISTRICTS, ComplianceArea

NATIONAL_IMPORTERS = 443_000
NATIONAL_VALUE = 1_422_000_000_000.0
NATIONAL_SAMPLES = 120_000
"""Examined sample lines in a national year."""
NATIONAL_ENTRIES = 1_000_000
"""Declarations the national demo channels."""
SEED_POINTS = ((463 / 443_000, 0.50), (1000 / 443_000, 0.60), (8601 / 443_000, 0.82))
INDUSTRIES = ("61", "62", "64", "72", "73", "84", "85", "87", "39", "94", "95", "03", "30",
              "08", "27", "90", "40", "44", "29", "52")
INDUSTRY_WEIGHTS = (8, 7, 5, 5, 6, 12, 14, 8, 6, 5, 4, 3, 3, 3, 2, 4, 2, 3, 3, 3)
ORIGINS = ("CN", "VN", "MX", "DE", "JP", "KR", "IN", "CA", "IT", "TW", "TH", "BD", "TR", "BR")
ORIGIN_WEIGHTS = (30, 10, 10, 8, 7, 6, 6, 6, 4, 4, 3, 3, 2, 1)
BASE_RATE = 0.03
PLANTED_AREAS = {"64": (ComplianceArea.ORIGIN, 0.09), "61": (ComplianceArea.CLASSIFICATION, 0.07),
                 "62": (ComplianceArea.VALUE, 0.06), "72": (ComplianceArea.ADCVD, 0.10),
                 "73": (ComplianceArea.ADCVD, 0.08), "85": (ComplianceArea.IPR, 0.05)}
"""Industry -> (area, extra discrepancy rate)."""
PLANTED_ORIGINS = {("72", "CN"): 0.12, ("64", "VN"): 0.08, ("85", "TW"): 0.06}
"""(industry, origin) -> extra discrepancy rate on top of the industry's."""
RISKY_SHARE = 0.015
RISKY_RATE = 0.40
LOSS_AREAS = {ComplianceArea.VALUE, ComplianceArea.CLASSIFICATION, ComplianceArea.ORIGIN,
              ComplianceArea.ADCVD, ComplianceArea.SPECIAL_PROGRAMMES}


@dataclass(frozen=True)
class NationalFiles:
    accounts: Path
    trade: Path
    samples: Path
    importers: int
    trade_rows: int
    sample_rows: int
    risky_importers: frozenset[str]
    """The importers planted as individually non-compliant (the truth a ranking should find)."""
    values: dict[str, float]


def scaled(national: int, importers: int, minimum: int) -> int:
    """A national yearly count (sample lines, declarations) for a population of
    `importers`, in proportion, but at least `minimum` so a small demo has some."""
    return max(minimum, round(national * importers / NATIONAL_IMPORTERS))


def cumulative_share(top_fraction: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Share of value carried by the top fraction of importers: log-log interpolation
    between the seed points (a power law below the first)."""
    p0, s0 = SEED_POINTS[0]
    result = s0 * np.sqrt(np.clip(top_fraction, 0, None) / p0)
    points = (*SEED_POINTS, (1.0, 1.0))
    for (pa_, sa), (pb, sb) in itertools.pairwise(points):
        k = np.log(sb / sa) / np.log(pb / pa_)
        inside = (top_fraction > pa_) & (top_fraction <= pb)
        result = np.where(inside, sa * (top_fraction / pa_) ** k, result)
    clipped: npt.NDArray[np.float64] = np.where(top_fraction >= 1.0, 1.0, result)
    return clipped


def importer_values(count: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Annual value by rank (largest first), scaled from the national total."""
    grid = np.arange(count + 1) / count
    shares = np.diff(cumulative_share(grid))
    total = NATIONAL_VALUE * count / NATIONAL_IMPORTERS
    values = np.maximum(shares * total * np.exp(rng.normal(0, 0.02, count)), 1000.0)
    return np.round(np.sort(values)[::-1], 2)


def _importer_numbers(count: int, rng: np.random.Generator) -> list[str]:
    serials = rng.choice(10_000_000, size=count, replace=False)
    prefixes = rng.integers(10, 100, size=count)
    letters = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))
    first = letters[rng.integers(0, len(letters), count)]
    second = letters[rng.integers(0, len(letters), count)]
    return [f"{p}-{s:07d}{a}{b}" for p, s, a, b in zip(prefixes, serials, first, second,
                                                       strict=True)]


def _write(table: pa.Table, path: Path) -> None:
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


def write_national_files(directory: Path, *, year: int, today: date,
                         importers: int = NATIONAL_IMPORTERS, samples: int = NATIONAL_SAMPLES,
                         seed: int = 42) -> NationalFiles:
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    numbers = _importer_numbers(importers, rng)
    values = importer_values(importers, rng)
    industry = np.array(INDUSTRIES)[rng.choice(len(INDUSTRIES), importers,
                                               p=_weights(INDUSTRY_WEIGHTS))]
    district_codes = np.array(sorted(DISTRICTS))
    district_weights = _weights(tuple(1.0 / (1 + i % 7) for i in range(len(district_codes))))
    district = district_codes[rng.choice(len(district_codes), importers, p=district_weights)]
    registered = rng.integers(0, (date(year, 1, 1) - date(1995, 1, 1)).days, importers)
    registered_on = (np.datetime64("1995-01-01") + registered).astype(str)
    names = [f"{('Pacific', 'Harbour', 'Summit', 'Delta', 'Orient', 'Meridian')[i % 6]} "
             f"{('Trading', 'Imports', 'Industries', 'Supply', 'Goods')[i % 5]} {i:06d} Ltd"
             for i in range(importers)]
    return write_population_files(
        directory, rng, Population(numbers, values, industry, district, names, registered_on),
        year=year, today=today, samples=samples)


@dataclass(frozen=True)
class Population:
    """Importers, largest annual value first (the trade generator relies on the order)."""

    numbers: list[str]
    values: npt.NDArray[np.float64]
    industry: npt.NDArray[np.str_]
    district: npt.NDArray[np.str_]
    names: list[str]
    registered_on: npt.NDArray[np.str_]


def write_population_files(directory: Path, rng: np.random.Generator, population: Population,
                           *, year: int, today: date, samples: int) -> NationalFiles:
    """The register, a year of trade and `samples` examined lines of `population`, as the
    national systems would export them (the cases demo passes its own importers)."""
    directory.mkdir(parents=True, exist_ok=True)
    numbers, values, industry = population.numbers, population.values, population.industry
    importers = len(numbers)
    district, names, registered_on = (population.district, population.names,
                                      population.registered_on)
    accounts_path = directory / "accounts.csv"
    _write(pa.table({"importer_number": numbers, "legal_name": names,
                     "district": district, "industry": industry,
                     "registered_on": registered_on}), accounts_path)
    trade = _trade(rng, numbers, values, industry, year, today)
    trade_path = directory / "trade.csv"
    _write(trade, trade_path)
    risky = rng.random(importers) < RISKY_SHARE
    sample_table = _samples(rng, numbers, values, industry, risky, samples, year, today)
    samples_path = directory / "samples.csv"
    _write(sample_table, samples_path)
    return NationalFiles(accounts_path, trade_path, samples_path, importers, trade.num_rows,
                         sample_table.num_rows,
                         frozenset(n for n, r in zip(numbers, risky, strict=True) if r),
                         dict(zip(numbers, values.tolist(), strict=True)))


def _weights(raw: tuple[float, ...]) -> npt.NDArray[np.float64]:
    return _normalised(np.array(raw, dtype=float))


def _months(year: int, today: date) -> int:
    return 12 if today.year > year else max(1, today.month - 1 if today.month > 1 else 1)


def _trade(rng: np.random.Generator, numbers: list[str], values: npt.NDArray[np.float64],
           industry: npt.NDArray[np.str_], year: int, today: date) -> pa.Table:
    """Rows per importer by size: the large trade every month from two origins, the small
    a few months a year; each row a distinct (period, chapter, origin)."""
    months = _months(year, today)
    count = len(numbers)
    rows = np.where(np.arange(count) < 8601 * count // NATIONAL_IMPORTERS + 1, 2 * months,
                    np.clip(1 + rng.poisson(1.3, count), 1, months))
    owner = np.repeat(np.arange(count), rows)
    offset = np.arange(len(owner)) - np.repeat(np.cumsum(rows) - rows, rows)
    start = rng.integers(0, months, count)[owner]
    month = (start + offset) % months + 1
    origin_pick = (rng.choice(len(ORIGINS), count, p=_weights(ORIGIN_WEIGHTS))[owner]
                   + offset // months) % len(ORIGINS)
    share = rng.gamma(2.0, 1.0, len(owner))
    share = share / np.bincount(owner, weights=share)[owner]
    value = np.round(values[owner] * share, 2)
    duty_rate = 0.02 + (np.array([int(c) for c in industry]) % 10) / 100
    entries = np.maximum(1, (value / rng.uniform(20_000, 80_000, len(owner))).astype(np.int64))
    lines = entries * rng.integers(1, 6, len(owner))
    return pa.table({
        "importer_number": pa.array(numbers).take(pa.array(owner)),
        "period": [f"{year}-{m:02d}" for m in month],
        "entries": entries, "lines": lines,
        "entered_value": pa.array(value).cast(pa.decimal128(18, 2)),
        "duty_paid": pa.array(np.round(value * duty_rate[owner], 2)).cast(pa.decimal128(18, 2)),
        "hs_chapter": pa.array(industry).take(pa.array(owner)),
        "origin_country": np.array(ORIGINS)[origin_pick],
    })


def _samples(rng: np.random.Generator, numbers: list[str], values: npt.NDArray[np.float64],
             industry: npt.NDArray[np.str_], risky: npt.NDArray[np.bool_], total: int,
             year: int, today: date) -> pa.Table:
    """Two thirds random lines (importers drawn in proportion to their activity, with a
    floor so small importers are examined too), one third targeted at the riskier ones."""
    count = len(numbers)
    activity = np.sqrt(values)
    random_lines = total * 2 // 3
    importer = np.concatenate([
        rng.choice(count, random_lines, p=activity / activity.sum()),
        rng.choice(count, total - random_lines,
                   p=_normalised(activity * np.where(risky, 6.0, 1.0)
                                 * np.array([1.0 + 10 * PLANTED_AREAS.get(c, (None, 0))[1]
                                             for c in industry])))])
    selection = np.where(np.arange(total) < random_lines, "random", "targeted")
    chapter = industry[importer]
    origin = np.array(ORIGINS)[rng.choice(len(ORIGINS), total, p=_weights(ORIGIN_WEIGHTS))]
    rate = discrepancy_rates(chapter, origin, risky[importer])
    planted_share = (rate - BASE_RATE - np.where(risky[importer], RISKY_RATE, 0.0)) / rate
    found = rng.random(total) < rate
    areas = [area.value for area in ComplianceArea]
    planted_area = np.array([PLANTED_AREAS[c][0].value if c in PLANTED_AREAS else ""
                             for c in chapter])
    use_planted = (planted_area != "") & (rng.random(total) < planted_share)
    area = np.where(use_planted, planted_area, np.array(areas)[rng.integers(0, len(areas),
                                                                            total)])
    area = np.where(found, area, "")
    value = np.round(rng.lognormal(8.0, 1.2, total), 2)
    loss = np.where(found & np.isin(area, [a.value for a in LOSS_AREAS]),
                    np.round(value * rng.uniform(0.02, 0.3, total), 2), 0.0)
    days = (min(today, date(year, 12, 31)) - date(year, 1, 1)).days + 1
    exam = (np.datetime64(f"{year}-01-01") + rng.integers(0, days, total)).astype(str)
    digits = rng.integers(0, 100_000_000, total)
    return pa.table({
        "entry_number": [f"E{year % 100:02d}{i:09d}" for i in range(total)],
        "line": rng.integers(1, 6, total),
        "importer_number": pa.array(numbers).take(pa.array(importer)),
        "exam_date": exam,
        "hs_code": [f"{c}{d:08d}" for c, d in zip(chapter, digits, strict=True)],
        "origin_country": origin,
        "entered_value": pa.array(value).cast(pa.decimal128(18, 2)),
        "selection": selection,
        "discrepancy": np.where(found, "true", "false"),
        "discrepancy_type": area,
        "revenue_loss": pa.array(loss).cast(pa.decimal128(18, 2)),
    })


def _normalised(weights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    normalised: npt.NDArray[np.float64] = weights / weights.sum()
    return normalised


def discrepancy_rates(chapters: npt.NDArray[np.str_], origins: npt.NDArray[np.str_],
                      risky: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """The planted truth: the chance that an examined line is non-compliant."""
    industry_extra = np.array([PLANTED_AREAS.get(c, (None, 0.0))[1] for c in chapters])
    origin_extra = np.array([PLANTED_ORIGINS.get((c, o), 0.0)
                             for c, o in zip(chapters, origins, strict=True)])
    rates: npt.NDArray[np.float64] = (BASE_RATE + industry_extra + origin_extra
                                      + np.where(risky, RISKY_RATE, 0.0))
    return rates


def write_entries(path: Path, files: NationalFiles, *, count: int, year: int, today: date,
                  seed: int = 7) -> int:
    """A year of declarations, spread over importers by their activity, lodged in the
    importer's district or (one in five) another port."""
    rng = np.random.default_rng(seed)
    accounts = pacsv.read_csv(files.accounts, convert_options=pacsv.ConvertOptions(
        column_types={"district": pa.string(), "industry": pa.string()}))
    numbers = np.array(accounts["importer_number"].to_pylist())
    weights = np.sqrt(np.array([files.values[n] for n in numbers]))
    importer = rng.choice(len(numbers), count, p=weights / weights.sum())
    chapter = np.array(accounts["industry"].to_pylist())[importer]
    home = np.array(accounts["district"].to_pylist())[importer]
    district = np.where(rng.random(count) < 0.2,
                        np.array(sorted(DISTRICTS))[rng.integers(0, len(DISTRICTS), count)],
                        home)
    days = (min(today, date(year, 12, 31)) - date(year, 1, 1)).days + 1
    value = np.round(rng.lognormal(9.0, 1.3, count), 2)
    _write(pa.table({
        "entry_number": [f"D{year % 100:02d}{i:010d}" for i in range(count)],
        "importer_number": numbers[importer],
        "entry_date": (np.datetime64(f"{year}-01-01") + rng.integers(0, days, count)).astype(str),
        "district": district,
        "hs_code": [f"{c}{d:08d}" for c, d in zip(chapter, rng.integers(0, 10**8, count),
                                                   strict=True)],
        "origin_country": np.array(ORIGINS)[rng.choice(len(ORIGINS), count,
                                                       p=_weights(ORIGIN_WEIGHTS))],
        "entered_value": pa.array(value).cast(pa.decimal128(18, 2)),
        "duty": pa.array(np.round(value * 0.05, 2)).cast(pa.decimal128(18, 2)),
    }), path)
    return int(count)


def write_exam_results(path: Path, examined: pa.Table, risky: frozenset[str],
                       *, seed: int = 11) -> int:
    """Exam results of the declarations sent to exam, as compliance samples: line 1 of
    each entry, `selection` random where the entry was drawn at random."""
    rng = np.random.default_rng(seed)
    count = examined.num_rows
    chapters = np.array([code[:2] for code in examined["hs_code"].to_pylist()])
    origins = np.array(examined["origin_country"].to_pylist())
    importers = examined["importer_number"].to_pylist()
    rate = discrepancy_rates(chapters, origins, np.array([n in risky for n in importers]))
    found = rng.random(count) < rate
    areas = np.array([area.value for area in ComplianceArea])
    planted = np.array([PLANTED_AREAS[c][0].value if c in PLANTED_AREAS else ""
                        for c in chapters])
    area = np.where(planted != "", planted, areas[rng.integers(0, len(areas), count)])
    value = np.array(examined["value_cents"].to_pylist(), dtype=np.float64) / 100
    loss = np.where(found, np.round(value * rng.uniform(0.02, 0.3, count), 2), 0.0)
    _write(pa.table({
        "entry_number": examined["entry_number"],
        "line": np.ones(count, dtype=np.int64),
        "importer_number": examined["importer_number"],
        "exam_date": pa.array([str(d) for d in examined["entry_date"].to_pylist()]),
        "hs_code": examined["hs_code"],
        "origin_country": examined["origin_country"],
        "entered_value": pa.array(np.round(value, 2)).cast(pa.decimal128(18, 2)),
        "selection": np.where(np.array(examined["basis"].to_pylist()) == "random",
                              "random", "targeted"),
        "discrepancy": np.where(found, "true", "false"),
        "discrepancy_type": np.where(found, area, ""),
        "revenue_loss": pa.array(loss).cast(pa.decimal128(18, 2)),
    }), path)
    return int(count)
