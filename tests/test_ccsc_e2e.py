"""Joining a committee end to end: the real Telegram channel, the outbox sender and the Bot
API emulator. A resident asks to join by buttons, the committee's secretary gets the request
with Approve / Decline and approves it, and the resident is welcomed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.settings import Settings
from storage import committees, roles, users
from storage.committees import MemberStatus
from storage.roles import Role
from tests.bot_api_emulator import BotApiEmulator, SentMessage, SimUser
from tests.telegram_harness import running_bot

NOW = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)


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
    )


@pytest.fixture
async def bot(
    tg_settings: Settings, clock: ManualClock, emulator: BotApiEmulator
) -> AsyncIterator[Kibaru]:
    async with running_bot(tg_settings, clock) as channel:
        yield channel.kibaru


async def said(emulator: BotApiEmulator, user: SimUser, count: int = 1) -> list[SentMessage]:
    before = len(emulator.messages_to(user.user_id))
    await emulator.wait_for_messages(user.user_id, before + count)
    return emulator.messages_to(user.user_id)[before:]


async def onboard(emulator: BotApiEmulator, user: SimUser) -> None:
    await user.send_text("/start")
    await said(emulator, user)
    await user.press("Français")
    await said(emulator, user)


async def test_a_join_request_approved_with_the_button(
    emulator: BotApiEmulator, bot: Kibaru
) -> None:
    resident, secretary = emulator.user(1001), emulator.user(500)
    await onboard(emulator, secretary)
    async with bot.db.transaction() as conn:
        found = await users.find(conn, "telegram", "500")
        assert found is not None
        await roles.grant(conn, found.id, Role.CCSC_SECRETARY, NOW, "ccsc_bamako_c4")
    await onboard(emulator, resident)
    await resident.send_text("/ccsc")
    await said(emulator, resident)
    for label in ("Commune IV", "Représentante des femmes", "Femme", "18 à 24"):
        await resident.press(label)
        await said(emulator, resident)
    await resident.send_text("Awa")
    [check] = await said(emulator, resident)
    assert "CCS-C Commune IV" in (check.text or "") and "Awa" in (check.text or "")
    before = len(emulator.messages_to(secretary.user_id))
    await resident.press("Envoyer")
    [sent] = await said(emulator, resident)
    assert "Demande envoyée" in (sent.text or "")
    await emulator.wait_for_messages(secretary.user_id, before + 1)
    [request] = emulator.messages_to(secretary.user_id)[before:]
    assert "Demande d'adhésion au CCS-C Commune IV" in (request.text or "")
    await secretary.press("Approuver", request)
    await said(emulator, secretary)
    welcome = [m for m in await said(emulator, resident) if "Bienvenue" in (m.text or "")]
    assert welcome
    async with bot.db.reading() as conn:
        user = await users.find(conn, "telegram", "1001")
        assert user is not None
        [(member, committee)] = await committees.of_user(conn, user.id)
        assert (member.status, committee.code) == (MemberStatus.ACTIVE, "ccsc_bamako_c4")
        assert await roles.has_role(conn, user.id, Role.CCSC_MEMBER, "ccsc_bamako_c4")
