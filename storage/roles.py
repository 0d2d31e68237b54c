"""Roles with an optional scope (a region or commune code), every change audited."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage import audit
from storage.database import Connection, fetch_all, fetch_one, to_db
from storage.users import User, get_or_create
from storage.users import get as get_user


class Role(StrEnum):
    COORDINATOR = "coordinator"
    VALIDATOR = "validator"
    FOCAL_POINT = "focal_point"
    CCSC_SECRETARY = "ccsc_secretary"
    CCSC_MEMBER = "ccsc_member"


@dataclass(frozen=True)
class Grant:
    role: Role
    #: None means everywhere
    scope: str | None


async def grant(
    conn: Connection,
    user_id: int,
    role: Role,
    now: datetime,
    scope: str | None = None,
    by: int | None = None,
) -> bool:
    """Give a role; False if the user already had it (nothing audited then)."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO roles (user_id, role, scope, granted_at, granted_by)"
        " VALUES (?, ?, ?, ?, ?)",
        (user_id, role.value, scope or "", to_db(now), by),
    )
    if cursor.rowcount == 0:
        return False
    await audit.record(conn, now, "role.grant", by, f"user:{user_id}", _describe(role, scope))
    return True


async def revoke(
    conn: Connection,
    user_id: int,
    role: Role,
    now: datetime,
    scope: str | None = None,
    by: int | None = None,
) -> bool:
    cursor = await conn.execute(
        "DELETE FROM roles WHERE user_id = ? AND role = ? AND scope = ?",
        (user_id, role.value, scope or ""),
    )
    if cursor.rowcount == 0:
        return False
    await audit.record(conn, now, "role.revoke", by, f"user:{user_id}", _describe(role, scope))
    return True


def _describe(role: Role, scope: str | None) -> str:
    return f"{role.value}@{scope}" if scope else role.value


async def of_user(conn: Connection, user_id: int) -> list[Grant]:
    rows = await fetch_all(
        conn, "SELECT role, scope FROM roles WHERE user_id = ? ORDER BY role, scope", (user_id,)
    )
    return [Grant(Role(r["role"]), r["scope"] or None) for r in rows]


async def has_role(conn: Connection, user_id: int, role: Role, scope: str | None = None) -> bool:
    """True if the user holds the role everywhere, or for this scope when one is given."""
    row = await fetch_one(
        conn,
        "SELECT 1 FROM roles WHERE user_id = ? AND role = ? AND (scope = '' OR scope = ?)",
        (user_id, role.value, scope or ""),
    )
    return row is not None


async def holders(conn: Connection, role: Role) -> list[tuple[int, str | None]]:
    """(user id, scope) of everyone holding a role."""
    rows = await fetch_all(
        conn, "SELECT user_id, scope FROM roles WHERE role = ? ORDER BY user_id", (role.value,)
    )
    return [(r["user_id"], r["scope"] or None) for r in rows]


async def people(
    conn: Connection, wanted: Sequence[Role], scopes: Collection[str | None] | None = None
) -> list[User]:
    """Who holds any of these roles, each once (in the order of `wanted`, then by id); with
    `scopes`, only grants for one of them (None among them: granted everywhere)."""
    found: dict[int, User] = {}
    for role in wanted:
        for user_id, scope in await holders(conn, role):
            if (scopes is not None and scope not in scopes) or user_id in found:
                continue
            user = await get_user(conn, user_id)
            if user is not None:
                found[user_id] = user
    return list(found.values())


async def ensure_coordinators(
    conn: Connection, channel: str, chat_ids: list[str], now: datetime
) -> list[User]:
    """Make the configured admins coordinators (creating their user rows if needed)."""
    users: list[User] = []
    for chat_id in chat_ids:
        user, _ = await get_or_create(conn, channel, chat_id, now)
        await grant(conn, user.id, Role.COORDINATOR, now)
        users.append(user)
    return users
