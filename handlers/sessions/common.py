"""What every part of the sessions feature shares: who may manage a committee's sessions,
how a session is described, and the context of work done outside a conversation (jobs)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.flow import Turn
from bot.i18n import N_, Translator
from bot.settings import Settings
from storage import committees
from storage.database import Connection
from storage.sessions import Session

KIND_NAMES = {
    "statutory": N_("Réunion statutaire mensuelle"),
    "training": N_("Formation"),
    "workshop": N_("Atelier"),
    "other": N_("Autre rencontre"),
}

ANSWER_NAMES = {
    "yes": N_("✅ Je viendrai"),
    "maybe": N_("🤔 Peut-être"),
    "no": N_("❌ Je ne peux pas"),
}


def new_code() -> str:
    """Four digits, read out at the meeting: hard to guess from outside the room."""
    return f"{secrets.randbelow(10_000):04d}"


@dataclass
class Context:
    """A conversation turn or a scheduled job: enough to write and to queue messages."""

    conn: Connection
    now: datetime
    settings: Settings
    translator: Callable[[str | None], Translator]

    @classmethod
    def of(cls, turn: Turn) -> Context:
        return cls(turn.conn, turn.now, turn.settings, turn.translator)


async def may_manage(conn: Connection, user_id: int, session: Session) -> bool:
    """Who may move, cancel or call the roll of a session: who manages its committee
    (`storage.committees.may_manage`: a coordinator, or a secretary of that committee)."""
    committee = await committees.get(conn, session.committee_id)
    return committee is not None and await committees.may_manage(conn, user_id, committee)


def when(t: Translator, moment: datetime) -> str:
    """The day in full and the hour: "vendredi 4 décembre 2026 à 10:00". Babel's full time
    would add seconds and "temps moyen de Greenwich", which only confuses in Bamako."""
    return t._("{day} à {hour}", day=t.date(moment, "full"), hour=t.time(moment))


def describe(t: Translator, session: Session) -> str:
    """A session as a member reads it: what, when in full, where, and the agenda."""
    lines = [
        f"🏛️ {session.committee_name} · {t._(KIND_NAMES[session.kind])}",
        f"« {session.title} »",
        t._("🗓️ {when}", when=when(t, session.starts_at)),
        t._("📍 {place}", place=session.place),
    ]
    if session.agenda:
        lines.append(t._("📝 Ordre du jour : {agenda}", agenda=session.agenda))
    if session.summary:
        lines.append(f"ℹ️ {session.summary}")
    return "\n".join(lines)
