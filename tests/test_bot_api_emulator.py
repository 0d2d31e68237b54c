"""Proves the Bot API emulator is faithful enough to run the real PTB stack against it.

No Kibaru code here: a tiny PTB ``Application`` (echo, a menu with inline buttons, a voice
downloader) long-polls the emulator exactly as the production bot polls Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

try:  # works whether or not tests/ becomes a package
    from tests.bot_api_emulator import BotApiEmulator
except ModuleNotFoundError:
    from bot_api_emulator import BotApiEmulator  # type: ignore[no-redef]

USER_ID = 4242


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx honours HTTP(S)_PROXY; loopback traffic must never go through a proxy."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator() as emu:
        yield emu


def raw_bot(emu: BotApiEmulator) -> Bot:
    """A bare PTB Bot pointed at the emulator (use as ``async with``)."""
    return Bot(
        emu.token,
        base_url=f"{emu.base_url}/bot",
        base_file_url=f"{emu.base_url}/file/bot",
    )


def build_app(emu: BotApiEmulator, errors: asyncio.Queue[object] | None = None) -> Application:
    """A small but realistic PTB application: commands, echo, inline menu, voice download."""
    app = (
        ApplicationBuilder()
        .token(emu.token)
        .base_url(f"{emu.base_url}/bot")
        .base_file_url(f"{emu.base_url}/file/bot")
        .build()
    )
    seen: list[int] = []
    app.bot_data["seen"] = seen
    app.bot_data["member_changes"] = []

    async def remember(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message and update.effective_user
        await update.effective_message.reply_text(
            f"Bienvenue, {update.effective_user.first_name} !",
            reply_markup=ReplyKeyboardMarkup(
                [[KeyboardButton("Ma position", request_location=True)]], resize_keyboard=True
            ),
        )

    async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("✅ Oui", callback_data="menu:yes"),
                    InlineKeyboardButton("❌ Non", callback_data="menu:no"),
                ],
                [InlineKeyboardButton("Site", url="https://example.org")],
            ]
        )
        await update.effective_message.reply_text(
            "<b>Continuer ?</b>", "HTML", reply_markup=keyboard
        )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message and update.effective_message.text
        await update.effective_message.reply_text(f"Écho : {update.effective_message.text}")

    async def voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message and update.effective_message.voice
        file = await update.effective_message.voice.get_file()
        data = await file.download_as_bytearray()
        await update.effective_message.reply_text(f"{len(data)} octets")

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query and query.data
        await query.answer("Merci")
        await query.edit_message_text(f"Choix : {query.data.removeprefix('menu:')}")

    async def member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        context.bot_data["member_changes"].append(update.my_chat_member)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if errors is not None:
            errors.put_nowait(context.error)

    app.add_handler(MessageHandler(filters.ALL, remember), group=-1)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("menu", menu))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(MessageHandler(filters.VOICE, voice))
    app.add_handler(CallbackQueryHandler(button))
    app.add_handler(ChatMemberHandler(member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_error_handler(on_error)
    return app


@contextlib.asynccontextmanager
async def running(app: Application) -> AsyncIterator[Application]:
    """Start long polling exactly like production and stop it cleanly."""
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(timeout=10)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


@pytest.mark.asyncio
async def test_get_me_and_polling_start(emulator: BotApiEmulator) -> None:
    async with running(build_app(emulator)) as app:
        await emulator.wait_for(lambda: bool(emulator.calls_to("getUpdates")))
        assert app.bot.username == "kibaru_test_bot"
        assert app.bot.id == 123456789
        methods = [c.method for c in emulator.calls]
        assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"]
        poll = emulator.calls_to("getUpdates")[0].params
        assert poll["timeout"] == 10  # JSON-decoded, not the string "10"


@pytest.mark.asyncio
async def test_text_update_reaches_handler_and_reply_is_recorded(
    emulator: BotApiEmulator,
) -> None:
    awa = emulator.user(USER_ID, first_name="Awa", language_code="fr", username="awa_t")
    async with running(build_app(emulator)):
        await awa.send_command("start")
        await awa.send_text("Bonjour")
        first, second = await emulator.wait_for_messages(USER_ID, 2)
        assert first.text == "Bienvenue, Awa !"
        assert first.keyboard == [{"text": "Ma position", "request_location": True}]
        assert second.text == "Écho : Bonjour"
        assert "reply_parameters" not in second.params  # PTB quotes only in groups
        assert [first.message_id, second.message_id] == [3, 4]  # one id sequence per chat
        await emulator.wait_for(lambda: emulator.pending_updates == 0)


@pytest.mark.asyncio
async def test_inline_button_round_trip(emulator: BotApiEmulator) -> None:
    awa = emulator.user(USER_ID)
    async with running(build_app(emulator)):
        await awa.send_command("menu")
        (menu,) = await emulator.wait_for_messages(USER_ID, 1)
        assert menu.plain_text == "Continuer ?"
        assert menu.button_labels == ["✅ Oui", "❌ Non", "Site"]
        assert menu.buttons[0] == ("✅ Oui", "menu:yes")

        press = await awa.press("oui")  # case-insensitive substring of "✅ Oui"
        await emulator.wait_for(lambda: bool(emulator.edits_in(USER_ID)))
        await emulator.wait_for(lambda: emulator.callback_answer(press) is not None)
        assert emulator.callback_answer(press) == {
            "callback_query_id": emulator.callback_answer(press)["callback_query_id"],
            "text": "Merci",
        }
        (edit,) = emulator.edits_in(USER_ID)
        assert (edit.method, edit.message_id, edit.text) == (
            "editMessageText",
            menu.message_id,
            "Choix : yes",
        )
        current = emulator.current_message(USER_ID, menu.message_id)
        assert current is not None and "reply_markup" not in current  # Telegram drops it
        with pytest.raises(AssertionError, match="No button"):
            await awa.press("Peut-être", menu)


@pytest.mark.asyncio
async def test_set_my_commands_by_language(emulator: BotApiEmulator) -> None:
    async with raw_bot(emulator) as bot:
        await bot.set_my_commands([BotCommand("start", "Commencer"), BotCommand("aide", "Aide")])
        await bot.set_my_commands(
            [BotCommand("start", "Daminɛ")],
            scope=BotCommandScopeAllPrivateChats(),
            language_code="bm",
        )
        assert emulator.commands[None] == [
            {"command": "start", "description": "Commencer"},
            {"command": "aide", "description": "Aide"},
        ]
        assert emulator.commands["bm"] == [{"command": "start", "description": "Daminɛ"}]
        fetched = await bot.get_my_commands(
            scope=BotCommandScopeAllPrivateChats(), language_code="bm"
        )
        assert [c.command for c in fetched] == ["start"]
        assert await bot.get_my_commands(language_code="fr") == ()
        with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand("Start", "Majuscule interdite")])
        await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="bm")
        assert "bm" not in emulator.commands


@pytest.mark.asyncio
async def test_unconfirmed_updates_are_redelivered_to_a_new_instance(
    emulator: BotApiEmulator,
) -> None:
    awa = emulator.user(USER_ID)
    first = await awa.send_text("un")
    second = await awa.send_text("deux")
    # A process that fetched both updates, then died before confirming them (SIGKILL).
    async with raw_bot(emulator) as crashed:
        fetched = await crashed.get_updates(timeout=0)
    assert [u.update_id for u in fetched] == [first, second] == [1000, 1001]
    assert emulator.pending_updates == 2

    app = build_app(emulator)
    async with running(app):
        replies = await emulator.wait_for_messages(USER_ID, 2)
        assert [r.text for r in replies] == ["Écho : un", "Écho : deux"]
        await emulator.wait_for(lambda: emulator.pending_updates == 0)
    assert app.bot_data["seen"] == [first, second]

    # Confirmed updates are never delivered again; new ones queue while no bot runs.
    third = await awa.send_text("trois")
    assert emulator.pending_updates == 1
    app2 = build_app(emulator)
    async with running(app2):
        await emulator.wait_for_messages(USER_ID, 3)
    assert app2.bot_data["seen"] == [third]


@pytest.mark.asyncio
async def test_disconnected_long_poll_loses_nothing_and_newer_poll_wins(
    emulator: BotApiEmulator,
) -> None:
    awa = emulator.user(USER_ID)
    async with raw_bot(emulator) as bot, raw_bot(emulator) as other:
        pending = asyncio.create_task(bot.get_updates(timeout=30))
        await emulator.wait_for(lambda: len(emulator.calls_to("getUpdates")) == 1)
        pending.cancel()  # the client goes away mid long poll (like a killed process)
        with contextlib.suppress(asyncio.CancelledError):
            await pending
        update_id = await awa.send_text("toujours là ?")
        assert [u.update_id for u in await other.get_updates(timeout=5)] == [update_id]

        # Two live pollers: the older long poll is terminated with 409, as on Telegram.
        older = asyncio.create_task(bot.get_updates(offset=update_id + 1, timeout=30))
        await emulator.wait_for(lambda: len(emulator.calls_to("getUpdates")) == 3)
        assert await other.get_updates(offset=update_id + 1, timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await older


@pytest.mark.asyncio
async def test_long_poll_wakes_on_update_and_stop_releases_it(
    emulator: BotApiEmulator,
) -> None:
    awa = emulator.user(USER_ID)
    loop = asyncio.get_running_loop()
    async with raw_bot(emulator) as bot:
        started = loop.time()
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await emulator.wait_for(lambda: bool(emulator.calls_to("getUpdates")))
        update_id = await awa.send_text("réveil")
        assert [u.update_id for u in await poll] == [update_id]
        assert loop.time() - started < 2

        poll = asyncio.create_task(bot.get_updates(offset=update_id + 1, timeout=30))
        await emulator.wait_for(lambda: len(emulator.calls_to("getUpdates")) == 2)
        await emulator.stop()
        assert await poll == ()
        assert loop.time() - started < 3


@pytest.mark.asyncio
async def test_get_file_and_download(emulator: BotApiEmulator) -> None:
    awa = emulator.user(USER_ID)
    async with running(build_app(emulator)):
        await awa.send_voice(duration=4, file_size=3_000)
        (reply,) = await emulator.wait_for_messages(USER_ID, 1)
        assert reply.text == "3000 octets"
        assert emulator.calls_to("getFile")[0].params["file_id"].startswith("AwAC")

    emulator.add_file("rapport-123", b"%PDF-1.4 contenu", file_path="documents/rapport.pdf")
    async with raw_bot(emulator) as bot:
        file = await bot.get_file("rapport-123")
        assert file.file_path == (
            f"{emulator.base_url}/file/bot{emulator.token}/documents/rapport.pdf"
        )
        assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 contenu"

        sent = await bot.send_photo(
            USER_ID, b"\x89PNG fake", caption="<i>Carte</i>", parse_mode="HTML"
        )
        assert sent.caption == "Carte" and emulator.sent[-1].text == "<i>Carte</i>"
        photo = await bot.get_file(sent.photo[-1].file_id)
        assert bytes(await photo.download_as_bytearray()) == b"\x89PNG fake"

        with pytest.raises(BadRequest, match="Invalid file_id"):
            await bot.get_file("inconnu")
        await awa.send_video(file_size=30 * 1024 * 1024)
        (update,) = await bot.get_updates(timeout=0)
        assert update.message and update.message.video
        with pytest.raises(BadRequest, match="too big"):
            await bot.get_file(update.message.video.file_id)


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fail_next_maps_to_ptb_exceptions(emulator: BotApiEmulator) -> None:
    emulator.user(USER_ID)
    async with raw_bot(emulator) as bot:
        emulator.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(USER_ID, "x")
        assert flood.value.retry_after in (7, dtm.timedelta(seconds=7))

        emulator.fail_next("sendMessage", 502, "Bad Gateway", times=2)
        for _ in range(2):
            with pytest.raises(NetworkError) as gateway:
                await bot.send_message(USER_ID, "x")
            assert type(gateway.value) is NetworkError
        emulator.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
        with pytest.raises(Forbidden):
            await bot.send_message(USER_ID, "x")

        await bot.send_message(USER_ID, "enfin")
        assert [m.text for m in emulator.messages_to(USER_ID)] == ["enfin"]
        assert [c.error_code for c in emulator.calls_to("sendMessage")] == [
            429,
            502,
            502,
            403,
            None,
        ]


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_chaos_on_every_method_applies_nothing_it_faults(emulator: BotApiEmulator) -> None:
    """429, 5xx, timeouts and dropped connections on any method, getUpdates included; a
    faulted sendMessage delivers nothing and a faulted getUpdates confirms nothing."""
    awa = emulator.user(USER_ID)
    await awa.send_text("bonjour")
    short = Bot(
        emulator.token,
        base_url=f"{emulator.base_url}/bot",
        request=HTTPXRequest(read_timeout=0.2),
        get_updates_request=HTTPXRequest(read_timeout=0.2),
    )
    async with short as bot:
        for kind, error in (
            ("429", RetryAfter),
            ("502", NetworkError),
            ("drop", NetworkError),
            ("timeout", TimedOut),
        ):
            emulator.chaos(1.0, seed=3, kinds=(kind,), every_method=True)
            with pytest.raises(error):
                await bot.send_message(USER_ID, "x")
            with pytest.raises(error):
                await bot.get_updates(offset=10_000, timeout=0)
        emulator.chaos(0, 0)
        assert emulator.messages_to(USER_ID) == [] and emulator.pending_updates == 1
        assert emulator.chaos_by_method[("getUpdates", "timeout")] == 1
        (update,) = await bot.get_updates(timeout=0)
        assert update.message is not None and update.message.text == "bonjour"


def test_chaos_draws_each_method_from_its_own_stream() -> None:
    """The n-th call of a method meets the same fate whatever other calls came between."""
    fates = []
    for others in (0, 5):
        emulator = BotApiEmulator()
        emulator.chaos(0.5, seed=9, kinds=("500", "drop"), every_method=True)
        seen = []
        for _ in range(20):
            for _ in range(others):
                with contextlib.suppress(Exception):
                    emulator._mishap("answerCallbackQuery")
            try:
                seen.append(emulator._mishap("getUpdates"))
            except Exception as error:
                seen.append(type(error).__name__)
        fates.append(seen)
    assert fates[0] == fates[1] and len(set(fates[0])) == 3


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_error_reaches_the_application_error_handler(
    emulator: BotApiEmulator,
) -> None:
    awa = emulator.user(USER_ID)
    errors: asyncio.Queue[object] = asyncio.Queue()
    async with running(build_app(emulator, errors)):
        emulator.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
        await awa.send_text("vite")
        # PTB's error handler is not emulator traffic: wait on our own queue, not wait_for().
        async with asyncio.timeout(5):
            assert isinstance(await errors.get(), RetryAfter)
        await awa.send_text("encore")
        (reply,) = await emulator.wait_for_messages(USER_ID, 1)
        assert reply.text == "Écho : encore"


@pytest.mark.asyncio
async def test_telegram_validation_errors(emulator: BotApiEmulator) -> None:
    awa = emulator.user(USER_ID)
    async with raw_bot(emulator) as bot:
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(999, "x")
        with pytest.raises(BadRequest, match=r"(?i)unsupported start tag"):
            await bot.send_message(USER_ID, "Awa <3 Bamako", parse_mode="HTML")
        with pytest.raises(BadRequest, match="reserved"):
            await bot.send_message(USER_ID, "Fin.", parse_mode="MarkdownV2")
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(
                USER_ID,
                "x",
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("b", callback_data="x" * 65)]]
                ),
            )
        ok = await bot.send_message(USER_ID, r"*Alerte* \- niveau 2\.", parse_mode="MarkdownV2")
        assert ok.text == "Alerte - niveau 2."
        assert ok.entities[0].type == "bold"
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text(
                "Alerte - niveau 2.", USER_ID, ok.message_id, entities=ok.entities
            )
        with pytest.raises(BadRequest, match="too old"):
            await bot.answer_callback_query("123")
        with pytest.raises(EndPointNotFound):  # 404, which PTB otherwise maps to InvalidToken
            await bot.do_api_request("getNothing")
        await awa.block()
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(USER_ID, "x")
        assert len(emulator.messages_to(USER_ID)) == 1


@pytest.mark.asyncio
async def test_group_messages_and_bot_added(emulator: BotApiEmulator) -> None:
    awa = emulator.user(USER_ID)
    group = emulator.group(-1001, title="Sécurité Bamako")
    app = build_app(emulator)
    async with running(app):
        await group.add_bot(awa)
        await group.send_text(awa, "/start@kibaru_test_bot")
        (reply,) = await emulator.wait_for_messages(-1001, 1)
        assert reply.text == "Bienvenue, Awa !"
        assert reply.params["reply_parameters"]["message_id"] == group.last_message_id
        change: ChatMemberUpdated = app.bot_data["member_changes"][0]
        assert change.chat.title == "Sécurité Bamako"
        assert change.new_chat_member.status == "member"
        assert change.new_chat_member.user.id == app.bot.id


@pytest.mark.asyncio
async def test_every_simulated_update_parses_in_ptb(emulator: BotApiEmulator) -> None:
    awa = emulator.user(USER_ID, username="awa")
    await awa.send_sticker()
    await awa.send_animation()
    await awa.send_poll()
    await awa.send_dice()
    await awa.send_location(12.65, -8.0)
    await awa.send_contact("+22370000000")
    await awa.send_contact("+22376000000", own=False)
    await awa.send_photo(caption="Incendie")
    await awa.send_voice()
    await awa.send_video()
    await awa.send_document("rapport.pdf")
    await awa.send_text("premier jet")
    await awa.edit(awa.last_message_id, "version corrigée")
    await awa.press_data("ancien:1", message_id=77)
    async with raw_bot(emulator) as bot:
        updates = await bot.get_updates(timeout=0)
    messages = [u.message for u in updates[:12]]
    assert all(m is not None and m.from_user and m.from_user.username == "awa" for m in messages)
    kinds = [type(m.effective_attachment).__name__ for m in messages if m]
    assert kinds == [
        "Sticker",
        "Animation",
        "Poll",
        "Dice",
        "Location",
        "Contact",
        "Contact",
        "tuple",  # photo sizes
        "Voice",
        "Video",
        "Document",
        "NoneType",
    ]
    assert messages[5] and messages[5].contact and messages[5].contact.user_id == USER_ID
    assert messages[6] and messages[6].contact and messages[6].contact.user_id is None
    assert messages[7] and messages[7].caption == "Incendie" and len(messages[7].photo) == 3
    edited = updates[12].edited_message
    assert edited and edited.text == "version corrigée" and edited.edit_date
    query = updates[13].callback_query
    assert query and query.data == "ancien:1" and query.message
    assert not query.message.is_accessible  # Telegram's "message too old" shape


@pytest.mark.asyncio
async def test_raw_protocol_shapes(emulator: BotApiEmulator) -> None:
    emulator.user(USER_ID)
    api = f"{emulator.base_url}/bot{emulator.token}"
    async with httpx.AsyncClient(trust_env=False) as client:
        sent = await client.post(f"{api}/sendMessage", json={"chat_id": str(USER_ID), "text": "42"})
        assert sent.json()["ok"] is True
        assert emulator.calls[-1].params == {"chat_id": USER_ID, "text": "42"}  # text stays str
        me = await client.get(f"{api}/GETME")  # method names are case-insensitive
        assert me.json()["result"]["username"] == "kibaru_test_bot"
        updates = await client.get(f"{api}/getUpdates", params={"timeout": "0"})
        assert updates.json() == {"ok": True, "result": []}

        wrong = await client.post(f"{emulator.base_url}/bot1:wrong/getMe")
        assert (wrong.status_code, wrong.json()) == (
            401,
            {"ok": False, "error_code": 401, "description": "Unauthorized"},
        )
        unknown = await client.post(f"{api}/sendTelepathy")
        assert unknown.status_code == 404 and unknown.json()["description"] == "Not Found"
        emulator.fail_next("getMe", 429, "Too Many Requests: retry after 2", retry_after=2)
        flood = await client.post(f"{api}/getMe")
        assert flood.json()["parameters"] == {"retry_after": 2}
        missing = await client.get(f"{emulator.base_url}/file/bot{emulator.token}/photos/x.jpg")
        assert missing.status_code == 404

    with pytest.raises(AssertionError, match="sendMessage"):
        await emulator.wait_for(lambda: False, timeout=0.05)
