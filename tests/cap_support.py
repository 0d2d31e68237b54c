"""What the CAP tests share: the OASIS schema, seeded alerts, and a partner's webhook server."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import xmlschema
from aiohttp import web

from bot.app import Kibaru
from storage import reports, review, users
from storage.reports import NewReport, Report
from storage.review import Alert, Audience

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "CAP-v1.2.xsd"
NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}

#: what a reporter said that must never leave the network
PHONE = "+223 76 12 34 56"
WORDS = "Des hommes armés ont attaqué le marché, mon voisin Moussa Traoré a tout vu"
PLACE_DETAIL = "derrière la mosquée de Médina Coura"
REPORTER_CHAT = "70123456"


@cache
def cap_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_PATH))


def valid(xml: str) -> ET.Element:
    """The message, parsed, once the CAP 1.2 schema has accepted it."""
    cap_schema().validate(xml)
    return ET.fromstring(xml.encode("utf-8"))


def texts(element: ET.Element, path: str) -> list[str]:
    return [e.text or "" for e in element.findall(path, NS)]


def pairs(element: ET.Element, path: str) -> dict[str, str]:
    """eventCode, parameter or geocode elements as {valueName: value}."""
    return {
        e.findtext("cap:valueName", "", NS): e.findtext("cap:value", "", NS)
        for e in element.findall(path, NS)
    }


async def seed_alert(
    kibaru: Kibaru,
    now: datetime,
    *,
    severity: int = 3,
    audience: Audience = Audience.PUBLIC,
    summary: str | None = None,
    **answers: Any,
) -> tuple[Report, Alert]:
    """A validated report and its alert; by default an armed attack in Commune IV of Bamako
    reported by someone who gave their phone number, words and a place detail."""
    values: dict[str, Any] = {
        "category": "armed_attack",
        "occurred_on": date(2026, 3, 12),
        "occurred_time": "08:30",
        "precision": "cercle_or_commune",
        "region": "bamako",
        "cercle": "bamako_c4",
        "place_detail": PLACE_DETAIL,
        "description": WORDS,
        "contact": "phone",
        "contact_phone": PHONE,
        "language": "fr",
        "killed": 2,
        "injured": 5,
    }
    values.update(answers)
    async with kibaru.db.transaction() as conn:
        reporter, _ = await users.get_or_create(conn, "test", REPORTER_CHAT, now)
        report = await reports.create(
            conn, NewReport(**values), reporter.id, now, kibaru.settings.timezone
        )
        alert = await review.create_alert(conn, report.id, severity, audience, summary, now)
    return report, alert


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Partner:
    """A partner platform's webhook on 127.0.0.1: it records every POST and answers with the
    statuses queued in `answers` (then 200)."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    async def _receive(self, request: web.Request) -> web.Response:
        self.received.append(Received(dict(request.headers), await request.read()))
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        return web.Response(status=status, headers=headers, text="ok")


@asynccontextmanager
async def partner_server() -> AsyncIterator[Partner]:
    partner = Partner()
    app = web.Application()
    app.router.add_post("/cap", partner._receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    partner.url = f"http://{host}:{port}/cap"
    try:
        yield partner
    finally:
        await runner.cleanup()
