"""Announcements: a coordinator's message to many, now or at a chosen time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.database import Connection, fetch_all, fetch_one, from_db, to_db


@dataclass(frozen=True)
class Announcement:
    id: int
    author_id: int | None
    audience: str  # "area" or "focal_points"
    area: str | None
    text: str
    send_at: datetime
    cancelled: bool

    @property
    def batch(self) -> str:
        """The outbox batch of its messages (also what /diffusion takes)."""
        return f"ANN-{self.id}"


def _announcement(row: object) -> Announcement:
    return Announcement(
        row["id"],  # type: ignore[index]
        row["author_id"],  # type: ignore[index]
        row["audience"],  # type: ignore[index]
        row["area"],  # type: ignore[index]
        row["text"],  # type: ignore[index]
        from_db(row["send_at"]),  # type: ignore[index]
        row["cancelled_at"] is not None,  # type: ignore[index]
    )


_COLUMNS = "id, author_id, audience, area, text, send_at, cancelled_at"


async def create(
    conn: Connection,
    author_id: int,
    audience: str,
    area: str | None,
    text: str,
    send_at: datetime,
    now: datetime,
) -> Announcement:
    row = await fetch_one(
        conn,
        "INSERT INTO announcements (author_id, audience, area, text, send_at, created_at)"
        f" VALUES (?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
        (author_id, audience, area, text, to_db(send_at), to_db(now)),
    )
    assert row is not None
    return _announcement(row)


async def get(conn: Connection, announcement_id: int) -> Announcement | None:
    row = await fetch_one(
        conn, f"SELECT {_COLUMNS} FROM announcements WHERE id = ?", (announcement_id,)
    )
    return _announcement(row) if row else None


async def scheduled(conn: Connection, now: datetime) -> list[Announcement]:
    """Announcements still to be sent, soonest first."""
    rows = await fetch_all(
        conn,
        f"SELECT {_COLUMNS} FROM announcements WHERE cancelled_at IS NULL AND send_at > ?"
        " ORDER BY send_at, id",
        (to_db(now),),
    )
    return [_announcement(r) for r in rows]


async def cancel(conn: Connection, announcement_id: int, now: datetime) -> bool:
    cursor = await conn.execute(
        "UPDATE announcements SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL",
        (to_db(now), announcement_id),
    )
    return cursor.rowcount == 1
