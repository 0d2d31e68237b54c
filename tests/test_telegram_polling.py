"""Polling: an update is confirmed only once handled, and errors never stop the loop."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Sequence

import pytest
from telegram import Bot, Update
from telegram.error import InvalidToken

from bot.app import Kibaru
from bot.channels.telegram import ALLOWED_UPDATES, TelegramChannel
from bot.channels.telegram_polling import Poller
from bot.clock import ManualClock
from bot.settings import Settings
from tests.bot_api_emulator import BotApiEmulator


@pytest.fixture
async def bare_bot(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emulator.token, base_url=f"{emulator.base_url}/bot") as bot:
        yield bot


class Recorder:
    def __init__(self) -> None:
        self.update_ids: list[int] = []
        self.seen = asyncio.Event()

    async def __call__(self, updates: Sequence[Update]) -> None:
        self.update_ids.extend(update.update_id for update in updates)
        self.seen.set()


def poller(bot: Bot, handle: Recorder) -> Poller:
    # no backoff: the tests must not wait for time to pass
    return Poller(bot, handle, ALLOWED_UPDATES, timeout=5, first_backoff=0, retry_slack=0)


async def test_updates_handled_in_order_and_confirmed(
    emulator: BotApiEmulator, bare_bot: Bot
) -> None:
    recorder = Recorder()
    polling = poller(bare_bot, recorder)
    polling.start()
    user = emulator.user(1)
    ids = [await user.send_text(f"m{i}") for i in range(3)]
    await emulator.wait_for(lambda: len(recorder.update_ids) == 3)
    await polling.stop()
    assert recorder.update_ids == ids
    assert emulator.pending_updates == 0  # stop() confirmed them


@pytest.mark.parametrize(
    ("code", "description"),
    [(500, "Internal Server Error"), (502, "Bad Gateway"), (409, "Conflict: terminated")],
)
async def test_errors_do_not_stop_polling(
    emulator: BotApiEmulator, bare_bot: Bot, code: int, description: str
) -> None:
    recorder = Recorder()
    emulator.fail_next("getUpdates", code, description, times=3)
    polling = poller(bare_bot, recorder)
    polling.start()
    update_id = await emulator.user(2).send_text("bonjour")
    await emulator.wait_for(lambda: recorder.update_ids == [update_id])
    assert polling.running
    await polling.stop()


async def test_retry_after_is_honoured(emulator: BotApiEmulator, bare_bot: Bot) -> None:
    recorder = Recorder()
    emulator.fail_next("getUpdates", 429, "Too Many Requests: retry after 0", retry_after=0)
    polling = poller(bare_bot, recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB warns about its own RetryAfter signature
        polling.start()
        update_id = await emulator.user(3).send_text("bonjour")
        await emulator.wait_for(lambda: recorder.update_ids == [update_id])
    await polling.stop()


async def test_backoffs_wait_on_the_clock(emulator: BotApiEmulator, bare_bot: Bot) -> None:
    """Production waits seconds of real time; a test's manual clock skips them."""
    clock = ManualClock()
    started = clock.now()
    recorder = Recorder()
    emulator.fail_next("getUpdates", 502, "Bad Gateway", times=2)
    emulator.fail_next("getUpdates", 429, "Too Many Requests: retry after 20", retry_after=20)
    polling = Poller(
        bare_bot,
        recorder,
        ALLOWED_UPDATES,
        timeout=5,
        first_backoff=30,
        max_backoff=60,
        clock=clock,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB warns about its own RetryAfter signature
        polling.start()
        update_id = await emulator.user(6).send_text("bonjour")
        await emulator.wait_for(lambda: recorder.update_ids == [update_id])
    await polling.stop()
    assert (clock.now() - started).total_seconds() >= 30 + 60 + 20
    assert polling.failures == {"NetworkError": 2, "RetryAfter": 1}


async def test_an_unexpected_error_does_not_stop_polling(
    emulator: BotApiEmulator, bare_bot: Bot
) -> None:
    """Anything but a refused token, even a bug in the HTTP stack, only delays the next poll."""

    class Flaky:
        def __init__(self) -> None:
            self.failed = False

        async def get_updates(self, **kwargs: object) -> tuple[Update, ...]:
            if not self.failed:
                self.failed = True
                raise RuntimeError("a bug under get_updates")
            return await bare_bot.get_updates(**kwargs)  # type: ignore[arg-type]

    recorder = Recorder()
    polling = Poller(Flaky(), recorder, ALLOWED_UPDATES, timeout=5, first_backoff=0)  # type: ignore[arg-type]
    polling.start()
    update_id = await emulator.user(7).send_text("bonjour")
    await emulator.wait_for(lambda: recorder.update_ids == [update_id])
    assert polling.running and polling.failures == {"RuntimeError": 1}
    await polling.stop()


async def test_revoked_token_ends_polling(emulator: BotApiEmulator, bare_bot: Bot) -> None:
    emulator.fail_next("getUpdates", 401, "Unauthorized")
    polling = poller(bare_bot, Recorder())
    polling.start()
    with pytest.raises(InvalidToken):
        await polling.wait()


async def test_a_batch_that_escapes_its_handler_does_not_block_the_next(
    emulator: BotApiEmulator, bare_bot: Bot
) -> None:
    handled: list[int] = []

    async def fragile(updates: Sequence[Update]) -> None:
        if not handled:
            handled.extend(-update.update_id for update in updates)
            raise RuntimeError("bug")
        handled.extend(update.update_id for update in updates)

    polling = Poller(bare_bot, fragile, ALLOWED_UPDATES, timeout=5, first_backoff=0)
    user = emulator.user(4)
    first = await user.send_text("a")
    polling.start()
    await emulator.wait_for(lambda: len(handled) == 1)
    second = await user.send_text("b")
    await emulator.wait_for(lambda: len(handled) == 2)
    await polling.stop()
    assert handled == [-first, second]
    assert emulator.pending_updates == 0


async def test_update_in_hand_at_a_crash_is_delivered_again(
    emulator: BotApiEmulator, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies while handling an update: after the restart, it is handled."""
    settings = Settings(
        telegram_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_path=settings.database_path,
    )
    crashed = await Kibaru.open(settings, ManualClock())
    channel = TelegramChannel(crashed)
    entered = asyncio.Event()
    never = asyncio.Event()

    async def stuck(event: object) -> list[object]:
        entered.set()
        await never.wait()  # the power goes out here
        return []

    monkeypatch.setattr(crashed.conversations, "handle", stuck)
    await channel.start(poll_timeout=5)
    awa = emulator.user(5)
    await awa.send_text("/start")
    await entered.wait()
    # A crash: the polling task dies where it is, nothing is confirmed, nothing said.
    assert channel.poller is not None
    channel.poller._task.cancel()  # type: ignore[union-attr]
    await asyncio.gather(channel.poller._task, return_exceptions=True)  # type: ignore[arg-type]
    await channel.app.stop()
    await channel.app.shutdown()
    await crashed.close()
    assert emulator.messages_to(5) == []
    assert emulator.pending_updates == 1

    restarted = await Kibaru.open(settings, ManualClock())
    again = TelegramChannel(restarted)
    await again.start(poll_timeout=5)
    try:
        [welcome] = await emulator.wait_for_messages(5, 1)
        assert "Bienvenue sur Kibaru" in (welcome.text or "")
    finally:
        await again.stop()
        await restarted.close()
