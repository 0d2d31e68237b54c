"""The export worker: builds the files coordinators asked for, outside anyone's turn.

The conversation engine handles a batch of updates in one transaction: a file of 100,000
rows built there would hold every other user's answer. So /export only records a request
(storage/exports.py) and a "preparing…" message, and this worker, kicked by the channel once
that turn is committed (and looking again every `nap` seconds in case), builds each request
in turn: it reads `chunk` records at a time in short reads of its own, hands them to the
format's writer in a thread (`asyncio.to_thread`), and between chunks the database and the
event loop are free for everyone else. An export of more than `PROGRESS_ABOVE` rows edits
the "preparing…" message with its progress through the outbox every `PROGRESS_STEP` %,
with at most one such edit waiting at a time (an older one still queued is cancelled, so a
slow chat never gets a backlog of stale percentages). The file then goes out as an outbox
row carrying the file's path (`Outgoing.files`), and `handlers/exports/purge.py` removes it
from the disk some time after it is sent.

State lives in the database: a request being built when the process stops stays
"building", and the next start (`recover`) queues it again and builds it anew from the
first row; the outbox keys make sure the coordinator gets one file, not two. A request that
failed `MAX_ATTEMPTS` times that way (a file that kills the process, say) is given up with
a message instead of being tried for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path

from bot.clock import Clock
from bot.i18n import Catalogs, Translator
from bot.settings import Settings
from handlers.exports.datasets import DATASETS, Cursor, Dataset, Scope
from handlers.exports.formats import FORMATS, Format, Writer
from handlers.exports.texts import (
    failed_text,
    file_key,
    file_text,
    outcome_key,
    progress_key,
    progress_text,
    ready_text,
    refused_text,
    started_key,
    too_large_text,
    what_text,
)
from storage import exports, outbox, roles
from storage.database import Connection, Database
from storage.exports import Job
from storage.outbox import Outgoing
from storage.roles import Role

log = logging.getLogger(__name__)

#: exports longer than this show their progress
PROGRESS_ABOVE = 1000
#: percent between two progress edits
PROGRESS_STEP = 10
#: builds started (crashes included) before a request is given up
MAX_ATTEMPTS = 3
#: the largest file a bot may send through the Bot API (50 MB)
MAX_FILE_BYTES = 50 * 1000 * 1000


def file_name(dataset: str, format_: Format, start: date, end: date) -> str:
    """'kibaru-reports-2026-03.xlsx', 'kibaru-participation-2026.csv',
    'kibaru-reports-2026-01-01_2026-03-31.geojson'."""
    last = end - timedelta(days=1)
    next_month = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    if start.day == 1 and end == next_month:
        label = f"{start:%Y-%m}"
    elif (start.month, start.day) == (1, 1) and end == start.replace(year=start.year + 1):
        label = f"{start:%Y}"
    elif start == last:
        label = start.isoformat()
    else:
        label = f"{start.isoformat()}_{last.isoformat()}"
    return f"kibaru-{dataset}-{label}{format_.suffix}"


def _fresh_folder(folder: Path) -> None:
    """An empty folder for one export (what an interrupted build left is thrown away)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)


class ExportWorker:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        catalogs: Catalogs,
        kick_outbox: Callable[[], None] = lambda: None,
        *,
        chunk: int = 200,
        nap: float = 60.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.catalogs = catalogs
        #: the outbox sender learns of new rows without waiting for its own nap
        self.kick_outbox = kick_outbox
        #: records read (and written) per step: the longest the database is held is one
        #: read of this many rows
        self.chunk = chunk
        #: seconds of real time between looks at the queue when nobody kicks
        self.nap = nap
        self.folder = settings.exports_dir
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: figures for logs and tests
        self.built = 0

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kibaru-exports")

    def kick(self) -> None:
        """A request was recorded (and committed): look at the queue now."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop at once: a request half built stays "building" in the database, and the
        next start builds it again."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        await self.recover()
        failures = 0
        while True:
            self._wake.clear()
            try:
                await self.run_pending()
                failures = 0
            except Exception as error:  # the database or a bug: never stop for good
                failures += 1
                log.error("exports: round failed (%s)", type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.nap * min(failures + 1, 10))

    async def recover(self) -> int:
        async with self.db.transaction() as conn:
            recovered = await exports.recover(conn)
        if recovered:
            log.warning("exports: %d request(s) left half built are built again", recovered)
        return recovered

    async def run_pending(self) -> int:
        """Build every queued request, oldest first; how many were taken up."""
        taken = 0
        while True:
            async with self.db.reading() as conn:
                job = await exports.next_queued(conn)
            if job is None:
                return taken
            await self.build(job)
            taken += 1

    # -- one request ------------------------------------------------------------------------

    async def build(self, job: Job) -> None:
        t = self.catalogs.get(job.language)
        dataset = DATASETS.get(job.dataset)
        format_ = FORMATS.get(job.format)
        scope = Scope(job.start, job.end, t, self.settings.timezone, self.settings.youth_max_age)
        async with self.db.transaction() as conn:
            if dataset is None or format_ is None:  # dropped by an upgrade since the request
                await self._fail(conn, job, t, "unknown_format")
                return
            if job.attempts >= MAX_ATTEMPTS:
                await self._fail(conn, job, t, "too_many_attempts")
                return
            if not await roles.has_role(conn, job.user_id, Role.COORDINATOR):
                await self._fail(conn, job, t, "refused", refused_text(t))
                return
            total = await dataset.count(conn, scope)
            if not await exports.start(conn, job.id, total, self.clock.now()):
                return
        folder = self.folder / str(job.id)
        path = folder / file_name(dataset.name, format_, job.start, job.end)
        what = what_text(t, dataset.name, job.start, job.end, format_.name)
        try:
            await asyncio.to_thread(_fresh_folder, folder)
            if format_.whole is not None:
                async with self.db.reading() as conn:
                    done = await format_.whole(
                        conn,
                        datetime.combine(job.start, time(0), self.settings.timezone),
                        datetime.combine(job.end, time(0), self.settings.timezone),
                        path,
                        self.catalogs,
                        self.settings,
                    )
            else:
                done = await self._write(job, dataset, format_, scope, path, total, what)
            size = await asyncio.to_thread(lambda: path.stat().st_size)
        except Exception as error:
            log.error("export %s failed: %s", job.id, type(error).__name__)
            await self._give_up(job, t, type(error).__name__, folder)
            return
        if size > MAX_FILE_BYTES:
            log.warning("export %s: %d bytes, more than a bot may upload", job.id, size)
            await self._give_up(job, t, "too_large", folder, too_large_text(t))
            return
        async with self.db.transaction() as conn:
            finished = await exports.finish(conn, job.id, str(path), done, self.clock.now())
            if finished:
                await self._deliver(conn, job, t, what, done, path)
        if not finished:  # the request is gone (its owner's /effacer): so is the file
            await asyncio.to_thread(shutil.rmtree, folder, True)
            return
        self.built += 1
        log.info("export %s built: %d rows", job.id, done)
        self.kick_outbox()

    async def _give_up(
        self, job: Job, t: Translator, error: str, folder: Path, text: str | None = None
    ) -> None:
        async with self.db.transaction() as conn:
            await self._fail(conn, job, t, error, text)
        await asyncio.to_thread(shutil.rmtree, folder, True)
        self.kick_outbox()

    async def _write(
        self,
        job: Job,
        dataset: Dataset,
        format_: Format,
        scope: Scope,
        path: Path,
        total: int,
        what: str,
    ) -> int:
        """Write the file chunk by chunk; the number of records written."""
        assert format_.open is not None
        writer: Writer = await asyncio.to_thread(format_.open, path, dataset.table(scope.t))
        done = shown = 0
        cursor: Cursor | None = None
        try:
            while True:
                async with self.db.reading() as conn:
                    records, cursor = await dataset.read(conn, scope, cursor, self.chunk)
                if records:
                    await asyncio.to_thread(writer.write, records)
                    done += len(records)
                if len(records) < self.chunk:
                    break
                if total > PROGRESS_ABOVE:
                    shown = await self._progress(job, scope.t, what, done, total, shown)
        except Exception:
            # The file is thrown away: just let go of it. (Not on cancellation: a chunk may
            # still be being written in its thread; a restart starts a new file anyway.)
            with contextlib.suppress(Exception):
                writer.close()
            raise
        await asyncio.to_thread(writer.close)
        return done

    async def _progress(
        self, job: Job, t: Translator, what: str, done: int, total: int, shown: int
    ) -> int:
        """Edit the "preparing…" message with the percent reached, at each new step; the
        step now shown."""
        percent = min(done * 100 // max(total, 1), 99)
        step = percent - percent % PROGRESS_STEP
        if step <= shown:
            return shown
        async with self.db.transaction() as conn:
            await exports.progress(conn, job.id, done)
            sent = await outbox.sent_message(conn, started_key(job.id))
            if sent is None:  # not delivered yet: no message to edit (the next step tries)
                return shown
            if shown:
                await outbox.cancel(conn, progress_key(job.id, shown))
            await outbox.enqueue(
                conn,
                key=progress_key(job.id, step),
                kind="export",
                channel=job.channel,
                chat_id=sent[0],
                user_id=job.user_id,
                outgoing=Outgoing(progress_text(t, what, step), edit_message_id=sent[1]),
                now=self.clock.now(),
            )
        self.kick_outbox()
        return step

    async def _deliver(
        self, conn: Connection, job: Job, t: Translator, what: str, rows: int, path: Path
    ) -> None:
        """The "preparing…" message becomes "ready", and the file follows."""
        ready = ready_text(t, what, rows)
        about = file_text(t, job.dataset)
        text = about if await self._tell(conn, job, ready) else ready + "\n\n" + about
        await outbox.enqueue(
            conn,
            key=file_key(job.id),
            kind="export",
            channel=job.channel,
            chat_id=job.chat_id,
            user_id=job.user_id,
            outgoing=Outgoing(text, files=(("document", str(path)),)),
            now=self.clock.now(),
        )

    async def _fail(
        self, conn: Connection, job: Job, t: Translator, error: str, text: str | None = None
    ) -> None:
        if not await exports.fail(conn, job.id, error, self.clock.now()):
            return
        message = text or failed_text(t)
        if not await self._tell(conn, job, message):
            await outbox.enqueue(
                conn,
                key=outcome_key(job.id),
                kind="export",
                channel=job.channel,
                chat_id=job.chat_id,
                user_id=job.user_id,
                outgoing=Outgoing(message),
                now=self.clock.now(),
            )

    async def _tell(self, conn: Connection, job: Job, text: str) -> bool:
        """Edit the "preparing…" message to say `text`; False when it was never delivered
        (then it is cancelled if still waiting, and the caller sends `text` anew)."""
        sent = await outbox.sent_message(conn, started_key(job.id))
        if sent is None:
            await outbox.cancel(conn, started_key(job.id))
            return False
        await outbox.enqueue(
            conn,
            key=outcome_key(job.id),
            kind="export",
            channel=job.channel,
            chat_id=sent[0],
            user_id=job.user_id,
            outgoing=Outgoing(text, edit_message_id=sent[1]),
            now=self.clock.now(),
        )
        return True
