"""`/bulletin semaine|mois [date]` and `/stats [period]`, for coordinators.

/bulletin gives the scheduled report's text and chart on demand: the week (Monday to Sunday)
or the month containing the date, or without a date the last whole week or month. /stats
gives the headline figures of this month, this week, this year or a month such as 2026-11.
Both read the bot's time zone; others are refused (and the refusal audited).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from bot.flow import Retry, Transition, Turn
from bot.i18n import Translator
from bot.inbound import CommandEvent, MediaKind
from bot.outbound import Media
from handlers.bulletins.chart import render
from handlers.bulletins.delivery import chart_path
from handlers.bulletins.figures import gather
from handlers.bulletins.periods import MONTH, WEEK, month_of, parse_day, parse_month, week_of
from handlers.bulletins.text import report_text, stats_text
from handlers.ccsc.figures import Period, period_for
from handlers.refusal import refuse
from storage import bulletins, roles
from storage.roles import Role

log = logging.getLogger(__name__)

_KIND_WORDS = {
    "semaine": WEEK,
    "hebdo": WEEK,
    "week": WEEK,
    "weekly": WEEK,
    "mois": MONTH,
    "mensuel": MONTH,
    "month": MONTH,
    "monthly": MONTH,
}


def _usage(t: Translator) -> str:
    return t._(
        "Utilisation : /bulletin semaine [DATE] ou /bulletin mois [DATE]. DATE : un jour "
        "(20/11/2026 ou 2026-11-20) pour la semaine ou le mois qui le contient, ou un mois "
        "(2026-11). Sans date : la dernière semaine ou le dernier mois complet."
    )


def requested_period(args: str, today: date) -> Period | None:
    """The period `/bulletin` asks for; None when the words cannot be read."""
    words = args.lower().split()
    if len(words) > 2:
        return None
    kind: str | None = None
    day: date | None = None
    month: date | None = None
    for word in words:
        if word in _KIND_WORDS and kind is None:
            kind = _KIND_WORDS[word]
        elif (found := parse_day(word)) is not None and day is None and month is None:
            day = found
        elif (found := parse_month(word)) is not None and day is None and month is None:
            month = found
        else:
            return None
    if month is not None:
        return month_of(month) if kind in (None, MONTH) else None
    if kind == MONTH:
        return month_of(day) if day else month_of(today.replace(day=1) - timedelta(days=1))
    return week_of(day) if day else week_of(today - timedelta(days=7))


async def _is_coordinator(turn: Turn) -> bool:
    return await roles.has_role(turn.conn, turn.user.id, Role.COORDINATOR)


async def bulletin(turn: Turn, event: CommandEvent) -> Transition:
    """/bulletin semaine|mois [date]: the report's chart and text, to forward or edit."""
    t = turn.t
    if not await _is_coordinator(turn):
        await refuse(turn, "bulletin", "bulletin")
        return Retry()
    zone = turn.settings.timezone
    today = turn.now.astimezone(zone).date()
    period = requested_period(event.args, today)
    if period is None:
        turn.note(
            t._("Je ne comprends pas « {words} ».", words=event.args.strip()[:30])
            + "\n"
            + _usage(t)
        )
        return Retry()
    if period.start > today:
        turn.note(t._("Cette période n'a pas encore commencé.") + "\n" + _usage(t))
        return Retry()
    found = await gather(
        turn.conn,
        period,
        zone,
        turn.now,
        with_ccsc=period.kind == MONTH,
        youth_max_age=turn.settings.youth_max_age,
    )
    name = f"{period.kind}-{period.start.isoformat()}-user{turn.user.id}"
    try:
        drawn = await render(t, found, chart_path(turn.settings, name, t))
    except OSError as error:  # the text is worth sending without its chart
        log.warning("bulletin chart not written: %s", type(error).__name__)
        drawn = None
    if drawn is not None:
        await bulletins.record_chart(turn.conn, str(drawn), None, turn.now)
        turn.out.append(Media("", kind=MediaKind.PHOTO, path=str(drawn)))
    turn.say(report_text(t, found))
    return Retry()


def _stats_usage(t: Translator) -> str:
    return t._(
        "Utilisation : /stats [PÉRIODE]. PÉRIODE : mois (par défaut), semaine, annee, ou un "
        "mois comme 2026-11."
    )


async def stats(turn: Turn, event: CommandEvent) -> Transition:
    """/stats [period]: the headline figures in the chat."""
    t = turn.t
    if not await _is_coordinator(turn):
        await refuse(turn, "stats", "stats")
        return Retry()
    words = event.args.split()
    zone = turn.settings.timezone
    period = period_for(words[0] if len(words) == 1 else "", turn.now.astimezone(zone).date())
    if period is None or len(words) > 1:
        turn.note(
            t._("Je ne comprends pas la période « {period} ».", period=event.args.strip()[:20])
            + "\n"
            + _stats_usage(t)
        )
        return Retry()
    found = await gather(turn.conn, period, zone, turn.now)
    turn.note(stats_text(t, found))
    return Retry()
