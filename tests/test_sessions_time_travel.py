"""Reminders under the real system clock, moved with time-machine.

The other session tests inject a ManualClock; here nothing is injected: Kibaru and its outbox
sender read the system clock as in production, and time-machine moves it (days ahead, across
a restart), so what is checked is the production path: local times of Africa/Bamako turned
into UTC due times, rows that survive a restart, and the start-up rule for reminders missed
while the bot was down (sent if the session has not started, dropped if it has).
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import time_machine

from bot.app import Kibaru
from bot.outbox.pacing import Pacing
from bot.outbox.sender import OutboxSender
from bot.settings import Settings
from storage.outbox import Outgoing
from storage.roles import Role
from tests.test_review_flow import staff
from tests.test_sessions import create_session, member, press

#: a Monday, 09:00 in Bamako (UTC+0 all year: no summer time to skip or repeat)
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Recorder:
    """The "test" channel's transport: what reached whom."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def deliver(self, chat_id: str, outgoing: Outgoing, skip: int = 0) -> int | None:
        self.sent.append((chat_id, outgoing.text))
        return len(self.sent)

    def calls(self, outgoing: Outgoing) -> int:
        return 1


def reminders(database: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(database) as conn:
        return [
            (key.split(":")[1], not_before, status)
            for key, not_before, status in conn.execute(
                "SELECT key, not_before, status FROM outbox WHERE kind = 'reminder'"
                " ORDER BY not_before"
            )
        ]


async def deliver_due(kibaru: Kibaru) -> Recorder:
    """Start an outbox sender on the system clock, as at start-up, and let it drain what is
    due now (it stops once nothing due is left)."""
    recorder = Recorder()
    sender = OutboxSender(
        kibaru.db, kibaru.clock, {"test": recorder}, Pacing(kibaru.clock), nap=0.05
    )
    sender.start()

    async def drained() -> bool:
        async with kibaru.db.reading() as conn:
            rows = await conn.execute_fetchall(
                "SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'sending')"
                " AND (not_before IS NULL OR not_before <= ?)",
                (kibaru.clock.now().isoformat(timespec="milliseconds"),),
            )
        return int(next(iter(rows))[0]) == 0

    async def wait() -> None:
        while not await drained():
            sender.kick()
            await asyncio.sleep(0.01)  # an event poll: no time needs to pass

    await asyncio.wait_for(wait(), 20)
    await sender.stop()
    return recorder


async def test_reminders_follow_the_real_clock_across_restarts(settings: Settings) -> None:
    db_path = settings.database_path
    with time_machine.travel(MONDAY, tick=True):
        kibaru = await Kibaru.open(settings)
        secretary = await staff(kibaru, "400", Role.CCSC_SECRETARY, "ccsc_bamako_c4")
        awa = await member(kibaru, "701")
        await create_session(secretary, day="4/12", hour="10h", title="Réunion de décembre")
        await create_session(secretary, day="5/12", hour="10h", title="Formation")
        await press(awa, "!rsvp:1:yes")
        await press(awa, "!rsvp:2:maybe")
        await kibaru.close()  # a restart between the answers and their reminders
    # 10:00 local in Bamako is 10:00 UTC: 24 h and 2 h before each session
    assert reminders(db_path) == [
        ("1", "2026-12-03T10:00:00.000+00:00", "queued"),
        ("1", "2026-12-04T08:00:00.000+00:00", "queued"),
        ("2", "2026-12-04T10:00:00.000+00:00", "queued"),
        ("2", "2026-12-05T08:00:00.000+00:00", "queued"),
    ]

    # Down from Monday until Friday 4 December 10:30: session 1 has started, session 2 has not.
    with time_machine.travel(datetime(2026, 12, 4, 10, 30, tzinfo=UTC), tick=True):
        kibaru = await Kibaru.open(settings)
        recorder = await deliver_due(kibaru)
        await kibaru.close()
    texts = [text for chat, text in recorder.sent if chat == "701"]
    assert sum("⏰" in text and "Formation" in text for text in texts) == 1
    assert not any("⏰" in text and "Réunion de décembre" in text for text in texts)
    assert reminders(db_path) == [
        ("1", "2026-12-03T10:00:00.000+00:00", "cancelled"),  # missed, session started: dropped
        ("1", "2026-12-04T08:00:00.000+00:00", "cancelled"),
        ("2", "2026-12-04T10:00:00.000+00:00", "sent"),  # missed, session ahead: sent late
        ("2", "2026-12-05T08:00:00.000+00:00", "queued"),  # still in the future
    ]

    # Saturday 08:00:01: the last one goes, once, after one more restart.
    with time_machine.travel(datetime(2026, 12, 5, 8, 0, 1, tzinfo=UTC), tick=True):
        kibaru = await Kibaru.open(settings)
        recorder = await deliver_due(kibaru)
        await kibaru.close()
    assert [text for _, text in recorder.sent if "⏰" in text] == [recorder.sent[-1][1]]
    assert "Formation" in recorder.sent[-1][1]
    assert reminders(db_path)[-1][2] == "sent"
