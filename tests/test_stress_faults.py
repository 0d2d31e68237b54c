"""Proof under stress (issue 7): a flaky Telegram. For a whole scenario the Bot API emulator
answers 10 % of all calls (getUpdates included) with a 429, a 500 or 502, a timeout or a
dropped connection; nothing is lost, nothing reaches a person twice, and polling never stops.

The scenario, through the real Telegram channel: 20 people report incidents (five with a
photo), the reports are posted in the review group, a validator validates three of them, so
that alerts go to the subscribers of Bamako and notices to their reporters, and a CCS-C
secretary creates a session whose invitations six members answer with their buttons.

Every fault happens before the emulator applies the call (see tests/bot_api_emulator.py):
Telegram may deliver a message whose answer was lost, but here nothing faulted was delivered,
so a message seen twice in a chat is one the bot sent twice. The bot's HTTP timeouts are set
short (0.5 s) so that the timeouts cost little real time; every other wait (backoffs, a 429's
retry_after, the outbox's pacing) is on the manual clock.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sqlite3
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import TELEGRAM, Kibaru
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_outbox import TelegramTransport
from bot.clock import ManualClock
from bot.settings import Settings
from storage import roles, subscriptions, users
from storage.outbox import Outgoing, stamp
from storage.roles import Role
from storage.subscriptions import AreaKind
from tests.bot_api_emulator import FAULT_KINDS, BotApiEmulator, SentMessage
from tests.crowd import ONBOARDING, Act, Inboxes, play
from tests.telegram_harness import running_bot

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday, 09:00 in Bamako
GROUP = -100500
REPORTERS = range(2001, 2021)
WITH_PHOTO = range(2001, 2006)
SUBSCRIBERS = range(601, 605)
MEMBERS = range(2011, 2017)
VALIDATOR, SECRETARY = 500, 400
APOLOGY = "problème technique"
REFERENCE = re.compile(r"ML-\d{4}-\d{6}")


def report(photo: bool) -> list[Act]:
    """An armed attack this morning in Commune IV of Bamako, anonymous."""
    evidence = (
        [Act("photo", "", 1, "1 fichier reçu"), Act("press", "Terminé", 1)]
        if photo
        else [Act("press", "Passer", 1)]
    )
    return [
        Act("text", "/signaler", 1, "type d'incident"),
        Act("press", "Attaque armée", 1),
        Act("press", "Aujourd'hui", 1),
        Act("text", "8h30", 1),
        Act("text", "Bamako", 2),  # the location keyboard goes, then the communes
        Act("press", "Commune IV", 1),
        Act("press", "Passer", 1),
        Act("text", "Des hommes armés ont attaqué le marché de Médina Coura", 1),
        Act("press", "Je ne sais pas", 1),
        *evidence,
        Act("press", "Rester anonyme", 1, "Tout est juste"),
        Act("press", "Envoyer", 1, "ML-"),
    ]


def validation(post: SentMessage) -> list[Act]:
    """Validated as an alert for the area's subscribers (the validator may get it too, in
    the middle of these questions: each act waits for its own reply by what it says)."""
    return [
        Act("press", "Valider", 1, "Quelle gravité", on=post),
        Act("press", "Alerte", 1, "Qui reçoit"),
        Act("press", "abonnés", 1, "résumé public"),
        Act("press", "Passer", 2, "Que voulez-vous faire"),  # "validated", then the menu
    ]


SESSION = [
    Act("text", "/session_nouvelle", 1),
    Act("press", "statutaire", 1),
    Act("text", "Réunion statutaire de novembre", 1),
    Act("text", "demain", 1),
    Act("text", "10h", 1),
    Act("text", "Mairie de la Commune IV", 1),
    Act("press", "Passer", 1),
    Act("press", "Passer", 1),
    Act("press", "Créer et inviter", 2, "Code de présence"),  # then the menu
]


async def prepare(kibaru: Kibaru) -> None:
    """Roles, subscriptions and committee members, as earlier conversations would have left
    them (tests/test_review_e2e.py and tests/test_sessions_e2e.py go through those)."""
    async with kibaru.db.transaction() as conn:

        async def user_id(chat: int) -> int:
            found = await users.find(conn, "telegram", str(chat))
            assert found is not None
            return found.id

        await roles.grant(conn, await user_id(VALIDATOR), Role.VALIDATOR, NOW)
        await roles.grant(
            conn, await user_id(SECRETARY), Role.CCSC_SECRETARY, NOW, "ccsc_bamako_c4"
        )
        for chat in SUBSCRIBERS:
            await subscriptions.subscribe(
                conn, await user_id(chat), AreaKind.REGION, "bamako", 1, "now", None, NOW
            )
        for chat in MEMBERS:
            await conn.execute(
                "INSERT INTO committee_members (committee_id, user_id, member_type, status,"
                " requested_at) VALUES (4, ?, 'women', 'active', ?)",
                (await user_id(chat), NOW.isoformat()),
            )


def unfinished(database: Path, now: datetime) -> int:
    """Rows due and not yet sent (a retry waiting for its time included)."""
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'sending')"
            " AND (not_before IS NULL OR not_before <= ?)",
            (stamp(now),),
        ).fetchone()[0]


def outbox_rows(database: Path) -> list[tuple[str, str, str, Outgoing]]:
    with sqlite3.connect(database) as conn:
        return [
            (kind, chat, status, Outgoing.from_json(payload))
            for kind, chat, status, payload in conn.execute(
                "SELECT kind, chat_id, status, payload FROM outbox ORDER BY id"
            )
        ]


def messages_of(row: Outgoing, transport: TelegramTransport) -> int:
    """New messages a sent outbox row put in its chat (an edit adds none)."""
    return 0 if row.edit_message_id is not None else transport.calls(row)


class Scenario:
    """The people, what each chat should receive, and the scenario itself."""

    def __init__(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator
        emulator.group(GROUP, "Analystes NEWS")
        self.inboxes = Inboxes(emulator)
        self.people = {
            chat: emulator.user(chat, f"P{chat}", "fr")
            for chat in (*REPORTERS, *SUBSCRIBERS, VALIDATOR, SECRETARY)
        }
        #: interactive replies each chat should get, as the scripts played say
        self.replies: Counter[int] = Counter()
        self.receipts: list[list[SentMessage]] = []

    async def run(self, chat: int, script: list[Act]) -> list[SentMessage]:
        self.replies[chat] += sum(a.replies for a in script)
        return await play(self.inboxes, self.people[chat], script, timeout=30)

    async def play(self, channel: TelegramChannel, clock: ManualClock) -> None:
        await asyncio.gather(*(self.run(chat, list(ONBOARDING)) for chat in self.people))
        await prepare(channel.kibaru)
        clock.advance(minutes=1)  # people take their time between things
        self.receipts = await asyncio.gather(
            *(self.run(chat, report(chat in WITH_PHOTO)) for chat in REPORTERS)
        )
        posts = await self.inboxes.wait(GROUP, len(REPORTERS), timeout=30)
        clock.advance(minutes=1)
        for post in posts[:3]:
            await self.run(VALIDATOR, validation(post))
        clock.advance(minutes=1)
        await self.run(SECRETARY, SESSION)
        answers = ["Je viendrai", "Peut-être", "Je ne peux pas"]
        await asyncio.gather(
            *(self.rsvp(chat, answers[n % len(answers)]) for n, chat in enumerate(MEMBERS))
        )

    async def rsvp(self, chat: int, answer: str) -> None:
        received = await self.inboxes.wait(chat, 1, 30, needle="Invitation")
        invitation = next(m for m in received if "Invitation" in (m.text or ""))
        await self.run(chat, [Act("press", answer, 1, "Réponse enregistrée", on=invitation)])

    def wrong_chats(self, sent_later: Counter[int]) -> dict[int, str]:
        """Chats that did not get each of their replies and outbox messages exactly once."""
        wrong: dict[int, str] = {}
        for chat, messages in self.inboxes.messages.items():
            wanted = self.replies[chat] + sent_later[chat]
            shown = [(m.method, repr(sorted(m.params.items()))) for m in messages]
            if len(messages) != wanted:
                wrong[chat] = f"{len(messages)} messages, {wanted} expected"
            elif any(a == b for a, b in itertools.pairwise(shown)):
                wrong[chat] = "the same message twice in a row"
        return wrong


async def test_a_flaky_telegram_loses_nothing_and_sends_nothing_twice(
    emulator: BotApiEmulator, db_path: Path, tmp_path: Path
) -> None:
    began = time.perf_counter()
    clock = ManualClock(NOW)
    settings = Settings(
        telegram_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_path=db_path,
        timezone=ZoneInfo("Africa/Bamako"),
        media_dir=tmp_path / "media",
        review_chat_id=GROUP,
        reminders=(),  # they would be due tomorrow; tests/test_sessions_e2e.py sends them
    )
    scenario = Scenario(emulator)
    async with running_bot(settings, clock, poll_timeout=1, request_timeout=0.5) as channel:
        # seed 28: its plan faults getUpdates 5 times in the first 20 polls (502, 429, timeout)
        emulator.chaos(0.1, seed=28, kinds=FAULT_KINDS, every_method=True)
        await scenario.play(channel, clock)
        await emulator.wait_for(lambda: unfinished(db_path, clock.now()) == 0, 30, recheck=0.05)
        await channel.downloads.idle()
        faults = Counter(emulator.chaos_faults)
        on_polls = Counter(
            {
                kind: n
                for (method, kind), n in emulator.chaos_by_method.items()
                if method == "getUpdates"
            }
        )
        emulator.chaos(0, 0)  # the faults are over: is the bot still polling?
        last_fault = max(i for i, call in enumerate(emulator.calls) if call.error_code)
        await emulator.wait_for(
            lambda: any(
                call.method == "getUpdates" and not call.error_code
                for call in emulator.calls[last_fault + 1 :]
            )
        )
        assert channel.poller is not None and channel.poller.running
        retried, poll_failures = channel.reply_retries, channel.poller.failures
        outbox = channel.outbox
        transport = outbox.transports[TELEGRAM]
        assert isinstance(transport, TelegramTransport)
        rows = outbox_rows(db_path)
    with sqlite3.connect(db_path) as conn:
        stored = {row[0] for row in conn.execute("SELECT reference FROM reports")}
        photos = [row[0] for row in conn.execute("SELECT local_path FROM report_media")]
    confirmed = {
        found for got in scenario.receipts for m in got for found in REFERENCE.findall(m.text or "")
    }
    sent_later: Counter[int] = Counter()
    for _, chat, status, out in rows:
        if status == "sent":
            sent_later[int(chat)] += messages_of(out, transport)
    wrong = scenario.wrong_chats(sent_later)
    later = [kind for kind, _, status, _ in rows if status != "sent"]
    apologies = sum(
        APOLOGY in (m.text or "") for ms in scenario.inboxes.messages.values() for m in ms
    )
    print(
        f"\nfaults: {sum(faults.values())} of {len(emulator.calls)} calls "
        f"({', '.join(f'{kind} {faults[kind]}' for kind in FAULT_KINDS)}), of which on "
        f"getUpdates {dict(on_polls)}; {time.perf_counter() - began:.1f} s"
    )
    print(
        f"  the bot tried again: {sum(retried.values())} reply calls {dict(retried)}, "
        f"{sum(poll_failures.values())} polls {dict(poll_failures)}, {outbox.retried} outbox "
        f"rows (+{outbox.throttled} after a 429)"
    )
    print(
        f"  checked: {len(stored)} reports stored = confirmed, {len(photos)} photos kept; "
        f"{len(scenario.inboxes.messages)} chats got their {scenario.replies.total()} replies "
        f"and {sent_later.total()} outbox messages exactly once ({apologies} apologies); "
        f"{len(rows) - len(later)} outbox rows sent ({later} due tomorrow); still polling"
    )
    assert len(stored) == len(REPORTERS) and confirmed == stored
    assert len(photos) == len(WITH_PHOTO) and all(photos)
    assert wrong == {} and apologies == 0
    assert later == ["roll_call"]  # the session's roll-call, at its start tomorrow
    assert on_polls.total() > 0 and all(faults[kind] for kind in FAULT_KINDS)
