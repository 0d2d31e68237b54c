"""Incident reports: confirmed reports and their references, media, possible duplicates, drafts.

Every function runs inside the caller's transaction (`Database.transaction()`, or `reading()`
for the reads), so a report is committed together with the conversation step that confirmed
it, and nothing here ever begins or commits. Values reach SQL only as parameters.

Privacy: `reporter_id` is kept only to send the reporter feedback. Unlinking it (`/effacer`,
or the user row deleted) also drops the contact the reporter had chosen (a trigger of
migration 0002), so what stays is an anonymous report.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from storage.database import Connection, fetch_all, fetch_one, from_db, to_db

#: Possible duplicates are looked for among the reports of this window before a new one.
SIMILAR_WINDOW = timedelta(hours=24)


class Status(StrEnum):
    """Where a report is in its review; every report starts as `received`."""

    RECEIVED = "received"
    UNDER_REVIEW = "under_review"
    VALIDATED = "validated"
    REJECTED = "rejected"
    NEEDS_DETAILS = "needs_details"


class Contact(StrEnum):
    """How the analysts may reach the reporter; anonymous unless the reporter chooses."""

    ANONYMOUS = "anonymous"
    VIA_BOT = "via_bot"
    PHONE = "phone"


class Purpose(StrEnum):
    """Why a file came with a report: it tells what happened, or it is evidence."""

    DESCRIPTION = "description"
    EVIDENCE = "evidence"


@dataclass(frozen=True, kw_only=True)
class NewReport:
    """What the reporter answered, ready to be stored (codes, not labels).

    `precision` and `day_period` take the values of `handlers.report.places.Precision` and
    `handlers.report.when.DayPeriod` (plain strings here: storage does not import handlers);
    the database's CHECK constraints reject anything else.
    """

    category: str
    occurred_on: date
    precision: str
    contact: str
    language: str
    occurred_time: str | None = None
    day_period: str | None = None
    region: str | None = None
    cercle: str | None = None
    locality: str | None = None
    place_detail: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    description: str | None = None
    #: None means "don't know", which is not 0
    killed: int | None = None
    injured: int | None = None
    missing: int | None = None
    displaced: int | None = None
    #: only when contact is "phone" (the database enforces it both ways)
    contact_phone: str | None = None


@dataclass(frozen=True, kw_only=True)
class Report(NewReport):
    """A stored report: the answers plus what Kibaru gave it."""

    id: int
    reference: str
    #: None for a report whose reporter used /effacer
    reporter_id: int | None
    status: Status
    created_at: datetime


@dataclass(frozen=True)
class MediaItem:
    """A file sent with a report, or with a draft while `report_id` is None."""

    id: int
    report_id: int | None
    draft_owner: int | None
    purpose: Purpose
    kind: str
    channel: str
    file_id: str
    size: int | None
    duration: int | None
    mime_type: str | None
    file_name: str | None
    #: None until the file is downloaded into KIBARU_MEDIA_DIR
    local_path: str | None
    created_at: datetime


@dataclass(frozen=True)
class Draft:
    """A report in progress: the answers so far and the step the reporter was at."""

    answers: dict[str, Any]
    step: str
    updated_at: datetime


_NEW_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(NewReport))
_REPORT_COLUMNS = ", ".join(
    ("id", "reference", "reporter_id", *_NEW_COLUMNS, "status", "created_at")
)
_INSERT_REPORT = (
    f"INSERT INTO reports (reference, reporter_id, {', '.join(_NEW_COLUMNS)}, created_at)"
    f" VALUES ({', '.join('?' * (len(_NEW_COLUMNS) + 3))})"
    f" RETURNING {_REPORT_COLUMNS}"
)
_MEDIA_COLUMNS = (
    "id, report_id, draft_owner, purpose, kind, channel, file_id, size, duration, mime_type,"
    " file_name, local_path, created_at"
)


#: the columns `from_row` reads, for queries of other modules (the review queue)
COLUMNS = _REPORT_COLUMNS


def format_reference(year: int, number: int) -> str:
    """The reference a reporter is given, e.g. `ML-2026-000123`: country, year, number."""
    return f"ML-{year:04d}-{number:06d}"


def _report(row: sqlite3.Row) -> Report:
    values = {name: row[name] for name in _NEW_COLUMNS}
    values["occurred_on"] = date.fromisoformat(row["occurred_on"])
    return Report(
        id=row["id"],
        reference=row["reference"],
        reporter_id=row["reporter_id"],
        status=Status(row["status"]),
        created_at=from_db(row["created_at"]),
        **values,
    )


def from_row(row: sqlite3.Row) -> Report:
    """A report from a row selected with `COLUMNS`."""
    return _report(row)


def _media(row: sqlite3.Row) -> MediaItem:
    return MediaItem(
        id=row["id"],
        report_id=row["report_id"],
        draft_owner=row["draft_owner"],
        purpose=Purpose(row["purpose"]),
        kind=row["kind"],
        channel=row["channel"],
        file_id=row["file_id"],
        size=row["size"],
        duration=row["duration"],
        mime_type=row["mime_type"],
        file_name=row["file_name"],
        local_path=row["local_path"],
        created_at=from_db(row["created_at"]),
    )


async def create(
    conn: Connection, report: NewReport, reporter_id: int | None, now: datetime, timezone: tzinfo
) -> Report:
    """Store a confirmed report and give it the next reference of its year.

    The year is `now`'s in `timezone` (KIBARU_TIMEZONE): a report sent at 00:30 on 1 January
    in Mali belongs to the new year whatever UTC says. The number comes from an UPSERT on the
    year's counter in the caller's write transaction, so concurrent reports get consecutive,
    distinct numbers and a rolled-back report leaves no gap.

    The reporter's draft media become the report's, their draft is deleted, and earlier
    reports that look like the same event (see `_link_similar`) are linked for the validators.
    """
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware")
    year = now.astimezone(timezone).year
    counter = await fetch_one(
        conn,
        "INSERT INTO report_counters (year, last) VALUES (?, 1)"
        " ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
        (year,),
    )
    assert counter is not None
    values = [getattr(report, name) for name in _NEW_COLUMNS]
    values[_NEW_COLUMNS.index("occurred_on")] = report.occurred_on.isoformat()
    row = await fetch_one(
        conn,
        _INSERT_REPORT,
        (format_reference(year, int(counter[0])), reporter_id, *values, to_db(now)),
    )
    assert row is not None
    stored = _report(row)
    if reporter_id is not None:
        await conn.execute(
            "UPDATE report_media SET report_id = ?, draft_owner = NULL WHERE draft_owner = ?",
            (stored.id, reporter_id),
        )
        await delete_draft(conn, reporter_id)
    await _link_similar(conn, stored, now)
    return stored


async def _link_similar(conn: Connection, report: Report, now: datetime) -> None:
    """Link the reports of the 24 hours before `now` with the same category and place.

    The place is the cercle (or Bamako commune) when the report has one, else the region;
    a report with neither (a pin alone) is not compared. Any reporter's reports count: the
    same event seen by two people is what validators need to know about.
    """
    if report.cercle is not None:
        place_clause, place = "cercle = ?", report.cercle
    elif report.region is not None:
        place_clause, place = "region = ?", report.region
    else:
        return
    await conn.execute(
        "INSERT OR IGNORE INTO report_links (report_id, similar_to)"
        f" SELECT ?, id FROM reports WHERE category = ? AND {place_clause}"
        " AND created_at >= ? AND created_at <= ? AND id <> ?",
        (
            report.id,
            report.category,
            place,
            to_db(now - SIMILAR_WINDOW),
            to_db(now),
            report.id,
        ),
    )


async def get(conn: Connection, report_id: int) -> Report | None:
    row = await fetch_one(conn, f"SELECT {_REPORT_COLUMNS} FROM reports WHERE id = ?", (report_id,))
    return _report(row) if row else None


async def by_reference(conn: Connection, reference: str) -> Report | None:
    """The report with this reference; spaces around it and lower case are forgiven."""
    row = await fetch_one(
        conn,
        f"SELECT {_REPORT_COLUMNS} FROM reports WHERE reference = ?",
        (reference.strip().upper(),),
    )
    return _report(row) if row else None


async def of_reporter(conn: Connection, reporter_id: int, limit: int = 20) -> list[Report]:
    """A reporter's reports, newest first (/mes_signalements)."""
    rows = await fetch_all(
        conn,
        f"SELECT {_REPORT_COLUMNS} FROM reports WHERE reporter_id = ?"
        " ORDER BY created_at DESC, id DESC LIMIT ?",
        (reporter_id, limit),
    )
    return [_report(r) for r in rows]


async def similar(conn: Connection, report_id: int) -> list[Report]:
    """The possible duplicates of a report, oldest first.

    Links are stored from the newer report to the earlier one; both directions are returned,
    so a validator looking at the first report of an event also sees the later ones.
    """
    rows = await fetch_all(
        conn,
        f"SELECT {_REPORT_COLUMNS} FROM reports WHERE id IN ("
        " SELECT similar_to FROM report_links WHERE report_id = ?"
        " UNION SELECT report_id FROM report_links WHERE similar_to = ?)"
        " ORDER BY created_at, id",
        (report_id, report_id),
    )
    return [_report(r) for r in rows]


async def count_since(conn: Connection, reporter_id: int, since: datetime) -> int:
    """How many reports a reporter confirmed since a moment (flood control)."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM reports WHERE reporter_id = ? AND created_at >= ?",
        (reporter_id, to_db(since)),
    )
    return int(row[0]) if row else 0


async def unlink_reporter(conn: Connection, user_id: int) -> int:
    """Make a user's reports anonymous (/effacer): they stay, without a way back to the user.

    The trigger `reports_reporter_unlinked` also sets their contact to anonymous and drops any
    phone number. Returns how many reports were unlinked.
    """
    cursor = await conn.execute(
        "UPDATE reports SET reporter_id = NULL WHERE reporter_id = ?", (user_id,)
    )
    return cursor.rowcount


async def media_of(conn: Connection, report_id: int) -> list[MediaItem]:
    """A report's files, in the order they were sent."""
    rows = await fetch_all(
        conn,
        f"SELECT {_MEDIA_COLUMNS} FROM report_media WHERE report_id = ? ORDER BY id",
        (report_id,),
    )
    return [_media(r) for r in rows]


async def add_draft_media(
    conn: Connection,
    owner_id: int,
    purpose: str,
    kind: str,
    channel: str,
    file_id: str,
    size: int | None,
    duration: int | None,
    mime_type: str | None,
    file_name: str | None,
    now: datetime,
) -> int:
    """Keep a file sent during a draft (it becomes the report's on confirm); returns its id."""
    row = await fetch_one(
        conn,
        "INSERT INTO report_media (draft_owner, purpose, kind, channel, file_id, size, duration,"
        " mime_type, file_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            owner_id,
            str(purpose),
            kind,
            channel,
            file_id,
            size,
            duration,
            mime_type,
            file_name,
            to_db(now),
        ),
    )
    assert row is not None
    return int(row[0])


async def draft_media(conn: Connection, owner_id: int) -> list[MediaItem]:
    """The files of a user's draft, in the order they were sent."""
    rows = await fetch_all(
        conn,
        f"SELECT {_MEDIA_COLUMNS} FROM report_media WHERE draft_owner = ? ORDER BY id",
        (owner_id,),
    )
    return [_media(r) for r in rows]


async def drop_draft_media(
    conn: Connection, owner_id: int, purpose: str | None = None
) -> list[str]:
    """Forget a draft's files (all, or those of one purpose, e.g. when an answer is changed).

    Returns the local paths of those already downloaded: the caller deletes the files once
    the transaction is committed. Call it before `users.delete`, whose cascade removes the
    rows without telling which files to delete.
    """
    rows = await fetch_all(
        conn,
        "DELETE FROM report_media WHERE draft_owner = ? AND (? IS NULL OR purpose = ?)"
        " RETURNING local_path",
        (owner_id, purpose, purpose),
    )
    return [r[0] for r in rows if r[0] is not None]


async def set_local_path(conn: Connection, media_id: int, path: str) -> None:
    """Record where a file was downloaded, which takes it off the download queue."""
    await conn.execute("UPDATE report_media SET local_path = ? WHERE id = ?", (path, media_id))


async def pending_downloads(
    conn: Connection, limit: int, max_size: int | None = None
) -> list[MediaItem]:
    """Files not downloaded yet, oldest first.

    `max_size` (bytes) leaves out files known to be too big to fetch (the Bot API serves up
    to 20 MB), which would otherwise stay at the head of the queue forever.
    """
    rows = await fetch_all(
        conn,
        f"SELECT {_MEDIA_COLUMNS} FROM report_media WHERE local_path IS NULL"
        " AND (? IS NULL OR size IS NULL OR size <= ?) ORDER BY id LIMIT ?",
        (max_size, max_size, limit),
    )
    return [_media(r) for r in rows]


async def save_draft(
    conn: Connection, user_id: int, answers: dict[str, Any], step: str, now: datetime
) -> None:
    """Keep (or replace) a user's report in progress; `answers` must be JSON-serializable."""
    await conn.execute(
        "INSERT INTO report_drafts (user_id, answers, step, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET answers = excluded.answers,"
        " step = excluded.step, updated_at = excluded.updated_at",
        (user_id, json.dumps(answers, ensure_ascii=False), step, to_db(now)),
    )


async def load_draft(conn: Connection, user_id: int) -> Draft | None:
    row = await fetch_one(
        conn, "SELECT answers, step, updated_at FROM report_drafts WHERE user_id = ?", (user_id,)
    )
    if row is None:
        return None
    return Draft(dict(json.loads(row["answers"])), row["step"], from_db(row["updated_at"]))


async def delete_draft(conn: Connection, user_id: int) -> None:
    """Forget a user's draft row (its media are dropped separately: `drop_draft_media`)."""
    await conn.execute("DELETE FROM report_drafts WHERE user_id = ?", (user_id,))


async def expired_drafts(conn: Connection, older_than: datetime) -> list[int]:
    """Users whose draft was last touched before `older_than` (the caller drops them).

    Also users who have draft media older than that but no draft row at all, so a file left
    behind by a draft that ended some other way is not kept forever.
    """
    cutoff = to_db(older_than)
    rows = await fetch_all(
        conn,
        "SELECT user_id FROM report_drafts WHERE updated_at < ?"
        " UNION SELECT draft_owner FROM report_media"
        " WHERE draft_owner IS NOT NULL AND created_at < ?"
        " AND draft_owner NOT IN (SELECT user_id FROM report_drafts)"
        " ORDER BY 1",
        (cutoff, cutoff),
    )
    return [int(r[0]) for r in rows]
