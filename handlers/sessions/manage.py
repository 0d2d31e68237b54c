"""Moving and cancelling a session (secretary of its committee, or coordinator): those who
answered yes or maybe are told, and their reminders follow the session or stop. And stopping
a monthly rule: no more sessions are made, those already made (and invited to) stay, each to
be cancelled on its own if need be."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.flow import Begin, ChoiceStep, Finish, Flow, Goto, Option, Retry, Transition, Turn
from bot.inbound import ActionEvent, action_data
from bot.outbound import ActionMessage, Button
from handlers.refusal import refuse
from handlers.sessions.common import Context, may_manage, when
from handlers.sessions.invitations import notify_change, queue_roll_call
from handlers.sessions.moment import SessionDay, SessionHour
from storage import committees, outbox, sessions, users
from storage.sessions import Session

MOVE_FLOW = "session_move"
MOVE = "smv"  # !smv:<session>: move a session
CANCEL = "scx"  # !scx:<session> asks, !scx:<session>:ok cancels
STOP_RULE = "srs"  # !srs:<rule> asks, !srs:<rule>:ok stops the monthly repetition


async def _managed_session(turn: Turn, raw: str, what: str) -> Session | None:
    """The session if this user may manage it; otherwise refused (audited) and None."""
    session = await sessions.get(turn.conn, int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if session is None or not await may_manage(turn.conn, turn.user.id, session):
        await refuse(turn, what, f"session:{raw[:12]}")
        return None
    return session


async def _changed(turn: Turn, before: Session) -> int:
    after = await sessions.get(turn.conn, before.id)
    assert after is not None
    ctx = Context.of(turn)
    await outbox.cancel_batch(turn.conn, f"roll-call:{after.id}")
    if not after.cancelled and before.created_by_user is not None:
        secretary = await users.get(turn.conn, before.created_by_user)
        if secretary is not None:
            await queue_roll_call(ctx, after, secretary)
    return await notify_change(ctx, before, after)


async def move_action(turn: Turn, event: ActionEvent) -> Transition:
    session = await _managed_session(turn, event.args[0] if event.args else "", "session:move")
    if session is None:
        return Retry()
    if session.cancelled:
        turn.note(turn.t._("Cette session a été annulée."))
        return Retry()
    return Begin(MOVE_FLOW, {"session": session.id})


class MoveConfirm(ChoiceStep):
    name = "confirm"

    async def question(self, turn: Turn) -> str:
        t = turn.t
        session = await sessions.get(turn.conn, int(turn.answers["session"]))
        starts_at = datetime.fromisoformat(str(turn.answers["starts_at"]))
        return t._(
            "Déplacer « {title} » au {when} ? Ceux qui ont répondu oui ou peut-être seront "
            "prévenus.",
            title=session.title if session else "",
            when=when(t, starts_at),
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option("move", turn.t._("✅ Déplacer")),
            Option("when", turn.t._("🗓️ Changer la date")),
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == "when":
            return Goto(SessionDay.name)
        session = await _managed_session(turn, str(turn.answers["session"]), "session:move")
        if session is None:
            return Finish()
        if session.cancelled:
            turn.note(turn.t._("Cette session a été annulée."))
            return Finish()
        await sessions.move(
            turn.conn, session.id, datetime.fromisoformat(str(turn.answers["starts_at"]))
        )
        told = await _changed(turn, session)
        turn.note(
            turn.t.ngettext(
                "🔁 Session déplacée ; {n} personne prévenue.",
                "🔁 Session déplacée ; {n} personnes prévenues.",
                told,
            )
        )
        return Finish()


def move_flow() -> Flow:
    return Flow(
        MOVE_FLOW, [SessionDay(SessionHour.name), SessionHour(MoveConfirm.name), MoveConfirm()]
    )


async def cancel_action(turn: Turn, event: ActionEvent) -> Transition:
    """scx:<session> asks for confirmation; scx:<session>:ok cancels."""
    session = await _managed_session(turn, event.args[0] if event.args else "", "session:cancel")
    if session is None:
        return Retry()
    t = turn.t
    if session.cancelled:
        turn.note(t._("Cette session était déjà annulée."))
        return Retry()
    if event.args[1:] != ("ok",):
        turn.out.append(
            ActionMessage(
                t._(
                    "Annuler « {title} » ? Ceux qui ont répondu oui ou peut-être seront prévenus.",
                    title=session.title,
                ),
                actions=((Button(action_data(CANCEL, session.id, "ok"), t._("🚫 Oui, annuler")),),),
            )
        )
        return Retry()
    await sessions.cancel(turn.conn, session.id)
    told = await _changed(turn, session)
    turn.note(
        t.ngettext(
            "🚫 Session annulée ; {n} personne prévenue.",
            "🚫 Session annulée ; {n} personnes prévenues.",
            told,
        )
    )
    return Retry()


async def stop_rule_action(turn: Turn, event: ActionEvent) -> Transition:
    """srs:<rule> asks for confirmation; srs:<rule>:ok stops the repetition."""
    raw = event.args[0] if event.args else ""
    found = (
        await sessions.rule_committee(turn.conn, int(raw))
        if raw.isdigit() and len(raw) < 12
        else None
    )
    committee = await committees.get(turn.conn, found[0]) if found else None
    if (
        found is None
        or committee is None
        or not await committees.may_manage(turn.conn, turn.user.id, committee)
    ):
        await refuse(turn, "session:stop_rule", f"rule:{raw[:12]}")
        return Retry()
    t = turn.t
    if not found[1]:
        turn.note(t._("Cette répétition était déjà arrêtée."))
        return Retry()
    if event.args[1:] != ("ok",):
        turn.out.append(
            ActionMessage(
                t._(
                    "Ne plus créer chaque mois les sessions de {committee} ? Les sessions déjà "
                    "prévues restent ; annulez-les une à une si besoin.",
                    committee=committee.name,
                ),
                actions=(
                    (Button(action_data(STOP_RULE, raw, "ok"), t._("⏹️ Oui, ne plus répéter")),),
                ),
            )
        )
        return Retry()
    await sessions.stop_rule(turn.conn, int(raw))
    turn.note(
        t._(
            "⏹️ Répétition arrêtée : plus aucune nouvelle session ne sera créée. "
            "Pour en programmer une : /session_nouvelle"
        )
    )
    return Retry()
