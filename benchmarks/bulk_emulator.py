"""The Bot API emulator throttled like Telegram, for the bulk benchmarks (`broadcast.py`,
`reminders.py`), in a process of its own; never run by hand.

Above ``--per-second`` messages in any second (30, Telegram's bulk limit) it answers 429 with
``retry_after`` 1. ``--recipients`` users with chat ids from ``--first-chat`` on are the bulk
lane's audience: every message to them is stamped as it arrives. Meanwhile ``--reporters``
people chat with the bot (/start, a language button, then /aide and /menu in turn), pausing
about ``--think`` seconds (0.5 to 1.5 times it, seeded) before each step, until every recipient
got a message or ``--timeout`` seconds have passed. Replies share the 30/s with the bulk lane,
as on Telegram.

Control dialogue and time stamps: see `benchmarks/emulator_server.py` and `benchmarks/harness.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
from typing import Any

from benchmarks.emulator_server import FIRST_USER_ID, Inbox, TimedEmulator, quantile, serve_load

# What each reporter does, in a loop after onboarding: (kind, value)
ONBOARDING = (("text", "/start"), ("press", "Français"))
CHAT_LOOP = (("text", "/aide"), ("text", "/menu"))
REPLY_TIMEOUT = 30.0  # a reporter's update -> its first reply


class BulkEmulator(TimedEmulator):
    """Stamps every message to the audience; the other chats' go to their inboxes."""

    def __init__(self, first_chat: int, recipients: int) -> None:
        super().__init__()
        self.audience = range(first_chat, first_chat + recipients)
        self.bulk_times: list[float] = []
        self.bulk_chats: set[int] = set()
        self.reply_times: list[float] = []
        self.all_served = asyncio.Event()

    def _bot_message(
        self, method: str, params: dict[str, Any], content: dict[str, Any], raw_text: str | None
    ) -> dict[str, Any]:
        message = super()._bot_message(method, params, content, raw_text)
        now = time.monotonic()
        chat = message["chat"]["id"]
        if chat in self.audience:
            self.bulk_times.append(now)
            self.bulk_chats.add(chat)
            if len(self.bulk_chats) == len(self.audience):
                self.all_served.set()
        else:
            self.reply_times.append(now)
        return message


async def _reporter(
    emulator: BulkEmulator, user_id: int, think: float, latencies: list[float]
) -> None:
    """One person chatting until cancelled; each step's latency recorded (inf: no reply)."""
    user = emulator.user(user_id, "Awa", "fr")
    inbox = emulator.inboxes.setdefault(user_id, Inbox())
    pace = random.Random(user_id)
    steps = [*ONBOARDING]
    while True:
        if not steps:
            steps = [*CHAT_LOOP]
        kind, value = steps.pop(0)
        await asyncio.sleep(think * pace.uniform(0.5, 1.5))
        done = inbox.expect(1)
        queued = time.monotonic()
        if kind == "press":
            await user.press(value)
        else:
            await user.send_text(value)
        try:
            async with asyncio.timeout(REPLY_TIMEOUT):
                await done
        except TimeoutError:
            latencies.append(float("inf"))
            continue
        assert inbox.first_at is not None
        latencies.append(inbox.first_at - queued)


async def _load(emulator: BulkEmulator, args: argparse.Namespace) -> dict[str, Any]:
    """The reporters chat until the audience is served (or the time is up)."""
    latencies: list[float] = []
    reporters = [
        asyncio.create_task(_reporter(emulator, FIRST_USER_ID + n, args.think, latencies))
        for n in range(args.reporters)
    ]
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(args.timeout):
            await emulator.all_served.wait()
    for task in reporters:
        task.cancel()
    await asyncio.gather(*reporters, return_exceptions=True)
    bulk = emulator.bulk_times
    first, last = (bulk[0], bulk[-1]) if bulk else (0.0, 0.0)
    replies = sum(1 for t in emulator.reply_times if first <= t <= last) if bulk else 0
    finite = [v for v in latencies if v != float("inf")]
    return {
        "first_poll_at": emulator.first_poll_at,
        "first_bulk_at": first if bulk else None,  # monotonic, comparable with the caller's
        "last_bulk_at": last if bulk else None,
        "duration_s": last - first,
        "bulk_messages": len(bulk),
        "bulk_chats": len(emulator.bulk_chats),
        "replies_during": replies,
        "throttled_429": emulator.throttled,
        "reply_count": len(latencies),
        "reply_timeouts": len(latencies) - len(finite),
        "p50_s": quantile(latencies, 0.50),
        "p99_s": quantile(latencies, 0.99),
        "max_s": max(latencies, default=None),
    }


async def serve(args: argparse.Namespace) -> None:
    emulator = BulkEmulator(args.first_chat, args.recipients)
    emulator.throttle(args.per_second)
    for chat in emulator.audience:
        emulator.user(chat)
    await serve_load(emulator, lambda _: _load(emulator, args), args.startup_timeout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first-chat", type=int, required=True)
    parser.add_argument("--recipients", type=int, required=True)
    parser.add_argument("--reporters", type=int, default=0)
    parser.add_argument("--think", type=float, default=2.0, help="reporters' pause (s)")
    parser.add_argument("--timeout", type=float, required=True, help="first poll -> all served")
    parser.add_argument("--per-second", type=int, default=30)
    parser.add_argument("--startup-timeout", type=float, default=30.0)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
