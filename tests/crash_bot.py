"""The crash suite's machinery (tests/test_crash.py): the real `run_bot.py` as a process of its
own, a Bot API emulator that hands each chat's messages to its phone and can kill the bot at
a chosen moment, and the kill plan.

The kill can happen inside the emulator's own handling of a request: the message is recorded
as delivered and the bot never hears the answer, which is exactly "in flight". Each kill is
SIGKILL: no handler runs, nothing is flushed or confirmed.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from tests.bot_api_emulator import BotApiEmulator, SentMessage
from tests.crash_people import (
    ALERT,
    ANNOUNCEMENT,
    INVITATION,
    RECEIPT,
    REFERENCE,
    REMINDER,
    REPORT_NOTICE,
    REVIEW_BUTTON,
    Phone,
)

ROOT = Path(__file__).resolve().parent.parent
#: a trigger that has not fired within this many seconds gives way to a kill at once
TRIGGER_PATIENCE = 3.0
START_TIMEOUT = 30.0
#: seconds of polling before a kill "at a random moment": enough for the people to get on
UPTIME = (0.3, 4.5)
#: seconds of polling before a trigger is armed
BEFORE_ARMING = (0.3, 2.5)


class Phase(StrEnum):
    """When the bot is killed."""

    STARTING = "while starting"  # before or just as polling begins
    ANYTIME = "at a random moment"
    HANDLING = "handling a batch"  # a few ms after getUpdates handed updates over
    REPLYING = "sending replies"  # inside the delivery of the n-th interactive reply
    RECEIPT = "sending a receipt"  # inside the delivery of "received, reference ML-…"
    OUTBOX = "outbox sending"  # inside the delivery of an outbox message


def is_outbox(message: SentMessage) -> bool:
    """Whether a message came from the outbox rather than as a reply (this suite's kinds)."""
    text = message.text or ""
    return (
        message.is_edit
        or text.startswith((INVITATION, REMINDER, ANNOUNCEMENT))
        or REPORT_NOTICE in text
        or ALERT in text
        or REVIEW_BUTTON in message.button_labels
    )


class CrashEmulator(BotApiEmulator):
    """The Bot API emulator, with a phone per chat, the receipts it delivered, and a trigger
    that kills the bot from inside a request. It hooks three private methods of the tests'
    emulator (`_bot_message`, `_apply_edit`, `_get_updates`): if they change shape, this is
    the class to adapt."""

    def __init__(self) -> None:
        super().__init__()
        self.phones: dict[int, Phone] = {}
        #: reference -> chat, for every receipt delivered
        self.receipts: dict[str, int] = {}
        self.polls = 0  # getUpdates calls: the first after a start means the bot is up
        self.handed = 0  # updates handed over (again, after a kill)
        self.trigger: Callable[[SentMessage], bool] | None = None
        self.on_batch: Callable[[], None] | None = None
        self.kill: Callable[[], None] = lambda: None

    def phone(self, user_id: int, name: str) -> Phone:
        phone = Phone(self.user(user_id, name, "fr"))
        self.phones[user_id] = phone
        return phone

    def _recorded(self, message: SentMessage) -> None:
        text = message.text or ""
        if RECEIPT in text:
            for reference in REFERENCE.findall(text):
                self.receipts[reference] = message.chat_id
        if not message.is_edit and message.chat_id in self.phones:
            self.phones[message.chat_id].arrived(message)
        if self.trigger is not None and self.trigger(message):
            self.trigger = None
            self.kill()

    def _bot_message(
        self, method: str, params: dict[str, Any], content: dict[str, Any], raw_text: str | None
    ) -> dict[str, Any]:
        message = super()._bot_message(method, params, content, raw_text)
        self._recorded(self.sent[-1])
        return message

    def _apply_edit(
        self,
        method: str,
        params: dict[str, Any],
        message: dict[str, Any],
        new_content: dict[str, Any],
        raw_text: str | None,
    ) -> dict[str, Any]:
        edited = super()._apply_edit(method, params, message, new_content, raw_text)
        self._recorded(self.sent[-1])
        return edited

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.polls += 1
        updates = await super()._get_updates(params)
        self.handed += len(updates)
        polling = float(params.get("timeout") or 0) > 0  # not a confirmation mid-batch
        if updates and polling and self.on_batch is not None:
            on_batch, self.on_batch = self.on_batch, None
            on_batch()
        return updates


class BotProcess:
    """`python run_bot.py`, started again and again on the same database."""

    def __init__(self, emulator: CrashEmulator, env: dict[str, str], log: Path) -> None:
        self.emulator = emulator
        self.env = env
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self.started_at = 0.0
        self.runs = 0

    async def start(self) -> None:
        self.runs += 1
        with self.log.open("a", encoding="utf-8") as log:
            log.write(f"--- run {self.runs} ---\n")
        with self.log.open("a", encoding="utf-8") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(ROOT / "run_bot.py"),
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        self.started_at = asyncio.get_running_loop().time()

    @property
    def uptime(self) -> float:
        return asyncio.get_running_loop().time() - self.started_at

    async def ready(self) -> None:
        """Until the new process polls (its start-up is over)."""
        polls = self.emulator.polls
        await self.emulator.wait_for(lambda: self.emulator.polls > polls, START_TIMEOUT)

    def kill_now(self) -> None:
        """SIGKILL, from anywhere (the emulator calls it inside a request)."""
        if self.process is not None and self.process.returncode is None:
            os.kill(self.process.pid, signal.SIGKILL)

    async def dead(self) -> None:
        if self.process is not None:
            await self.process.wait()

    async def stop(self) -> int:
        """SIGTERM, as systemd stops it: the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            return await self.process.wait()


@dataclass
class Kill:
    """One kill, as the summary tells it."""

    phase: str
    uptime: float  # seconds since the process was started
    ready_after: float | None  # seconds from the start to the first poll (None: not waited)
    handed: int  # updates handed to this run (redelivered ones included)


class Killer:
    """Kills the bot in the chosen phase; a trigger that does not fire in time gives way to
    a kill at once (the phase says so)."""

    def __init__(self, emulator: CrashEmulator, bot: BotProcess, rng: random.Random) -> None:
        self.emulator = emulator
        self.bot = bot
        self.rng = rng

    async def kill(self, phase: Phase) -> Kill:
        rng, emulator = self.rng, self.emulator
        done = asyncio.Event()

        def kill() -> None:
            if not done.is_set():  # once per cycle: a late timer must not hit the next run
                self.bot.kill_now()
                done.set()

        emulator.kill = kill
        label = str(phase)
        handed = emulator.handed
        ready_after = None
        if phase is Phase.STARTING:
            await asyncio.sleep(rng.uniform(0.05, 0.8))
            kill()
        else:
            await self.bot.ready()
            ready_after = self.bot.uptime
            await asyncio.sleep(rng.uniform(*(UPTIME if phase is Phase.ANYTIME else BEFORE_ARMING)))
            if phase is Phase.ANYTIME:
                kill()
            else:
                self._arm(phase, kill)
                # the first receipts come once the first reporters are through a report
                patience = TRIGGER_PATIENCE * (3 if phase is Phase.RECEIPT else 1)
                try:
                    await asyncio.wait_for(done.wait(), patience)
                except TimeoutError:
                    label += " (no trigger: killed at once)"
                    kill()
        emulator.trigger = emulator.on_batch = None
        await self.bot.dead()
        return Kill(label, self.bot.uptime, ready_after, emulator.handed - handed)

    def _arm(self, phase: Phase, kill: Callable[[], None]) -> None:
        emulator, rng = self.emulator, self.rng
        if phase is Phase.HANDLING:
            delay = rng.uniform(0.002, 0.03)
            emulator.on_batch = lambda: asyncio.get_running_loop().call_later(delay, kill)
        elif phase is Phase.REPLYING:
            countdown = [rng.randint(1, 60)]

            def nth_reply(message: SentMessage) -> bool:
                if is_outbox(message):
                    return False
                countdown[0] -= 1
                return countdown[0] <= 0

            emulator.trigger = nth_reply
        elif phase is Phase.RECEIPT:
            emulator.trigger = lambda message: RECEIPT in (message.text or "")
        else:
            emulator.trigger = is_outbox
