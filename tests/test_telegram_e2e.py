"""End to end: the real Telegram adapter (python-telegram-bot, long polling) against the
Bot API emulator on 127.0.0.1, and the real `run_bot.py` process for the crash test."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import Kibaru
from bot.channels import telegram as telegram_channel
from bot.channels.telegram import Call, split_text
from bot.inbound import InboundEvent
from bot.outbound import Message
from bot.settings import Settings
from tests.bot_api_emulator import BotApiEmulator, SentMessage, SimUser
from tests.telegram_harness import running_bot

ROOT = Path(__file__).resolve().parent.parent
MENU_FR = "Que voulez-vous faire ?"
MENU_BM = "I b'a fɛ ka mun kɛ?"
MENU_EN = "What would you like to do?"
WELCOME_LABELS = ["Français", "Bamanankan", "English"]


@pytest.fixture
def tg_settings(db_path: Path, emulator: BotApiEmulator) -> Settings:
    return Settings(
        telegram_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_path=db_path,
        admins=(),
        timezone=ZoneInfo("Africa/Bamako"),
        default_language="fr",
    )


@pytest.fixture
async def bot(tg_settings: Settings) -> AsyncIterator[Kibaru]:
    async with running_bot(tg_settings) as channel:
        yield channel.kibaru


async def expect(emulator: BotApiEmulator, user: SimUser, count: int) -> list[SentMessage]:
    """The next `count` messages to the user (waits for them, never sleeps)."""
    before = len(emulator.messages_to(user.user_id))
    await emulator.wait_for_messages(user.user_id, before + count)
    return emulator.messages_to(user.user_id)[before:]


async def say(emulator: BotApiEmulator, user: SimUser, text: str, count: int = 1) -> list[str]:
    before = len(emulator.messages_to(user.user_id))
    await user.send_text(text)
    await emulator.wait_for_messages(user.user_id, before + count)
    return [m.text or "" for m in emulator.messages_to(user.user_id)[before:]]


async def press(emulator: BotApiEmulator, user: SimUser, label: str, count: int = 1) -> list[str]:
    before = len(emulator.messages_to(user.user_id))
    await user.press(label)
    await emulator.wait_for_messages(user.user_id, before + count)
    return [m.text or "" for m in emulator.messages_to(user.user_id)[before:]]


def last(emulator: BotApiEmulator, user: SimUser) -> SentMessage:
    return emulator.messages_to(user.user_id)[-1]


async def onboard(emulator: BotApiEmulator, user: SimUser, language: str = "Français") -> None:
    await say(emulator, user, "/start")
    await press(emulator, user, language)


# --- onboarding ------------------------------------------------------------------------------


async def test_onboarding_in_french(emulator: BotApiEmulator, bot: Kibaru) -> None:
    awa = emulator.user(501, "Awa", "fr")
    [welcome] = await say(emulator, awa, "/start")
    assert "Bienvenue sur Kibaru" in welcome and "I ni ce" in welcome
    assert last(emulator, awa).button_labels == WELCOME_LABELS
    # the privacy notice sits on top of the main menu: one message, one round trip
    [privacy_and_menu] = await press(emulator, awa, "Français")
    assert privacy_and_menu.startswith("🔒 Votre vie privée")
    assert "/effacer" in privacy_and_menu
    assert privacy_and_menu.endswith(f"\n\n{MENU_FR}")
    assert last(emulator, awa).button_labels == [
        "🚨 Signaler un incident",
        "📋 Mes signalements",
        "🔔 Alertes",
        "🏛️ Sessions CCS-C",
        "❓ Aide",
        "🌐 Langue",
    ]
    # two per row on small screens
    rows = last(emulator, awa).reply_markup["inline_keyboard"]  # type: ignore[index]
    assert [len(row) for row in rows] == [2, 2, 2]
    # every tap was answered, so the button stops spinning
    await emulator.wait_for(lambda: len(emulator.calls_to("answerCallbackQuery")) == 1)


async def test_onboarding_in_bambara(emulator: BotApiEmulator, bot: Kibaru) -> None:
    moussa = emulator.user(502, "Moussa", None)
    await say(emulator, moussa, "i ni ce")  # any first message gets the welcome question
    assert last(emulator, moussa).button_labels == WELCOME_LABELS
    [privacy_and_menu] = await press(emulator, moussa, "Bamanankan")
    assert "/effacer" in privacy_and_menu and "Votre vie privée" not in privacy_and_menu
    assert privacy_and_menu.endswith(f"\n\n{MENU_BM}")
    [help_and_menu] = await say(emulator, moussa, "/aide")
    assert "/signaler" in help_and_menu  # French command names for Bambara speakers
    assert help_and_menu.endswith(f"\n\n{MENU_BM}")


async def test_language_switch(emulator: BotApiEmulator, bot: Kibaru) -> None:
    awa = emulator.user(503)
    await onboard(emulator, awa)
    [question] = await say(emulator, awa, "/langue")
    assert question == "Choisissez votre langue :"
    assert last(emulator, awa).button_labels == [*WELCOME_LABELS, "⬅️ Retour", "✖️ Annuler"]
    [changed] = await press(emulator, awa, "English")
    assert changed == f"✅ Language chosen: English.\n\n{MENU_EN}"
    [again] = await say(emulator, awa, "/language")
    assert again == "Choose your language:"
    [changed] = await say(emulator, awa, "2")
    assert changed.endswith(MENU_BM)


async def test_cancel_and_back(emulator: BotApiEmulator, bot: Kibaru) -> None:
    awa = emulator.user(504)
    await onboard(emulator, awa)
    await say(emulator, awa, "/effacer")
    [cancelled] = await press(emulator, awa, "Annuler")
    assert cancelled == f"C'est annulé.\n\n{MENU_FR}"
    await say(emulator, awa, "/effacer")
    [back] = await say(emulator, awa, "/retour")
    assert back == MENU_FR
    await say(emulator, awa, "/effacer")
    [back] = await press(emulator, awa, "Retour")
    assert back == MENU_FR
    await say(emulator, awa, "/langue")
    [cancelled] = await say(emulator, awa, "annuler")
    assert cancelled.startswith("C'est annulé.")


async def test_command_menus_per_language(emulator: BotApiEmulator, bot: Kibaru) -> None:
    def names(language: str | None) -> list[str]:
        return [c["command"] for c in emulator.commands[language]]

    assert "signaler" in names("fr") and "effacer" in names("fr")
    assert "report" in names("en") and "forget" in names("en")
    assert "signaler" in names(None)  # any other client language: French
    bambara = {c["command"]: c["description"] for c in emulator.commands["bm"]}
    assert "signaler" in bambara and bambara["signaler"] != "Signaler un incident"
    english_alias = emulator.user(505)
    await onboard(emulator, english_alias)
    [reply] = await say(emulator, english_alias, "/myreports")  # aliases work in any language
    assert "signalement" in reply


# --- restarts --------------------------------------------------------------------------------


async def test_stale_button_after_restart(emulator: BotApiEmulator, tg_settings: Settings) -> None:
    awa = emulator.user(506)
    async with running_bot(tg_settings):
        await onboard(emulator, awa)
        await say(emulator, awa, "/effacer")
        old_question = last(emulator, awa)
        await say(emulator, awa, "/langue")
        current_question = last(emulator, awa)
    async with running_bot(tg_settings):
        before = len(emulator.messages_to(awa.user_id))
        await awa.press("Oui, tout effacer", message=old_question)
        [expired] = [m.text for m in await expect(emulator, awa, 1)]
        assert (
            expired == "Ce menu a expiré. Voici la question en cours :\n\nChoisissez votre langue :"
        )
        assert len(emulator.messages_to(awa.user_id)) == before + 1
        # the question that was current before the restart still answers
        await awa.press("English", message=current_question)
        [resumed] = [m.text for m in await expect(emulator, awa, 1)]
        assert resumed.startswith("✅ Language chosen: English.")
        assert "⚠️" in resumed  # the interrupted confirmation, asked again in English
        with sqlite3.connect(tg_settings.database_path) as conn:
            assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 1


def _start_process(settings: Settings, log_level: str = "INFO") -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIBARU_", "TELEGRAM_"))}
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": settings.telegram_token or "",
            "TELEGRAM_API_URL": settings.telegram_api_url,
            "KIBARU_DB": str(settings.database_path),
            "KIBARU_LOG_LEVEL": log_level,
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    return subprocess.Popen(
        [sys.executable, str(ROOT / "run_bot.py")],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_killed_mid_onboarding_continues_the_same_step(
    emulator: BotApiEmulator, tg_settings: Settings
) -> None:
    awa = emulator.user(507, "Awa", "fr")
    first = _start_process(tg_settings)
    try:
        [welcome] = await say(emulator, awa, "/start")
        assert "Bienvenue" in welcome
    finally:
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.communicate, timeout=30)
    # The user answers while the bot is down: the update waits at the Bot API.
    before = len(emulator.messages_to(awa.user_id))
    await awa.send_text("Bamanankan")
    second = _start_process(tg_settings)
    try:
        await emulator.wait_for(
            lambda: any(
                (m.text or "").endswith(MENU_BM) for m in emulator.messages_to(awa.user_id)[before:]
            )
        )
        texts = [m.text or "" for m in emulator.messages_to(awa.user_id)[before:]]
        # The /start may come back once: the process was killed after answering it but
        # before confirming it to Telegram. It is recognised and only re-asks the question.
        if len(texts) == 2:
            assert texts[0] == welcome
            texts = texts[1:]
        [privacy_and_menu] = texts
        assert "/effacer" in privacy_and_menu and "Votre vie privée" not in privacy_and_menu
        assert privacy_and_menu.endswith(MENU_BM)
        with sqlite3.connect(tg_settings.database_path) as conn:
            assert conn.execute("SELECT language FROM users").fetchall() == [("bm",)]
    finally:
        second.send_signal(signal.SIGTERM)
        # not a blocking wait: the emulator runs in this event loop and must keep answering
        _, stderr = await asyncio.to_thread(second.communicate, timeout=30)
    assert second.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "Bamanankan" not in stderr  # no message text in the logs
    assert (tg_settings.telegram_token or "?") not in stderr


async def test_debug_logs_of_the_real_process_hold_no_personal_data(
    emulator: BotApiEmulator, tg_settings: Settings
) -> None:
    awa = emulator.user(5_123_456_789, "Aminata", "fr", username="aminata_gao")
    process = _start_process(tg_settings, log_level="DEBUG")
    try:
        await say(emulator, awa, "/start")
        await press(emulator, awa, "Français")
        await say(emulator, awa, "Des hommes armés à Ansongo, appelez le +22376543210")
        await awa.send_contact("+22370000000")
        await emulator.wait_for_messages(awa.user_id, 4)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(process.communicate, timeout=30)
    assert "event " in stderr and "flow=menu step=main" in stderr  # DEBUG is on...
    for secret in (
        "Aminata",
        "aminata_gao",
        "Ansongo",
        "22376543210",
        "22370000000",
        "5123456789",
        tg_settings.telegram_token or "?",
    ):
        assert secret not in stderr, secret  # ...and still nothing personal


# --- bad input -----------------------------------------------------------------------------------


async def test_bad_inputs(emulator: BotApiEmulator, bot: Kibaru) -> None:
    awa = emulator.user(508)
    await onboard(emulator, awa)
    await say(emulator, awa, "/effacer")
    confirm = "⚠️ Effacer toutes vos données ?"

    async def reply_to(action: object) -> str:
        before = len(emulator.messages_to(awa.user_id))
        await action  # type: ignore[misc]
        await emulator.wait_for_messages(awa.user_id, before + 1)
        messages = emulator.messages_to(awa.user_id)[before:]
        assert len(messages) == 1
        return messages[0].text or ""

    sticker = await reply_to(awa.send_sticker())
    assert sticker.startswith("Je ne peux pas utiliser un autocollant.") and confirm in sticker
    gif = await reply_to(awa.send_animation())
    assert gif.startswith("Je ne peux pas utiliser une animation (GIF).")
    poll = await reply_to(awa.send_poll())
    assert poll.startswith("Je ne peux pas utiliser un sondage.")
    long_text = await reply_to(awa.send_text("x" * 4090))
    assert long_text.startswith("Votre message est trop long (4\u202f090 caractères")
    await reply_to(awa.send_text("peut-être"))  # text where a button is expected
    assert last(emulator, awa).button_labels[:2] == [
        "🗑️ Oui, tout effacer",
        "Non, garder mes données",
    ]
    edited = await reply_to(awa.edit(awa.last_message_id, "oui"))
    assert edited.startswith("Vous avez modifié un message")
    unknown = await reply_to(awa.send_text("/xyz"))
    assert unknown.startswith("Je ne connais pas la commande /xyz.")
    assert "/signaler" in unknown and confirm in unknown
    photo = await reply_to(awa.send_photo())
    assert "touchez un bouton" in photo
    # Every earlier answer is still there: the language, and the step.
    assert confirm in (last(emulator, awa).text or "")
    with sqlite3.connect(bot.settings.database_path) as conn:
        assert conn.execute("SELECT language FROM users").fetchone()[0] == "fr"


async def test_groups(emulator: BotApiEmulator, bot: Kibaru) -> None:
    awa = emulator.user(509)
    group = emulator.group(-100200, "Comité")
    await group.add_bot(by=awa)
    await group.send_text(awa, "bonjour tout le monde")
    await group.send_text(awa, "/start@kibaru_test_bot")
    await emulator.wait_for_messages(-100200, 1)
    [notice] = emulator.messages_to(-100200)
    assert "conversation privée" in (notice.text or "")
    await group.send_text(awa, "/start@some_other_bot")
    await group.send_text(awa, "/aide")
    await emulator.wait_for_messages(-100200, 2)
    await emulator.wait_for(lambda: emulator.pending_updates == 0)
    assert len(emulator.messages_to(-100200)) == 2  # only the commands got an answer
    with sqlite3.connect(bot.settings.database_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0


async def test_error_apology_without_details_in_logs(
    emulator: BotApiEmulator,
    bot: Kibaru,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    awa = emulator.user(510)
    await onboard(emulator, awa, "Bamanankan")

    async def broken(event: object) -> list[object]:
        raise RuntimeError(getattr(event, "text", ""))  # an error message carrying user text

    monkeypatch.setattr(bot.conversations, "handle", broken)
    caplog.set_level(logging.INFO)
    update_id = await awa.send_text("my secret report text")
    [apology] = [m.text or "" for m in await expect(emulator, awa, 1)]
    assert "/menu" in apology and "Désolé" not in apology  # in Bambara
    assert f"update {update_id} failed: RuntimeError" in caplog.text
    assert "secret" not in caplog.text


async def test_replies_are_sent_only_after_the_commit(
    emulator: BotApiEmulator, bot: Kibaru, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str | None] = []
    original = telegram_channel.calls_for

    async def checking_calls(app: object, chat_id: int | str, message: object) -> list[Call]:
        with sqlite3.connect(bot.settings.database_path) as conn:  # sees committed data only
            row = conn.execute("SELECT language FROM users WHERE chat_id = ?", (str(chat_id),))
            found = row.fetchone()
            seen.append(found[0] if found else None)
        return await original(app, chat_id, message)  # type: ignore[arg-type]

    monkeypatch.setattr(telegram_channel, "calls_for", checking_calls)
    awa = emulator.user(511)
    await onboard(emulator, awa, "English")
    assert seen == [None, "en"]


async def test_a_batch_is_committed_whole_before_any_reply(
    emulator: BotApiEmulator, tg_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Updates waiting together (a busy moment) are handled as one batch: every user of it
    is in the database before the first reply leaves, and each chat keeps its order."""
    users = [emulator.user(520 + i) for i in range(5)]
    for user in users:
        await user.send_text("/start")
    await users[0].send_command("aide")
    stored_at_first_send: list[int] = []
    original = telegram_channel.calls_for

    async def checking_calls(app: object, chat_id: int | str, message: object) -> list[Call]:
        if not stored_at_first_send:
            with sqlite3.connect(tg_settings.database_path) as conn:
                count = conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]
            stored_at_first_send.append(count)
        return await original(app, chat_id, message)  # type: ignore[arg-type]

    monkeypatch.setattr(telegram_channel, "calls_for", checking_calls)
    async with running_bot(tg_settings):
        for user in users:
            await emulator.wait_for_messages(user.user_id, 2 if user is users[0] else 1)
        await emulator.wait_for(lambda: emulator.pending_updates == 0)
    assert stored_at_first_send == [5]
    welcome, help_then_welcome = emulator.messages_to(users[0].user_id)
    assert "Bienvenue sur Kibaru" in (welcome.text or "")
    assert help_then_welcome.button_labels == WELCOME_LABELS


async def test_answered_updates_are_confirmed_while_the_batch_still_replies(
    emulator: BotApiEmulator, tg_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's replies can take seconds (paced during a broadcast); the updates answered
    meanwhile are confirmed, so that a crash then brings back only the ones still waiting."""
    users = [emulator.user(540 + i) for i in range(4)]
    for user in users:
        await user.send_text("/start")
    held = asyncio.Event()
    original = telegram_channel.calls_for

    async def slow_for_the_last(app: object, chat_id: int | str, message: object) -> list[object]:
        calls = await original(app, chat_id, message)  # type: ignore[arg-type]
        if int(chat_id) != users[-1].user_id:
            return calls  # type: ignore[return-value]

        async def held_back() -> object:
            await held.wait()
            return await calls[0]()

        return [held_back, *calls[1:]]

    monkeypatch.setattr(telegram_channel, "calls_for", slow_for_the_last)
    async with running_bot(tg_settings) as channel:
        channel.confirm_every = 0.01
        try:
            for user in users[:-1]:
                await emulator.wait_for_messages(user.user_id, 1)
            # the last reply is still going out: all the updates before it are confirmed
            await emulator.wait_for(lambda: emulator.pending_updates == 1, 5, recheck=0.01)
        finally:
            held.set()
        await emulator.wait_for_messages(users[-1].user_id, 1)


async def test_one_failing_update_costs_only_its_own_answer(
    emulator: BotApiEmulator,
    tg_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug hit by one update of a batch rolls the batch back; the others are handled again
    one by one and answered, and the unlucky one gets the apology."""
    users = [emulator.user(530 + i) for i in range(3)]
    for user in users:
        await user.send_text("/start")
    caplog.set_level(logging.WARNING)
    async with running_bot(tg_settings) as channel:
        original = channel.kibaru.conversations.handle
        calls: list[str] = []

        async def fragile(event: InboundEvent) -> list[Message]:
            calls.append(event.sender.chat_id)
            replies = await original(event)
            if event.sender.chat_id == str(users[1].user_id):
                raise RuntimeError("bug")
            return replies

        monkeypatch.setattr(channel.kibaru.conversations, "handle", fragile)
        for user in users:
            await emulator.wait_for_messages(user.user_id, 1)
    assert len(calls) == 5  # the batch up to the failure, then each update again on its own
    assert "a batch of 3 updates failed (RuntimeError)" in caplog.text
    assert "Bienvenue sur Kibaru" in (emulator.messages_to(users[0].user_id)[0].text or "")
    assert "/menu" in (emulator.messages_to(users[1].user_id)[0].text or "")
    assert "Bienvenue sur Kibaru" in (emulator.messages_to(users[2].user_id)[0].text or "")
    with sqlite3.connect(tg_settings.database_path) as conn:  # each stored once, not twice
        stored = [row[0] for row in conn.execute("SELECT chat_id FROM users ORDER BY chat_id")]
    assert stored == [str(user.user_id) for user in users]


def test_split_text_keeps_every_character() -> None:
    text = "\n\n".join(f"paragraphe {i} " + "mot " * 300 for i in range(8))
    parts = split_text(text, limit=4096)
    assert all(len(p) <= 4096 for p in parts)
    assert len(parts) > 1
    assert "".join(parts).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )
