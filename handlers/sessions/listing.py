"""/sessions: the upcoming sessions one is invited to, with one's answer and the buttons to
change it; the open sessions of one's area, with a button to register; for a secretary or a
coordinator, also their committees' sessions with the buttons to move or cancel each (and to
stop the monthly repetition).

"One's area" is what Kibaru already knows without asking: the areas one follows for alerts,
one's focal-point scope and the communes of one's committees. Someone Kibaru knows nothing
about sees every open session (there are few), with a hint to follow their area.
"""

from __future__ import annotations

from bot.flow import Finish, Flow, Goto, Step, Transition, Turn
from bot.inbound import InboundEvent, action_data
from bot.outbound import ActionMessage, Button, Message
from handlers.sessions.common import ANSWER_NAMES, describe
from handlers.sessions.invitations import RSVP, rsvp_buttons
from handlers.sessions.manage import CANCEL, MOVE, STOP_RULE
from storage import committees, roles, sessions, subscriptions
from storage.committees import MemberStatus
from storage.roles import Role
from storage.sessions import Session
from storage.subscriptions import AreaKind

SESSIONS_FLOW = "sessions"
#: open sessions shown at most (the nearest in time first)
OPEN_SHOWN = 5
#: an area one follows that covers all Mali
EVERYWHERE = ""


async def areas_of(turn: Turn) -> set[str]:
    """Place codes; EVERYWHERE for all Mali."""
    found: set[str] = set()
    for subscription in await subscriptions.of_user(turn.conn, turn.user.id):
        found.add(EVERYWHERE if subscription.kind is AreaKind.MALI else subscription.code)
    for grant in await roles.of_user(turn.conn, turn.user.id):
        if grant.role is Role.FOCAL_POINT:
            found.add(grant.scope or EVERYWHERE)
    for _, committee in await committees.of_user(turn.conn, turn.user.id, (MemberStatus.ACTIVE,)):
        if committee.commune:
            found.add(committee.commune)
    return found


def near(session: Session, areas: set[str]) -> bool:
    """A region takes in its cercles and communes (their codes start with the region's and
    "_"), both ways: who follows Bamako sees a Commune IV forum, and who follows Commune IV
    sees a forum for all Bamako."""
    where = session.area
    if where is None or EVERYWHERE in areas:
        return True
    return any(
        where == area or where.startswith(area + "_") or area.startswith(where + "_")
        for area in areas
    )


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
        open_shown = await self._open_sessions(turn)
        shown = 0
        mine_to_manage = await committees.managed_by(turn.conn, turn.user.id)
        active = (
            {rule.id for rule in await sessions.active_rules(turn.conn)}
            if mine_to_manage
            else set()
        )
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
                            *(
                                (
                                    (
                                        Button(
                                            action_data(STOP_RULE, session.rule_id),
                                            t._("⏹️ Ne plus répéter chaque mois"),
                                        ),
                                    ),
                                )
                                if session.rule_id is not None and session.rule_id in active
                                else ()
                            ),
                        ),
                    )
                )
        if not mine and not shown and not open_shown:
            turn.note(t._("Aucune session à venir pour vous."))
        if mine_to_manage:
            turn.note(t._("Pour créer une session : /session_nouvelle"))
        return Finish()

    async def _open_sessions(self, turn: Turn) -> int:
        """The open sessions one may register for, near one's areas; how many were shown."""
        t = turn.t
        areas = await areas_of(turn)
        found = [
            session
            for session in await sessions.open_upcoming(turn.conn, turn.user.id, turn.now)
            if not areas or near(session, areas)
        ][:OPEN_SHOWN]
        for session in found:
            turn.out.append(
                ActionMessage(
                    describe(t, session)
                    + "\n"
                    + t._("🔓 Session ouverte : vous pouvez vous inscrire."),
                    actions=(
                        (Button(action_data(RSVP, session.id, "yes"), t._("✍️ Je m'inscris")),),
                    ),
                )
            )
        if found and not areas:
            turn.note(t._("Pour ne voir que les sessions de votre zone, suivez-la avec /alertes."))
        return len(found)

    async def ask(self, turn: Turn) -> Message:
        return Message(turn.t._("Aucune session à venir pour vous."))

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        return Finish()


def sessions_flow() -> Flow:
    return Flow(SESSIONS_FLOW, [Upcoming()])
