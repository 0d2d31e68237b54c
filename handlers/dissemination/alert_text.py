"""An alert as its recipients read it, in their own language.

Built from the structured fields only: the category, the area's names (region, cercle or
commune, a typed locality), the day, the figures, the validator's public summary and the
reference. Never the reporter's own words, their pin or their place details: those can point
to the person who reported, and alerts go to many people.
"""

from __future__ import annotations

from bot.i18n import Translator
from handlers.report import categories, places
from handlers.report.answer_lines import when_text
from handlers.report.staff_view import report_answers
from handlers.review.severity import severity_label
from storage.reports import Report
from storage.review import Alert


def area_name(report: Report) -> str:
    """ "Commune IV, District de Bamako", "Douentza, Douentza", a locality, or the region."""
    found = places.cercle(report.cercle or "")
    region = places.region(report.region or "")
    if found:
        return f"{found[1].name}, {found[0].name}"
    if report.locality:
        return f"{report.locality}, {region.name}" if region else report.locality
    return region.name if region else "Mali"


def default_summary(t: Translator, report: Report) -> str:
    """The public summary when the validator types none."""
    category = categories.by_code(report.category)
    return t._(
        "Incident vérifié par l'équipe d'analyse : {category} à {place}, le {day}.",
        category=t._(category.label) if category else report.category,
        place=area_name(report),
        day=t.date(report.occurred_on, "long"),
    )


def _figures(t: Translator, report: Report) -> str | None:
    parts = []
    if report.killed:
        parts.append(t._("tués : {n}", n=t.number(report.killed)))
    if report.injured:
        parts.append(t._("blessés : {n}", n=t.number(report.injured)))
    if report.missing:
        parts.append(t._("disparus : {n}", n=t.number(report.missing)))
    if report.displaced:
        parts.append(t._("déplacés : {n}", n=t.number(report.displaced)))
    return " · ".join(parts) if parts else None


def alert_text(t: Translator, report: Report, alert: Alert) -> str:
    category = categories.by_code(report.category)
    kind = f"{category.emoji} {t._(category.label)}" if category else report.category
    lines = [
        f"{severity_label(t, alert.severity)} · {kind}",
        t._("📍 {place}", place=area_name(report)),
        t._("🕒 {when}", when=when_text(t, report_answers(report))),
    ]
    figures = _figures(t, report)
    if figures:
        lines.append(t._("👥 {figures}", figures=figures))
    lines.append("")
    lines.append(alert.summary or default_summary(t, report))
    lines.append("")
    lines.append(t._("Réf. {reference} · Kibaru, alerte précoce", reference=report.reference))
    return "\n".join(lines)
