"""What the reporter is told about their report, in their language, through the outbox.

Never who decided or who asked: "the analysis team" only. A reporter who used /effacer is
not linked to their reports any more, and is told nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.i18n import Translator
from storage import outbox, users
from storage.database import Connection
from storage.outbox import Outgoing
from storage.reports import Report


async def tell_reporter(
    conn: Connection,
    report: Report,
    what: str,
    render: Callable[[Translator], Outgoing],
    translator_for: Callable[[str | None], Translator],
    now: datetime,
) -> bool:
    """Queue one message to the report's author; `what` makes its key (sent once)."""
    if report.reporter_id is None:
        return False
    reporter = await users.get(conn, report.reporter_id)
    if reporter is None:
        return False
    return await outbox.enqueue(
        conn,
        key=f"reporter:{report.id}:{what}",
        kind="notice",
        channel=reporter.channel,
        chat_id=reporter.chat_id,
        user_id=reporter.id,
        outgoing=render(translator_for(reporter.language)),
        now=now,
    )


def validated(report: Report) -> Callable[[Translator], Outgoing]:
    return lambda t: Outgoing(
        t._(
            "✅ Votre signalement {reference} a été vérifié et validé par l'équipe d'analyse. "
            "Merci : il aide à protéger votre communauté.",
            reference=report.reference,
        )
    )


def rejected(
    report: Report, reason: Callable[[Translator], str] | None
) -> Callable[[Translator], Outgoing]:
    """`reason` is None when the validator chose not to share it."""

    def render(t: Translator) -> Outgoing:
        text = t._(
            "Votre signalement {reference} n'a pas été retenu par l'équipe d'analyse.",
            reference=report.reference,
        )
        if reason is not None:
            text += "\n" + t._("Raison : {reason}", reason=reason(t))
        text += "\n" + t._("Merci quand même : chaque signalement aide à surveiller la situation.")
        return Outgoing(text)

    return render


def duplicate(report: Report, original: str) -> Callable[[Translator], Outgoing]:
    return lambda t: Outgoing(
        t._(
            "Votre signalement {reference} concerne un incident déjà signalé ({original}) : "
            "il y a été joint. Merci, votre témoignage compte.",
            reference=report.reference,
            original=original,
        )
    )
