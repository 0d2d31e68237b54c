"""Privacy under a full scenario: who reported what must not leak to staff, to subscribers or
to the logs.

Four reporters file reports through the real Telegram channel: two anonymous, one who accepts
contact through Kibaru, one who gives their phone number. Validators review them in the group,
ask the via-Kibaru reporter a question, validate with a public alert; a coordinator gets the
overdue escalation and reads the queue; subscribers get the alerts. Then every message the
bot sent to anyone but the reporters themselves, every log record of every logger (DEBUG
included) and every file the bot wrote for staff are searched for the reporters' Telegram ids,
first names, usernames and phone numbers, and for the words they typed.

What is allowed, by the reporters' own choice: the phone number of the reporter who gave it
reaches the validators (not the subscribers, not the logs). Nothing else of any reporter may
appear anywhere but in their own chat.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import Kibaru
from bot.channels.telegram import TelegramChannel
from bot.clock import ManualClock
from bot.settings import Settings
from handlers.review.queue import escalate_overdue
from storage.roles import Role
from storage.subscriptions import AreaKind
from tests.bot_api_emulator import BotApiEmulator, SimUser
from tests.telegram_harness import running_bot
from tests.test_review_e2e import follow, grant, onboard, said

NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
GROUP = -100700
PHONE = "+22376543210"
#: what each reporter typed, which staff may read in the review post but no log may hold
WORDS = {
    7770001: "Des hommes armés au marché de Médina Coura ce matin",
    7770002: "Coups de feu entendus près du pont de Sotuba",
    7770003: "Un enlèvement signalé à Lafiabougou par des voisins",
    7770004: "Barrage illégal sur la route de Koulikoro avec racket",
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def tg_settings(db_path: Path, emulator: BotApiEmulator, tmp_path: Path) -> Settings:
    return Settings(
        telegram_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_path=db_path,
        admins=(400,),
        timezone=ZoneInfo("Africa/Bamako"),
        review_chat_id=GROUP,
        media_dir=tmp_path / "media",
    )


@pytest.fixture
async def channel(
    tg_settings: Settings, clock: ManualClock, emulator: BotApiEmulator
) -> AsyncIterator[TelegramChannel]:
    emulator.group(GROUP, "Analystes NEWS")
    async with running_bot(tg_settings, clock) as running:
        yield running


async def report(emulator: BotApiEmulator, reporter: SimUser, contact: str) -> None:
    """A whole report in Commune IV of Bamako, with the reporter's own words; `contact` is
    the label of the contact choice."""
    steps: list[tuple[str, str, int]] = [
        ("text", "/signaler", 1),
        ("press", "Attaque armée", 1),
        ("press", "Aujourd'hui", 1),
        ("text", "8h30", 1),
        ("text", "Bamako", 2),  # the location keyboard goes, then the communes
        ("press", "Commune IV", 1),
        ("press", "Passer", 1),
        ("text", WORDS[reporter.user_id], 1),
        ("press", "Je ne sais pas", 1),
        ("press", "Passer", 1),
        ("press", contact, 1),
    ]
    if contact == "Donner mon numéro":
        steps.append(("contact", PHONE, 2))  # the contact keyboard goes, then the summary
    steps.append(("press", "Envoyer", 1))
    for kind, value, replies in steps:
        before = len(emulator.messages_to(reporter.user_id))
        if kind == "text":
            await reporter.send_text(value)
        elif kind == "contact":
            await reporter.send_contact(value)
        else:
            await reporter.press(value)
        await emulator.wait_for_messages(reporter.user_id, before + replies)
    await emulator.wait_for(
        lambda: any("ML-" in (m.text or "") for m in emulator.messages_to(reporter.user_id))
    )


def traces(user: SimUser) -> list[str]:
    """What would identify a reporter if seen: id, first name, username."""
    return [str(user.user_id), user.first_name, *([user.username] if user.username else [])]


async def test_no_reporter_identity_reaches_staff_subscribers_or_logs(  # noqa: PLR0915
    emulator: BotApiEmulator,
    channel: TelegramChannel,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    bot: Kibaru = channel.kibaru
    anonymous = [
        emulator.user(7770001, "Fatoumata", "fr", username="fatou_gao"),
        emulator.user(7770002, "Seydou", "fr", username="seydou_ml"),
    ]
    via_bot = emulator.user(7770003, "Aminata", "fr", username="aminata_b")
    with_phone = emulator.user(7770004, "Oumar", "fr", username="oumar_k")
    reporters = [*anonymous, via_bot, with_phone]
    validator, coordinator = emulator.user(500, "Mariam"), emulator.user(400, "Ibrahim")
    subscriber = emulator.user(601, "Kadi", "fr")
    for user in (*reporters, validator, coordinator, subscriber):
        await onboard(emulator, user, "Français")
    await grant(bot, validator, Role.VALIDATOR)
    await follow(bot, subscriber, AreaKind.REGION, "bamako", 1)

    await report(emulator, anonymous[0], "Rester anonyme")
    await report(emulator, anonymous[1], "Rester anonyme")
    await report(emulator, via_bot, "Oui, par Kibaru")
    await report(emulator, with_phone, "Donner mon numéro")
    posts = await emulator.wait_for_messages(GROUP, 4)

    # The validator asks the via-Kibaru reporter a question, and reads the answer.
    await validator.press("Demander des précisions", posts[2])
    await said(emulator, validator)
    await validator.send_text("Combien de personnes ont été enlevées ?")
    await emulator.wait_for(
        lambda: "Combien" in (emulator.messages_to(via_bot.user_id)[-1].text or "")
    )
    await via_bot.press("Répondre", emulator.messages_to(via_bot.user_id)[-1])
    await said(emulator, via_bot)
    await via_bot.send_text("Deux jeunes filles")
    await emulator.wait_for(
        lambda: any("Deux jeunes" in (m.text or "") for m in emulator.messages_to(500))
    )

    # Validated as public alerts: the subscriber gets them.
    for post in posts[:2]:
        for label, message, expected in (
            ("Valider", post, "Quelle gravité"),
            ("Alerte", None, "Qui reçoit"),
            ("abonnés", None, "résumé public"),
            ("Passer", None, "ML-"),
        ):
            before = len(emulator.messages_to(validator.user_id))
            await validator.press(label, message)
            await emulator.wait_for(
                lambda before=before, expected=expected: any(
                    expected in (m.text or "")
                    for m in emulator.messages_to(validator.user_id)[before:]
                )
            )
    await emulator.wait_for(lambda: len(emulator.messages_to(subscriber.user_id)) >= 4)

    # The other two wait too long: escalated to the coordinator, who reads the queue.
    clock.advance(hours=3)
    assert await escalate_overdue(bot.db, clock, bot.settings, bot.catalogs) == 2
    channel.outbox.kick()
    await emulator.wait_for(
        lambda: any("ML-" in (m.text or "") for m in emulator.messages_to(coordinator.user_id))
    )
    before = len(emulator.messages_to(coordinator.user_id))
    await coordinator.send_text("/a_valider")
    await emulator.wait_for_messages(coordinator.user_id, before + 1)

    staff_chats = [GROUP, validator.user_id, coordinator.user_id]
    seen_by_staff = [
        m.plain_text or "" for chat in staff_chats for m in emulator.messages_to(chat)
    ] + [e.text or "" for chat in staff_chats for e in emulator.edits_in(chat)]
    seen_by_subscribers = [m.plain_text or "" for m in emulator.messages_to(subscriber.user_id)]
    logged = [record.getMessage() for record in caplog.records] + [caplog.text]
    assert seen_by_staff and seen_by_subscribers and logged

    found: list[str] = []
    for reporter in reporters:
        for trace in traces(reporter):
            for where, texts in (
                ("staff", seen_by_staff),
                ("subscribers", seen_by_subscribers),
                ("logs", logged),
            ):
                if any(trace in text for text in texts):
                    found.append(f"{trace} in {where}")
    for where, texts in (("subscribers", seen_by_subscribers), ("logs", logged)):
        if any(PHONE in text for text in texts):
            found.append(f"phone in {where}")
        for words in WORDS.values():
            if where == "logs" and any(words in text for text in texts):
                found.append(f"typed words in {where}")
    if any("Deux jeunes filles" in text for text in logged):
        found.append("an answer to a validator in the logs")
    # by the reporter's choice, the validators may call them; subscribers never see it
    assert any(PHONE in text for text in seen_by_staff)
    print(
        f"privacy: {len(reporters)} reporters, {len(seen_by_staff)} staff messages, "
        f"{len(seen_by_subscribers)} subscriber messages, {len(caplog.records)} log records "
        f"searched; found: {found or 'nothing'}"
    )
    assert found == []
