"""End to end: `/alertes` and STOP through the real Telegram adapter and the Bot API emulator,
then who an alert of Gao would reach (what the alert sender will ask)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import Kibaru
from bot.settings import Settings
from storage import subscriptions
from storage.subscriptions import DIGEST, NOW
from tests.bot_api_emulator import BotApiEmulator, SimUser
from tests.telegram_harness import running_bot


@pytest.fixture
async def bot(db_path: Path, emulator: BotApiEmulator) -> AsyncIterator[Kibaru]:
    settings = Settings(
        telegram_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_path=db_path,
        admins=(),
        timezone=ZoneInfo("Africa/Bamako"),
        default_language="fr",
    )
    async with running_bot(settings) as channel:
        yield channel.kibaru


async def say(emulator: BotApiEmulator, user: SimUser, text: str) -> str:
    before = len(emulator.messages_to(user.user_id))
    await user.send_text(text)
    await emulator.wait_for_messages(user.user_id, before + 1)
    return emulator.messages_to(user.user_id)[-1].text or ""


async def press(emulator: BotApiEmulator, user: SimUser, label: str) -> str:
    before = len(emulator.messages_to(user.user_id))
    await user.press(label)
    await emulator.wait_for_messages(user.user_id, before + 1)
    return emulator.messages_to(user.user_id)[-1].text or ""


async def subscribe_to_gao(
    emulator: BotApiEmulator, user: SimUser, language: str, severity: str, delivery: str | None
) -> str:
    await say(emulator, user, "/start")
    await press(emulator, user, language)
    await say(emulator, user, "/alertes")
    await say(emulator, user, "Gao")
    answer = await say(emulator, user, severity)
    return await say(emulator, user, delivery) if delivery else answer


async def test_subscribe_pause_and_who_an_alert_reaches(
    emulator: BotApiEmulator, bot: Kibaru
) -> None:
    awa = emulator.user(601, "Awa", "fr")
    moussa = emulator.user(602, "Moussa", "bm")
    john = emulator.user(603, "John", "en")
    overview = await subscribe_to_gao(emulator, awa, "Français", "2", "Tout de suite")
    assert "• 📍 Région de Gao · 🟡 Vigilance et plus grave · ⚡ tout de suite" in overview
    assert emulator.messages_to(awa.user_id)[-1].button_labels[-1] == "✅ Terminé"
    await subscribe_to_gao(emulator, moussa, "Bamanankan", "3", "2")
    assert (await say(emulator, moussa, "18")).startswith("✅")  # the digest's hour
    urgent_only = await subscribe_to_gao(emulator, john, "English", "4", None)
    assert urgent_only.startswith("🔴")  # severity 4: always at once, no delivery question
    assert "/stop" not in [c["command"] for c in emulator.commands["fr"]]  # STOP, not a menu item

    async def gao(severity: int) -> list[tuple[str, str | None, str, int | None]]:
        async with bot.db.reading() as conn:
            found = await subscriptions.recipients(
                conn, region="gao", commune_or_cercle="gao_ansongo", severity=severity
            )
        return [(r.chat_id, r.language, r.delivery, r.digest_hour) for r in found]

    assert await gao(3) == [("601", "fr", NOW, None), ("602", "bm", DIGEST, 18)]
    assert await gao(4) == [
        ("601", "fr", NOW, None),
        ("602", "bm", NOW, None),
        ("603", "en", NOW, None),
    ]
    await say(emulator, awa, "/signaler")
    question = await press(emulator, awa, "Attaque armée")
    paused = await say(emulator, awa, "STOP")
    assert paused.startswith("⏸️") and "/alertes" in paused and paused.endswith(question)
    assert await gao(3) == [("602", "bm", DIGEST, 18)]
    resumed = await say(emulator, awa, "/alertes")
    assert resumed.startswith("⏸️")
    await press(emulator, awa, "Reprendre les alertes")
    assert [chat for chat, *_ in await gao(3)] == ["601", "602"]
