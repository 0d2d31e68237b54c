"""The bulletins' charts, drawn with matplotlib's Agg canvas into PNG files.

Agg draws in memory: no display, no GUI toolkit, nothing to configure on a server. The
figure is built with the object API (no pyplot, whose global state is not thread-safe) and
drawn in a worker thread, one at a time, so the event loop keeps answering people. matplotlib
is imported on first use: the bot starts as fast as before, and only the processes that draw
pay its import.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from babel.dates import format_interval

from bot.i18n import Translator
from handlers.bulletins.figures import PeriodFigures
from handlers.bulletins.periods import MONTH, label, last_day
from handlers.bulletins.text import category_name, region_name
from handlers.review.severity import SEVERITIES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: one drawing at a time: matplotlib's font cache and text layout are shared state
_DRAWING = threading.Lock()
#: severity 1 to 4, as the emoji show them (white drawn light grey to be seen on white)
SEVERITY_COLOURS = {1: "#b0b0b0", 2: "#f2c200", 3: "#f57c00", 4: "#d32f2f"}
_WIDTH = 8.0  # inches, at 100 dpi: 800 px, what a phone shows without zooming out


def _figure(height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(_WIDTH, height), dpi=100)
    FigureCanvasAgg(figure)  # attaches itself: savefig draws with Agg
    return figure


def _regions_and_categories(t: Translator, found: PeriodFigures) -> Figure:
    from matplotlib import colormaps
    from matplotlib.ticker import MaxNLocator

    table = found.by_region_and_category()
    regions = list(table)[::-1]  # barh draws bottom-up: the most alerts on top
    kinds = [code for code, _ in found.by_category()]
    tab20 = colormaps["tab20"]
    palette = [tab20(index) for index in range(tab20.N)]
    figure = _figure(2.2 + 0.45 * len(regions) + 0.25 * ((len(kinds) + 1) // 2))
    axes = figure.add_subplot()
    names = [region_name(t, code) for code in regions]
    left = [0] * len(regions)
    for index, kind in enumerate(kinds):
        values = [table[region].get(kind, 0) for region in regions]
        axes.barh(
            names,
            values,
            left=left,
            color=palette[index % len(palette)],
            label=category_name(t, kind, emoji=False),
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    for row, total in enumerate(left):
        axes.text(total, row, f" {t.number(total)}", va="center", fontsize=9)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlim(0, max(left) * 1.12 + 0.5)
    axes.set_xlabel(t._("Alertes"))
    axes.spines[["top", "right"]].set_visible(False)
    title = t._("Alertes validées par région et par catégorie")
    axes.set_title(f"{title}\n{label(t, found.period)}", fontsize=11)
    axes.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        ncol=2,
        fontsize=8,
        frameon=False,
    )
    return figure


def _trend(t: Translator, found: PeriodFigures) -> Figure:
    from matplotlib.ticker import MaxNLocator

    weeks = found.by_week()
    figure = _figure(4.8)
    axes = figure.add_subplot()
    names = [
        format_interval(week.start, last_day(week), "MMMd", locale=t.locale) for week, _ in weeks
    ]
    bottom = [0] * len(weeks)
    for level in sorted(SEVERITIES):
        values = [row[level] for _, row in weeks]
        axes.bar(
            names,
            values,
            bottom=bottom,
            color=SEVERITY_COLOURS[level],
            label=t._(SEVERITIES[level][1]),
        )
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    for column, total in enumerate(bottom):
        if total:
            axes.text(column, total, t.number(total), ha="center", va="bottom", fontsize=9)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, max(bottom) * 1.15 + 0.5)
    axes.set_ylabel(t._("Alertes"))
    axes.tick_params(axis="x", labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    title = t._("Alertes validées par semaine")
    axes.set_title(f"{title}\n{label(t, found.period)}", fontsize=11)
    axes.legend(fontsize=8, frameon=False, reverse=True)
    return figure


def draw(t: Translator, found: PeriodFigures, path: Path) -> Path:
    """Write the period's chart as a PNG: by region and category for a week, the trend by
    week for a month. Blocking: call it through `render`."""
    with _DRAWING:
        figure = (
            _trend(t, found) if found.period.kind == MONTH else _regions_and_categories(t, found)
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png", bbox_inches="tight")
    return path


async def render(t: Translator, found: PeriodFigures, path: Path) -> Path | None:
    """The chart file, drawn off the event loop; None for a period without alerts (an empty
    chart would say nothing the text does not)."""
    if not found.total:
        return None
    return await asyncio.to_thread(draw, t, found, path)
