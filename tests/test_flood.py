"""Flood control: the token bucket on its own, then in the Telegram channel (dropped updates
never reach the engine, are confirmed all the same, and earn one notice per episode)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.flood import FloodGuard, Verdict
from bot.inbound import InboundEvent
from bot.outbound import Message
from bot.settings import Settings
from tests.bot_api_emulator import BotApiEmulator
from tests.telegram_harness import running_bot

TG = "telegram"


def verdicts(guard: FloodGuard, count: int, person: str = "1") -> list[Verdict]:
    return [guard.admit(TG, person) for _ in range(count)]


def test_a_burst_then_one_notice_then_silence() -> None:
    guard = FloodGuard(ManualClock(), burst=3, rate=1.0)
    assert verdicts(guard, 6) == [Verdict.ADMIT] * 3 + [Verdict.NOTIFY] + [Verdict.DROP] * 2
    assert (guard.dropped, guard.episodes) == (3, 1)


def test_the_bucket_refills_at_the_rate_and_the_episode_lasts_until_it_is_full() -> None:
    clock = ManualClock()
    guard = FloodGuard(clock, burst=4, rate=0.5)
    verdicts(guard, 5)  # the burst, then the notice
    clock.advance(seconds=2)  # one token back
    assert verdicts(guard, 2) == [Verdict.ADMIT, Verdict.DROP]  # same episode: no new notice
    clock.advance(seconds=7.9)  # not quite full again
    assert verdicts(guard, 4) == [Verdict.ADMIT] * 3 + [Verdict.DROP]
    clock.advance(seconds=8)  # full: the person paused, a new episode may begin
    assert verdicts(guard, 5) == [Verdict.ADMIT] * 4 + [Verdict.NOTIFY]
    assert guard.episodes == 2


def test_people_and_channels_have_their_own_buckets() -> None:
    guard = FloodGuard(ManualClock(), burst=1, rate=1.0)
    assert guard.admit(TG, "1") is Verdict.ADMIT
    assert guard.admit(TG, "1") is Verdict.NOTIFY
    assert guard.admit(TG, "2") is Verdict.ADMIT
    assert guard.admit("whatsapp", "1") is Verdict.ADMIT


def test_memory_is_bounded_forgetting_full_buckets_first() -> None:
    clock = ManualClock()
    guard = FloodGuard(clock, burst=2, rate=1.0, max_tracked=100)
    verdicts(guard, 3, person="flooder")  # throttled: its bucket must be kept
    for n in range(99):
        guard.admit(TG, f"quiet-{n}")
    clock.advance(seconds=1)  # every quiet bucket full again; the flooder's is not
    guard.admit(TG, "flooder")
    guard.admit(TG, "newcomer")
    assert len(guard) == 2
    assert guard.admit(TG, "flooder") is Verdict.DROP  # still in its episode
    for n in range(500):  # everyone active at once: the longest unseen go
        guard.admit(TG, f"storm-{n}")
    assert len(guard) <= 100


def test_nonsense_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="burst"):
        FloodGuard(ManualClock(), burst=0, rate=1.0)
    with pytest.raises(ValueError, match="rate"):
        FloodGuard(ManualClock(), burst=5, rate=0)


async def test_dropped_updates_skip_the_engine_and_the_conversation_waits(
    emulator: BotApiEmulator, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    settings = Settings(
        telegram_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_path=db_path,
        timezone=ZoneInfo("Africa/Bamako"),
        flood_burst=5,
        flood_rate=0.5,
    )
    awa = emulator.user(701, "Awa", "fr")
    async with running_bot(settings, clock) as channel:
        await awa.send_text("/start")
        await emulator.wait_for_messages(awa.user_id, 1)
        await awa.press("Français")
        await emulator.wait_for_messages(awa.user_id, 2)
        await awa.send_text("/signaler")
        [*_, question] = await emulator.wait_for_messages(awa.user_id, 3)
        handled: list[int | None] = []
        original = channel.kibaru.conversations.handle

        async def counting(event: InboundEvent) -> list[Message]:
            handled.append(event.event_id)
            return await original(event)

        monkeypatch.setattr(channel.kibaru.conversations, "handle", counting)
        sent = [await awa.send_text(f"attaque {n}") for n in range(8)]  # all in one batch
        await emulator.wait_for(lambda: emulator.pending_updates == 0 and emulator.long_polls > 0)
        after_flood = [m.text or "" for m in emulator.messages_to(awa.user_id)[3:]]
        with sqlite3.connect(db_path) as conn:
            [(last_event,)] = conn.execute("SELECT last_event_id FROM conversations").fetchall()
        clock.advance(seconds=10)  # the bucket is full again
        await awa.press("Attaque armée", question)  # the question's buttons still work
        [*_, when] = await emulator.wait_for_messages(awa.user_id, len(after_flood) + 4)
    assert handled[:2] == sent[:2]  # 5 tokens: /start, Français, /signaler, two more
    assert len(handled) == 3  # and the press after the pause
    assert last_event == sent[1]  # the dropped updates never reached the database
    assert len(after_flood) == 3  # two answers, then the notice, once
    assert "trop vite" in after_flood[2] and "gardées" in after_flood[2]
    assert "Quand est-ce arrivé" in (when.text or "")
    assert channel.flood.dropped == 6 and channel.flood.episodes == 1
