"""The three answer buttons of an invitation (RSVP), usable until the session starts.

Only the person invited may answer: an invitation to a committee's own session forwarded to
someone else is refused and audited. An open session takes anyone: their first answer (the
"register" button of /sessions, or a forwarded invitation) invites them.

When the session has a capacity, a "yes" beyond it goes on the waiting list (no reminders
yet), and a place freed by a changed answer goes to the first one waiting, who is told and
gets their reminders.
"""

from __future__ import annotations

from bot.flow import Begin, Retry, Transition, Turn
from bot.inbound import ActionEvent
from handlers.refusal import refuse
from handlers.sessions.common import ANSWER_NAMES, Context, when
from handlers.sessions.invitations import cancel_reminders, move_up, schedule_reminders
from handlers.sessions.profile import PROFILE_FLOW, needs_profile
from storage import committees, sessions
from storage.committees import MemberStatus


async def rsvp_action(turn: Turn, event: ActionEvent) -> Transition:
    """rsvp:<session>:<yes|maybe|no>."""
    raw, value = (*event.args, "", "")[:2]
    session = await sessions.get(turn.conn, int(raw)) if raw.isdigit() and len(raw) < 12 else None
    invitation = await sessions.invitation(turn.conn, session.id, turn.user.id) if session else None
    if (
        session is not None
        and invitation is None
        and session.open_to is not None
        and value in ANSWER_NAMES
        and not session.cancelled
        and session.starts_at > turn.now
    ):
        await sessions.invite(turn.conn, session.id, turn.user.id)
        invitation = await sessions.invitation(turn.conn, session.id, turn.user.id)
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
    held_a_place = invitation.answer == "yes" and not invitation.waitlisted
    full = (
        value == "yes"
        and session.capacity is not None
        and await sessions.places_taken(turn.conn, session.id) >= session.capacity
    )
    await sessions.answer(turn.conn, session.id, turn.user.id, value, turn.now, waitlisted=full)
    await cancel_reminders(ctx, session.id, turn.user.id)
    if value in ("yes", "maybe") and not full:
        await schedule_reminders(ctx, session, turn.user)
    if held_a_place:
        await move_up(ctx, session)
    if full:
        position = (await sessions.waiting(turn.conn, session.id)).index(turn.user.id) + 1
        turn.note(
            t._(
                "La session est complète : vous êtes n° {position} sur la liste d'attente. "
                "Vous serez prévenu si une place se libère.",
                position=t.number(position),
            )
        )
        return Retry()
    turn.note(
        t._(
            "Réponse enregistrée : {answer} — « {title} », {when}. /sessions pour la changer.",
            answer=t._(ANSWER_NAMES[value]),
            title=session.title,
            when=when(t, session.starts_at),
        )
    )
    if value in ("yes", "maybe") and session.open_to and await needs_profile(turn):
        mine = await committees.of_user(turn.conn, turn.user.id, (MemberStatus.ACTIVE,))
        if all(c.id != session.committee_id for _, c in mine):
            # an outsider at an open session: counted in the figures like members
            return Begin(PROFILE_FLOW)
    return Retry()
