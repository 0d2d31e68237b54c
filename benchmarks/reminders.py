"""Do the reminders of a whole committee, all due at the same moment, reach everyone in time?
Prints the figures to stdout (progress to stderr).

    .venv/bin/python benchmarks/reminders.py [--members 1000] [--lead 10] [--reporters 0]

The database is seeded through the real code: a committee of ``--members`` members (each
request approved by a secretary, as `storage.committees` records it), a statutory session,
every member invited and answering "yes", and each one's reminders queued by
`handlers.sessions.invitations.schedule_reminders`. With the default reminders (24 h and 2 h
before the session) and a session starting two hours after the due moment, only the 2-hour one
is still ahead: one outbox row per member, kind 'reminder', ``not_before`` the due moment,
``expires_at`` the session's start. The members' languages alternate between French, Bambara
and English, so each reminder is in its reader's language. The due moment is ``--lead``
seconds after the seeding begins: meanwhile the real `run_bot.py` starts, and its outbox
sender waits for the moment on its own.

The Bot API emulator runs in a process of its own (`benchmarks/bulk_emulator.py`), throttled
like Telegram (429 above 30 messages in any second). Optionally ``--reporters`` people chat
with the bot meanwhile, sharing the 30/s.

Printed: the time from the due moment to the last reminder delivered (target ≤ 40 s: at 30
messages/s, 1,000 take at least 33.3 s) and to the first (how late the sender woke), the rate
between first and last, the 429s, the members never reached (lost) and reminded twice, and the
reminder rows' final statuses. ``--json FILE`` also writes them as JSON (for
`benchmarks/run_all.py`). Everything is bounded, and every process started here is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.broadcast import statuses
from benchmarks.harness import arguments, bot_errors, emulator_process, log, revision, write_json

FIRST_MEMBER = 610_000_000
SECRETARY = 609_999_999
LANGUAGES = ("fr", "bm", "en")
TARGET_LAST_S = 40.0


async def seed(database: Path, members: int, due: datetime) -> int:
    """The committee, its session, the members' "yes" and their reminders; how many
    reminders were queued."""
    from bot.i18n import Catalogs
    from bot.settings import Settings
    from handlers.sessions.common import Context, new_code
    from handlers.sessions.invitations import schedule_reminders
    from storage import committees, sessions, users
    from storage.committees import MemberType
    from storage.database import Database

    settings = Settings(telegram_token=None, database_path=database)
    catalogs = Catalogs(settings.timezone)
    now = datetime.now(UTC)
    kinds = list(MemberType)
    db = await Database.open(database, now=now)
    try:
        async with db.transaction() as conn:
            committee = await committees.by_code(conn, "ccsc_bamako_c1")
            assert committee is not None, "the committees of Bamako come with migration 0008"
            secretary, _ = await users.get_or_create(conn, "telegram", str(SECRETARY), now)
            session = await sessions.create(
                conn,
                committee_id=committee.id,
                kind="statutory",
                title="Réunion statutaire mensuelle",
                starts_at=due + min(settings.reminders),
                place="Mairie de la Commune I",
                agenda="Sécurité des marchés ; circulation des motos la nuit",
                summary=None,
                checkin_code=new_code(),
                created_by=secretary.id,
                now=now,
            )
            assert session is not None
            ctx = Context(
                conn,
                now,
                settings,
                lambda language: catalogs.get(language or settings.default_language),
            )
            queued = 0
            for n in range(members):
                user, _ = await users.get_or_create(conn, "telegram", str(FIRST_MEMBER + n), now)
                await users.set_language(conn, user.id, LANGUAGES[n % len(LANGUAGES)])
                member = await committees.request(
                    conn, committee.id, user.id, kinds[n % len(kinds)], now
                )
                assert member is not None
                await committees.decide(conn, member.id, True, secretary.id, now)
                await sessions.invite(conn, session.id, user.id)
                await sessions.answer(conn, session.id, user.id, "yes", now)
                speaker = await users.get(conn, user.id)
                assert speaker is not None
                queued += await schedule_reminders(ctx, session, speaker)
    finally:
        await db.close()
    return queued


async def run(args: argparse.Namespace) -> int:
    log(f"measuring {revision()}: {args.members} members, due in {args.lead:.0f} s")
    # From the first poll until every member is reached: the lead, the 33 s that 1,000
    # messages take at 30/s, three times over.
    timeout = args.lead + max(60.0, 3 * args.members / 30)
    with tempfile.TemporaryDirectory(prefix="kibaru-bench-reminders-", dir=args.db_dir) as folder:
        tmp = Path(folder)
        async with emulator_process(
            "benchmarks.bulk_emulator",
            f"--first-chat={FIRST_MEMBER}",
            f"--recipients={args.members}",
            f"--reporters={args.reporters}",
            f"--timeout={timeout}",
            folder=tmp,
        ) as running:
            # A session's start is stored to the second, so its reminders' due moment too.
            due = (datetime.now(UTC) + timedelta(seconds=args.lead)).replace(microsecond=0)
            # The same moment on the monotonic clock the emulator stamps with.
            due_at = time.monotonic() + (due.timestamp() - time.time())
            seeded_at = time.monotonic()
            queued = await seed(running.database, args.members, due)
            if queued != args.members:  # a reminder already due is not queued
                raise RuntimeError(
                    f"{queued} of {args.members} reminders queued: the due moment passed "
                    "during the seeding; give a longer --lead"
                )
            log(
                f"{queued} reminders queued in {time.monotonic() - seeded_at:.1f} s; "
                f"due in {due_at - time.monotonic():.1f} s; starting the bot"
            )
            await running.start_bot()
            result = await running.result(timeout + 60)
        if result.get("error"):
            raise RuntimeError(result["error"])
        final = statuses(running.database, "reminder")
        bot_log = running.bot_log.read_text(errors="replace")
    return report(args, queued, due_at, result, final, bot_log)


def report(
    args: argparse.Namespace,
    queued: int,
    due_at: float,
    r: dict[str, Any],
    final: dict[str, int],
    bot_log: str,
) -> int:
    first, last = r["first_bulk_at"], r["last_bulk_at"]
    last_s = last - due_at if last is not None else None
    first_s = first - due_at if first is not None else None
    rate = (r["bulk_messages"] - 1) / r["duration_s"] if r["duration_s"] else None
    lost = args.members - r["bulk_chats"]
    duplicates = r["bulk_messages"] - r["bulk_chats"]
    polling_before_due = due_at - r["first_poll_at"]
    errors = bot_errors(bot_log)

    def seconds(value: float | None) -> str:
        return "–" if value is None else f"{value:.1f} s"

    print(f"members: {args.members}, reminders queued: {queued}, reporters: {args.reporters}")
    print(f"the bot was polling {polling_before_due:.1f} s before the due moment")
    print(f"due -> first reminder delivered: {seconds(first_s)}")
    print(f"due -> last reminder delivered: {seconds(last_s)}")
    print(f"rate: {rate:.2f} msgs/s" if rate else "rate: –")
    print(f"429s received: {r['throttled_429']}")
    print(f"lost: {lost} (reminded twice: {duplicates})")
    print(f"reminder rows after the run: {final}")
    print(f"bot log: {errors} error line(s)")
    if polling_before_due < 0:
        log("  ! the bot was not up at the due moment: give it a longer --lead")
    met = last_s is not None and last_s <= TARGET_LAST_S and lost == 0 and duplicates == 0
    verdict = "met" if met else "missed"
    print(f"target (last ≤ {TARGET_LAST_S:.0f} s after due, 0 lost, none twice): {verdict}")
    write_json(
        args.json,
        "reminders",
        {
            "ok": r["bulk_messages"] > 0,
            "met": met,
            "targets": {"last_s": TARGET_LAST_S, "lost": 0},
            "members": args.members,
            "queued": queued,
            "reporters": args.reporters,
            "polling_before_due_s": polling_before_due,
            "first_s": first_s,
            "last_s": last_s,
            "rate": rate,
            "throttled_429": r["throttled_429"],
            "lost": lost,
            "duplicates": duplicates,
            "outbox": final,
            "reply_p99_s": r["p99_s"],
            "bot_error_lines": errors,
        },
    )
    return 0 if met else 1


def main() -> int:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000, help="committee members (1000)")
    parser.add_argument(
        "--lead",
        type=float,
        default=10.0,
        help="seconds from the seeding's start to the due moment: the seeding and the bot's "
        "start-up must fit in it (default: 10)",
    )
    parser.add_argument("--reporters", type=int, default=0, help="people chatting meanwhile")
    args = parser.parse_args()
    if args.members < 1 or args.lead < 2:
        parser.error("--members: at least 1; --lead: at least 2")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
