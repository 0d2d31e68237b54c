"""The review queue (/a_valider) and the escalation of reports that waited too long.

A report waits `KIBARU_REVIEW_SLA` (2 h by default) for a decision, or
`KIBARU_REVIEW_SLA_URGENT` (30 min) when its category is flagged urgent; past that,
coordinators are told once (the escalation is recorded with the messages, in one
transaction, so a restart neither forgets nor repeats it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from bot.clock import Clock
from bot.flow import ChoiceStep, Finish, Flow, Option, Retry, Transition, Turn
from bot.i18n import Catalogs, Translator
from bot.inbound import action_data
from bot.outbound import ActionMessage, Button
from bot.settings import Settings
from handlers.dissemination.alert_text import area_name
from handlers.refusal import refuse
from handlers.report import categories
from handlers.review.access import may_review, reviews_somewhere
from handlers.review.posting import REVIEW, decision_buttons, review_text
from storage import outbox, review, roles
from storage.database import Database
from storage.reports import Report
from storage.roles import Role

log = logging.getLogger(__name__)

QUEUE_FLOW = "review_queue"
SHOWN = 8


def sla_for(settings: Settings, report: Report) -> datetime:
    """When the report becomes overdue."""
    category = categories.by_code(report.category)
    wait = settings.urgent_review_sla if category and category.urgent else settings.review_sla
    return report.created_at + wait


def _age(t: Translator, report: Report, now: datetime) -> str:
    minutes = max(0, int((now - report.created_at).total_seconds() // 60))
    if minutes < 60:
        return t.ngettext("{n} min", "{n} min", minutes)
    return t.ngettext("{n} h", "{n} h", minutes // 60)


def queue_line(t: Translator, report: Report, now: datetime, settings: Settings) -> str:
    category = categories.by_code(report.category)
    late = " ⏰" if now >= sla_for(settings, report) else ""
    return f"{report.reference} · {category.emoji if category else ''} {area_name(report)} · " + (
        _age(t, report, now) + late
    )


class Pending(ChoiceStep):
    name = "pending"

    async def enter(self, turn: Turn) -> Finish | None:
        if not await reviews_somewhere(turn.conn, turn.user.id):
            await refuse(turn, "pending", "queue")
            return Finish()
        if not await review.pending(turn.conn, 1):
            turn.note(turn.t._("✅ Aucun signalement en attente de validation."))
            return Finish()
        return None

    async def _mine(self, turn: Turn) -> list[Report]:
        shown: list[Report] = []
        for report in await review.pending(turn.conn, 50):
            if await may_review(turn.conn, turn.user.id, report):
                shown.append(report)
        return shown

    async def question(self, turn: Turn) -> str:
        mine = await self._mine(turn)
        t = turn.t
        lines = [
            t.ngettext(
                "📥 {n} signalement attend une décision (le plus ancien d'abord) :",
                "📥 {n} signalements attendent une décision (les plus anciens d'abord) :",
                len(mine),
            )
        ]
        lines += [queue_line(t, r, turn.now, turn.settings) for r in mine[:SHOWN]]
        if len(mine) > SHOWN:
            lines.append(t._("… et {n} autres.", n=t.number(len(mine) - SHOWN)))
        lines.append(t._("Touchez un signalement pour le voir avec ses boutons de décision."))
        return "\n".join(lines)

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [Option(str(r.id), r.reference) for r in (await self._mine(turn))[:SHOWN]]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        report = next((r for r in await self._mine(turn) if str(r.id) == key), None)
        if report is None:
            return Retry(turn.t._("Ce signalement a déjà été traité."))
        turn.out.append(
            ActionMessage(
                await review_text(turn.conn, turn.t, report),
                actions=tuple(
                    tuple(Button(data, label) for label, data in row)
                    for row in decision_buttons(turn.t, report.id)
                ),
            )
        )
        return Finish()


def queue_flow() -> Flow:
    return Flow(QUEUE_FLOW, [Pending()])


async def escalate_overdue(
    db: Database, clock: Clock, settings: Settings, catalogs: Catalogs
) -> int:
    """Tell coordinators about reports past their SLA, once each; how many were escalated."""
    now = clock.now()
    escalated = 0
    earliest = min(settings.review_sla, settings.urgent_review_sla)
    async with db.transaction() as conn:
        coordinators = await roles.people(conn, (Role.COORDINATOR,))
        for report in await review.overdue(conn, now - earliest):
            if now < sla_for(settings, report):
                continue
            await review.mark_escalated(conn, report.id, now)
            escalated += 1
            for user in coordinators:
                t = catalogs.get(user.language or settings.default_language)
                await outbox.enqueue(
                    conn,
                    key=f"escalation:{report.id}:{user.id}",
                    kind="notice",
                    channel=user.channel,
                    chat_id=user.chat_id,
                    user_id=user.id,
                    outgoing=outbox.Outgoing(
                        t._(
                            "⏰ {reference} attend une décision depuis {age} (délai dépassé). "
                            "Voyez /a_valider.",
                            reference=report.reference,
                            age=_age(t, report, now),
                        ),
                        buttons=(((t._("📄 Voir"), action_data(REVIEW, report.id, "show")),),),
                    ),
                    now=now,
                )
    if escalated:
        log.info("escalated %d overdue report(s)", escalated)
    return escalated
