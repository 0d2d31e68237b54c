"""The day and the hour of a session, typed the way people write them, in their language.

Shared by the creation and the "move" conversations. A refused answer says why and what to
type, and keeps everything already given (the day stays known while the hour is asked again).
"""

from __future__ import annotations

from datetime import date, datetime, time

from bot.flow import Goto, Retry, TextStep, Transition, Turn
from handlers.report.when import (
    DateProblem,
    TimeProblem,
    parse_time,
    parse_upcoming_date,
)
from handlers.sessions.common import when


def _shown(text: str) -> str:
    return text if len(text) <= 30 else text[:29] + "…"


class SessionDay(TextStep):
    name = "day"

    def __init__(self, next_step: str) -> None:
        self.next_step = next_step

    async def question(self, turn: Turn) -> str:
        return turn.t._("Quel jour ? Par exemple : 4/12, 3 décembre, demain.")

    async def typed(self, turn: Turn, text: str) -> Transition:
        today = turn.now.astimezone(turn.settings.timezone).date()
        day = parse_upcoming_date(text, today, turn.t.language)
        if isinstance(day, date):
            turn.answers["day"] = day.isoformat()
            return Goto(self.next_step)
        t = turn.t
        reasons = {
            DateProblem.TOO_OLD: t._("« {given} » est déjà passé.", given=_shown(text)),
            DateProblem.FUTURE: t._("« {given} » est plus d'un an à l'avance.", given=_shown(text)),
            DateProblem.IMPOSSIBLE: t._(
                "« {given} » n'existe pas dans le calendrier.", given=_shown(text)
            ),
        }
        reason = reasons.get(
            day, t._("Je n'ai pas compris la date « {given} ».", given=_shown(text))
        )
        return Retry(reason + " " + t._("Tapez un jour à venir, comme 4/12 ou « demain »."))


class SessionHour(TextStep):
    name = "hour"

    def __init__(self, next_step: str) -> None:
        self.next_step = next_step

    async def question(self, turn: Turn) -> str:
        day = date.fromisoformat(str(turn.answers["day"]))
        return turn.t._(
            "Le {day}, à quelle heure ? Par exemple : 10h, 15h30.", day=turn.t.date(day, "full")
        )

    async def typed(self, turn: Turn, text: str) -> Transition:
        t = turn.t
        parsed = parse_time(text)
        if parsed is TimeProblem.IMPOSSIBLE:
            return Retry(
                t._("« {given} » n'est pas une heure possible.", given=_shown(text))
                + " "
                + t._("Donnez une heure entre 0h et 23h59, par exemple 10h ou 15h30.")
            )
        if not isinstance(parsed, time):  # unreadable, or only "morning", "evening"
            return Retry(
                t._("Je n'ai pas compris l'heure « {given} ».", given=_shown(text))
                + " "
                + t._("Donnez une heure précise, par exemple 10h ou 15h30.")
            )
        day = date.fromisoformat(str(turn.answers["day"]))
        moment = datetime.combine(day, parsed, tzinfo=turn.settings.timezone)
        if moment <= turn.now:
            return Retry(
                t._("{when} est déjà passé.", when=when(t, moment))
                + " "
                + t._("Donnez une heure à venir, ou /retour pour changer le jour.")
            )
        turn.answers["starts_at"] = moment.isoformat()
        return Goto(self.next_step)
