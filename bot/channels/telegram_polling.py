"""Long polling that confirms an update to Telegram only after Kibaru has handled it.

python-telegram-bot's own Updater confirms each batch as soon as it is fetched (its next
getUpdates carries the new offset before the handlers have run), so a process killed while
handling an update loses it: the user's message is never answered. Here the offset moves past
an update only once its handling is over, so after a crash or a power cut Telegram delivers it
again; the conversation engine recognises an update it had already committed (by its id) and
simply asks the current question again.

Errors never stop the loop, except a token Telegram no longer accepts: timeouts poll again at
once, 429 waits as long as Telegram asks, other network errors and 5xx back off exponentially.
The waits are on the injected clock, like every other wait of the bot, so that tests of a
flaky network skip them instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TimedOut

from bot.clock import Clock, SystemClock

log = logging.getLogger(__name__)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Poller:
    def __init__(
        self,
        bot: Bot,
        handle: Callable[[Sequence[Update]], Awaitable[None]],
        allowed_updates: Sequence[str],
        timeout: int = 10,
        first_backoff: float = 1.0,
        max_backoff: float = 30.0,
        retry_slack: float = 0.5,
        clock: Clock | None = None,
    ) -> None:
        self.bot = bot
        self.clock = clock or SystemClock()
        self.handle = handle
        self.allowed_updates = list(allowed_updates)
        self.timeout = timeout
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        #: added to Telegram's retry_after, so the retry does not land a hair too early
        self.retry_slack = retry_slack
        #: the offset to ask for next: every update below it has been handled
        self.offset: int | None = None
        self._stopping = asyncio.Event()
        self._fetch: asyncio.Task[tuple[Update, ...]] | None = None
        self._task: asyncio.Task[None] | None = None
        self.polls = 0
        #: getUpdates calls that failed, by error type (figures for logs and tests)
        self.failures: Counter[str] = Counter()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kibaru-telegram-polling")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Finish the batch being handled (if any), then confirm what was handled."""
        self._stopping.set()
        if self._fetch is not None:
            self._fetch.cancel()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._confirm()

    async def wait(self) -> None:
        """Until polling ends; raises InvalidToken if Telegram refused the token meanwhile."""
        if self._task is not None:
            await self._task

    async def confirm(self, offset: int) -> None:
        """Confirm every update below `offset` now, in the middle of a batch whose replies
        take long (paced at 30 a second during a broadcast): after a crash only the updates
        not answered yet come again, and a process that keeps dying still makes progress."""
        if self.offset is not None and offset <= self.offset:
            return
        self.offset = offset
        await self._confirm()

    async def _confirm(self) -> None:
        if self.offset is None:
            return
        try:
            await self.bot.get_updates(offset=self.offset, limit=1, timeout=0)
        except Exception as error:  # the updates will simply come again on the next start
            log.warning("could not confirm handled updates: %s", type(error).__name__)

    async def _pause(self, seconds: float) -> None:
        """Wait before retrying, but stop waiting at once when asked to stop."""
        waits = {
            asyncio.ensure_future(self.clock.sleep(seconds)),
            asyncio.ensure_future(self._stopping.wait()),
        }
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()

    async def _run(self) -> None:
        backoff = self.first_backoff
        while not self._stopping.is_set():
            self._fetch = asyncio.create_task(
                self.bot.get_updates(
                    offset=self.offset,
                    timeout=self.timeout,
                    allowed_updates=self.allowed_updates,
                )
            )
            try:
                updates = await self._fetch
            except asyncio.CancelledError:
                if self._stopping.is_set():
                    return
                raise
            except InvalidToken:
                self.failures["InvalidToken"] += 1
                log.error("getUpdates: Telegram refused the token; polling stops")
                raise
            except Exception as error:  # anything else, even a bug: polling goes on
                self.failures[type(error).__name__] += 1
                backoff = await self._wait_after(error, backoff)
                continue
            finally:
                self._fetch = None
            backoff = self.first_backoff
            self.polls += 1
            await self._handle_batch(updates)

    async def _wait_after(self, error: Exception, backoff: float) -> float:
        """Wait as the failed poll asks; the backoff for the next failure."""
        if isinstance(error, RetryAfter):
            wait = _seconds(error.retry_after) + self.retry_slack
            log.warning("getUpdates: Telegram asks to wait %.1f s", wait)
            await self._pause(wait)
            return backoff
        if isinstance(error, TimedOut):
            return backoff  # a long poll cut by a slow network: ask again at once
        if isinstance(error, Conflict):
            log.error("getUpdates: another process polls with the same token")
        else:
            log.warning("getUpdates failed (%s); retrying in %.0f s", type(error).__name__, backoff)
        await self._pause(backoff)
        return min(backoff * 2, self.max_backoff)

    async def _handle_batch(self, updates: Sequence[Update]) -> None:
        """Hand the batch over, then move the offset past it: an error that escaped the
        handler is logged, never a reason to ask for the same updates forever."""
        if not updates:
            return
        try:
            await self.handle(updates)
        except Exception as error:
            log.error(
                "updates %s to %s: %s escaped their handler",
                updates[0].update_id,
                updates[-1].update_id,
                type(error).__name__,
            )
        self.offset = max(self.offset or 0, updates[-1].update_id + 1)
