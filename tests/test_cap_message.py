"""CAP 1.2 messages of validated public alerts: valid against the OASIS schema, mapped as
documented in handlers/cap/mapping.py, French then English, and nothing of the reporter's."""

from __future__ import annotations

import re
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import xmlschema

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.i18n import Translator
from handlers.cap.export import write_cap_export
from handlers.cap.mapping import CATEGORY, cap_category
from handlers.cap.message import Earlier, MsgType, cap_message, cap_time, identifier
from handlers.report.categories import CODES
from storage.reports import Report
from storage.review import Alert, Audience
from tests.cap_support import (
    NS,
    PHONE,
    PLACE_DETAIL,
    REPORTER_CHAT,
    WORDS,
    cap_schema,
    pairs,
    seed_alert,
    texts,
    valid,
)

NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
SENDER = "kibaru@wanep-mali.org"
BAMAKO = ZoneInfo("Africa/Bamako")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def translators(kibaru: Kibaru) -> list[Translator]:
    return [kibaru.catalogs.get("fr"), kibaru.catalogs.get("en")]


def render(kibaru: Kibaru, report: Report, alert: Alert, **options: object) -> str:
    return cap_message(
        report,
        alert,
        translators(kibaru),
        sender=SENDER,
        timezone=BAMAKO,
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("level", "urgency", "severity", "certainty"),
    [
        (1, "Future", "Minor", "Likely"),
        (2, "Future", "Moderate", "Likely"),
        (3, "Expected", "Severe", "Likely"),
        (4, "Immediate", "Extreme", "Observed"),
    ],
)
async def test_each_severity_maps_to_urgency_severity_certainty(
    kibaru: Kibaru, level: int, urgency: str, severity: str, certainty: str
) -> None:
    report, alert = await seed_alert(kibaru, NOW, severity=level)
    root = valid(render(kibaru, report, alert))
    assert texts(root, "cap:info/cap:urgency") == [urgency, urgency]
    assert texts(root, "cap:info/cap:severity") == [severity, severity]
    assert texts(root, "cap:info/cap:certainty") == [certainty, certainty]
    for info in root.findall("cap:info", NS):
        assert pairs(info, "cap:parameter")["kibaru:severity"] == str(level)


async def test_the_alert_header_then_french_and_english_info(kibaru: Kibaru) -> None:
    report, alert = await seed_alert(kibaru, NOW)
    root = valid(render(kibaru, report, alert))
    assert texts(root, "cap:identifier") == [f"{SENDER}:{report.reference}"]
    assert texts(root, "cap:sender") == [SENDER]
    assert texts(root, "cap:sent") == ["2026-03-12T09:00:00-00:00"]  # UTC is -00:00 in CAP
    assert texts(root, "cap:status") == ["Actual"]
    assert texts(root, "cap:msgType") == ["Alert"]
    assert texts(root, "cap:scope") == ["Public"]
    assert texts(root, "cap:incidents") == [report.reference]
    assert not root.findall("cap:references", NS)
    assert texts(root, "cap:info/cap:language") == ["fr", "en"]
    assert texts(root, "cap:info/cap:category") == ["Security", "Security"]
    assert texts(root, "cap:info/cap:event") == ["Attaque armée", "Armed attack"]
    french, english = texts(root, "cap:info/cap:headline")
    assert french == "Alerte · Attaque armée · Commune IV, Bamako"
    assert english.startswith("Alert · Armed attack")
    assert texts(root, "cap:info/cap:onset") == ["2026-03-12T08:30:00-00:00"] * 2
    [description, _] = texts(root, "cap:info/cap:description")
    assert "Commune IV, Bamako" in description and report.reference in description
    assert "• Tués : 2 · blessés : 5 · disparus : ? · déplacés : ?" in description
    codes = pairs(root.findall("cap:info", NS)[0], "cap:eventCode")
    assert codes == {
        "kibaru:category": "armed_attack",
        "ACLED:event_type": "Battles",
        "ACLED:sub_event_type": "Armed clash",
    }


async def test_rendering_is_stable(kibaru: Kibaru) -> None:
    report, alert = await seed_alert(kibaru, NOW)
    assert render(kibaru, report, alert) == render(kibaru, report, alert)


async def test_an_area_without_coordinates_has_names_and_geocodes_only(kibaru: Kibaru) -> None:
    report, alert = await seed_alert(kibaru, NOW)
    root = valid(render(kibaru, report, alert))
    [area, _] = root.findall("cap:info/cap:area", NS)
    assert texts(area, "cap:areaDesc") == ["Commune IV, Bamako"]
    assert texts(area, "cap:circle") == []
    assert pairs(area, "cap:geocode") == {
        "ISO3166-1": "ML",
        "kibaru:region": "bamako",
        "kibaru:cercle": "bamako_c4",
    }


async def test_a_pin_becomes_a_rounded_circle_latitude_first(kibaru: Kibaru) -> None:
    report, alert = await seed_alert(
        kibaru,
        NOW,
        precision="exact_pin",
        region=None,
        cercle=None,
        latitude=16.27183,
        longitude=-0.04412,
    )
    xml = render(kibaru, report, alert)
    root = valid(xml)
    assert texts(root, "cap:info/cap:area/cap:circle") == ["16.27,-0.04 2"] * 2
    assert "16.27183" not in xml and "0.04412" not in xml  # never the exact pin
    assert texts(root, "cap:info/cap:area/cap:areaDesc") == ["Mali"] * 2


async def test_a_locality_is_named_with_its_region(kibaru: Kibaru) -> None:
    report, alert = await seed_alert(
        kibaru, NOW, precision="locality", region="mopti", cercle=None, locality="Sévaré"
    )
    root = valid(render(kibaru, report, alert))
    assert texts(root, "cap:info/cap:area/cap:areaDesc") == ["Sévaré, Mopti"] * 2
    [area, _] = root.findall("cap:info/cap:area", NS)
    assert pairs(area, "cap:geocode")["kibaru:region"] == "mopti"


async def test_nothing_of_the_reporter_leaves(kibaru: Kibaru) -> None:
    """Their words, their contact, their place detail, their chat: none is in the message."""
    report, alert = await seed_alert(kibaru, NOW, severity=4)
    assert report.contact_phone == PHONE and report.description == WORDS
    xml = render(kibaru, report, alert)
    valid(xml)
    for secret in (PHONE, "76 12 34 56", "Moussa", "Traoré", "voisin", PLACE_DETAIL, "Médina"):
        assert secret not in xml
    assert REPORTER_CHAT not in xml and "phone" not in xml.lower()


async def test_the_validators_summary_is_the_description(kibaru: Kibaru) -> None:
    report, alert = await seed_alert(kibaru, NOW, summary="Tirs signalés près du marché.")
    root = valid(render(kibaru, report, alert))
    assert all(
        "Tirs signalés près du marché." in d for d in texts(root, "cap:info/cap:description")
    )


async def test_update_and_cancel_refer_to_the_earlier_messages(kibaru: Kibaru) -> None:
    report, alert = await seed_alert(kibaru, NOW)
    first = Earlier(SENDER, identifier(SENDER, report.reference), alert.created_at)
    later = NOW + timedelta(hours=2)
    update = valid(
        render(kibaru, report, alert, msg_type=MsgType.UPDATE, sent=later, references=[first])
    )
    assert texts(update, "cap:msgType") == ["Update"]
    assert texts(update, "cap:identifier") == [f"{SENDER}:{report.reference}:update-1"]
    assert texts(update, "cap:sent") == ["2026-03-12T11:00:00-00:00"]
    assert texts(update, "cap:references") == [
        f"{SENDER},{SENDER}:{report.reference},2026-03-12T09:00:00-00:00"
    ]
    second = Earlier(SENDER, texts(update, "cap:identifier")[0], later)
    cancel = valid(
        render(
            kibaru,
            report,
            alert,
            msg_type=MsgType.CANCEL,
            sent=later + timedelta(hours=1),
            references=[first, second],
        )
    )
    assert texts(cancel, "cap:msgType") == ["Cancel"]
    assert texts(cancel, "cap:identifier") == [f"{SENDER}:{report.reference}:cancel"]
    [references] = texts(cancel, "cap:references")
    assert len(references.split(" ")) == 2
    with pytest.raises(ValueError, match="needs"):
        render(kibaru, report, alert, msg_type=MsgType.CANCEL, sent=later)


async def test_a_staff_only_alert_is_never_rendered(kibaru: Kibaru) -> None:
    report, alert = await seed_alert(kibaru, NOW, audience=Audience.STAFF)
    with pytest.raises(ValueError, match="public"):
        render(kibaru, report, alert)


def test_times_have_their_offset_and_no_fraction() -> None:
    moment = datetime(2026, 7, 1, 12, 30, 15, 987654, tzinfo=UTC)
    assert cap_time(moment, BAMAKO) == "2026-07-01T12:30:15-00:00"
    assert cap_time(moment, ZoneInfo("Europe/Paris")) == "2026-07-01T14:30:15+02:00"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d", cap_time(moment, BAMAKO))


def test_every_category_has_a_cap_category_the_schema_knows() -> None:
    allowed = {
        "Geo", "Met", "Safety", "Security", "Rescue", "Fire",
        "Health", "Env", "Transport", "Infra", "CBRNE", "Other",
    }  # fmt: skip
    assert set(CATEGORY) == set(CODES)
    assert {cap_category(code) for code in CODES} <= allowed
    assert cap_category("from_a_later_version") == "Other"


def test_the_schema_rejects_what_cap_forbids() -> None:
    """The shipped schema is strict where CAP is: a fraction of a second, a 'Z'."""
    message = (
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier>'
        "<sender>s</sender><sent>{sent}</sent><status>Actual</status>"
        "<msgType>Alert</msgType><scope>Public</scope></alert>"
    )
    cap_schema().validate(message.format(sent="2026-03-12T09:00:00-00:00"))
    for wrong in ("2026-03-12T09:00:00Z", "2026-03-12T09:00:00.5-00:00"):
        with pytest.raises(xmlschema.XMLSchemaValidationError):
            cap_schema().validate(message.format(sent=wrong))


async def test_the_export_holds_one_message_per_public_alert_of_the_period(
    kibaru: Kibaru, tmp_path: Path
) -> None:
    before, _ = await seed_alert(kibaru, NOW - timedelta(days=40))
    first, first_alert = await seed_alert(kibaru, NOW, severity=2)
    await seed_alert(kibaru, NOW + timedelta(hours=1), audience=Audience.STAFF)
    second, _ = await seed_alert(
        kibaru, NOW + timedelta(days=2), category="epidemic", region="gao", cercle=None
    )
    await seed_alert(kibaru, NOW + timedelta(days=40))
    path = tmp_path / "alerts-cap.zip"
    settings = replace(kibaru.settings, cap_sender=SENDER)
    async with kibaru.db.reading() as conn:
        count = await write_cap_export(
            conn, NOW - timedelta(days=1), NOW + timedelta(days=30), path, kibaru.catalogs, settings
        )
    assert count == 2
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names == [f"{first.reference}.xml", f"{second.reference}.xml"]
        contents = [archive.read(name).decode("utf-8") for name in names]
    for content in contents:
        valid(content)
    # the very message the webhook sends for the same alert
    assert contents[0] == render(kibaru, first, first_alert)
    assert texts(valid(contents[1]), "cap:info/cap:category") == ["Health", "Health"]
    assert before.reference not in names
    async with kibaru.db.reading() as conn:
        empty = await write_cap_export(
            conn,
            NOW + timedelta(days=100),
            NOW + timedelta(days=101),
            path,
            kibaru.catalogs,
            settings,
        )
    assert empty == 0 and zipfile.ZipFile(path).namelist() == []
