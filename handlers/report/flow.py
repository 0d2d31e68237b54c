"""The report conversation: its order of questions, its draft, and how it resumes.

A report is answered over several minutes on a poor network, sometimes over days: every
answer is kept in a draft row (`storage.reports` drafts), written in the same transaction as
the step, so leaving with /menu, a restart or a lost phone signal loses nothing. Coming back
to /signaler offers to continue or to start over; drafts older than `DRAFT_LIFETIME` are
dropped, with their media.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.clock import Clock
from bot.files import remove_files
from bot.flow import ChoiceStep, Flow, Goto, Option, Step, Transition, Turn
from handlers.report import categories
from storage import reports
from storage.database import Database

REPORT_FLOW = "report"
DRAFT_LIFETIME = timedelta(hours=72)

#: the order of the questions; `next_step` follows it unless the user is changing one answer
ORDER = (
    "category",
    "when",
    "date",
    "time",
    "where",
    "pin_outside",
    "region",
    "cercle",
    "locality",
    "place_detail",
    "what",
    "people",
    "killed",
    "injured",
    "missing",
    "displaced",
    "evidence",
    "contact",
    "phone",
    "summary",
)
#: answers.get(EDITING): the user came from the summary to change one answer
EDITING = "_editing"


def next_step(turn: Turn, default: str) -> Goto:
    """Where to go after an answer: the summary when changing one answer, else `default`.

    A question that leads to a sub-question (a region to its cercles, "yes, people were hurt"
    to the figures) passes the sub-question as `default` and sets `keep_editing`.
    """
    if turn.answers.get(EDITING) and default not in turn.answers.get("_editing_chain", ()):
        turn.answers.pop(EDITING, None)
        turn.answers.pop("_editing_chain", None)
        return Goto("summary")
    return Goto(default)


def keep_editing(turn: Turn, *steps: str) -> None:
    """While changing one answer, these follow-up questions are still part of the change."""
    if turn.answers.get(EDITING):
        chain = list(turn.answers.get("_editing_chain", ()))
        turn.answers["_editing_chain"] = [*chain, *steps]


class Resume(ChoiceStep):
    """Offered only when a recent draft exists: continue it, or start over."""

    name = "resume"

    async def enter(self, turn: Turn) -> Goto | None:
        draft = await reports.load_draft(turn.conn, turn.user.id)
        if draft is not None and turn.now - draft.updated_at > DRAFT_LIFETIME:
            await _drop_draft(turn)
            draft = None
        if draft is None or draft.step not in ORDER:
            return Goto("category")
        return None

    async def question(self, turn: Turn) -> str:
        draft = await reports.load_draft(turn.conn, turn.user.id)
        assert draft is not None
        category = categories.by_code(str(draft.answers.get("category", "")))
        what = (
            f"{category.emoji} {turn.t._(category.label)}"
            if category
            else turn.t._("catégorie pas encore choisie")
        )
        return turn.t._(
            "Vous avez un signalement en cours ({what}), dernière réponse le {date}. "
            "Voulez-vous le continuer ?",
            what=what,
            date=turn.t.datetime(draft.updated_at, "short"),
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        return (
            Option("continue", turn.t._("▶️ Continuer"), ("continuer", "continue")),
            Option("restart", turn.t._("🔄 Recommencer"), ("recommencer", "restart")),
        )

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == "restart":
            await _drop_draft(turn)
            turn.answers.clear()
            return Goto("category")
        draft = await reports.load_draft(turn.conn, turn.user.id)
        assert draft is not None
        turn.answers.clear()
        turn.answers.update(draft.answers)
        return Goto(draft.step)


async def _drop_draft(turn: Turn) -> None:
    await reports.delete_draft(turn.conn, turn.user.id)
    for path in await reports.drop_draft_media(turn.conn, turn.user.id):
        turn.files_to_delete.append(path)


class ReportFlow(Flow):
    async def saved(self, turn: Turn, step: str) -> None:
        if step in ORDER and turn.answers.get("category"):
            await reports.save_draft(turn.conn, turn.user.id, turn.answers, step, turn.now)

    async def cancelled(self, turn: Turn) -> None:
        await _drop_draft(turn)


def report_flow(steps: Sequence[Step]) -> ReportFlow:
    return ReportFlow(REPORT_FLOW, [Resume(), *steps])


async def purge_expired_drafts(db: Database, clock: Clock) -> int:
    """Drop drafts nobody came back to within `DRAFT_LIFETIME`, with their media files.

    Run every hour by the scheduler; the files go from the disk only after the commit.
    """
    files: list[str] = []
    async with db.transaction() as conn:
        owners = await reports.expired_drafts(conn, clock.now() - DRAFT_LIFETIME)
        for owner in owners:
            await reports.delete_draft(conn, owner)
            files += await reports.drop_draft_media(conn, owner)
    remove_files(files)
    return len(owners)
