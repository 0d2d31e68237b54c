"""Time-driven work (APScheduler): each job reads and writes the database, which stays the
source of truth, so a restart loses nothing but a wait."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import Kibaru
from handlers.exports.purge import purge_exports
from handlers.report.flow import purge_expired_drafts
from handlers.review.queue import escalate_overdue
from handlers.sessions.rule import create_from_rules

log = logging.getLogger(__name__)


class Jobs:
    def __init__(self, kibaru: Kibaru) -> None:
        self.kibaru = kibaru
        self.scheduler = AsyncIOScheduler(timezone=kibaru.settings.timezone)

    def add(self, name: str, every: timedelta, job: Callable[[], Awaitable[object]]) -> None:
        async def run() -> None:
            try:
                result = await job()
                log.info("job %s done (%s)", name, result)
            except Exception as error:  # a failed run is retried at the next interval
                log.error("job %s failed: %s", name, type(error).__name__)

        self.scheduler.add_job(
            run,
            "interval",
            seconds=every.total_seconds(),
            id=name,
            next_run_time=self.kibaru.clock.now(),  # once at start-up: catch up after downtime
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
        self.add(
            "purge_exports",
            timedelta(hours=1),
            lambda: purge_exports(
                self.kibaru.db, self.kibaru.clock, self.kibaru.settings.exports_dir
            ),
        )
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
