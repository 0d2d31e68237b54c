"""The charts are real PNG files drawn by matplotlib's Agg canvas: no display, no pyplot."""

from __future__ import annotations

import functools
import struct
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from bot.i18n import Catalogs
from handlers.bulletins.chart import draw, render
from handlers.bulletins.figures import PeriodFigures
from handlers.bulletins.periods import month_of, week_of
from handlers.ccsc.figures import Period
from storage.statistics import AlertFact, ReviewCounts
from tests.bulletin_data import BAMAKO

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _figures(period: Period, count: int) -> PeriodFigures:
    places = [("gao", "gao_ansongo"), ("mopti", None), ("bamako", "bamako_c4"), (None, None)]
    kinds = ["armed_attack", "crime", "kidnapping", "epidemic"]
    alerts = tuple(
        AlertFact(
            reference=f"ML-2026-{n:06d}",
            severity=1 + n % 4,
            category=kinds[n % len(kinds)],
            region=places[n % len(places)][0],
            cercle=places[n % len(places)][1],
            occurred_on=period.start,
            killed=None,
            injured=None,
            missing=None,
            validated_at=datetime.combine(period.start, datetime.min.time(), UTC)
            + timedelta(days=n % 28, hours=9),
        )
        for n in range(count)
    )
    return PeriodFigures(period, alerts, 0, ReviewCounts(0, 0, 0, 0), (), None, False, BAMAKO)


@pytest.fixture
def drawn_with_agg(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Where FigureCanvasAgg wrote PNG data (a tight layout first draws into memory)."""
    written: list[str] = []
    original = FigureCanvasAgg.print_png

    @functools.wraps(original)  # matplotlib reads the signature to pass its options
    def spy(self: FigureCanvasAgg, target: object, *args: object, **kwargs: object) -> None:
        written.append(str(target))
        original(self, target, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(FigureCanvasAgg, "print_png", spy)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("MPLBACKEND", "TkAgg")  # a GUI backend asked for, and never used
    return written


@pytest.mark.parametrize("period", [week_of(date(2026, 11, 16)), month_of(date(2026, 11, 1))])
def test_a_real_png_drawn_by_agg(tmp_path: Path, drawn_with_agg: list[str], period: Period) -> None:
    t = Catalogs(BAMAKO).get("fr")
    had_pyplot = "matplotlib.pyplot" in sys.modules
    path = draw(t, _figures(period, 23), tmp_path / "charts" / "chart.png")
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert 500 <= width <= 1000 and 300 <= height <= 1200  # readable on a phone
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert str(image.info.get("Software", "")).startswith("Matplotlib")
    assert drawn_with_agg[-1] == str(path)
    assert had_pyplot or "matplotlib.pyplot" not in sys.modules  # no pyplot: no GUI backend


async def test_no_chart_for_a_period_without_alerts(tmp_path: Path) -> None:
    t = Catalogs(BAMAKO).get("fr")
    empty = _figures(week_of(date(2026, 11, 16)), 0)
    assert await render(t, empty, tmp_path / "empty.png") is None
    assert not (tmp_path / "empty.png").exists()
