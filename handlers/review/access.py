"""Who may decide on a report: checked on the server at every press, never trusted from a
button. A coordinator may everywhere; a validator everywhere or in their scope (a region
code, or a cercle/commune code). Everyone else is refused (`handlers.refusal`)."""

from __future__ import annotations

from storage import roles
from storage.database import Connection
from storage.reports import Report
from storage.roles import Role


async def reviews_somewhere(conn: Connection, user_id: int) -> bool:
    """A coordinator, or a validator of any scope: who may see the queue at all. Anyone else
    is refused before a report is even looked up, so a crafted button does not tell them
    which report numbers exist."""
    if await roles.has_role(conn, user_id, Role.COORDINATOR):
        return True
    return any(g.role is Role.VALIDATOR for g in await roles.of_user(conn, user_id))


async def may_review(conn: Connection, user_id: int, report: Report) -> bool:
    if await roles.has_role(conn, user_id, Role.COORDINATOR):
        return True
    scopes: list[str | None] = [s for s in (report.region, report.cercle) if s] or [None]
    for scope in scopes:
        if await roles.has_role(conn, user_id, Role.VALIDATOR, scope):
            return True
    return False
