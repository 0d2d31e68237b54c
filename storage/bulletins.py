"""Scheduled reports already sent, their chart files, and who receives them.

A run is recorded in the transaction that queues its outbox rows: either both are committed
or neither, so a crash mid-run leaves the period due (and sent at the next start) and a
finished run is never sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from storage import roles
from storage.database import Connection, fetch_all, fetch_one, from_db, to_db
from storage.roles import Role
from storage.users import User

#: who receives the weekly report and the monthly bulletin
RECIPIENT_ROLES = (Role.COORDINATOR, Role.VALIDATOR, Role.FOCAL_POINT)
#: the schema version that brought bulletins: periods due before it was applied are not sent
_SINCE_VERSION = 12


async def recorded_periods(conn: Connection, kind: str) -> set[date]:
    """The first days of the periods of `kind` already sent."""
    rows = await fetch_all(conn, "SELECT period_start FROM bulletin_runs WHERE kind = ?", (kind,))
    return {date.fromisoformat(r["period_start"]) for r in rows}


async def record_run(
    conn: Connection, kind: str, start: date, end: date, now: datetime, recipients: int
) -> int | None:
    """The run's id; None if this period was recorded already (another run got there)."""
    row = await fetch_one(
        conn,
        "INSERT INTO bulletin_runs (kind, period_start, period_end, ran_at, recipients)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, period_start) DO NOTHING RETURNING id",
        (kind, start.isoformat(), end.isoformat(), to_db(now), recipients),
    )
    return int(row["id"]) if row else None


async def bulletins_since(conn: Connection) -> datetime | None:
    """When this database got bulletins (its migration): a fresh installation, or one just
    upgraded, does not send at once the report of a period that ended before."""
    row = await fetch_one(
        conn, "SELECT applied_at FROM schema_migrations WHERE version = ?", (_SINCE_VERSION,)
    )
    return from_db(row["applied_at"]) if row else None


async def recipients(conn: Connection) -> list[User]:
    """Coordinators, validators and focal points, each once, except those who blocked the bot
    (they would only meet the same refusal, one try each)."""
    people = await roles.people(conn, RECIPIENT_ROLES)
    if not people:
        return []
    marks = ", ".join("?" for _ in people)
    blocked = {
        int(r["id"])
        for r in await fetch_all(
            conn,
            f"SELECT id FROM users WHERE blocked_at IS NOT NULL AND id IN ({marks})",
            tuple(p.id for p in people),
        )
    }
    return [p for p in people if p.id not in blocked]


# --- chart files ---------------------------------------------------------------------------


async def record_chart(conn: Connection, path: str, batch: str | None, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO bulletin_charts (path, batch, created_at) VALUES (?, ?, ?)"
        " ON CONFLICT (path) DO UPDATE SET batch = excluded.batch,"
        " created_at = excluded.created_at",
        (path, batch, to_db(now)),
    )


async def charts_done(conn: Connection, older_than: datetime) -> list[str]:
    """Chart files made before `older_than` whose outbox batch has nothing left to send."""
    rows = await fetch_all(
        conn,
        "SELECT c.path FROM bulletin_charts c WHERE c.created_at < ?"
        " AND (c.batch IS NULL OR NOT EXISTS (SELECT 1 FROM outbox o"
        "  WHERE o.batch = c.batch AND o.status IN ('queued', 'sending')))",
        (to_db(older_than),),
    )
    return [r["path"] for r in rows]


async def forget_charts(conn: Connection, paths: Sequence[str]) -> None:
    for path in paths:
        await conn.execute("DELETE FROM bulletin_charts WHERE path = ?", (path,))
