"""The weeks and months the reports cover, and how they read. Periods are days in the bot's
time zone: a week asked by date is the calendar week (Monday to Sunday) holding it, the week
of a scheduled report is the seven days before the day it is sent (the same, with the default
Monday), and months are calendar months.

A period is `handlers.ccsc.figures.Period` (first day, first day after, kind), the one the
participation figures use, so that /stats, /participation and the bulletins agree on what
"this month" is.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo

from babel.dates import format_interval, format_skeleton

from bot.i18n import Translator
from handlers.ccsc.figures import Period

WEEK = "week"
MONTH = "month"
YEAR = "year"


def week_of(day: date) -> Period:
    start = day - timedelta(days=day.weekday())
    return Period(start, start + timedelta(days=7), WEEK)


def month_of(day: date) -> Period:
    start = day.replace(day=1)
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return Period(start, end, MONTH)


def seven_days_before(day: date) -> Period:
    """The week a report sent on `day` covers: the seven days before it (Monday to Sunday
    for a report sent on a Monday, the default)."""
    return Period(day - timedelta(days=7), day, WEEK)


def previous(period: Period) -> Period:
    """The period of the same kind just before (the one a report compares with)."""
    before = period.start - timedelta(days=1)
    if period.kind == WEEK:
        return Period(period.start - timedelta(days=7), period.start, WEEK)
    if period.kind == MONTH:
        return month_of(before)
    return Period(date(before.year, 1, 1), period.start, period.kind)


def weeks_in(period: Period) -> list[Period]:
    """The weeks that overlap a period, each cut to it (a month's first and last weeks are
    short): the bars of a month's trend chart."""
    found: list[Period] = []
    start = period.start
    while start < period.end:
        week = week_of(start)
        found.append(Period(start, min(week.end, period.end), WEEK))
        start = week.end
    return found


def bounds(period: Period, zone: tzinfo) -> tuple[datetime, datetime]:
    """The instants the period runs between: local midnights."""
    return (
        datetime.combine(period.start, time(0), zone),
        datetime.combine(period.end, time(0), zone),
    )


def last_day(period: Period) -> date:
    return period.end - timedelta(days=1)


# --- reading dates typed by coordinators ---------------------------------------------------

_DAY_FR = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_DAY_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MONTH_ISO = re.compile(r"^(\d{4})-(\d{1,2})$")


def _valid(year: int, month: int, day: int) -> date | None:
    if not 2000 <= year <= 2100:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_day(text: str) -> date | None:
    """ "20/11/2026" (also 20.11.2026) or "2026-11-20"; None when it is not a real date."""
    word = text.strip()
    if match := _DAY_FR.match(word):
        return _valid(int(match[3]), int(match[2]), int(match[1]))
    if match := _DAY_ISO.match(word):
        return _valid(int(match[1]), int(match[2]), int(match[3]))
    return None


def parse_month(text: str) -> date | None:
    """ "2026-11": the first day of that month."""
    match = _MONTH_ISO.match(text.strip())
    return _valid(int(match[1]), int(match[2]), 1) if match else None


# --- how a period reads --------------------------------------------------------------------


def short_day(t: Translator, day: date) -> str:
    """ "18 nov." / "Nov 18": a day within a report whose period gives the year."""
    return format_skeleton("MMMd", day, locale=t.locale)


def label(t: Translator, period: Period) -> str:
    """ "16–22 nov. 2026", "novembre 2026" or "2026", in the reader's language."""
    if period.kind == MONTH and period == month_of(period.start):
        return format_skeleton("yMMMM", period.start, locale=t.locale)
    if period.kind == YEAR and period.start.month == 1 and period.start.day == 1:
        return format_skeleton("y", period.start, locale=t.locale)
    end = last_day(period)
    if end == period.start:
        return format_skeleton("yMMMd", period.start, locale=t.locale)
    return format_interval(period.start, end, "yMMMd", locale=t.locale)
