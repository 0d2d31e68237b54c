"""Review and dissemination end to end: the real Telegram channel, the outbox sender and the
Bot API emulator. A report is filed by a reporter, posted in the review group, decided there
by a validator in private, and the alert reaches exactly the right subscribers, each in their
language."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.settings import Settings
from storage import roles, subscriptions, users
from storage.roles import Role
from storage.subscriptions import AreaKind
from tests.bot_api_emulator import BotApiEmulator, SentMessage, SimUser
from tests.telegram_harness import running_bot

NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
GROUP = -100500


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def tg_settings(db_path: Path, emulator: BotApiEmulator) -> Settings:
    return Settings(
        telegram_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_path=db_path,
        admins=(400,),
        timezone=ZoneInfo("Africa/Bamako"),
        review_chat_id=GROUP,
    )


@pytest.fixture
async def bot(
    tg_settings: Settings, clock: ManualClock, emulator: BotApiEmulator
) -> AsyncIterator[Kibaru]:
    emulator.group(GROUP, "Analystes NEWS")
    async with running_bot(tg_settings, clock) as channel:
        yield channel.kibaru


async def said(emulator: BotApiEmulator, user: SimUser, count: int = 1) -> list[SentMessage]:
    before = len(emulator.messages_to(user.user_id))
    await emulator.wait_for_messages(user.user_id, before + count)
    return emulator.messages_to(user.user_id)[before:]


async def onboard(emulator: BotApiEmulator, user: SimUser, language: str) -> None:
    await user.send_text("/start")
    await said(emulator, user)
    await user.press(language)
    await said(emulator, user)


async def follow(bot: Kibaru, user: SimUser, kind: AreaKind, code: str, min_severity: int) -> None:
    async with bot.db.transaction() as conn:
        found = await users.find(conn, "telegram", str(user.user_id))
        assert found is not None
        await subscriptions.subscribe(conn, found.id, kind, code, min_severity, "now", None, NOW)


async def grant(bot: Kibaru, user: SimUser, role: Role) -> None:
    async with bot.db.transaction() as conn:
        found = await users.find(conn, "telegram", str(user.user_id))
        assert found is not None
        await roles.grant(conn, found.id, role, NOW)


async def file_report(emulator: BotApiEmulator, reporter: SimUser) -> None:
    """An armed attack today in Commune IV of Bamako, anonymous."""
    steps: list[tuple[str, str, int]] = [
        ("text", "/signaler", 1),
        ("press", "Attaque armée", 1),
        ("press", "Aujourd'hui", 1),
        ("text", "8h30", 1),
        ("text", "Bamako", 2),  # the location keyboard goes, then the communes
        ("press", "Commune IV", 1),
        ("press", "Passer", 1),
        ("text", "Des hommes armés ont attaqué le marché de Médina Coura", 1),
        ("press", "Je ne sais pas", 1),
        ("press", "Passer", 1),
        ("press", "Rester anonyme", 1),
    ]
    for kind, value, replies in steps:
        before = len(emulator.messages_to(reporter.user_id))
        if kind == "text":
            await reporter.send_text(value)
        else:
            await reporter.press(value)
        await emulator.wait_for_messages(reporter.user_id, before + replies)
    before = len(emulator.messages_to(reporter.user_id))
    await reporter.press("Envoyer")
    await emulator.wait_for_messages(reporter.user_id, before + 1)


async def test_a_validated_alert_reaches_exactly_its_subscribers(
    emulator: BotApiEmulator, bot: Kibaru
) -> None:
    reporter, validator = emulator.user(1001), emulator.user(500)
    near_fr, near_bm, far_en, strict_fr = (
        emulator.user(601, language_code="fr"),
        emulator.user(602, language_code="bm"),
        emulator.user(603, language_code="en"),
        emulator.user(604, language_code="fr"),
    )
    await onboard(emulator, reporter, "Français")
    await onboard(emulator, validator, "Français")
    await grant(bot, validator, Role.VALIDATOR)
    for user, language in (
        (near_fr, "Français"),
        (near_bm, "Bamanankan"),
        (far_en, "English"),
        (strict_fr, "Français"),
    ):
        await onboard(emulator, user, language)
    await follow(bot, near_fr, AreaKind.REGION, "bamako", 3)
    await follow(bot, near_bm, AreaKind.COMMUNE, "bamako_c4", 1)
    await follow(bot, far_en, AreaKind.REGION, "mopti", 1)
    await follow(bot, strict_fr, AreaKind.REGION, "bamako", 4)

    await file_report(emulator, reporter)
    [post] = await emulator.wait_for_messages(GROUP, 1)
    assert "Rapporteur #" in (post.text or "") and "1001" not in (post.text or "")

    # The validator decides from the group; the questions come privately.
    await validator.press("Valider", post)
    [severity] = await said(emulator, validator)
    assert "gravité" in (severity.text or "")
    await validator.press("Alerte")
    await said(emulator, validator)
    await validator.press("abonnés")
    await said(emulator, validator)
    await validator.press("Passer")
    await said(emulator, validator)

    [fr_alert] = await said(emulator, near_fr)
    [bm_alert] = await said(emulator, near_bm)
    assert "🟠" in (fr_alert.text or "") and "Commune IV" in (fr_alert.text or "")
    assert "Alerte" in (fr_alert.text or "") and (bm_alert.text or "") != (fr_alert.text or "")
    assert "Médina Coura" not in (fr_alert.text or "")
    await emulator.wait_for(
        lambda: "validé" in (emulator.messages_to(reporter.user_id)[-1].text or "")
    )
    # the review message now shows who decided, without buttons
    await emulator.wait_for(
        lambda: any("Validé par" in (edit.text or "") for edit in emulator.edits_in(GROUP))
    )
    assert emulator.messages_to(far_en.user_id)[2:] == []
    assert emulator.messages_to(strict_fr.user_id)[2:] == []


async def test_forged_presses_are_refused_and_audited(
    emulator: BotApiEmulator, bot: Kibaru, tg_settings: Settings
) -> None:
    reporter, stranger = emulator.user(1001), emulator.user(666)
    await onboard(emulator, reporter, "Français")
    await file_report(emulator, reporter)
    [post] = await emulator.wait_for_messages(GROUP, 1)
    await stranger.press("Valider", post)
    [refusal] = await said(emulator, stranger)
    assert "pas le droit" in (refusal.text or "")
    await stranger.press_data("!rv:1:val", post.message_id)
    await said(emulator, stranger)
    with sqlite3.connect(tg_settings.database_path) as conn:
        refused = conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'refused'")
        assert refused.fetchone()[0] == 2
        status = conn.execute("SELECT status FROM reports").fetchone()[0]
    assert status == "received"
