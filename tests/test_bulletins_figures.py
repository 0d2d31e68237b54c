"""The figures of the weekly report and the monthly bulletin against the data set of
tests/bulletin_data.py, whose totals are worked out by hand there; week boundaries in the
bot's time zone; the texts as recipients read them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Catalogs
from handlers.bulletins.figures import PeriodFigures, gather
from handlers.bulletins.periods import month_of, week_of, weeks_in
from handlers.bulletins.text import duration_text, report_text, stats_text
from handlers.ccsc.figures import Period
from storage.database import Database
from tests.bulletin_data import BAMAKO, Seeded, at, seed, seed_sessions

LAGOS = ZoneInfo("Africa/Lagos")  # UTC+1 all year
WEEK = Period(date(2026, 11, 16), date(2026, 11, 23), "week")
NOVEMBER = Period(date(2026, 11, 1), date(2026, 12, 1), "month")


def plain(text: str) -> str:
    """Babel keeps a number and its unit together with (narrow) no-break spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ").replace("\u2009", " ")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "k.db", now=at(1))
    yield database
    await database.close()


@pytest.fixture
async def seeded(db: Database) -> dict[int, Seeded]:
    async with db.transaction() as conn:
        found = await seed(conn)
        await seed_sessions(conn)
    return found


@pytest.fixture
def catalogs() -> Catalogs:
    return Catalogs(BAMAKO)


async def _week(db: Database, zone: ZoneInfo = BAMAKO, period: Period = WEEK) -> PeriodFigures:
    async with db.reading() as conn:
        return await gather(conn, period, zone, at(23, 8))


async def test_the_weeks_figures(db: Database, seeded: dict[int, Seeded]) -> None:
    found = await _week(db)
    assert {a.reference for a in found.alerts} == {
        seeded[n].reference for n in (1, 2, 3, 4, 5, 6, 8)
    }
    assert (found.total, found.previous_total, found.change) == (7, 2, 5)
    assert found.by_severity() == {4: 2, 3: 1, 2: 2, 1: 2}
    # Gao 3 (#1, #3, #5); the others one each, in the national order of regions.
    assert found.by_region() == [
        ("gao", 3),
        ("bamako", 1),
        ("segou", 1),
        ("mopti", 1),
        ("tombouctou", 1),
    ]
    # Ties in the order of the reporting categories.
    assert found.by_category() == [
        ("armed_attack", 2),
        ("crime", 2),
        ("kidnapping", 1),
        ("displacement", 1),
        ("epidemic", 1),
    ]
    assert found.by_region_and_category()["gao"] == {
        "armed_attack": 1,
        "kidnapping": 1,
        "crime": 1,
    }
    # Severity 4 first (#1 with 5 casualties before #3), then 3 (#2), then 2, latest first.
    assert [a.reference for a in found.most_severe()] == [
        seeded[n].reference for n in (1, 3, 2, 6, 4)
    ]
    review = found.review
    assert (review.received, review.validated, review.rejected, review.duplicates) == (10, 7, 1, 1)
    # Waits: 30 min, 1 h, 1 h, 2 h, 3 h 59 min 59 s, 4 h, 12 h: the median is 2 h.
    assert found.median_delay == timedelta(hours=2)
    assert not found.in_progress
    assert found.ccsc is None


async def test_week_boundaries_are_local_midnights(db: Database, seeded: dict[int, Seeded]) -> None:
    week = {a.reference for a in (await _week(db)).alerts}
    assert seeded[8].reference in week  # Monday 16 at 00:00:00
    assert seeded[6].reference in week  # Sunday 22 at 23:59:59
    assert seeded[7].reference not in week  # Monday 23 at 00:00:00: the next week's
    next_week = await _week(db, period=week_of(date(2026, 11, 23)))
    assert seeded[7].reference in {a.reference for a in next_week.alerts}
    # In Lagos (UTC+1) the week starts at 23:00 UTC on Sunday 15: Sunday 22 at 23:59:59 UTC
    # is already Monday there, and Sunday 15 at 23:59:59 UTC is this week's.
    lagos = await _week(db, LAGOS)
    references = {a.reference for a in lagos.alerts}
    assert seeded[6].reference not in references
    assert seeded[8].reference in references
    assert lagos.total == 7 and lagos.previous_total == 1


async def test_the_months_figures(db: Database, seeded: dict[int, Seeded]) -> None:
    async with db.reading() as conn:
        found = await gather(conn, NOVEMBER, BAMAKO, at(1, 8, month=12), with_ccsc=True)
    # The week before (2), the week (7) and #7 of Monday 23; not 31 October 23:59:59 nor
    # 1 December 00:00.
    assert (found.total, found.previous_total) == (10, 1)
    assert found.by_severity() == {4: 2, 3: 3, 2: 2, 1: 3}
    weeks = [(week.start.day, sum(row.values())) for week, row in found.by_week()]
    assert weeks == [(1, 0), (2, 0), (9, 2), (16, 7), (23, 1), (30, 0)]
    assert found.by_week()[2][1] == {1: 1, 2: 0, 3: 1, 4: 0}
    review = found.review
    # Received in November: 11 validated (one in December), 3 others; decided: 10, 1, 1.
    assert (review.received, review.validated, review.rejected, review.duplicates) == (14, 10, 1, 1)
    # Ten waits; the 5th and 6th are 1:59:59 and 2:00:00.
    assert found.median_delay == timedelta(hours=2) - timedelta(seconds=0.5)
    assert found.ccsc is not None
    assert found.ccsc.sessions == 2
    present = found.ccsc.present
    assert (present.participants, present.women, present.youth, present.fsi) == (3, 2, 2, 1)


def test_weeks_of_a_month_are_cut_to_it() -> None:
    weeks = weeks_in(month_of(date(2026, 11, 19)))
    assert (weeks[0].start, weeks[0].end) == (date(2026, 11, 1), date(2026, 11, 2))
    assert (weeks[-1].start, weeks[-1].end) == (date(2026, 11, 30), date(2026, 12, 1))
    assert len(weeks) == 6


async def test_the_weekly_report_as_read(
    db: Database, seeded: dict[int, Seeded], catalogs: Catalogs
) -> None:
    found = await _week(db)
    text = report_text(catalogs.get("fr"), found)
    lines = text.splitlines()
    assert lines[:2] == ["📊 Rapport hebdomadaire d'alerte", "🗓️ 16–22 nov. 2026"]
    for expected in (
        "🚨 7 alertes validées",
        "📈 5 de plus que la semaine précédente (2)",
        "🔴 Urgence (4/4) : 2",
        "⚪ Information (1/4) : 2",
        "Gao : 3",
        "🔫 Attaque armée : 2",
        "🔴 17 nov. · 🔫 Attaque armée · Ansongo, Gao · tués : 3 · blessés : 2 · "
        + seeded[1].reference,
        "🟡 20 nov. · 💰 Vol / banditisme · Commune IV, Bamako · " + seeded[4].reference,
    ):
        assert expected in lines, expected
    most_severe = lines.index("⚠️ Les plus graves")
    assert len(lines[most_severe + 1 : lines.index("", most_severe)]) == 5
    # Structured fields only: never the reporter's words or place details.
    assert "rapporteur" not in text and "maison" not in text
    assert max(len(line) for line in lines) < 90  # read on phones
    english = report_text(catalogs.get("en"), found)
    assert "Nov 16 – 22, 2026" in plain(english) and "Armed attack" in english


async def test_an_empty_week_still_reads_clearly(db: Database, catalogs: Catalogs) -> None:
    found = await _week(db)
    assert found.total == 0
    text = report_text(catalogs.get("fr"), found)
    assert "✅ Aucune alerte validée cette semaine." in text
    assert "➖ Autant que la semaine précédente (0)" in text
    assert "Les plus graves" not in text and "Par région" not in text


async def test_the_monthly_bulletin_as_read(
    db: Database, seeded: dict[int, Seeded], catalogs: Catalogs
) -> None:
    async with db.reading() as conn:
        found = await gather(conn, NOVEMBER, BAMAKO, at(1, 8, month=12), with_ccsc=True)
    lines = plain(report_text(catalogs.get("fr"), found)).splitlines()
    assert lines[:2] == ["📰 Bulletin mensuel de sécurité humaine", "🗓️ novembre 2026"]
    for expected in (
        "🚨 10 alertes validées",
        "📈 9 de plus que le mois précédent (1)",
        "Reçus : 14",
        "Validés : 10",
        "Rejetés : 2 (dont 1 doublon)",
        "⏱️ Délai médian de validation : 2 h",
        "Sessions tenues : 2",
        "Présents : 3 participants, dont 2 femmes (67 %), 2 jeunes (67 %) et 1 FSI",
    ):
        assert expected in lines, expected


async def test_stats_text(db: Database, seeded: dict[int, Seeded], catalogs: Catalogs) -> None:
    lines = stats_text(catalogs.get("fr"), await _week(db)).splitlines()
    assert "📥 Signalements reçus : 10" in lines
    assert "✅ Validés : 7 · ❌ Rejetés : 2" in lines
    assert "🔴 2 · 🟠 1 · 🟡 2 · ⚪ 2" in lines
    assert "🗺️ Régions : Gao (3), Bamako (1), Ségou (1)" in lines
    assert "🏷️ Catégories : Attaque armée (2), Vol / banditisme (2), Enlèvement (1)" in lines


def test_durations_in_the_readers_units(catalogs: Catalogs) -> None:
    fr, en = catalogs.get("fr"), catalogs.get("en")
    assert plain(duration_text(fr, timedelta(minutes=45))) == "45 min"
    assert plain(duration_text(fr, timedelta(hours=2, minutes=40))) == "2 h 40 min"
    assert plain(duration_text(en, timedelta(hours=2, minutes=40))) == "2 hr 40 min"
    assert plain(duration_text(fr, timedelta(days=3, hours=4, minutes=10))) == "3 j 4 h"
    assert plain(duration_text(en, timedelta(hours=30))) == "30 hr"
