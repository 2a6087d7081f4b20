"""The report charts: SVG text to inline, the same bytes for the same data (reports are
archived by their hash), a "no data" chart for an empty series, and bad input refused."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from application.reports import charts

ROOT = Path(__file__).resolve().parents[2]


def drawn() -> list[str]:
    return [
        charts.rates_with_intervals(["value", "origin"], [0.97, 0.9], [0.95, 0.85],
                                    [0.985, 0.94], title="Rates", target=0.95),
        charts.concentration_curve([float(i**2) for i in range(500)],
                                   [("tier 1", 0.5), ("tier 2", 0.8)], title="Value"),
        charts.trend(["2024", "2025"], [10.0, 12.5], title="Entries"),
        charts.trend(["2024", "2025"], [0.9, 0.95], title="Rate", kind="bar", percent=True),
        charts.stacked_bars(["11", "12"], {"proposed": [1, 2], "decided": [3, 0]},
                            title="Stages"),
    ]


def test_charts_are_inline_svg_with_their_labels_as_text() -> None:
    for svg in drawn():
        assert svg.startswith("<svg")
        assert svg.rstrip().endswith("</svg>")
        assert "<?xml" not in svg
        assert "<!DOCTYPE" not in svg
        assert "<!--" not in svg
        assert "<dc:date>" not in svg
    rates, curve, *_ = drawn()
    assert ">Rates<" in rates
    assert ">value<" in rates
    assert "tier 1: 50% of value" in curve


def test_the_same_data_draws_the_same_bytes_in_another_process() -> None:
    here = drawn()
    assert drawn() == here
    script = ("import sys\nfrom tests.unit.test_report_charts import drawn\n"
              "sys.stdout.write('\\x00'.join(drawn()))\n")
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           cwd=ROOT, timeout=120, check=True,
                           env={"PYTHONHASHSEED": "99", "PATH": "/usr/bin:/bin"})
    assert other.stdout.split("\x00") == here


@pytest.mark.parametrize("svg", [
    charts.rates_with_intervals([], [], [], [], title="Empty rates"),
    charts.concentration_curve([], title="Empty curve"),
    charts.concentration_curve([0.0, 0.0], title="Nothing of value"),
    charts.trend([], [], title="Empty trend"),
    charts.stacked_bars([], {}, title="Empty stages"),
    charts.stacked_bars(["11"], {"proposed": [0]}, title="All zero"),
])
def test_an_empty_series_draws_a_chart_that_says_no_data(svg: str) -> None:
    assert re.search(r">no data<", svg)


def test_mismatched_or_impossible_input_is_refused() -> None:
    with pytest.raises(ValueError, match="2 labels but 1 rates"):
        charts.rates_with_intervals(["a", "b"], [0.5], [0.4, 0.4], [0.6, 0.6], title="x")
    with pytest.raises(ValueError, match="not a finite number"):
        charts.trend(["a"], [float("nan")], title="x")
    with pytest.raises(ValueError, match="not negative"):
        charts.concentration_curve([1.0, -1.0], title="x")
    with pytest.raises(ValueError, match="kind"):
        charts.trend(["a"], [1.0], title="x", kind="pie")


def _texts(svg: str) -> list[str]:
    return re.findall(r">([^<>]+)</text>", svg)


def test_counts_are_ticked_in_whole_numbers_and_one_bar_stays_a_bar() -> None:
    svg = charts.trend(["verification scheduled"], [3], kind="bar", title="Plans",
                       y_label="plans")
    assert _texts(svg)[:5] == ["verification scheduled", "0", "1", "2", "3"]
    stacked = charts.stacked_bars(["penalty"], {"proposed": [1], "decided": [2]},
                                  title="Stages")
    assert not {"0.5", "1.5", "2.5"} & set(_texts(stacked))


def test_a_caption_too_wide_for_the_figure_is_wrapped_not_cut() -> None:
    caption = ("compliance rate (bars) with 95% interval (whiskers); the axis starts at "
               "15%; dashed line: target 95%")
    svg = charts.rates_with_intervals(["85 Electrical and telecom …"] * 3, [0.5] * 3,
                                      [0.2] * 3, [0.9] * 3, title="Rates", target=0.95)
    lines = [t for t in _texts(svg) if "compliance rate" in t or "target 95%" in t]
    assert caption not in _texts(svg)
    assert len(lines) == 2
    assert " ".join(lines) == caption


def test_tier_cut_offs_close_together_are_named_in_the_legend() -> None:
    svg = charts.concentration_curve([100_000.0] + [10.0] * 200,
                                     [("tier 1", 0.95), ("tier 3", 0.968)], title="Value")
    names = [t for t in _texts(svg) if t.startswith("tier ")]
    assert [n.split(", top")[0] for n in names] == ["tier 1: 95% of value",
                                                    "tier 3: 97% of value"]
