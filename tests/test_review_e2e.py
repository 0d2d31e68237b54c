"""Review and dissemination end to end: the real Telegram channel, the outbox sender and the
Bot API emulator. A report is filed by a reporter, posted in the review group, decided there
by a validator in private, and the alert reaches exactly the right subscribers, each in their
language."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.settings import Settings
from storage import roles, subscriptions, users
from storage.roles import Role
from storage.subscriptions import AreaKind
from tests.bot_api_emulator import BotApiEmulator, SentMessage, SimUser
from tests.telegram_harness import running_bot

NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
GROUP = -100500


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def tg_settings(db_path: Path, emulator: BotApiEmulator) -> Settings:
    return Settings(
        telegram_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_path=db_path,
        admins=(400,),
        timezone=ZoneInfo("Africa/Bamako"),
        review_chat_id=GROUP,
        # one person files three reports while the manual clock stands still: no flood
        # control here (tests/test_flood.py tests it)
        flood_burst=1000,
    )


@pytest.fixture
async def bot(
    tg_settings: Settings, clock: ManualClock, emulator: BotApiEmulator
) -> AsyncIterator[Kibaru]:
    emulator.group(GROUP, "Analystes NEWS")
    async with running_bot(tg_settings, clock) as channel:
        yield channel.kibaru


async def said(emulator: BotApiEmulator, user: SimUser, count: int = 1) -> list[SentMessage]:
    before = len(emulator.messages_to(user.user_id))
    await emulator.wait_for_messages(user.user_id, before + count)
    return emulator.messages_to(user.user_id)[before:]


async def onboard(emulator: BotApiEmulator, user: SimUser, language: str) -> None:
    await user.send_text("/start")
    await said(emulator, user)
    await user.press(language)
    await said(emulator, user)


async def follow(bot: Kibaru, user: SimUser, kind: AreaKind, code: str, min_severity: int) -> None:
    async with bot.db.transaction() as conn:
        found = await users.find(conn, "telegram", str(user.user_id))
        assert found is not None
        await subscriptions.subscribe(conn, found.id, kind, code, min_severity, "now", None, NOW)


async def grant(bot: Kibaru, user: SimUser, role: Role) -> None:
    async with bot.db.transaction() as conn:
        found = await users.find(conn, "telegram", str(user.user_id))
        assert found is not None
        await roles.grant(conn, found.id, role, NOW)


async def file_report(emulator: BotApiEmulator, reporter: SimUser) -> None:
    """An armed attack today in Commune IV of Bamako, anonymous."""
    steps: list[tuple[str, str, int]] = [
        ("text", "/signaler", 1),
        ("press", "Attaque armée", 1),
        ("press", "Aujourd'hui", 1),
        ("text", "8h30", 1),
        ("text", "Bamako", 2),  # the location keyboard goes, then the communes
        ("press", "Commune IV", 1),
        ("press", "Passer", 1),
        ("text", "Des hommes armés ont attaqué le marché de Médina Coura", 1),
        ("press", "Je ne sais pas", 1),
        ("press", "Passer", 1),
        ("press", "Rester anonyme", 1),
    ]
    for kind, value, replies in steps:
        before = len(emulator.messages_to(reporter.user_id))
        if kind == "text":
            await reporter.send_text(value)
        else:
            await reporter.press(value)
        await emulator.wait_for_messages(reporter.user_id, before + replies)
    before = len(emulator.messages_to(reporter.user_id))
    await reporter.press("Envoyer")
    await emulator.wait_for_messages(reporter.user_id, before + 1)


async def test_a_validated_alert_reaches_exactly_its_subscribers(
    emulator: BotApiEmulator, bot: Kibaru
) -> None:
    reporter, validator = emulator.user(1001), emulator.user(500)
    near_fr, near_bm, far_en, strict_fr = (
        emulator.user(601, language_code="fr"),
        emulator.user(602, language_code="bm"),
        emulator.user(603, language_code="en"),
        emulator.user(604, language_code="fr"),
    )
    await onboard(emulator, reporter, "Français")
    await onboard(emulator, validator, "Français")
    await grant(bot, validator, Role.VALIDATOR)
    for user, language in (
        (near_fr, "Français"),
        (near_bm, "Bamanankan"),
        (far_en, "English"),
        (strict_fr, "Français"),
    ):
        await onboard(emulator, user, language)
    await follow(bot, near_fr, AreaKind.REGION, "bamako", 3)
    await follow(bot, near_bm, AreaKind.COMMUNE, "bamako_c4", 1)
    await follow(bot, far_en, AreaKind.REGION, "mopti", 1)
    await follow(bot, strict_fr, AreaKind.REGION, "bamako", 4)

    await file_report(emulator, reporter)
    [post] = await emulator.wait_for_messages(GROUP, 1)
    assert "Rapporteur #" in (post.text or "") and "1001" not in (post.text or "")

    # The validator decides from the group; the questions come privately.
    await validator.press("Valider", post)
    [severity] = await said(emulator, validator)
    assert "gravité" in (severity.text or "")
    await validator.press("Alerte")
    await said(emulator, validator)
    await validator.press("abonnés")
    await said(emulator, validator)
    # Counted before the alerts leave: they go out side by side, in no set order.
    before = {user.user_id: len(emulator.messages_to(user.user_id)) for user in (near_fr, near_bm)}
    await validator.press("Passer")
    await said(emulator, validator)

    fr_alert, bm_alert = [
        (await emulator.wait_for_messages(user.user_id, before[user.user_id] + 1))[
            before[user.user_id]
        ]
        for user in (near_fr, near_bm)
    ]
    assert "🟠" in (fr_alert.text or "") and "Commune IV" in (fr_alert.text or "")
    assert "Alerte" in (fr_alert.text or "") and (bm_alert.text or "") != (fr_alert.text or "")
    assert "Médina Coura" not in (fr_alert.text or "")
    await emulator.wait_for(
        lambda: "validé" in (emulator.messages_to(reporter.user_id)[-1].text or "")
    )
    # the review message now shows who decided, without buttons
    await emulator.wait_for(
        lambda: any("Validé par" in (edit.text or "") for edit in emulator.edits_in(GROUP))
    )
    assert emulator.messages_to(far_en.user_id)[2:] == []
    assert emulator.messages_to(strict_fr.user_id)[2:] == []


async def test_forged_presses_are_refused_and_audited(
    emulator: BotApiEmulator, bot: Kibaru, tg_settings: Settings
) -> None:
    reporter, stranger = emulator.user(1001), emulator.user(666)
    await onboard(emulator, reporter, "Français")
    await file_report(emulator, reporter)
    [post] = await emulator.wait_for_messages(GROUP, 1)
    await stranger.press("Valider", post)
    [refusal] = await said(emulator, stranger)
    assert "pas le droit" in (refusal.text or "")
    await stranger.press_data("!rv:1:val", post.message_id)
    await said(emulator, stranger)
    with sqlite3.connect(tg_settings.database_path) as conn:
        refused = conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'refused'")
        assert refused.fetchone()[0] == 2
        status = conn.execute("SELECT status FROM reports").fetchone()[0]
    assert status == "received"


async def test_reject_ask_details_and_duplicate_through_telegram(
    emulator: BotApiEmulator, bot: Kibaru
) -> None:
    """Each decision from the review group, with what the reporter reads, in their language."""
    reporter, validator = emulator.user(1001), emulator.user(500)
    await onboard(emulator, reporter, "English")
    await onboard(emulator, validator, "Français")
    await grant(bot, validator, Role.VALIDATOR)
    async with bot.db.transaction() as conn:  # the reporter accepts contact through the bot
        await conn.execute("UPDATE users SET language = 'fr' WHERE chat_id = '1001'")
    # three reports of the same attack, the first two accepting contact
    for _ in range(3):
        await file_report(emulator, reporter)
    async with bot.db.transaction() as conn:
        await conn.execute("UPDATE reports SET contact = 'via_bot' WHERE id IN (1, 2)")
        await conn.execute("UPDATE users SET language = 'en' WHERE chat_id = '1001'")
    first, second, third = await emulator.wait_for_messages(GROUP, 3)

    # ask for details: relayed without the asker, answered with the pseudonym only
    await validator.press("Demander des précisions", first)
    await said(emulator, validator)
    await validator.send_text("Combien d'hommes armés avez-vous vus ?")
    await emulator.wait_for(
        lambda: "Combien d'hommes" in (emulator.messages_to(reporter.user_id)[-1].text or "")
    )
    relayed = emulator.messages_to(reporter.user_id)[-1]
    assert "analysis team" in (relayed.text or "") and "Awa" not in (relayed.text or "")
    await reporter.press("Reply", relayed)
    await said(emulator, reporter)
    await reporter.send_text("About ten, on motorbikes")
    await emulator.wait_for(
        lambda: any(
            "About ten, on motorbikes" in (m.text or "")
            for m in emulator.messages_to(validator.user_id)
        )
    )
    answer = next(
        m for m in emulator.messages_to(validator.user_id) if "About ten" in (m.text or "")
    )
    assert "Rapporteur #" in (answer.text or "") and "1001" not in (answer.text or "")

    # duplicate: the second report is the first one again
    await validator.press("Doublon", second)
    await said(emulator, validator)
    await validator.press("ML-2026-000001")
    await emulator.wait_for(
        lambda: (
            "ML-2026-000001" in (emulator.messages_to(reporter.user_id)[-1].text or "")
            and "ML-2026-000002" in (emulator.messages_to(reporter.user_id)[-1].text or "")
        )
    )

    # reject with a reason the reporter is told, in English
    await validator.press("Rejeter", third)
    await said(emulator, validator)
    await validator.press("Trop peu de détails")
    await said(emulator, validator)
    await validator.press("Oui")
    await emulator.wait_for(
        lambda: "ML-2026-000003" in (emulator.messages_to(reporter.user_id)[-1].text or "")
    )
    rejection = emulator.messages_to(reporter.user_id)[-1].text or ""
    assert "Rejet" not in rejection and "Trop peu" not in rejection  # English, not French
    await emulator.wait_for(
        lambda: sum("par Awa" in (e.text or "") for e in emulator.edits_in(GROUP)) >= 2
    )


async def test_two_validators_racing_through_telegram(
    emulator: BotApiEmulator, bot: Kibaru
) -> None:
    reporter, awa, moussa = emulator.user(1001), emulator.user(500), emulator.user(501, "Moussa")
    await onboard(emulator, reporter, "Français")
    for validator in (awa, moussa):
        await onboard(emulator, validator, "Français")
        await grant(bot, validator, Role.VALIDATOR)
    await file_report(emulator, reporter)
    [post] = await emulator.wait_for_messages(GROUP, 1)
    await awa.press("Valider", post)
    await moussa.press("Rejeter", post)  # the same batch, most likely
    await said(emulator, awa)
    await said(emulator, moussa)
    await awa.press("Urgence")
    await said(emulator, awa)
    await moussa.press("Impossible à vérifier")
    await said(emulator, moussa)
    await awa.press("Points focaux")
    await said(emulator, awa)
    await moussa.press("Non")
    await emulator.wait_for(
        lambda: any("ML-2026-000001 rejeté" in (m.text or "") for m in emulator.messages_to(501))
    )
    await awa.press("Passer")
    await emulator.wait_for(
        lambda: any(
            "déjà été traité par Moussa" in (m.text or "") for m in emulator.messages_to(500)
        )
    )
    with sqlite3.connect(bot.settings.database_path) as conn:
        [(decision, by)] = conn.execute(
            "SELECT decision, decided_by_name FROM review_decisions"
        ).fetchall()
        alerts = conn.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
    assert (decision, by, alerts) == ("rejected", "Moussa", 0)  # the first to finish wins
