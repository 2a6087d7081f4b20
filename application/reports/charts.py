"""Charts for the reports (and later the web dashboards), drawn with matplotlib as SVG text
to inline in HTML: plain lists of labels and numbers in, an `<svg>` element out.

Why SVG and why these settings: vector charts stay sharp in a PDF/A and in a browser, need
no image files (the renderer fetches nothing), and with text kept as text
(`svg.fonttype = none`) the PDF's text layer holds the chart's labels too. The same data
must give the same bytes (reports are archived by their hash), so every source of
variation is pinned: the Agg/SVG backends only (no display), a fixed `svg.hashsalt` (else
element ids are random), no date in the metadata, no library version comment. An empty
series draws a chart that says "no data" instead of failing: a district with nothing to
show still gets its report.

Every function takes a `title` and returns the SVG as a string, sized in points for an A4
page column (`width` and `height` in inches, default 6.3 x 3.0).
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
import numpy.typing as npt

matplotlib.use("Agg")

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

__all__ = ["concentration_curve", "concentration_curve_of", "curve_points",
           "rates_with_intervals", "stacked_bars", "trend"]

NO_DATA = "no data"
WIDTH, HEIGHT = 6.3, 3.0
PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7f6000", "#7030a0", "#2e75b6", "#a5a5a5")
"""Colours that survive greyscale printing in order (dark, mid, light)."""
_MAX_CURVE_POINTS = 400
_RC: Any = {  # matplotlib types rcParams keys as a Literal of every name
    "svg.hashsalt": "compliance-ledger-reports",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 8.0,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#d9d9d9",
    "grid.linewidth": 0.5,
    "axes.axisbelow": True,
    "path.simplify": True,
}
_MIN_SLOTS = 4
"""A bar chart is drawn at least this many bars wide, so that one or two bars still look
like bars, not like a filled plot."""
_MAX_TALL = 8.0
"""The tallest a rates chart grows by itself (inches): its rows closer together past it,
so that 42 districts still fit on one A4 page with their axis and caption."""
_MIN_ROWS = 2
"""The same for horizontal bars, whose chart already grows taller with every row."""
_LEGEND_BESIDE = 5
"""A stacked chart of more series has its legend under the plot, in _LEGEND_COLUMNS
columns, the figure _LEGEND_ROW inches taller per row, instead of beside it."""
_LEGEND_COLUMNS = 3
_LEGEND_ROW = 0.2
_HATCHES = ("", "////", "....", "xxxx")
_FIT_PASSES = 3
_HEADER = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->\s*", re.DOTALL)


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasSVG(figure)
    return figure, figure.add_subplot()


def _fit(figure: Figure, *texts: Text) -> None:
    """Wrap each of `texts` (titles, axis captions) that is wider than the room it has in
    the figure onto more lines: a long caption was cut at the figure's edge. Measured on
    the laid-out figure (the room of a centred text is twice its distance to the nearer
    edge) and laid out again, since wrapping changes the layout; the same text and size
    give the same lines."""
    pad = 4 * figure.dpi / 72
    for _ in range(_FIT_PASSES):
        figure.draw_without_rendering()
        width = figure.bbox.width
        wrapped = False
        for text in texts:
            content = text.get_text()
            box = text.get_window_extent()
            if not content or (box.x0 >= pad and box.x1 <= width - pad):
                continue
            centre = (box.x0 + box.x1) / 2
            room = (2 * min(centre, width - centre) if text.get_horizontalalignment()
                    == "center" else width) - 2 * pad
            longest = max(len(line) for line in content.split("\n"))
            chars = max(12, int(longest * room / box.width) - 1)
            if chars >= longest:
                continue
            text.set_text(textwrap.fill(" ".join(content.split()), chars))
            wrapped = True
        if not wrapped:
            return


def _fit_categories(figure: Figure, axes: Axes, positions: Sequence[int],
                    labels: Sequence[str]) -> None:
    """Category labels under bars that would run into one another are wrapped to the
    width of their bar's slot, and, if a single word is still too wide, set aslant, steep
    enough for neighbours to clear each other: long stage names printed over each other."""
    def widest() -> float:
        figure.draw_without_rendering()
        return max((t.get_window_extent().width for t in axes.get_xticklabels()
                    if t.get_text()), default=0.0)

    low, high = axes.get_xlim()
    slot = axes.get_window_extent().width / max(high - low, 1.0)
    room = slot - 6 * figure.dpi / 72
    found = widest()
    if found <= room:
        return
    longest = max(len(label) for label in labels)
    chars = max(6, int(longest * room / found))
    axes.set_xticks(list(positions),
                    [textwrap.fill(label, chars, break_long_words=False) for label in labels])
    if widest() <= room:
        return
    axes.set_xticks(list(positions), list(labels))
    line = float(axes.get_xticklabels()[0].get_fontsize()) * 1.3 * figure.dpi / 72
    angle = 45 if line <= slot * math.sin(math.radians(45)) else 90
    for text in axes.get_xticklabels():
        text.set_rotation(angle)
        text.set_horizontalalignment("right" if angle < 90 else "center")
        text.set_rotation_mode("anchor" if angle < 90 else "default")


def _bar_slots(axes: Axes, count: int, *, horizontal: bool = False) -> None:
    """Room for at least _MIN_SLOTS bars (_MIN_ROWS rows), the bars centred: a bar's
    width stays bounded however few there are."""
    pad = max(0.0, ((_MIN_ROWS if horizontal else _MIN_SLOTS) - count) / 2)
    low, high = -0.5 - pad, count - 0.5 + pad
    if horizontal:
        axes.set_ylim(low, high)
    else:
        axes.set_xlim(low, high)


def _count_ticks(axis: Axis, values: Sequence[float]) -> None:
    """Counts (every value a whole number) are ticked at whole numbers only: no 0.5 plan."""
    if all(float(v).is_integer() for v in values):
        axis.set_major_locator(MaxNLocator(integer=True))


def _svg(figure: Figure) -> str:
    """The figure as an inline `<svg>` element: no XML declaration, DOCTYPE or comments
    (the library's version comment would change the bytes on an upgrade)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = _COMMENT.sub("", _HEADER.sub("", buffer.getvalue(), count=1))
    return text.strip() + "\n"


def _no_data(title: str, width: float, height: float) -> str:
    figure, axes = _figure(width, height)
    axes.set_title(title)
    axes.set_axis_off()
    axes.text(0.5, 0.5, NO_DATA, ha="center", va="center", fontsize=12, color="#595959",
              transform=axes.transAxes)
    return _svg(figure)


def _finite(values: Sequence[float]) -> bool:
    return all(math.isfinite(v) for v in values)


def _check_lengths(what: str, labels: Sequence[str], **series: Sequence[float]) -> None:
    for name, values in series.items():
        if len(values) != len(labels):
            raise ValueError(f"{what}: {len(labels)} labels but {len(values)} {name}")
        if not _finite(values):
            raise ValueError(f"{what}: {name} holds a value that is not a finite number")


def rates_with_intervals(labels: Sequence[str], rates: Sequence[float],
                         lowers: Sequence[float], uppers: Sequence[float], *,
                         title: str, target: float | None = None,
                         width: float = WIDTH, height: float | None = None) -> str:
    """Compliance rates by group (0..1) as horizontal bars with their 95% interval as
    whiskers, the first label at the top; `target` draws a dashed line (e.g. the
    acceptable lower bound)."""
    _check_lengths("rates_with_intervals", labels, rates=rates, lowers=lowers, uppers=uppers)
    tall = height if height is not None else max(1.6, min(_MAX_TALL,
                                                          0.9 + 0.28 * len(labels)))
    with rc_context(_RC):
        if not labels:
            return _no_data(title, width, tall)
        figure, axes = _figure(width, tall)
        positions = list(range(len(labels)))[::-1]
        below = [max(0.0, r - lo) for r, lo in zip(rates, lowers, strict=True)]
        above = [max(0.0, up - r) for r, up in zip(rates, uppers, strict=True)]
        axes.barh(positions, rates, color=PALETTE[0], height=0.6)
        axes.errorbar(rates, positions, xerr=[below, above], fmt="none", ecolor="#000000",
                      elinewidth=0.9, capsize=2.5)
        axes.set_yticks(positions, list(labels))
        _bar_slots(axes, len(labels), horizontal=True)
        low = min([*lowers, *([target] if target is not None else [])])
        axes.set_xlim(max(0.0, math.floor(low * 20) / 20 - 0.05), 1.0)
        # steps of 1, 2, 5 or 10 points only: a 2.5-point step printed 97.5% as "98%"
        axes.xaxis.set_major_locator(MaxNLocator(steps=[1, 2, 5, 10]))
        axes.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        axes.grid(axis="y", visible=False)
        start = axes.get_xlim()[0]
        label = "compliance rate (bars) with 95% interval (whiskers)"
        if start > 0:
            label += f"; the axis starts at {start:.0%}"
        if target is not None:
            axes.axvline(target, color=PALETTE[1], linestyle="--", linewidth=1.0)
            label += f"; dashed line: target {target:.0%}"
        axes.set_title(title)
        axes.set_xlabel(label)
        _fit(figure, axes.title, axes.xaxis.label)
        return _svg(figure)


def curve_points(values: Sequence[float] | npt.NDArray[np.float64], *,
                 ordered: bool = False) -> tuple[list[float], list[float]]:
    """The concentration curve as at most _MAX_CURVE_POINTS + 1 points (x: share of
    importers, largest first; y: their share of the total value), from each importer's
    value in any order (`ordered`: already largest first). Sorted and summed in numpy, the
    sum running through the values largest first one float at a time, as a loop would, so
    the points are the same to the last bit whether the values come as a list or an
    array."""
    found = np.asarray(values, dtype=np.float64)
    ordered_values = found if ordered else np.sort(found)[::-1]
    count = len(ordered_values)
    if not count:
        return [], []
    running = np.cumsum(ordered_values)
    total = float(running[-1])
    step = max(1, count // _MAX_CURVE_POINTS)
    marks = np.arange(step, count + 1, step)
    if marks[-1] != count:
        marks = np.append(marks, count)
    xs = [0.0, *(marks / count).tolist()]
    ys = [0.0, *(running[marks - 1] / total).tolist()] if total > 0 else []
    return xs, ys


def concentration_curve(values: Sequence[float], cutoffs: Sequence[tuple[str, float]] = (),
                        *, title: str, width: float = WIDTH, height: float = HEIGHT) -> str:
    """The share of total value (y) held by the largest importers (x: their share of all
    importers), from each importer's value in any order; `cutoffs` are (tier label,
    cumulative value share 0..1) marked where the curve reaches them."""
    found = np.asarray(values, dtype=np.float64)
    if not np.isfinite(found).all() or (found < 0).any():
        raise ValueError("concentration_curve: values must be finite and not negative")
    xs, ys = curve_points(found)
    return concentration_curve_of(xs, ys, len(found), cutoffs, title=title, width=width,
                                  height=height)


def concentration_curve_of(xs: Sequence[float], ys: Sequence[float], count: int,
                           cutoffs: Sequence[tuple[str, float]] = (), *, title: str,
                           width: float = WIDTH, height: float = HEIGHT) -> str:
    """The concentration curve from its points (curve_points) and the number of importers
    they stand for: what a stored picture keeps instead of every importer's value."""
    with rc_context(_RC):
        if not count or not ys:
            return _no_data(title, width, height)
        figure, axes = _figure(width, height)
        axes.plot(xs, ys, color=PALETTE[0], linewidth=1.4, label="cumulative share of value")
        axes.plot([0, 1], [0, 1], color="#a5a5a5", linewidth=0.8, linestyle=":",
                  label="equal shares")
        for number, (label, share) in enumerate(cutoffs):
            reached = next((x for x, y in zip(xs, ys, strict=True) if y >= share), 1.0)
            colour = PALETTE[1 + number % (len(PALETTE) - 1)]
            axes.axhline(share, color=colour, linewidth=0.8, linestyle="--")
            axes.plot([reached], [share], marker="o", color=colour, markersize=4,
                      linestyle="--", linewidth=0.8,
                      label=f"{label}: {share:.0%} of value, top {reached:.1%} of importers")
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1.02)
        axes.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        axes.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        axes.set_xlabel(f"share of importers, largest first ({count:,})")
        axes.set_ylabel("share of value")
        # the cut-offs are named in the legend, not beside their marks: cut-offs close
        # together would print their names over one another; the curve stays above the
        # diagonal, so the lower right is free
        axes.legend(loc="lower right", frameon=True, framealpha=0.9, edgecolor="#ffffff",
                    fontsize=7)
        axes.set_title(title)
        _fit(figure, axes.title, axes.xaxis.label)
        return _svg(figure)


def trend(labels: Sequence[str], values: Sequence[float], *, title: str,
          kind: str = "line", y_label: str = "", percent: bool = False,
          width: float = WIDTH, height: float = HEIGHT) -> str:
    """A series over periods (years, quarters) as a line or as bars; `percent` formats
    values given as 0..1 fractions."""
    if kind not in ("line", "bar"):
        raise ValueError(f"trend: kind must be 'line' or 'bar', not {kind!r}")
    _check_lengths("trend", labels, values=values)
    with rc_context(_RC):
        if not labels:
            return _no_data(title, width, height)
        figure, axes = _figure(width, height)
        positions = list(range(len(labels)))
        if kind == "bar":
            axes.bar(positions, values, color=PALETTE[0], width=0.6)
            axes.grid(axis="x", visible=False)
        else:
            axes.plot(positions, values, color=PALETTE[0], marker="o", markersize=3.5,
                      linewidth=1.4)
        axes.set_xticks(positions, list(labels))
        if kind == "bar":
            _bar_slots(axes, len(labels))
        if percent:
            axes.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        else:
            axes.yaxis.set_major_formatter(FuncFormatter(_thousands))
            _count_ticks(axes.yaxis, values)
        if y_label:
            axes.set_ylabel(y_label)
        if min(values) >= 0:
            axes.set_ylim(bottom=0)
        axes.set_title(title)
        _fit_categories(figure, axes, positions, labels)
        _fit(figure, axes.title, axes.xaxis.label)
        return _svg(figure)


def stacked_bars(labels: Sequence[str], series: Mapping[str, Sequence[float]], *,
                 title: str, y_label: str = "", width: float = WIDTH,
                 height: float = HEIGHT) -> str:
    """Counts per group (`labels`, e.g. districts) stacked by stage (`series`: stage name
    -> one count per label, in the order the stages should stack, bottom first)."""
    for name, values in series.items():
        _check_lengths("stacked_bars", labels, **{name: values})
    with rc_context(_RC):
        if not labels or not series or not any(v for s in series.values() for v in s):
            return _no_data(title, width, height)
        below = len(series) > _LEGEND_BESIDE
        rows = math.ceil(len(series) / _LEGEND_COLUMNS)
        figure, axes = _figure(width, height + (_LEGEND_ROW * rows if below else 0.0))
        positions = list(range(len(labels)))
        bottoms = [0.0] * len(labels)
        for number, (name, values) in enumerate(series.items()):
            # past the palette's colours, hatched: twelve stages in seven colours
            # would make two stages look alike in the legend
            axes.bar(positions, values, bottom=bottoms, width=0.6, label=name,
                     color=PALETTE[number % len(PALETTE)],
                     hatch=_HATCHES[number // len(PALETTE) % len(_HATCHES)],
                     edgecolor="#ffffff", linewidth=0)
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        axes.set_xticks(positions, list(labels))
        _bar_slots(axes, len(labels))
        axes.yaxis.set_major_formatter(FuncFormatter(_thousands))
        _count_ticks(axes.yaxis, [v for s in series.values() for v in s])
        axes.grid(axis="x", visible=False)
        if y_label:
            axes.set_ylabel(y_label)
        if below:  # many stages: the plot keeps the page's width, the legend goes under
            figure.legend(loc="outside lower center", ncols=_LEGEND_COLUMNS, frameon=False)
        else:
            axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        axes.set_title(title)
        _fit_categories(figure, axes, positions, labels)
        _fit(figure, axes.title, axes.xaxis.label)
        return _svg(figure)


def _thousands(value: float, _position: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:,.1f}"
