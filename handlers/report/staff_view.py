"""The one way a report is shown to staff (validators, focal points, coordinators).

Who reported is never shown, except what the reporter chose to give: an anonymous report
carries only a pseudonym ("Rapporteur #A7F3", the same for every report of that person, so
validators can weigh a track record without knowing a name); a reporter who accepted contact
through the bot is marked so; a phone number appears only when its owner shared it for this.
Every staff-facing view and export must go through `staff_view` or `pseudonym`.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from bot.i18n import Translator
from handlers.report import categories
from handlers.report.answer_lines import answer_lines
from storage import installation
from storage.database import Connection
from storage.reports import MediaItem, Report

PSEUDONYM_KEY = "reporter_pseudonyms"


async def pseudonym(conn: Connection, reporter_id: int | None) -> str:
    """ "#A7F3": stable per reporter, not reversible without this installation's key."""
    if reporter_id is None:
        return "#----"
    key = await installation.secret(conn, PSEUDONYM_KEY)
    digest = hmac.new(key, str(reporter_id).encode(), hashlib.sha256).hexdigest()
    return "#" + digest[:4].upper()


def report_answers(report: Report) -> dict[str, Any]:
    """A stored report as the answers the summary lines are written from."""
    return {
        "category": report.category,
        "occurred_on": report.occurred_on.isoformat(),
        "occurred_time": report.occurred_time,
        "day_period": report.day_period,
        "region": report.region,
        "cercle": report.cercle,
        "locality": report.locality,
        "place_detail": report.place_detail,
        "latitude": report.latitude,
        "longitude": report.longitude,
        "precision": report.precision,
        "description": report.description or "",
        "people": "yes",
        "killed": report.killed,
        "injured": report.injured,
        "missing": report.missing,
        "displaced": report.displaced,
        "contact": report.contact,
    }


async def staff_view(
    conn: Connection,
    t: Translator,
    report: Report,
    media: list[MediaItem],
    similar: list[Report],
) -> str:
    category = categories.by_code(report.category)
    lines = [
        t._("📄 Signalement {reference}", reference=report.reference),
        t._(
            "Reçu le {date} · {pseudonym}",
            date=t.datetime(report.created_at, "short"),
            pseudonym=t._("Rapporteur {code}", code=await pseudonym(conn, report.reporter_id)),
        ),
    ]
    if category is not None:
        lines.append(
            f"ACLED : {category.acled_event_type}"
            + (f" / {category.acled_sub_event_type}" if category.acled_sub_event_type else "")
        )
    evidence = sum(1 for m in media if m.purpose == "evidence")
    lines += answer_lines(t, report_answers(report), evidence)
    if report.contact == "phone" and report.contact_phone:
        lines.append(t._("📞 Accepte d'être appelé : {phone}", phone=report.contact_phone))
    elif report.contact == "via_bot":
        lines.append(t._("💬 Accepte d'être recontacté par Kibaru, sans révéler son identité"))
    else:
        lines.append(t._("🔒 Anonyme : ne pas chercher à l'identifier"))
    if similar:
        lines.append(
            t._(
                "🔁 Possibles doublons : {references}",
                references=", ".join(s.reference for s in similar),
            )
        )
    return "\n".join(lines)
