"""The monthly rule ("first Thursday of each month at 10:00") and the reminder setting."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.settings import Settings, SettingsError, load_settings, parse_reminders
from handlers.sessions.rule import (
    create_from_rules,
    describe_rule,
    nth_weekday,
    occurrences,
    rule_for,
)
from storage import sessions
from storage.roles import Role
from storage.sessions import Rule
from tests.test_review_flow import outbox_rows, staff
from tests.test_sessions import member

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
THURSDAY = 3
SETTINGS = Settings(telegram_token=None, timezone=ZoneInfo("Africa/Bamako"))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def first_thursday(nth: int = 1, weekday: int = THURSDAY) -> Rule:
    return Rule(1, 4, nth, weekday, "10:00", "Réunion statutaire", "Mairie", "statutory", None)


def test_nth_weekday_when_the_month_begins_on_that_day() -> None:
    assert nth_weekday(2026, 10, 1, THURSDAY) == date(2026, 10, 1)  # 1 October is a Thursday
    assert nth_weekday(2027, 4, 1, THURSDAY) == date(2027, 4, 1)
    assert nth_weekday(2026, 12, 1, THURSDAY) == date(2026, 12, 3)
    assert nth_weekday(2026, 12, -1, 4) == date(2026, 12, 25)  # last Friday
    assert nth_weekday(2027, 1, 5, THURSDAY) is None  # no fifth Thursday in January 2027


def test_occurrences_across_month_and_year_ends() -> None:
    # Just after the December meeting started: the next three are in the following months.
    after = datetime(2026, 12, 3, 10, 1, tzinfo=UTC)
    assert occurrences(first_thursday(), after, SETTINGS) == [
        datetime(2027, 1, 7, 10, 0, tzinfo=SETTINGS.timezone),
        datetime(2027, 2, 4, 10, 0, tzinfo=SETTINGS.timezone),
        datetime(2027, 3, 4, 10, 0, tzinfo=SETTINGS.timezone),
    ]
    # On the last day of September, the 1 October meeting (the 1st is the Thursday) is next.
    end_of_september = datetime(2026, 9, 30, 23, 0, tzinfo=UTC)
    assert occurrences(first_thursday(), end_of_september, SETTINGS)[0] == datetime(
        2026, 10, 1, 10, 0, tzinfo=SETTINGS.timezone
    )
    # The same morning, an hour before: that one still counts.
    assert occurrences(first_thursday(), datetime(2026, 10, 1, 9, 0, tzinfo=UTC), SETTINGS)[
        0
    ].date() == date(2026, 10, 1)
    # A fifth Thursday: months without one are skipped.
    fifth = occurrences(first_thursday(nth=5), NOW, SETTINGS)
    assert [d.date() for d in fifth] == [date(2026, 12, 31), date(2027, 4, 29), date(2027, 7, 29)]


def test_rule_for_a_date_and_its_description(kibaru: Kibaru) -> None:
    assert rule_for(date(2026, 12, 3)) == (1, THURSDAY)
    assert rule_for(date(2026, 12, 31)) == (-1, THURSDAY)  # the 31st: "the last Thursday"
    assert rule_for(date(2026, 12, 24)) == (4, THURSDAY)
    t = kibaru.catalogs.get("fr")
    assert describe_rule(t, 1, THURSDAY, time(10, 0)) == "le premier jeudi de chaque mois à 10:00"


async def test_the_job_creates_the_next_three_once_and_invites_members(
    kibaru: Kibaru, clock: ManualClock
) -> None:
    await member(kibaru, "701")
    async with kibaru.db.transaction() as conn:
        await sessions.add_rule(
            conn,
            committee_id=4,
            nth=1,
            weekday=THURSDAY,
            local_time="10:00",
            title="Réunion statutaire",
            place="Mairie de la Commune IV",
            kind="statutory",
            created_by=None,
            now=NOW,
        )
    args = (kibaru.db, clock, kibaru.settings, kibaru.catalogs)
    assert await create_from_rules(*args) == 3
    assert await create_from_rules(*args) == 0  # run again: nothing twice
    async with kibaru.db.transaction() as conn:
        cursor = await conn.execute("SELECT starts_at FROM sessions ORDER BY starts_at")
        assert [r[0] for r in await cursor.fetchall()] == [
            "2026-12-03T10:00:00+00:00",
            "2027-01-07T10:00:00+00:00",
            "2027-02-04T10:00:00+00:00",
        ]
        await sessions.cancel(conn, 2)  # January's is cancelled by the secretary
    assert len(await outbox_rows(kibaru, "invitation:%")) == 3
    clock.set(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))  # December's meeting is over
    assert await create_from_rules(*args) == 1  # March; January stays cancelled
    async with kibaru.db.reading() as conn:
        cursor = await conn.execute("SELECT starts_at, status FROM sessions ORDER BY starts_at")
        rows = [tuple(r) for r in await cursor.fetchall()]
    assert rows[-1] == ("2027-03-04T10:00:00+00:00", "scheduled")
    assert rows[1] == ("2027-01-07T10:00:00+00:00", "cancelled")


async def test_creating_a_statutory_meeting_can_repeat_it_monthly(kibaru: Kibaru) -> None:
    secretary = await staff(kibaru, "400", Role.CCSC_SECRETARY, "ccsc_bamako_c4")
    await member(kibaru, "701")
    await secretary.command("session_nouvelle")
    await secretary.tap("statutaire")
    await secretary.text("Réunion statutaire")
    await secretary.text("3/12")
    await secretary.text("10h")
    await secretary.text("Mairie de la Commune IV")
    await secretary.tap("Passer")
    await secretary.tap("Passer")
    assert "répéter le premier jeudi de chaque mois à 10:00" in " ".join(secretary.labels)
    await secretary.tap("répéter")
    texts = " ".join(m.text for m in secretary.last_replies)
    assert "2 autres sessions déjà créées" in texts
    assert len(await outbox_rows(kibaru, "invitation:%")) == 3
    async with kibaru.db.reading() as conn:
        cursor = await conn.execute("SELECT rule_id, starts_at FROM sessions ORDER BY id")
        assert [tuple(r) for r in await cursor.fetchall()] == [
            (1, "2026-12-03T10:00:00+00:00"),
            (1, "2027-01-07T10:00:00+00:00"),
            (1, "2027-02-04T10:00:00+00:00"),
        ]


def test_reminder_setting() -> None:
    assert load_settings({}).reminders == (timedelta(hours=24), timedelta(hours=2))
    assert parse_reminders("2h, 48h,30m") == (
        timedelta(hours=48),
        timedelta(hours=2),
        timedelta(minutes=30),
    )
    assert parse_reminders("none") == ()
    for wrong in ("demain", "24h,x", "0h", "900h"):
        with pytest.raises(SettingsError) as raised:
            parse_reminders(wrong)
        assert raised.value.variable == "KIBARU_REMINDERS"
