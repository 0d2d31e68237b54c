"""`/participation [committee] [period]`: participants, women, youth and FSI, by committee
and overall, from attendance and from RSVPs. Coordinators see every committee, secretaries
their own only; periods are read in the bot's time zone."""

from __future__ import annotations

from datetime import date, datetime, time

from bot.flow import Retry, Transition, Turn
from bot.i18n import Translator
from bot.inbound import CommandEvent
from handlers.ccsc.figures import (
    Figures,
    Participant,
    Period,
    attendance_rows,
    figures,
    period_for,
)
from handlers.ccsc.staff import pick_committee
from handlers.refusal import refuse
from storage import committees
from storage.committees import Committee


def describe(t: Translator, found: Figures) -> str:
    """'504 participants, dont 91 femmes (18 %), 165 jeunes (33 %) et 94 FSI'"""
    women = t.ngettext(
        "{n} femme ({percent} %)",
        "{n} femmes ({percent} %)",
        found.women,
        percent=t.number(found.women_percent),
    )
    youth = t.ngettext(
        "{n} jeune ({percent} %)",
        "{n} jeunes ({percent} %)",
        found.youth,
        percent=t.number(found.youth_percent),
    )
    return t.ngettext(
        "{n} participant, dont {women}, {youth} et {fsi} FSI",
        "{n} participants, dont {women}, {youth} et {fsi} FSI",
        found.participants,
        women=women,
        youth=youth,
        fsi=t.number(found.fsi),
    )


def _bounds(turn: Turn, period: Period) -> tuple[datetime, datetime]:
    zone = turn.settings.timezone

    def start_of(day: date) -> datetime:
        return datetime.combine(day, time(0), zone)

    return start_of(period.start), start_of(period.end)


def _usage(t: Translator) -> str:
    return t._(
        "Utilisation : /participation [CODE DU COMITÉ] [PÉRIODE]. PÉRIODE : mois (par défaut), "
        "semaine, annee, ou un mois comme 2026-11."
    )


async def participation(turn: Turn, event: CommandEvent) -> Transition:
    """/participation [code] [period], in any order."""
    t = turn.t
    mine = await committees.managed_by(turn.conn, turn.user.id)
    if not mine:  # refused before the arguments are read: their errors would say too much
        await refuse(turn, "participation", "committee:?")
        return Retry()
    code = ""
    period_word = ""
    for word in event.args.lower().split()[:3]:
        if word.startswith("ccsc") or await committees.by_code(turn.conn, word):
            code = word
        else:
            period_word = word
    today = turn.now.astimezone(turn.settings.timezone).date()
    period = period_for(period_word, today)
    if period is None:
        turn.note(
            t._("Je ne comprends pas la période « {period} ».", period=period_word[:20])
            + "\n"
            + _usage(t)
        )
        return Retry()
    chosen: list[Committee]
    if code:
        picked = await pick_committee(turn, code, "participation")
        if picked is False or picked is None:
            return Retry()
        chosen = [picked]
    else:
        chosen = mine
    start, end = _bounds(turn, period)
    heading = t._(
        "📊 Participation du {start} au {end}",
        start=t.date(period.start, "medium"),
        end=t.date(date.fromordinal(period.end.toordinal() - 1), "medium"),
    )
    lines = [heading]
    youth_max = turn.settings.youth_max_age
    present_all: list[Participant] = []
    rsvp_all: list[Participant] = []
    for committee in chosen:
        present = await attendance_rows(turn.conn, committee.id, start, end)
        rsvp = await attendance_rows(turn.conn, committee.id, start, end, attended=False)
        present_all += present
        rsvp_all += rsvp
        lines += [
            "",
            f"🏛️ {committee.name}",
            t._("Présents : {figures}", figures=describe(t, figures(present, youth_max))),
            t._("Inscrits (oui) : {figures}", figures=describe(t, figures(rsvp, youth_max))),
        ]
    if len(chosen) > 1:
        lines += [
            "",
            t._("🧮 Ensemble"),
            t._("Présents : {figures}", figures=describe(t, figures(present_all, youth_max))),
            t._("Inscrits (oui) : {figures}", figures=describe(t, figures(rsvp_all, youth_max))),
        ]
    turn.note("\n".join(lines))
    return Retry()
