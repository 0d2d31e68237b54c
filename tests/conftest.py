"""Shared fixtures: settings on a temporary database, a manual clock, and a chat driver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import logs
from bot.app import Kibaru
from bot.clock import ManualClock
from bot.settings import Settings
from tests.bot_api_emulator import BotApiEmulator
from tests.chat_driver import ChatDriver
from tests.world import World, build_world


@pytest.fixture(autouse=True)
def _guarded_library_loggers() -> None:
    """As in production (run_bot.py): library loggers that leak data stay at WARNING."""
    logs.guard_library_loggers()


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx honours HTTP(S)_PROXY; traffic to the emulator on 127.0.0.1 must not use one."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "kibaru.db"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(
        telegram_token=None,
        database_path=db_path,
        admins=(999,),
        timezone=ZoneInfo("Africa/Bamako"),
        default_language="fr",
        media_dir=db_path.parent / "media",  # exports and charts go beside it: not in the repo
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def kibaru(settings: Settings, clock: ManualClock) -> AsyncIterator[Kibaru]:
    app = await Kibaru.open(settings, clock)
    yield app
    await app.close()


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    """The Bot API emulator on 127.0.0.1, a free port, stopped after the test."""
    async with BotApiEmulator() as emu:
        yield emu


@pytest.fixture
def chat(kibaru: Kibaru) -> ChatDriver:
    return ChatDriver(kibaru.conversations, chat_id="1001")


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The stress suites' seed database (`tests/world.py`), built once per test run."""
    return asyncio.run(build_world(tmp_path_factory.mktemp("world")))
