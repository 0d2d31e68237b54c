"""Does a broadcast reach everyone at Telegram's pace while people keep chatting? Prints the
figures to stdout (progress to stderr).

    .venv/bin/python benchmarks/broadcast.py [--subscribers 10000] [--reporters 20] [--think 2]

The Bot API emulator runs in a process of its own (this file with ``--serve``), throttled like
Telegram: above 30 messages in any second it answers 429 with ``retry_after`` 1. The bot is the
real `run_bot.py` process on a fresh SQLite file. The subscriptions and alerts code (issue 4's
other parts) is not in this branch yet, so the broadcast is **seeded directly into the
database** before the bot starts: ``--subscribers`` users rows and one outbox row each, all
with one batch key, as validating an alert will queue them. Meanwhile ``--reporters`` people
chat with the bot (/start, a language button, then /aide and /menu in turn), pausing about
``--think`` seconds (0.5 to 1.5 times it, seeded) before each step, until the broadcast is
over.

Printed: the broadcast's duration (first to last bulk message), the sustained rate of
everything the bot sent in that time (bulk and replies: both lanes share Telegram's budget)
and of the bulk lane alone, the 429s the emulator answered, the subscribers never reached
(lost), the duplicates, the rows' final statuses in the database, and the reply latency
p50/p99/max of the reporters (their update queued -> the first reply arriving). Targets (issue
4): ≥ 28.5 msgs/s sustained, 0 lost, p99 of interactive replies < 1 s.

Everything is bounded (``--timeout``), and every process started here is stopped in `finally`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.emulator_server import Inbox, _quantile, _stdin_reader
from benchmarks.interactive import (
    ROOT,
    _bot_env,
    _close_emulator,
    _read_json,
    _revision,
    _stop,
    log,
)
from tests.bot_api_emulator import BotApiEmulator

FIRST_SUBSCRIBER = 600_000_000
FIRST_REPORTER = 700_000_000
BATCH = "bench-broadcast"
PER_SECOND = 30
TARGET_RATE = 28.5
TARGET_P99_S = 1.0
# What each reporter does, in a loop after onboarding: (kind, value)
ONBOARDING = (("text", "/start"), ("press", "Français"))
CHAT_LOOP = (("text", "/aide"), ("text", "/menu"))


# -- the emulator process ----------------------------------------------------------------------


class BroadcastEmulator(BotApiEmulator):
    """The tests' emulator, throttled, stamping each message as it arrives."""

    def __init__(self, subscribers: int) -> None:
        super().__init__()
        self.subscribers = subscribers
        self.bulk_times: list[float] = []
        self.bulk_chats: set[int] = set()
        self.reply_times: list[float] = []
        self.inboxes: dict[int, Inbox] = {}
        self.first_poll = asyncio.Event()
        self.all_served = asyncio.Event()

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.first_poll.set()
        return await super()._get_updates(params)

    def _bot_message(
        self, method: str, params: dict[str, Any], content: dict[str, Any], raw_text: str | None
    ) -> dict[str, Any]:
        message = super()._bot_message(method, params, content, raw_text)
        now = time.monotonic()
        chat = message["chat"]["id"]
        if FIRST_SUBSCRIBER <= chat < FIRST_SUBSCRIBER + self.subscribers:
            self.bulk_times.append(now)
            self.bulk_chats.add(chat)
            if len(self.bulk_chats) == self.subscribers:
                self.all_served.set()
        else:
            self.reply_times.append(now)
            inbox = self.inboxes.get(chat)
            if inbox is not None:
                inbox.receive(message, now, params.get("reply_markup"))
        return message


async def _reporter(
    emulator: BroadcastEmulator, user_id: int, think: float, latencies: list[float]
) -> None:
    """One person chatting until cancelled; each step's latency recorded."""
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
            async with asyncio.timeout(30):
                await done
        except TimeoutError:
            latencies.append(float("inf"))
            continue
        assert inbox.first_at is not None
        latencies.append(inbox.first_at - queued)


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


async def serve(args: argparse.Namespace) -> None:
    """Emulator side: users exist, wait for the bot, run the reporters until every subscriber
    got the broadcast (or the time is up), then report."""
    control = await _stdin_reader()
    emulator = BroadcastEmulator(args.subscribers)
    emulator.throttle(PER_SECOND)
    for n in range(args.subscribers):
        emulator.user(FIRST_SUBSCRIBER + n)
    await emulator.start()
    try:
        _emit({"event": "ready", "base_url": emulator.base_url, "token": emulator.token})
        await control.readline()  # the bot was started
        async with asyncio.timeout(30):
            await emulator.first_poll.wait()
        latencies: list[float] = []
        reporters = [
            asyncio.create_task(_reporter(emulator, FIRST_REPORTER + n, args.think, latencies))
            for n in range(args.reporters)
        ]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(args.timeout):
                await emulator.all_served.wait()
        for task in reporters:
            task.cancel()
        await asyncio.gather(*reporters, return_exceptions=True)
        bulk = emulator.bulk_times
        start, end = (bulk[0], bulk[-1]) if bulk else (0.0, 0.0)
        replies = sum(1 for t in emulator.reply_times if start <= t <= end)
        finite = [v for v in latencies if v != float("inf")]
        _emit(
            {
                "event": "result",
                "duration_s": end - start,
                "bulk_messages": len(bulk),
                "bulk_chats": len(emulator.bulk_chats),
                "replies_during": replies,
                "throttled_429": emulator.throttled,
                "reply_count": len(latencies),
                "reply_timeouts": len(latencies) - len(finite),
                "p50_s": _quantile(latencies, 0.50),
                "p99_s": _quantile(latencies, 0.99),
                "max_s": max(latencies, default=None),
            }
        )
        while await control.readline():
            pass
    finally:
        await emulator.stop()


# -- the caller --------------------------------------------------------------------------------


async def seed(database: Path, subscribers: int) -> None:
    """The subscribers and their broadcast rows, straight into the database."""
    from storage import outbox, users
    from storage.database import Database
    from storage.outbox import Outgoing

    now = datetime.now(UTC)
    db = await Database.open(database, now=now)
    try:
        alert = Outgoing(
            "⚠️ Alerte validée ML-2026-000042 : attaque armée signalée à Mopti, cercle de "
            "Bandiagara. Évitez la route nationale 15 ce soir.",
            buttons=((("👍 Reçu", "0:ack"),),),
        )
        async with db.transaction() as conn:
            for n in range(subscribers):
                user, _ = await users.get_or_create(
                    conn, "telegram", str(FIRST_SUBSCRIBER + n), now
                )
                await outbox.enqueue(
                    conn,
                    key=f"alert:42:user:{user.id}",
                    channel="telegram",
                    chat_id=str(FIRST_SUBSCRIBER + n),
                    outgoing=alert,
                    now=now,
                    kind="alert",
                    user_id=user.id,
                    batch=BATCH,
                )
    finally:
        await db.close()


def statuses(database: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(database, timeout=5)) as conn:
        return dict(conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())


async def run(args: argparse.Namespace) -> int:
    log(f"measuring {_revision()}: {args.subscribers} subscribers, {args.reporters} reporters")
    emulator: asyncio.subprocess.Process | None = None
    process: asyncio.subprocess.Process | None = None
    with tempfile.TemporaryDirectory(prefix="kibaru-bench-broadcast-", dir=args.db_dir) as folder:
        tmp = Path(folder)
        database = tmp / "kibaru.db"
        try:
            emulator = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "benchmarks.broadcast",
                "--serve",
                f"--subscribers={args.subscribers}",
                f"--reporters={args.reporters}",
                f"--think={args.think}",
                f"--timeout={args.timeout}",
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            ready = await _read_json(emulator.stdout, 60)
            seeded_at = time.monotonic()
            await seed(database, args.subscribers)
            log(f"seeded in {time.monotonic() - seeded_at:.1f} s; starting the bot")
            with (tmp / "bot.log").open("wb") as output:
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    str(ROOT / "run_bot.py"),
                    cwd=tmp,
                    env=_bot_env(ready["base_url"], ready["token"], database),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=output,
                    stderr=output,
                )
            assert emulator.stdin is not None
            emulator.stdin.write(json.dumps({"bot_pid": process.pid}).encode() + b"\n")
            await emulator.stdin.drain()
            result = await _read_json(emulator.stdout, args.timeout + 60)
        finally:
            await _stop(process, "kibaru")
            await _close_emulator(emulator)
        final = statuses(database)
        bot_log = (tmp / "bot.log").read_text(errors="replace")
    return report(args, result, final, bot_log)


def report(args: argparse.Namespace, r: dict[str, Any], final: dict[str, int], bot_log: str) -> int:
    duration = r["duration_s"] or float("nan")
    total = r["bulk_messages"] + r["replies_during"]
    rate = total / duration
    bulk_rate = r["bulk_messages"] / duration
    lost = args.subscribers - r["bulk_chats"]
    duplicates = r["bulk_messages"] - r["bulk_chats"]
    p99 = r["p99_s"]
    print(f"subscribers: {args.subscribers}, reporters: {args.reporters} (think {args.think} s)")
    print(f"broadcast duration: {duration:.1f} s")
    print(
        f"sustained: {rate:.2f} msgs/s overall ({bulk_rate:.2f} bulk + "
        f"{r['replies_during'] / duration:.2f} replies)"
    )
    print(f"429s received: {r['throttled_429']}")
    print(f"lost messages: {lost} (duplicates: {duplicates})")
    print(f"outbox rows after the run: {final}")
    print(
        f"interactive replies: {r['reply_count']} (timeouts {r['reply_timeouts']}), "
        f"p50 {1000 * (r['p50_s'] or 0):.0f} ms, p99 {1000 * (p99 or 0):.0f} ms, "
        f"max {1000 * (r['max_s'] or 0):.0f} ms"
    )
    errors = sum(1 for line in bot_log.splitlines() if "ERROR" in line or "Traceback" in line)
    print(f"bot log: {errors} error line(s)")
    met = rate >= TARGET_RATE and lost == 0 and p99 is not None and p99 < TARGET_P99_S
    print(
        f"targets (≥ {TARGET_RATE} msgs/s, 0 lost, p99 < {TARGET_P99_S:.0f} s): "
        + ("met" if met else "missed")
    )
    return 0 if met else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--reporters", type=int, default=20)
    parser.add_argument("--think", type=float, default=2.0, help="reporters' pause (s)")
    parser.add_argument("--timeout", type=float, default=900.0, help="broadcast time limit (s)")
    parser.add_argument("--db-dir", type=Path, help="where the database goes (default: /tmp)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args))
        return 0
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
