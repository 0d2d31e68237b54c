"""Keeping a copy of the files reporters send, in `KIBARU_MEDIA_DIR`.

A Telegram file is only reachable through the Bot API while Telegram keeps it, and the
analysts may need it weeks later, or outside Telegram. Files are fetched in the background,
after the reporter has been answered, so a 20 MB video on a slow link never holds up anyone's
conversation; what is still pending at a restart is fetched then. A download that fails in a
way that may pass (a network error, a timeout, 5xx, 429) is tried again with a growing wait on
the clock; one Telegram refuses (an expired file id, a file too big) waits for a restart.
A file is written under a temporary name and flushed to the disk before it gets its name and the
database records it (`bot.files.make_durable`): a crash or a power cut mid-way leaves it to be
fetched again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from pathlib import Path

from telegram import Bot
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError

from bot.app import TELEGRAM, Kibaru
from bot.files import make_durable, partial_path
from storage import reports
from storage.database import fetch_one

log = logging.getLogger(__name__)

#: the Bot API serves files up to this size to bots
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
_BATCH = 10
#: tries of one file before it waits for a restart; the waits double from _FIRST_BACKOFF s
_ATTEMPTS = 8
_FIRST_BACKOFF = 2.0


class MediaDownloads:
    def __init__(self, kibaru: Kibaru, bot: Bot) -> None:
        self.kibaru = kibaru
        self.bot = bot
        self.folder = kibaru.settings.media_dir
        self._task: asyncio.Task[None] | None = None
        self._again = False
        #: files that failed in this process (expired id...): not retried until a restart
        self._failed: set[int] = set()
        #: files to try again (after a failure that may pass): when, and the tries so far
        self._retry_at: dict[int, datetime] = {}
        self._tries: dict[int, int] = {}
        self._wake = asyncio.Event()
        self.downloaded = 0

    def kick(self) -> None:
        """There may be new files: fetch them, unless a sweep is already on its way."""
        if self._task is not None and not self._task.done():
            self._again = True
            self._wake.set()  # a sweep waiting to try a file again looks now
            return
        self._task = asyncio.create_task(self._sweep(), name="kibaru-media-downloads")

    async def idle(self) -> None:
        """Until no sweep is running (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _sweep(self) -> None:
        clock = self.kibaru.clock
        while True:
            self._again = False
            self._wake.clear()
            async with self.kibaru.db.reading() as conn:
                pending = await reports.pending_downloads(
                    conn, _BATCH + len(self._failed) + len(self._retry_at), MAX_DOWNLOAD_BYTES
                )
            now = clock.now()
            ids = {m.id for m in pending}
            self._retry_at = {
                k: at for k, at in self._retry_at.items() if k in ids and k not in self._failed
            }
            todo = [
                m
                for m in pending
                if m.channel == TELEGRAM
                and m.id not in self._failed
                and self._retry_at.get(m.id, now) <= now
            ]
            for item in todo:
                await self._fetch(item.id, item.file_id, item.kind)
            if todo or self._again:
                continue
            if not self._retry_at:
                return
            wait = (min(self._retry_at.values()) - now).total_seconds()
            waits = {
                asyncio.ensure_future(clock.sleep(wait)),
                asyncio.ensure_future(self._wake.wait()),
            }
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waits:
                    waiter.cancel()

    async def _fetch(self, media_id: int, file_id: str, kind: str) -> None:
        partial: Path | None = None
        try:
            remote = await self.bot.get_file(file_id)
            suffix = Path(remote.file_path or "").suffix or ".bin"
            await asyncio.to_thread(self.folder.mkdir, parents=True, exist_ok=True)
            path = self.folder / f"{media_id:08d}-{kind}{suffix}"
            partial = partial_path(path)
            await remote.download_to_drive(partial)
            await asyncio.to_thread(make_durable, partial, path)
        except (BadRequest, Forbidden, InvalidToken, OSError) as error:
            self._failed.add(media_id)
            self._retry_at.pop(media_id, None)
            self._tries.pop(media_id, None)
            log.warning("media %s not downloaded: %s", media_id, type(error).__name__)
            if partial is not None:
                await asyncio.to_thread(partial.unlink, missing_ok=True)
            return
        except TelegramError as error:  # network errors, timeouts, 5xx, 429: may pass
            if partial is not None:
                await asyncio.to_thread(partial.unlink, missing_ok=True)
            self._try_again(media_id, error)
            return
        self._retry_at.pop(media_id, None)
        self._tries.pop(media_id, None)
        async with self.kibaru.db.transaction() as conn:
            still_wanted = await fetch_one(
                conn, "SELECT 1 FROM report_media WHERE id = ?", (media_id,)
            )
            if still_wanted:
                await reports.set_local_path(conn, media_id, str(path))
        if not still_wanted:  # its draft was dropped while it downloaded
            await asyncio.to_thread(path.unlink, missing_ok=True)
            return
        self.downloaded += 1

    def _try_again(self, media_id: int, error: TelegramError) -> None:
        tries = self._tries.get(media_id, 0) + 1
        self._tries[media_id] = tries
        if tries >= _ATTEMPTS:
            self._failed.add(media_id)
            self._retry_at.pop(media_id, None)
            log.warning(
                "media %s not downloaded after %d tries: %s", media_id, tries, type(error).__name__
            )
            return
        wait = _FIRST_BACKOFF * 2 ** (tries - 1)
        if isinstance(error, RetryAfter):
            after = error.retry_after
            wait = after.total_seconds() if isinstance(after, timedelta) else float(after)
        self._retry_at[media_id] = self.kibaru.clock.now() + timedelta(seconds=wait)
        log.info(
            "media %s: %s, try %d; again in %.0f s", media_id, type(error).__name__, tries, wait
        )
