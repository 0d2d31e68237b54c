"""Does a broadcast reach everyone at Telegram's pace while people keep chatting? Prints the
figures to stdout (progress to stderr).

    .venv/bin/python benchmarks/broadcast.py [--subscribers 10000] [--reporters 20] [--think 2]

The Bot API emulator runs in a process of its own (`benchmarks/bulk_emulator.py`), throttled
like Telegram: above 30 messages in any second it answers 429 with ``retry_after`` 1. The bot is the
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

``--json FILE`` also writes the figures as JSON (for `benchmarks/run_all.py`). Everything is
bounded (``--timeout``), and every process started here is stopped in `finally`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import arguments, bot_errors, emulator_process, log, revision, write_json

FIRST_SUBSCRIBER = 600_000_000
BATCH = "bench-broadcast"
TARGET_RATE = 28.5
TARGET_P99_S = 1.0


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


def statuses(database: Path, kind: str | None = None) -> dict[str, int]:
    """How many outbox rows (of one kind, or all) ended in each status."""
    with contextlib.closing(sqlite3.connect(database, timeout=5)) as conn:
        rows = conn.execute(
            "SELECT status, COUNT(*) FROM outbox WHERE ? IS NULL OR kind = ? GROUP BY status",
            (kind, kind),
        ).fetchall()
    return dict(rows)


async def run(args: argparse.Namespace) -> int:
    log(f"measuring {revision()}: {args.subscribers} subscribers, {args.reporters} reporters")
    with tempfile.TemporaryDirectory(prefix="kibaru-bench-broadcast-", dir=args.db_dir) as folder:
        tmp = Path(folder)
        async with emulator_process(
            "benchmarks.bulk_emulator",
            f"--first-chat={FIRST_SUBSCRIBER}",
            f"--recipients={args.subscribers}",
            f"--reporters={args.reporters}",
            f"--think={args.think}",
            f"--timeout={args.timeout}",
            folder=tmp,
        ) as running:
            seeded_at = time.monotonic()
            await seed(running.database, args.subscribers)
            log(f"seeded in {time.monotonic() - seeded_at:.1f} s; starting the bot")
            await running.start_bot()
            result = await running.result(args.timeout + 60)
        if result.get("error"):
            raise RuntimeError(result["error"])
        final = statuses(running.database)
        bot_log = running.bot_log.read_text(errors="replace")
    return report(args, result, final, bot_log)


def report(args: argparse.Namespace, r: dict[str, Any], final: dict[str, int], bot_log: str) -> int:
    duration = r["duration_s"] or float("nan")
    total = r["bulk_messages"] + r["replies_during"]
    rate = total / duration
    bulk_rate = r["bulk_messages"] / duration
    lost = args.subscribers - r["bulk_chats"]
    duplicates = r["bulk_messages"] - r["bulk_chats"]
    p99 = r["p99_s"]
    errors = bot_errors(bot_log)
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
    print(f"bot log: {errors} error line(s)")
    interactive_met = not args.reporters or (p99 is not None and p99 < TARGET_P99_S)
    met = rate >= TARGET_RATE and lost == 0 and interactive_met
    print(
        f"targets (≥ {TARGET_RATE} msgs/s, 0 lost, p99 < {TARGET_P99_S:.0f} s): "
        + ("met" if met else "missed")
    )
    write_json(
        args.json,
        "broadcast",
        {
            "ok": r["bulk_messages"] > 0,
            "met": met,
            "targets": {"rate": TARGET_RATE, "lost": 0, "p99_s": TARGET_P99_S},
            "subscribers": args.subscribers,
            "reporters": args.reporters,
            "think_s": args.think,
            "duration_s": r["duration_s"],
            "rate": rate if r["duration_s"] else None,
            "bulk_rate": bulk_rate if r["duration_s"] else None,
            "throttled_429": r["throttled_429"],
            "lost": lost,
            "duplicates": duplicates,
            "outbox": final,
            "replies": r["reply_count"],
            "reply_timeouts": r["reply_timeouts"],
            "p50_s": r["p50_s"],
            "p99_s": p99,
            "max_s": r["max_s"],
            "bot_error_lines": errors,
        },
    )
    return 0 if met else 1


def main() -> int:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--reporters", type=int, default=20)
    parser.add_argument("--think", type=float, default=2.0, help="reporters' pause (s)")
    parser.add_argument("--timeout", type=float, default=900.0, help="broadcast time limit (s)")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
