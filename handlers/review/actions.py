"""What the buttons of review messages and relayed questions do when tapped.

Their data comes from the network and is never trusted: the report or question must exist,
and the presser must hold the right (a validator or coordinator for a report, the reporter
for a question to them). A refusal is told and written to the audit log.
"""

from __future__ import annotations

from bot.flow import Begin, Retry, Transition, Turn
from bot.inbound import ActionEvent
from bot.outbound import ActionMessage, Button
from handlers.refusal import refuse
from handlers.review.access import may_review, reviews_somewhere
from handlers.review.decisions import (
    DUPLICATE_FLOW,
    REJECT_FLOW,
    VALIDATE_FLOW,
    already_decided,
)
from handlers.review.details import ANSWER_FLOW, ASK_FLOW
from handlers.review.posting import decision_buttons, review_text
from storage import reports, review
from storage.reports import Status

VERBS = {"val": VALIDATE_FLOW, "rej": REJECT_FLOW, "ask": ASK_FLOW, "dup": DUPLICATE_FLOW}


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 12 else None


async def review_action(turn: Turn, event: ActionEvent) -> Transition:
    """rv:<report id>:<val|rej|ask|dup|show>"""
    report_id = _number(event.args[0]) if len(event.args) == 2 else None
    verb = event.args[1] if len(event.args) == 2 else ""
    if report_id is None or (verb not in VERBS and verb != "show"):
        await refuse(turn, "rv:malformed", "report:?")
        return Retry()
    if not await reviews_somewhere(turn.conn, turn.user.id):
        await refuse(turn, f"rv:{verb}", f"report:{report_id}")
        return Retry()
    report = await reports.get(turn.conn, report_id)
    if report is None:
        turn.note(turn.t._("Ce signalement n'existe plus."))
        return Retry()
    if not await may_review(turn.conn, turn.user.id, report):
        await refuse(turn, f"rv:{verb}", f"report:{report.id}")
        return Retry()
    if await already_decided(turn, report):
        return Retry()
    if verb == "show":
        turn.out.append(
            ActionMessage(
                await review_text(turn.conn, turn.t, report),
                actions=tuple(
                    tuple(Button(data, label) for label, data in row)
                    for row in decision_buttons(turn.t, report.id)
                ),
            )
        )
        return Retry()
    if report.status is Status.RECEIVED:
        await review.set_status(turn.conn, report.id, Status.UNDER_REVIEW)
    return Begin(VERBS[verb], {"report_id": report.id, "actor_name": event.actor_name})


async def answer_action(turn: Turn, event: ActionEvent) -> Transition:
    """rq:<question id>: only the report's author may answer, once."""
    question_id = _number(event.args[0]) if len(event.args) == 1 else None
    asked = await review.question(turn.conn, question_id) if question_id else None
    report = await reports.get(turn.conn, asked.report_id) if asked else None
    if asked is None or report is None or report.reporter_id != turn.user.id:
        await refuse(turn, "rq", f"question:{question_id or '?'}")
        return Retry()
    if asked.answer is not None:
        turn.note(turn.t._("Vous avez déjà répondu à cette question. Merci !"))
        return Retry()
    return Begin(ANSWER_FLOW, {"question_id": asked.id})
