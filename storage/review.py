"""Review of reports: decisions, alerts, questions to reporters, the queue and escalations.

Every function runs inside the caller's transaction. A decision is final and there is one per
report: `decide` is an INSERT on the report's id, so when two validators press at once the
first commit wins and the second learns who decided (no lock, no read-then-write race).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage import audit
from storage.database import Connection, fetch_all, fetch_one, from_db, to_db
from storage.reports import COLUMNS, Report, Status, from_row


class Decision(StrEnum):
    VALIDATED = "validated"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


class Audience(StrEnum):
    PUBLIC = "public"  # subscribers of the area, focal points and staff
    STAFF = "staff"  # focal points and staff only


#: reports a validator still has to decide on
OPEN_STATUSES = (Status.RECEIVED, Status.UNDER_REVIEW, Status.NEEDS_DETAILS)


@dataclass(frozen=True)
class DecisionRow:
    report_id: int
    decision: Decision
    decided_by: int | None
    decided_by_name: str | None
    decided_at: datetime
    reason: str | None
    reason_shared: bool
    duplicate_of: int | None


@dataclass(frozen=True)
class Alert:
    id: int
    report_id: int
    severity: int
    audience: Audience
    summary: str | None
    created_at: datetime


@dataclass(frozen=True)
class Question:
    id: int
    report_id: int
    asked_by: int | None
    asked_at: datetime
    question: str
    answer: str | None


async def decide(
    conn: Connection,
    report: Report,
    decision: Decision,
    actor_id: int,
    actor_name: str | None,
    now: datetime,
    *,
    reason: str | None = None,
    reason_shared: bool = False,
    duplicate_of: int | None = None,
) -> DecisionRow | None:
    """Record the decision and the report's new status; None if it was decided already."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO review_decisions (report_id, decision, decided_by,"
        " decided_by_name, decided_at, reason, reason_shared, duplicate_of)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            report.id,
            decision.value,
            actor_id,
            actor_name,
            to_db(now),
            reason,
            int(reason_shared),
            duplicate_of,
        ),
    )
    if cursor.rowcount == 0:
        return None
    status = Status.VALIDATED if decision is Decision.VALIDATED else Status.REJECTED
    await conn.execute("UPDATE reports SET status = ? WHERE id = ?", (status.value, report.id))
    detail = decision.value + (f" dup_of:{duplicate_of}" if duplicate_of else "")
    await audit.record(conn, now, "review.decide", actor_id, f"report:{report.id}", detail)
    return await decision_of(conn, report.id)


async def forget_decider(conn: Connection, user_id: int) -> None:
    """Before a staff member's data is deleted (/effacer): their decisions stay, without
    the display name they were taken under."""
    await conn.execute(
        "UPDATE review_decisions SET decided_by_name = NULL WHERE decided_by = ?", (user_id,)
    )


async def decision_of(conn: Connection, report_id: int) -> DecisionRow | None:
    row = await fetch_one(
        conn,
        "SELECT report_id, decision, decided_by, decided_by_name, decided_at, reason,"
        " reason_shared, duplicate_of FROM review_decisions WHERE report_id = ?",
        (report_id,),
    )
    if row is None:
        return None
    return DecisionRow(
        row["report_id"],
        Decision(row["decision"]),
        row["decided_by"],
        row["decided_by_name"],
        from_db(row["decided_at"]),
        row["reason"],
        bool(row["reason_shared"]),
        row["duplicate_of"],
    )


async def create_alert(
    conn: Connection,
    report_id: int,
    severity: int,
    audience: Audience,
    summary: str | None,
    now: datetime,
) -> Alert:
    if not 1 <= severity <= 4:
        raise ValueError("severity is 1 to 4")
    row = await fetch_one(
        conn,
        "INSERT INTO alerts (report_id, severity, audience, summary, created_at)"
        " VALUES (?, ?, ?, ?, ?) RETURNING id",
        (report_id, severity, audience.value, summary, to_db(now)),
    )
    assert row is not None
    return Alert(row["id"], report_id, severity, audience, summary, now.replace(microsecond=0))


async def alert_of(conn: Connection, report_id: int) -> Alert | None:
    row = await fetch_one(
        conn,
        "SELECT id, report_id, severity, audience, summary, created_at FROM alerts"
        " WHERE report_id = ?",
        (report_id,),
    )
    if row is None:
        return None
    return Alert(
        row["id"],
        row["report_id"],
        row["severity"],
        Audience(row["audience"]),
        row["summary"],
        from_db(row["created_at"]),
    )


async def set_status(conn: Connection, report_id: int, status: Status) -> None:
    """Move an undecided report along (under review, needs details); decided ones stay."""
    await conn.execute(
        "UPDATE reports SET status = ? WHERE id = ?"
        " AND NOT EXISTS (SELECT 1 FROM review_decisions WHERE report_id = ?)",
        (status.value, report_id, report_id),
    )


async def ask(
    conn: Connection, report_id: int, asked_by: int, question: str, now: datetime
) -> Question:
    row = await fetch_one(
        conn,
        "INSERT INTO report_questions (report_id, asked_by, asked_at, question)"
        " VALUES (?, ?, ?, ?) RETURNING id",
        (report_id, asked_by, to_db(now), question),
    )
    assert row is not None
    await set_status(conn, report_id, Status.NEEDS_DETAILS)
    await audit.record(conn, now, "review.ask", asked_by, f"report:{report_id}")
    return Question(row["id"], report_id, asked_by, now, question, None)


async def question(conn: Connection, question_id: int) -> Question | None:
    row = await fetch_one(
        conn,
        "SELECT id, report_id, asked_by, asked_at, question, answer FROM report_questions"
        " WHERE id = ?",
        (question_id,),
    )
    if row is None:
        return None
    return Question(
        row["id"],
        row["report_id"],
        row["asked_by"],
        from_db(row["asked_at"]),
        row["question"],
        row["answer"],
    )


async def answer(conn: Connection, question_id: int, text: str, now: datetime) -> bool:
    """Store the reporter's answer; False if the question was answered already."""
    cursor = await conn.execute(
        "UPDATE report_questions SET answer = ?, answered_at = ? WHERE id = ? AND answer IS NULL",
        (text, to_db(now), question_id),
    )
    return cursor.rowcount == 1


async def questions_of(conn: Connection, report_id: int) -> list[Question]:
    rows = await fetch_all(
        conn,
        "SELECT id, report_id, asked_by, asked_at, question, answer FROM report_questions"
        " WHERE report_id = ? ORDER BY id",
        (report_id,),
    )
    return [
        Question(
            r["id"],
            r["report_id"],
            r["asked_by"],
            from_db(r["asked_at"]),
            r["question"],
            r["answer"],
        )
        for r in rows
    ]


async def pending(conn: Connection, limit: int = 50) -> list[Report]:
    """Reports still to decide, oldest first."""
    marks = ", ".join("?" * len(OPEN_STATUSES))
    rows = await fetch_all(
        conn,
        f"SELECT {COLUMNS} FROM reports WHERE status IN ({marks}) ORDER BY created_at, id LIMIT ?",
        (*(s.value for s in OPEN_STATUSES), limit),
    )
    return [from_row(r) for r in rows]


async def count_pending(conn: Connection) -> int:
    marks = ", ".join("?" * len(OPEN_STATUSES))
    row = await fetch_one(
        conn,
        f"SELECT COUNT(*) FROM reports WHERE status IN ({marks})",
        tuple(s.value for s in OPEN_STATUSES),
    )
    return int(row[0]) if row else 0


async def overdue(conn: Connection, received_before: datetime) -> list[Report]:
    """Undecided reports received before the given time and never escalated."""
    marks = ", ".join("?" * len(OPEN_STATUSES))
    rows = await fetch_all(
        conn,
        f"SELECT {COLUMNS} FROM reports WHERE status IN ({marks})"
        " AND created_at <= ?"
        " AND id NOT IN (SELECT report_id FROM review_escalations) ORDER BY created_at, id",
        (*(s.value for s in OPEN_STATUSES), to_db(received_before)),
    )
    return [from_row(r) for r in rows]


async def mark_escalated(conn: Connection, report_id: int, now: datetime) -> bool:
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO review_escalations (report_id, escalated_at) VALUES (?, ?)",
        (report_id, to_db(now)),
    )
    return cursor.rowcount == 1
