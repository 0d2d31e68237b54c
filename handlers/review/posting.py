"""Where a report goes for review, and how its review message shows the outcome.

Posting goes through the outbox, in the transaction that stores the report: the report and
its review message are committed together, so a crash can lose neither. With
KIBARU_REVIEW_CHAT_ID the message goes to that group (in the default language); otherwise to
each validator whose scope covers the report, and to coordinators, each in their language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.i18n import Translator
from bot.inbound import action_data
from bot.settings import Settings
from handlers.report.staff_view import staff_view
from handlers.review.access import may_review
from storage import outbox, reports, roles
from storage.database import Connection, fetch_all
from storage.outbox import Outgoing
from storage.reports import Report
from storage.roles import Role

TELEGRAM = "telegram"
REVIEW = "rv"  # the action name of review buttons


@dataclass(frozen=True)
class Reviewer:
    channel: str
    chat_id: str
    language: str | None
    user_id: int | None  # None for the review group


def post_key(report_id: int, chat_id: str) -> str:
    return f"review:{report_id}:{chat_id}"


def decision_buttons(t: Translator, report_id: int) -> tuple[tuple[tuple[str, str], ...], ...]:
    return (
        (
            (t._("✅ Valider"), action_data(REVIEW, report_id, "val")),
            (t._("❌ Rejeter"), action_data(REVIEW, report_id, "rej")),
        ),
        (
            (t._("❓ Demander des précisions"), action_data(REVIEW, report_id, "ask")),
            (t._("🔁 Doublon"), action_data(REVIEW, report_id, "dup")),
        ),
    )


async def reviewers(conn: Connection, settings: Settings, report: Report) -> list[Reviewer]:
    if settings.review_chat_id is not None:
        return [Reviewer(TELEGRAM, str(settings.review_chat_id), None, None)]
    reviewing = (Role.VALIDATOR, Role.COORDINATOR)
    return [
        Reviewer(user.channel, user.chat_id, user.language, user.id)
        for user in await roles.people(conn, reviewing, {None, report.region, report.cercle})
    ]


async def review_text(conn: Connection, t: Translator, report: Report) -> str:
    media = await reports.media_of(conn, report.id)
    similar = await reports.similar(conn, report.id)
    return await staff_view(conn, t, report, media, similar)


async def post_for_review(
    conn: Connection,
    report: Report,
    settings: Settings,
    translator_for: Callable[[str | None], Translator],
    now: datetime,
) -> int:
    """Queue the review message(s) of a new report; how many were queued."""
    media = tuple(
        (m.kind, m.file_id)
        for m in await reports.media_of(conn, report.id)
        if m.channel == TELEGRAM
    )
    queued = 0
    for reviewer in await reviewers(conn, settings, report):
        t = translator_for(reviewer.language)
        outgoing = Outgoing(
            await review_text(conn, t, report),
            buttons=decision_buttons(t, report.id),
            media=media,
        )
        queued += await outbox.enqueue(
            conn,
            key=post_key(report.id, reviewer.chat_id),
            kind="review",
            channel=reviewer.channel,
            chat_id=reviewer.chat_id,
            user_id=reviewer.user_id,
            outgoing=outgoing,
            now=now,
        )
    return queued


async def show_outcome(
    conn: Connection,
    report: Report,
    settings: Settings,
    translator_for: Callable[[str | None], Translator],
    outcome: Callable[[Translator], str],
    now: datetime,
) -> None:
    """Edit every review message of the report to show the outcome, without buttons (a
    message not sent yet is cancelled instead: nobody needs to review it any more, and its
    reader may not even be a reviewer now)."""
    for row in await fetch_all(
        conn,
        "SELECT key FROM outbox WHERE key LIKE ? AND status = 'queued'",
        (post_key(report.id, "%"),),
    ):
        await outbox.cancel(conn, row["key"])
    for reviewer in await reviewers(conn, settings, report):
        key = post_key(report.id, reviewer.chat_id)
        sent = await outbox.sent_message(conn, key)
        if sent is None:
            continue
        t = translator_for(reviewer.language)
        text = await review_text(conn, t, report) + "\n\n" + outcome(t)
        await outbox.enqueue(
            conn,
            key=f"review-outcome:{report.id}:{reviewer.chat_id}",
            kind="review",
            channel=reviewer.channel,
            chat_id=sent[0],
            user_id=reviewer.user_id,
            outgoing=Outgoing(text, edit_message_id=sent[1]),
            now=now,
        )


async def withdraw_posts(conn: Connection, user_id: int) -> int:
    """After a role is withdrawn: the review messages still waiting for this person and
    about reports they may no longer review are cancelled (they would show the report to
    someone no longer on the team). How many."""
    withdrawn = 0
    for row in await fetch_all(
        conn,
        "SELECT key FROM outbox WHERE user_id = ? AND kind = 'review' AND status = 'queued'"
        " AND key LIKE 'review:%'",
        (user_id,),
    ):
        report = await reports.get(conn, int(str(row["key"]).split(":")[1]))
        if report is None or not await may_review(conn, user_id, report):
            withdrawn += await outbox.cancel(conn, row["key"])
    return withdrawn
