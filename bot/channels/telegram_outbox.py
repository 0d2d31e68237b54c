"""The Telegram side of the outbox: deliver a row's message, and name its failure.

Kept apart from bot/channels/telegram.py (which only wires it) so that the channel's update
handling and the outbox's sending change independently. python-telegram-bot's errors map to
the transport's kinds: Forbidden (the user blocked the bot, or the bot left the group) is
blocked; RetryAfter is a 429; TimedOut and other NetworkErrors (PTB's 5xx) are transient;
BadRequest and a group that became a supergroup are permanent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram import Message as TgMessage
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    TelegramError,
)
from telegram.error import RetryAfter as TgRetryAfter

from bot.inbound import MediaKind
from bot.outbox.transport import Blocked, Permanent, RetryAfter, Transient
from storage.outbox import Outgoing

_NOT_MODIFIED = "message is not modified"


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _markup(outgoing: Outgoing) -> InlineKeyboardMarkup | None:
    if not outgoing.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in outgoing.buttons
        ]
    )


class TelegramTransport:
    """`bot.outbox.transport.Transport` over the Bot API."""

    def __init__(self, bot: Bot, split: Callable[[str], list[str]]) -> None:
        self.bot = bot
        self.split = split

    def calls(self, outgoing: Outgoing) -> int:
        texts = 1 if outgoing.edit_message_id is not None else len(self._parts(outgoing))
        return len(outgoing.media) + len(outgoing.files) + texts

    def _parts(self, outgoing: Outgoing) -> list[str]:
        return self.split(outgoing.text) if outgoing.text else []

    async def deliver(self, chat_id: str, outgoing: Outgoing, skip: int = 0) -> int | None:
        done = skip
        last: int | None = None
        try:
            for call in self._calls(chat_id, outgoing)[skip:]:
                last = await call()
                done += 1
        except Forbidden as error:
            raise Blocked(type(error).__name__, done) from None
        except TgRetryAfter as error:
            raise RetryAfter(type(error).__name__, _seconds(error.retry_after), done) from None
        except (BadRequest, ChatMigrated) as error:
            raise Permanent(type(error).__name__, done) from None
        except (NetworkError, TelegramError) as error:  # TimedOut is a NetworkError
            raise Transient(type(error).__name__, done) from None
        except Permanent as error:
            raise Permanent(error.code, done) from None
        return last

    def _calls(self, chat_id: str, outgoing: Outgoing) -> list[Callable[[], Awaitable[int]]]:
        """The API calls of one row, in order, each returning its message's id (`calls`
        counts them)."""
        markup = _markup(outgoing)
        if outgoing.edit_message_id is not None:
            return [partial(self._edit, chat_id, outgoing, markup)]
        calls: list[Callable[[], Awaitable[int]]] = []
        for kind, file_id in outgoing.media:
            calls.append(partial(self._sent, self._media(MediaKind(kind)), chat_id, file_id))
        for kind, path in outgoing.files:
            calls.append(partial(self._upload, chat_id, MediaKind(kind), Path(path)))
        parts = self._parts(outgoing)
        for index, part in enumerate(parts):
            last_part = index == len(parts) - 1
            calls.append(
                partial(
                    self._sent,
                    self.bot.send_message,
                    chat_id,
                    part,
                    reply_markup=markup if last_part else None,
                )
            )
        return calls

    @staticmethod
    async def _sent(method: Callable[..., Awaitable[TgMessage]], *args: Any, **kwargs: Any) -> int:
        return (await method(*args, **kwargs)).message_id

    async def _edit(
        self, chat_id: str, outgoing: Outgoing, markup: InlineKeyboardMarkup | None
    ) -> int:
        assert outgoing.edit_message_id is not None
        try:
            await self.bot.edit_message_text(
                outgoing.text[:4096],
                chat_id=chat_id,
                message_id=outgoing.edit_message_id,
                reply_markup=markup,
            )
        except BadRequest as error:
            if _NOT_MODIFIED not in str(error).lower():
                raise  # a retry after a lost answer finds the edit already made: done
        return outgoing.edit_message_id

    async def _upload(self, chat_id: str, kind: MediaKind, path: Path) -> int:
        try:
            content = await asyncio.to_thread(path.read_bytes)
        except OSError as error:  # gone from the disk: sending again cannot bring it back
            raise Permanent(type(error).__name__) from None
        if kind is MediaKind.DOCUMENT:
            sent = await self.bot.send_document(chat_id, content, filename=path.name)
        else:
            sent = await self._media(kind)(chat_id, content)
        return int(sent.message_id)

    def _media(self, kind: MediaKind) -> Callable[..., Awaitable[Any]]:
        senders: dict[MediaKind, Callable[..., Awaitable[Any]]] = {
            MediaKind.PHOTO: self.bot.send_photo,
            MediaKind.VIDEO: self.bot.send_video,
            MediaKind.VOICE: self.bot.send_voice,
            MediaKind.AUDIO: self.bot.send_audio,
            MediaKind.DOCUMENT: self.bot.send_document,
            MediaKind.VIDEO_NOTE: self.bot.send_video_note,
        }
        return senders[kind]
