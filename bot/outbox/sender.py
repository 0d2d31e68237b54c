"""The background sender: drains the outbox in the bulk lane, within Telegram's limits.

Each round claims a few due rows (marked "sending" and committed before any API call), waits
for a bulk slot of the shared pacing for each, and delivers them side by side; what happened
to each is written back at the next round, all rows in one commit. A crash therefore leaves
"sending" only the rows claimed and not yet written back: at start-up they go back to the
queue, and only those may reach their recipient twice.

Failures: a 429 pauses the pacing (both lanes) for Telegram's `retry_after` and requeues the
row without counting an attempt (a transport outside Telegram's budget, whose `calls` is 0,
such as a partner's webhook, requeues its row and pauses nothing); network errors, timeouts
and 5xx are retried with exponential backoff up to `max_attempts`; a 403 marks the row
"blocked" and its user as having blocked the bot, without retrying; a 400 fails the row at
once. A row of several calls (a photo then its text, a long text in parts) resumes at the call
that failed: the calls it made are remembered in memory (a restart forgets them, and may send
them again, as it may any row in flight).

The sender wakes on `kick()` (something was enqueued), when the earliest queued row falls due
(`not_before`, a retry's time: waited on the clock when within `horizon`), and every `nap`
seconds of real time in case something was queued without a kick (a scheduled job, another
process on the same database).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.outbox.pacing import Pacing
from bot.outbox.transport import (
    Blocked,
    DeliveryError,
    Permanent,
    RetryAfter,
    Transient,
    Transport,
)
from storage import outbox
from storage.database import Database
from storage.outbox import Row, Status

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What became of one delivery, to be written back."""

    row: Row
    status: Status
    message_id: int | None = None
    error: str | None = None
    retry_at: datetime | None = None
    counts: bool = True  # whether a retry counts as an attempt (a 429 does not)


class OutboxSender:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        transports: Mapping[str, Transport],
        pacing: Pacing,
        *,
        claim: int = 10,
        concurrency: int = 16,
        max_attempts: int = 8,
        first_backoff: float = 2.0,
        max_backoff: float = 600.0,
        nap: float = 5.0,
        horizon: float = 900.0,
        stop_grace: float = 10.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self.transports = dict(transports)
        self.pacing = pacing
        #: rows marked "sending" per round: with `concurrency`, bounds what a crash can
        #: send twice; a round of 10 at 30/s is a third of a second
        self.claim = claim
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.nap = nap
        #: a due time within this is waited for on the clock (a manual clock jumps to it);
        #: beyond, the sender only looks again every `nap` seconds of real time, so that a
        #: test's manual clock is never moved hours ahead by a row scheduled for tomorrow
        self.horizon = horizon
        self.stop_grace = stop_grace
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._busy_chats: set[tuple[str, str]] = set()
        self._outcomes: list[Outcome] = []
        #: row id -> its calls already made, for the rows that failed part way
        self._done_calls: dict[int, int] = {}
        #: figures for logs and benchmarks
        self.delivered = 0
        self.retried = 0
        self.throttled = 0

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="kibaru-outbox-sender")

    def kick(self) -> None:
        """Something was enqueued (and committed): look at the queue now."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Finish the messages in flight and write their fate; rows claimed but not started
        go back to the queue. Past `stop_grace` seconds, stop anyway (a restart requeues)."""
        self._stopping = True
        self._wake.set()
        task = self._task
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), self.stop_grace)
        except TimeoutError:
            log.warning("outbox sender did not stop within %.0f s; cancelled", self.stop_grace)
            await self.abandon()
        finally:
            self._task = None

    async def abandon(self) -> None:
        """Stop at once and write nothing more, as a crash would (used by tests, and by a
        stop that takes too long): rows "sending" in the database stay so until the next
        start, which queues them again."""
        tasks = [*self._in_flight, *([self._task] if self._task is not None else [])]
        self._task = None
        self._stopping = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._outcomes.clear()
        self._busy_chats.clear()
        self._done_calls.clear()

    # -- the loop ---------------------------------------------------------------------------

    async def _run(self) -> None:
        async with self.db.transaction() as conn:
            recovered = await outbox.recover(conn)
        if recovered:
            log.warning(
                "outbox: %d row(s) left sending by the last run are queued again", recovered
            )
        failures = 0
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    claimed = await self._round()
                    failures = 0
                except Exception as error:  # the database or a bug: never stop sending for good
                    failures += 1
                    wait = min(self.first_backoff * 2 ** (failures - 1), self.max_backoff)
                    log.error(
                        "outbox round failed (%s); again in %.0f s", type(error).__name__, wait
                    )
                    await self._idle(wait)
                    continue
                if not claimed:
                    if self._outcomes and not self._in_flight:
                        continue  # the last deliveries ended meanwhile: write them back now
                    wait = await self._next_wait()
                    if self._in_flight and (wait is None or wait <= 0):
                        wait = None  # due rows wait for their chats' sends: wake on those
                    await self._idle(wait)
            if self._in_flight:
                await asyncio.wait(self._in_flight)
            await self._write_back()
        finally:
            for flight in list(self._in_flight):
                flight.cancel()

    async def _next_wait(self) -> float | None:
        """Seconds until the earliest queued row is due (None: nothing queued)."""
        async with self.db.reading() as conn:
            due = await outbox.next_due(conn, list(self.transports))
        if due is None:
            return None
        return max((due - self.clock.now()).total_seconds(), 0.0)

    async def _idle(self, seconds: float | None) -> None:
        """Until kicked, a delivery ends, `seconds` of the clock pass (if within `horizon`),
        or `nap` seconds of real time pass."""
        waits: set[asyncio.Future[object]] = {
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(asyncio.sleep(self.nap)),
        }
        waits.update(self._in_flight)  # type: ignore[arg-type]
        if seconds is not None and seconds <= self.horizon:
            waits.add(asyncio.ensure_future(self.clock.sleep(seconds)))
        own = [w for w in waits if w not in self._in_flight]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in own:
                waiter.cancel()

    async def _round(self) -> int:
        """Write back what finished, claim due rows whose chats are ready, and start sending
        them as the pacing allows; the number of rows claimed."""
        await self._write_back()
        now = self.clock.now()
        async with self.db.reading() as conn:
            rows = await outbox.due(conn, list(self.transports), now, limit=self.claim * 10)
        chosen: list[Row] = []
        later: list[tuple[int, datetime]] = []
        for row in rows:
            chat = (row.channel, row.chat_id)
            if chat in self._busy_chats:
                continue
            ready = self.pacing.chat_ready_at(row.chat_id)
            if ready is not None:
                later.append((row.id, ready))
                continue
            chosen.append(row)
            self._busy_chats.add(chat)
            if len(chosen) >= self.claim:
                break
        if not chosen and not later:
            return 0
        try:
            async with self.db.transaction() as conn:
                claimed_ids = set(await outbox.mark_sending(conn, [row.id for row in chosen], now))
                for row_id, ready in later:
                    await outbox.postpone(conn, row_id, ready)
        except BaseException:
            for row in chosen:
                self._busy_chats.discard((row.channel, row.chat_id))
            raise
        claimed = [row for row in chosen if row.id in claimed_ids]
        for row in chosen:
            if row.id not in claimed_ids:
                self._busy_chats.discard((row.channel, row.chat_id))
        for index, row in enumerate(claimed):
            if self._stopping:
                await self._requeue(claimed[index:])
                break
            transport = self.transports[row.channel]
            while len(self._in_flight) >= self.concurrency:  # before the slot: sent in it
                await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
            await self.pacing.bulk_slot(row.chat_id, transport.calls(row.outgoing))
            flight = asyncio.create_task(self._deliver(row, transport))
            self._in_flight.add(flight)
            flight.add_done_callback(self._in_flight.discard)
        return len(claimed)

    async def _requeue(self, rows: list[Row]) -> None:
        """Claimed rows not started when asked to stop: due again at once, no attempt spent."""
        now = self.clock.now()
        self._outcomes.extend(
            Outcome(row, Status.QUEUED, retry_at=now, counts=False, error="stopped") for row in rows
        )
        for row in rows:
            self._busy_chats.discard((row.channel, row.chat_id))

    async def _deliver(self, row: Row, transport: Transport) -> None:
        try:
            outcome = await self._attempt(row, transport)
        finally:
            self._busy_chats.discard((row.channel, row.chat_id))
        self._outcomes.append(outcome)
        if len(self._in_flight) <= 1:  # the last one: the loop may be idle, write it back
            self._wake.set()

    async def _attempt(self, row: Row, transport: Transport) -> Outcome:
        """One delivery, and what it means for the row (logged with its key, never text)."""
        try:
            message_id = await self._resume(row, transport)
        except RetryAfter as error:
            self.throttled += 1
            if transport.calls(row.outgoing):  # Telegram asked: both lanes wait
                self.pacing.pause(error.seconds)
            log.warning("outbox %s: throttled, retry in %.1f s", row.key, error.seconds)
            at = self.clock.now() + timedelta(seconds=error.seconds)
            return Outcome(row, Status.QUEUED, error=error.code, retry_at=at, counts=False)
        except Blocked as error:
            log.info("outbox %s: recipient blocked the bot (%s)", row.key, error.code)
            return Outcome(row, Status.BLOCKED, error=error.code)
        except Permanent as error:
            log.warning("outbox %s: refused (%s), not retried", row.key, error.code)
            return Outcome(row, Status.FAILED, error=error.code)
        except Transient as error:
            return self._retry(row, error.code, transport)
        except Exception as error:  # a bug in a transport: retried like a network error
            return self._retry(row, type(error).__name__, transport)
        self.delivered += 1
        return Outcome(row, Status.SENT, message_id=message_id)

    async def _resume(self, row: Row, transport: Transport) -> int | None:
        """Deliver the row from the call an earlier attempt failed at."""
        try:
            message_id = await transport.deliver(
                row.chat_id, row.outgoing, self._done_calls.pop(row.id, 0)
            )
        except DeliveryError as error:
            if error.done and not isinstance(error, (Blocked, Permanent)):
                self._done_calls[row.id] = error.done
            raise
        return message_id

    def _retry(self, row: Row, code: str, transport: Transport) -> Outcome:
        """A transport may be more patient than the sender's default (`max_attempts` of its
        own): a partner platform down for hours still gets its alerts."""
        attempts = row.attempts + 1
        if attempts >= (getattr(transport, "max_attempts", None) or self.max_attempts):
            self._done_calls.pop(row.id, None)
            log.warning("outbox %s: %s, attempt %d: given up", row.key, code, attempts)
            return Outcome(row, Status.FAILED, error=code)
        self.retried += 1
        wait = min(self.first_backoff * 2 ** (attempts - 1), self.max_backoff)
        log.info("outbox %s: %s, attempt %d; again in %.0f s", row.key, code, attempts, wait)
        at = self.clock.now() + timedelta(seconds=wait)
        return Outcome(row, Status.QUEUED, error=code, retry_at=at)

    async def _write_back(self) -> None:
        """Every finished delivery's fate, in one commit (one fsync for the round)."""
        if not self._outcomes:
            return
        outcomes, self._outcomes = self._outcomes, []
        now = self.clock.now()
        try:
            async with self.db.transaction() as conn:
                for o in outcomes:
                    if o.status is Status.SENT:
                        await outbox.mark_sent(conn, o.row.id, o.message_id, now)
                    elif o.status is Status.BLOCKED:
                        await outbox.mark_blocked(conn, o.row.id, o.error or "blocked", now)
                    elif o.status is Status.FAILED:
                        await outbox.mark_failed(conn, o.row.id, o.error or "failed")
                    else:
                        assert o.retry_at is not None
                        await outbox.mark_retry(
                            conn, o.row.id, o.error or "retry", o.retry_at, counts=o.counts
                        )
        except BaseException:
            self._outcomes[:0] = outcomes  # written at the next round
            raise
