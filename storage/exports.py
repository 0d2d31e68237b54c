"""Export requests: what a coordinator asked for, and how far its building has gone.

A request is recorded in the coordinator's own turn and built later by the export worker
(handlers/exports/worker.py) in short transactions of its own; the row is the only state, so
a restart finds a request half built ("building") and builds it again from the start. Like
the other storage modules, nothing here begins or commits: the caller's transaction does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from storage.database import Connection, fetch_all, fetch_one, from_db, to_db


class Status(StrEnum):
    QUEUED = "queued"
    BUILDING = "building"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Job:
    id: int
    user_id: int
    channel: str
    chat_id: str
    language: str
    dataset: str
    format: str
    #: the first day of the period, and the day after its last (local dates)
    start: date
    end: date
    status: Status
    attempts: int
    rows_total: int | None
    rows_done: int
    file_path: str | None
    requested_at: datetime


_COLUMNS = (
    "id, user_id, channel, chat_id, language, dataset, format, period_start, period_end,"
    " status, attempts, rows_total, rows_done, file_path, requested_at"
)


def _job(row: object) -> Job:
    return Job(
        id=row["id"],  # type: ignore[index]
        user_id=row["user_id"],  # type: ignore[index]
        channel=row["channel"],  # type: ignore[index]
        chat_id=row["chat_id"],  # type: ignore[index]
        language=row["language"],  # type: ignore[index]
        dataset=row["dataset"],  # type: ignore[index]
        format=row["format"],  # type: ignore[index]
        start=date.fromisoformat(row["period_start"]),  # type: ignore[index]
        end=date.fromisoformat(row["period_end"]),  # type: ignore[index]
        status=Status(row["status"]),  # type: ignore[index]
        attempts=row["attempts"],  # type: ignore[index]
        rows_total=row["rows_total"],  # type: ignore[index]
        rows_done=row["rows_done"],  # type: ignore[index]
        file_path=row["file_path"],  # type: ignore[index]
        requested_at=from_db(row["requested_at"]),  # type: ignore[index]
    )


# --- what the /export command uses --------------------------------------------------------


async def request(
    conn: Connection,
    *,
    user_id: int,
    channel: str,
    chat_id: str,
    language: str,
    dataset: str,
    format: str,
    start: date,
    end: date,
    now: datetime,
) -> int:
    """Record a request; its id."""
    cursor = await conn.execute(
        "INSERT INTO exports (user_id, channel, chat_id, language, dataset, format,"
        " period_start, period_end, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            user_id,
            channel,
            chat_id,
            language,
            dataset,
            format,
            start.isoformat(),
            end.isoformat(),
            to_db(now),
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def get(conn: Connection, job_id: int) -> Job | None:
    row = await fetch_one(conn, f"SELECT {_COLUMNS} FROM exports WHERE id = ?", (job_id,))
    return _job(row) if row else None


async def unfinished_of(conn: Connection, user_id: int) -> Job | None:
    """The person's request still waiting or being built, if any (one at a time each)."""
    row = await fetch_one(
        conn,
        f"SELECT {_COLUMNS} FROM exports WHERE user_id = ? AND status IN ('queued', 'building')"
        " ORDER BY id LIMIT 1",
        (user_id,),
    )
    return _job(row) if row else None


# --- what the worker uses ----------------------------------------------------------------


async def recover(conn: Connection) -> int:
    """Requests a crash or a stop left half built go back to the queue, to be built anew."""
    cursor = await conn.execute(
        "UPDATE exports SET status = 'queued', rows_done = 0 WHERE status = 'building'"
    )
    return cursor.rowcount


async def next_queued(conn: Connection) -> Job | None:
    row = await fetch_one(
        conn,
        f"SELECT {_COLUMNS} FROM exports WHERE status = 'queued' ORDER BY id LIMIT 1",
    )
    return _job(row) if row else None


async def start(conn: Connection, job_id: int, rows_total: int, now: datetime) -> bool:
    """Claim a queued request for building; False if it is gone or claimed already."""
    cursor = await conn.execute(
        "UPDATE exports SET status = 'building', attempts = attempts + 1, rows_total = ?,"
        " rows_done = 0, started_at = ? WHERE id = ? AND status = 'queued'",
        (rows_total, to_db(now), job_id),
    )
    return cursor.rowcount == 1


async def progress(conn: Connection, job_id: int, rows_done: int) -> None:
    await conn.execute(
        "UPDATE exports SET rows_done = ? WHERE id = ? AND status = 'building'",
        (rows_done, job_id),
    )


async def finish(
    conn: Connection, job_id: int, file_path: str, rows_done: int, now: datetime
) -> bool:
    """The file is written; False if the request is gone meanwhile (its owner's /effacer)."""
    cursor = await conn.execute(
        "UPDATE exports SET status = 'done', file_path = ?, rows_done = ?, finished_at = ?,"
        " error = NULL WHERE id = ? AND status = 'building'",
        (file_path, rows_done, to_db(now), job_id),
    )
    return cursor.rowcount == 1


async def fail(conn: Connection, job_id: int, error: str, now: datetime) -> bool:
    cursor = await conn.execute(
        "UPDATE exports SET status = 'failed', error = ?, finished_at = ?"
        " WHERE id = ? AND status IN ('queued', 'building')",
        (error[:64], to_db(now), job_id),
    )
    return cursor.rowcount == 1


# --- what the purge uses -----------------------------------------------------------------


async def to_purge(
    conn: Connection, finished_before: datetime, given_up_before: datetime, file_key: str
) -> list[int]:
    """Finished requests whose files may go: finished before `finished_before` and whose file
    is no longer waiting in the outbox (`file_key` names that row, with `{id}` in it), or
    finished before `given_up_before` whatever the outbox says (a row retried for days must
    not keep a copy of the data on the disk for ever)."""
    prefix, _, suffix = file_key.partition("{id}")
    rows = await fetch_all(
        conn,
        "SELECT e.id FROM exports e WHERE e.purged_at IS NULL AND e.finished_at IS NOT NULL"
        " AND e.finished_at < ? AND (e.finished_at < ? OR NOT EXISTS (SELECT 1 FROM outbox o"
        "  WHERE o.key = ? || e.id || ? AND o.status IN ('queued', 'sending')))",
        (to_db(finished_before), to_db(given_up_before), prefix, suffix),
    )
    return [int(r["id"]) for r in rows]


async def mark_purged(conn: Connection, job_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE exports SET purged_at = ?, file_path = NULL WHERE id = ?", (to_db(now), job_id)
    )


async def with_files(conn: Connection) -> set[int]:
    """Requests whose folder must stay: not finished yet, or finished and not purged."""
    rows = await fetch_all(conn, "SELECT id FROM exports WHERE purged_at IS NULL")
    return {int(r["id"]) for r in rows}
