"""Messages about memberships, through the outbox, each in its reader's language: the request
to the committee's secretaries and coordinators (with Approve / Decline buttons), and the
outcome to the member. Names shown to staff are the display names people chose to give."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.i18n import Translator
from bot.inbound import action_data
from handlers.ccsc.labels import member_type_label
from storage import committees, outbox, users
from storage.committees import Committee, Member
from storage.database import Connection, to_db
from storage.outbox import Outgoing

DECIDE = "cm"  # action name: !cm:<member id>:ok|no
REMOVE = "cmr"  # action name: !cmr:<member id>


def decision_buttons(t: Translator, member_id: int) -> tuple[tuple[tuple[str, str], ...], ...]:
    return (
        (
            (t._("✅ Approuver"), action_data(DECIDE, member_id, "ok")),
            (t._("❌ Refuser"), action_data(DECIDE, member_id, "no")),
        ),
    )


async def _to_managers(
    conn: Connection,
    committee: Committee,
    member: Member,
    what: str,
    render: Callable[[Translator], Outgoing],
    translator_for: Callable[[str | None], Translator],
    now: datetime,
) -> int:
    """One message about `member` to every secretary of the committee and every coordinator
    (not to the member themself), each in their language; `what` makes the keys."""
    sent = 0
    for manager in await committees.managers(conn, committee):
        if manager.id == member.user_id:
            continue
        sent += await outbox.enqueue(
            conn,
            key=f"ccsc:{what}:{member.id}:{to_db(now)}:{manager.id}",
            kind="notice",
            channel=manager.channel,
            chat_id=manager.chat_id,
            user_id=manager.id,
            outgoing=render(translator_for(manager.language)),
            now=now,
        )
    return sent


async def ask_managers(
    conn: Connection,
    committee: Committee,
    member: Member,
    translator_for: Callable[[str | None], Translator],
    now: datetime,
) -> int:
    """Queue the request to every secretary of the committee and every coordinator."""

    def render(t: Translator) -> Outgoing:
        text = t._(
            "🏛️ Demande d'adhésion au {committee} :\n{name} — {type}\nApprouvez-vous ?",
            committee=committee.name,
            name=member.display_name or "—",
            type=member_type_label(t, member.member_type),
        )
        return Outgoing(text, buttons=decision_buttons(t, member.id))

    return await _to_managers(conn, committee, member, "ask", render, translator_for, now)


async def tell_managers_left(
    conn: Connection,
    committee: Committee,
    member: Member,
    translator_for: Callable[[str | None], Translator],
    now: datetime,
) -> int:
    """The committee's secretaries (and coordinators) learn that a member left."""

    def render(t: Translator) -> Outgoing:
        return Outgoing(
            t._(
                "🏛️ {name} a quitté le {committee}.",
                name=member.display_name or "—",
                committee=committee.name,
            )
        )

    return await _to_managers(conn, committee, member, "left", render, translator_for, now)


async def tell_member(
    conn: Connection,
    member: Member,
    what: str,
    render: Callable[[Translator], str],
    translator_for: Callable[[str | None], Translator],
    now: datetime,
) -> bool:
    user = await users.get(conn, member.user_id)
    if user is None:
        return False
    return await outbox.enqueue(
        conn,
        key=f"ccsc:{what}:{member.id}:{to_db(now)}",
        kind="notice",
        channel=user.channel,
        chat_id=user.chat_id,
        user_id=user.id,
        outgoing=Outgoing(render(translator_for(user.language))),
        now=now,
    )


def approved(committee: Committee) -> Callable[[Translator], str]:
    return lambda t: t._(
        "✅ Bienvenue au {committee} ! Votre demande a été approuvée. Vous serez invité·e "
        "à ses sessions.",
        committee=committee.name,
    )


def declined(committee: Committee) -> Callable[[Translator], str]:
    return lambda t: t._(
        "Votre demande d'adhésion au {committee} n'a pas été acceptée. Pour en savoir plus, "
        "adressez-vous au secrétariat du comité.",
        committee=committee.name,
    )


def removed(committee: Committee) -> Callable[[Translator], str]:
    return lambda t: t._(
        "Vous ne faites plus partie du {committee} : le secrétariat vous a retiré·e de la "
        "liste des membres. Envoyez /ccsc pour demander à nouveau.",
        committee=committee.name,
    )
