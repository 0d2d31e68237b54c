"""The real Telegram channel running in the test process, against the Bot API emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.app import Kibaru
from bot.channels.telegram import TelegramChannel
from bot.clock import Clock, ManualClock
from bot.settings import Settings


@asynccontextmanager
async def running_bot(
    settings: Settings,
    clock: Clock | None = None,
    *,
    poll_timeout: int = 5,
    request_timeout: float | None = None,
) -> AsyncIterator[TelegramChannel]:
    """Kibaru on Telegram until the block ends (a new one per block: a restart)."""
    kibaru = await Kibaru.open(settings, clock or ManualClock())
    channel = TelegramChannel(kibaru, request_timeout=request_timeout)
    await channel.start(poll_timeout=poll_timeout)
    try:
        yield channel
    finally:
        await channel.stop()
        await kibaru.close()
