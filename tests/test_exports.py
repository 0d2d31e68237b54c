"""Exports (/export) through the engine and the export worker: who may export, what the
files hold (HXL row, no trace of the reporter in any format), participation per session,
progress of a long export while other users are answered, restarts, failures and the purge.

The outbox is read as a table here: its delivery is the sender's business (and the end to
end test's, tests/test_exports_e2e.py)."""

from __future__ import annotations

import asyncio
import csv
import json
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.settings import Settings
from handlers.ccsc.figures import attendance_rows, figures, period_for
from handlers.exports import formats
from handlers.exports import worker as worker_module
from handlers.exports.command import ExportRequest, parse
from handlers.exports.datasets import PARTICIPATION_COLUMNS, REPORT_COLUMNS
from handlers.exports.purge import purge_exports
from handlers.exports.worker import ExportWorker, file_name
from storage import audit, committees, exports, reports, review, roles, users
from storage.database import Connection, Database, to_db
from storage.review import Audience, Decision
from storage.roles import Role
from tests.cap_support import valid
from tests.chat_driver import ChatDriver

NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
PHONE = "+22376543210"
REPORTER_CHAT = "7712345"
REPORTER_NAME = "Mariam Coulibaly"
DESCRIPTION = "Des hommes armés ont brûlé le grenier de Moussa"
PLACE_DETAIL = "derrière la mosquée de Hamdallaye"
REPORT_HXL = [column.hxl for column in REPORT_COLUMNS]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def settings(db_path: Path, tmp_path: Path) -> Settings:
    """Files under the test's folder (the exports folder is beside the media folder)."""
    return Settings(telegram_token=None, database_path=db_path, media_dir=tmp_path / "media")


def worker_for(kibaru: Kibaru, **options: object) -> ExportWorker:
    return ExportWorker(
        kibaru.db,
        kibaru.clock,
        kibaru.settings,
        kibaru.catalogs,
        **options,  # type: ignore[arg-type]
    )


async def person(kibaru: Kibaru, chat_id: str, role: Role | None = None) -> ChatDriver:
    chat = ChatDriver(kibaru.conversations, chat_id=chat_id)
    await chat.command("start")
    await chat.tap("Français")
    if role is not None:
        async with kibaru.db.transaction() as conn:
            user = await users.find(conn, "test", chat_id)
            assert user is not None
            await roles.grant(conn, user.id, role, NOW)
    return chat


async def report_with_phone(kibaru: Kibaru) -> reports.Report:
    """A reporter who gives a place detail, their words and their phone number, through the
    real report conversation; validated with a typed public summary."""
    chat = ChatDriver(kibaru.conversations, chat_id=REPORTER_CHAT)
    await chat.command("start")
    await chat.tap("Français")
    await chat.command("signaler")
    for answer in ("1", "2", "8h30", "Bamako", "commune 4", PLACE_DETAIL, DESCRIPTION, "3"):
        await chat.text(answer)
    await chat.text("passer")  # no evidence
    await chat.text("3")  # contact: my phone number
    await chat.contact(PHONE)
    await chat.text("1")  # send
    async with kibaru.db.transaction() as conn:
        user = await users.find(conn, "test", REPORTER_CHAT)
        assert user is not None
        await committees.save_profile(conn, user.id, "female", "25_35", REPORTER_NAME, NOW)
        [report] = await reports.of_reporter(conn, user.id)
        assert report.contact_phone == PHONE and report.place_detail == PLACE_DETAIL
        await validate(conn, report, summary="Attaque armée à Médina Coura, marché fermé.")
    return report


async def validate(conn: Connection, report: reports.Report, summary: str | None = None) -> None:
    validator, _ = await users.get_or_create(conn, "test", "600", NOW)
    await review.decide(conn, report, Decision.VALIDATED, validator.id, "Awa", NOW)
    await review.create_alert(conn, report.id, 3, Audience.PUBLIC, summary, NOW)


async def pinned_report(kibaru: Kibaru) -> reports.Report:
    """A report placed by a pin, validated without a typed summary."""
    async with kibaru.db.transaction() as conn:
        report = await reports.create(
            conn,
            reports.NewReport(
                category="explosive_device",
                occurred_on=date(2026, 3, 10),
                precision="exact_pin",
                contact="anonymous",
                language="fr",
                region="mopti",
                latitude=14.4937612,
                longitude=-4.1966321,
                killed=0,
                injured=3,
            ),
            None,
            NOW,
            kibaru.settings.timezone,
        )
        await validate(conn, report)
    return report


async def export_file(kibaru: Kibaru, coordinator: ChatDriver, args: str) -> Path:
    """Ask through the engine, build with the worker, and return the file queued."""
    await coordinator.command("export", args)
    await worker_for(kibaru).run_pending()
    async with kibaru.db.reading() as conn:
        cursor = await conn.execute(
            "SELECT payload FROM outbox WHERE key LIKE 'export:%:file' ORDER BY id DESC LIMIT 1"
        )
        row = await cursor.fetchone()
    assert row is not None, "no file queued"
    [(kind, path)] = json.loads(row[0])["files"]
    assert kind == "document"
    return Path(path)


def readable_bytes(path: Path) -> bytes:
    """The file's bytes as a search can see them (an XLSX is a zip: its members unpacked)."""
    if path.suffix in (".xlsx", ".zip"):
        with zipfile.ZipFile(path) as archive:
            return b"".join(archive.read(name) for name in archive.namelist())
    return path.read_bytes()


async def outbox_rows(kibaru: Kibaru, like: str) -> list[dict[str, object]]:
    async with kibaru.db.reading() as conn:
        cursor = await conn.execute(
            "SELECT key, chat_id, status, payload FROM outbox WHERE key LIKE ? ORDER BY id",
            (like,),
        )
        return [dict(row) for row in await cursor.fetchall()]


# --- reading the request -------------------------------------------------------------------


def test_periods_include_years_and_ranges_of_days() -> None:
    today = date(2026, 3, 12)
    assert period_for("2025", today) == period_for("annee", date(2025, 6, 1))
    ranged = period_for("2026-01-01..2026-03-31", today)
    assert ranged is not None and (ranged.start, ranged.end) == (date(2026, 1, 1), date(2026, 4, 1))
    one_day = period_for("2026-03-05..2026-03-05", today)
    assert one_day is not None and one_day.end - one_day.start == timedelta(days=1)
    for wrong in ("2026-03-31..2026-01-01", "2026-02-30..2026-03-01", "hier..demain", "1999"):
        assert period_for(wrong, today) is None, wrong


def test_arguments_in_either_order(kibaru: Kibaru) -> None:
    t = kibaru.catalogs.get("fr")
    today = date(2026, 3, 12)
    one = parse(t, "mois xlsx", today)
    two = parse(t, "XLSX mois", today)
    assert isinstance(one, ExportRequest) and one == two
    assert (one.dataset, one.format.name, one.period.start) == ("reports", "xlsx", date(2026, 3, 1))
    default = parse(t, "", today)
    assert isinstance(default, ExportRequest) and default.format.name == "csv"
    part = parse(t, "2026 participation excel", today)
    assert isinstance(part, ExportRequest)
    assert (part.dataset, part.format.name, part.period.end) == (
        "participation",
        "xlsx",
        date(2027, 1, 1),
    )
    for wrong in ("hier", "csv xlsx", "participation geojson", "mois semaine"):
        answer = parse(t, wrong, today)
        assert isinstance(answer, str) and "Utilisation : /export" in answer, wrong


def test_file_names_say_the_period() -> None:
    xlsx = formats.FORMATS["xlsx"]
    assert file_name("reports", xlsx, date(2026, 3, 1), date(2026, 4, 1)) == (
        "kibaru-reports-2026-03.xlsx"
    )
    assert file_name("reports", xlsx, date(2026, 12, 1), date(2027, 1, 1)) == (
        "kibaru-reports-2026-12.xlsx"
    )
    assert file_name("participation", xlsx, date(2026, 1, 1), date(2027, 1, 1)) == (
        "kibaru-participation-2026.xlsx"
    )
    assert file_name("reports", xlsx, date(2026, 3, 9), date(2026, 3, 16)) == (
        "kibaru-reports-2026-03-09_2026-03-15.xlsx"
    )


# --- who may export ------------------------------------------------------------------------


async def test_only_coordinators_export_and_a_validator_is_refused_and_audited(
    kibaru: Kibaru,
) -> None:
    validator = await person(kibaru, "500", Role.VALIDATOR)
    await validator.command("export", "mois xlsx")
    assert "Vous n'avez pas le droit" in validator.last_text
    resident = await person(kibaru, "501")
    await resident.command("export")
    assert "Vous n'avez pas le droit" in resident.last_text
    async with kibaru.db.reading() as conn:
        refused = [e for e in await audit.recent(conn) if e.action == "refused"]
        assert {e.detail for e in refused} == {"export"}
        assert len(refused) == 2
        assert await exports.next_queued(conn) is None
    assert await outbox_rows(kibaru, "export:%") == []

    coordinator = await person(kibaru, "502", Role.COORDINATOR)
    replies = await coordinator.command("export", "mois xlsx")
    assert replies == []  # the answer is the outbox's "preparing…" message
    [started] = await outbox_rows(kibaru, "export:%:started")
    assert started["chat_id"] == "502" and started["status"] == "queued"
    text = json.loads(str(started["payload"]))["text"]
    assert "Export en préparation" in text and "du 1 mars 2026 au 31 mars 2026" in text
    async with kibaru.db.reading() as conn:
        job = await exports.next_queued(conn)
        assert job is not None and (job.dataset, job.format) == ("reports", "xlsx")
        assert any(e.action == "export" for e in await audit.recent(conn))


async def test_bad_input_gets_a_usage_answer_and_one_export_at_a_time(kibaru: Kibaru) -> None:
    coordinator = await person(kibaru, "502", Role.COORDINATOR)
    await coordinator.command("export", "hier")
    assert "Je ne comprends pas la période « hier »" in coordinator.last_text
    assert "Utilisation : /export" in coordinator.last_text
    await coordinator.command("export", "participation geojson")
    assert "Le format geojson n'existe pas pour cet export" in coordinator.last_text
    await coordinator.command("export")
    await coordinator.command("export", "xlsx")
    assert "déjà en préparation" in coordinator.last_text
    assert len(await outbox_rows(kibaru, "export:%:started")) == 1


async def test_a_coordinator_demoted_before_the_build_gets_no_file(kibaru: Kibaru) -> None:
    coordinator = await person(kibaru, "502", Role.COORDINATOR)
    await coordinator.command("export")
    async with kibaru.db.transaction() as conn:
        user = await users.find(conn, "test", "502")
        assert user is not None
        await roles.revoke(conn, user.id, Role.COORDINATOR, NOW)
    await worker_for(kibaru).run_pending()
    assert await outbox_rows(kibaru, "export:%:file") == []
    [outcome] = await outbox_rows(kibaru, "export:%:outcome")
    assert "vous n'êtes plus coordinateur" in json.loads(str(outcome["payload"]))["text"]


# --- what the files hold -------------------------------------------------------------------


async def test_every_format_opens_with_the_hxl_row_and_nothing_of_the_reporter(  # noqa: PLR0915
    kibaru: Kibaru,
) -> None:
    phoned = await report_with_phone(kibaru)
    pinned = await pinned_report(kibaru)
    coordinator = await person(kibaru, "502", Role.COORDINATOR)
    secrets = [
        PHONE,
        PHONE.lstrip("+"),
        "76543210",
        REPORTER_NAME,
        REPORTER_CHAT,
        DESCRIPTION,
        "grenier de Moussa",
        PLACE_DETAIL,
        "Hamdallaye",
        "Rapporteur",
    ]

    csv_path = await export_file(kibaru, coordinator, "mois csv")
    assert csv_path.name == "kibaru-reports-2026-03.csv"
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        header, hxl, *rows = list(csv.reader(handle))
    assert hxl == REPORT_HXL
    assert header[:3] == ["Référence", "Date de l'incident", "Date du signalement"]
    assert len(rows) == 2
    by_ref = {row[0]: dict(zip(hxl, row, strict=True)) for row in rows}
    first = by_ref[phoned.reference]
    assert first["#adm1+name"] == "Bamako" and first["#adm2+name"] == "Commune IV"
    assert first["#event+type"] == "Battles" and first["#event+type+sub"] == "Armed clash"
    assert first["#event+category+code"] == "armed_attack"
    assert first["#event+category+name"] == "Attaque armée"
    assert first["#severity"] == "3" and first["#status"] == "validated"
    assert first["#description+summary"] == "Attaque armée à Médina Coura, marché fermé."
    assert first["#affected+killed"] == ""  # "don't know" is not 0
    second = by_ref[pinned.reference]
    assert (second["#geo+lat"], second["#geo+lon"]) == ("14.494", "-4.197")
    assert second["#geo+precision"] == "1" and second["#affected+injured"] == "3"
    assert second["#affected+killed"] == "0"
    assert second["#description+summary"].startswith("Incident vérifié par l'équipe")
    assert [row[0] for row in rows] == [pinned.reference, phoned.reference]  # by day

    xlsx_path = await export_file(kibaru, coordinator, "xlsx mois")
    book = openpyxl.load_workbook(xlsx_path, read_only=True)
    sheet = book.worksheets[0]
    assert sheet.title == "Signalements validés"
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[1] == REPORT_HXL and values[0] == header
    assert {row[0] for row in values[2:]} == {phoned.reference, pinned.reference}
    book.close()

    geo_path = await export_file(kibaru, coordinator, "geojson")
    collection = json.loads(geo_path.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    assert collection["hxl"]["reference"] == "#event+id"
    features = {f["id"]: f for f in collection["features"]}
    assert features[pinned.reference]["geometry"] == {
        "type": "Point",
        "coordinates": [-4.197, 14.494],
    }
    assert features[phoned.reference]["geometry"] is None  # placed by its commune only
    assert features[phoned.reference]["properties"]["cercle"] == "Commune IV"

    cap_path = await export_file(kibaru, coordinator, "cap mois")
    assert cap_path.name == "kibaru-reports-2026-03.zip"
    with zipfile.ZipFile(cap_path) as archive:
        messages = {name: archive.read(name).decode() for name in archive.namelist()}
    public = {f"{r.reference}.xml" for r in (phoned, pinned)}
    assert set(messages) == public  # one CAP message per public alert
    for xml in messages.values():
        valid(xml)  # against the OASIS CAP 1.2 schema

    for path in (csv_path, xlsx_path, geo_path, cap_path):
        content = readable_bytes(path)
        for secret in secrets:
            assert secret.encode() not in content, (path.suffix, secret)
            assert secret.encode("utf-16-le") not in content, (path.suffix, secret)


async def test_text_that_looks_like_a_formula_stays_text(kibaru: Kibaru) -> None:
    async with kibaru.db.transaction() as conn:
        report = await reports.create(
            conn,
            reports.NewReport(
                category="crime",
                occurred_on=date(2026, 3, 11),
                precision="locality",
                contact="anonymous",
                language="fr",
                region="kayes",
                locality='=HYPERLINK("http://example.invalid","x")',
            ),
            None,
            NOW,
            kibaru.settings.timezone,
        )
        await validate(conn, report)
    coordinator = await person(kibaru, "502", Role.COORDINATOR)
    csv_path = await export_file(kibaru, coordinator, "csv")
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        row = list(csv.DictReader(handle))[1]
    assert row["Localité"] == '\'=HYPERLINK("http://example.invalid","x")'
    xlsx_path = await export_file(kibaru, coordinator, "xlsx")
    sheet = openpyxl.load_workbook(xlsx_path).worksheets[0]
    cell = sheet.cell(row=3, column=9)
    assert cell.data_type == "s" and cell.value == report.locality


async def test_participation_one_row_per_session_with_the_figures_of_participation(
    kibaru: Kibaru,
) -> None:
    """Three present at Commune IV's March meeting (two women, one of them young, and one
    FSI man), four said yes; a cancelled session and one in April are not in March's file."""
    async with kibaru.db.transaction() as conn:
        committee = await committees.by_code(conn, "ccsc_bamako_c4")
        assert committee is not None
        meeting = await session(conn, committee.id, datetime(2026, 3, 5, 10, tzinfo=UTC))
        cancelled = await session(conn, committee.id, datetime(2026, 3, 6, 10, tzinfo=UTC))
        await conn.execute("UPDATE sessions SET status = 'cancelled' WHERE id = ?", (cancelled,))
        april = await session(conn, committee.id, datetime(2026, 4, 2, 10, tzinfo=UTC))
        people = [
            ("female", "18_24", "women", True),
            ("female", "over_35", "civil_society", True),
            ("male", "25_35", "fsi", True),
            ("male", "over_35", "local_authority", False),
        ]
        for n, (sex, age, kind, present) in enumerate(people):
            user, _ = await users.get_or_create(conn, "test", f"90{n}", NOW)
            await committees.save_profile(conn, user.id, sex, age, f"Membre {n}", NOW)
            await conn.execute(
                "INSERT INTO committee_members (committee_id, user_id, member_type, status,"
                " requested_at) VALUES (?, ?, ?, 'active', ?)",
                (committee.id, user.id, kind, to_db(NOW)),
            )
            for session_id in (meeting, cancelled, april):
                await conn.execute(
                    "INSERT INTO invitations (session_id, user_id, answer, attended)"
                    " VALUES (?, ?, 'yes', ?)",
                    (session_id, user.id, int(present)),
                )
        expected_present = figures(
            await attendance_rows(
                conn,
                committee.id,
                datetime(2026, 3, 1, tzinfo=UTC),
                datetime(2026, 4, 1, tzinfo=UTC),
            )
        )
    coordinator = await person(kibaru, "502", Role.COORDINATOR)
    path = await export_file(kibaru, coordinator, "participation mois")
    assert path.name == "kibaru-participation-2026-03.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        _, hxl, *rows = list(csv.reader(handle))
    assert hxl == [column.hxl for column in PARTICIPATION_COLUMNS]
    [row] = [dict(zip(hxl, values, strict=True)) for values in rows]
    assert row["#org+code"] == "ccsc_bamako_c4" and row["#adm2+name"] == "Commune IV"
    assert row["#event+id"] == str(meeting) and row["#date"] == "2026-03-05"
    assert row["#event+type+name"] == "Réunion statutaire mensuelle"
    assert row["#reached+participants"] == str(expected_present.participants) == "3"
    assert row["#reached+participants+f"] == "2" and row["#reached+participants+f+pct"] == "67"
    assert row["#reached+participants+youth"] == "2"  # 18-24 and 25-35
    assert row["#reached+participants+fsi"] == "1"
    assert row["#targeted+rsvp"] == "4" and row["#targeted+rsvp+f+pct"] == "50"
    xlsx = await export_file(kibaru, coordinator, "xlsx participation 2026-03")
    sheet = openpyxl.load_workbook(xlsx, read_only=True).worksheets[0]
    assert [list(r) for r in sheet.iter_rows(values_only=True)][2][8] == 3


async def session(conn: Connection, committee_id: int, starts_at: datetime) -> int:
    cursor = await conn.execute(
        "INSERT INTO sessions (committee_id, kind, title, starts_at, place, checkin_code,"
        " created_at) VALUES (?, 'statutory', 'Réunion mensuelle', ?, 'Mairie', '1234', ?)",
        (committee_id, to_db(starts_at), to_db(NOW)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


# --- a long export -------------------------------------------------------------------------


async def seed_validated(db: Database, count: int, day: date) -> None:
    """`count` validated reports of one day, straight into the tables (fast)."""
    created = to_db(NOW)
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO reports (id, reference, category, occurred_on, region, cercle,"
            " precision, contact, contact_phone, description, place_detail, language, status,"
            " created_at, reporter_id) VALUES (?, ?, 'crime', ?, 'bamako', 'bamako_c2',"
            " 'cercle_or_commune', 'phone', ?, ?, 'chez Awa', 'fr', 'validated', ?, NULL)",
            [
                (
                    100_000 + n,
                    f"ML-2025-{n:06d}",
                    day.isoformat(),
                    PHONE,
                    DESCRIPTION,
                    created,
                )
                for n in range(count)
            ],
        )
        await conn.executemany(
            "INSERT INTO review_decisions (report_id, decision, decided_at)"
            " VALUES (?, 'validated', ?)",
            [(100_000 + n, created) for n in range(count)],
        )
        await conn.executemany(
            "INSERT INTO alerts (report_id, severity, audience, created_at)"
            " VALUES (?, 2, 'public', ?)",
            [(100_000 + n, created) for n in range(count)],
        )


async def started_was_delivered(kibaru: Kibaru, message_id: int = 77) -> None:
    """As the outbox sender would mark the "preparing…" message once Telegram has it."""
    async with kibaru.db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET status = 'sent', sent_message_id = ?"
            " WHERE key LIKE 'export:%:started'",
            (message_id,),
        )


async def test_a_long_export_shows_progress_and_others_are_answered_meanwhile(
    kibaru: Kibaru,
) -> None:
    await seed_validated(kibaru.db, 1500, date(2026, 3, 2))
    coordinator = await person(kibaru, "502", Role.COORDINATOR)
    other = await person(kibaru, "503")
    await coordinator.command("export", "mois xlsx")
    await started_was_delivered(kibaru)
    progressed = asyncio.Event()
    worker = worker_for(kibaru, kick_outbox=progressed.set, chunk=100)
    building = asyncio.create_task(worker.run_pending())
    await asyncio.wait_for(progressed.wait(), 10)  # the first progress edit is queued

    replies = await other.command("aide")  # while the export is being built
    assert "/signaler" in other.last_text and replies
    async with kibaru.db.reading() as conn:
        job = await exports.get(conn, 1)
        assert job is not None and job.status == "building"
        assert 0 < job.rows_done < 1500
    await asyncio.wait_for(building, 30)

    edits = await outbox_rows(kibaru, "export:1:progress:%")
    assert [row["key"] for row in edits] == [f"export:1:progress:{p}" for p in range(10, 100, 10)]
    payloads = [json.loads(str(row["payload"])) for row in edits]
    assert all(p["edit_message_id"] == 77 for p in payloads)
    assert payloads[3]["text"].startswith("⏳ Export : 40 %")
    # at most one progress edit waits at a time: each new one cancelled the one before
    assert [row["status"] for row in edits] == ["cancelled"] * 8 + ["queued"]
    [ready] = await outbox_rows(kibaru, "export:1:outcome")
    ready_payload = json.loads(str(ready["payload"]))
    assert ready_payload["edit_message_id"] == 77
    assert "1 500 lignes" in ready_payload["text"].replace("\u202f", " ")
    [sent] = await outbox_rows(kibaru, "export:1:file")
    [(_, path)] = json.loads(str(sent["payload"]))["files"]
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    assert sum(1 for _ in sheet.iter_rows()) == 1502  # headers, hashtags, 1,500 reports
    assert PHONE.encode() not in readable_bytes(Path(path))


async def test_a_restart_mid_export_builds_it_again_and_sends_one_file(kibaru: Kibaru) -> None:
    await seed_validated(kibaru.db, 1200, date(2026, 3, 2))
    coordinator = await person(kibaru, "502", Role.COORDINATOR)
    await coordinator.command("export", "csv")
    await started_was_delivered(kibaru)
    # The first run is killed after its first chunks: the request stays "building", with
    # half a file and a progress edit queued.
    first = worker_for(kibaru, chunk=100)
    kicked = asyncio.Event()
    first.kick_outbox = kicked.set
    run = asyncio.create_task(first.run_pending())
    await asyncio.wait_for(kicked.wait(), 10)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    async with kibaru.db.reading() as conn:
        job = await exports.get(conn, 1)
        assert job is not None and job.status == "building"

    second = worker_for(kibaru, chunk=500)
    assert await second.recover() == 1
    assert await second.run_pending() == 1
    assert await second.run_pending() == 0
    [sent] = await outbox_rows(kibaru, "export:1:file")
    [(_, path)] = json.loads(str(sent["payload"]))["files"]
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        assert len(list(csv.reader(handle))) == 1202
    assert [p.name for p in Path(path).parent.iterdir()] == [Path(path).name]
    async with kibaru.db.reading() as conn:
        job = await exports.get(conn, 1)
        assert job is not None and (job.status, job.attempts, job.rows_done) == ("done", 2, 1200)


async def test_a_build_that_fails_tells_the_coordinator(
    kibaru: Kibaru, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Path, table: formats.Table) -> formats.Writer:
        raise OSError("disk full")

    monkeypatch.setitem(formats.FORMATS, "csv", replace(formats.FORMATS["csv"], open=broken))
    coordinator = await person(kibaru, "502", Role.COORDINATOR)
    await coordinator.command("export")
    await started_was_delivered(kibaru)
    await worker_for(kibaru).run_pending()
    [outcome] = await outbox_rows(kibaru, "export:1:outcome")
    payload = json.loads(str(outcome["payload"]))
    assert payload["edit_message_id"] == 77 and "n'a pas pu être préparé" in payload["text"]
    assert await outbox_rows(kibaru, "export:1:file") == []
    async with kibaru.db.reading() as conn:
        job = await exports.get(conn, 1)
        assert job is not None and job.status == "failed"
    # the coordinator may ask again at once
    await coordinator.command("export")
    assert len(await outbox_rows(kibaru, "export:%:started")) == 2


async def test_a_file_too_large_to_send_is_explained_not_sent(
    kibaru: Kibaru, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker_module, "MAX_FILE_BYTES", 500)  # a real file is 50 MB
    await seed_validated(kibaru.db, 20, date(2026, 3, 2))
    coordinator = await person(kibaru, "502", Role.COORDINATOR)
    await coordinator.command("export", "geojson")
    await worker_for(kibaru).run_pending()
    [outcome] = await outbox_rows(kibaru, "export:1:outcome")
    assert "trop gros" in json.loads(str(outcome["payload"]))["text"]
    assert await outbox_rows(kibaru, "export:1:file") == []
    assert not (kibaru.settings.exports_dir / "1").exists()


async def test_files_are_purged_after_sending_and_orphans_go_too(
    kibaru: Kibaru, clock: ManualClock
) -> None:
    await pinned_report(kibaru)
    coordinator = await person(kibaru, "502", Role.COORDINATOR)
    path = await export_file(kibaru, coordinator, "csv")
    folder = kibaru.settings.exports_dir
    assert path.parent.parent == folder == kibaru.settings.media_dir.parent / "exports"
    orphan = folder / "9999"
    orphan.mkdir()
    (orphan / "old.csv").write_text("x")
    clock.advance(hours=2)
    assert await purge_exports(kibaru.db, clock, folder) == 1  # the orphan; the file waits
    assert path.exists() and not orphan.exists()
    async with kibaru.db.transaction() as conn:
        await conn.execute("UPDATE outbox SET status = 'sent' WHERE key = 'export:1:file'")
    assert await purge_exports(kibaru.db, clock, folder) == 1
    assert not path.parent.exists()
    async with kibaru.db.reading() as conn:
        row = await (await conn.execute("SELECT purged_at, file_path FROM exports")).fetchone()
    assert row is not None and row[0] is not None and row[1] is None
    assert await purge_exports(kibaru.db, clock, folder) == 0


async def test_a_coordinator_who_forgets_their_data_gets_no_file(kibaru: Kibaru) -> None:
    coordinator = await person(kibaru, "502", Role.COORDINATOR)
    await coordinator.command("export")
    async with kibaru.db.transaction() as conn:
        await conn.execute("DELETE FROM users WHERE chat_id = '502'")
    assert await worker_for(kibaru).run_pending() == 0
    assert [r["status"] for r in await outbox_rows(kibaru, "export:%")] == ["cancelled"]
