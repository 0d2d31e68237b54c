"""A CCS-C session end to end through the Bot API emulator: two residents ask to join and the
secretary approves them with the button, the secretary creates a session, the invitation is
answered with its button, the reminder is delivered at its time after a restart, the one
missed while the bot was down is dropped, then the check-in code, the roll-call and the
participation figures."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.settings import Settings
from storage import roles, users
from storage.roles import Role
from tests.bot_api_emulator import BotApiEmulator, SentMessage, SimUser
from tests.telegram_harness import running_bot

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday, 09:00 in Bamako


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def tg_settings(db_path: Path, emulator: BotApiEmulator) -> Settings:
    return Settings(
        telegram_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_path=db_path,
        admins=(),
        timezone=ZoneInfo("Africa/Bamako"),
    )


async def reply(emulator: BotApiEmulator, user: SimUser, needle: str) -> SentMessage:
    """The first message to `user` containing `needle`, once it has arrived."""

    def found() -> SentMessage | None:
        for message in emulator.messages_to(user.user_id):
            if needle in (message.text or ""):
                return message
        return None

    await emulator.wait_for(lambda: found() is not None, 20)
    message = found()
    assert message is not None
    return message


async def step(emulator: BotApiEmulator, user: SimUser, action: str, value: str) -> None:
    before = len(emulator.messages_to(user.user_id))
    if action == "text":
        await user.send_text(value)
    else:
        await user.press(value)
    await emulator.wait_for_messages(user.user_id, before + 1)


async def appoint(kibaru: Kibaru, secretary: SimUser) -> None:
    async with kibaru.db.transaction() as conn:
        found = await users.find(conn, "telegram", str(secretary.user_id))
        assert found is not None
        await roles.grant(conn, found.id, Role.CCSC_SECRETARY, NOW, "ccsc_bamako_c4")


async def join(
    emulator: BotApiEmulator, resident: SimUser, secretary: SimUser, *answers: str
) -> None:
    """/ccsc by buttons (commune, member type, sex, age group), a first name, then the
    secretary's Approve button."""
    await step(emulator, resident, "text", "/ccsc")
    for label in ("Commune IV", *answers[:-1]):
        await step(emulator, resident, "press", label)
    await step(emulator, resident, "text", answers[-1])
    before = len(emulator.messages_to(secretary.user_id))
    await step(emulator, resident, "press", "Envoyer")
    await emulator.wait_for_messages(secretary.user_id, before + 1)
    request = emulator.messages_to(secretary.user_id)[-1]
    assert answers[-1] in (request.text or "")
    await step(emulator, secretary, "press", "Approuver")
    await reply(emulator, resident, "Bienvenue")


def reminder_rows(database: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(database) as conn:
        return list(
            conn.execute(
                "SELECT status, not_before, last_error FROM outbox WHERE kind = 'reminder'"
                " ORDER BY not_before"
            )
        )


async def test_session_invitation_reminder_roll_call_and_check_in(
    emulator: BotApiEmulator, tg_settings: Settings, clock: ManualClock
) -> None:
    secretary, awa = emulator.user(400), emulator.user(502, "Awa", "fr")
    bakary = emulator.user(503, "Bakary", "fr")
    async with running_bot(tg_settings, clock) as channel:
        for user in (secretary, awa, bakary):
            await step(emulator, user, "text", "/start")
            await step(emulator, user, "press", "Français")
        await appoint(channel.kibaru, secretary)
        await join(emulator, awa, secretary, "Représentante des femmes", "Femme", "18 à 24", "Awa")
        await join(emulator, bakary, secretary, "FSI", "Homme", "plus de 35", "Bakary")
        for action, value in (
            ("text", "/session_nouvelle"),
            ("press", "statutaire"),
            ("text", "Réunion statutaire de novembre"),
            ("text", "demain"),
            ("text", "10h"),
            ("text", "Mairie de la Commune IV"),
            ("press", "Passer"),
            ("press", "Passer"),
        ):
            await step(emulator, secretary, action, value)
        await secretary.press("Créer et inviter")
        created = await reply(emulator, secretary, "Code de présence")
        code = (created.text or "").split("Code de présence : ")[1][:4]
        invitation = await reply(emulator, awa, "Invitation")
        assert "mardi 24 novembre 2026 à 10:00" in (invitation.text or "")
        await awa.press("Je viendrai", invitation)
        await reply(emulator, awa, "Réponse enregistrée")
        await bakary.press("Peut-être", await reply(emulator, bakary, "Invitation"))
        await reply(emulator, bakary, "Réponse enregistrée")
    assert [r[0] for r in reminder_rows(tg_settings.database_path)] == ["queued"] * 4

    clock.set(datetime(2026, 11, 23, 10, 0, 1, tzinfo=UTC))  # the 24 h reminder is due
    async with running_bot(tg_settings, clock):
        reminder = await reply(emulator, awa, "Rappel")
        assert "Réunion statutaire de novembre" in (reminder.text or "")
        await reply(emulator, bakary, "Rappel")

    clock.set(datetime(2026, 11, 24, 10, 5, tzinfo=UTC))  # down through the 2 h reminder
    async with running_bot(tg_settings, clock):
        roll_call = await reply(emulator, secretary, "commence")
        assert code in (roll_call.text or "")
        await step(emulator, awa, "text", f"/presence {code}")
        await reply(emulator, awa, "Présence enregistrée")
        await secretary.press("Faire l'appel", roll_call)
        roll = await reply(emulator, secretary, "📋 Appel")
        assert roll.button_labels[0] == "✅ Awa · présent"  # checked in with the code
        assert roll.button_labels[2] == "▫️ Bakary · présent"
        await secretary.press("Bakary", roll)  # came without his phone: marked by the secretary

        def rolls() -> list[SentMessage]:
            return [
                m for m in emulator.messages_to(secretary.user_id) if "📋 Appel" in (m.text or "")
            ]

        await emulator.wait_for(lambda: len(rolls()) == 2, 20)
        roll = rolls()[-1]
        assert roll.button_labels[2] == "✅ Bakary · présent"
        await secretary.send_text("/participation")
        figures = (await reply(emulator, secretary, "participants, dont")).text or ""
    # Awa (woman, 18-24) and Bakary (FSI, over 35) came: 2 participants, 1 woman (50 %),
    # 1 youth (50 %), 1 FSI; both had said yes or maybe.
    assert "2 participants, dont 1 femme (50 %), 1 jeune (50 %) et 1 FSI" in figures
    assert reminder_rows(tg_settings.database_path) == [
        ("sent", "2026-11-23T10:00:00.000+00:00", None),
        ("sent", "2026-11-23T10:00:00.000+00:00", None),
        ("cancelled", "2026-11-24T08:00:00.000+00:00", "expired"),
        ("cancelled", "2026-11-24T08:00:00.000+00:00", "expired"),
    ]
    assert len([m for m in emulator.messages_to(awa.user_id) if "Rappel" in (m.text or "")]) == 1
