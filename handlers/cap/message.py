"""One validated public alert as a CAP 1.2 message, with an info block per language.

The message is built from the structured fields only, as `alert_text` builds the alert
subscribers read: the category, the area's names, the day, the figures, the validator's public
summary and the reference. Never the reporter's own words, their place details, their contact
or anything that names them; a pin only rounded (see `handlers.cap.mapping`).

It is a pure function of the alert, the sender and the moment, so the webhook and the export
render the very same message, and a partner who gets it twice sees the same identifier.

Identifiers are `<sender>:<reference>` (`kibaru@wanep-mali.org:ML-2026-000123`) for the alert,
with `:update-<n>` or `:cancel` for the messages that change or withdraw it: unique for the
sender, and the same every time the same message is rendered. Times are in KIBARU_TIMEZONE with
their offset and no fraction of a second, UTC written `-00:00` as CAP requires.
"""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from enum import StrEnum

from bot.i18n import Translator
from handlers.cap.mapping import GRAVITY, cap_category, circle
from handlers.dissemination.alert_text import area_name, default_summary
from handlers.report import categories, places
from handlers.report.answer_lines import when_text
from handlers.review.severity import SEVERITIES
from storage.reports import Report
from storage.review import Alert, Audience

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
#: the languages of the info blocks, in this order: the network's, then its partners'
LANGUAGES: tuple[str, ...] = ("fr", "en")
#: CAP advises headlines short enough for a pager or a text message
MAX_HEADLINE = 160
#: `senderName`, the issuer as people read it: a name, the same in every language
SENDER_NAME = "Kibaru"


class MsgType(StrEnum):
    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"


@dataclass(frozen=True)
class Earlier:
    """A message an Update or Cancel replaces: CAP's `references` name it by sender,
    identifier and sent time."""

    sender: str
    identifier: str
    sent: datetime


def cap_time(moment: datetime, timezone: tzinfo) -> str:
    """`2026-03-12T09:00:00-00:00`: CAP's dateTime, local time with its offset."""
    text = moment.astimezone(timezone).replace(microsecond=0).isoformat()
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def identifier(
    sender: str, reference: str, msg_type: MsgType = MsgType.ALERT, revision: int = 1
) -> str:
    base = f"{sender}:{reference}"
    if msg_type is MsgType.UPDATE:
        return f"{base}:update-{revision}"
    if msg_type is MsgType.CANCEL:
        return f"{base}:cancel"
    return base


def cap_message(
    report: Report,
    alert: Alert,
    translators: Sequence[Translator],
    *,
    sender: str,
    timezone: tzinfo,
    msg_type: MsgType = MsgType.ALERT,
    sent: datetime | None = None,
    revision: int = 1,
    references: Sequence[Earlier] = (),
) -> str:
    """The CAP XML document (UTF-8 text with its declaration).

    An Alert is sent when the alert was created (`sent` defaults to it). An Update (the
    `revision`-th change) or a Cancel needs the moment of the change and the earlier messages
    it replaces. Staff-only alerts are never rendered: a CAP message is for everyone.
    """
    if alert.audience is not Audience.PUBLIC:
        raise ValueError("only public alerts become CAP messages")
    if msg_type is not MsgType.ALERT and (sent is None or not references):
        raise ValueError(f"a CAP {msg_type} needs its time and the messages it replaces")
    root = ET.Element(_tag("alert"))
    _text(root, "identifier", identifier(sender, report.reference, msg_type, revision))
    _text(root, "sender", sender)
    _text(root, "sent", cap_time(sent or alert.created_at, timezone))
    _text(root, "status", "Actual")
    _text(root, "msgType", msg_type.value)
    _text(root, "source", "Kibaru")
    _text(root, "scope", "Public")
    if references:
        _text(
            root,
            "references",
            " ".join(f"{e.sender},{e.identifier},{cap_time(e.sent, timezone)}" for e in references),
        )
    _text(root, "incidents", report.reference)
    for t in translators:
        _info(root, t, report, alert, timezone)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode", default_namespace=CAP_NAMESPACE)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _tag(name: str) -> str:
    return f"{{{CAP_NAMESPACE}}}{name}"


def _text(parent: ET.Element, name: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, _tag(name))
    element.text = value
    return element


def _pair(parent: ET.Element, name: str, value_name: str, value: str) -> None:
    """eventCode, parameter and geocode: a valueName and its value."""
    element = ET.SubElement(parent, _tag(name))
    _text(element, "valueName", value_name)
    _text(element, "value", value)


def _info(root: ET.Element, t: Translator, report: Report, alert: Alert, timezone: tzinfo) -> None:
    category = categories.by_code(report.category)
    event = t._(category.label) if category else report.category
    gravity = GRAVITY[alert.severity]
    info = ET.SubElement(root, _tag("info"))
    _text(info, "language", t.language)
    _text(info, "category", cap_category(report.category))
    _text(info, "event", event)
    _text(info, "urgency", gravity.urgency)
    _text(info, "severity", gravity.severity)
    _text(info, "certainty", gravity.certainty)
    _pair(info, "eventCode", "kibaru:category", report.category)
    if category is not None:
        _pair(info, "eventCode", "ACLED:event_type", category.acled_event_type)
        if category.acled_sub_event_type:
            _pair(info, "eventCode", "ACLED:sub_event_type", category.acled_sub_event_type)
    if report.occurred_time:
        onset = datetime.combine(
            report.occurred_on, time.fromisoformat(report.occurred_time), tzinfo=timezone
        )
        _text(info, "onset", cap_time(onset, timezone))
    _text(info, "senderName", SENDER_NAME)
    severity = t._(SEVERITIES[alert.severity][1])
    headline = f"{severity} · {event} · {area_name(report)}"
    _text(info, "headline", headline[:MAX_HEADLINE])
    _text(info, "description", _description(t, report, alert, severity, event))
    _pair(info, "parameter", "kibaru:severity", str(alert.severity))
    if category is not None:
        _pair(info, "parameter", "kibaru:sector", category.ecowarn_sector)
    with contextlib.suppress(ValueError):  # a precision of a later version: nothing to say
        precision = places.Precision(report.precision)
        _pair(info, "parameter", "ACLED:geo_precision", str(precision.acled))
    _area(info, report)


def _description(t: Translator, report: Report, alert: Alert, severity: str, event: str) -> str:
    """The lines staff and subscribers already read (same wording, same translations)."""
    when = when_text(
        t,
        {
            "occurred_on": report.occurred_on.isoformat(),
            "occurred_time": report.occurred_time,
            "day_period": report.day_period,
        },
    )
    lines = [
        f"{severity} ({alert.severity}/4) · {event}",
        t._("• Quand : {value}", value=when),
        t._("• Où : {value}", value=area_name(report)),
    ]
    counts = (report.killed, report.injured, report.missing, report.displaced)
    if any(n is not None for n in counts):
        killed, injured, missing, displaced = (
            t._("?") if n is None else t.number(n) for n in counts
        )
        lines.append(
            t._(
                "• Tués : {killed} · blessés : {injured} · disparus : {missing} · "
                "déplacés : {displaced}",
                killed=killed,
                injured=injured,
                missing=missing,
                displaced=displaced,
            )
        )
    lines += [
        "",
        alert.summary or default_summary(t, report),
        "",
        t._("Réf. {reference} · Kibaru, alerte précoce", reference=report.reference),
    ]
    return "\n".join(lines)


def _area(info: ET.Element, report: Report) -> None:
    area = ET.SubElement(info, _tag("area"))
    _text(area, "areaDesc", area_name(report))
    if report.latitude is not None and report.longitude is not None:
        _text(area, "circle", circle(report.latitude, report.longitude, report.precision))
    region = places.region(report.region or "")
    found = places.cercle(report.cercle or "")
    if found is not None:
        region = found[0]
    if region is not None:
        _pair(area, "geocode", "ISO3166-1", "ML")
        _pair(area, "geocode", "kibaru:region", region.code)
    if found is not None:
        _pair(area, "geocode", "kibaru:cercle", found[1].code)
