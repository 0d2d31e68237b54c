"""/sessions: the upcoming sessions one is invited to, with one's answer and the buttons to
change it; for a secretary or a coordinator, also their committees' sessions with the buttons
to move or cancel each. And the answer buttons themselves (RSVP)."""

from __future__ import annotations

from bot.flow import Finish, Flow, Goto, Step, Transition, Turn
from bot.inbound import InboundEvent, action_data
from bot.outbound import ActionMessage, Button, Message
from handlers.sessions.common import ANSWER_NAMES, describe
from handlers.sessions.invitations import rsvp_buttons
from handlers.sessions.manage import CANCEL, MOVE
from storage import committees, sessions

SESSIONS_FLOW = "sessions"


def _buttons(rows: tuple[tuple[tuple[str, str], ...], ...]) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(Button(data, label) for label, data in row) for row in rows)


class Upcoming(Step):
    """Shows the lists, then leaves: there is no question to answer here."""

    name = "upcoming"

    async def enter(self, turn: Turn) -> Goto | Finish | None:
        t = turn.t
        mine = await sessions.upcoming_for(turn.conn, turn.user.id, turn.now)
        for session, answer in mine:
            said = t._(ANSWER_NAMES[answer]) if answer else t._("pas encore répondu")
            invitation = await sessions.invitation(turn.conn, session.id, turn.user.id)
            if invitation is not None and invitation.waitlisted:
                said += " " + t._("(sur la liste d'attente)")
            turn.out.append(
                ActionMessage(
                    describe(t, session) + "\n" + t._("Votre réponse : {answer}", answer=said),
                    actions=_buttons(rsvp_buttons(t, session.id)),
                )
            )
        shown = 0
        mine_to_manage = await committees.managed_by(turn.conn, turn.user.id)
        for committee in mine_to_manage:
            for session in await sessions.upcoming_of(turn.conn, committee.id, turn.now):
                shown += 1
                answers = await sessions.invited(turn.conn, session.id)
                counts = {
                    key: sum(1 for _, i in answers if i.answer == key) for key in ANSWER_NAMES
                }
                turn.out.append(
                    ActionMessage(
                        describe(t, session)
                        + "\n"
                        + t._(
                            "Réponses : {yes} oui, {maybe} peut-être, {no} non, sur {total}. "
                            "Code de présence : {code}",
                            yes=t.number(counts["yes"]),
                            maybe=t.number(counts["maybe"]),
                            no=t.number(counts["no"]),
                            total=t.number(len(answers)),
                            code=session.checkin_code,
                        ),
                        actions=(
                            (
                                Button(action_data(MOVE, session.id), t._("🗓️ Déplacer")),
                                Button(action_data(CANCEL, session.id), t._("🚫 Annuler")),
                            ),
                        ),
                    )
                )
        if not mine and not shown:
            turn.note(t._("Aucune session à venir pour vous."))
        if mine_to_manage:
            turn.note(t._("Pour créer une session : /session_nouvelle"))
        return Finish()

    async def ask(self, turn: Turn) -> Message:
        return Message(turn.t._("Aucune session à venir pour vous."))

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        return Finish()


def sessions_flow() -> Flow:
    return Flow(SESSIONS_FLOW, [Upcoming()])
