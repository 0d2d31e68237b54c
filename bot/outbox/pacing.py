"""Telegram's rate limits, as pure bookkeeping over a clock.

Telegram allows a bot about 30 messages a second overall, one a second in a private chat and
20 a minute in a group; above that it answers 429 with a `retry_after`. Two lanes share the
budget:

* the **priority lane** carries interactive replies. It never waits behind a broadcast: when
  the second's budget is full it takes the very next free slot, before any bulk message. While
  no bulk message went out in the last second it is not paced at all: a conversation's replies
  are not a bulk notification, and capping them at 30/s would cut Kibaru's interactive
  throughput by ten (benchmarks/interactive.py);
* the **bulk lane** carries the outbox. It sends only while both lanes together stay under the
  overall budget, spaced evenly at that rate (a virtual schedule, GCRA: time the sender spent
  on the database between two rounds is made up by sending up to `catch_up` messages a little
  closer together, never more than the budget in any second), and keeps each chat's own
  limit, counting the replies that chat just got.

A 429 pauses both lanes for as long as Telegram asks. Everything here is synchronous and
takes no lock: asking for a slot and recording it happen with no await in between, so
concurrent senders on one event loop never take the same slot.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.clock import Clock

#: private chats remembered before the ones whose interval is over are forgotten
_PRIVATE_KEPT = 1000


class Lane(StrEnum):
    PRIORITY = "priority"
    BULK = "bulk"


@dataclass(frozen=True)
class Limits:
    per_second: int = 30
    #: added to the one-second window: requests leave here and arrive at Telegram a few
    #: milliseconds apart, and must not land 31 in Telegram's second
    margin: float = 0.02
    private_interval: float = 1.0
    group_per_minute: int = 20
    #: bulk messages that may go closer together than the even spacing, to make up time lost
    catch_up: int = 5


def is_group(chat_id: str) -> bool:
    """Telegram's group and channel ids are negative."""
    return chat_id.startswith("-")


class Pacing:
    def __init__(self, clock: Clock, limits: Limits | None = None) -> None:
        self.clock = clock
        self.limits = limits or Limits()
        self._window = timedelta(seconds=1 + self.limits.margin)
        self._spacing = timedelta(seconds=(1 + self.limits.margin) / self.limits.per_second)
        #: when each of the sends of the last window went out, both lanes
        self._sent: deque[datetime] = deque()
        self._bulk: deque[datetime] = deque()
        #: when the next bulk message is due on the even schedule (GCRA's theoretical time)
        self._bulk_due: datetime | None = None
        self._tolerance = self._spacing * (self.limits.catch_up - 1)
        #: private chat -> its last send; group -> its sends of the last minute
        self._private: dict[str, datetime] = {}
        self._groups: dict[str, deque[datetime]] = {}
        self._paused_until: datetime | None = None
        #: priority sends waiting for a slot: bulk gives way to them
        self.priority_waiting = 0

    # -- reading ----------------------------------------------------------------------------

    def _forget(self, now: datetime) -> None:
        for sends in (self._sent, self._bulk):
            while sends and sends[0] <= now - self._window:
                sends.popleft()

    def _pause_left(self, now: datetime) -> float:
        if self._paused_until is None or self._paused_until <= now:
            return 0.0
        return (self._paused_until - now).total_seconds()

    def _window_wait(self, now: datetime) -> float:
        """Seconds until the overall budget has room for one more send."""
        if len(self._sent) < self.limits.per_second:
            return 0.0
        frees = self._sent[len(self._sent) - self.limits.per_second] + self._window
        return max((frees - now).total_seconds(), 0.001)

    def priority_delay(self) -> float:
        """Seconds an interactive reply must wait (0: send now)."""
        now = self.clock.now()
        self._forget(now)
        pause = self._pause_left(now)
        if pause:
            return pause
        if not self._bulk:
            return 0.0
        return self._window_wait(now)

    def chat_ready_at(self, chat_id: str) -> datetime | None:
        """When this chat may get its next bulk message; None if it may now."""
        now = self.clock.now()
        if is_group(chat_id):
            sends = self._groups.get(chat_id)
            if sends is None:
                return None
            while sends and sends[0] <= now - timedelta(minutes=1):
                sends.popleft()
            if not sends:
                del self._groups[chat_id]
            elif len(sends) >= self.limits.group_per_minute:
                return sends[len(sends) - self.limits.group_per_minute] + timedelta(minutes=1)
            return None
        last = self._private.get(chat_id)
        if last is None:
            return None
        ready = last + timedelta(seconds=self.limits.private_interval)
        if ready <= now:
            del self._private[chat_id]
            return None
        return ready

    def bulk_delay(self) -> float:
        """Seconds before the outbox may send its next message, whatever the chat."""
        now = self.clock.now()
        self._forget(now)
        waits = [self._pause_left(now), self._window_wait(now)]
        if self._bulk_due is not None:
            waits.append((self._bulk_due - self._tolerance - now).total_seconds())
        wait = max(waits)
        if wait <= 0 and self.priority_waiting:
            return 0.001  # an interactive reply is waiting for this slot
        return max(wait, 0.0)

    # -- recording --------------------------------------------------------------------------

    def record(self, lane: Lane, chat_id: str, count: int = 1) -> None:
        """`count` messages went to `chat_id` just now."""
        now = self.clock.now()
        for _ in range(count):
            self._sent.append(now)
            if lane is Lane.BULK:
                self._bulk.append(now)
        if lane is Lane.BULK:
            due = now if self._bulk_due is None else max(self._bulk_due, now)
            self._bulk_due = due + self._spacing * count
        if is_group(chat_id):
            self._groups.setdefault(chat_id, deque()).extend([now] * count)
        else:
            self._private[chat_id] = now
            if len(self._private) > 2 * _PRIVATE_KEPT:  # a broadcast's chats, long ready
                ready = now - timedelta(seconds=self.limits.private_interval)
                self._private = {c: t for c, t in self._private.items() if t > ready}

    def pause(self, seconds: float) -> None:
        """Telegram answered 429: nothing goes out for `seconds`."""
        until = self.clock.now() + timedelta(seconds=seconds)
        if self._paused_until is None or until > self._paused_until:
            self._paused_until = until

    # -- waiting ----------------------------------------------------------------------------

    async def priority_slot(self, chat_id: str, count: int = 1) -> None:
        """Wait (rarely) for room for an interactive reply of `count` messages, then take it."""
        for _ in range(count):
            delay = self.priority_delay()
            if delay > 0:
                self.priority_waiting += 1
                try:
                    while delay > 0:
                        await self.clock.sleep(delay)
                        delay = self.priority_delay()
                finally:
                    self.priority_waiting -= 1
            self.record(Lane.PRIORITY, chat_id)

    async def bulk_slot(self, chat_id: str, count: int = 1) -> None:
        """Wait for the overall budget (the chat's own limit is the sender's to check, so that
        it can send to other chats meanwhile), then take `count` slots."""
        for _ in range(count):
            delay = self.bulk_delay()
            while delay > 0:
                await self.clock.sleep(delay)
                delay = self.bulk_delay()
            self.record(Lane.BULK, chat_id)
