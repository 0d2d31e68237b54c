"""The decisions a validator takes on a report, as short private conversations.

A button on the review message starts one of these flows in the validator's private chat
with the report's id as its first answer. The presser's right is checked at the press and
again when the decision is stored (a role can be withdrawn in between). The decision itself
is one INSERT (`storage.review.decide`): the first validator wins, the second is told who
decided. Everything that follows a decision (the alert's fan-out, its CAP message for partner
platforms, the reporter's notice, the review messages' edits) is queued in the outbox in the
same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.flow import ChoiceStep, Finish, Flow, Goto, Option, Retry, TextStep, Transition, Turn
from bot.i18n import N_, Translator
from handlers.cap.webhook import queue_for_partners
from handlers.dissemination.alert_text import default_summary
from handlers.dissemination.fanout import disseminate
from handlers.refusal import refuse
from handlers.review import notify
from handlers.review.access import may_review
from handlers.review.posting import show_outcome
from handlers.review.severity import SEVERITIES, severity_label
from storage import reports, review
from storage.reports import Report
from storage.review import Audience, Decision, DecisionRow

VALIDATE_FLOW = "review_validate"
REJECT_FLOW = "review_reject"
DUPLICATE_FLOW = "review_duplicate"
MAX_SUMMARY = 600

#: rejection reasons a validator picks from (code -> French label); "other" is typed
REASONS: dict[str, str] = {
    "unverifiable": N_("Impossible à vérifier"),
    "false": N_("Information fausse ou trompeuse"),
    "out_of_scope": N_("Hors du champ de l'alerte précoce"),
    "too_vague": N_("Trop peu de détails"),
    "test": N_("Message de test ou erreur"),
}


def reason_text(reason: str) -> Callable[[Translator], str]:
    """A listed reason in the reader's language; a typed one as the validator wrote it."""
    label = REASONS.get(reason)
    return (lambda t: t._(label)) if label else (lambda t: reason)


def outcome_line(row: DecisionRow) -> Callable[[Translator], str]:
    """The line added to a review message once decided (staff see who decided)."""
    who = row.decided_by_name or "?"

    def render(t: Translator) -> str:
        when = t.datetime(row.decided_at, "short")
        if row.decision is Decision.VALIDATED:
            return t._("✅ Validé par {who}, {when}", who=who, when=when)
        if row.decision is Decision.DUPLICATE:
            return t._("🔁 Marqué doublon par {who}, {when}", who=who, when=when)
        reason = reason_text(row.reason)(t) if row.reason else "—"
        return t._("❌ Rejeté par {who}, {when} : {reason}", who=who, when=when, reason=reason)

    return render


async def open_report(turn: Turn) -> Report | None:
    """The report this flow decides on, if it still exists and the user still may."""
    report = await reports.get(turn.conn, int(turn.answers.get("report_id", 0)))
    if report is None:
        turn.say(turn.t._("Ce signalement n'existe plus."))
        return None
    if not await may_review(turn.conn, turn.user.id, report):
        await refuse(turn, "review", f"report:{report.id}")
        return None
    return report


async def already_decided(turn: Turn, report: Report) -> bool:
    row = await review.decision_of(turn.conn, report.id)
    if row is None:
        return False
    turn.say(
        turn.t._(
            "{reference} a déjà été traité par {who}.",
            reference=report.reference,
            who=row.decided_by_name or "?",
        )
        + "\n"
        + outcome_line(row)(turn.t)
    )
    return True


async def record(
    turn: Turn,
    report: Report,
    decision: Decision,
    *,
    reason: str | None = None,
    reason_shared: bool = False,
    duplicate_of: Report | None = None,
) -> DecisionRow | None:
    """Store the decision, tell the reporter, edit the review messages; None if lost."""
    row = await review.decide(
        turn.conn,
        report,
        decision,
        turn.user.id,
        turn.answers.get("actor_name"),
        turn.now,
        reason=reason,
        reason_shared=reason_shared,
        duplicate_of=duplicate_of.id if duplicate_of else None,
    )
    if row is None:
        await already_decided(turn, report)
        return None
    translator_for = turn.translator
    if decision is Decision.VALIDATED:
        notice = notify.validated(report)
    elif decision is Decision.DUPLICATE and duplicate_of is not None:
        notice = notify.duplicate(report, duplicate_of.reference)
    else:
        notice = notify.rejected(report, reason_text(reason) if reason and reason_shared else None)
    await notify.tell_reporter(turn.conn, report, decision.value, notice, translator_for, turn.now)
    await show_outcome(
        turn.conn, report, turn.settings, translator_for, outcome_line(row), turn.now
    )
    return row


# --- validate ----------------------------------------------------------------------------------


class Severity(ChoiceStep):
    name = "severity"
    columns = 2

    async def enter(self, turn: Turn) -> Finish | None:
        report = await open_report(turn)
        if report is None or await already_decided(turn, report):
            return Finish()
        return None

    async def question(self, turn: Turn) -> str:
        return turn.t._(
            "Valider {reference}. Quelle gravité pour l'alerte ?",
            reference=await _reference(turn),
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [Option(str(level), severity_label(turn.t, level)) for level in SEVERITIES]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers["severity"] = int(key)
        return Goto(AudienceChoice.name)


class AudienceChoice(ChoiceStep):
    name = "audience"

    async def question(self, turn: Turn) -> str:
        return turn.t._("Qui reçoit cette alerte ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        t = turn.t
        return [
            Option(Audience.PUBLIC.value, t._("📢 Les abonnés de la zone (public)")),
            Option(Audience.STAFF.value, t._("🔒 Points focaux et équipe seulement")),
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        turn.answers["audience"] = key
        return Goto(PublicSummary.name)


class PublicSummary(TextStep):
    name = "summary"
    optional = True

    async def question(self, turn: Turn) -> str:
        report = await reports.get(turn.conn, int(turn.answers["report_id"]))
        default = default_summary(turn.t, report) if report else ""
        return turn.t._(
            "Écrivez le résumé public de l'alerte, ou touchez « Passer » pour garder "
            "celui-ci :\n\n{default}",
            default=default,
        )

    async def typed(self, turn: Turn, text: str) -> Transition:
        if len(text) > MAX_SUMMARY:
            return Retry(
                turn.t._(
                    "Ce résumé est trop long ({length} caractères, {limit} au maximum). "
                    "Raccourcissez-le.",
                    length=turn.t.number(len(text)),
                    limit=turn.t.number(MAX_SUMMARY),
                )
            )
        return await validate(turn, text)

    async def skipped(self, turn: Turn) -> Transition:
        return await validate(turn, None)


async def validate(turn: Turn, summary: str | None) -> Transition:
    report = await open_report(turn)
    if report is None:
        return Finish()
    row = await record(turn, report, Decision.VALIDATED)
    if row is None:
        return Finish()
    severity = int(turn.answers["severity"])
    audience = Audience(turn.answers["audience"])
    alert = await review.create_alert(turn.conn, report.id, severity, audience, summary, turn.now)
    queued = await disseminate(
        turn.conn, report, alert, turn.translator, turn.now, turn.settings.timezone
    )
    await queue_for_partners(turn.conn, report, alert, turn.translator, turn.settings, turn.now)
    turn.say(
        turn.t.ngettext(
            "✅ {reference} validé ({severity}). L'alerte part vers {n} destinataire.",
            "✅ {reference} validé ({severity}). L'alerte part vers {n} destinataires.",
            queued,
            reference=report.reference,
            severity=severity_label(turn.t, severity),
        )
    )
    return Finish()


# --- reject ------------------------------------------------------------------------------------


class Reason(ChoiceStep):
    name = "reason"

    async def enter(self, turn: Turn) -> Finish | None:
        report = await open_report(turn)
        if report is None or await already_decided(turn, report):
            return Finish()
        return None

    async def question(self, turn: Turn) -> str:
        return turn.t._(
            "Rejeter {reference}. Pour quelle raison ?", reference=await _reference(turn)
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            *(Option(code, turn.t._(label)) for code, label in REASONS.items()),
            Option("other", turn.t._("✍️ Autre raison (je l'écris)")),
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == "other":
            return Goto(TypedReason.name)
        turn.answers["reason"] = key
        return Goto(ShareReason.name)


class TypedReason(TextStep):
    name = "typed_reason"

    async def question(self, turn: Turn) -> str:
        return turn.t._("Écrivez la raison du rejet en quelques mots.")

    async def typed(self, turn: Turn, text: str) -> Transition:
        turn.answers["reason"] = text[:300]
        return Goto(ShareReason.name)


class ShareReason(ChoiceStep):
    name = "share_reason"

    async def question(self, turn: Turn) -> str:
        return turn.t._("Dire la raison au rapporteur ?")

    async def options(self, turn: Turn) -> Sequence[Option]:
        return [
            Option("yes", turn.t._("Oui, lui dire la raison")),
            Option("no", turn.t._("Non, seulement que c'est rejeté")),
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        report = await open_report(turn)
        if report is None:
            return Finish()
        reason = str(turn.answers["reason"])
        row = await record(
            turn, report, Decision.REJECTED, reason=reason, reason_shared=key == "yes"
        )
        if row is not None:
            turn.say(turn.t._("❌ {reference} rejeté.", reference=report.reference))
        return Finish()


# --- duplicate ---------------------------------------------------------------------------------


class Original(ChoiceStep):
    name = "original"

    async def enter(self, turn: Turn) -> Finish | Goto | None:
        report = await open_report(turn)
        if report is None or await already_decided(turn, report):
            return Finish()
        if not await reports.similar(turn.conn, report.id):
            return Goto(TypedOriginal.name)
        return None

    async def question(self, turn: Turn) -> str:
        return turn.t._(
            "{reference} est le doublon de quel signalement ?", reference=await _reference(turn)
        )

    async def options(self, turn: Turn) -> Sequence[Option]:
        similar = await reports.similar(turn.conn, int(turn.answers["report_id"]))
        return [
            *(Option(str(s.id), s.reference) for s in similar[:8]),
            Option("typed", turn.t._("✍️ Taper une référence")),
        ]

    async def chosen(self, turn: Turn, key: str) -> Transition:
        if key == "typed":
            return Goto(TypedOriginal.name)
        original = await reports.get(turn.conn, int(key))
        return await mark_duplicate(turn, original)


class TypedOriginal(TextStep):
    name = "typed_original"

    async def question(self, turn: Turn) -> str:
        return turn.t._("Tapez la référence du signalement d'origine (par exemple ML-2026-000123).")

    async def typed(self, turn: Turn, text: str) -> Transition:
        original = await reports.by_reference(turn.conn, text)
        if original is None:
            return Retry(
                turn.t._(
                    "Je ne trouve pas de signalement « {reference} ». Vérifiez la référence "
                    "(ML-année-numéro) et tapez-la à nouveau.",
                    reference=text[:40],
                )
            )
        return await mark_duplicate(turn, original)


async def mark_duplicate(turn: Turn, original: Report | None) -> Transition:
    report = await open_report(turn)
    if report is None:
        return Finish()
    if original is None or original.id == report.id:
        return Retry(turn.t._("Choisissez un autre signalement que celui-ci."))
    row = await record(turn, report, Decision.DUPLICATE, duplicate_of=original)
    if row is not None:
        turn.say(
            turn.t._(
                "🔁 {reference} marqué comme doublon de {original}.",
                reference=report.reference,
                original=original.reference,
            )
        )
    return Finish()


async def _reference(turn: Turn) -> str:
    report = await reports.get(turn.conn, int(turn.answers.get("report_id", 0)))
    return report.reference if report else "?"


def decision_flows() -> list[Flow]:
    return [
        Flow(VALIDATE_FLOW, [Severity(), AudienceChoice(), PublicSummary()]),
        Flow(REJECT_FLOW, [Reason(), TypedReason(), ShareReason()]),
        Flow(DUPLICATE_FLOW, [Original(), TypedOriginal()]),
    ]
