"""Who may decide on a report: checked on the server at every press, never trusted from a
button. A coordinator may everywhere; a validator everywhere or in their scope (a region
code, or a cercle/commune code). Everyone else is refused (`handlers.refusal`)."""

from __future__ import annotations

from storage import roles
from storage.database import Connection
from storage.reports import Report
from storage.roles import Role


async def may_review(conn: Connection, user_id: int, report: Report) -> bool:
    if await roles.has_role(conn, user_id, Role.COORDINATOR):
        return True
    scopes: list[str | None] = [s for s in (report.region, report.cercle) if s] or [None]
    for scope in scopes:
        if await roles.has_role(conn, user_id, Role.VALIDATOR, scope):
            return True
    return False
