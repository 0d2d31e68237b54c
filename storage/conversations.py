"""Conversation state: where each user is, as a stack of flows, saved with each step."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage import users
from storage.database import Connection, fetch_one, from_db, to_db
from storage.users import User


@dataclass
class Frame:
    """One flow in progress: its current step, the answers so far and the steps behind it."""

    flow: str
    step: str
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "step": self.step,
            "answers": self.answers,
            "history": self.history,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Frame:
        return cls(
            flow=str(data["flow"]),
            step=str(data["step"]),
            answers=dict(data.get("answers") or {}),
            history=[str(s) for s in data.get("history") or []],
        )


@dataclass
class ConversationState:
    frames: list[Frame]
    #: number of the last question asked; buttons carry it so older ones are known to be stale
    prompt: int = 0
    last_event_id: int | None = None
    #: which question `prompt` numbers ("depth:flow:step")
    asked: str | None = None
    #: when the state was last saved (read only: `save` stamps it)
    updated_at: datetime | None = None

    @property
    def top(self) -> Frame:
        return self.frames[-1]


async def load(conn: Connection, user_id: int) -> ConversationState | None:
    row = await fetch_one(
        conn,
        "SELECT frames, prompt, last_event_id, asked, updated_at FROM conversations"
        " WHERE user_id = ?",
        (user_id,),
    )
    return _state(row) if row is not None else None


def _state(row: Any) -> ConversationState:
    frames = [Frame.from_json(item) for item in json.loads(row["frames"])]
    return ConversationState(
        frames,
        int(row["prompt"]),
        row["last_event_id"],
        row["asked"],
        from_db(row["updated_at"]),
    )


async def load_for_chat(
    conn: Connection, channel: str, chat_id: str, now: datetime
) -> tuple[User, bool, ConversationState | None]:
    """The chat's user (created on first contact, flagged new) and their conversation, read
    in one query: this runs for every update, and each query is a trip to SQLite's thread.

    Someone who had blocked the bot (`users.blocked_at`, set by the outbox on a 403) and
    writes again has unblocked it: alerts and notices reach them again."""
    row = await fetch_one(
        conn,
        "SELECT u.id, u.channel, u.chat_id, u.language, u.created_at, u.blocked_at,"
        " c.frames, c.prompt, c.last_event_id, c.asked, c.updated_at"
        " FROM users u LEFT JOIN conversations c ON c.user_id = u.id"
        " WHERE u.channel = ? AND u.chat_id = ?",
        (channel, chat_id),
    )
    if row is None:
        user, created = await users.get_or_create(conn, channel, chat_id, now)
        return user, created, None
    state = _state(row) if row["frames"] is not None else None
    if row["blocked_at"] is not None:
        await conn.execute("UPDATE users SET blocked_at = NULL WHERE id = ?", (row["id"],))
    return users.from_row(row), False, state


async def save(conn: Connection, user_id: int, state: ConversationState, now: datetime) -> None:
    frames = json.dumps([f.to_json() for f in state.frames], ensure_ascii=False)
    await conn.execute(
        "INSERT INTO conversations (user_id, frames, prompt, asked, last_event_id, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET frames = excluded.frames,"
        " prompt = excluded.prompt, asked = excluded.asked,"
        " last_event_id = excluded.last_event_id, updated_at = excluded.updated_at",
        (user_id, frames, state.prompt, state.asked, state.last_event_id, to_db(now)),
    )


async def delete(conn: Connection, user_id: int) -> None:
    await conn.execute("DELETE FROM conversations WHERE user_id = ?", (user_id,))


async def count_open(conn: Connection) -> int:
    """Conversations that are inside a flow (not just resting at the main menu)."""
    row = await fetch_one(
        conn, "SELECT COUNT(*) FROM conversations WHERE json_array_length(frames) > 1"
    )
    return int(row[0]) if row else 0
