"""Interactive replies on a flaky network: each failed API call is tried again alone (never
the parts already sent), errors that cannot pass are not, and a turn given up gets the
apology. The waits are on the manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.channels.telegram import REPLY_ATTEMPTS, TelegramChannel
from bot.clock import ManualClock
from bot.inbound import InboundEvent
from bot.outbound import Message
from bot.settings import Settings
from tests.bot_api_emulator import BotApiEmulator, SentMessage
from tests.telegram_harness import running_bot

APOLOGY = "problème technique"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def channel(
    db_path: Path, emulator: BotApiEmulator, clock: ManualClock
) -> AsyncIterator[TelegramChannel]:
    settings = Settings(
        telegram_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_path=db_path,
        timezone=ZoneInfo("Africa/Bamako"),
    )
    async with running_bot(settings, clock, request_timeout=0.3) as running:
        yield running


def texts(emulator: BotApiEmulator, chat: int) -> list[str]:
    return [m.text or "" for m in emulator.messages_to(chat)]


async def test_a_reply_that_fails_goes_once_when_it_passes(
    emulator: BotApiEmulator, channel: TelegramChannel, clock: ManualClock
) -> None:
    started = clock.now()
    emulator.fail_next("sendMessage", 502, "Bad Gateway", times=2)
    emulator.fail_next("answerCallbackQuery", 500, "Internal Server Error")
    awa = emulator.user(801)
    await awa.send_text("/start")
    await emulator.wait_for_messages(awa.user_id, 1)
    await awa.press("Français")
    await emulator.wait_for_messages(awa.user_id, 2)
    assert ["Bienvenue" in t for t in texts(emulator, awa.user_id)] == [True, False]
    assert channel.reply_retries == {"NetworkError": 2}
    assert (clock.now() - started).total_seconds() >= 0.25 + 0.5  # backoff, on the clock


async def test_a_429_pauses_then_the_reply_goes(
    emulator: BotApiEmulator, channel: TelegramChannel, clock: ManualClock
) -> None:
    started = clock.now()
    emulator.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    awa = emulator.user(802)
    await awa.send_text("/start")
    await emulator.wait_for_messages(awa.user_id, 1)
    await emulator.wait_for(lambda: emulator.long_polls > 0)
    assert len(emulator.messages_to(awa.user_id)) == 1
    assert (clock.now() - started).total_seconds() >= 7


async def test_a_long_reply_resumes_at_the_part_that_failed(
    emulator: BotApiEmulator,
    channel: TelegramChannel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    long_text = "\n\n".join(f"paragraphe {n} " + "mot " * 400 for n in range(3))

    async def long_answer(event: InboundEvent) -> list[Message]:
        return [Message(long_text)]

    monkeypatch.setattr(channel.kibaru.conversations, "handle", long_answer)

    def fail_the_second_part(message: SentMessage) -> None:
        if len(emulator.sent) == 1:
            emulator.fail_next("sendMessage", 500, "Internal Server Error")

    emulator.listen(fail_the_second_part)
    awa = emulator.user(803)
    await awa.send_text("bonjour")
    parts = await emulator.wait_for_messages(awa.user_id, 2)
    await emulator.wait_for(lambda: emulator.long_polls > 0)
    sent = texts(emulator, awa.user_id)
    assert len(parts) == len(sent) == 2 and sent[0] != sent[1]
    assert [c.error_code for c in emulator.calls_to("sendMessage")] == [None, 500, None]


async def test_a_timeout_is_tried_again_as_the_lesser_harm(
    emulator: BotApiEmulator, channel: TelegramChannel
) -> None:
    """The emulator holds the call past the bot's timeout without delivering it; Telegram
    might have, and the bot sends it again anyway: a question shown twice is better than a
    question lost (its copies share their prompt number, so either one's buttons work)."""
    emulator.chaos(1.0, seed=1, kinds=("timeout",))
    awa = emulator.user(804)
    await awa.send_text("/start")
    await emulator.wait_for(lambda: any(c.error_code == -2 for c in emulator.calls))
    emulator.chaos(0, 0)
    [welcome] = await emulator.wait_for_messages(awa.user_id, 1)
    assert "Bienvenue" in (welcome.text or "")
    assert channel.reply_retries["TimedOut"] >= 1


async def test_a_refused_reply_is_not_tried_again_and_the_apology_follows(
    emulator: BotApiEmulator, channel: TelegramChannel
) -> None:
    emulator.fail_next("sendMessage", 400, "Bad Request: chat not found")
    awa = emulator.user(805)
    await awa.send_text("/start")
    [apology] = await emulator.wait_for_messages(awa.user_id, 1)
    assert APOLOGY in (apology.text or "")
    assert len(emulator.calls_to("sendMessage")) == 2 and channel.reply_retries == {}


async def test_a_reply_given_up_gets_the_apology(
    emulator: BotApiEmulator, channel: TelegramChannel
) -> None:
    emulator.fail_next("sendMessage", 502, "Bad Gateway", times=REPLY_ATTEMPTS)
    awa = emulator.user(806)
    await awa.send_text("/start")
    [apology] = await emulator.wait_for_messages(awa.user_id, 1)
    assert APOLOGY in (apology.text or "")
    assert len(emulator.calls_to("sendMessage")) == REPLY_ATTEMPTS + 1
