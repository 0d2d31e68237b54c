"""What the conversation engine and its database cost per event, without any HTTP.

    .venv/bin/python benchmarks/engine.py [--users 300] [--db-dir DIR]

Drives `Conversations.handle` directly with the interactive benchmark's scenario (/start, a
language, help by number, /langue, another language, /aide, /menu) for N users in turn, on a
fresh SQLite file, and prints a Markdown table: events, wall and CPU time per event, and the
database round trips per event (each aiosqlite statement is one trip to its worker thread).
Separating this from `interactive.py` shows what is Kibaru's own cost and what is the HTTP
stack's, which both bots share.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosqlite import Connection

from bot.app import Kibaru
from bot.inbound import CommandEvent, InboundEvent, Sender, TextEvent
from bot.settings import Settings


def scenario(sender: Sender) -> list[InboundEvent]:
    return [
        CommandEvent(sender, name="start"),
        TextEvent(sender, text="1"),
        TextEvent(sender, text="5"),
        CommandEvent(sender, name="langue"),
        TextEvent(sender, text="3"),
        CommandEvent(sender, name="aide"),
        CommandEvent(sender, name="menu"),
    ]


async def run(users: int, db_dir: str | None) -> str:
    folder = Path(tempfile.mkdtemp(dir=db_dir))
    kibaru = await Kibaru.open(Settings(telegram_token=None, database_path=folder / "bench.db"))
    trips = 0
    original = Connection._execute

    async def counting(self: Connection, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal trips
        trips += 1
        return await original(self, fn, *args, **kwargs)

    Connection._execute = counting  # type: ignore[method-assign]
    events = 0
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        for user in range(users):
            for event in scenario(Sender("bench", str(user))):
                await kibaru.conversations.handle(event)
                events += 1
    finally:
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        Connection._execute = original  # type: ignore[method-assign]
        await kibaru.close()
    return "\n".join(
        [
            "| events | wall per event | CPU per event | database trips per event |",
            "|---|---|---|---|",
            f"| {events} | {wall / events * 1000:.3f} ms | {cpu / events * 1000:.3f} ms "
            f"| {trips / events:.1f} |",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument(
        "--db-dir", default=None, help="where the database goes (/dev/shm: no fsync)"
    )
    args = parser.parse_args()
    print(asyncio.run(run(args.users, args.db_dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
