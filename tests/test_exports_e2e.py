"""/export end to end: the real Telegram channel, its outbox sender and export worker, against
the Bot API emulator. A coordinator types the command and the file arrives in the chat as a
document, which opens with openpyxl; a validator asking is refused."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.clock import ManualClock
from bot.settings import Settings
from handlers.exports import formats
from handlers.exports.datasets import REPORT_COLUMNS
from storage import reports, review, roles, users
from storage.database import Database
from storage.review import Audience, Decision
from storage.roles import Role
from tests.bot_api_emulator import BotApiEmulator, SentMessage, SimUser
from tests.telegram_harness import running_bot
from tests.test_exports import seed_validated

NOW = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
PHONE = "+22376543210"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def tg_settings(db_path: Path, emulator: BotApiEmulator, tmp_path: Path) -> Settings:
    return Settings(
        telegram_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_path=db_path,
        admins=(400,),
        timezone=ZoneInfo("Africa/Bamako"),
        media_dir=tmp_path / "media",
    )


async def said(emulator: BotApiEmulator, user: SimUser, count: int = 1) -> list[SentMessage]:
    before = len(emulator.messages_to(user.user_id))
    await emulator.wait_for_messages(user.user_id, before + count)
    return emulator.messages_to(user.user_id)[before:]


async def onboard(emulator: BotApiEmulator, user: SimUser) -> None:
    await user.send_text("/start")
    await said(emulator, user)
    await user.press("Français")
    await said(emulator, user)


async def seed(db: Database) -> list[str]:
    """Three validated reports of November, one from a reporter who shared their phone."""
    references = []
    async with db.transaction() as conn:
        reporter, _ = await users.get_or_create(conn, "telegram", "7712345", NOW)
        validator, _ = await users.get_or_create(conn, "telegram", "600", NOW)
        for n, day in enumerate((3, 11, 18)):
            report = await reports.create(
                conn,
                reports.NewReport(
                    category="kidnapping",
                    occurred_on=date(2026, 11, day),
                    precision="cercle_or_commune",
                    contact="phone" if n == 0 else "anonymous",
                    contact_phone=PHONE if n == 0 else None,
                    description="Le fils du chef a été enlevé devant chez lui",
                    place_detail="maison bleue près du puits",
                    language="fr",
                    region="gao",
                    cercle="gao_ansongo",
                ),
                reporter.id if n == 0 else None,
                NOW,
                ZoneInfo("Africa/Bamako"),
            )
            await review.decide(conn, report, Decision.VALIDATED, validator.id, "Awa", NOW)
            await review.create_alert(conn, report.id, 4, Audience.STAFF, None, NOW)
            references.append(report.reference)
    return references


async def test_a_coordinator_gets_the_xlsx_file_in_the_chat(
    emulator: BotApiEmulator, tg_settings: Settings, clock: ManualClock
) -> None:
    coordinator = emulator.user(400)
    async with running_bot(tg_settings, clock) as channel:
        references = await seed(channel.kibaru.db)
        await onboard(emulator, coordinator)
        await coordinator.send_text("/export mois xlsx")
        await emulator.wait_for(lambda: bool(emulator.calls_to("sendDocument")))
        await emulator.wait_for(
            lambda: any("Export prêt" in (m.text or "") for m in emulator.sent if m.chat_id == 400)
        )
    [call] = emulator.calls_to("sendDocument")
    upload = call.params["document"]
    assert upload.filename == "kibaru-reports-2026-11.xlsx"
    [document] = [m for m in emulator.messages_to(400) if m.method == "sendDocument"]
    assert document.result is not None
    assert document.result["document"]["file_name"] == "kibaru-reports-2026-11.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(upload.data), read_only=True)
    rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    assert rows[1] == [column.hxl for column in REPORT_COLUMNS]
    assert [row[0] for row in rows[2:]] == references
    assert {row[rows[1].index("#event+type")] for row in rows[2:]} == {"Violence against civilians"}
    assert {row[rows[1].index("#severity")] for row in rows[2:]} == {4}
    texts = [m.text or "" for m in emulator.sent if m.chat_id == 400]
    assert any("Export en préparation" in text for text in texts)
    assert any("codes HXL" in text for text in texts)
    for secret in ("22376543210", "7712345", "enlevé devant chez lui", "maison bleue"):
        assert all(secret not in text for text in texts)
    assert b"22376543210" not in upload.data


async def test_a_validator_asking_for_an_export_is_refused(
    emulator: BotApiEmulator, tg_settings: Settings, clock: ManualClock
) -> None:
    validator = emulator.user(401)
    async with running_bot(tg_settings, clock) as channel:
        await onboard(emulator, validator)
        async with channel.kibaru.db.transaction() as conn:
            user = await users.find(conn, "telegram", "401")
            assert user is not None
            await roles.grant(conn, user.id, Role.VALIDATOR, NOW)
        await validator.send_text("/export mois xlsx")
        [answer] = await said(emulator, validator)
    assert "Vous n'avez pas le droit" in (answer.text or "")
    assert emulator.calls_to("sendDocument") == []


class GatedWriter:
    """The real XLSX writer, held after its first chunk until the test opens the gate: the
    export is then certainly under way while another user talks to the bot."""

    def __init__(self, inner: formats.Writer, gate: threading.Event) -> None:
        self.inner = inner
        self.gate = gate
        self.chunks = 0

    def write(self, records: Sequence[formats.Record]) -> None:
        self.inner.write(records)
        self.chunks += 1
        if self.chunks == 1:
            self.gate.wait(10)

    def close(self) -> None:
        self.inner.close()


async def test_a_long_export_shows_progress_and_others_are_answered_meanwhile(
    emulator: BotApiEmulator,
    tg_settings: Settings,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = threading.Event()
    xlsx = formats.FORMATS["xlsx"]

    def gated(path: Path, table: formats.Table) -> formats.Writer:
        return GatedWriter(xlsx.open(path, table), gate)

    monkeypatch.setitem(formats.FORMATS, "xlsx", replace(xlsx, open=gated))
    coordinator, other = emulator.user(400), emulator.user(401)
    try:
        async with running_bot(tg_settings, clock) as channel:
            await seed_validated(channel.kibaru.db, 1500, date(2026, 11, 2))
            await onboard(emulator, coordinator)
            await onboard(emulator, other)
            await coordinator.send_text("/export xlsx")
            [started] = await said(emulator, coordinator)
            assert "Export en préparation" in (started.text or "")
            await other.send_text("/aide")
            [help_text] = await said(emulator, other)
            assert "/signaler" in (help_text.text or "")
            assert emulator.calls_to("sendDocument") == []  # the export is still being built
            gate.set()
            await emulator.wait_for(
                lambda: any("codes HXL" in (m.text or "") for m in emulator.messages_to(400))
            )  # the text that follows the document
            edits = [m.text or "" for m in emulator.edits_in(coordinator.user_id)]
    finally:
        gate.set()
    progress = [text for text in edits if text.startswith("⏳ Export :")]
    assert progress and all(re.match(r"⏳ Export : \d0 % \(", text) for text in progress)
    assert edits[-1].startswith("✅ Export prêt")
    current = emulator.current_message(coordinator.user_id, started.message_id)
    assert current is not None and current["text"].startswith("✅ Export prêt")
    upload = emulator.calls_to("sendDocument")[0].params["document"]
    book = openpyxl.load_workbook(io.BytesIO(upload.data), read_only=True)
    assert sum(1 for _ in book.worksheets[0].iter_rows()) == 1502
