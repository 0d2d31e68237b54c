"""Crash: the real bot process is killed with SIGKILL at random moments while people use it,
restarted, many times in a row, and it keeps DESIGN.md's promises.

200 reporters file incident reports (onboarding, then one report after another: a pin in
Bamako, or for one in twenty Mopti and a cercle, which the Mopti validators review; one in five
adds a photo), 20 CCS-C members answer a meeting's invitation (one to three times), and 3
validators validate the review posts that reach them (the alert goes to the 10 members who
follow Mopti), all at once against `run_bot.py` on the Bot API emulator. The reporters join
over the first 40 seconds, as a rumour spreads. Before the first start the database holds the
members, the validators, the meeting's invitations queued, a training's reminders that fell due
while the bot was down, and an announcement to every reporter held until 15 s in.

Each cycle starts the bot and kills it in a phase drawn from the seed: while starting, at a
random moment, a few milliseconds into the handling of a batch, inside the delivery of the
n-th reply, of a report's receipt, or of an outbox message. Right after each kill, before the
restart, the database file is opened with sqlite3 and must show:

1. `PRAGMA integrity_check` = ok, and no broken foreign key;
2. every report whose receipt ("reference ML-…") the emulator delivered, with its reporter;
3. every reporter's conversation at the step of the last question they were answered, or of
   the one after it if their answer in flight was committed (nothing lost, nothing skipped);
4. the outbox rows left "sending": the messages in flight, the only ones that may arrive
   twice.

After each restart every person checks that the bot carries on at the question the database
holds (tests/crash_people.py). A last clean run lets everyone finish what they are doing and
drains the outbox, then SIGTERM. At the end: each "Envoyer" made exactly one report and its
reporter read its reference, every conversation is where its person was last answered (a report
half done keeps its draft), every photo acknowledged is whole on disk, every member's last
answer is the one stored, every validation a validator was told of is stored, every outbox row
is sent (or rightly cancelled, or queued for later), and each outbox message reached its chat
once, plus at most once per kill that caught it in flight; the bot logged no error.

The seed and the number of cycles replay a run (the moments are drawn from the seed; the
interleaving of 223 people with the bot is not exactly reproducible):

    KIBARU_CRASH_SEED=7 KIBARU_CRASH_CYCLES=100 .venv/bin/python -m pytest tests/test_crash.py -s

CI runs 10 cycles with a fixed seed in about 45 s; the summary is printed either way.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import Kibaru
from bot.settings import Settings
from handlers.sessions.common import Context
from handlers.sessions.invitations import invite_members, schedule_reminders
from storage import announcements, committees, outbox, roles, sessions, subscriptions, users
from storage.committees import MemberType
from storage.outbox import Outgoing
from storage.roles import Role
from storage.subscriptions import AreaKind
from tests.crash_bot import BotProcess, CrashEmulator, Kill, Killer, Phase
from tests.crash_checks import (
    AfterKill,
    Delivery,
    Outbox,
    after_kill,
    outbox_at_end,
    people_at_end,
)
from tests.crash_people import Member, Person, Phone, Reporter, Validator, World

SEED = int(os.environ.get("KIBARU_CRASH_SEED", "20261123"))
CYCLES = int(os.environ.get("KIBARU_CRASH_CYCLES", "10"))
REPORTERS, MEMBERS, VALIDATORS = 200, 20, 3
FIRST_REPORTER, FIRST_MEMBER, FIRST_VALIDATOR = 710_000_000, 720_000_000, 730_000_000
THINK = (0.3, 1.5)  # seconds a person takes to read and answer: a busy bot, not a saturated one
DRAIN_TIMEOUT = 90.0
ANNOUNCEMENT_AT = 15.0  # seconds after the first start: a broadcast to every reporter


@dataclass
class Cycle:
    kill: Kill
    after: AfterKill
    waiting: int  # reporters whose last act had no answer yet
    receipts: int  # receipts delivered so far
    problems: list[str] = field(default_factory=list)


async def seed(settings: Settings) -> int:
    """Members, validators, a meeting with its invitations queued, a training whose
    reminders fell due while the bot was down, and an announcement to every reporter (who
    wrote to the bot once, long ago) held until the load is under way; the meeting's id."""
    kibaru = await Kibaru.open(settings)
    try:
        now = kibaru.clock.now()
        async with kibaru.db.transaction() as conn:
            reporters = [
                (await users.get_or_create(conn, "telegram", str(FIRST_REPORTER + n), now))[0]
                for n in range(REPORTERS)
            ]
            committee = await committees.by_code(conn, "ccsc_bamako_c4")
            assert committee is not None
            translator = kibaru.conversations.translator_for
            members = []
            for n in range(MEMBERS):
                user, _ = await users.get_or_create(conn, "telegram", str(FIRST_MEMBER + n), now)
                await users.set_language(conn, user.id, "fr")
                request = await committees.request(
                    conn, committee.id, user.id, MemberType.CIVIL_SOCIETY, now
                )
                assert request is not None
                await committees.decide(conn, request.id, True, user.id, now)
                members.append(user)
                if n < MEMBERS // 2:  # they follow Mopti: validated alerts reach them
                    await subscriptions.subscribe(
                        conn, user.id, AreaKind.REGION, "mopti", 1, "now", None, now
                    )
            for n in range(VALIDATORS):  # the last one wrote the announcement
                user, _ = await users.get_or_create(conn, "telegram", str(FIRST_VALIDATOR + n), now)
                await users.set_language(conn, user.id, "fr")
                await roles.grant(conn, user.id, Role.VALIDATOR, now, "mopti")
            # as /annonce queues it (handlers/dissemination/announcements.py)
            send_at = now + timedelta(seconds=ANNOUNCEMENT_AT)
            announcement = await announcements.create(
                conn, user.id, "area", None, "Réunion d'information samedi.", send_at, now
            )
            t = translator(None)
            for reporter in reporters:
                await outbox.enqueue(
                    conn,
                    key=f"announcement:{announcement.id}:{reporter.id}",
                    kind="announcement",
                    channel="telegram",
                    chat_id=reporter.chat_id,
                    user_id=reporter.id,
                    outgoing=Outgoing(
                        t._("📣 Annonce de l'équipe Kibaru") + "\n\n" + announcement.text
                    ),
                    now=now,
                    not_before=send_at,
                    batch=announcement.batch,
                )
            meeting = await sessions.create(
                conn,
                committee_id=committee.id,
                kind="statutory",
                title="Réunion statutaire",
                starts_at=now + timedelta(days=3),
                place="Mairie de la Commune IV",
                agenda=None,
                summary=None,
                checkin_code="4821",
                created_by=None,
                now=now,
            )
            assert meeting is not None
            await invite_members(Context(conn, now, settings, translator), meeting)
            earlier = now - timedelta(hours=3)
            training = await sessions.create(
                conn,
                committee_id=committee.id,
                kind="training",
                title="Formation alerte précoce",
                starts_at=now + timedelta(minutes=90),
                place="Centre Djoliba",
                agenda=None,
                summary=None,
                checkin_code="1234",
                created_by=None,
                now=earlier,
            )
            assert training is not None
            for user in members[: MEMBERS // 2]:
                await sessions.invite(conn, training.id, user.id)
                await sessions.answer(conn, training.id, user.id, "yes", earlier)
                await schedule_reminders(
                    Context(conn, earlier, settings, translator), training, user
                )
        return meeting.id
    finally:
        await kibaru.close()


def phases(rng: random.Random, count: int) -> list[Phase]:
    """Every phase in turn, each round shuffled: a few cycles already cover them all."""
    plan: list[Phase] = []
    while len(plan) < count:
        round_ = list(Phase)
        rng.shuffle(round_)
        plan += round_
    return plan[:count]


def check_after_kill(
    after: AfterKill, receipts: dict[str, int], reporters: Sequence[Reporter]
) -> list[str]:
    problems = []
    if after.integrity != "ok":
        problems.append(f"integrity_check: {after.integrity}")
    for reference, chat in receipts.items():
        if after.reports.get(reference) != chat:
            problems.append(f"confirmed report {reference} of {chat} is not in the database")
    for reporter in reporters:
        step = after.steps.get(reporter.user.user_id)
        if step not in reporter.possible_steps():
            problems.append(
                f"reporter {reporter.user.user_id}: database at {step}, expected one of "
                f"{sorted(map(str, reporter.possible_steps()))}"
            )
    return problems


async def drained(database: Path, emulator: CrashEmulator) -> None:
    """Until no outbox row is due or being sent (the file is read again as calls come in)."""
    await emulator.wait_for(
        lambda: not outbox_at_end(database, emulator.sent).unfinished,
        DRAIN_TIMEOUT,
        recheck=0.2,
    )


@dataclass
class Crowd:
    """Everyone who uses the bot during the suite."""

    world: World
    reporters: list[Reporter]
    members: list[Member]
    validators: list[Validator]

    @classmethod
    def gather(cls, emulator: CrashEmulator, rng: random.Random) -> Crowd:
        world = World(THINK)

        def phone(user_id: int, name: str) -> tuple[World, Phone, random.Random]:
            return world, emulator.phone(user_id, name), random.Random(rng.random())

        reporters = [
            Reporter(
                *phone(FIRST_REPORTER + n, f"R{n}"),
                in_mopti=n % 20 == 0,
                with_photo=n % 5 == 2,
                impatient=n % 4 == 1,
            )
            for n in range(REPORTERS)
        ]
        members = [Member(*phone(FIRST_MEMBER + n, f"M{n}")) for n in range(MEMBERS)]
        validators = [Validator(*phone(FIRST_VALIDATOR + n, f"V{n}")) for n in range(VALIDATORS)]
        return cls(world, reporters, members, validators)

    @property
    def everyone(self) -> list[Person]:
        return [*self.reporters, *self.members, *self.validators]


class Suite:
    """The bot, the crowd, and what each kill left."""

    def __init__(self, tmp_path: Path, emulator: CrashEmulator, rng: random.Random) -> None:
        self.database = tmp_path / "kibaru.db"
        self.emulator = emulator
        self.rng = rng
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KIBARU_", "TELEGRAM_"))}
        env |= {
            "TELEGRAM_BOT_TOKEN": emulator.token,
            "TELEGRAM_API_URL": emulator.base_url,
            "KIBARU_DB": str(self.database),
            "KIBARU_MEDIA_DIR": str(tmp_path / "media"),
            "KIBARU_LOG_LEVEL": "WARNING",
            "KIBARU_REPORTS_PER_HOUR": "1000000",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        self.log = tmp_path / "bot.log"
        self.bot = BotProcess(emulator, env, self.log)
        self.killer = Killer(emulator, self.bot, random.Random(rng.random()))
        self.crowd = Crowd.gather(emulator, rng)
        self.cycles: list[Cycle] = []
        self.exit_code: int | None = None

    async def run(self) -> None:
        """The kills, then a clean run until everyone is done and the outbox is drained."""
        crowd, emulator = self.crowd, self.emulator
        tasks = [asyncio.create_task(person.run()) for person in crowd.everyone]
        try:
            for phase in phases(self.rng, CYCLES):
                await self.bot.start()
                kill = await self.killer.kill(phase)
                after = after_kill(self.database)
                self.cycles.append(
                    Cycle(
                        kill,
                        after,
                        sum(r.waiting for r in crowd.reporters),
                        len(emulator.receipts),
                        check_after_kill(after, emulator.receipts, crowd.reporters),
                    )
                )
            await self.bot.start()
            await self.bot.ready()
            crowd.world.stopping = True  # each finishes what they are doing
            async with asyncio.timeout(DRAIN_TIMEOUT):
                await asyncio.gather(*tasks[: len(crowd.reporters) + len(crowd.members)])
            await drained(self.database, emulator)
            crowd.world.reviews_over = True
            async with asyncio.timeout(DRAIN_TIMEOUT):
                await asyncio.gather(*tasks)
            await drained(self.database, emulator)
            self.exit_code = await self.bot.stop()
        finally:
            for task in tasks:
                task.cancel()
            self.bot.kill_now()
            await self.bot.dead()

    def summary(self, outbox: Outbox, seconds: float) -> str:
        crowd, cycles = self.crowd, self.cycles
        reporters, world = crowd.reporters, crowd.world
        lines = [
            f"Crash suite: seed {SEED}, {len(cycles)} kills (SIGKILL) then a clean run, "
            f"{len(reporters)} reporters, {len(crowd.members)} members, "
            f"{len(crowd.validators)} validators, {seconds:.0f} s",
            "  kill | phase | polling after (s) | killed after (s) | updates handed "
            "| reporters waiting | receipts so far | outbox rows left sending | integrity",
        ]
        for n, cycle in enumerate(cycles, start=1):
            kill = cycle.kill
            ready = "–" if kill.ready_after is None else f"{kill.ready_after:.2f}"
            lines.append(
                f"  {n:4} | {kill.phase} | {ready} | {kill.uptime:.2f} | {kill.handed} "
                f"| {cycle.waiting} | {cycle.receipts} | {len(cycle.after.in_flight)} "
                f"| {cycle.after.integrity}"
            )
        sent = sum(r.sent_reports for r in reporters)
        read = sum(len(r.receipts) for r in reporters)
        in_flight = sum(len(c.after.in_flight) for c in cycles)
        lines += [
            f"  reports sent {sent}, references read by their reporters {read}",
            f"  questions asked again {world.asked_again}; buttons tapped twice "
            f"{world.repeated_taps}; photos {sum(r.photos for r in reporters)}",
            f"  RSVP taps {sum(len(m.answers) for m in crowd.members)}; validations "
            f"{sum(len(v.validated) for v in crowd.validators)} (beaten by another validator: "
            f"{sum(v.decided_by_others for v in crowd.validators)})",
            f"  outbox: {dict(sorted(outbox.by_status.items()))}",
            f"  outbox duplicates {sum(outbox.duplicates.values())} "
            f"(rows left sending at the kills: {in_flight})",
            f"  anomalies: {len(world.anomalies)}",
        ]
        return "\n".join(lines)

    def check(self, outbox: Outbox, meeting: int) -> None:
        crowd, emulator = self.crowd, self.emulator
        reporters = crowd.reporters
        logged = self.log.read_text(encoding="utf-8")
        assert self.exit_code == 0, logged[-2000:]
        assert "Traceback" not in logged and " ERROR " not in logged, logged[-3000:]
        assert crowd.world.anomalies == [], crowd.world.anomalies[:20]
        assert [p for c in self.cycles for p in c.problems] == []
        assert all(person.finished for person in crowd.everyone)
        at_end = people_at_end(self.database, meeting)
        assert at_end.integrity == "ok"
        # every "Envoyer" made exactly one report, every receipt is one of them, and every
        # conversation is where its person was last answered (a report half done has its draft)
        assert at_end.reports == Counter(
            {r.user.user_id: r.sent_reports for r in reporters if r.sent_reports}
        )
        assert all(at_end.references.get(ref) == chat for ref, chat in emulator.receipts.items())
        # ...and each reporter read the reference of each of their reports, even when the
        # process died between the commit and the receipt
        assert {(chat, ref) for ref, chat in at_end.references.items()} == {
            (r.user.user_id, ref) for r in reporters for ref in r.receipts
        }
        chats = {r.user.user_id for r in reporters}
        assert {r.user.user_id: r.step for r in reporters if r.step} == {
            chat: step for chat, step in at_end.steps.items() if chat in chats
        }
        assert at_end.drafts == {
            r.user.user_id
            for r in reporters
            if r.step and r.step.startswith("report:") and r.step != "report:category"
        }
        # every photo acknowledged is kept with its report or draft, whole on disk
        assert at_end.files == Counter({r.user.user_id: r.photos for r in reporters if r.photos})
        assert at_end.files_missing == []
        assert at_end.rsvp == {m.user.user_id: m.last_answer for m in crowd.members}
        assert {ref for v in crowd.validators for ref in v.validated} <= at_end.validated
        # the outbox: all sent (or rightly cancelled, or queued for later), each once, plus at
        # most once per kill that caught it in flight
        assert outbox.unfinished == [] and outbox.missing == []
        in_flight: Counter[Delivery] = Counter(d for c in self.cycles for d in c.after.in_flight)
        assert {d: n for d, n in outbox.duplicates.items() if n > in_flight[d]} == {}


@pytest.mark.timeout(90 + 15 * CYCLES)
async def test_killed_again_and_again_it_keeps_every_promise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    async with CrashEmulator() as emulator:
        suite = Suite(tmp_path, emulator, random.Random(SEED))
        meeting = await seed(
            Settings(
                telegram_token=emulator.token,
                telegram_api_url=emulator.base_url,
                database_path=suite.database,
                timezone=ZoneInfo("Africa/Bamako"),
            )
        )
        try:
            await suite.run()
        finally:  # what was tried and found, also when it went wrong
            outbox = outbox_at_end(suite.database, emulator.sent)
            with capsys.disabled():
                print("\n" + suite.summary(outbox, time.monotonic() - started))
    suite.check(outbox, meeting)
