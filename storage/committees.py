"""CCS-C committees, their members and participant profiles (issue 5).

A membership moves from 'pending' to 'active' or 'declined' once, by a conditional UPDATE:
two secretaries pressing at the same moment cannot both decide (the first one wins, as in
`storage.review.decide`). An active member holds Role.CCSC_MEMBER scoped to the committee's
code, so that other features (sessions) can check membership with `storage.roles` alone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage import audit, roles
from storage.database import Connection, fetch_all, fetch_one, to_db
from storage.roles import Role
from storage.users import User, from_row


class MemberType(StrEnum):
    FSI = "fsi"
    LOCAL_AUTHORITY = "local_authority"
    CIVIL_SOCIETY = "civil_society"
    WOMEN = "women"
    YOUTH = "youth"
    TRADITIONAL_RELIGIOUS = "traditional_religious"
    OTHER = "other"


class MemberStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DECLINED = "declined"
    LEFT = "left"
    REMOVED = "removed"


SEXES = ("female", "male")
AGE_GROUPS = ("under_18", "18_24", "25_35", "over_35")


@dataclass(frozen=True)
class Committee:
    id: int
    code: str
    name: str
    commune: str | None


@dataclass(frozen=True)
class Member:
    id: int
    committee_id: int
    user_id: int
    member_type: MemberType
    status: MemberStatus
    display_name: str | None


@dataclass(frozen=True)
class Profile:
    sex: str
    age_group: str
    display_name: str | None


def _committee(row: object) -> Committee:
    return Committee(row["id"], row["code"], row["name"], row["commune"])  # type: ignore[index]


_MEMBER_SQL = (
    "SELECT m.id, m.committee_id, m.user_id, m.member_type, m.status, p.display_name"
    " FROM committee_members m LEFT JOIN participant_profiles p ON p.user_id = m.user_id"
)


def _member(row: object) -> Member:
    return Member(
        row["id"],  # type: ignore[index]
        row["committee_id"],  # type: ignore[index]
        row["user_id"],  # type: ignore[index]
        MemberType(row["member_type"]),  # type: ignore[index]
        MemberStatus(row["status"]),  # type: ignore[index]
        row["display_name"],  # type: ignore[index]
    )


# --- committees --------------------------------------------------------------------------------


async def all_committees(conn: Connection) -> list[Committee]:
    rows = await fetch_all(conn, "SELECT id, code, name, commune FROM committees ORDER BY id")
    return [_committee(r) for r in rows]


async def get(conn: Connection, committee_id: int) -> Committee | None:
    row = await fetch_one(
        conn, "SELECT id, code, name, commune FROM committees WHERE id = ?", (committee_id,)
    )
    return _committee(row) if row else None


async def by_code(conn: Connection, code: str) -> Committee | None:
    row = await fetch_one(
        conn, "SELECT id, code, name, commune FROM committees WHERE code = ?", (code.lower(),)
    )
    return _committee(row) if row else None


def code_for(name: str) -> str:
    """A stable ASCII code from a committee's name: it becomes a role scope and a command
    argument, typed on phone keyboards, so no accents, spaces or capitals."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
    slug = re.sub(r"^ccs_?c(_|$)", "", slug)[:40].strip("_")
    return f"ccsc_{slug}" if slug else ""


async def create(
    conn: Connection, name: str, commune: str | None, now: datetime, by: int | None
) -> Committee | None:
    """None if the name gives a code that exists already (or no code at all)."""
    code = code_for(name)
    if not code:
        return None
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO committees (code, name, commune, created_at) VALUES (?, ?, ?, ?)",
        (code, name, commune, to_db(now)),
    )
    if cursor.rowcount == 0:
        return None
    await audit.record(conn, now, "committee.create", by, f"committee:{code}", code)
    return await by_code(conn, code)


# --- members -----------------------------------------------------------------------------------


async def member(conn: Connection, member_id: int) -> Member | None:
    row = await fetch_one(conn, _MEMBER_SQL + " WHERE m.id = ?", (member_id,))
    return _member(row) if row else None


async def request(
    conn: Connection, committee_id: int, user_id: int, member_type: MemberType, now: datetime
) -> Member | None:
    """A pending request; a person who left, was declined or removed may ask again. None
    when they are already pending or active in that committee."""
    cursor = await conn.execute(
        "INSERT INTO committee_members (committee_id, user_id, member_type, status, requested_at)"
        " VALUES (?, ?, ?, 'pending', ?)"
        " ON CONFLICT (committee_id, user_id) DO UPDATE SET member_type = excluded.member_type,"
        " status = 'pending', requested_at = excluded.requested_at, decided_at = NULL,"
        " decided_by = NULL WHERE committee_members.status NOT IN ('pending', 'active')",
        (committee_id, user_id, member_type.value, to_db(now)),
    )
    if cursor.rowcount == 0:
        return None
    row = await fetch_one(
        conn,
        _MEMBER_SQL + " WHERE m.committee_id = ? AND m.user_id = ?",
        (committee_id, user_id),
    )
    return _member(row) if row else None


async def decide(
    conn: Connection, member_id: int, approve: bool, by: int, now: datetime
) -> Member | None:
    """Approve or decline a pending request; None if someone decided first."""
    status = MemberStatus.ACTIVE if approve else MemberStatus.DECLINED
    cursor = await conn.execute(
        "UPDATE committee_members SET status = ?, decided_at = ?, decided_by = ?"
        " WHERE id = ? AND status = 'pending'",
        (status.value, to_db(now), by, member_id),
    )
    if cursor.rowcount == 0:
        return None
    decided = await member(conn, member_id)
    assert decided is not None
    committee = await get(conn, decided.committee_id)
    assert committee is not None
    if approve:
        await roles.grant(conn, decided.user_id, Role.CCSC_MEMBER, now, committee.code, by)
    await audit.record(
        conn, now, f"member.{status.value}", by, f"member:{member_id}", committee.code
    )
    return decided


async def end(
    conn: Connection, member_id: int, status: MemberStatus, by: int, now: datetime
) -> Member | None:
    """Leave (`LEFT`, by the member: an active membership or a pending request) or remove
    (`REMOVED`, by a secretary: an active member); the committee role goes with it. None if
    there was nothing to end any more (someone acted first)."""
    if status is MemberStatus.LEFT:
        ending = ("active", "pending")
    elif status is MemberStatus.REMOVED:
        ending = ("active", "active")
    else:
        raise ValueError("a membership ends by leaving or removal")
    cursor = await conn.execute(
        "UPDATE committee_members SET status = ?, decided_at = ?, decided_by = ?"
        " WHERE id = ? AND status IN (?, ?)",
        (status.value, to_db(now), by, member_id, *ending),
    )
    if cursor.rowcount == 0:
        return None
    ended = await member(conn, member_id)
    assert ended is not None
    committee = await get(conn, ended.committee_id)
    assert committee is not None
    await roles.revoke(conn, ended.user_id, Role.CCSC_MEMBER, now, committee.code, by)
    await audit.record(
        conn, now, f"member.{status.value}", by, f"member:{member_id}", committee.code
    )
    return ended


async def active_members(conn: Connection, committee_id: int) -> list[Member]:
    return await _with_status(conn, committee_id, MemberStatus.ACTIVE)


async def pending_members(conn: Connection, committee_id: int) -> list[Member]:
    """Requests waiting for a decision, oldest first."""
    return await _with_status(conn, committee_id, MemberStatus.PENDING)


async def _with_status(conn: Connection, committee_id: int, status: MemberStatus) -> list[Member]:
    rows = await fetch_all(
        conn,
        _MEMBER_SQL + " WHERE m.committee_id = ? AND m.status = ? ORDER BY m.id",
        (committee_id, status.value),
    )
    return [_member(r) for r in rows]


async def active_member_users(conn: Connection, committee_id: int) -> list[tuple[Member, User]]:
    """Active members with their user row (channel, chat id, language): whom to invite."""
    rows = await fetch_all(
        conn,
        "SELECT m.id AS member_id, m.committee_id, m.user_id, m.member_type, m.status,"
        " p.display_name, u.id, u.channel, u.chat_id, u.language, u.created_at"
        " FROM committee_members m JOIN users u ON u.id = m.user_id"
        " LEFT JOIN participant_profiles p ON p.user_id = m.user_id"
        " WHERE m.committee_id = ? AND m.status = 'active' ORDER BY m.id",
        (committee_id,),
    )
    return [
        (
            Member(
                r["member_id"],
                r["committee_id"],
                r["user_id"],
                MemberType(r["member_type"]),
                MemberStatus(r["status"]),
                r["display_name"],
            ),
            from_row(r),
        )
        for r in rows
    ]


async def of_user(
    conn: Connection,
    user_id: int,
    statuses: tuple[MemberStatus, ...] = (
        MemberStatus.PENDING,
        MemberStatus.ACTIVE,
    ),
) -> list[tuple[Member, Committee]]:
    marks = ", ".join("?" for _ in statuses)
    rows = await fetch_all(
        conn,
        _MEMBER_SQL + f" WHERE m.user_id = ? AND m.status IN ({marks}) ORDER BY m.id",
        (user_id, *(s.value for s in statuses)),
    )
    found: list[tuple[Member, Committee]] = []
    for row in rows:
        got = _member(row)
        committee = await get(conn, got.committee_id)
        if committee is not None:
            found.append((got, committee))
    return found


async def is_secretary(conn: Connection, user_id: int, committee: Committee) -> bool:
    """Secretary of this committee (or everywhere)."""
    return await roles.has_role(conn, user_id, Role.CCSC_SECRETARY, committee.code)


async def may_manage(conn: Connection, user_id: int, committee: Committee) -> bool:
    """A coordinator, or a secretary of this committee: who approves, removes, reads figures."""
    return await roles.has_role(conn, user_id, Role.COORDINATOR) or await is_secretary(
        conn, user_id, committee
    )


async def managers(conn: Connection, committee: Committee) -> list[User]:
    """The committee's secretaries and the coordinators, each once."""
    return await roles.people(conn, (Role.CCSC_SECRETARY, Role.COORDINATOR), (None, committee.code))


async def managed_by(conn: Connection, user_id: int) -> list[Committee]:
    """Committees whose members and figures this person may see."""
    everything = await all_committees(conn)
    return [c for c in everything if await may_manage(conn, user_id, c)]


# --- participant profiles ---------------------------------------------------------------------


async def profile(conn: Connection, user_id: int) -> Profile | None:
    row = await fetch_one(
        conn,
        "SELECT sex, age_group, display_name FROM participant_profiles WHERE user_id = ?",
        (user_id,),
    )
    return Profile(row["sex"], row["age_group"], row["display_name"]) if row else None


async def save_profile(
    conn: Connection,
    user_id: int,
    sex: str,
    age_group: str,
    display_name: str | None,
    now: datetime,
) -> None:
    if sex not in SEXES or age_group not in AGE_GROUPS:
        raise ValueError("unknown sex or age group")
    await conn.execute(
        "INSERT INTO participant_profiles (user_id, sex, age_group, display_name, updated_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET sex = excluded.sex,"
        " age_group = excluded.age_group, display_name = excluded.display_name,"
        " updated_at = excluded.updated_at",
        (user_id, sex, age_group, display_name, to_db(now)),
    )
