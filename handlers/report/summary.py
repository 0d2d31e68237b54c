"""The summary the reporter confirms, changing one answer, and the submission itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from bot.flow import ChoiceStep, Finish, Goto, Option, Retry, Transition, Turn
from bot.i18n import Translator
from handlers.report.answer_lines import answer_lines
from handlers.report.flow import EDITING
from handlers.review.posting import post_for_review
from storage import reports
from storage.reports import NewReport


def render_summary(t: Translator, answers: dict[str, Any], evidence: int) -> str:
    """Every answer, in the reporter's language, as they will confirm it."""
    lines = [t._("📋 Votre signalement :"), *answer_lines(t, answers, evidence)]
    contact = {
        "anonymous": t._("anonyme"),
        "via_bot": t._("anonyme, mais les analystes peuvent vous écrire par Kibaru"),
        "phone": t._("les analystes peuvent vous appeler"),
    }.get(str(answers.get("contact")), t._("anonyme"))
    lines.append(t._("• Contact : {value}", value=contact))
    return "\n".join(lines)


class Summary(ChoiceStep):
    name = "summary"

    async def enter(self, turn: Turn) -> Goto | None:
        missing = [k for k in ("category", "occurred_on", "precision") if not turn.answers.get(k)]
        if missing:  # a draft from an older version, or a step skipped by a bug: ask it
            first = {"category": "category", "occurred_on": "when", "precision": "where"}
            return Goto(first[missing[0]])
        return None

    async def question(self, turn: Turn) -> str:
        evidence = len(
            [
                m
                for m in await reports.draft_media(turn.conn, turn.user.id)
                if m.purpose == "evidence"
            ]
        )
        summary = render_summary(turn.t, turn.answers, evidence)
        return summary + "\n\n" + turn.t._("Tout est juste ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        t = turn.t
        return (
            Option("send", t._("✅ Envoyer"), ("envoyer", "send", "oui")),
            Option("change", t._("✏️ Modifier une réponse"), ("modifier", "change")),
        )

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == "change":
            return Goto("change")
        return await submit(turn)


class Change(ChoiceStep):
    name = "change"
    columns = 2

    async def question(self, turn: Turn) -> str:
        return turn.t._("Quelle réponse voulez-vous modifier ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        t = turn.t
        return (
            Option("category", t._("Type")),
            Option("when", t._("Quand")),
            Option("where", t._("Où")),
            Option("what", t._("Ce qui s'est passé")),
            Option("people", t._("Personnes touchées")),
            Option("evidence", t._("Fichiers")),
            Option("contact", t._("Contact")),
        )

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers[EDITING] = True
        turn.answers.pop("_editing_chain", None)
        return Goto(key)


def _new_report(turn: Turn) -> NewReport:
    a = turn.answers
    return NewReport(
        category=str(a["category"]),
        occurred_on=date.fromisoformat(str(a["occurred_on"])),
        occurred_time=a.get("occurred_time"),
        day_period=a.get("day_period"),
        region=a.get("region"),
        cercle=a.get("cercle"),
        locality=a.get("locality"),
        place_detail=a.get("place_detail"),
        latitude=a.get("latitude"),
        longitude=a.get("longitude"),
        precision=str(a["precision"]),
        description=a.get("description") or None,
        killed=a.get("killed"),
        injured=a.get("injured"),
        missing=a.get("missing"),
        displaced=a.get("displaced"),
        contact=str(a.get("contact") or "anonymous"),
        contact_phone=a.get("contact_phone"),
        language=turn.t.language,
    )


async def submit(turn: Turn) -> Transition:
    """Commit the report (with the turn's transaction), then tell the reference."""
    t = turn.t
    limit = turn.settings.reports_per_hour
    recent = await reports.count_since(turn.conn, turn.user.id, turn.now - timedelta(hours=1))
    if recent >= limit:
        return Retry(
            t.ngettext(
                "Vous avez déjà envoyé {n} signalement dans la dernière heure : c'est le maximum. "
                "Votre signalement est gardé ; réessayez un peu plus tard.",
                "Vous avez déjà envoyé {n} signalements dans la dernière heure : c'est le "
                "maximum. Votre signalement est gardé ; réessayez un peu plus tard.",
                recent,
            )
        )
    report = await reports.create(
        turn.conn, _new_report(turn), turn.user.id, turn.now, turn.settings.timezone
    )
    await post_for_review(turn.conn, report, turn.settings, turn.translator, turn.now)
    turn.answers.clear()
    turn.note(receipt(t, report.reference))
    return Finish()


#: how long after a report's commit its receipt may still have been lost with the process
#: (the replies of a busy batch go out at 30 a second: seconds, not minutes)
RECEIPT_AT_RISK = timedelta(minutes=1)


def receipt(t: Translator, reference: str) -> str:
    return t._(
        "✅ Signalement reçu. Votre référence : {reference}.\n"
        "L'équipe d'analyse va le vérifier ; vous recevrez un message quand il sera validé "
        "ou si elle a besoin de précisions. Merci de votre vigilance.",
        reference=reference,
    )


async def receipt_again(turn: Turn, saved_at: datetime) -> None:
    """An update came again after a crash: if a report was confirmed shortly before the
    conversation was last saved, its receipt may have been lost with the process (committed,
    not yet sent). Say it again, so that the reporter learns their reference and does not
    report the same thing twice to make sure."""
    latest = await reports.of_reporter(turn.conn, turn.user.id, limit=1)
    if latest and saved_at - latest[0].created_at <= RECEIPT_AT_RISK:
        turn.note(receipt(turn.t, latest[0].reference))
