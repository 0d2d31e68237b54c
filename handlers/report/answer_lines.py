"""A report's answers as lines of text, in the reader's language: for the reporter's summary
and for the staff view alike (one wording of each answer, wherever it is shown)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.i18n import Translator
from handlers.report import categories, places


def when_text(t: Translator, answers: dict[str, Any]) -> str:
    day = date.fromisoformat(str(answers["occurred_on"]))
    text = t.date(day, "full")
    if answers.get("occurred_time"):
        text = t._("{day} à {time}", day=text, time=answers["occurred_time"])
    elif answers.get("day_period"):
        period = {
            "morning": t._("le matin"),
            "afternoon": t._("l'après-midi"),
            "evening": t._("le soir"),
            "night": t._("la nuit"),
        }.get(str(answers["day_period"]), "")
        text = f"{text}, {period}"
    return text


def _where(t: Translator, answers: dict[str, Any]) -> str:
    parts: list[str] = []
    if answers.get("latitude") is not None:
        parts.append(
            t._(
                "position partagée ({lat} ; {lon})",
                lat=t.number(answers["latitude"]),
                lon=t.number(answers["longitude"]),
            )
        )
    found = places.cercle(str(answers.get("cercle", "")))
    region = places.region(str(answers.get("region", "")))
    if found:
        parts.append(f"{found[1].name}, {found[0].name}")
    elif answers.get("locality"):
        parts.append(f"{answers['locality']}, {region.name}" if region else answers["locality"])
    elif region:
        parts.append(region.name)
    if answers.get("place_detail"):
        parts.append(str(answers["place_detail"]))
    return " — ".join(parts)


def _figure(t: Translator, value: Any) -> str:
    return t._("?") if value is None else t.number(int(value))


def answer_lines(t: Translator, answers: dict[str, Any], evidence: int) -> list[str]:
    """One line per answer, from the category to the files (the contact is worded by each
    reader: the reporter's summary and the staff view say it differently)."""
    category = categories.by_code(str(answers.get("category", "")))
    lines = [
        t._(
            "• Type : {value}", value=f"{category.emoji} {t._(category.label)}" if category else "?"
        ),
        t._("• Quand : {value}", value=when_text(t, answers)),
        t._("• Où : {value}", value=_where(t, answers)),
    ]
    if answers.get("description_media"):
        voice = (
            t._("🎤 message vocal")
            if answers["description_media"]
            in (
                "voice",
                "audio",
                "video_note",
            )
            else t._("📷 photo ou vidéo")
        )
        detail = f" : {answers['description']}" if answers.get("description") else ""
        lines.append(t._("• Ce qui s'est passé : {value}", value=f"{voice}{detail}"))
    else:
        lines.append(t._("• Ce qui s'est passé : {value}", value=answers.get("description", "")))
    if answers.get("people") == "no":
        lines.append(t._("• Personnes touchées : aucune"))
    elif answers.get("people") == "unknown":
        lines.append(t._("• Personnes touchées : on ne sait pas"))
    else:
        lines.append(
            t._(
                "• Tués : {killed} · blessés : {injured} · disparus : {missing} · "
                "déplacés : {displaced}",
                killed=_figure(t, answers.get("killed")),
                injured=_figure(t, answers.get("injured")),
                missing=_figure(t, answers.get("missing")),
                displaced=_figure(t, answers.get("displaced")),
            )
        )
    lines.append(t.ngettext("• Fichiers : {n}", "• Fichiers : {n}", evidence))
    return lines
