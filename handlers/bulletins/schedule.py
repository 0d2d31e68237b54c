"""Which report is due: a pure function of the moment and of the periods already sent.

The scheduler's cron trigger (bot/scheduler.py) and the start-up catch-up call the same
`due_period`; it does not matter when it is called, only what the clock says and what was
recorded. Called late (the bot was down at 08:00 on Monday), it still finds last week due and
unsent; called twice, it finds it sent. Only the latest period is caught up: after two weeks
of downtime the report of the week before last is stale news (/bulletin gives it on demand).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta, tzinfo

from bot.settings import ReportTime
from handlers.bulletins.periods import month_of, seven_days_before
from handlers.ccsc.figures import Period

WEEKLY = "weekly"
MONTHLY = "monthly"
KINDS = (WEEKLY, MONTHLY)


def last_due(kind: str, when: ReportTime, now: datetime, zone: tzinfo) -> datetime:
    """The latest moment at or before `now` when a report of `kind` was due, local time."""
    local = now.astimezone(zone)
    today = local.date()
    if kind == WEEKLY:
        day = today - timedelta(days=(today.weekday() - when.day) % 7)
        moment = datetime.combine(day, when.at, zone)
        if moment > local:
            moment = datetime.combine(day - timedelta(days=7), when.at, zone)
        return moment
    moment = datetime.combine(today.replace(day=when.day), when.at, zone)
    if moment > local:
        earlier = month_of(today.replace(day=1) - timedelta(days=1)).start
        moment = datetime.combine(earlier.replace(day=when.day), when.at, zone)
    return moment


def reported_period(kind: str, day: date) -> Period:
    """What a report sent on `day` covers: the seven days before, or the last whole month."""
    if kind == WEEKLY:
        return seven_days_before(day)
    return month_of(day.replace(day=1) - timedelta(days=1))


def due_period(
    kind: str,
    when: ReportTime,
    now: datetime,
    zone: tzinfo,
    recorded: Collection[date],
    since: datetime | None = None,
) -> Period | None:
    """The period whose report is due and not yet sent, if any.

    `recorded` holds the first days of the periods sent already; `since` is when the
    database got bulletins: a report due before then is not sent (a new installation does
    not start by sending last week's report)."""
    moment = last_due(kind, when, now, zone)
    if since is not None and moment < since:
        return None
    period = reported_period(kind, moment.date())
    return None if period.start in recorded else period
