"""Who receives a validated alert, each once, in their language, through the outbox.

A public alert goes to the subscribers of its area whose minimum severity it reaches and to
the area's focal points (`storage.subscriptions.recipients`); a staff-only alert to focal
points of the area, validators and coordinators. Each (alert, recipient) is one outbox row
with a unique key, so validating twice, or a crash in the middle, never queues anyone twice.
Subscribers who chose a daily digest get one message a day at their hour: one outbox row per
(subscriber, day), held until then, to which each new alert adds its line while it waits
(severity 4 never waits: `recipients` already says "now" for it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from handlers.dissemination.alert_text import alert_text
from storage import outbox, roles, subscriptions
from storage.database import Connection, fetch_one
from storage.outbox import Outgoing
from storage.reports import Report
from storage.review import Alert, Audience
from storage.roles import Role
from storage.subscriptions import Recipient


def alert_key(alert: Alert, user_id: int) -> str:
    return f"alert:{alert.id}:{user_id}"


def next_digest_time(now: datetime, hour: int, timezone: ZoneInfo) -> datetime:
    """The next time the clock shows `hour`:00 where the subscriber lives."""
    local = now.astimezone(timezone)
    due = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if due <= local:
        due += timedelta(days=1)
    return due


async def _staff(conn: Connection, report: Report) -> list[Recipient]:
    """Focal points, validators and coordinators of the area, except those who said STOP:
    a pause holds "whatever the subscriptions and roles say"."""
    staff = (Role.FOCAL_POINT, Role.VALIDATOR, Role.COORDINATOR)
    return [
        Recipient(user.id, user.channel, user.chat_id, user.language, "now", None)
        for user in await roles.people(conn, staff, {None, report.region, report.cercle})
        if await subscriptions.paused_since(conn, user.id) is None
    ]


async def disseminate(
    conn: Connection,
    report: Report,
    alert: Alert,
    translator_for: Callable[[str | None], Translator],
    now: datetime,
    timezone: ZoneInfo,
) -> int:
    """Queue the alert for everyone concerned; how many rows were queued."""
    if alert.audience is Audience.PUBLIC:
        found = await subscriptions.recipients(
            conn, region=report.region, commune_or_cercle=report.cercle, severity=alert.severity
        )
        staff = await _staff(conn, report)
        known = {r.user_id for r in found}
        found += [r for r in staff if r.user_id not in known]
    else:
        found = await _staff(conn, report)
    texts: dict[str | None, str] = {}
    queued = 0
    for recipient in found:
        t = translator_for(recipient.language)
        if recipient.delivery == "digest" and recipient.digest_hour is not None:
            due = next_digest_time(now, recipient.digest_hour, timezone)
            queued += await add_to_digest(conn, recipient, t, report, alert, due, now)
            continue
        if recipient.language not in texts:
            texts[recipient.language] = alert_text(t, report, alert)
        queued += await outbox.enqueue(
            conn,
            key=alert_key(alert, recipient.user_id),
            kind="alert",
            channel=recipient.channel,
            chat_id=recipient.chat_id,
            user_id=recipient.user_id,
            outgoing=Outgoing(texts[recipient.language]),
            now=now,
            batch=report.reference,
        )
    return queued


def digest_key(user_id: int, due: datetime) -> str:
    return f"digest:{user_id}:{due.astimezone(UTC).isoformat(timespec='minutes')}"


async def add_to_digest(
    conn: Connection,
    recipient: Recipient,
    t: Translator,
    report: Report,
    alert: Alert,
    due: datetime,
    now: datetime,
) -> int:
    """Add the alert to the subscriber's next digest; 1 if a new digest was started."""
    key = digest_key(recipient.user_id, due)
    entry = alert_text(t, report, alert)
    row = await fetch_one(
        conn, "SELECT payload FROM outbox WHERE key = ? AND status = 'queued'", (key,)
    )
    if row is not None:
        waiting = Outgoing.from_json(row["payload"])
        grown = Outgoing(waiting.text + "\n\n— — —\n\n" + entry)
        await conn.execute(
            "UPDATE outbox SET payload = ? WHERE key = ? AND status = 'queued'",
            (grown.to_json(), key),
        )
        return 0
    header = t._("🗞️ Vos alertes, {day} :", day=t.date(due.date(), "long"))
    return int(
        await outbox.enqueue(
            conn,
            key=key,
            kind="digest",
            channel=recipient.channel,
            chat_id=recipient.chat_id,
            user_id=recipient.user_id,
            outgoing=Outgoing(header + "\n\n" + entry),
            now=now,
            not_before=due,
        )
    )
