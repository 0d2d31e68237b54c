"""A small Kibaru world for the stress suites (fuzz, privileges): one person holding each
role, and real objects for every role-reserved button to point at.

It is built once through the engine (the way people would build it), then its database file
is copied for each run: building it takes a second, copying it a millisecond.

The people (holder name -> chat id, language):

- coordinator 100 (fr); validator 200 everywhere (bm); validator_elsewhere 201, Mopti (en)
- focal_point 300, Commune IV of Bamako (fr)
- secretary 400 of the CCS-C Commune IV (fr); secretary_elsewhere 401 of Commune I (bm)
- member 500 of the CCS-C Commune IV, approved by the secretary (bm)
- applicant 501, whose request to join Commune IV is pending (fr)
- reporter 600 (fr), who sent three reports from Commune IV
- subscriber 800 (fr), following the alerts of Bamako
- stranger 700 (en): onboarded, nothing else

The objects (`World.ids`): report R1 (contact through the bot, a question from the validator
waiting for the reporter's answer), R2 (anonymous, received), R3 (validated, its alert
queued); announcement ANN scheduled for tomorrow; statutory session S1 on 4 December,
repeated monthly (rule), member 500 answered yes; open training S2 that started at 10:00
(roll call open); open training S3 next week with one place.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.i18n import LANGUAGE_NAMES
from bot.inbound import ActionEvent, Sender
from bot.settings import Settings
from storage import (
    announcements,
    committees,
    reports,
    review,
    roles,
    sessions,
    subscriptions,
    users,
)
from storage.committees import MemberStatus
from storage.roles import Role
from storage.subscriptions import AreaKind
from tests.chat_driver import ChatDriver

#: a Monday; Bamako is on UTC all year, so local and UTC times read the same
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
#: when the world is ready: S2 started half an hour ago
READY = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
CHANNEL = "test"

#: holder -> (chat id, language, role, scope)
PEOPLE: dict[str, tuple[str, str, Role | None, str | None]] = {
    "coordinator": ("100", "fr", Role.COORDINATOR, None),
    "validator": ("200", "bm", Role.VALIDATOR, None),
    "validator_elsewhere": ("201", "en", Role.VALIDATOR, "mopti"),
    "focal_point": ("300", "fr", Role.FOCAL_POINT, "bamako_c4"),
    "secretary": ("400", "fr", Role.CCSC_SECRETARY, "ccsc_bamako_c4"),
    "secretary_elsewhere": ("401", "bm", Role.CCSC_SECRETARY, "ccsc_bamako_c1"),
    "member": ("500", "bm", None, None),  # CCSC_MEMBER of Commune IV, by approval
    "applicant": ("501", "fr", None, None),
    "reporter": ("600", "fr", None, None),
    "stranger": ("700", "en", None, None),
    "subscriber": ("800", "fr", None, None),
}


def world_settings(database: Path, media: Path) -> Settings:
    return Settings(
        telegram_token=None,
        database_path=database,
        admins=(),
        timezone=ZoneInfo("Africa/Bamako"),
        default_language="fr",
        media_dir=media,
    )


@dataclass
class World:
    """The seed database and what is in it."""

    path: Path
    #: object name -> id (report ids, session ids, ...); also "<holder>_user" -> user id
    ids: dict[str, int] = field(default_factory=dict)
    references: dict[str, str] = field(default_factory=dict)

    def chat_id(self, holder: str) -> str:
        return PEOPLE[holder][0]

    def copy_to(self, folder: Path) -> Path:
        """A private copy of the seed database (the world itself is never written to)."""
        target = folder / "kibaru.db"
        shutil.copyfile(self.path, target)
        return target


async def without_fsync(kibaru: Kibaru) -> Kibaru:
    """The stress suites test what the bot does, not durability: without an fsync per
    commit, thousands of events take seconds even on a disk busy with other work."""
    async with kibaru.db.reading() as conn:
        await conn.execute("PRAGMA synchronous=OFF")
    return kibaru


@asynccontextmanager
async def opened(
    world: World, folder: Path, clock: ManualClock | None = None
) -> AsyncIterator[Kibaru]:
    """Kibaru on a fresh copy of the world, at READY unless another clock is given."""
    folder.mkdir(parents=True, exist_ok=True)
    path = world.copy_to(folder)
    kibaru = await Kibaru.open(world_settings(path, folder / "media"), clock or ManualClock(READY))
    await without_fsync(kibaru)
    try:
        yield kibaru
    finally:
        await kibaru.close()


def sender(holder: str) -> Sender:
    """The private chat of one of the world's people."""
    chat_id, language, _, _ = PEOPLE[holder]
    return Sender(CHANNEL, chat_id, language_hint=language, user_id=chat_id)


class _Builder:
    def __init__(self, kibaru: Kibaru, clock: ManualClock) -> None:
        self.kibaru = kibaru
        self.clock = clock
        self.chats: dict[str, ChatDriver] = {}

    async def person(self, holder: str) -> ChatDriver:
        chat_id, language, role, scope = PEOPLE[holder]
        chat = ChatDriver(self.kibaru.conversations, chat_id=chat_id, hint=language)
        await chat.command("start")
        await chat.tap(LANGUAGE_NAMES[language])
        if role is not None:
            async with self.kibaru.db.transaction() as conn:
                user = await users.find(conn, CHANNEL, chat_id)
                assert user is not None
                await roles.grant(conn, user.id, role, self.clock.now(), scope)
        self.chats[holder] = chat
        return chat

    async def press(self, holder: str, name: str, *args: object) -> str:
        chat = self.chats[holder]
        await chat.event(
            ActionEvent(chat.sender, name=name, args=tuple(str(a) for a in args), actor_name="Awa")
        )
        return chat.last_text

    async def user_id(self, holder: str) -> int:
        async with self.kibaru.db.reading() as conn:
            user = await users.find(conn, CHANNEL, PEOPLE[holder][0])
        assert user is not None
        return user.id

    async def file_report(self, contact: str) -> reports.Report:
        """An armed attack in Commune IV this morning; contact 1 anonymous, 2 through the bot."""
        chat = self.chats["reporter"]
        await chat.command("signaler")
        for answer in ("1", "2", "8h30", "Bamako", "commune 4", "passer"):
            await chat.text(answer)
        await chat.text("Des hommes armés ont attaqué le marché de Médina Coura")
        for answer in ("3", "passer", contact, "1"):
            await chat.text(answer)
        assert "ML-2026-" in chat.last_text, chat.last_text
        user_id = await self.user_id("reporter")
        async with self.kibaru.db.reading() as conn:
            [newest, *_] = await reports.of_reporter(conn, user_id)
        return newest

    async def ask_to_join(self, holder: str, name: str) -> int:
        chat = self.chats[holder]
        await chat.command("ccsc")
        await chat.tap("IV")
        for answer in ("4", "1", "2", name, "1"):  # women's rep., woman, 18-24, name, send
            await chat.text(answer)
        user_id = await self.user_id(holder)
        async with self.kibaru.db.reading() as conn:
            [(member, _)] = await committees.of_user(conn, user_id, (MemberStatus.PENDING,))
        return member.id

    async def new_session(self, title: str, *answers: str, tap_last: str) -> int:
        """The id of the (first) session of that title, created with these answers."""
        chat = self.chats["secretary"]
        await chat.command("session_nouvelle")
        await chat.tap(answers[0])
        await chat.text(title)
        for answer in answers[1:]:
            if answer.startswith("#"):
                await chat.tap(answer[1:])
            else:
                await chat.text(answer)
        await chat.tap(tap_last)
        assert "Session créée" in chat.last_text, chat.last_text
        async with self.kibaru.db.reading() as conn:
            cursor = await conn.execute(
                "SELECT id FROM sessions WHERE title = ? ORDER BY starts_at LIMIT 1", (title,)
            )
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])


async def build_world(folder: Path) -> World:
    """Build the world's database in `folder` (through the engine) and close it."""
    path = folder / "world.db"
    clock = ManualClock(START)
    kibaru = await Kibaru.open(world_settings(path, folder / "media"), clock)
    world = World(path)
    try:
        b = _Builder(kibaru, clock)
        for holder in PEOPLE:
            await b.person(holder)
            world.ids[f"{holder}_user"] = await b.user_id(holder)
        async with kibaru.db.transaction() as conn:
            await subscriptions.subscribe(
                conn, world.ids["subscriber_user"], AreaKind.REGION, "bamako", 1, "now", None, START
            )
        await _committee(b, world)
        await _reports(b, world)
        await _announcement(b, world)
        await _sessions(b, world)
    finally:
        await kibaru.close()
    return world


async def _committee(b: _Builder, world: World) -> None:
    """500 is approved by the secretary; 501's request stays pending."""
    member_row = await b.ask_to_join("member", "Awa")
    assert "membre" in await b.press("secretary", "cm", member_row, "ok")
    world.ids["member_row"] = member_row
    world.ids["pending_row"] = await b.ask_to_join("applicant", "Fanta")


async def _reports(b: _Builder, world: World) -> None:
    """R1 with a question waiting for its answer, R2 received, R3 validated."""
    r1 = await b.file_report("2")
    r2 = await b.file_report("1")
    r3 = await b.file_report("1")
    for name, report in (("r1", r1), ("r2", r2), ("r3", r3)):
        world.ids[name] = report.id
        world.references[f"{name}_ref"] = report.reference
    validator = b.chats["validator"]
    await b.press("validator", "rv", r1.id, "ask")
    await validator.text("Combien de personnes étaient armées ?")
    async with b.kibaru.db.reading() as conn:
        [question] = await review.questions_of(conn, r1.id)
    world.ids["question"] = question.id
    await b.press("validator", "rv", r3.id, "val")
    await validator.text("3")  # alerte
    await validator.text("1")  # the area's subscribers
    await validator.tap(validator.question.choices[0].label)  # skip the summary
    async with b.kibaru.db.reading() as conn:
        assert await review.alert_of(conn, r3.id) is not None


async def _announcement(b: _Builder, world: World) -> None:
    """To Bamako's subscribers, tomorrow at 08:00."""
    coordinator = b.chats["coordinator"]
    await coordinator.command("annonce")
    await coordinator.text("1")
    await coordinator.tap("Bamako")
    await coordinator.tap("Tout Bamako")
    for answer in ("Réunion publique samedi à la mairie", "2", "demain", "8h"):
        await coordinator.text(answer)
    await coordinator.tap("Confirmer")
    async with b.kibaru.db.reading() as conn:
        [scheduled] = await announcements.scheduled(conn, b.clock.now())
    world.ids["announcement"] = scheduled.id


async def _sessions(b: _Builder, world: World) -> None:
    """S1 repeated monthly, answered yes by the member; S2 started (roll call open); S3
    open to Commune IV's subscribers, one place."""
    world.ids["s1"] = await b.new_session(
        "Réunion de décembre",
        "statutaire",
        "4/12",
        "10h",
        "Mairie de la Commune IV",
        "Bilan du mois",
        "passer",
        tap_last="répéter",
    )
    world.ids["s2"] = await b.new_session(
        "Formation premiers secours",
        "Formation",
        "23/11",
        "10h",
        "Centre de santé",
        "passer",
        "passer",
        "passer",
        "#points focaux",
        tap_last="Créer et inviter",
    )
    world.ids["s3"] = await b.new_session(
        "Atelier alerte précoce",
        "Formation",
        "30/11",
        "15h",
        "Maison des jeunes",
        "passer",
        "passer",
        "1",
        "#abonnés",
        "#Commune IV",
        tap_last="Créer et inviter",
    )
    async with b.kibaru.db.reading() as conn:
        s1 = await sessions.get(conn, world.ids["s1"])
    assert s1 is not None and s1.rule_id is not None
    world.ids["rule"] = s1.rule_id
    assert "✅" in await b.press("member", "rsvp", world.ids["s1"], "yes")
    b.clock.set(READY)
    assert "Appel" in await b.press("secretary", "roll", world.ids["s2"])
