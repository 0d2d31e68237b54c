"""The fake phone: a scripted session against the real bot, as the README shows it."""

from __future__ import annotations

import io

import pytest

from bot.app import Kibaru
from bot.channels.telegram import TelegramChannel
from bot.clock import ManualClock
from bot.settings import Settings
from tests import fake_phone
from tests.bot_api_emulator import BotApiEmulator


async def test_scripted_phone_session(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started: list[BotApiEmulator] = []
    original_start = BotApiEmulator.start
    bots: list[tuple[Kibaru, TelegramChannel]] = []

    async def start_with_bot(self: BotApiEmulator, port: int = 0) -> None:
        await original_start(self, 0)  # a free port, whatever the command line says
        started.append(self)
        kibaru = await Kibaru.open(
            Settings(
                telegram_token=self.token,
                telegram_api_url=self.base_url,
                database_path=settings.database_path,
            ),
            ManualClock(),
        )
        channel = TelegramChannel(kibaru)
        await channel.start(poll_timeout=5)
        bots.append((kibaru, channel))

    monkeypatch.setattr(BotApiEmulator, "start", start_with_bot)
    monkeypatch.setattr("sys.stdin", io.StringIO("/start\n#2\n:sticker\n#9\n:quit\n"))
    try:
        assert await fake_phone.main(0) == 0
    finally:
        for kibaru, channel in bots:
            await channel.stop()
            await kibaru.close()
    out = capsys.readouterr().out
    assert "Awa > /start" in out
    assert "[2] Bamanankan" in out
    assert "I b'a fɛ ka mun kɛ?" in out  # Bamanankan was tapped
    assert "sitikɛri" in out  # the sticker was refused in Bambara
    assert "Awa > #9" in out and "no button" in out.lower()
