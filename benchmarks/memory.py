"""How much memory does Kibaru take with many people, and how fast does it start? Prints the
figures to stdout (progress to stderr).

    .venv/bin/python benchmarks/memory.py [--users 10000] [--conversations 2000] [--starts 200]

The database holds ``--users`` people who went through the onboarding, ``--conversations`` of
them in the middle of an incident report, spread over its 11 questions (the category, when,
what time, where, the commune, the place, what happened, the people hurt, the evidence, the
contact, the summary). The rows are the real code's: for each question, one person is driven
there through the conversation engine (`Conversations.handle`, which writes their conversation
row and their report draft), and the others at that question get copies of those rows; the
rest rest at the main menu. Then the real `run_bot.py` starts against the Bot API emulator
(in a process of its own) and:

* its start-up time is measured, from the process's spawn to its first getUpdates;
* every person with an open conversation sends the answer to their question, all at once, so
  that the bot loads each one's state (each first reply is checked: it must be the next
  question, i.e. the conversation resumed where it was; at the summary, the report is sent),
  and ``--starts`` people resting at the menu send /start;
* the bot's peak resident memory (VmHWM) is read once everyone has been answered, with its
  resident memory right after start-up for comparison.

Targets (issue 7): peak RSS ≤ 80 MB, start-up ≤ 1.5 s. ``--json FILE`` also writes the figures
as JSON (for `benchmarks/run_all.py`). Everything is bounded, and every process started here is
stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import (
    arguments,
    bot_errors,
    emulator_process,
    log,
    memory_mb,
    revision,
    write_json,
)

if TYPE_CHECKING:
    from storage.database import Database

FIRST_CHAT = 620_000_000
# What a person types to answer each question of the report, in order (numbers pick a button,
# as people do on a keyboard); the state at question k is the one after the first k inputs.
INPUTS = (
    "/signaler",
    "1",  # the category: armed attack
    "3",  # when: yesterday
    "4",  # what time: in the evening
    "Bamako",  # where: a region typed
    "1",  # which commune of Bamako
    "Près du grand marché",  # the place
    "Des hommes armés ont attaqué le marché",  # what happened
    "2",  # people hurt: nobody
    "passer",  # evidence: none
    "1",  # contact: stay anonymous
    "1",  # the summary: send
)
# The first reply to INPUTS[k] of someone at question k: the next question, then the receipt.
EXPECTED = (
    "Choisissez le type d'incident",
    "Quand est-ce arrivé",
    "À quelle heure",
    "Où est-ce arrivé",
    "Région : Bamako",
    "préciser le lieu",
    "Racontez ce qui s'est passé",
    "Y a-t-il des personnes",
    "Avez-vous des photos",
    "Les analystes peuvent-ils",
    "Votre signalement",
    "Signalement reçu",
)
QUESTIONS = len(INPUTS) - 1  # the questions an open conversation can be at (1..11)
START_EXPECTED = "Bon retour sur Kibaru"
TARGET_RSS_MB = 80.0
TARGET_STARTUP_S = 1.5
STARTUP_TIMEOUT = 30.0
REPLY_TIMEOUT = 60.0  # an update -> its first reply, with everyone sending at once


def question_of(person: int, conversations: int) -> int:
    """Which question person number ``person`` is at: 1..11 for the open conversations,
    0 (the main menu) for the others."""
    return 1 + person % QUESTIONS if person < conversations else 0


def template_of(question: int, users: int) -> int:
    """The person driven through the engine to that question (the others get copies)."""
    return question - 1 if question else users - 1


# -- the seeding ---------------------------------------------------------------------------


async def seed(database: Path, users: int, conversations: int) -> None:
    from bot.app import Kibaru
    from bot.inbound import CommandEvent, InboundEvent, Sender, TextEvent
    from bot.settings import Settings

    kibaru = await Kibaru.open(Settings(telegram_token=None, database_path=database))
    try:
        for question in range(QUESTIONS + 1):
            chat = str(FIRST_CHAT + template_of(question, users))
            sender = Sender("telegram", chat, language_hint="fr")
            # the onboarding (/start, then French by its number), then the answers
            events: list[InboundEvent] = [
                CommandEvent(sender, name="start"),
                TextEvent(sender, text="1"),
            ]
            for text in INPUTS[:question]:
                if text.startswith("/"):
                    events.append(CommandEvent(sender, name=text[1:]))
                else:
                    events.append(TextEvent(sender, text=text))
            for event in events:
                await kibaru.conversations.handle(event)
        await _copy_templates(kibaru.db, users, conversations)
    finally:
        await kibaru.close()


async def _copy_templates(db: Database, users: int, conversations: int) -> None:
    """Everyone else, with a copy of the conversation row and report draft of the person
    at their question."""
    from storage.database import to_db

    now = to_db(datetime.now(UTC))
    templates = {template_of(q, users) for q in range(QUESTIONS + 1)}
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO users (channel, chat_id, language, created_at) VALUES (?, ?, 'fr', ?)",
            [("telegram", str(FIRST_CHAT + n), now) for n in range(users) if n not in templates],
        )
        cursor = await conn.execute("SELECT id, chat_id FROM users WHERE channel = 'telegram'")
        ids = {int(chat): user_id for user_id, chat in await cursor.fetchall()}
        pairs = [
            (
                ids[FIRST_CHAT + n],
                ids[FIRST_CHAT + template_of(question_of(n, conversations), users)],
            )
            for n in range(users)
            if n not in templates
        ]
        await conn.executemany(
            "INSERT INTO conversations (user_id, frames, prompt, asked, last_event_id,"
            " updated_at) SELECT ?, frames, prompt, asked, last_event_id, updated_at"
            " FROM conversations WHERE user_id = ?",
            pairs,
        )
        await conn.executemany(
            "INSERT INTO report_drafts (user_id, answers, step, updated_at)"
            " SELECT ?, answers, step, updated_at FROM report_drafts WHERE user_id = ?",
            pairs,
        )


# -- the emulator process ------------------------------------------------------------------


async def serve(args: argparse.Namespace) -> None:
    from benchmarks.emulator_server import TimedEmulator, serve_load

    emulator = TimedEmulator()
    await serve_load(emulator, lambda bot_pid: _load(emulator, bot_pid, args), STARTUP_TIMEOUT)


async def _load(emulator: Any, bot_pid: int, args: argparse.Namespace) -> dict[str, Any]:
    """Everyone with an open conversation answers, and some others say /start, at once."""
    from benchmarks.emulator_server import Inbox, quantile

    after_startup = memory_mb(bot_pid, "VmRSS") if bot_pid else None
    latencies: list[float] = []
    wrong: list[str] = []

    async def person(n: int) -> None:
        question = question_of(n, args.conversations)
        text, expected = (INPUTS[question], EXPECTED[question]) if question else ("/start", "")
        inbox = emulator.inboxes.setdefault(FIRST_CHAT + n, Inbox())
        done = inbox.expect(1)
        queued = time.monotonic()
        await emulator.user(FIRST_CHAT + n, "Awa", "fr").send_text(text)
        async with asyncio.timeout(REPLY_TIMEOUT):
            await done
        assert inbox.first_at is not None
        latencies.append(inbox.first_at - queued)
        reply = inbox.first_message.get("text", "")
        if (expected or START_EXPECTED) not in reply:
            wrong.append(f"person {n} at question {question}: {reply[:60]!r}")

    senders = range(args.conversations + args.starts)  # the others rest at the menu
    started = time.monotonic()
    outcomes = await asyncio.gather(*(person(n) for n in senders), return_exceptions=True)
    return {
        "first_poll_at": emulator.first_poll_at,
        "rss_after_startup_mb": after_startup,
        "updates": len(senders),
        "answered": len(latencies),
        "timeouts": sum(isinstance(o, TimeoutError) for o in outcomes),
        "wrong": len(wrong),
        "wrong_examples": wrong[:5],
        "wall_s": time.monotonic() - started,
        "p50_s": quantile(latencies, 0.5),
        "p99_s": quantile(latencies, 0.99),
    }


# -- the caller ----------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    log(
        f"measuring {revision()}: {args.users} users, {args.conversations} open conversations, "
        f"{args.starts} /start"
    )
    with tempfile.TemporaryDirectory(prefix="kibaru-bench-memory-", dir=args.db_dir) as folder:
        tmp = Path(folder)
        async with emulator_process(
            "benchmarks.memory",
            "--serve",
            f"--users={args.users}",
            f"--conversations={args.conversations}",
            f"--starts={args.starts}",
            folder=tmp,
        ) as running:
            seeded_at = time.monotonic()
            await seed(running.database, args.users, args.conversations)
            log(f"seeded in {time.monotonic() - seeded_at:.1f} s; starting the bot")
            bot = await running.start_bot()
            result = await running.result(STARTUP_TIMEOUT + 2 * REPLY_TIMEOUT)
            peak, resident = memory_mb(bot.pid), memory_mb(bot.pid, "VmRSS")
        if result.get("error"):
            raise RuntimeError(result["error"])
        startup_s = result["first_poll_at"] - running.spawned_at
        bot_log = running.bot_log.read_text(errors="replace")
    return report(args, result, startup_s, peak, resident, bot_log)


def report(
    args: argparse.Namespace,
    r: dict[str, Any],
    startup_s: float,
    peak: float | None,
    resident: float | None,
    bot_log: str,
) -> int:
    errors = bot_errors(bot_log)

    def mb(value: float | None) -> str:
        return "–" if value is None else f"{value:.1f} MB"

    print(f"users: {args.users}, open conversations: {args.conversations}, /start: {args.starts}")
    print(f"start-up to the first getUpdates: {startup_s:.2f} s")
    print(f"resident memory after start-up: {mb(r['rss_after_startup_mb'])}")
    print(
        f"updates answered: {r['answered']}/{r['updates']} in {r['wall_s']:.1f} s "
        f"(timeouts {r['timeouts']}, wrong replies {r['wrong']}), "
        f"p50 {1000 * (r['p50_s'] or 0):.0f} ms, p99 {1000 * (r['p99_s'] or 0):.0f} ms"
    )
    for example in r["wrong_examples"]:
        log(f"  ! {example}")
    print(f"peak resident memory (VmHWM): {mb(peak)}; resident at the end: {mb(resident)}")
    print(f"bot log: {errors} error line(s)")
    complete = r["answered"] == r["updates"] and not r["wrong"]
    met = complete and peak is not None and peak <= TARGET_RSS_MB and startup_s <= TARGET_STARTUP_S
    print(
        f"targets (RSS ≤ {TARGET_RSS_MB:.0f} MB, start-up ≤ {TARGET_STARTUP_S} s, every "
        "conversation resumed): " + ("met" if met else "missed")
    )
    write_json(
        args.json,
        "memory",
        {
            "ok": complete,
            "met": met,
            "targets": {"peak_rss_mb": TARGET_RSS_MB, "startup_s": TARGET_STARTUP_S},
            "users": args.users,
            "conversations": args.conversations,
            "starts": args.starts,
            "startup_s": startup_s,
            "rss_after_startup_mb": r["rss_after_startup_mb"],
            "peak_rss_mb": peak,
            "rss_end_mb": resident,
            "updates": r["updates"],
            "answered": r["answered"],
            "timeouts": r["timeouts"],
            "wrong": r["wrong"],
            "p50_s": r["p50_s"],
            "p99_s": r["p99_s"],
            "bot_error_lines": errors,
        },
    )
    return 0 if met else 1


def main() -> int:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000, help="people in the database")
    parser.add_argument(
        "--conversations", type=int, default=2000, help="of whom in the middle of a report"
    )
    parser.add_argument("--starts", type=int, default=200, help="of the others, who send /start")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.conversations < QUESTIONS or args.users <= args.conversations + args.starts:
        parser.error(
            f"--conversations: at least {QUESTIONS} (one per question); --users: more than "
            "--conversations plus --starts"
        )
    if args.serve:
        asyncio.run(serve(args))
        return 0
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
