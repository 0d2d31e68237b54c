"""Proof under stress (issue 7): a flood. One person sends 1,000 messages in a minute while 50
others report; the others' replies stay within twice their quiet p99, and the flooder is
throttled with one polite notice.

The real Telegram channel runs against the Bot API emulator. The 50 reporters go through the
whole report conversation at once, each sending the next update as soon as the last reply
came: quietly, then again while the flooder sends its 1,000 messages, spread over the same
acts, then quietly once more. The "minute" is the manual clock's, which the flood control
reads: it moves by 60 s over each round, so the test waits for no time to pass, while the
latencies are real wall time.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import ManualClock
from bot.settings import Settings
from tests.bot_api_emulator import BotApiEmulator, SimUser
from tests.crowd import ONBOARDING, REPORT, Inboxes, percentile, play
from tests.telegram_harness import running_bot

NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
REPORTERS = 50
FLOOD = 1000
MINUTE = 60.0
FIRST_REPORTER = 3001
FLOODER = 3999
NOTICE = "trop vite"
REFERENCE = re.compile(r"ML-\d{4}-\d{6}")


class Minute:
    """The phase's minute on the manual clock, spread over the reporters' acts: after each
    act the clock moves on by its share and the flooder, if any, sends its share."""

    def __init__(self, clock: ManualClock, acts: int, flooder: SimUser | None = None) -> None:
        self.clock = clock
        self.acts = acts
        self.flooder = flooder
        self.done = 0
        self.sent = 0

    async def tick(self) -> None:
        self.done += 1
        await self._catch_up(FLOOD * self.done / self.acts)

    async def finish(self) -> None:
        await self._catch_up(FLOOD)

    async def _catch_up(self, target: float) -> None:
        while self.sent < target:
            self.sent += 1
            self.clock.advance(seconds=MINUTE / FLOOD)
            if self.flooder is not None:
                await self.flooder.send_text("Ils arrivent au marché !!! Partagez")


async def everyone_reports(
    inboxes: Inboxes, reporters: list[SimUser], minute: Minute
) -> list[float]:
    """Each reporter files one report; every act's latency, in seconds."""
    latencies: list[float] = []

    async def one(user: SimUser) -> None:
        for what in REPORT:
            await play(inboxes, user, [what], latencies)
            await minute.tick()

    await asyncio.gather(*(one(user) for user in reporters))
    await minute.finish()
    return latencies


async def test_a_flood_leaves_the_others_fast_and_gets_one_notice(
    emulator: BotApiEmulator, db_path: Path
) -> None:
    began = time.perf_counter()
    clock = ManualClock(NOW)
    settings = Settings(  # the flood control's defaults: bursts of 20, then 1 message a second
        telegram_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_path=db_path,
        timezone=ZoneInfo("Africa/Bamako"),
    )
    inboxes = Inboxes(emulator)
    reporters = [emulator.user(FIRST_REPORTER + n, f"R{n}", "fr") for n in range(REPORTERS)]
    flooder = emulator.user(FLOODER, "Flo", "fr")
    acts = REPORTERS * len(REPORT)
    async with running_bot(settings, clock) as channel:
        await asyncio.gather(*(play(inboxes, user, ONBOARDING) for user in [*reporters, flooder]))
        await play(inboxes, reporters[0], REPORT)  # warms caches (SQLite's, Babel's) up
        # quiet, flood, quiet again: the machine's speed drifts (a shared CI machine more so),
        # and comparing the flood with the quiet rounds on both sides of it cancels the drift
        rounds: list[list[float]] = []
        for flooding in (False, True, False):
            clock.advance(minutes=5)
            flooder_before = len(inboxes.messages[FLOODER])
            started = time.perf_counter()
            minute = Minute(clock, acts, flooder if flooding else None)
            rounds.append(await everyone_reports(inboxes, reporters, minute))
            await emulator.wait_for(
                lambda: emulator.pending_updates == 0 and emulator.long_polls > 0
            )
            if flooding:
                flood_wall = time.perf_counter() - started
                to_flooder = [m.text or "" for m in inboxes.messages[FLOODER][flooder_before:]]
        dropped, episodes = channel.flood.dropped, channel.flood.episodes
    quiet, flooded = rounds[0] + rounds[2], rounds[1]
    admitted = FLOOD - dropped
    with sqlite3.connect(db_path) as conn:
        stored = {row[0] for row in conn.execute("SELECT reference FROM reports")}
    confirmed = {
        found
        for user in reporters
        for message in inboxes.messages[user.chat_id]
        for found in REFERENCE.findall(message.text or "")
    }
    quiet_p99, flood_p99 = percentile(quiet, 0.99), percentile(flooded, 0.99)
    # Twice the quiet p99, but never less than the quiet p99 + 50 ms: on a shared 2-core CI
    # machine a quiet p99 of a few tens of ms doubles from noise alone (a neighbour's burst,
    # a garbage collection), which says nothing about the flood.
    bound = max(2 * quiet_p99, quiet_p99 + 0.050)
    print(
        f"\nflood: {REPORTERS} reporters x {len(REPORT)} updates each, quiet, while one "
        f"person sends {FLOOD} messages in a minute (manual clock), quiet again; "
        f"{time.perf_counter() - began:.1f} s in all, flood phase {flood_wall:.1f} s"
    )
    print(
        f"  reply latency quiet p50 {1000 * percentile(quiet, 0.5):.0f} ms, "
        f"p99 {1000 * quiet_p99:.0f} ms (before {1000 * percentile(rounds[0], 0.99):.0f}, "
        f"after {1000 * percentile(rounds[2], 0.99):.0f}); with the flood p50 "
        f"{1000 * percentile(flooded, 0.5):.0f} ms, p99 {1000 * flood_p99:.0f} ms "
        f"(bound {1000 * bound:.0f} ms)"
    )
    print(
        f"  flooder: {admitted} messages handled, {dropped} dropped before the database, "
        f"{sum(NOTICE in text for text in to_flooder)} notice in {episodes} episode; "
        f"{len(stored)} reports stored, {len(confirmed)} confirmed to their reporters"
    )
    assert flood_p99 <= bound
    assert episodes == 1 and sum(NOTICE in text for text in to_flooder) == 1
    # 20 at once, then one a second over the minute: a little less, since the bot reads the
    # clock when it handles a batch, which the first of the flood may reach with a full bucket
    assert 20 + 45 <= admitted <= 20 + 61
    assert len(to_flooder) == admitted + 1  # one answer each, and the notice
    assert len(stored) == 3 * REPORTERS + 1 and confirmed == stored
