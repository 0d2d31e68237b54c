"""Users: one row per (channel, chat) with the language they chose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.database import Connection, fetch_one, from_db, to_db


@dataclass(frozen=True)
class User:
    id: int
    channel: str
    chat_id: str
    language: str | None
    created_at: datetime


def from_row(row: object) -> User:
    """A user from a row holding the users table's columns (a join's included)."""
    return User(
        id=row["id"],  # type: ignore[index]
        channel=row["channel"],  # type: ignore[index]
        chat_id=row["chat_id"],  # type: ignore[index]
        language=row["language"],  # type: ignore[index]
        created_at=from_db(row["created_at"]),  # type: ignore[index]
    )


_COLUMNS = "id, channel, chat_id, language, created_at"


async def find(conn: Connection, channel: str, chat_id: str) -> User | None:
    row = await fetch_one(
        conn, f"SELECT {_COLUMNS} FROM users WHERE channel = ? AND chat_id = ?", (channel, chat_id)
    )
    return from_row(row) if row else None


async def get(conn: Connection, user_id: int) -> User | None:
    row = await fetch_one(conn, f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
    return from_row(row) if row else None


async def get_or_create(
    conn: Connection, channel: str, chat_id: str, now: datetime
) -> tuple[User, bool]:
    """The user for a chat, created on first contact; the flag says whether it is new."""
    existing = await find(conn, channel, chat_id)
    if existing:
        return existing, False
    cursor = await conn.execute(
        "INSERT INTO users (channel, chat_id, language, created_at) VALUES (?, ?, NULL, ?)",
        (channel, chat_id, to_db(now)),
    )
    user_id = cursor.lastrowid
    assert user_id is not None
    return User(user_id, channel, chat_id, None, now.replace(microsecond=0)), True


async def set_language(conn: Connection, user_id: int, language: str) -> None:
    await conn.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))


async def delete(conn: Connection, user_id: int) -> None:
    """Forget a user: roles and conversation go with the row (ON DELETE CASCADE)."""
    await conn.execute("DELETE FROM users WHERE id = ?", (user_id,))


async def count(conn: Connection) -> int:
    row = await fetch_one(conn, "SELECT COUNT(*) FROM users")
    return int(row[0]) if row else 0
