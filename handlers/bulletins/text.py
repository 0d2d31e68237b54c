"""The weekly report, the monthly bulletin and /stats as people read them on a phone: short
lines under emoji headings, numbers and dates in the reader's language (Babel).

Alerts are described from structured fields only: severity, category, cercle and region
names, the day, the figures and the reference. Never the reporter, their words, their pin,
a typed locality or place details: these reports are forwarded outside the network.
"""

from __future__ import annotations

from datetime import timedelta

from babel.units import format_unit

from bot.i18n import Translator
from handlers.bulletins.figures import PeriodFigures
from handlers.bulletins.periods import MONTH, label, short_day
from handlers.ccsc.participation import describe
from handlers.report import categories, places
from handlers.review.severity import SEVERITIES, severity_label
from storage.statistics import AlertFact

#: how many regions and categories /stats names
TOP = 3


def region_name(t: Translator, code: str | None) -> str:
    found = places.region(code or "")
    return found.name if found else t._("Région non précisée")


def category_name(t: Translator, code: str, *, emoji: bool = True) -> str:
    found = categories.by_code(code)
    if found is None:
        return code
    return f"{found.emoji} {t._(found.label)}" if emoji else t._(found.label)


def place_name(alert: AlertFact) -> str:
    """ "Ansongo, Gao", "Commune IV, District de Bamako", or the region alone."""
    found = places.cercle(alert.cercle or "")
    if found:
        return f"{found[1].name}, {found[0].name}"
    region = places.region(alert.region or "")
    return region.name if region else "Mali"


def duration_text(t: Translator, duration: timedelta) -> str:
    """ "45 min", "2 h 40 min", "3 j 4 h" in the reader's units."""
    minutes = max(0, round(duration.total_seconds() / 60))
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)

    def unit(value: int, name: str) -> str:
        return format_unit(value, name, "short", locale=t.locale)

    if hours == 0:
        return unit(minute, "duration-minute")
    if days < 2:
        parts = [unit(hours, "duration-hour")]
        if minute:
            parts.append(unit(minute, "duration-minute"))
        return " ".join(parts)
    parts = [unit(days, "duration-day")]
    if hour:
        parts.append(unit(hour, "duration-hour"))
    return " ".join(parts)


def _count(t: Translator, name: str, n: int) -> str:
    return t._("{name} : {n}", name=name, n=t.number(n))


def alert_line(t: Translator, alert: AlertFact) -> str:
    """One alert in one line: 🔴 18 nov. · 🔫 Attaque armée · Ansongo, Gao · tués : 2 · ref."""
    parts = [
        f"{SEVERITIES[alert.severity][0]} {short_day(t, alert.occurred_on)}",
        category_name(t, alert.category),
        place_name(alert),
    ]
    if alert.killed:
        parts.append(t._("tués : {n}", n=t.number(alert.killed)))
    if alert.injured:
        parts.append(t._("blessés : {n}", n=t.number(alert.injured)))
    if alert.missing:
        parts.append(t._("disparus : {n}", n=t.number(alert.missing)))
    parts.append(alert.reference)
    return " · ".join(parts)


def change_line(t: Translator, found: PeriodFigures) -> str:
    before = t.number(found.previous_total)
    more, fewer = t.number(found.change), t.number(-found.change)
    if found.period.kind == MONTH:
        if found.change > 0:
            return t._("📈 {n} de plus que le mois précédent ({before})", n=more, before=before)
        if found.change < 0:
            return t._("📉 {n} de moins que le mois précédent ({before})", n=fewer, before=before)
        return t._("➖ Autant que le mois précédent ({before})", before=before)
    if found.change > 0:
        return t._("📈 {n} de plus que la semaine précédente ({before})", n=more, before=before)
    if found.change < 0:
        return t._("📉 {n} de moins que la semaine précédente ({before})", n=fewer, before=before)
    return t._("➖ Autant que la semaine précédente ({before})", before=before)


def period_line(t: Translator, found: PeriodFigures) -> str:
    line = t._("🗓️ {period}", period=label(t, found.period))
    if not found.in_progress:
        return line
    running = t._("(en cours)")
    return f"{line} {running}"


def _alerts_part(t: Translator, found: PeriodFigures) -> list[str]:
    if not found.total:
        empty = (
            t._("✅ Aucune alerte validée ce mois-ci.")
            if found.period.kind == MONTH
            else t._("✅ Aucune alerte validée cette semaine.")
        )
        return [empty, change_line(t, found)]
    lines = [
        t.ngettext("🚨 {n} alerte validée", "🚨 {n} alertes validées", found.total),
        change_line(t, found),
        "",
        t._("🎚️ Par gravité"),
    ]
    lines += [
        _count(t, severity_label(t, level), n) for level, n in found.by_severity().items() if n
    ]
    lines += ["", t._("🗺️ Par région")]
    lines += [_count(t, region_name(t, code), n) for code, n in found.by_region()]
    lines += ["", t._("🏷️ Par catégorie")]
    lines += [_count(t, category_name(t, code), n) for code, n in found.by_category()]
    lines += ["", t._("⚠️ Les plus graves")]
    lines += [alert_line(t, alert) for alert in found.most_severe()]
    return lines


def _review_part(t: Translator, found: PeriodFigures) -> list[str]:
    review = found.review
    rejected = review.rejected + review.duplicates
    lines = [
        t._("📥 Signalements"),
        _count(t, t._("Reçus"), review.received),
        _count(t, t._("Validés"), review.validated),
    ]
    if review.duplicates:
        lines.append(
            t.ngettext(
                "Rejetés : {rejected} (dont {n} doublon)",
                "Rejetés : {rejected} (dont {n} doublons)",
                review.duplicates,
                rejected=t.number(rejected),
            )
        )
    else:
        lines.append(_count(t, t._("Rejetés"), rejected))
    median = found.median_delay
    if median is not None:
        lines.append(
            t._("⏱️ Délai médian de validation : {duration}", duration=duration_text(t, median))
        )
    return lines


def _ccsc_part(t: Translator, found: PeriodFigures) -> list[str]:
    if found.ccsc is None:
        return []
    return [
        "",
        t._("🏛️ CCS-C"),
        _count(t, t._("Sessions tenues"), found.ccsc.sessions),
        t._("Présents : {figures}", figures=describe(t, found.ccsc.present)),
    ]


def report_text(t: Translator, found: PeriodFigures) -> str:
    """The weekly report (a week) or the monthly bulletin (a month)."""
    monthly = found.period.kind == MONTH
    heading = (
        t._("📰 Bulletin mensuel de sécurité humaine")
        if monthly
        else t._("📊 Rapport hebdomadaire d'alerte")
    )
    lines = [heading, period_line(t, found), "", *_alerts_part(t, found)]
    if monthly:
        lines += ["", *_review_part(t, found), *_ccsc_part(t, found)]
    lines += ["", t._("Source : réseau d'alerte précoce Kibaru, données validées.")]
    return "\n".join(lines)


def _top(pairs: list[tuple[str, int]], t: Translator) -> str:
    return ", ".join(f"{name} ({t.number(n)})" for name, n in pairs[:TOP])


def stats_text(t: Translator, found: PeriodFigures) -> str:
    """/stats: the headline figures of a period in a few lines."""
    review = found.review
    lines = [
        t._("📊 Chiffres clés"),
        period_line(t, found),
        "",
        t._("📥 Signalements reçus : {n}", n=t.number(review.received)),
        t._(
            "✅ Validés : {validated} · ❌ Rejetés : {rejected}",
            validated=t.number(review.validated),
            rejected=t.number(review.rejected + review.duplicates),
        ),
        t.ngettext("🚨 {n} alerte validée", "🚨 {n} alertes validées", found.total),
    ]
    if found.total:
        lines.append(
            " · ".join(
                f"{SEVERITIES[level][0]} {t.number(n)}" for level, n in found.by_severity().items()
            )
        )
        regions = [(region_name(t, code), n) for code, n in found.by_region()]
        kinds = [(category_name(t, code, emoji=False), n) for code, n in found.by_category()]
        lines.append(t._("🗺️ Régions : {list}", list=_top(regions, t)))
        lines.append(t._("🏷️ Catégories : {list}", list=_top(kinds, t)))
    median = found.median_delay
    if median is not None:
        lines.append(
            t._("⏱️ Délai médian de validation : {duration}", duration=duration_text(t, median))
        )
    return "\n".join(lines)
