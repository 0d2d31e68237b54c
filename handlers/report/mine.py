"""`/mes_signalements`: a reporter's own reports and where each one stands.

Hearing back builds trust: a reporter sees that each report arrived, under which reference,
and what the analysts made of it.
"""

from __future__ import annotations

from bot.flow import Finish, Flow, Step, Transition, Turn
from bot.i18n import Translator
from bot.inbound import InboundEvent
from bot.outbound import Message
from handlers.report import categories
from storage import reports

MY_REPORTS_FLOW = "myreports"
SHOWN = 10


def status_label(t: Translator, status: str) -> str:
    return {
        "received": t._("📥 reçu"),
        "under_review": t._("🔎 en cours d'examen"),
        "validated": t._("✅ validé"),
        "rejected": t._("❌ non retenu"),
        "needs_details": t._("❓ précisions demandées"),
    }.get(status, status)


class List(Step):
    """Says the list above the menu and ends at once: nothing to answer here."""

    name = "list"
    navigation = False

    async def enter(self, turn: Turn) -> Finish:
        t = turn.t
        mine = await reports.of_reporter(turn.conn, turn.user.id, SHOWN)
        if not mine:
            turn.note(
                t._("Vous n'avez encore envoyé aucun signalement. Pour en faire un : /signaler")
            )
            return Finish()
        lines = [t._("📋 Vos signalements, du plus récent au plus ancien :")]
        for report in mine:
            category = categories.by_code(report.category)
            what = f"{category.emoji} {t._(category.label)}" if category else report.category
            lines.append(
                f"• {report.reference} — {what} — {t.date(report.occurred_on, 'medium')} — "
                f"{status_label(t, report.status)}"
            )
        turn.note("\n".join(lines))
        return Finish()

    async def ask(self, turn: Turn) -> Message:  # never asked: enter() always finishes
        return Message("")

    async def answer(self, turn: Turn, event: InboundEvent) -> Transition:
        return Finish()


def my_reports_flow() -> Flow:
    return Flow(MY_REPORTS_FLOW, [List()])
