"""`/alertes`: follow an area, from a severity, at once or in a daily digest; list, remove,
pause and resume.

The overview is home: it lists what the person follows (focal points see their role's area
too) and offers the next move; adding an area asks the short questions of `questions.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.flow import ChoiceStep, Finish, Flow, Goto, Option, Retry, Transition, Turn
from handlers.alerts import areas
from handlers.alerts.questions import (
    AreaChoice,
    CommuneChoice,
    DeliveryChoice,
    DigestHour,
    SeverityChoice,
)
from handlers.alerts.saving import HOME, clear_form, follows_anything, paused
from handlers.alerts.stop import pause_note
from storage import subscriptions

ALERTS_FLOW = "alerts"


class Overview(ChoiceStep):
    """What the person follows, and what they can change; the flow's home."""

    name = "overview"
    # Its own "✅ Terminé" leaves: fewer buttons on a small screen.
    navigation = False

    async def enter(self, turn: Turn) -> Goto | None:
        # Nothing to show at the start: straight to subscribing. Once shown (or after the last
        # area was removed), it stays home, so "back" and "remove" come back to it.
        if turn.answers.get(HOME) or await follows_anything(turn) or await paused(turn):
            turn.answers[HOME] = True
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
                "{area} · toutes les alertes · ⚡ tout de suite (point focal)",
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
        is_paused = await paused(turn)
        choices: list[Option] = []
        if is_paused:
            choices.append(
                Option("resume", t._("▶️ Reprendre les alertes"), ("reprendre", "resume"))
            )
        choices.append(Option("add", t._("➕ Ajouter une zone"), ("ajouter", "add")))
        if await subscriptions.of_user(turn.conn, turn.user.id):
            choices.append(
                Option("remove", t._("🗑️ Retirer une zone"), ("retirer", "supprimer", "remove"))
            )
        if not is_paused:
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
            clear_form(turn)
            return Goto("area")
        if key == "remove":
            return Goto("remove")
        return Finish()


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
        turn.answers[HOME] = True
        return Goto("overview")


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
