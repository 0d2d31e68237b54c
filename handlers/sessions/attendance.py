"""Attendance: members check in with the 4-digit code read out at the meeting
(`/presence 4821`, valid from the start to six hours after), or the secretary calls the roll
with one button per invited member."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.flow import Retry, Transition, Turn
from bot.inbound import ActionEvent, CommandEvent, action_data
from bot.outbound import ActionMessage, Button
from handlers.refusal import refuse
from handlers.sessions.common import may_manage, when
from storage import sessions
from storage.database import fetch_one, from_db
from storage.sessions import Session

CHECKIN_WINDOW = timedelta(hours=6)
MARK = "mk"  # !mk:<session>:<user>:<1|0>, and !mk:<session>:rest marks the rest absent


async def checkin(turn: Turn, event: CommandEvent) -> Transition:
    """/presence 4821."""
    t = turn.t
    code = event.args.strip()
    if not re.fullmatch(r"\d{4}", code):
        turn.note(
            t._(
                "Tapez /presence suivi du code à 4 chiffres lu pendant la réunion, "
                "par exemple : /presence 4821"
            )
        )
        return Retry()
    found = await sessions.open_for_checkin(
        turn.conn, turn.user.id, code, turn.now - CHECKIN_WINDOW, turn.now
    )
    if found is None:
        turn.note(await _why_not(turn, code))
        return Retry()
    await sessions.mark(turn.conn, found.id, turn.user.id, True, turn.now)
    turn.note(t._("✅ Présence enregistrée : « {title} ». Merci !", title=found.title))
    return Retry()


async def _why_not(turn: Turn, code: str) -> str:
    """A code right but early or late says so; anything else is simply not recognised."""
    t = turn.t
    row = await fetch_one(
        turn.conn,
        "SELECT s.starts_at FROM sessions s JOIN invitations i ON i.session_id = s.id"
        " WHERE i.user_id = ? AND s.checkin_code = ? AND s.status = 'scheduled'"
        " ORDER BY s.starts_at DESC LIMIT 1",
        (turn.user.id, code),
    )
    if row is not None:
        starts = from_db(row["starts_at"])
        if starts > turn.now:
            return t._(
                "Ce code ne vaut qu'à partir du début de la session ({when}).",
                when=when(t, starts),
            )
        return t._(
            "Ce code n'est plus valable : la présence se note jusqu'à 6 heures après le début. "
            "Demandez au secrétaire de vous marquer présent."
        )
    return t._(
        "Le code {code} ne correspond à aucune de vos sessions. Vérifiez-le auprès du secrétaire.",
        code=code,
    )


#: members per roll-call message: two buttons each, within Telegram's 100 buttons a keyboard
PAGE = 40


async def _roll_messages(
    turn: Turn, session: Session, only_for: int | None = None
) -> list[ActionMessage]:
    """The roll call, PAGE members per message (a big committee gets several); with
    `only_for`, just the page holding that member (after a tap, only it is shown again)."""
    t = turn.t
    invited = await sessions.invited(turn.conn, session.id)
    pages = [invited[i : i + PAGE] for i in range(0, len(invited), PAGE)] or [[]]
    messages: list[ActionMessage] = []
    for number, page in enumerate(pages, start=1):
        if only_for is not None and all(user.id != only_for for user, _ in page):
            continue
        rows: list[tuple[Button, ...]] = []
        for user, invitation in page:
            name = await _name(turn, user.id)
            mark = {True: "✅", False: "❌", None: "▫️"}[invitation.attended]
            rows.append(
                (
                    Button(
                        action_data(MARK, session.id, user.id, 1),
                        f"{mark} {name} · " + t._("présent"),
                    ),
                    Button(action_data(MARK, session.id, user.id, 0), t._("absent")),
                )
            )
        if number == len(pages):
            rows.append(
                (Button(action_data(MARK, session.id, "rest"), t._("Marquer les autres absents")),)
            )
        title = t._(
            "📋 Appel : « {title} » (code {code})", title=session.title, code=session.checkin_code
        )
        if len(pages) > 1:
            title += f" · {number}/{len(pages)}"
        messages.append(ActionMessage(title, actions=tuple(rows)))
    return messages


async def _name(turn: Turn, user_id: int) -> str:
    row = await fetch_one(
        turn.conn, "SELECT display_name FROM participant_profiles WHERE user_id = ?", (user_id,)
    )
    if row is not None and row["display_name"]:
        return str(row["display_name"])[:24]
    return turn.t._("Membre n° {id}", id=user_id)


async def _session_for_roll(turn: Turn, raw: str) -> Session | None:
    session = await sessions.get(turn.conn, int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if session is None or not await may_manage(turn.conn, turn.user.id, session):
        await refuse(turn, "session:roll", f"session:{raw[:12]}")
        return None
    return session


async def roll_call_action(turn: Turn, event: ActionEvent) -> Transition:
    """roll:<session>: the list of invited members, once the session has started."""
    session = await _session_for_roll(turn, event.args[0] if event.args else "")
    if session is None:
        return Retry()
    if session.starts_at > turn.now:
        turn.note(turn.t._("L'appel s'ouvre au début de la session."))
        return Retry()
    turn.out.extend(await _roll_messages(turn, session))
    return Retry()


async def mark_action(turn: Turn, event: ActionEvent) -> Transition:
    """mk:<session>:<user>:<1|0> or mk:<session>:rest; the list is shown again, updated."""
    args = event.args
    session = await _session_for_roll(turn, args[0] if args else "")
    if session is None:
        return Retry()
    t = turn.t
    if session.starts_at > turn.now:
        turn.note(t._("L'appel s'ouvre au début de la session."))
        return Retry()
    marked: int | None = None
    if args[1:] == ("rest",):
        count = await sessions.mark_rest_absent(turn.conn, session.id)
        turn.note(t.ngettext("{n} membre marqué absent.", "{n} membres marqués absents.", count))
    elif len(args) == 3 and args[1].isdigit() and len(args[1]) < 12 and args[2] in ("0", "1"):
        marked = int(args[1])
        if not await sessions.mark(turn.conn, session.id, marked, args[2] == "1", None):
            turn.note(t._("Cette personne n'est pas invitée à cette session."))
            return Retry()
    else:
        await refuse(turn, "session:mark", f"session:{session.id}")
        return Retry()
    turn.out.extend(await _roll_messages(turn, session, only_for=marked))
    return Retry()
