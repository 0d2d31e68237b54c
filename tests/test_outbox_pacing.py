"""The pacing of the two lanes (bot/outbox/pacing.py), on a manual clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.clock import ManualClock
from bot.outbox.pacing import Lane, Limits, Pacing, is_group


def _sends_within(times: list[float], window: float) -> int:
    """The most sends any `window`-second span holds."""
    best = 0
    for i, start in enumerate(times):
        best = max(best, sum(1 for t in times[i:] if t < start + window))
    return best


async def test_bulk_stays_within_30_per_second_without_bursts() -> None:
    clock = ManualClock()
    pacing = Pacing(clock)
    start = clock.now()
    times = []
    for chat in range(300):
        await pacing.bulk_slot(str(chat))
        times.append((clock.now() - start).total_seconds())
    assert _sends_within(times, 1.0) <= 30
    rate = 299 / times[-1]
    assert 29.0 <= rate <= 30.0
    # evenly spaced but for the catch-up allowance: never a burst of more than that
    assert _sends_within(times, 0.1) <= Limits().catch_up + 3


async def test_bulk_makes_up_for_time_lost_elsewhere_within_the_budget() -> None:
    clock = ManualClock()
    pacing = Pacing(clock)
    start = clock.now()
    times = []
    for chat in range(300):
        await pacing.bulk_slot(str(chat))
        times.append((clock.now() - start).total_seconds())
        if chat % 10 == 9:
            clock.advance(seconds=0.1)  # a round's database work between two rounds
    assert _sends_within(times, 1.0) <= 30
    assert 299 / times[-1] >= 28.5


async def test_private_chats_once_a_second_groups_20_a_minute() -> None:
    clock = ManualClock()
    pacing = Pacing(clock)
    pacing.record(Lane.BULK, "42")
    assert pacing.chat_ready_at("42") == clock.now() + timedelta(seconds=1)
    assert pacing.chat_ready_at("43") is None
    first = clock.now()
    for _ in range(20):
        pacing.record(Lane.BULK, "-100")
        clock.advance(seconds=1)
    assert is_group("-100") and not is_group("42")
    assert pacing.chat_ready_at("-100") == first + timedelta(minutes=1)
    clock.set(first + timedelta(minutes=1))
    assert pacing.chat_ready_at("-100") is None


async def test_replies_are_free_without_a_broadcast_and_first_during_one() -> None:
    clock = ManualClock()
    pacing = Pacing(clock, Limits(per_second=5, catch_up=1))
    for _ in range(20):  # no bulk in the window: interactive replies are not paced
        assert pacing.priority_delay() == 0
        pacing.record(Lane.PRIORITY, "1")
    clock.advance(seconds=2)
    for chat in range(5):
        await pacing.bulk_slot(str(chat))
    # the budget is full: a reply waits for the next free slot, and bulk gives way to it
    assert pacing.priority_delay() > 0
    reply = asyncio.create_task(pacing.priority_slot("7"))
    await asyncio.sleep(0)
    assert pacing.priority_waiting == 1 and pacing.bulk_delay() > 0
    await reply
    assert pacing.priority_waiting == 0
    # replies count against the budget: bulk now waits for the window to clear
    assert pacing.bulk_delay() > 0


async def test_a_429_pauses_both_lanes() -> None:
    clock = ManualClock()
    pacing = Pacing(clock)
    pacing.record(Lane.BULK, "1")
    pacing.pause(3)
    assert pacing.priority_delay() == 3
    assert pacing.bulk_delay() == 3
    start = clock.now()
    await pacing.bulk_slot("2")
    assert clock.now() - start >= timedelta(seconds=3)


class TickingClock(ManualClock):
    """Moves a microsecond at each reading, as the system clock does."""

    def now(self):  # type: ignore[no-untyped-def]
        return self.advance(microseconds=1)


def test_a_chat_never_written_to_is_ready_on_a_moving_clock() -> None:
    pacing = Pacing(TickingClock())
    assert pacing.chat_ready_at("42") is None
    assert pacing.chat_ready_at("-100") is None


async def test_a_broadcast_leaves_no_memory_of_chats_long_ready() -> None:
    pacing = Pacing(ManualClock())
    for chat in range(10_000):
        await pacing.bulk_slot(str(chat))
    assert len(pacing._private) <= 2001
    assert pacing.chat_ready_at("9999") is not None  # the last ones are still remembered
