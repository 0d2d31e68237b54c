"""TEMPORARY stand-in with the agreed interface, replaced by the outbox branch at merge."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from storage.database import Connection, fetch_all, fetch_one, to_db


class Status(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Outgoing:
    text: str
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()
    media: tuple[tuple[str, str], ...] = ()
    edit_message_id: int | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "text": self.text,
                "buttons": [[list(b) for b in row] for row in self.buttons],
                "media": [list(m) for m in self.media],
                "edit_message_id": self.edit_message_id,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str) -> Outgoing:
        data: dict[str, Any] = json.loads(raw)
        return cls(
            data["text"],
            tuple(tuple((str(a), str(b)) for a, b in row) for row in data["buttons"]),
            tuple((str(a), str(b)) for a, b in data["media"]),
            data.get("edit_message_id"),
        )


async def enqueue(
    conn: Connection,
    *,
    key: str,
    channel: str,
    chat_id: str,
    outgoing: Outgoing,
    now: datetime,
    kind: str = "message",
    user_id: int | None = None,
    not_before: datetime | None = None,
    batch: str | None = None,
) -> bool:
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO outbox (key, kind, channel, chat_id, user_id, payload,"
        " not_before, batch, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            key,
            kind,
            channel,
            chat_id,
            user_id,
            outgoing.to_json(),
            to_db(not_before) if not_before else None,
            batch,
            to_db(now),
        ),
    )
    return cursor.rowcount == 1


async def cancel(conn: Connection, key: str) -> bool:
    cursor = await conn.execute(
        "UPDATE outbox SET status = 'cancelled' WHERE key = ? AND status = 'queued'", (key,)
    )
    return cursor.rowcount == 1


async def progress(conn: Connection, batch: str) -> dict[Status, int]:
    rows = await fetch_all(
        conn, "SELECT status, COUNT(*) FROM outbox WHERE batch = ? GROUP BY status", (batch,)
    )
    return {Status(r[0]): int(r[1]) for r in rows}


async def sent_message(conn: Connection, key: str) -> tuple[str, int] | None:
    row = await fetch_one(
        conn,
        "SELECT chat_id, sent_message_id FROM outbox WHERE key = ? AND status = 'sent'",
        (key,),
    )
    if row is None or row[1] is None:
        return None
    return str(row[0]), int(row[1])


async def cancel_batch(conn: Connection, batch: str) -> int:
    cursor = await conn.execute(
        "UPDATE outbox SET status = 'cancelled' WHERE batch = ? AND status = 'queued'", (batch,)
    )
    return cursor.rowcount
