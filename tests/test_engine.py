"""The conversation core, driven without any channel."""

from __future__ import annotations

import pytest

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.engine import BACK, CANCEL, MAX_TEXT_LENGTH
from bot.inbound import ChatKind, MediaKind, TextEvent
from bot.outbound import Question
from bot.settings import Settings
from storage import conversations, users
from tests.chat_driver import ChatDriver

MENU = "Que voulez-vous faire ?"
LANGUAGE_LABELS = ["Français", "Bamanankan", "English"]


async def onboard(chat: ChatDriver, language: str = "Français") -> None:
    await chat.command("start")
    await chat.tap(language)


async def state_of(kibaru: Kibaru, chat: ChatDriver) -> conversations.ConversationState:
    async with kibaru.db.reading() as conn:
        user = await users.find(conn, chat.sender.channel, chat.sender.chat_id)
        assert user is not None
        state = await conversations.load(conn, user.id)
    assert state is not None
    return state


# --- onboarding ------------------------------------------------------------------------------


async def test_first_contact_asks_language_in_every_language(chat: ChatDriver) -> None:
    await chat.text("bonjour")
    question = chat.question
    assert chat.labels == LANGUAGE_LABELS
    assert "Je n'ai pas compris" not in question.text  # a greeting is not a wrong answer
    assert "I ni ce" in question.text
    assert "Bienvenue sur Kibaru" in question.text
    assert "Welcome to Kibaru" in question.text
    assert question.navigation == ()  # nothing to go back to yet


async def test_onboarding_french_privacy_then_menu(chat: ChatDriver, kibaru: Kibaru) -> None:
    await onboard(chat)
    [notice_and_menu] = [m.text for m in chat.last_replies]
    assert notice_and_menu.startswith("🔒 Votre vie privée")
    assert "/effacer" in notice_and_menu
    assert notice_and_menu.endswith(MENU)
    assert chat.labels[0] == "🚨 Signaler un incident"
    async with kibaru.db.reading() as conn:
        user = await users.find(conn, "test", "1001")
    assert user is not None and user.language == "fr"


async def test_onboarding_bambara(chat: ChatDriver) -> None:
    await onboard(chat, "Bamanankan")
    assert len(chat.last_replies) == 1  # the notice on top of the menu, in one message
    assert chat.last.text.endswith("\n\nI b'a fɛ ka mun kɛ?")
    assert "/effacer" in chat.last.text
    assert "Votre vie privée" not in chat.last.text
    bambara_menu = chat.question
    assert len(bambara_menu.choices) == 6
    assert bambara_menu.choices[0].key == "report"


async def test_language_typed_by_number_label_or_alias(kibaru: Kibaru) -> None:
    for chat_id, typed, expected in (
        ("a", "2", "bm"),
        ("b", "english", "en"),
        ("c", "BAMBARA", "bm"),
        ("d", "francais", "fr"),
        ("e", "bama", "bm"),
    ):
        chat = ChatDriver(kibaru.conversations, chat_id=chat_id)
        await chat.command("start")
        await chat.text(typed)
        async with kibaru.db.reading() as conn:
            user = await users.find(conn, "test", chat_id)
        assert user is not None and user.language == expected, typed


async def test_language_hint_picks_the_default_until_a_choice(kibaru: Kibaru) -> None:
    chat = ChatDriver(kibaru.conversations, chat_id="hint", hint="en")
    await chat.command("start")
    await chat.command("annuler")  # skips the choice: the client's language is used
    assert "What would you like to do?" in chat.last.text


# --- choices -------------------------------------------------------------------------------------


async def test_text_where_a_button_is_expected_reasks_with_options(chat: ChatDriver) -> None:
    await onboard(chat)
    await chat.text("je veux voir")
    assert "Je n'ai pas compris « je veux voir »" in chat.last.text
    assert "(1 à 6)" in chat.last.text
    assert isinstance(chat.last, Question) and len(chat.last.choices) == 6


async def test_number_out_of_range_is_refused(chat: ChatDriver) -> None:
    await onboard(chat)
    await chat.text("9")
    assert "Je n'ai pas compris" in chat.last.text


async def test_the_sessions_entry_answers_by_number_label_word_and_command(
    chat: ChatDriver,
) -> None:
    await onboard(chat)
    for entry in ("4", "Sessions CCS-C", "sessions"):
        await chat.text(entry)
        assert "Aucune session à venir" in chat.last.text
        assert MENU in chat.last.text
    await chat.command("sessions")
    assert "Aucune session à venir" in chat.last.text


async def test_menu_help_and_language_entries(chat: ChatDriver) -> None:
    await onboard(chat)
    await chat.tap("Aide")
    assert "/signaler" in chat.last_replies[0].text
    assert MENU in chat.last.text
    await chat.tap("Langue")
    assert chat.labels == LANGUAGE_LABELS
    await chat.tap("English")
    assert chat.last.text == "✅ Language chosen: English.\n\nWhat would you like to do?"
    await chat.command("help")
    assert "/report — Report an incident" in chat.last_replies[0].text


# --- stale buttons -------------------------------------------------------------------------------


async def test_button_of_an_old_question_has_expired(chat: ChatDriver) -> None:
    await chat.command("start")
    first = chat.question
    await chat.tap("Français")
    await chat.tap("Français", question=first)
    assert "Ce menu a expiré" in chat.last.text
    assert MENU in chat.last.text


async def test_crafted_callback_data_is_treated_as_expired(chat: ChatDriver) -> None:
    await onboard(chat)
    await chat.malformed()
    assert "Ce menu a expiré" in chat.last.text
    await chat.tap_key(chat.question.prompt, "no_such_option")
    assert "plus valable" in chat.last.text


# --- global commands -------------------------------------------------------------------------


async def test_help_at_a_step_keeps_the_step(chat: ChatDriver) -> None:
    await onboard(chat)
    await chat.command("effacer")
    await chat.command("aide")
    assert "/effacer" in chat.last_replies[0].text
    assert "Effacer toutes vos données" in chat.last.text


async def test_english_aliases_work_in_french(chat: ChatDriver) -> None:
    await onboard(chat)
    await chat.command("help")
    assert "/signaler" in chat.last_replies[0].text
    await chat.command("language")
    assert chat.labels == LANGUAGE_LABELS


async def test_unknown_command_gives_short_help_and_keeps_step(chat: ChatDriver) -> None:
    await onboard(chat)
    await chat.command("effacer")
    await chat.command("xyz")
    assert "Je ne connais pas la commande /xyz" in chat.last.text
    assert "Effacer toutes vos données" in chat.last.text


@pytest.mark.parametrize("how", ["tap", "command", "typed"])
async def test_cancel_at_a_step_returns_to_menu(chat: ChatDriver, how: str) -> None:
    await onboard(chat)
    await chat.command("langue")
    if how == "tap":
        await chat.tap("Annuler")
    elif how == "command":
        await chat.command("annuler")
    else:
        await chat.text("annuler")
    assert "C'est annulé." in chat.last.text
    assert MENU in chat.last.text


@pytest.mark.parametrize("how", ["tap", "command", "typed"])
async def test_back_at_first_step_returns_to_what_was_before(chat: ChatDriver, how: str) -> None:
    await onboard(chat)
    await chat.command("effacer")
    if how == "tap":
        await chat.tap("Retour")
    elif how == "command":
        await chat.command("retour")
    else:
        await chat.text("Retour")
    assert MENU in chat.last.text


async def test_cancel_and_back_at_the_menu(chat: ChatDriver) -> None:
    await onboard(chat)
    await chat.command("cancel")
    assert "rien à annuler" in chat.last.text
    await chat.command("back")
    assert "déjà au menu principal" in chat.last.text


async def test_nav_buttons_on_every_step_of_every_flow(chat: ChatDriver, kibaru: Kibaru) -> None:
    """Every step of every flow, reached from the menu, offers back and cancel that work."""
    await onboard(chat)
    features = kibaru.conversations.features
    starters = {features.language_flow: "langue", features.forget_flow: "effacer"}
    for flow_name, command in starters.items():
        flow = features.flows[flow_name]
        for step_name in flow.steps:
            await chat.command(command)
            state = await state_of(kibaru, chat)
            assert state.top.flow == flow_name
            if state.top.step != step_name:
                continue  # only first steps are reachable without answers in these flows
            assert [b.key for b in chat.question.navigation] == [BACK, CANCEL]
            await chat.tap("Retour")
            assert MENU in chat.last.text
            await chat.command(command)
            await chat.tap("Annuler")
            assert MENU in chat.last.text
            assert (await state_of(kibaru, chat)).top.flow == features.menu_flow


async def test_language_switch_mid_flow_resumes_the_question(chat: ChatDriver) -> None:
    await onboard(chat)
    await chat.command("effacer")
    await chat.command("langue")
    await chat.tap("English")
    text = chat.last.text
    assert text.startswith("✅ Language chosen: English.")
    assert "Effacer toutes vos données" not in text  # asked again, now in English
    assert isinstance(chat.last, Question)
    assert [b.key for b in chat.last.choices] == ["yes", "no"]


async def test_start_again_goes_to_menu_and_keeps_language(chat: ChatDriver) -> None:
    await onboard(chat)
    await chat.command("effacer")
    await chat.command("start")
    assert "Bon retour" in chat.last.text
    assert MENU in chat.last.text


async def test_menu_command_leaves_any_flow(chat: ChatDriver) -> None:
    await onboard(chat)
    await chat.command("langue")
    await chat.command("menu")
    assert MENU in chat.last.text


# --- forget ------------------------------------------------------------------------------------


async def test_forget_after_confirmation_deletes_everything(
    chat: ChatDriver, kibaru: Kibaru
) -> None:
    await onboard(chat)
    await chat.command("effacer")
    await chat.tap("Oui")
    assert "effacées" in chat.last.text
    assert not isinstance(chat.last, Question)
    async with kibaru.db.reading() as conn:
        assert await users.find(conn, "test", "1001") is None
        cursor = await conn.execute("SELECT COUNT(*) FROM conversations")
        assert (await cursor.fetchone())[0] == 0
    await chat.text("bonjour")  # a new start, as a new user
    assert chat.labels == LANGUAGE_LABELS


async def test_forget_declined_keeps_everything(chat: ChatDriver, kibaru: Kibaru) -> None:
    await onboard(chat)
    await chat.command("effacer")
    await chat.tap("Non")
    assert "Rien n'a été effacé" in chat.last.text
    async with kibaru.db.reading() as conn:
        assert await users.find(conn, "test", "1001") is not None


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("what", "expected"),
    [
        ("sticker", "un autocollant"),
        ("animation", "une animation (GIF)"),
        ("poll", "un sondage"),
        ("dice", "un dé"),
        ("other", "ce type de message"),
    ],
)
async def test_unsupported_kinds_are_named_and_the_step_kept(
    chat: ChatDriver, what: str, expected: str
) -> None:
    await onboard(chat)
    await chat.command("effacer")
    await chat.unsupported(what)
    assert f"Je ne peux pas utiliser {expected}" in chat.last.text
    assert "Effacer toutes vos données" in chat.last.text


async def test_media_location_contact_at_a_choice_step(chat: ChatDriver) -> None:
    await onboard(chat)
    for send in (chat.location, chat.contact, lambda: chat.media(MediaKind.VOICE)):
        await send()
        assert "touchez un bouton" in chat.last.text
        assert MENU in chat.last.text


async def test_too_long_message(chat: ChatDriver) -> None:
    await onboard(chat)
    await chat.command("effacer")
    await chat.text("x" * (MAX_TEXT_LENGTH + 532))
    assert "trop long (4\u202f532 caractères, 4\u202f000 au maximum)" in chat.last.text
    assert "Effacer toutes vos données" in chat.last.text


async def test_edited_message(chat: ChatDriver) -> None:
    await onboard(chat)
    await chat.edited()
    assert "modifié un message" in chat.last.text
    assert MENU in chat.last.text


async def test_group_messages_are_ignored_and_commands_pointed_to_private(
    kibaru: Kibaru,
) -> None:
    group = ChatDriver(kibaru.conversations, chat_id="-100", chat_kind=ChatKind.GROUP)
    assert await group.text("bonjour à tous") == []
    replies = await group.command("start")
    assert len(replies) == 1 and "conversation privée" in replies[0].text
    async with kibaru.db.reading() as conn:
        assert await users.find(conn, "test", "-100") is None


# --- state -----------------------------------------------------------------------------------


async def test_resume_after_restart(settings: Settings, clock: ManualClock) -> None:
    first = await Kibaru.open(settings, clock)
    chat = ChatDriver(first.conversations, chat_id="42")
    await onboard(chat)
    await chat.command("effacer")
    question = chat.question
    await first.close()

    second = await Kibaru.open(settings, clock)
    try:
        again = ChatDriver(second.conversations, chat_id="42")
        again.screen.append(question)
        await again.text("ok")  # anything: the same question comes back
        assert "Effacer toutes vos données" in again.last.text
        # The current question's buttons still work after the restart...
        await again.tap("Non")
        assert "Rien n'a été effacé" in again.last.text
        # ...but the buttons of an older question have expired.
        await again.tap("Non", question=question)
        assert "Ce menu a expiré" in again.last.text
    finally:
        await second.close()


async def test_back_keeps_earlier_answers(chat: ChatDriver, kibaru: Kibaru) -> None:
    await onboard(chat)
    state = await state_of(kibaru, chat)
    state.top.answers["kept"] = "yes"
    async with kibaru.db.transaction() as conn:
        user = await users.find(conn, "test", "1001")
        assert user is not None
        await conversations.save(conn, user.id, state, kibaru.clock.now())
    await chat.command("langue")
    await chat.command("retour")
    assert (await state_of(kibaru, chat)).top.answers == {"kept": "yes"}


async def test_update_delivered_twice_is_handled_once(chat: ChatDriver, kibaru: Kibaru) -> None:
    await onboard(chat)
    await chat.command("effacer")
    event = TextEvent(chat.sender, text="1", event_id=10_000_000)
    await chat.event(event)
    assert "effacées" in chat.last.text
    # Redelivered after a crash: the user is gone, so it is a first contact (nothing deleted
    # twice, no error), and the answer is the welcome question.
    replies = await kibaru.conversations.handle(event)
    assert isinstance(replies[-1], Question)
    assert [b.key for b in replies[-1].choices] == ["fr", "bm", "en"]


async def test_duplicate_update_asks_the_current_question_again(
    chat: ChatDriver, kibaru: Kibaru
) -> None:
    await onboard(chat)
    event = TextEvent(chat.sender, text="6", event_id=20_000_000)
    await chat.event(event)
    assert chat.labels == LANGUAGE_LABELS
    prompt = (await state_of(kibaru, chat)).prompt
    await chat.event(event)  # Telegram delivers it again after a crash
    state = await state_of(kibaru, chat)
    assert state.top.flow == "language" and len(state.frames) == 2  # not pushed twice
    assert state.prompt == prompt  # the same question: its buttons keep working
    assert chat.labels == LANGUAGE_LABELS


async def test_state_of_a_removed_flow_falls_back_to_the_menu(
    chat: ChatDriver, kibaru: Kibaru
) -> None:
    await onboard(chat)
    async with kibaru.db.transaction() as conn:
        user = await users.find(conn, "test", "1001")
        assert user is not None
        state = await conversations.load(conn, user.id)
        assert state is not None
        state.frames.append(conversations.Frame("retired_flow", "gone"))
        await conversations.save(conn, user.id, state, kibaru.clock.now())
    await chat.text("4")
    assert "Aucune session à venir" in chat.last.text


async def test_bambara_words_typed_without_special_letters(chat: ChatDriver) -> None:
    await onboard(chat, "Bamanankan")
    await chat.command("langue")
    back = chat.nav_labels[0]
    assert "ɔ" in back or "ɛ" in back  # the label uses Bambara letters...
    plain = back.replace("ɔ", "o").replace("ɛ", "e").split(" ", 1)[1]
    await chat.text(plain)  # ...typed on a phone without them
    assert chat.last.text == "I b'a fɛ ka mun kɛ?"


async def test_same_question_asked_again_keeps_its_buttons(chat: ChatDriver) -> None:
    await onboard(chat)
    await chat.command("effacer")
    first_copy = chat.question
    await chat.command("aide")  # asks the same question again below the help
    assert chat.question.prompt == first_copy.prompt
    await chat.tap("Non", question=first_copy)
    assert "Rien n'a été effacé" in chat.last.text


async def test_wrong_answer_to_the_welcome_question_is_explained_in_every_language(
    chat: ChatDriver,
) -> None:
    await chat.command("start")
    await chat.text("i ni ce")
    text = chat.last.text
    assert "Touchez un bouton ou tapez son numéro (1 à 3)." in text
    assert "Tap a button or type its number (1 to 3)." in text
    assert "Butɔn dɔ digi" in text
    assert chat.labels == LANGUAGE_LABELS


async def test_logs_carry_flow_and_step_never_what_users_wrote(
    chat: ChatDriver, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    await onboard(chat)
    await chat.text("Moussa Traoré +22376543210 a vu des hommes armés")
    await chat.contact("+22370000000")
    await chat.command("effacer")
    logged = caplog.text
    assert "flow=forget step=confirm" in logged
    assert "kind=text" in logged
    for secret in ("Moussa", "Traoré", "22376543210", "22370000000", "armés", "1001"):
        assert secret not in logged


async def test_writing_again_after_blocking_the_bot_unblocks(kibaru: Kibaru) -> None:
    """The outbox marks people who blocked the bot; a new message means they unblocked it."""
    chat = ChatDriver(kibaru.conversations, chat_id="3003")
    await chat.command("start")
    async with kibaru.db.transaction() as conn:
        await conn.execute(
            "UPDATE users SET blocked_at = '2026-03-12T09:00:00' WHERE chat_id = '3003'"
        )
    await chat.text("bonjour")
    async with kibaru.db.reading() as conn:
        rows = await conn.execute_fetchall("SELECT blocked_at FROM users WHERE chat_id = '3003'")
    assert [tuple(r) for r in rows] == [(None,)]
