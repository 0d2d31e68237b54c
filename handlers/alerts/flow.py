"""`/alertes`: follow an area, from a severity, at once or in a daily digest; list, remove,
pause and resume.

The overview is home: it lists what the person follows and offers the next move. Adding an
area asks one short question at a time (area → Bamako commune → severity → delivery → hour);
each answer waits in `turn.answers` until the last one writes the subscription, so a wrong
answer, "back" or a restart never loses what was already chosen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.flow import ChoiceStep, Finish, Flow, Goto, Option, Retry, Step, Transition, Turn
from bot.inbound import ChoiceEvent, InboundEvent, TextEvent
from bot.matching import normalize
from bot.outbound import Button, Message, Question
from handlers.alerts import areas
from handlers.alerts.severity import SEVERITIES, legend, severity
from handlers.alerts.stop import pause_note
from handlers.report import places
from storage import subscriptions
from storage.subscriptions import DIGEST, NOW, URGENT, AreaKind

ALERTS_FLOW = "alerts"

#: what the questions keep until the subscription is written
_FORM = ("kind", "code", "severity")
_MALI = "mali"
#: answers.get(_HOME): the overview was shown in this visit, it is where the flow returns
_HOME = "_home"
_MALI_WORDS = ("mali", "tout le mali", "tout mali", "mali bee", "all mali", "whole mali")


class Overview(ChoiceStep):
    """What the person follows, and what they can change; the flow's home."""

    name = "overview"
    # Its own "✅ Terminé" leaves: fewer buttons on a small screen.
    navigation = False

    async def enter(self, turn: Turn) -> Goto | None:
        # Nothing to show at the start: straight to subscribing. Once shown (or after the last
        # area was removed), it stays home, so "back" and "remove" come back to it.
        if turn.answers.get(_HOME) or await _follows_anything(turn) or await _paused(turn):
            turn.answers[_HOME] = True
            return None
        return Goto("area")

    async def question(self, turn: Turn) -> str:
        t = turn.t
        lines: list[str] = []
        since = await subscriptions.paused_since(turn.conn, turn.user.id)
        if since is not None:
            lines += [
                t._(
                    "⏸️ Vos alertes sont en pause depuis le {date} : vous ne recevez rien.",
                    date=t.date(since, "medium"),
                ),
                "",
            ]
        entries = [
            t._(
                "{area} · 🔴 toutes · ⚡ tout de suite (point focal)",
                area=areas.scope_name(t, scope),
            )
            for scope in await subscriptions.focal_scopes(turn.conn, turn.user.id)
        ]
        followed = await subscriptions.of_user(turn.conn, turn.user.id)
        entries += [areas.describe(t, s) for s in followed]
        lines.append(t._("🔔 Vos alertes :"))
        lines += [f"• {entry}" for entry in entries] or [t._("Vous ne suivez aucune zone.")]
        lines += ["", t._("Que voulez-vous changer ?")]
        return "\n".join(lines)

    async def options(self, turn: Turn) -> Sequence[Option]:
        t = turn.t
        paused = await _paused(turn)
        choices: list[Option] = []
        if paused:
            choices.append(
                Option("resume", t._("▶️ Reprendre les alertes"), ("reprendre", "resume"))
            )
        choices.append(Option("add", t._("➕ Ajouter une zone"), ("ajouter", "add")))
        if await subscriptions.of_user(turn.conn, turn.user.id):
            choices.append(
                Option("remove", t._("🗑️ Retirer une zone"), ("retirer", "supprimer", "remove"))
            )
        if not paused:
            choices.append(Option("pause", t._("⏸️ Mettre en pause"), ("pause",)))
        # The overview has no back/cancel buttons; their words, typed, leave like "done".
        leave = (t._("⬅️ Retour"), t._("✖️ Annuler"), "retour", "annuler", "back", "cancel")
        choices.append(
            Option("done", t._("✅ Terminé"), ("termine", "fini", "ok", "menu", "done", *leave))
        )
        return choices

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == "resume":
            await subscriptions.resume(turn.conn, turn.user.id)
            turn.note(turn.t._("▶️ Vos alertes reprennent."))
            return Retry()
        if key == "pause":
            turn.note(await pause_note(turn))
            return Retry()
        if key == "add":
            _clear_form(turn)
            return Goto("area")
        if key == "remove":
            return Goto("remove")
        return Finish()


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
        _clear_form(turn)
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
            return await _save(turn, NOW, None)
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
        return await _save(turn, NOW, None)


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
        return await _save(turn, DIGEST, hour)


class RemoveChoice(ChoiceStep):
    name = "remove"

    async def enter(self, turn: Turn) -> Goto | None:
        followed = await subscriptions.of_user(turn.conn, turn.user.id)
        return None if followed else Goto("overview")

    async def question(self, turn: Turn) -> str:
        return turn.t._("Quelle zone voulez-vous retirer ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        followed = await subscriptions.of_user(turn.conn, turn.user.id)
        return [Option(str(s.id), "🗑️ " + areas.area_name(turn.t, s.kind, s.code)) for s in followed]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        followed = {str(s.id): s for s in await subscriptions.of_user(turn.conn, turn.user.id)}
        gone = followed.get(key)
        if gone is not None and await subscriptions.remove(turn.conn, turn.user.id, gone.id):
            turn.note(
                turn.t._(
                    "🗑️ Vous ne recevrez plus les alertes de : {area}.",
                    area=areas.area_name(turn.t, gone.kind, gone.code),
                )
            )
        turn.answers[_HOME] = True
        return Goto("overview")


async def _save(turn: Turn, delivery: str, hour: int | None) -> Transition:
    """Write the subscription the questions gathered, then show the overview."""
    if not all(key in turn.answers for key in _FORM):
        return Goto("area")  # should not happen: start the questions again, never fail
    t = turn.t
    level = int(turn.answers["severity"])
    kind = AreaKind(turn.answers["kind"])
    code = str(turn.answers["code"])
    was_paused = await _paused(turn)
    await subscriptions.subscribe(
        turn.conn, turn.user.id, kind, code, level, delivery, hour, turn.now
    )
    turn.note(
        t._(
            "✅ C'est noté : {area} · {dot} {which} · {how}.",
            area=areas.area_name(t, kind, code),
            dot=severity(level).emoji,
            which=t._(severity(level).from_here),
            how=areas.delivery_text(t, delivery, hour),
        )
    )
    if was_paused:
        turn.note(t._("▶️ Vos alertes reprennent."))
    _clear_form(turn)
    return Goto("overview")


def _clear_form(turn: Turn) -> None:
    for key in _FORM:
        turn.answers.pop(key, None)


async def _follows_anything(turn: Turn) -> bool:
    return bool(
        await subscriptions.of_user(turn.conn, turn.user.id)
        or await subscriptions.focal_scopes(turn.conn, turn.user.id)
    )


async def _paused(turn: Turn) -> bool:
    return await subscriptions.paused_since(turn.conn, turn.user.id) is not None


def alerts_flow() -> Flow:
    return Flow(
        ALERTS_FLOW,
        [
            Overview(),
            AreaChoice(),
            CommuneChoice(),
            SeverityChoice(),
            DeliveryChoice(),
            DigestHour(),
            RemoveChoice(),
        ],
    )
