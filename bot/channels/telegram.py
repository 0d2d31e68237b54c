"""The Telegram channel, on python-telegram-bot with long polling.

PTB only carries updates in and messages out here: each update becomes a plain event for the
conversation engine (no ConversationHandler, no PTB handler chain: the engine owns
conversations and keeps them in the database). The updates of one getUpdates answer are
handled as a batch, in one database commit, and then all replies go out at once, chats side
by side. Interactive replies take the priority lane of the pacing the outbox's sender shares
(bot/outbox/pacing.py): never behind a broadcast, and together within Telegram's limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram import (
    Message as TgMessage,
)
from telegram.constants import ChatType, MessageLimit
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder
from telegram.request import HTTPXRequest

from bot.app import TELEGRAM, Kibaru
from bot.channels.cap_webhook import CapWebhookTransport
from bot.channels.telegram_lanes import PTB_TIMEOUT, LanedRequest
from bot.channels.telegram_media import MediaDownloads
from bot.channels.telegram_outbox import TelegramTransport
from bot.channels.telegram_polling import Poller
from bot.flood import FloodGuard, Verdict
from bot.i18n import SHIPPED_LANGUAGES
from bot.inbound import (
    ACTION_MARK,
    ActionEvent,
    ChatKind,
    ChoiceEvent,
    CommandEvent,
    ContactEvent,
    EditedEvent,
    InboundEvent,
    LocationEvent,
    MalformedChoiceEvent,
    MediaEvent,
    MediaKind,
    Sender,
    TextEvent,
    UnsupportedEvent,
)
from bot.outbound import ActionMessage, Media, Message, Question, RemoveKeyboard, Request
from bot.outbox.pacing import Pacing
from bot.outbox.sender import OutboxSender
from bot.outbox.transport import Transport
from handlers.cap.webhook import CAP_WEBHOOK
from handlers.commands import command_language
from handlers.exports.worker import ExportWorker

log = logging.getLogger(__name__)

# Durations (voice notes, retry_after) as timedelta: PTB 22's documented opt-in to its next
# major version's behaviour, which silences its deprecation warning; the code reads both.
os.environ.setdefault("PTB_TIMEDELTA", "true")

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
#: chats whose replies are sent at the same time. Concurrency hides Telegram's round trip
#: (100-300 ms from Mali), but httpcore scans its whole pool on every request, so a pool of
#: PTB's default 256 connections cost more CPU per message than it saved (measured); the
#: connections are split in small pools (bot/channels/telegram_lanes.py) for the same reason.
SENDING_CHATS = 8
_CONNECTIONS = SENDING_CHATS + 2  # room for media downloads alongside
_MAX_TEXT = MessageLimit.MAX_TEXT_LENGTH
#: tries of each API call of an interactive reply before the turn is given up (an apology);
#: the waits between them double from REPLY_BACKOFF seconds, up to REPLY_MAX_BACKOFF. While a
#: reply waits, the next getUpdates waits too, so the whole budget stays within seconds.
REPLY_ATTEMPTS = 6
REPLY_BACKOFF = 0.25
REPLY_MAX_BACKOFF = 4.0
#: errors that sending again cannot cure
_NOT_RETRIED = (BadRequest, Forbidden, InvalidToken, ChatMigrated)
#: a batch's replies can take seconds (100 replies at 30 a second while a broadcast runs): the
#: updates answered are confirmed this often meanwhile, so that a crash repeats only the rest
CONFIRM_EVERY = 1.0


# --- updates -> events -----------------------------------------------------------------------


def _sender(update: Update) -> Sender | None:
    chat = update.effective_chat
    if chat is None:
        return None
    user = update.effective_user
    kind = ChatKind.PRIVATE if chat.type == ChatType.PRIVATE else ChatKind.GROUP
    return Sender(
        channel=TELEGRAM,
        chat_id=str(chat.id),
        chat_kind=kind,
        language_hint=user.language_code if user else None,
        user_id=str(user.id) if user else None,
    )


def _command(text: str, bot_username: str | None) -> tuple[str, str] | None:
    """(name, arguments) of "/name@bot args", or None if the command is for another bot."""
    head, _, args = text[1:].partition(" ")
    name, _, target = head.partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    return name.lower(), args.strip()


def _sender_of(message: TgMessage) -> Sender:
    user = message.from_user
    kind = ChatKind.PRIVATE if message.chat.type == ChatType.PRIVATE else ChatKind.GROUP
    return Sender(
        TELEGRAM,
        str(message.chat.id),
        kind,
        user.language_code if user else None,
        str(user.id) if user else None,
    )


def _seconds(duration: object) -> int | None:
    """PTB gives durations as int or timedelta depending on its settings."""
    if duration is None:
        return None
    if hasattr(duration, "total_seconds"):
        return int(duration.total_seconds())
    return int(duration)  # type: ignore[call-overload]


def _media(message: TgMessage, sender: Sender, update_id: int) -> MediaEvent | None:
    caption = message.caption
    if message.photo:
        largest = message.photo[-1]
        return MediaEvent(
            sender,
            media=MediaKind.PHOTO,
            file_id=largest.file_id,
            size=largest.file_size,
            caption=caption,
            event_id=update_id,
        )
    for kind, item in (
        (MediaKind.VOICE, message.voice),
        (MediaKind.VIDEO, message.video),
        (MediaKind.VIDEO_NOTE, message.video_note),
        (MediaKind.AUDIO, message.audio),
        (MediaKind.DOCUMENT, message.document),
    ):
        if item is None:
            continue
        return MediaEvent(
            sender,
            media=kind,
            file_id=item.file_id,
            size=item.file_size,
            duration=_seconds(getattr(item, "duration", None)),
            mime_type=getattr(item, "mime_type", None),
            file_name=getattr(item, "file_name", None),
            caption=caption,
            event_id=update_id,
        )
    return None


def to_event(update: Update, bot_username: str | None) -> InboundEvent | None:
    """The plain event for an update, or None for updates Kibaru does not act on."""
    update_id = update.update_id
    if update.callback_query is not None:
        query = update.callback_query
        sender = _sender(update)
        if sender is None:
            return None
        data = query.data or ""
        if data.startswith(ACTION_MARK):
            return _action(update, data, update_id)
        prompt, _, key = data.partition(":")
        if not prompt.isdigit() or not key:
            return MalformedChoiceEvent(sender, event_id=update_id)
        return ChoiceEvent(sender, prompt=int(prompt), key=key, event_id=update_id)
    if update.edited_message is not None:
        if update.edited_message.location is not None:
            return None  # a live location moving: nothing the user re-typed
        return EditedEvent(_sender_of(update.edited_message), event_id=update_id)
    message = update.message
    if message is None:
        return None
    sender = _sender_of(message)
    if message.text is not None:
        if message.text.startswith("/") and len(message.text) > 1:
            command = _command(message.text, bot_username)
            if command is None:
                return None  # a command for another bot in a group
            return CommandEvent(sender, name=command[0], args=command[1], event_id=update_id)
        return TextEvent(sender, text=message.text, event_id=update_id)
    if message.location is not None:
        venue = message.venue
        return LocationEvent(
            sender,
            latitude=message.location.latitude,
            longitude=message.location.longitude,
            title=venue.title if venue else None,
            event_id=update_id,
        )
    if message.contact is not None:
        own = message.from_user is not None and message.contact.user_id == message.from_user.id
        return ContactEvent(sender, phone=message.contact.phone_number, own=own, event_id=update_id)
    # An animation (GIF) also carries a `document`: name it before looking at media.
    for what, present in (
        ("sticker", message.sticker),
        ("animation", message.animation),
        ("poll", message.poll),
        ("dice", message.dice),
        ("game", message.game),
        ("story", message.story),
    ):
        if present is not None:
            return UnsupportedEvent(sender, what=what, event_id=update_id)
    media = _media(message, sender, update_id)
    if media is not None:
        return media
    if sender.chat_kind is ChatKind.PRIVATE and not _is_service(message):
        return UnsupportedEvent(sender, what="other", event_id=update_id)
    return None


def _action(update: Update, data: str, update_id: int) -> InboundEvent | None:
    """An action button, wherever it was: the event belongs to whoever tapped it, in their
    private chat (a review chat's buttons must not start a conversation in the group)."""
    user = update.effective_user
    if user is None:
        return None
    name, *args = data[len(ACTION_MARK) :].split(":")
    sender = Sender(TELEGRAM, str(user.id), ChatKind.PRIVATE, user.language_code, str(user.id))
    if not name:
        return MalformedChoiceEvent(sender, event_id=update_id)
    return ActionEvent(
        sender, name=name, args=tuple(args), actor_name=user.first_name, event_id=update_id
    )


def _is_service(message: TgMessage) -> bool:
    """Joins, pins, title changes...: nothing a person typed."""
    return bool(
        message.new_chat_members
        or message.left_chat_member
        or message.pinned_message
        or message.new_chat_title
        or message.group_chat_created
    )


# --- messages -> Telegram --------------------------------------------------------------------


def _rows(question: Question) -> InlineKeyboardMarkup:
    columns = max(1, question.columns)
    buttons = [
        InlineKeyboardButton(b.label, callback_data=f"{question.prompt}:{b.key}")
        for b in question.choices
    ]
    rows = [buttons[i : i + columns] for i in range(0, len(buttons), columns)]
    if question.navigation:
        rows.append(
            [
                InlineKeyboardButton(b.label, callback_data=f"{question.prompt}:{b.key}")
                for b in question.navigation
            ]
        )
    return InlineKeyboardMarkup(rows)


def _request_keyboard(request: Request) -> ReplyKeyboardMarkup:
    first = KeyboardButton(
        request.button_label,
        request_location=request.request == "location",
        request_contact=request.request == "contact",
    )
    rows = [[first]] + [[KeyboardButton(label)] for label in request.alternatives]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)


def split_text(text: str, limit: int = _MAX_TEXT) -> list[str]:
    """Cut a long text at paragraph or line ends so each part fits one Telegram message."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    parts.append(rest)
    return parts


#: one Bot API call of a reply, made (and made again after a failure) by calling it
Call = Callable[[], Awaitable[object]]


async def calls_for(app: Application, chat_id: int | str, message: Message) -> list[Call]:
    """The API calls that render one plain message for Telegram, in order (plain text: user
    content is never parsed). Kept apart so that a failed call is retried alone: the parts of
    a long text already sent are not sent again."""
    bot = app.bot
    if isinstance(message, Media):
        senders = {
            MediaKind.PHOTO: bot.send_photo,
            MediaKind.VIDEO: bot.send_video,
            MediaKind.VOICE: bot.send_voice,
            MediaKind.AUDIO: bot.send_audio,
            MediaKind.DOCUMENT: bot.send_document,
            MediaKind.VIDEO_NOTE: bot.send_video_note,
        }
        source: object = message.file_id
        if message.path is not None:
            source = await asyncio.to_thread(Path(message.path).read_bytes)
        method = senders[message.kind]
        caption = message.text[:1024] or None
        if message.kind is MediaKind.VIDEO_NOTE:
            return [partial(method, chat_id, source)]
        if message.kind is MediaKind.DOCUMENT and message.path is not None:
            name = Path(message.path).name
            return [partial(bot.send_document, chat_id, source, caption=caption, filename=name)]
        return [partial(method, chat_id, source, caption=caption)]
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None
    if isinstance(message, Question) and (message.choices or message.navigation):
        markup = _rows(message)
    elif isinstance(message, Request):
        markup = _request_keyboard(message)
    elif isinstance(message, RemoveKeyboard):
        markup = ReplyKeyboardRemove()
    elif isinstance(message, ActionMessage) and message.actions:
        markup = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b.label, callback_data=b.key) for b in row]
                for row in message.actions
            ]
        )
    parts = split_text(message.text or "…")
    calls: list[Call] = [partial(bot.send_message, chat_id, part) for part in parts[:-1]]
    calls.append(partial(bot.send_message, chat_id, parts[-1], reply_markup=markup))
    return calls


# --- the channel -----------------------------------------------------------------------------


class _Answered:
    """Which updates of a batch have had their replies sent, and the last one before the
    first still waiting: everything up to it may be confirmed to Telegram."""

    def __init__(self, updates: Sequence[Update]) -> None:
        self._order = sorted(update.update_id for update in updates)
        self._done: set[int] = set()
        self._next = 0  # index in `_order` of the first update not answered yet

    def add(self, update_id: int) -> None:
        self._done.add(update_id)

    def through(self) -> int | None:
        while self._next < len(self._order) and self._order[self._next] in self._done:
            self._next += 1
        return self._order[self._next - 1] if self._next else None


class TelegramChannel:
    def __init__(self, kibaru: Kibaru, *, request_timeout: float | None = None) -> None:
        """`request_timeout` (seconds) replaces PTB's connect, read and write timeouts (5 s),
        for getUpdates too (added to the long poll's own time): tests of a network that
        hangs set it short."""
        self.kibaru = kibaru
        settings = kibaru.settings
        if not settings.telegram_token:
            raise ValueError("TELEGRAM_BOT_TOKEN is required for the Telegram channel")
        api = settings.telegram_api_url
        wait = PTB_TIMEOUT if request_timeout is None else request_timeout
        builder: ApplicationBuilder = (
            Application.builder()
            .token(settings.telegram_token)
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            .concurrent_updates(False)
            .request(LanedRequest(_CONNECTIONS, timeout=wait, pool_timeout=30.0))
            .get_updates_request(
                HTTPXRequest(
                    connection_pool_size=1,
                    connect_timeout=wait,
                    read_timeout=wait,
                    write_timeout=wait,
                )
            )
            # Kibaru polls itself (bot/channels/telegram_polling.py): PTB's Updater confirms
            # updates before they are handled, so a crash would lose them.
            .updater(None)
        )
        self.app: Application = builder.build()
        self.poller: Poller | None = None
        self.downloads = MediaDownloads(kibaru, self.app.bot)
        self._sending = asyncio.Semaphore(SENDING_CHATS)
        #: seconds between confirmations to Telegram while a batch's replies go out
        self.confirm_every = CONFIRM_EVERY
        self.pacing = Pacing(kibaru.clock)
        transports: dict[str, Transport] = {TELEGRAM: TelegramTransport(self.app.bot, split_text)}
        # CAP messages for partner platforms share the sender (retries, restarts) but not
        # Telegram's budget: their transport takes no pacing slot.
        self.cap_webhook: CapWebhookTransport | None = None
        if settings.cap_webhook:
            self.cap_webhook = CapWebhookTransport(settings.cap_webhook, settings.cap_secret)
            transports[CAP_WEBHOOK] = self.cap_webhook
        self.outbox = OutboxSender(kibaru.db, kibaru.clock, transports, self.pacing)
        self.exports = ExportWorker(
            kibaru.db, kibaru.clock, settings, kibaru.catalogs, kick_outbox=self.outbox.kick
        )
        self.flood = FloodGuard(kibaru.clock, settings.flood_burst, settings.flood_rate)
        #: API calls of interactive replies tried again, by error type (logs and tests)
        self.reply_retries: Counter[str] = Counter()

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self, poll_timeout: int = 10) -> None:
        """Connect (getMe), publish the command menus, and start long polling."""
        await self.app.initialize()
        await self.app.bot.delete_webhook(drop_pending_updates=False)
        await self.publish_commands()
        await self.app.start()
        self.poller = Poller(
            self.app.bot,
            self.handle_batch,
            ALLOWED_UPDATES,
            timeout=poll_timeout,
            clock=self.kibaru.clock,
        )
        self.poller.start()
        self.downloads.kick()  # files left pending by the last run
        self.outbox.start()
        self.exports.start()  # requests left by the last run are built again
        log.info("Telegram channel polling as @%s", self.app.bot.username)

    async def stop(self) -> None:
        """Finish the update in hand, confirm it to Telegram, and close connections."""
        if self.poller is not None:
            await self.poller.stop()
            self.poller = None
        await self.downloads.stop()
        await self.exports.stop()
        await self.outbox.stop()
        if self.cap_webhook is not None:
            await self.cap_webhook.close()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    async def publish_commands(self) -> None:
        """The "/" menu in each shipped language (French for clients in any other language)."""
        features = self.kibaru.conversations.features
        catalogs = self.kibaru.catalogs
        for language in (None, *SHIPPED_LANGUAGES):
            t = catalogs.get(language or self.kibaru.settings.default_language)
            names = command_language(t.language)
            commands = [
                BotCommand(spec.name_for(names), t._(spec.description)[:256])
                for spec in features.commands
                if spec.listed
            ]
            try:
                await self.app.bot.set_my_commands(commands, language_code=language)
            except TelegramError as error:  # a menu is a convenience, never a reason to stop
                log.warning("setMyCommands(%s) failed: %s", language, type(error).__name__)

    # -- handling ---------------------------------------------------------------------------

    async def handle_batch(self, updates: Sequence[Update]) -> None:
        """Handle the updates of one getUpdates answer: all the conversations first, in one
        database commit, then every reply, chats side by side (`SENDING_CHATS` at a time)
        and each chat's in order.

        Under load a batch holds many users' updates, and one commit (one fsync) for all of
        them, with the replies sent concurrently, is what keeps Kibaru close to a bot that
        stores nothing (benchmarks/reporting.py). Nothing is sent before the commit.

        The flood control comes first: an update over its sender's limit never reaches the
        engine (no database access), gets no reply and no API call, except the one notice of
        its throttling episode; it is confirmed to Telegram with the rest of the batch.
        """
        username = self.app.bot.username if self.app.bot else None
        events = [to_event(update, username) for update in updates]
        verdicts = [
            self._admit(update, event) for update, event in zip(updates, events, strict=True)
        ]
        outcomes = await self._converse(
            [e if v is Verdict.ADMIT else None for e, v in zip(events, verdicts, strict=True)]
        )
        # By the event's chat: an action tapped in a group is answered in the tapper's chat.
        chats: dict[str | None, list[tuple[Update, list[Message] | Exception]]] = {}
        for update, event, verdict, replies in zip(
            updates, events, verdicts, outcomes, strict=True
        ):
            if verdict is Verdict.DROP:
                continue
            outcome = replies
            if verdict is Verdict.NOTIFY and event is not None:
                outcome = await self._flood_notice(event.sender)
            chat = event.sender.chat_id if event is not None else None
            chats.setdefault(chat, []).append((update, outcome))
        answered = _Answered(updates)
        confirming = asyncio.create_task(self._confirm_answered(answered))
        try:
            await asyncio.gather(
                *(self._deliver(chat, items, answered) for chat, items in chats.items())
            )
        finally:
            confirming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await confirming
        if any(isinstance(event, MediaEvent) for event in events):
            self.downloads.kick()
        if any(self._asks_export(event) for event in events):
            self.exports.kick()
        self.outbox.kick()  # the batch may have queued alerts or announcements

    def _asks_export(self, event: InboundEvent | None) -> bool:
        """An /export command may have recorded a request for the export worker."""
        return (
            isinstance(event, CommandEvent)
            and self.kibaru.conversations.features.command_action(event.name) == "export"
        )

    def _admit(self, update: Update, event: InboundEvent | None) -> Verdict:
        """The flood control's word on one update. Only what costs work counts: in a group
        the engine ignores all but commands, and a group never gets the notice."""
        if event is None:
            return Verdict.ADMIT
        sender = event.sender
        private = sender.chat_kind is ChatKind.PRIVATE
        if not private and not isinstance(event, CommandEvent):
            return Verdict.ADMIT
        verdict = self.flood.admit(sender.channel, sender.user_id or sender.chat_id)
        if verdict is Verdict.NOTIFY:
            log.info("update %s: over the flood limit, dropped until it slows", update.update_id)
            return verdict if private else Verdict.DROP
        if verdict is Verdict.DROP:
            log.debug("update %s: over the flood limit, dropped", update.update_id)
        return verdict

    async def _flood_notice(self, sender: Sender) -> list[Message] | Exception:
        """The one notice of a throttling episode, in the sender's language (a read, once per
        episode). Their conversation was not touched: it waits at the same question."""
        try:
            t = await self.kibaru.conversations.language_of(sender)
        except Exception as error:  # the database failing: the apology path takes over
            return error
        return [
            Message(
                t._(
                    "⏳ Vous envoyez des messages trop vite : je n'ai pas pu lire les "
                    "derniers. Attendez un instant, puis continuez : vos réponses "
                    "précédentes sont gardées."
                )
            )
        ]

    async def _converse(
        self, events: Sequence[InboundEvent | None]
    ) -> list[list[Message] | Exception]:
        """The engine's replies to each event (or the error it raised), all committed."""
        handle = self.kibaru.conversations.handle
        if sum(event is not None for event in events) > 1:
            try:
                async with self.kibaru.db.grouped():
                    return [[] if event is None else await handle(event) for event in events]
            except Exception as error:
                # Rolled back as a whole: replayed one by one below, so that the update at
                # fault costs only its own answer.
                log.warning(
                    "a batch of %d updates failed (%s); handling them one by one",
                    len(events),
                    type(error).__name__,
                )
        outcomes: list[list[Message] | Exception] = []
        for event in events:
            try:
                outcomes.append([] if event is None else await handle(event))
            except Exception as error:  # one bad update must not cost the others their answer
                outcomes.append(error)
        return outcomes

    async def _confirm_answered(self, answered: _Answered) -> None:
        """While a batch's replies go out, confirm to Telegram every `confirm_every` seconds
        the updates answered so far (those before the first one still waiting)."""
        while self.poller is not None:
            await asyncio.sleep(self.confirm_every)
            through = answered.through()
            if through is not None:
                await self.poller.confirm(through + 1)

    async def _deliver(
        self,
        chat_id: str | None,
        items: list[tuple[Update, list[Message] | Exception]],
        answered: _Answered,
    ) -> None:
        """One chat's replies, in order; each tapped button's spinner is stopped after its
        replies (which the user waits for more) and on one connection of the same lane."""
        async with self._sending:
            for update, outcome in items:
                try:
                    if isinstance(outcome, Exception):
                        await self._fail(update, outcome)
                        continue
                    try:
                        for reply in outcome:
                            await self._send_paced(chat_id or "", reply)
                    except Exception as error:
                        await self._fail(update, error)
                finally:
                    if update.callback_query is not None:
                        await self._answer(update.callback_query)
                    answered.add(update.update_id)

    async def _send_paced(self, chat_id: int | str, message: Message) -> None:
        """`message` in the priority lane, each of its API calls tried again alone when it
        fails in a way that may pass (429, 5xx, network errors, timeouts).

        A call that timed out, or whose connection dropped, may have been delivered all the
        same: sending it again can show a question twice. That is the lesser harm: both
        copies carry the same prompt number and either one's buttons work, while a question
        lost leaves the person with nothing to answer. Only the call that failed is tried
        again, never the parts already sent, and a 429 pauses both lanes of the pacing."""
        for call in await calls_for(self.app, chat_id, message):
            await self._call(str(chat_id), call)

    async def _call(self, chat_id: str, call: Call) -> None:
        for attempt in range(REPLY_ATTEMPTS):
            await self.pacing.priority_slot(chat_id)
            try:
                await call()
                return
            except _NOT_RETRIED:
                raise
            except TelegramError as error:
                if attempt + 1 == REPLY_ATTEMPTS:
                    raise
                self.reply_retries[type(error).__name__] += 1
                if isinstance(error, RetryAfter):
                    wait = error.retry_after
                    seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else wait
                    log.warning("reply throttled by Telegram: retry in %.1f s", seconds)
                    self.pacing.pause(float(seconds))  # the next slot waits it out
                    continue
                backoff = min(REPLY_BACKOFF * 2**attempt, REPLY_MAX_BACKOFF)
                log.info(
                    "reply failed (%s), attempt %d: again in %.2f s",
                    type(error).__name__,
                    attempt + 1,
                    backoff,
                )
                await self.kibaru.clock.sleep(backoff)

    @staticmethod
    async def _answer(query: object) -> None:
        """Stop the button's spinner; a query too old to answer is not an error."""
        with contextlib.suppress(TelegramError):
            await query.answer()  # type: ignore[attr-defined]

    async def _fail(self, update: Update, error: BaseException) -> None:
        """Log where it failed (never what the user wrote), apologise in their language."""
        frames = "".join(traceback.format_tb(error.__traceback__))
        log.error(
            "update %s failed: %s\n%s", update.update_id, type(error).__name__, frames.rstrip()
        )
        if update.effective_chat is None or update.effective_chat.type != ChatType.PRIVATE:
            return
        if isinstance(error, Forbidden):
            return  # the user blocked the bot: nothing can reach them
        sender = _sender(update)
        try:
            t = await self.kibaru.conversations.language_of(sender) if sender else None
            text = (t or self.kibaru.catalogs.get(None))._(
                "😕 Désolé, un problème technique m'a empêché de répondre. Vos réponses "
                "précédentes sont gardées : réessayez dans un instant, ou envoyez /menu."
            )
            await self._send_paced(update.effective_chat.id, Message(text))
        except Exception as apology_error:  # the apology itself may fail
            log.warning(
                "apology for update %s failed: %s", update.update_id, type(apology_error).__name__
            )
