"""/sessions: the upcoming sessions one is invited to, with one's answer and the buttons to
change it; for a secretary or a coordinator, also their committees' sessions with the buttons
to move or cancel each. And the answer buttons themselves (RSVP)."""

from __future__ import annotations

from bot.flow import Finish, Flow, Goto, Retry, Step, Transition, Turn
from bot.inbound import ActionEvent, InboundEvent, action_data
from bot.outbound import ActionMessage, Button, Message
from handlers.review.access import refuse
from handlers.sessions.common import ANSWER_NAMES, Context, describe, managed, when
from handlers.sessions.invitations import cancel_reminders, rsvp_buttons, schedule_reminders
from handlers.sessions.manage import CANCEL, MOVE
from storage import sessions

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
            turn.out.append(
                ActionMessage(
                    describe(t, session) + "\n" + t._("Votre réponse : {answer}", answer=said),
                    actions=_buttons(rsvp_buttons(t, session.id)),
                )
            )
        shown = 0
        mine_to_manage = await managed(turn.conn, turn.user.id)
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


async def rsvp_action(turn: Turn, event: ActionEvent) -> Transition:
    """rsvp:<session>:<answer>: only the person invited may answer, until the start."""
    raw, value = (*event.args, "", "")[:2]
    session = await sessions.get(turn.conn, int(raw)) if raw.isdigit() and len(raw) < 12 else None
    invitation = await sessions.invitation(turn.conn, session.id, turn.user.id) if session else None
    if session is None or invitation is None or value not in ANSWER_NAMES:
        await refuse(turn, "session:rsvp", f"session:{raw[:12]}")
        return Retry()
    t = turn.t
    if session.cancelled:
        turn.note(t._("Cette session a été annulée."))
        return Retry()
    if session.starts_at <= turn.now:
        turn.note(t._("Cette session a déjà commencé : la réponse ne peut plus changer."))
        return Retry()
    if invitation.answer == value:
        turn.note(t._("C'est déjà votre réponse : {answer}.", answer=t._(ANSWER_NAMES[value])))
        return Retry()
    ctx = Context.of(turn)
    await sessions.answer(turn.conn, session.id, turn.user.id, value, turn.now)
    await cancel_reminders(ctx, session.id, turn.user.id)
    if value in ("yes", "maybe"):
        await schedule_reminders(ctx, session, turn.user)
    turn.note(
        t._(
            "Réponse enregistrée : {answer} — « {title} », {when}. /sessions pour la changer.",
            answer=t._(ANSWER_NAMES[value]),
            title=session.title,
            when=when(t, session.starts_at),
        )
    )
    return Retry()
