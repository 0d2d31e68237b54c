"""Removing export files from the bot's disk once they are sent.

An export is a copy of the network's data: once Telegram has it, the copy on the bot's disk
serves no one and could leak with a stolen disk or backup. The outbox row needs the file
until it is delivered (it holds the path, not the bytes), so a file is removed `KEEP_AFTER`
the export finished and its outbox row is no longer waiting, or `GIVE_UP_AFTER` whatever the
outbox says. Folders of requests that no longer exist (their owner's /effacer) go too.
Runs as an hourly job (bot/scheduler.py).
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import timedelta
from pathlib import Path

from bot.clock import Clock
from handlers.exports.texts import FILE_KEY
from storage import exports
from storage.database import Database

KEEP_AFTER = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=7)


def _export_folders(folder: Path) -> dict[int, Path]:
    if not folder.is_dir():
        return {}
    return {int(p.name): p for p in folder.iterdir() if p.is_dir() and p.name.isdigit()}


async def purge_exports(db: Database, clock: Clock, folder: Path) -> int:
    """Remove what may go; the number of export folders removed."""
    now = clock.now()
    # The folders are listed before the requests are read: a folder is only made for a
    # request already committed, so one listed here and unknown below is truly orphaned.
    found = await asyncio.to_thread(_export_folders, folder)
    async with db.reading() as conn:
        due = await exports.to_purge(conn, now - KEEP_AFTER, now - GIVE_UP_AFTER, FILE_KEY)
        keep = await exports.with_files(conn)
    doomed = [path for job_id, path in found.items() if job_id in due or job_id not in keep]
    for path in doomed:
        await asyncio.to_thread(shutil.rmtree, path, True)
    if due:
        async with db.transaction() as conn:
            for job_id in due:
                await exports.mark_purged(conn, job_id, now)
    return len(doomed)
