"""When the weekly report and the monthly bulletin are due, and that each is sent once: on
schedule with a fast-forwarded clock, across restarts, after downtime, and after a crash in
the middle of a run. Also the settings that choose the hour and the chart files' clean-up."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.scheduler import Jobs, report_trigger
from bot.settings import ReportTime, Settings, SettingsError, load_settings
from handlers.bulletins import delivery
from handlers.bulletins.delivery import purge_charts, run_due
from handlers.bulletins.schedule import MONTHLY, WEEKLY, due_period, last_due
from storage import outbox, roles, users
from storage.roles import Role
from tests.bulletin_data import BAMAKO, at, seed, seed_sessions

MONDAY_8 = ReportTime(0, time(8, 0))
FIRST_8 = ReportTime(1, time(8, 0))
LAGOS = ZoneInfo("Africa/Lagos")


# --- the pure decision ---------------------------------------------------------------------


def test_the_weekly_report_is_due_from_monday_8_local() -> None:
    before = due_period(WEEKLY, MONDAY_8, at(23, 7, 59, 59), BAMAKO, set())
    assert before is not None and (before.start, before.end) == (
        date(2026, 11, 9),
        date(2026, 11, 16),
    )
    due = due_period(WEEKLY, MONDAY_8, at(23, 8), BAMAKO, set())
    assert due is not None and (due.start, due.end) == (date(2026, 11, 16), date(2026, 11, 23))
    assert due.kind == "week"
    # Sent already: nothing due, all week long, until the next Monday at 08:00.
    sent = {date(2026, 11, 16)}
    for moment in (at(23, 8), at(25, 12), at(30, 7, 59)):
        assert due_period(WEEKLY, MONDAY_8, moment, BAMAKO, sent) is None
    after = due_period(WEEKLY, MONDAY_8, at(30, 8), BAMAKO, sent)
    assert after is not None and after.start == date(2026, 11, 23)


def test_local_time_decides() -> None:
    # 08:00 in Lagos is 07:00 UTC.
    assert last_due(WEEKLY, MONDAY_8, at(23, 7), LAGOS) == datetime(2026, 11, 23, 8, tzinfo=LAGOS)
    assert last_due(WEEKLY, MONDAY_8, at(23, 6, 59), LAGOS).date() == date(2026, 11, 16)


def test_another_weekday_covers_the_seven_days_before() -> None:
    friday_17 = ReportTime(4, time(17, 0))
    due = due_period(WEEKLY, friday_17, at(20, 17), BAMAKO, set())
    assert due is not None and (due.start, due.end) == (date(2026, 11, 13), date(2026, 11, 20))


def test_the_monthly_bulletin_covers_the_last_whole_month() -> None:
    assert last_due(MONTHLY, FIRST_8, at(1, 7, 59, month=12), BAMAKO).date() == date(2026, 11, 1)
    october = due_period(MONTHLY, FIRST_8, at(1, 7, 59, month=12), BAMAKO, set())
    assert october is not None and october.start == date(2026, 10, 1)
    november = due_period(MONTHLY, FIRST_8, at(1, 8, month=12), BAMAKO, {date(2026, 10, 1)})
    assert november is not None
    assert (november.start, november.end, november.kind) == (
        date(2026, 11, 1),
        date(2026, 12, 1),
        "month",
    )
    january = due_period(MONTHLY, ReportTime(28, time(9)), datetime(2027, 1, 3, tzinfo=BAMAKO),
                         BAMAKO, set())  # fmt: skip
    assert january is not None and january.start == date(2026, 11, 1)  # due 28 Dec: November


def test_nothing_due_from_before_bulletins_existed() -> None:
    since = at(18, 10)  # installed on a Wednesday
    assert due_period(WEEKLY, MONDAY_8, at(18, 12), BAMAKO, set(), since) is None
    due = due_period(WEEKLY, MONDAY_8, at(23, 8), BAMAKO, set(), since)
    assert due is not None and due.start == date(2026, 11, 16)


# --- the settings --------------------------------------------------------------------------


def test_report_settings() -> None:
    defaults = load_settings({})
    assert defaults.weekly_report == MONDAY_8 and defaults.monthly_bulletin == FIRST_8
    chosen = load_settings(
        {"KIBARU_WEEKLY_REPORT": "vendredi 17h30", "KIBARU_MONTHLY_BULLETIN": "5 7:00"}
    )
    assert chosen.weekly_report == ReportTime(4, time(17, 30))
    assert chosen.monthly_bulletin == ReportTime(5, time(7, 0))
    off = load_settings({"KIBARU_WEEKLY_REPORT": "off", "KIBARU_MONTHLY_BULLETIN": "OFF"})
    assert off.weekly_report is None and off.monthly_bulletin is None
    for variable, bad in (
        ("KIBARU_WEEKLY_REPORT", "monday"),
        ("KIBARU_WEEKLY_REPORT", "funday 08:00"),
        ("KIBARU_WEEKLY_REPORT", "mon 25:00"),
        ("KIBARU_MONTHLY_BULLETIN", "31 08:00"),
        ("KIBARU_MONTHLY_BULLETIN", "1"),
        ("KIBARU_MONTHLY_BULLETIN", "first 08:00"),
    ):
        with pytest.raises(SettingsError) as raised:
            load_settings({variable: bad})
        assert raised.value.variable == variable


def test_charts_live_next_to_the_database(settings: Settings, db_path: Path) -> None:
    assert settings.charts_dir == db_path.parent / "charts"


# --- runs against the database -------------------------------------------------------------


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at(18, 10))  # bulletins arrive on Wednesday 18 November


async def _people(kibaru: Kibaru) -> dict[str, int]:
    """The admin coordinator (999, no language yet: French), an English validator, a French
    focal point for Gao, and a reporter without a role."""
    now = kibaru.clock.now()
    found: dict[str, int] = {}
    async with kibaru.db.transaction() as conn:
        for name, chat, language, role, scope in (
            ("validator", "501", "en", Role.VALIDATOR, None),
            ("focal", "502", "fr", Role.FOCAL_POINT, "gao"),
            ("reporter", "503", "fr", None, None),
        ):
            user, _ = await users.get_or_create(conn, "telegram", chat, now)
            await users.set_language(conn, user.id, language)
            if role is not None:
                await roles.grant(conn, user.id, role, now, scope)
            found[name] = user.id
        admin = await users.find(conn, "telegram", "999")
        assert admin is not None
        found["coordinator"] = admin.id
        await seed(conn)
        await seed_sessions(conn)
    return found


def _rows(db_path: Path, prefix: str = "bulletin:") -> list[tuple[str, str, str]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(
            "SELECT key, user_id, payload FROM outbox WHERE key LIKE ? ORDER BY key",
            (prefix + "%",),
        ).fetchall()


async def _run(kibaru: Kibaru, kind: str = WEEKLY) -> str | None:
    return await run_due(kibaru.db, kibaru.clock, kibaru.settings, kibaru.catalogs, kind)


async def test_the_weekly_report_on_schedule(
    kibaru: Kibaru, clock: ManualClock, db_path: Path
) -> None:
    people = await _people(kibaru)
    assert await _run(kibaru) is None  # Monday 16's report was due before bulletins existed
    clock.set(at(23, 7, 59, 59))
    assert await _run(kibaru) is None
    clock.set(at(23, 8))
    assert await _run(kibaru) is not None
    rows = _rows(db_path)
    recipients = {people["coordinator"], people["validator"], people["focal"]}
    assert {int(user) for _, user, _ in rows} == recipients
    assert {key for key, _, _ in rows} == {
        f"bulletin:weekly:2026-11-16:{user}" for user in recipients
    }
    by_user = {int(user): outbox.Outgoing.from_json(payload) for _, user, payload in rows}
    french = by_user[people["coordinator"]]
    assert french.text.startswith("📊 Rapport hebdomadaire d'alerte\n🗓️ 16–22 nov. 2026")
    assert "🚨 7 alertes validées" in french.text
    english = by_user[people["validator"]]
    assert "Armed attack" in english.text
    [(kind, chart)] = french.files
    assert kind == "photo" and chart.endswith("weekly-2026-11-16-fr.png")
    assert Path(chart).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert english.files[0][1].endswith("weekly-2026-11-16-en.png")
    clock.advance(minutes=5)
    assert await _run(kibaru) is None  # recorded: never twice
    assert len(_rows(db_path)) == 3


async def test_the_monthly_bulletin_on_schedule(
    kibaru: Kibaru, clock: ManualClock, db_path: Path
) -> None:
    people = await _people(kibaru)
    clock.set(at(1, 8, month=12))
    assert await _run(kibaru, MONTHLY) is not None
    rows = _rows(db_path, "bulletin:monthly:2026-11-01:")
    assert len(rows) == 3
    french = {int(u): outbox.Outgoing.from_json(p) for _, u, p in rows}[people["focal"]]
    assert "📰 Bulletin mensuel de sécurité humaine" in french.text
    assert "Sessions tenues : 2" in french.text
    assert french.files[0][1].endswith("monthly-2026-11-01-fr.png")
    assert await _run(kibaru, MONTHLY) is None
    assert await _run(kibaru, WEEKLY) is not None  # the week of 23 to 29 November
    assert len(_rows(db_path, "bulletin:weekly:2026-11-23:")) == 3


async def test_a_restart_neither_repeats_nor_skips(
    settings: Settings, clock: ManualClock, db_path: Path
) -> None:
    kibaru = await Kibaru.open(settings, clock)
    await _people(kibaru)
    await _run(kibaru)  # at start-up on Wednesday: nothing due
    clock.set(at(23, 7, 59))
    assert await _run(kibaru) is None
    await kibaru.close()  # stopped a minute before the report
    clock.set(at(23, 8, 30))
    kibaru = await Kibaru.open(settings, clock)
    assert await _run(kibaru) is not None  # the start-up run sends it
    await kibaru.close()  # and again just after it
    clock.set(at(23, 9))
    kibaru = await Kibaru.open(settings, clock)
    try:
        assert await _run(kibaru) is None
        assert len(_rows(db_path)) == 3
    finally:
        await kibaru.close()


async def test_a_report_missed_while_down_is_sent_once_at_start_up(
    settings: Settings, clock: ManualClock, db_path: Path
) -> None:
    kibaru = await Kibaru.open(settings, clock)
    await _people(kibaru)
    await kibaru.close()  # down from Wednesday 18 to Tuesday 24
    clock.set(at(24, 10))
    kibaru = await Kibaru.open(settings, clock)
    sent = asyncio.Event()
    jobs = Jobs(kibaru, kick=sent.set)
    jobs.start()  # each job runs once at start-up
    try:
        async with asyncio.timeout(20):
            while True:  # other jobs may kick the sender first (an overdue review...)
                sent.clear()
                if _rows(db_path):
                    break
                await sent.wait()
        weekly = [job for job in jobs.scheduler.get_jobs() if job.id == "weekly_report"]
        assert weekly and {j.id for j in jobs.scheduler.get_jobs()} >= {
            "weekly_report",
            "monthly_report",
            "purge_bulletin_charts",
        }
    finally:
        jobs.stop()
    assert {key.rsplit(":", 1)[0] for key, _, _ in _rows(db_path)} == {"bulletin:weekly:2026-11-16"}
    assert await _run(kibaru) is None
    assert len(_rows(db_path)) == 3
    await kibaru.close()


async def test_a_crash_in_the_middle_of_a_run_sends_nothing_twice(
    kibaru: Kibaru, clock: ManualClock, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _people(kibaru)
    clock.set(at(23, 8))
    real_enqueue = outbox.enqueue
    queued = 0

    async def crash_on_the_second(*args: object, **kwargs: object) -> bool:
        nonlocal queued
        queued += 1
        if queued == 2:
            raise OSError("power cut")
        return await real_enqueue(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(delivery.outbox, "enqueue", crash_on_the_second)
    with pytest.raises(OSError):
        await _run(kibaru)
    assert _rows(db_path) == []  # the first row went with the rolled-back run
    monkeypatch.setattr(delivery.outbox, "enqueue", real_enqueue)
    assert await _run(kibaru) is not None
    assert len(_rows(db_path)) == 3


async def test_the_cron_triggers_are_in_the_bots_time_zone(kibaru: Kibaru) -> None:
    trigger = report_trigger(WEEKLY, MONDAY_8, kibaru)
    wednesday = datetime(2026, 11, 18, 12, tzinfo=BAMAKO)
    assert trigger.get_next_fire_time(None, wednesday) == datetime(2026, 11, 23, 8, tzinfo=BAMAKO)
    monthly = report_trigger(MONTHLY, ReportTime(5, time(7, 30)), kibaru)
    assert monthly.get_next_fire_time(None, wednesday) == datetime(
        2026, 12, 5, 7, 30, tzinfo=BAMAKO
    )


async def test_chart_files_go_once_their_messages_are_sent(
    kibaru: Kibaru, clock: ManualClock, db_path: Path
) -> None:
    await _people(kibaru)
    clock.set(at(23, 8))
    await _run(kibaru)
    charts = {
        Path(p)
        for _, _, payload in _rows(db_path)
        for _, p in outbox.Outgoing.from_json(payload).files
    }
    assert len(charts) == 2 and all(chart.exists() for chart in charts)  # French and English
    clock.set(at(23, 12))
    assert await purge_charts(kibaru.db, clock) == 0  # still queued
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE outbox SET status = 'sent' WHERE key LIKE 'bulletin:%'")
    assert await purge_charts(kibaru.db, clock) == 2
    assert not any(chart.exists() for chart in charts)
    assert await purge_charts(kibaru.db, clock) == 0


async def test_a_chart_that_cannot_be_written_leaves_the_text(
    kibaru: Kibaru, clock: ManualClock, db_path: Path
) -> None:
    await _people(kibaru)
    kibaru.settings.charts_dir.write_bytes(b"")  # a file where the folder should be
    clock.set(at(23, 8))
    assert await _run(kibaru) is not None
    payloads = [outbox.Outgoing.from_json(payload) for _, _, payload in _rows(db_path)]
    assert len(payloads) == 3
    assert all(p.files == () and "ML-2026-" in p.text for p in payloads)
