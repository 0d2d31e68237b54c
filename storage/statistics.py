"""The reads behind the network's figures: validated alerts, review decisions and CCS-C
sessions over a time range [start, end).

Alerts count from the moment they were validated (alerts.created_at), not from the day the
incident happened: each alert then falls in exactly one week and one month, and a report
validated on Monday about Saturday's incident is in the next report instead of in none (the
one about its week having gone out already). Only structured fields are read: never the
reporter, their words or their place details.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from storage.database import Connection, fetch_all, fetch_one, from_db, to_db


@dataclass(frozen=True)
class AlertFact:
    """One validated alert as the figures see it."""

    reference: str
    severity: int
    category: str
    region: str | None
    cercle: str | None
    occurred_on: date
    killed: int | None
    injured: int | None
    missing: int | None
    validated_at: datetime


@dataclass(frozen=True)
class ReviewCounts:
    #: reports received in the period
    received: int
    #: decisions made in the period
    validated: int
    rejected: int
    duplicates: int


async def alerts(conn: Connection, start: datetime, end: datetime) -> list[AlertFact]:
    """The alerts validated in [start, end), oldest first."""
    rows = await fetch_all(
        conn,
        "SELECT r.reference, a.severity, r.category, r.region, r.cercle, r.occurred_on,"
        " r.killed, r.injured, r.missing, a.created_at FROM alerts a"
        " JOIN reports r ON r.id = a.report_id"
        " WHERE a.created_at >= ? AND a.created_at < ? ORDER BY a.created_at, a.id",
        (to_db(start), to_db(end)),
    )
    return [
        AlertFact(
            reference=r["reference"],
            severity=int(r["severity"]),
            category=r["category"],
            region=r["region"],
            cercle=r["cercle"],
            occurred_on=date.fromisoformat(r["occurred_on"]),
            killed=r["killed"],
            injured=r["injured"],
            missing=r["missing"],
            validated_at=from_db(r["created_at"]),
        )
        for r in rows
    ]


async def count_alerts(conn: Connection, start: datetime, end: datetime) -> int:
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM alerts WHERE created_at >= ? AND created_at < ?",
        (to_db(start), to_db(end)),
    )
    return int(row[0]) if row else 0


async def review_counts(conn: Connection, start: datetime, end: datetime) -> ReviewCounts:
    span = (to_db(start), to_db(end))
    received = await fetch_one(
        conn, "SELECT COUNT(*) FROM reports WHERE created_at >= ? AND created_at < ?", span
    )
    decided = {
        r["decision"]: int(r["n"])
        for r in await fetch_all(
            conn,
            "SELECT decision, COUNT(*) AS n FROM review_decisions"
            " WHERE decided_at >= ? AND decided_at < ? GROUP BY decision",
            span,
        )
    }
    return ReviewCounts(
        received=int(received[0]) if received else 0,
        validated=decided.get("validated", 0),
        rejected=decided.get("rejected", 0),
        duplicates=decided.get("duplicate", 0),
    )


async def validation_delays(conn: Connection, start: datetime, end: datetime) -> list[timedelta]:
    """For each report validated in [start, end), how long it waited from its receipt."""
    rows = await fetch_all(
        conn,
        "SELECT r.created_at AS received, d.decided_at AS decided FROM review_decisions d"
        " JOIN reports r ON r.id = d.report_id"
        " WHERE d.decision = 'validated' AND d.decided_at >= ? AND d.decided_at < ?",
        (to_db(start), to_db(end)),
    )
    return [from_db(r["decided"]) - from_db(r["received"]) for r in rows]


async def sessions_held(conn: Connection, start: datetime, end: datetime) -> int:
    """CCS-C sessions not cancelled that started in [start, end); for a period still running
    the caller ends it now, so that a session still to come is not counted as held."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM sessions WHERE status != 'cancelled'"
        " AND starts_at >= ? AND starts_at < ?",
        (to_db(start), to_db(end)),
    )
    return int(row[0]) if row else 0
