"""The outbox: messages to send later or to many, one row per (what, recipient).

Features enqueue inside their own transaction (`async with db.transaction() as conn`), so a
message is queued if and only if what it tells about is committed; the background sender
(bot/outbox/sender.py) delivers the rows and records each one's fate here. A unique `key` per
row makes enqueueing idempotent: a feature that runs twice (a retry, a restart) queues nothing
twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from storage.database import Connection, fetch_all, fetch_one, from_db


class Status(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Outgoing:
    """What to send, whatever the channel; stored as JSON in the row's payload.

    `buttons` are rows of inline (label, callback_data) buttons; `media` are (kind, file_id)
    sent before the text, kind being a `bot.inbound.MediaKind` value; `edit_message_id` turns
    the row into an edit of that earlier message's text and buttons (an alert's status
    changed) instead of a new message. `files` are (kind, local path) uploaded from disk before
    the text (a bulletin's chart, an export): the row holds the path, not the bytes, so the
    file must stay on disk until the row is sent.
    """

    text: str
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()
    media: tuple[tuple[str, str], ...] = ()
    edit_message_id: int | None = None
    files: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> str:
        data: dict[str, Any] = {"text": self.text}
        if self.buttons:
            data["buttons"] = [[list(button) for button in row] for row in self.buttons]
        if self.media:
            data["media"] = [list(item) for item in self.media]
        if self.edit_message_id is not None:
            data["edit_message_id"] = self.edit_message_id
        if self.files:
            data["files"] = [list(item) for item in self.files]
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Outgoing:
        data = json.loads(text)
        return cls(
            text=data["text"],
            buttons=tuple(
                tuple((str(label), str(key)) for label, key in row)
                for row in data.get("buttons", ())
            ),
            media=tuple((str(kind), str(file_id)) for kind, file_id in data.get("media", ())),
            edit_message_id=data.get("edit_message_id"),
            files=tuple((str(kind), str(path)) for kind, path in data.get("files", ())),
        )


def stamp(moment: datetime) -> str:
    """Outbox times keep milliseconds (storage.database.to_db rounds to the second): retries
    and pacing are sub-second, and the text must sort as the instants do."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Row:
    """A row as the sender needs it."""

    id: int
    key: str
    channel: str
    chat_id: str
    outgoing: Outgoing
    attempts: int


# --- what features use ---------------------------------------------------------------------


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
    expires_at: datetime | None = None,
) -> bool:
    """Queue a message; False (and nothing changed) if `key` was queued before.

    A row still unsent at `expires_at` is dropped by the sender (a reminder of a session
    that has already started).

    The sender only learns of it once it is committed: call the sender's `kick()` after the
    transaction (the Telegram channel does after each batch of updates)."""
    due = max(now, not_before) if not_before is not None else now
    cursor = await conn.execute(
        "INSERT INTO outbox (key, kind, channel, chat_id, user_id, payload, not_before,"
        " next_attempt_at, batch, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (key) DO NOTHING",
        (
            key,
            kind,
            channel,
            chat_id,
            user_id,
            outgoing.to_json(),
            stamp(not_before) if not_before is not None else None,
            stamp(due),
            batch,
            stamp(now),
            stamp(expires_at) if expires_at is not None else None,
        ),
    )
    return cursor.rowcount == 1


async def cancel(conn: Connection, key: str) -> bool:
    """Stop a row still waiting; False if it is gone already or in flight (a row being sent
    will arrive and be marked sent: calling it cancelled would be untrue)."""
    cursor = await conn.execute(
        "UPDATE outbox SET status = 'cancelled' WHERE key = ? AND status = 'queued'", (key,)
    )
    return cursor.rowcount == 1


async def cancel_batch(conn: Connection, batch: str) -> int:
    """Stop what is left of a broadcast (rows in flight excepted); the rows stopped."""
    cursor = await conn.execute(
        "UPDATE outbox SET status = 'cancelled' WHERE batch = ? AND status = 'queued'",
        (batch,),
    )
    return cursor.rowcount


async def cancel_for_user(conn: Connection, user_id: int, kinds: Sequence[str]) -> int:
    """Stop the rows of these kinds still waiting for one person (rows in flight excepted);
    the rows stopped."""
    marks = ", ".join("?" for _ in kinds)
    cursor = await conn.execute(
        f"UPDATE outbox SET status = 'cancelled' WHERE user_id = ? AND status = 'queued'"
        f" AND kind IN ({marks})",
        (user_id, *kinds),
    )
    return cursor.rowcount


async def progress(conn: Connection, batch: str) -> dict[Status, int]:
    """How many of a broadcast's rows are in each status (every status present, 0 if none).

    Rows being sent count as queued: to a coordinator they are not delivered yet."""
    counts = dict.fromkeys(Status, 0)
    for row in await fetch_all(
        conn, "SELECT status, COUNT(*) FROM outbox WHERE batch = ? GROUP BY status", (batch,)
    ):
        counts[Status(row[0])] += int(row[1])
    counts[Status.QUEUED] += counts.pop(Status.SENDING)
    counts[Status.SENDING] = 0
    return counts


async def sent_message(conn: Connection, key: str) -> tuple[str, int] | None:
    """(chat_id, message_id) of a delivered row, to edit it later; None until delivered."""
    row = await fetch_one(
        conn,
        "SELECT chat_id, sent_message_id FROM outbox"
        " WHERE key = ? AND status = 'sent' AND sent_message_id IS NOT NULL AND chat_id != ''",
        (key,),
    )
    return (str(row[0]), int(row[1])) if row else None


# --- what the sender uses ------------------------------------------------------------------


async def recover(conn: Connection) -> int:
    """Rows a crash left "sending" go back to the queue (each may have been delivered once
    already: at-least-once is the price of never losing one)."""
    cursor = await conn.execute("UPDATE outbox SET status = 'queued' WHERE status = 'sending'")
    return cursor.rowcount


async def due(conn: Connection, channels: Sequence[str], now: datetime, limit: int) -> list[Row]:
    """Queued rows whose time has come, oldest due first."""
    marks = ", ".join("?" for _ in channels)
    rows = await fetch_all(
        conn,
        "SELECT id, key, channel, chat_id, payload, attempts FROM outbox"
        f" WHERE status = 'queued' AND next_attempt_at <= ? AND channel IN ({marks})"
        " ORDER BY next_attempt_at, id LIMIT ?",
        (stamp(now), *channels, limit),
    )
    return [
        Row(
            int(r["id"]),
            r["key"],
            r["channel"],
            r["chat_id"],
            Outgoing.from_json(r["payload"]),
            int(r["attempts"]),
        )
        for r in rows
    ]


async def next_due(conn: Connection, channels: Sequence[str]) -> datetime | None:
    """When the earliest queued row is due, if any."""
    marks = ", ".join("?" for _ in channels)
    row = await fetch_one(
        conn,
        f"SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'queued' AND channel IN ({marks})",
        tuple(channels),
    )
    return from_db(row[0]) if row and row[0] else None


async def mark_sending(
    conn: Connection, ids: Sequence[int], now: datetime | None = None
) -> list[int]:
    """Claim queued rows for sending; the ids actually claimed (a row cancelled meanwhile is
    not, nor one expired at `now`: that one is cancelled instead of sent late)."""
    claimed: list[int] = []
    for row_id in ids:
        if now is not None:
            await conn.execute(
                "UPDATE outbox SET status = 'cancelled', last_error = 'expired'"
                " WHERE id = ? AND status = 'queued' AND expires_at IS NOT NULL"
                " AND expires_at <= ?",
                (row_id, stamp(now)),
            )
        cursor = await conn.execute(
            "UPDATE outbox SET status = 'sending' WHERE id = ? AND status = 'queued'", (row_id,)
        )
        if cursor.rowcount == 1:
            claimed.append(row_id)
    return claimed


async def postpone(conn: Connection, row_id: int, until: datetime) -> None:
    """A queued row whose chat is not ready yet (per-chat pacing): later, not now."""
    await conn.execute(
        "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND status = 'queued'",
        (stamp(until), row_id),
    )


async def mark_sent(conn: Connection, row_id: int, message_id: int | None, now: datetime) -> None:
    await conn.execute(
        "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_message_id = ?,"
        " sent_at = ?, last_error = NULL WHERE id = ? AND status = 'sending'",
        (message_id, stamp(now), row_id),
    )


async def mark_retry(
    conn: Connection, row_id: int, error: str, at: datetime, *, counts: bool = True
) -> None:
    """Back to the queue until `at`; a 429 does not count as an attempt (`counts`)."""
    await conn.execute(
        "UPDATE outbox SET status = 'queued', attempts = attempts + ?, next_attempt_at = ?,"
        " last_error = ? WHERE id = ? AND status = 'sending'",
        (1 if counts else 0, stamp(at), error, row_id),
    )


async def mark_failed(conn: Connection, row_id: int, error: str) -> None:
    await conn.execute(
        "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?"
        " WHERE id = ? AND status = 'sending'",
        (error, row_id),
    )


async def mark_blocked(conn: Connection, row_id: int, error: str, now: datetime) -> None:
    """The recipient blocked the bot: this row is not retried, the chat's other queued rows
    are marked blocked too, and the user is marked so that features stop queueing for them
    (until they write again: `storage.conversations.load_for_chat`)."""
    await conn.execute(
        "UPDATE outbox SET status = 'blocked', attempts = attempts + 1, last_error = ?"
        " WHERE id = ? AND status = 'sending'",
        (error, row_id),
    )
    await conn.execute(
        "UPDATE users SET blocked_at = ? WHERE blocked_at IS NULL AND id IN ("
        " SELECT u.id FROM outbox o JOIN users u"
        " ON u.id = o.user_id OR (u.channel = o.channel AND u.chat_id = o.chat_id)"
        " WHERE o.id = ?)",
        (stamp(now), row_id),
    )
    # The chat's other rows still waiting would only meet the same 403, one try each.
    await conn.execute(
        "UPDATE outbox SET status = 'blocked', last_error = ?"
        " WHERE status = 'queued' AND id <> ? AND (channel, chat_id) ="
        " (SELECT channel, chat_id FROM outbox WHERE id = ?)",
        (error, row_id, row_id),
    )
