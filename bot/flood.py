"""Per-person flood control: a token bucket in front of the conversation engine.

When a rumour spreads, one person (or a script behind one account) can send hundreds of
messages a minute. Each one handled costs a database transaction and a reply, and would slow
everyone else's reports. So each person has a bucket of `burst` tokens, refilled at `rate`
tokens a second; a message takes a token, and a message that finds the bucket empty is dropped
before the engine sees it: no database access, no reply, nothing the person gave before is
touched (their conversation waits at the same question).

The first message dropped opens a throttling *episode* and earns one polite notice; the episode
ends once the bucket is full again (the person paused for `burst / rate` seconds), so a flood
that goes on gets no second notice while a person who paused and overdoes it again is told again.

The buckets live in memory, not in the database: they are a rate limiter, not user data. A
restart forgets them, which at worst lets one more burst through; writing them would cost the
very transaction per message that dropping a message saves. They are bounded: a full bucket
says nothing a missing one does not, so full buckets are forgotten first, then the longest
unseen ones.

Time comes from the injected `Clock`, so tests move it instead of waiting.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from bot.clock import Clock

#: buckets kept before the full ones (then the longest unseen) are forgotten
MAX_TRACKED = 10_000


class Verdict(Enum):
    ADMIT = "admit"
    #: dropped, and the first of its episode: the sender gets the notice
    NOTIFY = "notify"
    #: dropped silently: the notice of this episode was given already
    DROP = "drop"


@dataclass
class _Bucket:
    tokens: float
    at: datetime
    throttled: bool = False


class FloodGuard:
    def __init__(
        self, clock: Clock, burst: int, rate: float, max_tracked: int = MAX_TRACKED
    ) -> None:
        if burst < 1 or rate <= 0:
            raise ValueError("a flood guard needs burst >= 1 and rate > 0")
        self.clock = clock
        self.burst = float(burst)
        self.rate = rate
        self.max_tracked = max_tracked
        self._buckets: OrderedDict[tuple[str, str], _Bucket] = OrderedDict()
        #: figures for logs and tests
        self.dropped = 0
        self.episodes = 0

    def __len__(self) -> int:
        return len(self._buckets)

    def _refilled(self, bucket: _Bucket, now: datetime) -> float:
        elapsed = max((now - bucket.at).total_seconds(), 0.0)
        return min(self.burst, bucket.tokens + elapsed * self.rate)

    def admit(self, channel: str, person: str) -> Verdict:
        """Take a token for one message of `person` on `channel`, or say how to drop it."""
        key = (channel, person)
        now = self.clock.now()
        bucket = self._buckets.get(key)
        if bucket is None:
            self._make_room(now)
            bucket = _Bucket(self.burst, now)
            self._buckets[key] = bucket
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = self._refilled(bucket, now)
            bucket.at = now
            if bucket.tokens >= self.burst:
                bucket.throttled = False  # paused long enough: the episode is over
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Verdict.ADMIT
        self.dropped += 1
        if bucket.throttled:
            return Verdict.DROP
        bucket.throttled = True
        self.episodes += 1
        return Verdict.NOTIFY

    def _make_room(self, now: datetime) -> None:
        """Before a new bucket: forget the full ones if at the bound, then (everyone being
        active, a rare storm) the longest unseen, down to three quarters so that the scan is
        not repeated for each newcomer."""
        if len(self._buckets) < self.max_tracked:
            return
        for key in [k for k, b in self._buckets.items() if self._refilled(b, now) >= self.burst]:
            del self._buckets[key]
        if len(self._buckets) < self.max_tracked:
            return
        while len(self._buckets) > self.max_tracked * 3 // 4:
            self._buckets.popitem(last=False)
