"""The questions that add an area to follow: area → Bamako commune → severity → delivery → hour.

Short labels with a dot or an emoji, numbers that mean what they say (4 is Commune IV, 3 is
"alerte"), and typed names as well as taps: the people who answer read little and type on
cheap phones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.flow import ChoiceStep, Goto, Option, Retry, Step, Transition, Turn
from bot.inbound import ChoiceEvent, InboundEvent, TextEvent
from bot.matching import normalize
from bot.outbound import Button, Message, Question
from handlers.alerts import areas
from handlers.alerts.saving import clear_form, save
from handlers.alerts.severity import SEVERITIES, legend
from handlers.report import places
from storage.subscriptions import DIGEST, NOW, URGENT, AreaKind

_MALI = "mali"
_MALI_WORDS = ("mali", "tout le mali", "tout mali", "mali bee", "all mali", "whole mali")


class AreaChoice(ChoiceStep):
    """All Mali, or a region (Bamako then asks for the commune)."""

    name = "area"
    columns = 2

    async def question(self, turn: Turn) -> str:
        return turn.t._(
            "🗺️ Pour quelle zone voulez-vous recevoir les alertes ? Touchez un bouton ou "
            "écrivez le nom de la région."
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option(_MALI, turn.t._("🇲🇱 Tout le Mali"), _MALI_WORDS),
            *(
                Option(r.code, r.name, places.REGION_ALIASES.get(r.code, ()))
                for r in places.REGIONS
            ),
        ]

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        if isinstance(event, TextEvent) and not event.text.strip().isdigit():
            if normalize(event.text) in _MALI_WORDS:
                return await self.chosen(turn, _MALI)
            region = places.find_region(event.text)
            if region is not None:
                return await self.chosen(turn, region.code)
        return await super().answer(turn, event)

    async def chosen(self, turn: Turn, key: str) -> Transition:
        clear_form(turn)
        if key == _MALI:
            turn.answers.update(kind=AreaKind.MALI.value, code="")
            return Goto("severity")
        if key == places.BAMAKO.code:
            return Goto("commune")
        turn.answers.update(kind=AreaKind.REGION.value, code=key)
        return Goto("severity")


_ALL_BAMAKO = "bamako"


class CommuneChoice(ChoiceStep):
    """One of Bamako's six communes (numbered as they are: 4 is Commune IV), or all of them."""

    name = "commune"
    columns = 2

    async def question(self, turn: Turn) -> str:
        return turn.t._("Quelle commune de Bamako ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            *(Option(c.code, c.name) for c in places.BAMAKO.cercles),
            Option(
                _ALL_BAMAKO,
                turn.t._("🏙️ Tout Bamako"),
                ("tout bamako", "toutes", "tout", "all bamako", "bamako"),
            ),
        ]

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        if isinstance(event, TextEvent) and not event.text.strip().isdigit():
            found = places.find_cercle(places.BAMAKO, event.text)
            if found is not None:
                return await self.chosen(turn, found.code)
        return await super().answer(turn, event)

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == _ALL_BAMAKO:
            turn.answers.update(kind=AreaKind.REGION.value, code=places.BAMAKO.code)
        else:
            turn.answers.update(kind=AreaKind.COMMUNE.value, code=key)
        return Goto("severity")


class SeverityChoice(ChoiceStep):
    """From which severity; typing the level's number picks it (1 to 4)."""

    name = "severity"

    async def enter(self, turn: Turn) -> Goto | None:
        return None if "kind" in turn.answers else Goto("area")

    async def question(self, turn: Turn) -> str:
        t = turn.t
        return "\n\n".join(
            [
                t._(
                    "{area} : quelles alertes voulez-vous recevoir ?",
                    area=areas.area_name(
                        t, AreaKind(turn.answers["kind"]), str(turn.answers["code"])
                    ),
                ),
                legend(t),
            ]
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option(str(s.level), f"{s.emoji} {turn.t._(s.from_here)}", (turn.t._(s.name), s.name))
            for s in SEVERITIES
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        level = int(key)
        turn.answers["severity"] = level
        if level >= URGENT:
            turn.note(turn.t._("🔴 Les urgences arrivent toujours tout de suite."))
            return await save(turn, NOW, None)
        return Goto("delivery")


class DeliveryChoice(ChoiceStep):
    name = "delivery"

    async def enter(self, turn: Turn) -> Goto | None:
        return None if "severity" in turn.answers else Goto("severity")

    async def question(self, turn: Turn) -> str:
        return turn.t._(
            "Comment voulez-vous les recevoir ? (Les urgences 🔴 arrivent toujours tout de suite.)"
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        t = turn.t
        return (
            Option(NOW, t._("⚡ Tout de suite"), ("tout de suite", "maintenant", "sisan", "now")),
            Option(DIGEST, t._("🗓️ Un résumé par jour"), ("resume", "jour", "digest", "daily")),
        )

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == DIGEST:
            return Goto("hour")
        return await save(turn, NOW, None)


#: the hours offered as buttons; any other hour can be typed
_HOURS = (7, 12, 18, 20)
_HOUR = re.compile(r"^(\d{1,2})\s*(?:h|:|heures?)?\s*(\d{2})?$")


def parse_hour(text: str) -> int | None:
    """An hour of the day typed as "18", "18h", "18 h 00", "18:00" or "7 heures"."""
    found = _HOUR.match(" ".join(text.lower().split()))
    if found is None:
        return None
    hour = int(found.group(1))
    return hour if 0 <= hour <= 23 else None


class DigestHour(Step):
    """The digest's hour: a button, or any hour typed (numbers are hours here, not buttons)."""

    name = "hour"

    async def enter(self, turn: Turn) -> Goto | None:
        return None if "severity" in turn.answers else Goto("severity")

    async def ask(self, turn: Turn) -> Message:
        t = turn.t
        return Question(
            t._(
                "🕗 À quelle heure voulez-vous le résumé ? Touchez un bouton, ou écrivez "
                "l'heure de 0 à 23 (par exemple 21)."
            ),
            choices=tuple(Button(str(h), areas.hour_text(t, h)) for h in _HOURS),
            columns=2,
            numbered=False,
        )

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        hour: int | None = None
        if isinstance(event, ChoiceEvent) and event.key in {str(h) for h in _HOURS}:
            hour = int(event.key)
        elif isinstance(event, TextEvent):
            hour = parse_hour(event.text)
        if hour is None:
            return Retry(
                turn.t._(
                    "Je n'ai pas compris l'heure. Écrivez un nombre de 0 à 23 (par exemple 18 "
                    "pour 18 heures), ou touchez un bouton."
                )
            )
        return await save(turn, DIGEST, hour)
