"""Wiring: one place that opens the database, loads catalogs and builds the engine."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.clock import Clock, SystemClock
from bot.engine import Conversations
from bot.i18n import Catalogs
from bot.settings import Settings
from handlers import build_features
from storage import roles
from storage.database import Database

log = logging.getLogger(__name__)

TELEGRAM = "telegram"


@dataclass
class Kibaru:
    settings: Settings
    clock: Clock
    db: Database
    catalogs: Catalogs
    conversations: Conversations

    @classmethod
    async def open(cls, settings: Settings, clock: Clock | None = None) -> Kibaru:
        clock = clock or SystemClock()
        db = await Database.open(settings.database_path, now=clock.now())
        async with db.transaction() as conn:
            await roles.ensure_coordinators(
                conn, TELEGRAM, [str(a) for a in settings.admins], clock.now()
            )
        catalogs = Catalogs(settings.timezone)
        conversations = Conversations(db, catalogs, settings, clock, build_features(catalogs))
        log.info(
            "Kibaru ready: database schema v%s, %d coordinator(s) from KIBARU_ADMINS",
            await db.schema_version(),
            len(settings.admins),
        )
        return cls(settings, clock, db, catalogs, conversations)

    async def close(self) -> None:
        await self.db.close()
