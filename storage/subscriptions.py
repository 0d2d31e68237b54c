"""Alert subscriptions, the STOP pause, and who receives a validated alert.

A person follows areas (all Mali, a region, a Bamako commune) from a minimum severity, at once
or in a daily digest. Focal points need no row: their role's scope is their subscription,
always at once, so that a focal point named by a coordinator is never forgotten by a missing
`/alertes`. STOP pauses everything (rows and role alike) until `/alertes` resumes it: someone
who asked for silence must get silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.database import Connection, fetch_all, fetch_one, from_db, to_db
from storage.roles import Role

#: severities run from 1 (information) to 4 (urgence); 4 always goes at once
MIN_SEVERITY = 1
URGENT = 4

NOW = "now"
DIGEST = "digest"


class AreaKind(StrEnum):
    MALI = "mali"
    REGION = "region"
    COMMUNE = "commune"


@dataclass(frozen=True)
class Subscription:
    id: int
    kind: AreaKind
    #: '' for all Mali
    code: str
    min_severity: int
    delivery: str
    digest_hour: int | None
    created_at: datetime


@dataclass(frozen=True)
class Recipient:
    """One person to tell about one alert, and how."""

    user_id: int
    channel: str
    chat_id: str
    language: str | None
    #: "now" or "digest"
    delivery: str
    #: local hour (KIBARU_TIMEZONE) of the digest; None when delivery is "now"
    digest_hour: int | None


def _check(kind: AreaKind, code: str, min_severity: int, delivery: str, hour: int | None) -> None:
    if (kind is AreaKind.MALI) != (code == ""):
        raise ValueError("all Mali has no area code; a region or commune needs one")
    if not MIN_SEVERITY <= min_severity <= URGENT:
        raise ValueError(f"severity {min_severity} is not between 1 and 4")
    if delivery == NOW and hour is not None:
        raise ValueError("an alert sent at once has no digest hour")
    if delivery == DIGEST and (hour is None or not 0 <= hour <= 23):
        raise ValueError("a digest needs an hour between 0 and 23")
    if delivery not in (NOW, DIGEST):
        raise ValueError(f"unknown delivery {delivery!r}")


async def subscribe(
    conn: Connection,
    user_id: int,
    kind: AreaKind,
    code: str,
    min_severity: int,
    delivery: str,
    digest_hour: int | None,
    now: datetime,
) -> bool:
    """Follow an area; choosing an area again replaces its settings. True if it is new.

    Subscribing is asking for alerts, so it also lifts a STOP pause.
    """
    _check(kind, code, min_severity, delivery, digest_hour)
    existing = await fetch_one(
        conn,
        "SELECT 1 FROM subscriptions WHERE user_id = ? AND area_kind = ? AND area_code = ?",
        (user_id, kind.value, code),
    )
    await conn.execute(
        "INSERT INTO subscriptions"
        " (user_id, area_kind, area_code, min_severity, delivery, digest_hour, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id, area_kind, area_code) DO UPDATE SET"
        " min_severity = excluded.min_severity, delivery = excluded.delivery,"
        " digest_hour = excluded.digest_hour",
        (user_id, kind.value, code, min_severity, delivery, digest_hour, to_db(now)),
    )
    await resume(conn, user_id)
    return existing is None


async def of_user(conn: Connection, user_id: int) -> list[Subscription]:
    """A person's subscriptions, all Mali first, then in the order they were made."""
    rows = await fetch_all(
        conn,
        "SELECT id, area_kind, area_code, min_severity, delivery, digest_hour, created_at"
        " FROM subscriptions WHERE user_id = ?"
        " ORDER BY area_kind != 'mali', created_at, id",
        (user_id,),
    )
    return [
        Subscription(
            id=r["id"],
            kind=AreaKind(r["area_kind"]),
            code=r["area_code"],
            min_severity=r["min_severity"],
            delivery=r["delivery"],
            digest_hour=r["digest_hour"],
            created_at=from_db(r["created_at"]),
        )
        for r in rows
    ]


async def remove(conn: Connection, user_id: int, subscription_id: int) -> bool:
    """Stop following one area; False if it was not this person's (or is already gone)."""
    cursor = await conn.execute(
        "DELETE FROM subscriptions WHERE id = ? AND user_id = ?", (subscription_id, user_id)
    )
    return cursor.rowcount > 0


async def pause(conn: Connection, user_id: int, now: datetime) -> bool:
    """STOP: no alert at all until resumed. False if already paused (the first time stays)."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO alert_pauses (user_id, paused_at) VALUES (?, ?)",
        (user_id, to_db(now)),
    )
    return cursor.rowcount > 0


async def resume(conn: Connection, user_id: int) -> bool:
    """Lift a STOP pause; False if there was none."""
    cursor = await conn.execute("DELETE FROM alert_pauses WHERE user_id = ?", (user_id,))
    return cursor.rowcount > 0


async def paused_since(conn: Connection, user_id: int) -> datetime | None:
    row = await fetch_one(conn, "SELECT paused_at FROM alert_pauses WHERE user_id = ?", (user_id,))
    return from_db(row["paused_at"]) if row else None


async def focal_scopes(conn: Connection, user_id: int) -> list[str | None]:
    """The areas a focal point receives alerts for by their role (None: everywhere)."""
    rows = await fetch_all(
        conn,
        "SELECT scope FROM roles WHERE user_id = ? AND role = ? ORDER BY scope",
        (user_id, Role.FOCAL_POINT.value),
    )
    return [r["scope"] or None for r in rows]


async def recipients(
    conn: Connection, *, region: str | None, commune_or_cercle: str | None, severity: int
) -> list[Recipient]:
    """Everyone an alert of this severity in this place must reach, each once.

    A subscription matches when it follows all Mali, the alert's region or its commune (or
    cercle) and asks for this severity or less; a focal point matches when their scope is
    everywhere, the region or the commune. When several match, the most urgent delivery wins
    (at once beats digest; between digests, the earliest hour). Severity 4 always goes at
    once. Paused people, and people who blocked the bot, are left out.
    """
    if not MIN_SEVERITY <= severity <= URGENT:
        raise ValueError(f"severity {severity} is not between 1 and 4")
    urgent = severity >= URGENT
    rows = await conn.execute_fetchall(
        "WITH matches (user_id, digest, hour) AS ("
        "  SELECT user_id, delivery = 'digest', digest_hour FROM subscriptions"
        "  WHERE min_severity <= :severity AND ("
        "    area_kind = 'mali'"
        "    OR (area_kind = 'region' AND area_code = :region)"
        "    OR (area_kind = 'commune' AND area_code = :commune))"
        "  UNION ALL"
        "  SELECT user_id, 0, NULL FROM roles"
        "  WHERE role = :focal AND (scope = '' OR scope = :region OR scope = :commune)"
        ")"
        " SELECT u.id, u.channel, u.chat_id, u.language,"
        "  MIN(m.digest) AS digest, MIN(m.hour) AS hour"
        " FROM matches m JOIN users u ON u.id = m.user_id"
        " WHERE NOT EXISTS (SELECT 1 FROM alert_pauses p WHERE p.user_id = u.id)"
        " AND u.blocked_at IS NULL"
        " GROUP BY u.id ORDER BY u.id",
        {
            "severity": severity,
            "region": region,
            "commune": commune_or_cercle,
            "focal": Role.FOCAL_POINT.value,
        },
    )
    found: list[Recipient] = []
    for r in rows:
        digest = bool(r["digest"]) and not urgent
        found.append(
            Recipient(
                user_id=r["id"],
                channel=r["channel"],
                chat_id=r["chat_id"],
                language=r["language"],
                delivery=DIGEST if digest else NOW,
                digest_hour=r["hour"] if digest else None,
            )
        )
    return found


async def followers(
    conn: Connection, area: str | None, enclosing: str | None = None
) -> list[Recipient]:
    """Everyone who follows an area or a place inside it, and its focal points: the audience
    of an announcement (all of them, whatever their minimum severity, at once).

    `area` None is all Mali: every subscriber and every focal point. A region takes in its
    communes and cercles (whose codes start with the region's code and "_"), and the people
    who follow all Mali; a commune or cercle, the people who follow its `enclosing` region.
    """
    inside = f"{area}\\_%" if area is not None else None
    rows = await conn.execute_fetchall(
        "WITH matches (user_id) AS ("
        "  SELECT user_id FROM subscriptions"
        "  WHERE :area IS NULL OR area_kind = 'mali' OR area_code = :area"
        "   OR area_code = :enclosing"
        "   OR area_code LIKE :inside ESCAPE '\\'"
        "  UNION"
        "  SELECT user_id FROM roles WHERE role = :focal AND ("
        "   :area IS NULL OR scope = '' OR scope = :area OR scope = :enclosing"
        "   OR scope LIKE :inside ESCAPE '\\')"
        ")"
        " SELECT u.id, u.channel, u.chat_id, u.language FROM matches m"
        " JOIN users u ON u.id = m.user_id"
        " WHERE NOT EXISTS (SELECT 1 FROM alert_pauses p WHERE p.user_id = u.id)"
        " AND u.blocked_at IS NULL ORDER BY u.id",
        {"area": area, "enclosing": enclosing, "inside": inside, "focal": Role.FOCAL_POINT.value},
    )
    return [Recipient(r["id"], r["channel"], r["chat_id"], r["language"], NOW, None) for r in rows]
