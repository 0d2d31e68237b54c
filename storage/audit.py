"""The audit log of privileged actions: ids and codes only, never personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.database import Connection, fetch_all, from_db, to_db


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor_id: int | None
    action: str
    subject: str | None
    detail: str | None


async def record(
    conn: Connection,
    now: datetime,
    action: str,
    actor_id: int | None = None,
    subject: str | None = None,
    detail: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO audit_log (at, actor_id, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
        (to_db(now), actor_id, action, subject, detail),
    )


async def recent(conn: Connection, limit: int = 100) -> list[AuditEntry]:
    rows = await fetch_all(
        conn,
        "SELECT at, actor_id, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    return [
        AuditEntry(from_db(r["at"]), r["actor_id"], r["action"], r["subject"], r["detail"])
        for r in rows
    ]
