"""Sessions of the CCS-C committees, their invitations and attendance.

Times are stored UTC; what a member sees is converted to the bot's time zone when shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.database import Connection, fetch_all, fetch_one, from_db, to_db
from storage.users import User, from_row

KINDS = ("statutory", "training", "workshop", "other")
ANSWERS = ("yes", "maybe", "no")


@dataclass(frozen=True)
class Session:
    id: int
    committee_id: int
    kind: str
    title: str
    starts_at: datetime
    place: str
    agenda: str | None
    summary: str | None
    status: str
    checkin_code: str
    committee_code: str
    committee_name: str
    created_by_user: int | None
    #: places for those who say "yes"; None: no limit (a statutory meeting)
    capacity: int | None = None
    #: who is invited besides the members: "committee", "focal_points", "subscribers" or
    #: None (members only); an open session also takes anyone who registers
    open_to: str | None = None
    #: "subscribers": the area whose subscribers are invited (None: all Mali)
    open_area: str | None = None
    #: "committee": the other committee whose members are invited
    open_committee: int | None = None
    #: the monthly rule that created it, if any
    rule_id: int | None = None
    #: the commune of the organising committee
    commune: str | None = None

    @property
    def area(self) -> str | None:
        """Where the session is "of", for finding open sessions near someone: the area
        invited, else the committee's commune."""
        return self.open_area if self.open_to == "subscribers" else self.commune

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"


@dataclass(frozen=True)
class Invitation:
    session_id: int
    user_id: int
    answer: str | None
    attended: bool | None
    waitlisted: bool = False


_COLUMNS = (
    "s.id, s.committee_id, s.kind, s.title, s.starts_at, s.place, s.agenda, s.summary,"
    " s.status, s.checkin_code, c.code AS committee_code, c.name AS committee_name,"
    " s.created_by, s.capacity, s.open_to, s.open_area, s.open_committee, s.rule_id,"
    " c.commune"
)
_FROM = "FROM sessions s JOIN committees c ON c.id = s.committee_id"


def _session(row: object) -> Session:
    r = row
    return Session(
        r["id"],  # type: ignore[index]
        r["committee_id"],  # type: ignore[index]
        r["kind"],  # type: ignore[index]
        r["title"],  # type: ignore[index]
        from_db(r["starts_at"]),  # type: ignore[index]
        r["place"],  # type: ignore[index]
        r["agenda"],  # type: ignore[index]
        r["summary"],  # type: ignore[index]
        r["status"],  # type: ignore[index]
        r["checkin_code"],  # type: ignore[index]
        r["committee_code"],  # type: ignore[index]
        r["committee_name"],  # type: ignore[index]
        r["created_by"],  # type: ignore[index]
        r["capacity"],  # type: ignore[index]
        r["open_to"],  # type: ignore[index]
        r["open_area"],  # type: ignore[index]
        r["open_committee"],  # type: ignore[index]
        r["rule_id"],  # type: ignore[index]
        r["commune"],  # type: ignore[index]
    )


async def create(
    conn: Connection,
    *,
    committee_id: int,
    kind: str,
    title: str,
    starts_at: datetime,
    place: str,
    agenda: str | None,
    summary: str | None,
    checkin_code: str,
    created_by: int | None,
    now: datetime,
    rule_id: int | None = None,
    capacity: int | None = None,
    open_to: str | None = None,
    open_area: str | None = None,
    open_committee: int | None = None,
) -> Session | None:
    """None when the monthly rule already created this one (same rule, same start)."""
    row = await fetch_one(
        conn,
        "INSERT INTO sessions (committee_id, kind, title, starts_at, place, agenda, summary,"
        " checkin_code, rule_id, created_by, created_at, capacity, open_to, open_area,"
        " open_committee) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (rule_id, starts_at) DO NOTHING RETURNING id",
        (
            committee_id,
            kind,
            title,
            to_db(starts_at),
            place,
            agenda,
            summary,
            checkin_code,
            rule_id,
            created_by,
            to_db(now),
            capacity,
            open_to,
            open_area if open_to == "subscribers" else None,
            open_committee if open_to == "committee" else None,
        ),
    )
    return await get(conn, row["id"]) if row else None


async def get(conn: Connection, session_id: int) -> Session | None:
    row = await fetch_one(conn, f"SELECT {_COLUMNS} {_FROM} WHERE s.id = ?", (session_id,))
    return _session(row) if row else None


async def members(conn: Connection, committee_id: int) -> list[User]:
    """The active members of a committee, who are invited to its sessions."""
    rows = await fetch_all(
        conn,
        "SELECT u.* FROM committee_members m JOIN users u ON u.id = m.user_id"
        " WHERE m.committee_id = ? AND m.status = 'active' ORDER BY u.id",
        (committee_id,),
    )
    return [from_row(r) for r in rows]


async def invite(conn: Connection, session_id: int, user_id: int) -> bool:
    cursor = await conn.execute(
        "INSERT INTO invitations (session_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (session_id, user_id),
    )
    return cursor.rowcount == 1


async def uninvite(conn: Connection, session_id: int, user_id: int) -> bool:
    cursor = await conn.execute(
        "DELETE FROM invitations WHERE session_id = ? AND user_id = ?", (session_id, user_id)
    )
    return cursor.rowcount == 1


async def invited_upcoming(
    conn: Connection, user_id: int, now: datetime, committee_id: int | None = None
) -> list[Session]:
    """Scheduled sessions not started yet that the user is invited to (all of them, or those
    of one committee), whatever their answer."""
    rows = await fetch_all(
        conn,
        f"SELECT {_COLUMNS} {_FROM} JOIN invitations i ON i.session_id = s.id"
        " WHERE i.user_id = ? AND s.status = 'scheduled' AND s.starts_at > ?"
        " AND (? IS NULL OR s.committee_id = ?) ORDER BY s.starts_at",
        (user_id, to_db(now), committee_id, committee_id),
    )
    return [_session(r) for r in rows]


async def invitation(conn: Connection, session_id: int, user_id: int) -> Invitation | None:
    row = await fetch_one(
        conn,
        "SELECT session_id, user_id, answer, attended, waitlisted FROM invitations"
        " WHERE session_id = ? AND user_id = ?",
        (session_id, user_id),
    )
    if row is None:
        return None
    attended = None if row["attended"] is None else bool(row["attended"])
    return Invitation(
        row["session_id"], row["user_id"], row["answer"], attended, bool(row["waitlisted"])
    )


async def answer(
    conn: Connection,
    session_id: int,
    user_id: int,
    value: str,
    now: datetime,
    waitlisted: bool = False,
) -> None:
    await conn.execute(
        "UPDATE invitations SET answer = ?, answered_at = ?, waitlisted = ?"
        " WHERE session_id = ? AND user_id = ?",
        (value, to_db(now), int(waitlisted), session_id, user_id),
    )


async def places_taken(conn: Connection, session_id: int) -> int:
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM invitations WHERE session_id = ? AND answer = 'yes'"
        " AND waitlisted = 0",
        (session_id,),
    )
    return int(row[0]) if row else 0


async def waiting(conn: Connection, session_id: int) -> list[int]:
    """User ids on the waiting list, first come first."""
    rows = await fetch_all(
        conn,
        "SELECT user_id FROM invitations WHERE session_id = ? AND waitlisted = 1"
        " ORDER BY answered_at, user_id",
        (session_id,),
    )
    return [int(r[0]) for r in rows]


async def promote(conn: Connection, session_id: int, user_id: int) -> None:
    await conn.execute(
        "UPDATE invitations SET waitlisted = 0 WHERE session_id = ? AND user_id = ?",
        (session_id, user_id),
    )


async def invited(conn: Connection, session_id: int) -> list[tuple[User, Invitation]]:
    """Everyone invited, with their answer and attendance."""
    rows = await fetch_all(
        conn,
        "SELECT u.*, i.session_id, i.user_id, i.answer, i.attended, i.waitlisted"
        " FROM invitations i"
        " JOIN users u ON u.id = i.user_id WHERE i.session_id = ? ORDER BY u.id",
        (session_id,),
    )
    return [
        (
            from_row(r),
            Invitation(
                r["session_id"],
                r["user_id"],
                r["answer"],
                None if r["attended"] is None else bool(r["attended"]),
                bool(r["waitlisted"]),
            ),
        )
        for r in rows
    ]


async def upcoming_for(
    conn: Connection, user_id: int, now: datetime
) -> list[tuple[Session, str | None]]:
    """Scheduled sessions not started yet that the user is invited to, with their answer."""
    rows = await fetch_all(
        conn,
        f"SELECT {_COLUMNS}, i.answer {_FROM} JOIN invitations i ON i.session_id = s.id"
        " WHERE i.user_id = ? AND s.status = 'scheduled' AND s.starts_at > ?"
        " ORDER BY s.starts_at LIMIT 10",
        (user_id, to_db(now)),
    )
    return [(_session(r), r["answer"]) for r in rows]


async def open_upcoming(conn: Connection, user_id: int, now: datetime) -> list[Session]:
    """Open sessions not started yet that the user is not invited to: those they may
    register for."""
    rows = await fetch_all(
        conn,
        f"SELECT {_COLUMNS} {_FROM} WHERE s.open_to IS NOT NULL AND s.status = 'scheduled'"
        " AND s.starts_at > ? AND NOT EXISTS (SELECT 1 FROM invitations i"
        " WHERE i.session_id = s.id AND i.user_id = ?) ORDER BY s.starts_at LIMIT 50",
        (to_db(now), user_id),
    )
    return [_session(r) for r in rows]


async def rule_committee(conn: Connection, rule_id: int) -> tuple[int, bool] | None:
    """The committee a rule makes sessions for, and whether it still does."""
    row = await fetch_one(
        conn, "SELECT committee_id, active FROM session_rules WHERE id = ?", (rule_id,)
    )
    return (int(row["committee_id"]), bool(row["active"])) if row else None


async def stop_rule(conn: Connection, rule_id: int) -> bool:
    """The rule makes no more sessions; those already made stay. False if already stopped."""
    cursor = await conn.execute(
        "UPDATE session_rules SET active = 0 WHERE id = ? AND active = 1", (rule_id,)
    )
    return cursor.rowcount > 0


async def upcoming_of(conn: Connection, committee_id: int, now: datetime) -> list[Session]:
    rows = await fetch_all(
        conn,
        f"SELECT {_COLUMNS} {_FROM} WHERE s.committee_id = ? AND s.status = 'scheduled'"
        " AND s.starts_at > ? ORDER BY s.starts_at LIMIT 10",
        (committee_id, to_db(now)),
    )
    return [_session(r) for r in rows]


async def move(conn: Connection, session_id: int, starts_at: datetime) -> None:
    await conn.execute(
        "UPDATE sessions SET starts_at = ? WHERE id = ?", (to_db(starts_at), session_id)
    )


async def cancel(conn: Connection, session_id: int) -> bool:
    cursor = await conn.execute(
        "UPDATE sessions SET status = 'cancelled' WHERE id = ? AND status = 'scheduled'",
        (session_id,),
    )
    return cursor.rowcount == 1


async def mark(
    conn: Connection, session_id: int, user_id: int, present: bool, now: datetime | None
) -> bool:
    """Record attendance; `now` is the check-in time when the member checked in themselves."""
    cursor = await conn.execute(
        "UPDATE invitations SET attended = ?, checked_in_at = COALESCE(?, checked_in_at)"
        " WHERE session_id = ? AND user_id = ?",
        (int(present), to_db(now) if now else None, session_id, user_id),
    )
    return cursor.rowcount == 1


async def mark_rest_absent(conn: Connection, session_id: int) -> int:
    cursor = await conn.execute(
        "UPDATE invitations SET attended = 0 WHERE session_id = ? AND attended IS NULL",
        (session_id,),
    )
    return cursor.rowcount


async def open_for_checkin(
    conn: Connection, user_id: int, code: str, earliest: datetime, now: datetime
) -> Session | None:
    """The user's session with this code that started between `earliest` and `now`."""
    row = await fetch_one(
        conn,
        f"SELECT {_COLUMNS} {_FROM} JOIN invitations i ON i.session_id = s.id"
        " WHERE i.user_id = ? AND s.checkin_code = ? AND s.status = 'scheduled'"
        " AND s.starts_at <= ? AND s.starts_at >= ? ORDER BY s.starts_at DESC LIMIT 1",
        (user_id, code, to_db(now), to_db(earliest)),
    )
    return _session(row) if row else None


@dataclass(frozen=True)
class Rule:
    """ "The nth weekday of each month at local_time": nth 1 to 5, or -1 for the last."""

    id: int
    committee_id: int
    nth: int
    weekday: int
    local_time: str
    title: str
    place: str
    kind: str
    created_by: int | None


async def add_rule(
    conn: Connection,
    *,
    committee_id: int,
    nth: int,
    weekday: int,
    local_time: str,
    title: str,
    place: str,
    kind: str,
    created_by: int | None,
    now: datetime,
) -> int:
    row = await fetch_one(
        conn,
        "INSERT INTO session_rules (committee_id, nth, weekday, local_time, title, place, kind,"
        " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (committee_id, nth, weekday, local_time, title, place, kind, created_by, to_db(now)),
    )
    assert row is not None
    return int(row["id"])


async def active_rules(conn: Connection) -> list[Rule]:
    rows = await fetch_all(
        conn,
        "SELECT id, committee_id, nth, weekday, local_time, title, place, kind, created_by"
        " FROM session_rules WHERE active = 1 ORDER BY id",
    )
    return [
        Rule(
            r["id"],
            r["committee_id"],
            r["nth"],
            r["weekday"],
            r["local_time"],
            r["title"],
            r["place"],
            r["kind"],
            r["created_by"],
        )
        for r in rows
    ]


async def rule_has_session_between(
    conn: Connection, rule_id: int, start: datetime, end: datetime
) -> bool:
    """Whether the rule already made a session in this span (even one since moved inside it
    or cancelled: a cancelled meeting is not brought back)."""
    row = await fetch_one(
        conn,
        "SELECT 1 FROM sessions WHERE rule_id = ? AND starts_at >= ? AND starts_at < ?",
        (rule_id, to_db(start), to_db(end)),
    )
    return row is not None
