"""The charts of the analyst's dashboard, each drawn from the analyst's picture alone
(application.analyst_picture) with the reports' chart functions: named here, apart from
the web route that serves them, so that whoever computes a picture (the process that ran
a bulk run, or the first page that asks) can draw and store its charts too."""

from __future__ import annotations

from collections.abc import Callable

from application.analyst_picture import AnalystPicture
from application.reports import charts
from application.reports.picture import concentration_chart, rates_chart, targeting_chart

WIDTH = 7.0
CHANNEL_ORDER = ("green", "amber", "red")
BASES = ("none", "risk", "rule", "random")


def _rates(grain: str, title: str) -> Callable[[AnalystPicture], str]:
    return lambda found: rates_chart(getattr(found, grain), title)


def _channels(found: AnalystPicture) -> str:
    totals = {row["channel"]: row for row in found.channel_totals}
    labels = [c for c in CHANNEL_ORDER if c in totals] + sorted(
        c for c in totals if c not in CHANNEL_ORDER)
    bases = [b for b in BASES if any(b in totals[c]["by_basis"] for c in labels)]
    return charts.stacked_bars(labels, {b: [totals[c]["by_basis"].get(b, 0) for c in labels]
                                        for b in bases},
                               title="Declarations by channel and basis", y_label="declarations",
                               width=WIDTH)


# Drawing these differently? Raise application.figure_version.FIGURES_VERSION.
ANALYST_CHARTS: dict[str, Callable[[AnalystPicture], str]] = {
    "concentration": lambda found: concentration_chart(found.spread),
    "rates-industry": _rates("industry", "Lowest compliance by industry"),
    "rates-area": _rates("area", "Compliance by area"),
    "rates-district": _rates("by_district", "Lowest compliance by district"),
    "targeting": lambda found: targeting_chart(found.targeting),
    "channels": _channels,
}
"""Chart name -> how it is drawn from the analyst's picture, in the dashboard's order."""
