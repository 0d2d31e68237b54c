"""The monthly rule: "first Thursday of each month at 10:00". A scheduled job keeps the
next three meetings of every active rule created, each invited like any other session; run
again, it creates nothing twice, and a meeting cancelled or moved within its month is not
brought back."""

from __future__ import annotations

import calendar
import logging
from datetime import date, datetime, time, timedelta

from babel.dates import format_date

from bot.clock import Clock
from bot.i18n import N_, Catalogs, Translator
from bot.settings import Settings
from handlers.sessions.common import Context, new_code
from handlers.sessions.invitations import invite_members, queue_roll_call
from storage import sessions, users
from storage.database import Database
from storage.sessions import Rule

log = logging.getLogger(__name__)

AHEAD = 3  # meetings kept created in advance
ORDINALS = {
    1: N_("premier"),
    2: N_("deuxième"),
    3: N_("troisième"),
    4: N_("quatrième"),
    5: N_("cinquième"),
    -1: N_("dernier"),
}


def nth_weekday(year: int, month: int, nth: int, weekday: int) -> date | None:
    """The nth (1 to 5, or -1: the last) weekday (0: Monday) of a month; None when the
    month has no fifth one."""
    days = [
        day
        for day in calendar.Calendar().itermonthdates(year, month)
        if day.month == month and day.weekday() == weekday
    ]
    if nth == -1:
        return days[-1]
    return days[nth - 1] if 1 <= nth <= len(days) else None


def rule_for(day: date) -> tuple[int, int]:
    """(nth, weekday) of a date: the 29th-31st are "the last" (a fifth is not in every
    month), the others first to fourth."""
    nth = (day.day - 1) // 7 + 1
    return (-1 if nth == 5 else nth), day.weekday()


def describe_rule(t: Translator, nth: int, weekday: int, at: time) -> str:
    some_day = date(2026, 1, 5) + timedelta(days=weekday)  # 5 January 2026 is a Monday
    return t._(
        "le {nth} {weekday} de chaque mois à {hour}",
        nth=t._(ORDINALS[nth]),
        weekday=format_date(some_day, "EEEE", locale=t.locale),
        hour=t.time(datetime.combine(some_day, at, tzinfo=t.timezone)),
    )


def _month_start(year: int, month: int, settings: Settings) -> datetime:
    return datetime(year, month, 1, tzinfo=settings.timezone)


def occurrences(
    rule: Rule, now: datetime, settings: Settings, count: int = AHEAD
) -> list[datetime]:
    """The next `count` starts after `now`, in local time."""
    local = now.astimezone(settings.timezone)
    year, month = local.year, local.month
    found: list[datetime] = []
    hour, minute = (int(part) for part in rule.local_time.split(":"))
    for _ in range(count * 4 + 1):  # months without a fifth weekday are skipped
        day = nth_weekday(year, month, rule.nth, rule.weekday)
        if day is not None:
            start = datetime.combine(day, time(hour, minute), tzinfo=settings.timezone)
            if start > now:
                found.append(start)
                if len(found) == count:
                    break
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


async def fill(ctx: Context, rules: list[Rule]) -> int:
    """Create what is missing of the next meetings of these rules; how many were created."""
    created = 0
    for rule in rules:
        for start in occurrences(rule, ctx.now, ctx.settings):
            first = _month_start(start.year, start.month, ctx.settings)
            following = _month_start(
                start.year + (start.month == 12), start.month % 12 + 1, ctx.settings
            )
            if await sessions.rule_has_session_between(ctx.conn, rule.id, first, following):
                continue
            session = await sessions.create(
                ctx.conn,
                committee_id=rule.committee_id,
                kind=rule.kind,
                title=rule.title,
                starts_at=start,
                place=rule.place,
                agenda=None,
                summary=None,
                checkin_code=new_code(),
                created_by=rule.created_by,
                now=ctx.now,
                rule_id=rule.id,
            )
            if session is None:
                continue
            created += 1
            await invite_members(ctx, session)
            if rule.created_by is not None:
                secretary = await users.get(ctx.conn, rule.created_by)
                if secretary is not None:
                    await queue_roll_call(ctx, session, secretary)
    return created


async def create_from_rules(
    db: Database, clock: Clock, settings: Settings, catalogs: Catalogs
) -> int:
    """The job: sessions created (and their invitations queued) this run."""
    async with db.transaction() as conn:
        ctx = Context(
            conn,
            clock.now(),
            settings,
            lambda language: catalogs.get(language or settings.default_language),
        )
        created = await fill(ctx, await sessions.active_rules(conn))
    if created:
        log.info("monthly rules: %d session(s) created", created)
    return created
