"""The annual report to the oversight body for one calendar year: trade measured (with the
earlier loaded years as a trend), compliance measured on the random samples (national and
by industry, with 95% intervals), the estimated revenue loss, enforcement outcomes, plans
closed, how targeting did against chance, and the 42 districts side by side.

Compliance here is the observed rate of the year's random sample lines (the unbiased
measure), with a Wilson interval, not the risk run's shrunk estimates: an oversight body
is told what was measured in the year, which a reader can recount from the samples."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from application.reports import charts
from application.reports.document import GENERATOR_VERSION, ReportDocument
from application.reports.periodic_render import compliance_row, district_label, render
from application.reports.periodic_sections import hit_row, stamp
from application.reports.periods import parse_year
from application.reports.sources import PeriodicSources, Row, SampleCell
from application.reports.timeline import field_title
from domain.reference import DISTRICTS, INDUSTRIES

CHART_ROWS = 15


def build_annual(sources: PeriodicSources, year: int | str, *,
                 position: int | None = None) -> ReportDocument:
    chosen = parse_year(year, sources.today())
    at = stamp(sources, position)
    title = f"Annual report on trade compliance {chosen}"
    cells = sources.sample_cells(chosen)
    trade = sources.trade_by_year(chosen)
    measured = sources.effectiveness(*_year_range(chosen))
    enforcement = sources.enforcement_in_year(chosen)
    closures = sources.plan_closures(chosen)
    sections = {
        "trade": _trade(trade, chosen),
        "compliance": _compliance(cells),
        "loss": _loss(cells, trade, chosen, sources.findings_in_year(chosen)),
        "enforcement": _enforcement(enforcement),
        "plans": _plans(closures),
        "targeting": _targeting(measured),
        "districts": _districts(sources.district_activity(chosen), cells, enforcement,
                                closures, measured),
    }
    html = render("annual.html", title=title, position=at.position, as_of=at.as_of,
                  year=chosen, **sections)
    return ReportDocument(
        kind="annual", title=title, html=html, as_of=at.as_of, position=at.position,
        parameters={"year": str(chosen)}, subject=f"Annual report on trade compliance, "
                                                  f"{chosen}",
        keywords=("trade compliance", "annual report", str(chosen), GENERATOR_VERSION))


def _year_range(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _trade(rows: list[Row], year: int) -> dict[str, Any]:
    current = next((r for r in rows if r["year"] == year), None)
    return {"current": current, "years": rows,
            "chart": charts.trend([str(r["year"]) for r in rows],
                                  [r["value_cents"] / 100 for r in rows], kind="bar",
                                  title="Entered value by year", y_label="entered value")
            if len(rows) > 1 else ""}


def _compliance(cells: list[SampleCell]) -> dict[str, Any]:
    random = [c for c in cells if c.selection == "random"]
    by_industry: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for cell in random:
        by_industry[cell.chapter][0] += cell.lines
        by_industry[cell.chapter][1] += cell.discrepancies
    industries = [compliance_row(f"{code} {INDUSTRIES.get(code, '')}".strip(), *by_industry[code],
                                 code=code) for code in sorted(by_industry)]
    lowest = sorted(industries, key=lambda r: (r["rate"], r["code"]))[:CHART_ROWS]
    targeted = [c for c in cells if c.selection != "random"]
    return {
        "national": compliance_row("national", sum(c.lines for c in random),
                                   sum(c.discrepancies for c in random)),
        "targeted": compliance_row("targeted exams", sum(c.lines for c in targeted),
                                   sum(c.discrepancies for c in targeted)),
        "industries": industries,
        "chart": charts.rates_with_intervals(
            [r["key"][:28] for r in lowest], [r["rate"] for r in lowest],
            [r["low"] for r in lowest], [r["high"] for r in lowest],
            title="Lowest compliance by industry (random samples)", target=0.95)
        if lowest else "",
    }


def _loss(cells: list[SampleCell], trade: list[Row], year: int,
          findings: list[Row]) -> dict[str, Any]:
    """Estimated revenue loss: the loss found per unit of value on the random sample
    lines, applied to the year's entered value (the sample stands for all trade)."""
    random = [c for c in cells if c.selection == "random"]
    examined = sum(c.value_cents for c in random)
    found = sum(c.loss_cents for c in random)
    value = next((r["value_cents"] for r in trade if r["year"] == year), 0)
    rate = found / examined if examined else None
    by_area: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for cell in cells:
        if cell.area:
            by_area[cell.area][0] += cell.discrepancies
            by_area[cell.area][1] += cell.loss_cents
    return {"examined_cents": examined, "found_cents": found, "rate": rate,
            "value_cents": value,
            "estimated_cents": round(rate * value) if rate is not None else None,
            "all_exams_cents": sum(c.loss_cents for c in cells),
            "by_area": [{"area": a, "discrepancies": d, "loss_cents": loss}
                        for a, (d, loss) in sorted(by_area.items())],
            "findings": findings,
            "findings_cents": sum(int(r["loss_cents"]) for r in findings)}


def _enforcement(rows: list[Row]) -> dict[str, Any]:
    kinds: dict[str, dict[str, Any]] = {}
    states: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        kind = kinds.setdefault(row["kind"], {"kind": row["kind"], "actions": 0,
                                              "proposed": 0, "decided": 0, "collected": 0,
                                              "referred": 0, "days": []})
        kind["actions"] += 1
        kind["proposed"] += int(row["proposed_cents"] or 0)
        kind["decided"] += int(row["decided_cents"] or 0)
        kind["collected"] += int(row["paid_cents"] or 0)
        kind["referred"] += row["state"] == "referred_for_collection"
        if row["days_to_decision"] is not None:
            kind["days"].append(int(row["days_to_decision"]))
        states[row["kind"]][row["state"]] += 1
    result = []
    for name in sorted(kinds):
        kind = kinds.pop(name)
        days = kind.pop("days")
        kind["decisions"] = len(days)
        kind["mean_days"] = sum(days) / len(days) if days else None
        result.append(kind)
    labels = [r["kind"] for r in result]
    all_states = sorted({s for k in states.values() for s in k})
    return {"kinds": result, "actions": len(rows),
            "proposed": sum(r["proposed"] for r in result),
            "decided": sum(r["decided"] for r in result),
            "collected": sum(r["collected"] for r in result),
            "states": [{"kind": k, "state": s, "actions": states[k][s]}
                       for k in labels for s in sorted(states[k])],
            "chart": charts.stacked_bars([field_title(k) for k in labels],
                                         {field_title(s): [states[k].get(s, 0) for k in labels]
                                          for s in all_states},
                                         title="Enforcement actions proposed in the year, "
                                               "by kind and stage now", y_label="actions")
            if rows else ""}


def _plans(closures: list[Row]) -> dict[str, Any]:
    effective = sum(r["plans"] for r in closures if r["outcome"] == "ClosedEffective")
    escalated = sum(r["plans"] for r in closures if r["outcome"] == "Escalated")
    per: dict[str, dict[str, int]] = defaultdict(lambda: {"effective": 0, "escalated": 0})
    for row in closures:
        key = "effective" if row["outcome"] == "ClosedEffective" else "escalated"
        per[row["district"]][key] += row["plans"]
    labels = sorted(per)
    return {"effective": effective, "escalated": escalated, "closed": effective + escalated,
            "districts": [{"district": d, **per[d]} for d in labels],
            "chart": charts.stacked_bars(labels, {"closed effective": [per[d]["effective"]
                                                                       for d in labels],
                                                  "escalated": [per[d]["escalated"]
                                                                for d in labels]},
                                         title="Improvement plans closed, by district",
                                         y_label="plans") if labels else ""}


def _targeting(measured: Any) -> dict[str, Any]:
    national = hit_row(measured.overall)
    return {"national": national, "districts": [hit_row(c) for c in measured.by_district],
            "rules": [hit_row(c) for c in measured.by_rule],
            "examined": national["targeted"]["examined"] + national["random"]["examined"]}


def _districts(activity: list[Row], cells: list[SampleCell], enforcement: list[Row],
               closures: list[Row], measured: Any) -> dict[str, Any]:
    """All 42 districts, those with nothing included, so the comparison is complete."""
    found = {row["district"]: row for row in activity}
    samples: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for cell in cells:
        if cell.selection == "random":
            samples[cell.district][0] += cell.lines
            samples[cell.district][1] += cell.discrepancies
    hits = {c.key: hit_row(c) for c in measured.by_district}
    rows = []
    for code in sorted(DISTRICTS):
        base = found.get(code, {})
        actions = [r for r in enforcement if r["district"] == code]
        rows.append(compliance_row(
            district_label(code), *samples.get(code, (0, 0)), code=code,
            importers=base.get("importers", 0), value_cents=base.get("value_cents", 0),
            assessments=base.get("assessments_opened", 0),
            effective=sum(r["plans"] for r in closures if r["district"] == code
                          and r["outcome"] == "ClosedEffective"),
            escalated=sum(r["plans"] for r in closures if r["district"] == code
                          and r["outcome"] == "Escalated"),
            actions=len(actions), decided_cents=sum(int(r["decided_cents"] or 0)
                                                    for r in actions),
            hit=hits.get(code)))
    measured_rows = [r for r in rows if r["lines"]]
    lowest = sorted(measured_rows, key=lambda r: (r["rate"], r["code"]))
    return {"rows": rows, "chart": charts.rates_with_intervals(
        [r["key"] for r in lowest], [r["rate"] for r in lowest], [r["low"] for r in lowest],
        [r["high"] for r in lowest], title="Compliance by district (random samples), lowest "
                                           "first", target=0.95) if lowest else ""}
