"""Invitations and their reminders, all through the outbox.

Each reminder is an outbox row held until its time and expiring at the session's start, so a
restart neither loses one nor sends one for a meeting already under way. The reminders of one
person for one session share a batch, which is what an answer changed, a session moved or
cancelled stops at once.
"""

from __future__ import annotations

from bot.i18n import Translator
from bot.inbound import action_data
from handlers.report import places
from handlers.sessions.common import ANSWER_NAMES, Context, describe, when
from storage import outbox, roles, sessions, subscriptions, users
from storage.database import fetch_one
from storage.outbox import Outgoing
from storage.roles import Role
from storage.sessions import Session
from storage.users import User

RSVP = "rsvp"  # the action of the three answer buttons: !rsvp:<session>:<yes|maybe|no>
ROLL_CALL = "roll"  # the secretary's roll-call button: !roll:<session>


def rsvp_buttons(t: Translator, session_id: int) -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(
        ((t._(label), action_data(RSVP, session_id, answer)),)
        for answer, label in ANSWER_NAMES.items()
    )


def _batch(session_id: int, user_id: int) -> str:
    return f"reminders:{session_id}:{user_id}"


async def open_audience(ctx: Context, session: Session) -> list[User]:
    """Who an open session invites besides the members: another committee's members, the
    focal points, or the people who follow alerts for the chosen area (and its focal
    points)."""
    if session.open_to == "committee" and session.open_committee is not None:
        return await sessions.members(ctx.conn, session.open_committee)
    if session.open_to == "focal_points":
        return await roles.people(ctx.conn, (Role.FOCAL_POINT,))
    if session.open_to == "subscribers":
        area = session.open_area
        inside = places.cercle(area) if area else None
        found = []
        for person in await subscriptions.followers(
            ctx.conn, area, inside[0].code if inside else None
        ):
            user = await users.get(ctx.conn, person.user_id)
            if user is not None:
                found.append(user)
        return found
    return []


async def invite_members(ctx: Context, session: Session) -> int:
    """Invite every active member of the committee, each in their own language, and, for an
    open session, its wider audience (`open_audience`)."""
    queued = 0
    people = await sessions.members(ctx.conn, session.committee_id)
    known = {member.id for member in people}
    people += [u for u in await open_audience(ctx, session) if u.id not in known]
    for member in people:
        if not await sessions.invite(ctx.conn, session.id, member.id):
            continue
        t = ctx.translator(member.language)
        text = (
            t._("📨 Invitation") + "\n\n" + describe(t, session) + "\n\n" + t._("Viendrez-vous ?")
        )
        queued += await outbox.enqueue(
            ctx.conn,
            key=f"invitation:{session.id}:{member.id}",
            kind="invitation",
            channel=member.channel,
            chat_id=member.chat_id,
            user_id=member.id,
            outgoing=Outgoing(text, buttons=rsvp_buttons(t, session.id)),
            now=ctx.now,
        )
    return queued


async def schedule_reminders(ctx: Context, session: Session, user: User) -> int:
    """One row per configured delay still ahead; a delay already past is skipped."""
    batch = _batch(session.id, user.id)
    row = await fetch_one(ctx.conn, "SELECT COUNT(*) FROM outbox WHERE batch = ?", (batch,))
    generation = int(row[0]) if row else 0  # keys stay unique when an answer changes back
    t = ctx.translator(user.language)
    queued = 0
    for delay in ctx.settings.reminders:
        due = session.starts_at - delay
        if due <= ctx.now:
            continue
        queued += await outbox.enqueue(
            ctx.conn,
            key=f"reminder:{session.id}:{user.id}:{int(delay.total_seconds())}:{generation}",
            kind="reminder",
            channel=user.channel,
            chat_id=user.chat_id,
            user_id=user.id,
            outgoing=Outgoing(t._("⏰ Rappel") + "\n\n" + describe(t, session)),
            now=ctx.now,
            not_before=due,
            batch=batch,
            expires_at=session.starts_at,
        )
    return queued


async def cancel_reminders(ctx: Context, session_id: int, user_id: int) -> int:
    return await outbox.cancel_batch(ctx.conn, _batch(session_id, user_id))


async def move_up(ctx: Context, session: Session) -> None:
    """A place was freed: the first one waiting gets it, is told, and gets reminders."""
    waiting = await sessions.waiting(ctx.conn, session.id)
    if not waiting:
        return
    user = await users.get(ctx.conn, waiting[0])
    if user is None:
        return
    await sessions.promote(ctx.conn, session.id, user.id)
    await schedule_reminders(ctx, session, user)
    t = ctx.translator(user.language)
    await outbox.enqueue(
        ctx.conn,
        key=f"session-place:{session.id}:{user.id}:{int(ctx.now.timestamp())}",
        kind="notice",
        channel=user.channel,
        chat_id=user.chat_id,
        user_id=user.id,
        outgoing=Outgoing(
            t._(
                "🎉 Une place s'est libérée : vous êtes inscrit à « {title} », {when}.",
                title=session.title,
                when=when(t, session.starts_at),
            )
        ),
        now=ctx.now,
    )


async def withdraw_from_committee(ctx: Context, committee_id: int, user_id: int) -> int:
    """A member who left or was removed is no longer expected at the committee's own
    sessions still to come: their invitations and reminders go (the open ones stay: anyone
    may come to those). How many were withdrawn."""
    withdrawn = 0
    for session in await sessions.invited_upcoming(ctx.conn, user_id, ctx.now, committee_id):
        if session.open_to is None:
            await _withdraw(ctx, session, user_id)
            withdrawn += 1
    return withdrawn


async def release_places(ctx: Context, user_id: int) -> None:
    """Before a person's data is deleted (/effacer): the places they held in sessions still
    to come go to those waiting, as if they had said no."""
    for session in await sessions.invited_upcoming(ctx.conn, user_id, ctx.now):
        await _withdraw(ctx, session, user_id)


async def _withdraw(ctx: Context, session: Session, user_id: int) -> None:
    invitation = await sessions.invitation(ctx.conn, session.id, user_id)
    held = invitation is not None and invitation.answer == "yes" and not invitation.waitlisted
    await cancel_reminders(ctx, session.id, user_id)
    await sessions.uninvite(ctx.conn, session.id, user_id)
    if held:
        await move_up(ctx, session)


async def notify_change(ctx: Context, before: Session, after: Session) -> int:
    """Tell those who said yes or maybe that the session moved or was cancelled, and move
    or stop their reminders."""
    told = 0
    for user, invitation in await sessions.invited(ctx.conn, after.id):
        if invitation.answer not in ("yes", "maybe"):
            continue
        await cancel_reminders(ctx, after.id, user.id)
        t = ctx.translator(user.language)
        if after.cancelled:
            text = t._(
                "🚫 Session annulée : « {title} » du {when}.",
                title=after.title,
                when=when(t, before.starts_at),
            )
            key = f"session-cancelled:{after.id}:{user.id}"
            buttons: tuple[tuple[tuple[str, str], ...], ...] = ()
        else:
            if not invitation.waitlisted:  # those waiting for a place get no reminders yet
                await schedule_reminders(ctx, after, user)
            text = (
                t._(
                    "🔁 Session déplacée (elle était prévue le {was}).",
                    was=when(t, before.starts_at),
                )
                + "\n\n"
                + describe(t, after)
                + "\n\n"
                + t._("Votre réponse reste valable ; vous pouvez la changer :")
            )
            key = f"session-moved:{after.id}:{user.id}:{int(after.starts_at.timestamp())}"
            buttons = rsvp_buttons(t, after.id)
        told += await outbox.enqueue(
            ctx.conn,
            key=key,
            kind="notice",
            channel=user.channel,
            chat_id=user.chat_id,
            user_id=user.id,
            outgoing=Outgoing(text, buttons=buttons),
            now=ctx.now,
        )
    return told


async def queue_roll_call(ctx: Context, session: Session, secretary: User) -> None:
    """The roll-call button reaches the secretary when the session starts."""
    t = ctx.translator(secretary.language)
    await outbox.enqueue(
        ctx.conn,
        key=f"roll-call:{session.id}:{secretary.id}:{int(session.starts_at.timestamp())}",
        kind="roll_call",
        channel=secretary.channel,
        chat_id=secretary.chat_id,
        user_id=secretary.id,
        outgoing=Outgoing(
            t._(
                "📋 « {title} » commence. Code de présence à lire aux participants : {code}",
                title=session.title,
                code=session.checkin_code,
            ),
            buttons=((((t._("📋 Faire l'appel")), action_data(ROLL_CALL, session.id)),),),
        ),
        now=ctx.now,
        not_before=session.starts_at,
        batch=f"roll-call:{session.id}",
    )
