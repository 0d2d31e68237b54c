"""What happened and when: the category, the day, and (if known) the time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time, timedelta

from bot.flow import ChoiceStep, Goto, Option, Retry, TextStep, Transition, Turn
from bot.inbound import InboundEvent, TextEvent
from bot.matching import match_option
from handlers.report import categories
from handlers.report.flow import next_step
from handlers.report.when import (
    DateProblem,
    DayPeriod,
    TimeProblem,
    parse_date,
    parse_time,
)
from storage.database import to_db


def today(turn: Turn) -> date:
    """The reporter's today, in the network's time zone (not the server's)."""
    return turn.now.astimezone(turn.settings.timezone).date()


class Category(ChoiceStep):
    name = "category"
    columns = 2

    async def question(self, turn: Turn) -> str:
        return turn.t._("🚨 Qu'avez-vous vu ou entendu ? Choisissez le type d'incident :")

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option(c.code, f"{c.emoji} {turn.t._(c.label)}", (c.label,))
            for c in categories.CATEGORIES
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers["category"] = key
        turn.answers.setdefault("_started", to_db(turn.now))
        return next_step(turn, "when")


class When(ChoiceStep):
    name = "when"

    async def question(self, turn: Turn) -> str:
        return turn.t._("📅 Quand est-ce arrivé ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        t = turn.t
        return (
            Option("now", t._("En ce moment"), ("maintenant", "now", "sisan")),
            Option("today", t._("Aujourd'hui"), ("aujourd'hui", "today", "bi")),
            Option("yesterday", t._("Hier"), ("hier", "yesterday", "kunu")),
            Option("other", t._("Un autre jour"), ("autre", "other")),
        )

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        # A date typed straight away ("12/03") is taken as the answer to "another day"; the
        # options' own words ("maintenant", "sisan", "hier") keep their meaning first.
        options = await self.options(turn)
        if isinstance(event, TextEvent) and match_option(event.text, options) is None:
            parsed = parse_date(event.text, today(turn), turn.t.language)
            if not isinstance(parsed, DateProblem):
                turn.answers["occurred_on"] = parsed.isoformat()
                turn.answers.pop("occurred_time", None)
                turn.answers.pop("day_period", None)
                return Goto("time")
        return await super().answer(turn, event)

    async def chosen(self, turn: Turn, key: str) -> Transition:
        day = today(turn)
        turn.answers.pop("occurred_time", None)
        turn.answers.pop("day_period", None)
        if key == "other":
            return Goto("date")
        if key == "yesterday":
            day -= timedelta(days=1)
        turn.answers["occurred_on"] = day.isoformat()
        if key == "now":
            local = turn.now.astimezone(turn.settings.timezone)
            turn.answers["occurred_time"] = local.strftime("%H:%M")
            return next_step(turn, "where")
        return Goto("time")


class Day(TextStep):
    name = "date"

    async def question(self, turn: Turn) -> str:
        example = turn.t.date(today(turn) - timedelta(days=3), "long")
        return turn.t._(
            "Écrivez la date, par exemple 12/03 ou {example}.",
            example=example,
        )

    async def typed(self, turn: Turn, text: str) -> Transition:
        t = turn.t
        parsed = parse_date(text, today(turn), t.language)
        if parsed is DateProblem.FUTURE:
            return Retry(t._("Cette date est dans le futur. Écrivez le jour où c'est arrivé."))
        if parsed is DateProblem.TOO_OLD:
            return Retry(
                t._(
                    "Cette date a plus d'un an. Kibaru reçoit les incidents de moins d'un an ; "
                    "écrivez une date plus récente."
                )
            )
        if parsed is DateProblem.IMPOSSIBLE:
            return Retry(t._("Cette date n'existe pas. Vérifiez le jour et le mois."))
        if isinstance(parsed, DateProblem):
            return Retry(t._("Je n'ai pas compris cette date. Écrivez par exemple 12/03."))
        turn.answers["occurred_on"] = parsed.isoformat()
        return Goto("time")


_PERIOD_KEYS = {p.value: p for p in DayPeriod}


class TimeOfDay(ChoiceStep):
    """Optional: a part of the day, an hour typed, or "don't know"."""

    name = "time"
    columns = 2

    async def question(self, turn: Turn) -> str:
        return turn.t._(
            "🕒 À quelle heure, à peu près ? Choisissez, ou écrivez l'heure (ex. 14h30)."
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        t = turn.t
        return (
            Option("morning", t._("Le matin"), ("matin", "morning")),
            Option("afternoon", t._("L'après-midi"), ("apres midi", "afternoon")),
            Option("evening", t._("Le soir"), ("soir", "evening")),
            Option("night", t._("La nuit"), ("nuit", "night")),
            Option("unknown", t._("Je ne sais pas"), ("sais pas", "unknown", "don't know")),
        )

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        options = await self.options(turn)
        if isinstance(event, TextEvent) and match_option(event.text, options) is None:
            parsed = parse_time(event.text)
            if isinstance(parsed, time):
                if self._in_future(turn, parsed):
                    return Retry(turn.t._("Cette heure n'est pas encore passée aujourd'hui."))
                turn.answers["occurred_time"] = parsed.strftime("%H:%M")
                turn.answers.pop("day_period", None)
                return next_step(turn, "where")
            if isinstance(parsed, DayPeriod):
                return await self.chosen(turn, parsed.value)
            if parsed is TimeProblem.IMPOSSIBLE:
                return Retry(turn.t._("Cette heure n'existe pas. Écrivez par exemple 14h30."))
        return await super().answer(turn, event)

    def _in_future(self, turn: Turn, moment: time) -> bool:
        local = turn.now.astimezone(turn.settings.timezone)
        return turn.answers.get("occurred_on") == local.date().isoformat() and moment > local.time()

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers.pop("occurred_time", None)
        turn.answers["day_period"] = key if key in _PERIOD_KEYS else None
        return next_step(turn, "where")
