"""Time-driven work (APScheduler): each job reads and writes the database, which stays the
source of truth, so a restart loses nothing but a wait."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import Kibaru
from bot.settings import ReportTime
from handlers.bulletins.delivery import purge_charts, run_due
from handlers.bulletins.schedule import MONTHLY, WEEKLY
from handlers.exports.purge import purge_exports
from handlers.report.flow import purge_expired_drafts
from handlers.review.queue import escalate_overdue
from handlers.sessions.rule import create_from_rules

log = logging.getLogger(__name__)


#: how often the scheduler wakes the outbox sender
OUTBOX_TICK = timedelta(seconds=30)

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def report_trigger(kind: str, when: ReportTime, kibaru: Kibaru) -> CronTrigger:
    """The cron trigger of a periodic report, in the bot's time zone."""
    zone = kibaru.settings.timezone
    if kind == WEEKLY:
        return CronTrigger(
            day_of_week=_WEEKDAYS[when.day], hour=when.at.hour, minute=when.at.minute, timezone=zone
        )
    return CronTrigger(day=when.day, hour=when.at.hour, minute=when.at.minute, timezone=zone)


class Jobs:
    def __init__(self, kibaru: Kibaru, kick: Callable[[], None] | None = None) -> None:
        """`kick` wakes the channel's outbox sender: after a job queued messages, and every
        OUTBOX_TICK. The sender also waits on its own for the earliest due row (to the
        second, which a tick cannot do); the tick brings in rows another process queued, and
        covers a sender that missed a wake-up."""
        self.kibaru = kibaru
        self.scheduler = AsyncIOScheduler(timezone=kibaru.settings.timezone)
        #: tells the outbox sender that a job queued messages (else it looks within seconds)
        self.kick = kick

    def add(
        self,
        name: str,
        every: timedelta | BaseTrigger,
        job: Callable[[], Awaitable[object]],
    ) -> None:
        """Run `job` every interval, or on a trigger's times; and once at start-up, to catch
        up after downtime."""

        async def run() -> None:
            try:
                result = await job()
                if result is not None:  # the outbox tick, every 30 s, has nothing to say
                    log.info("job %s done (%s)", name, result)
            except Exception as error:  # a failed run is retried at the next interval
                log.error("job %s failed: %s", name, type(error).__name__)
                return
            if result and self.kick is not None:
                self.kick()

        trigger = (
            IntervalTrigger(seconds=every.total_seconds(), timezone=self.kibaru.settings.timezone)
            if isinstance(every, timedelta)
            else every
        )
        self.scheduler.add_job(
            run,
            trigger,
            id=name,
            # once at start-up, to catch up after downtime: APScheduler waits on the real
            # clock, whatever time the bot's clock (a test's manual one) shows
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )

    def start(self) -> None:
        self.add(
            "purge_expired_drafts",
            timedelta(hours=1),
            lambda: purge_expired_drafts(self.kibaru.db, self.kibaru.clock),
        )
        self.add(
            "escalate_overdue_reviews",
            timedelta(minutes=5),
            lambda: escalate_overdue(
                self.kibaru.db, self.kibaru.clock, self.kibaru.settings, self.kibaru.catalogs
            ),
        )
        self.add(
            "session_rules",
            timedelta(hours=1),
            lambda: create_from_rules(
                self.kibaru.db, self.kibaru.clock, self.kibaru.settings, self.kibaru.catalogs
            ),
        )
        self._bulletins()
        if self.kick is not None:
            wake = self.kick

            async def tick() -> None:
                wake()

            self.add("outbox_tick", OUTBOX_TICK, tick)
        self.add(
            "purge_exports",
            timedelta(hours=1),
            lambda: purge_exports(
                self.kibaru.db, self.kibaru.clock, self.kibaru.settings.exports_dir
            ),
        )
        self.scheduler.start()

    def _bulletins(self) -> None:
        """The weekly report and the monthly bulletin at their hour; at start-up, which
        sends one missed while the bot was down; and hourly, which retries a run that failed
        (`run_due` decides what is due, so running it more often never sends more)."""
        kibaru = self.kibaru
        for kind, when in (
            (WEEKLY, kibaru.settings.weekly_report),
            (MONTHLY, kibaru.settings.monthly_bulletin),
        ):
            if when is None:
                continue
            self.add(
                f"{kind}_report",
                OrTrigger(
                    [
                        report_trigger(kind, when, kibaru),
                        IntervalTrigger(hours=1, timezone=kibaru.settings.timezone),
                    ]
                ),
                partial(run_due, kibaru.db, kibaru.clock, kibaru.settings, kibaru.catalogs, kind),
            )
        self.add(
            "purge_bulletin_charts",
            timedelta(hours=1),
            lambda: purge_charts(kibaru.db, kibaru.clock),
        )

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
