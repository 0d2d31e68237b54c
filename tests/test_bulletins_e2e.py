"""The weekly report end to end: the real Telegram channel, the outbox sender and the Bot API
emulator. On Monday at 08:00 a French coordinator and an English focal point get the chart
photo and the report in their language; a coordinator asks `/bulletin semaine` on demand; a
validator asking for it is refused, and the refusal is audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Kibaru
from bot.channels.telegram import TelegramChannel
from bot.clock import ManualClock
from bot.settings import Settings
from handlers.bulletins.delivery import run_due
from handlers.bulletins.schedule import WEEKLY
from storage import audit, roles, users
from storage.roles import Role
from tests.bot_api_emulator import BotApiEmulator, SentMessage, SimUser
from tests.bulletin_data import BAMAKO, at, seed
from tests.telegram_harness import running_bot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at(18, 10))  # Wednesday 18 November 2026


@pytest.fixture
def tg_settings(db_path: Path, emulator: BotApiEmulator) -> Settings:
    return Settings(
        telegram_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_path=db_path,
        admins=(400,),
        timezone=BAMAKO,
    )


@pytest.fixture
async def channel(
    tg_settings: Settings, clock: ManualClock, emulator: BotApiEmulator
) -> AsyncIterator[TelegramChannel]:
    async with running_bot(tg_settings, clock) as running:
        yield running


async def said(emulator: BotApiEmulator, user: SimUser, count: int = 1) -> list[SentMessage]:
    before = len(emulator.messages_to(user.user_id))
    await emulator.wait_for_messages(user.user_id, before + count)
    return emulator.messages_to(user.user_id)[before:]


async def onboard(
    emulator: BotApiEmulator, kibaru: Kibaru, user: SimUser, language: str, role: Role | None
) -> None:
    await user.send_text("/start")
    await said(emulator, user)
    await user.press(language)
    await said(emulator, user)
    if role is not None:
        async with kibaru.db.transaction() as conn:
            found = await users.find(conn, "telegram", str(user.user_id))
            assert found is not None
            await roles.grant(conn, found.id, role, kibaru.clock.now(), "gao")


def _photo_then_report(messages: list[SentMessage]) -> tuple[SentMessage, SentMessage]:
    photo, report = messages[0], messages[1]
    assert photo.method == "sendPhoto"
    assert photo.params["photo"].data.startswith(PNG_SIGNATURE)
    assert report.method == "sendMessage"
    return photo, report


async def test_the_weekly_report_reaches_coordinators_and_focal_points(
    emulator: BotApiEmulator, channel: TelegramChannel, clock: ManualClock
) -> None:
    kibaru = channel.kibaru
    coordinator = emulator.user(400, "Awa", "fr")
    focal = emulator.user(501, "John", "en")
    await onboard(emulator, kibaru, coordinator, "Français", None)  # KIBARU_ADMINS
    await onboard(emulator, kibaru, focal, "English", Role.FOCAL_POINT)
    async with kibaru.db.transaction() as conn:
        found = await seed(conn)
    before = {u.user_id: len(emulator.messages_to(u.user_id)) for u in (coordinator, focal)}
    clock.set(at(23, 8))  # Monday, 08:00 in Bamako
    assert await run_due(kibaru.db, clock, kibaru.settings, kibaru.catalogs, WEEKLY)
    channel.outbox.kick()
    for user in (coordinator, focal):
        await emulator.wait_for_messages(user.user_id, before[user.user_id] + 2)
    french_photo, french = _photo_then_report(emulator.messages_to(400)[before[400] :])
    english_photo, english = _photo_then_report(emulator.messages_to(501)[before[501] :])
    assert (french.text or "").startswith("📊 Rapport hebdomadaire d'alerte\n🗓️ 16–22 nov. 2026")
    assert "🔫 Attaque armée : 2" in (french.text or "")
    assert found[1].reference in (french.text or "")
    assert "Nov 16" in (english.text or "") and "🔫 Armed attack" in (english.text or "")
    assert french_photo.params["photo"].data != english_photo.params["photo"].data  # own labels
    # Delivered once: a later run (the hourly check) finds the week sent.
    assert await run_due(kibaru.db, clock, kibaru.settings, kibaru.catalogs, WEEKLY) is None


async def test_bulletin_on_demand_and_refused_to_a_validator(
    emulator: BotApiEmulator, channel: TelegramChannel, clock: ManualClock
) -> None:
    kibaru = channel.kibaru
    coordinator = emulator.user(400, "Awa", "fr")
    validator = emulator.user(502, "Moussa", "fr")
    await onboard(emulator, kibaru, coordinator, "Français", None)
    await onboard(emulator, kibaru, validator, "Français", Role.VALIDATOR)
    async with kibaru.db.transaction() as conn:
        await seed(conn)
    clock.set(at(25, 9))
    await coordinator.send_text("/bulletin semaine")
    replies = await said(emulator, coordinator, 2)
    _, report = _photo_then_report(replies)
    assert "🗓️ 16–22 nov. 2026" in (report.text or "")
    assert "🚨 7 alertes validées" in (report.text or "")
    await validator.send_text("/bulletin semaine")
    [refusal] = await said(emulator, validator)
    assert "⛔ Vous n'avez pas le droit" in (refusal.text or "")
    assert not any(m.method == "sendPhoto" for m in emulator.messages_to(validator.user_id))
    async with kibaru.db.reading() as conn:
        user = await users.find(conn, "telegram", "502")
        entries = await audit.recent(conn, 5)
    assert user is not None
    assert any(
        (e.action, e.actor_id, e.detail) == ("refused", user.id, "bulletin") for e in entries
    )
