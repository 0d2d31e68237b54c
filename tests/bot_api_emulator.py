"""A local emulator of the Telegram Bot API for end-to-end tests.

The real python-telegram-bot ``Application`` (long polling) talks to this server over loopback
HTTP instead of ``api.telegram.org``, so tests exercise the genuine request encoding, update
parsing, handler dispatch and error mapping of PTB without touching the internet.

Point a bot at it with ``base_url=f"{emulator.base_url}/bot"`` and
``base_file_url=f"{emulator.base_url}/file/bot"`` (or ``TELEGRAM_API_URL=emulator.base_url``).

Semantics copied from Telegram because the bot's correctness depends on them:

* ``getUpdates``: ``offset`` confirms (forgets) every update with a smaller id; unconfirmed
  updates are re-delivered to the next caller (even a freshly started process); an empty queue
  holds the request up to ``timeout`` seconds and wakes at once when an update arrives; a newer
  ``getUpdates`` terminates an older pending one with 409 Conflict.
* ``parse_mode`` (HTML, MarkdownV2, Markdown) is parsed the way Telegram does: malformed markup
  answers 400 "can't parse entities", and returned messages carry plain text plus entities.
* Editing a message with identical content answers 400 "message is not modified"; editing its
  text without ``reply_markup`` drops the inline keyboard; callback data is limited to 64 bytes.

Faults: ``fail_next`` answers the next calls of a method with an error; ``throttle`` answers
429 with ``retry_after`` once more than N messages went out within a second (counted on
``clock``, which a test can tie to its manual clock); ``chaos`` makes a seeded random share of
the sending calls (or, with ``every_method``, of all calls, getUpdates included) fail with
429 (with ``retry_after``), 500/502, a timeout (the request is held, unanswered, until the
client gives up), a dropped connection, or an answer lost after the message was delivered;
blocked users (``SimUser.block``) answer 403.

Telegram may have delivered a message whose answer was lost (a timeout, a dropped
connection), so a client cannot tell whether to send it again. Here every fault but
``lost_answer`` happens before the call is applied: nothing is delivered, no offset is
confirmed. A test using only those faults (``FAULT_KINDS``) can therefore count any message
seen twice as one the bot itself sent twice.
"""

from __future__ import annotations

import asyncio
import copy
import json
import mimetypes
import random
import re
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = [
    "ApiCall",
    "BotApiEmulator",
    "SentMessage",
    "SimGroup",
    "SimUser",
    "UploadedFile",
]

FIRST_UPDATE_ID = 1000
MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024  # getFile refuses bigger files, as Telegram does
MAX_UPLOAD_SIZE = 50 * 1024 * 1024
MAX_CALLBACK_DATA_BYTES = 64

CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"

# Parameters Telegram types as String: never JSON-decode them, or text="123" would become an int.
_STRING_PARAMS = frozenset(
    {
        "action",
        "address",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "currency",
        "custom_emoji_id",
        "custom_title",
        "description",
        "document",
        "emoji",
        "error_message",
        "file_id",
        "file_name",
        "first_name",
        "foursquare_id",
        "foursquare_type",
        "game_short_name",
        "google_place_id",
        "google_place_type",
        "inline_message_id",
        "inline_query_id",
        "invite_link",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "next_offset",
        "parse_mode",
        "payload",
        "performer",
        "phone_number",
        "photo",
        "pre_checkout_query_id",
        "provider_token",
        "question",
        "result_id",
        "secret_token",
        "short_description",
        "shipping_query_id",
        "start_parameter",
        "sticker",
        "switch_pm_parameter",
        "switch_pm_text",
        "text",
        "thumbnail",
        "title",
        "url",
        "vcard",
        "video",
        "video_note",
        "voice",
    }
)

_INLINE_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


# --------------------------------------------------------------------------------------------
# Records exposed to tests
# --------------------------------------------------------------------------------------------


@dataclass
class UploadedFile:
    """A multipart file part, kept so tests can assert on what the bot uploaded."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass
class ApiCall:
    """One Bot API request as the emulator decoded it (nested JSON parameters parsed)."""

    method: str
    params: dict[str, Any]
    error_code: int | None = None  # the error answered; -1: connection dropped, -2: held


@dataclass
class SentMessage:
    """A message the bot sent or edited; ``text`` is the raw text/caption parameter."""

    chat_id: int
    message_id: int
    method: str
    text: str | None
    reply_markup: dict[str, Any] | None
    params: dict[str, Any]
    result: dict[str, Any] | None = None  # the Message object returned to the bot

    @property
    def is_edit(self) -> bool:
        """Whether this record is an edit of an earlier message rather than a new one."""
        return self.method.startswith("edit")

    @property
    def plain_text(self) -> str | None:
        """Text or caption as a Telegram user sees it (markup parsed away)."""
        if self.result is None:
            return self.text
        return self.result.get("text", self.result.get("caption"))

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """Inline keyboard flattened to (label, callback_data); "" for url/web_app buttons."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [(b.get("text", ""), b.get("callback_data", "")) for row in rows for b in row]

    @property
    def button_labels(self) -> list[str]:
        """Labels of the inline keyboard, in reading order."""
        return [label for label, _ in self.buttons]

    @property
    def keyboard(self) -> list[dict[str, Any]]:
        """Reply keyboard buttons flattened (dicts with text / request_location / ...)."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [b if isinstance(b, dict) else {"text": str(b)} for row in rows for b in row]

    @property
    def removes_keyboard(self) -> bool:
        """Whether this message asks the client to remove the reply keyboard."""
        return bool((self.reply_markup or {}).get("remove_keyboard"))


@dataclass
class _FileRecord:
    """A file known to the emulator; content is generated lazily for simulated user media."""

    file_id: str
    file_unique_id: str
    file_path: str
    size: int
    content: bytes | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def data(self) -> bytes:
        if self.content is not None:
            return self.content
        pattern = bytes(range(251))
        return (pattern * (self.size // len(pattern) + 1))[: self.size]


@dataclass
class _Fault:
    error_code: int
    description: str
    retry_after: int | None
    times: int


class ApiError(Exception):
    """Raised inside method implementations; becomes an ``{"ok": false}`` answer."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters


# --------------------------------------------------------------------------------------------
# Text formatting: Telegram parses parse_mode server-side and rejects malformed markup
# --------------------------------------------------------------------------------------------


def _utf16_len(text: str) -> int:
    """Entity offsets are counted in UTF-16 code units, as in the Bot API."""
    return len(text.encode("utf-16-le")) // 2


class _Markup:
    """Accumulates plain text and entities while a markup parser walks the input."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[dict[str, Any]] = []

    def emit(self, text: str) -> None:
        self.parts.append(text)
        self.pos += _utf16_len(text)

    def add(self, kind: str, start: int, **extra: Any) -> None:
        if self.pos > start:
            self.entities.append(
                {"type": kind, "offset": start, "length": self.pos - start, **extra}
            )

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        """Strip surrounding whitespace like Telegram does and shift entities accordingly."""
        raw = "".join(self.parts)
        text = raw.strip()
        shift = _utf16_len(raw[: len(raw) - len(raw.lstrip())])
        end = _utf16_len(text)
        entities = []
        for entity in self.entities:
            start = max(entity["offset"] - shift, 0)
            stop = min(entity["offset"] + entity["length"] - shift, end)
            if stop > start:
                entities.append({**entity, "offset": start, "length": stop - start})
        entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return text, entities


class _MarkupError(Exception):
    """Malformed markup; the message is Telegram's wording after "can't parse entities: "."""


_HTML_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ATTR_RE = re.compile(r"""([^\s=>/"']+)(?:\s*=\s*("[^"]*"|'[^']*'|[A-Za-z0-9.\-]*))?""")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


def _html_tag_end(text: str, start: int) -> int:
    """Index of the ``>`` closing the tag opened at ``start`` (quotes respected) or -1."""
    quote = ""
    for i in range(start, len(text)):
        char = text[i]
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == ">":
            return i
    return -1


def _html_entity(name: str) -> str | None:
    if name.startswith("#"):
        code = int(name[2:], 16) if name[1:2] in "xX" else int(name[1:])
        return chr(code) if 0 < code <= 0x10FFFF else None
    return _HTML_NAMED.get(name)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram's HTML subset; raise _MarkupError with Telegram's message when invalid."""
    out = _Markup()
    stack: list[tuple[str, dict[str, str], int]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "&" and (match := _HTML_ENTITY_RE.match(text, i)):
            decoded = _html_entity(match.group(1))
            out.emit(decoded if decoded is not None else match.group(0))
            i = match.end()
            continue
        if char != "<":
            out.emit(char)
            i += 1
            continue
        at = _byte_offset(text, i)
        if text.startswith("</", i):
            end = text.find(">", i)
            if not stack:
                raise _MarkupError(f"Unexpected end tag at byte offset {at}")
            if end == -1:
                raise _MarkupError(f"Unclosed end tag at byte offset {at}")
            name = text[i + 2 : end].strip().lower()
            tag, attrs, start = stack.pop()
            if name and name != tag:
                raise _MarkupError(
                    f'Unmatched end tag at byte offset {at}, expected "</{tag}>", found "</{name}>"'
                )
            _html_close(out, tag, attrs, start)
            i = end + 1
            continue
        name_end = i + 1
        while name_end < len(text) and not text[name_end].isspace() and text[name_end] != ">":
            name_end += 1
        if name_end >= len(text):
            raise _MarkupError(f"Unclosed start tag at byte offset {at}")
        name = text[i + 1 : name_end].lower()
        if name not in _HTML_TAG_TYPES:
            raise _MarkupError(f'Unsupported start tag "{name}" at byte offset {at}')
        end = _html_tag_end(text, name_end)
        if end == -1:
            raise _MarkupError(f"Unclosed start tag at byte offset {at}")
        attrs = {
            key.lower(): value.strip("\"'")
            for key, value in _HTML_ATTR_RE.findall(text[name_end:end])
        }
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _MarkupError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        stack.append((name, attrs, out.pos))
        i = end + 1
    if stack:
        raise _MarkupError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _html_close(out: _Markup, tag: str, attrs: dict[str, str], start: int) -> None:
    kind = _HTML_TAG_TYPES[tag]
    if kind == "text_link":
        if attrs.get("href"):
            out.add("text_link", start, url=attrs["href"])
    elif kind == "custom_emoji":
        out.add("custom_emoji", start, custom_emoji_id=attrs.get("emoji-id", ""))
    elif kind == "blockquote":
        out.add("expandable_blockquote" if "expandable" in attrs else "blockquote", start)
    elif (
        kind == "pre"
        and out.entities
        and out.entities[-1]["type"] == "code"
        and (out.entities[-1]["offset"] == start)
    ):
        code = out.entities.pop()
        out.add("pre", start, **({"language": code["language"]} if "language" in code else {}))
    elif kind == "code":
        language = attrs.get("class", "").removeprefix("language-")
        out.add("code", start, **({"language": language} if language else {}))
    else:
        out.add(kind, start)


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def _mdv2_closes(kind: str, text: str, i: int) -> bool:
    char, following = text[i], text[i + 1 : i + 2]
    return {
        "bold": char == "*",
        "italic": char == "_" and following != "_",
        "underline": text.startswith("__", i),
        "strikethrough": char == "~",
        "spoiler": text.startswith("||", i),
        "text_link": char == "]",
        "custom_emoji": char == "]",
    }[kind]


def _mdv2_url(text: str, i: int) -> tuple[str, int]:
    """Read ``(url)`` after a closing ``]``; return (url, index after it)."""
    if not text.startswith("(", i):
        return "", i
    url: list[str] = []
    j = i + 1
    while j < len(text) and text[j] != ")":
        if text[j] == "\\" and j + 1 < len(text):
            j += 1
        url.append(text[j])
        j += 1
    if j >= len(text):
        raise _MarkupError("Can't find end of a URL at byte offset " + str(_byte_offset(text, i)))
    return "".join(url), j + 1


def parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse MarkdownV2, including Telegram's "Character '.' is reserved" rejection."""
    out = _Markup()
    stack: list[tuple[str, int, int]] = []  # (kind, utf16 start, byte offset)
    quote: tuple[int, bool] | None = None  # (utf16 start, expandable)
    i = 0
    while i < len(text):
        char = text[i]
        kind = stack[-1][0] if stack else ""
        if kind in ("code", "pre"):
            i = _mdv2_code_step(text, i, out, stack)
            continue
        if i == 0 or text[i - 1] == "\n":
            if text.startswith("**>", i) or char == ">":
                if quote is None:
                    quote = (out.pos, char == "*")
                i += 3 if char == "*" else 1
                continue
            if quote is not None:
                _close_quote(out, quote)
                quote = None
        if quote and quote[1] and text.startswith("||", i) and text[i + 2 : i + 3] in ("", "\n"):
            i += 2
            continue
        if char == "\\" and i + 1 < len(text) and 0 < ord(text[i + 1]) <= 126:
            out.emit(text[i + 1])
            i += 2
            continue
        if char not in _MDV2_RESERVED:
            out.emit(char)
            i += 1
            continue
        if kind and _mdv2_closes(kind, text, i):
            _, start, _ = stack.pop()
            if kind in ("text_link", "custom_emoji"):
                url, i = _mdv2_url(text, i + 1)
                if kind == "text_link" and url:
                    out.add("text_link", start, url=url)
                elif kind == "custom_emoji":
                    out.add("custom_emoji", start, custom_emoji_id=url.rpartition("=")[2])
                continue
            out.add(kind, start)
            i += 2 if kind in ("underline", "spoiler") else 1
            continue
        i = _mdv2_open(text, i, out, stack)
    if quote is not None:
        _close_quote(out, quote)
    if stack:
        kind, _, at = stack[-1]
        raise _MarkupError(f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {at}")
    return out.result()


def _mdv2_code_step(text: str, i: int, out: _Markup, stack: list[tuple[str, int, int]]) -> int:
    """One step inside `code` or ```pre```, where only ` and \\ are special."""
    kind = stack[-1][0]
    if text[i] == "\\" and text[i + 1 : i + 2] in ("`", "\\"):
        out.emit(text[i + 1])
        return i + 2
    marker = "```" if kind == "pre" else "`"
    if text.startswith(marker, i):
        _, start, _ = stack.pop()
        out.add(kind, start)
        return i + len(marker)
    out.emit(text[i])
    return i + 1


def _close_quote(out: _Markup, quote: tuple[int, bool]) -> None:
    start, expandable = quote
    text_so_far = "".join(out.parts)
    trailing_newline = 1 if text_so_far.endswith("\n") else 0
    out.pos -= trailing_newline
    out.add("expandable_blockquote" if expandable else "blockquote", start)
    out.pos += trailing_newline


def _mdv2_open(text: str, i: int, out: _Markup, stack: list[tuple[str, int, int]]) -> int:
    """Open the entity starting at text[i]; return the index after its opening marker."""
    char = text[i]
    at = _byte_offset(text, i)
    following = text[i + 1 : i + 2]
    if char == "*":
        stack.append(("bold", out.pos, at))
        return i + 1
    if char == "_":
        double = following == "_"
        stack.append(("underline" if double else "italic", out.pos, at))
        return i + (2 if double else 1)
    if char == "~":
        stack.append(("strikethrough", out.pos, at))
        return i + 1
    if char == "|" and following == "|":
        stack.append(("spoiler", out.pos, at))
        return i + 2
    if char == "[":
        stack.append(("text_link", out.pos, at))
        return i + 1
    if char == "!" and following == "[":
        stack.append(("custom_emoji", out.pos, at))
        return i + 2
    if char == "`":
        if text.startswith("```", i):
            start = end = i + 3
            while end < len(text) and not text[end].isspace() and text[end] != "`":
                end += 1
            if end != start and end < len(text) and text[end] != "`":
                start = end  # a language name, e.g. ```python
            if text[start : start + 1] in ("\n", "\r"):
                start += 1
            stack.append(("pre", out.pos, at))
            return start
        stack.append(("code", out.pos, at))
        return i + 1
    raise _MarkupError(
        f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
    )


def parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse legacy Markdown (no nesting; ``\\`` escapes only _ * ` [)."""
    out = _Markup()
    ends = {"*": "*", "_": "_", "`": "`", "[": "]"}
    kinds = {"*": "bold", "_": "italic", "`": "code", "[": "text_link"}
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and text[i + 1 : i + 2] in ("_", "*", "`", "["):
            out.emit(text[i + 1])
            i += 2
            continue
        if char not in ends:
            out.emit(char)
            i += 1
            continue
        at = _byte_offset(text, i)
        kind = kinds[char]
        end_marker = ends[char]
        if text.startswith("```", i):
            kind, end_marker = "pre", "```"
        start = out.pos
        j = i + len(end_marker if kind == "pre" else char)
        end = text.find(end_marker, j)
        if end == -1:
            raise _MarkupError(f"Can't find end of the entity starting at byte offset {at}")
        out.emit(text[j:end])
        i = end + len(end_marker)
        if kind == "text_link":
            url, i = _mdv2_url(text, i)
            if url:
                out.add("text_link", start, url=url)
        else:
            out.add(kind, start)
    return out.result()


def format_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Apply ``parse_mode`` like Telegram; raise ApiError(400) on malformed markup."""
    parsers: dict[str, Callable[[str], tuple[str, list[dict[str, Any]]]]] = {
        "html": parse_html,
        "markdownv2": parse_markdown_v2,
        "markdown": parse_markdown,
    }
    if not parse_mode:
        return text.strip(), []
    parser = parsers.get(parse_mode.lower())
    if parser is None:
        raise ApiError(400, "Bad Request: unsupported parse_mode")
    try:
        return parser(text)
    except _MarkupError as exc:
        raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None


def _command_entities(text: str) -> list[dict[str, Any]]:
    """Telegram marks a leading ``/command`` (optionally ``@botname``) as a bot_command."""
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0] if text.strip() else text
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]


# --------------------------------------------------------------------------------------------
# Simulated people
# --------------------------------------------------------------------------------------------


class SimUser:
    """A Telegram user in a private chat with the bot (chat id == user id)."""

    def __init__(
        self,
        emulator: BotApiEmulator,
        user_id: int,
        first_name: str,
        language_code: str | None,
        username: str | None,
    ) -> None:
        self.emulator = emulator
        self.user_id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.username = username
        self.last_message_id = 0

    @property
    def chat_id(self) -> int:
        """Private chats share the user's id."""
        return self.user_id

    def as_user(self) -> dict[str, Any]:
        """The ``User`` object Telegram puts in ``from``."""
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def as_chat(self) -> dict[str, Any]:
        """The private ``Chat`` object."""
        chat: dict[str, Any] = {
            "id": self.user_id,
            "type": "private",
            "first_name": self.first_name,
        }
        if self.username:
            chat["username"] = self.username
        return chat

    def _message(self, **content: Any) -> int:
        message = self.emulator._new_message(self.as_chat(), self.as_user(), content)
        self.last_message_id = message["message_id"]
        return self.emulator._queue_update("message", message)

    async def send_text(self, text: str) -> int:
        """A text message; a leading ``/word`` gets a bot_command entity."""
        content: dict[str, Any] = {"text": text}
        if entities := _command_entities(text):
            content["entities"] = entities
        return self._message(**content)

    async def send_command(self, command: str, args: str = "") -> int:
        """``/command args`` as typed by the user."""
        text = "/" + command.lstrip("/")
        return await self.send_text(f"{text} {args}" if args else text)

    async def press(self, label: str, message: SentMessage | None = None) -> int:
        """Press an inline button by label (exact, else unique case-insensitive substring)."""
        current = self.emulator._pressable_message(self.chat_id, message)
        buttons = [
            b for row in current.get("reply_markup", {}).get("inline_keyboard", []) for b in row
        ]
        labels = [b.get("text", "") for b in buttons]
        matches = [b for b in buttons if b.get("text") == label] or [
            b for b in buttons if label.lower() in b.get("text", "").lower()
        ]
        if not matches:
            raise AssertionError(
                f"No button {label!r} on message {current['message_id']}; labels: {labels}"
            )
        if len(matches) > 1 and matches[0].get("text") != label:
            raise AssertionError(f"Button label {label!r} is ambiguous among {labels}")
        button = matches[0]
        if "callback_data" not in button:
            raise AssertionError(f"Button {button.get('text')!r} has no callback_data: {button}")
        return self.emulator._queue_callback(self.as_user(), current, button["callback_data"])

    async def press_data(self, callback_data: str, message_id: int) -> int:
        """A callback query with arbitrary data (stale or crafted buttons)."""
        message = self.emulator._messages.get(self.chat_id, {}).get(message_id)
        if message is None:  # Telegram sends an InaccessibleMessage (date 0)
            message = {"message_id": message_id, "date": 0, "chat": self.as_chat()}
        return self.emulator._queue_callback(self.as_user(), message, callback_data)

    async def send_sticker(self) -> int:
        """A regular static sticker."""
        record = self.emulator._user_file(
            "CAAC", "stickers", "webp", 12_000, {"width": 512, "height": 512}
        )
        sticker = {
            **record.meta,
            "type": "regular",
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self._message(sticker=sticker)

    async def send_animation(self) -> int:
        """A GIF: Telegram sends it as both ``animation`` and ``document``."""
        meta = {
            "width": 320,
            "height": 240,
            "duration": 3,
            "file_name": "funny.gif.mp4",
            "mime_type": "video/mp4",
        }
        record = self.emulator._user_file("CgAC", "animations", "mp4", 150_000, meta)
        document = {
            k: v
            for k, v in record.meta.items()
            if k in ("file_id", "file_unique_id", "file_name", "mime_type", "file_size")
        }
        return self._message(animation=record.meta, document=document)

    async def send_poll(self) -> int:
        """A regular, non-anonymous poll created by the user."""
        self.emulator._poll_counter += 1
        poll = {
            "id": str(5_000_000_000 + self.emulator._poll_counter),
            "question": "On se voit demain ?",
            "options": [
                {"text": text, "voter_count": 0, "persistent_id": str(n)}
                for n, text in enumerate(("Oui", "Non"))
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": False,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": True,
            "members_only": False,
        }
        return self._message(poll=poll)

    async def send_dice(self) -> int:
        """A 🎲 dice throw."""
        return self._message(dice={"emoji": "🎲", "value": 4})

    async def send_location(self, latitude: float, longitude: float) -> int:
        """A one-off location (e.g. from a request_location keyboard button)."""
        return self._message(location={"latitude": latitude, "longitude": longitude})

    async def send_contact(self, phone_number: str, own: bool = True) -> int:
        """A contact; ``own`` means the user shared their own number (user_id matches)."""
        contact: dict[str, Any] = {"phone_number": phone_number}
        if own:
            contact.update(first_name=self.first_name, user_id=self.user_id)
        else:
            contact.update(first_name="Moussa", last_name="Traoré")
        return self._message(contact=contact)

    async def send_photo(self, file_size: int = 50_000, caption: str | None = None) -> int:
        """A photo in three sizes, the last one the largest (``file_size``)."""
        sizes = []
        for width, height, size in (
            (90, 68, max(file_size // 25, 1)),
            (320, 240, max(file_size // 5, 1)),
            (1280, 960, file_size),
        ):
            meta = {"width": width, "height": height}
            sizes.append(self.emulator._user_file("AgAC", "photos", "jpg", size, meta).meta)
        content: dict[str, Any] = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        return self._message(**content)

    async def send_voice(self, duration: int = 5, file_size: int = 20_000) -> int:
        """A voice note (OGG/Opus), the usual way to talk to a bot in Mali."""
        meta = {"duration": duration, "mime_type": "audio/ogg"}
        record = self.emulator._user_file("AwAC", "voice", "oga", file_size, meta)
        return self._message(voice=record.meta)

    async def send_video(self, duration: int = 10, file_size: int = 500_000) -> int:
        """An MP4 video."""
        meta = {"width": 640, "height": 360, "duration": duration, "mime_type": "video/mp4"}
        record = self.emulator._user_file("BAAC", "videos", "mp4", file_size, meta)
        return self._message(video=record.meta)

    async def send_document(self, file_name: str = "doc.pdf", file_size: int = 10_000) -> int:
        """A file sent as a document."""
        mime = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        extension = file_name.rpartition(".")[2] if "." in file_name else "bin"
        meta = {"file_name": file_name, "mime_type": mime}
        record = self.emulator._user_file("BQAC", "documents", extension, file_size, meta)
        return self._message(document=record.meta)

    async def edit(self, message_id: int, new_text: str) -> int:
        """The user edits one of their text messages: an ``edited_message`` update."""
        old = self.emulator._messages.get(self.chat_id, {}).get(message_id)
        if old is None or old.get("from", {}).get("id") != self.user_id:
            raise AssertionError(f"User {self.user_id} has no message {message_id} to edit")
        edited = {**old, "text": new_text, "edit_date": int(time.time())}
        edited.pop("entities", None)
        if entities := _command_entities(new_text):
            edited["entities"] = entities
        self.emulator._messages[self.chat_id][message_id] = edited
        return self.emulator._queue_update("edited_message", edited)

    async def block(self) -> int:
        """The user blocks the bot: later sends answer 403, a my_chat_member update arrives."""
        self.emulator._blocked.add(self.chat_id)
        return self.emulator._queue_member_change(
            self.as_chat(), self.as_user(), "member", "kicked"
        )

    async def unblock(self) -> int:
        """The user unblocks (restarts) the bot."""
        self.emulator._blocked.discard(self.chat_id)
        return self.emulator._queue_member_change(
            self.as_chat(), self.as_user(), "kicked", "member"
        )


class SimGroup:
    """A basic group containing the bot (negative chat id)."""

    def __init__(self, emulator: BotApiEmulator, chat_id: int, title: str) -> None:
        self.emulator = emulator
        self.chat_id = chat_id
        self.title = title
        self.last_message_id = 0

    def as_chat(self) -> dict[str, Any]:
        """The group ``Chat`` object."""
        return {"id": self.chat_id, "type": "group", "title": self.title}

    async def send_text(self, from_user: SimUser, text: str) -> int:
        """A message in the group; commands (``/x`` or ``/x@bot``) get a bot_command entity."""
        content: dict[str, Any] = {"text": text}
        if entities := _command_entities(text):
            content["entities"] = entities
        message = self.emulator._new_message(self.as_chat(), from_user.as_user(), content)
        self.last_message_id = message["message_id"]
        return self.emulator._queue_update("message", message)

    async def add_bot(self, by: SimUser) -> int:
        """``by`` adds the bot to this group: a my_chat_member update (left -> member)."""
        return self.emulator._queue_member_change(self.as_chat(), by.as_user(), "left", "member")


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------

_MediaSpec = tuple[str, str, str, str, str]  # field, file id prefix, folder, ext, mime

_MEDIA_METHODS: dict[str, _MediaSpec] = {
    "sendPhoto": ("photo", "AgAC", "photos", "jpg", "image/jpeg"),
    "sendDocument": ("document", "BQAC", "documents", "bin", "application/octet-stream"),
    "sendVoice": ("voice", "AwAC", "voice", "oga", "audio/ogg"),
    "sendVideo": ("video", "BAAC", "videos", "mp4", "video/mp4"),
    "sendAudio": ("audio", "CQAC", "music", "mp3", "audio/mpeg"),
    "sendAnimation": ("animation", "CgAC", "animations", "mp4", "video/mp4"),
    "sendSticker": ("sticker", "CAAC", "stickers", "webp", "image/webp"),
}

_ACCEPT_TRUE = (
    "close",
    "logOut",
    "sendChatAction",
    "setMyDescription",
    "setMyShortDescription",
    "setMyName",
    "setChatMenuButton",
    "setMyDefaultAdministratorRights",
)


#: calls that put a message in a chat: what Telegram's rate limits count
_SENDING_METHODS = frozenset(
    name.lower()
    for name in ("sendMessage", "sendLocation", "editMessageText", *_MEDIA_METHODS, "sendVideoNote")
)
CHAOS_KINDS = ("500", "502", "drop", "lost_answer")
#: the faults that leave the call unapplied (see the module's docstring)
FAULT_KINDS = ("429", "500", "502", "timeout", "drop")
#: longest a "timeout" holds a request whose client has not given up (then the connection drops)
TIMEOUT_HOLD = 60.0


@dataclass
class _Chaos:
    rate: float
    seed: int
    kinds: tuple[str, ...]
    every_method: bool
    retry_after: int
    #: one generator per method: the n-th call of a method meets the same fate whatever the
    #: calls of other methods in between (which concurrency reorders from run to run)
    streams: dict[str, random.Random] = field(default_factory=dict)

    def draw(self, method: str) -> str | None:
        rng = self.streams.setdefault(method, random.Random(f"{self.seed}:{method}"))
        if rng.random() >= self.rate:
            return None
        return rng.choice(self.kinds)


@dataclass
class _Throttle:
    per_second: int
    window: float
    retry_after: int
    sent: deque[float] = field(default_factory=deque)


class BotApiEmulator:
    """Telegram Bot API over loopback HTTP, with simulated users and full call recording."""

    def __init__(
        self,
        token: str = "123456789:TEST-emulator-token-abcdefghijklmno",
        bot_username: str = "kibaru_test_bot",
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        bot_id = token.split(":", 1)[0]
        self.bot_user: dict[str, Any] = {
            "id": int(bot_id) if bot_id.isdigit() else 123456789,
            "is_bot": True,
            "first_name": "Kibaru",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.base_url = ""
        self.calls: list[ApiCall] = []
        self.sent: list[SentMessage] = []
        self.commands: dict[str | None, list[dict[str, Any]]] = {}
        self.scoped_commands: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.deleted: list[tuple[int, int]] = []
        self.errors: list[Exception] = []  # exceptions raised by the emulator itself
        self.webhook_url = ""

        self._users: dict[int, SimUser] = {}
        self._groups: dict[int, SimGroup] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._blocked: set[int] = set()
        self._messages: dict[int, dict[int, dict[str, Any]]] = {}
        self._next_message_id: dict[int, int] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = FIRST_UPDATE_ID
        self._callbacks_by_update: dict[int, str] = {}
        self._open_callbacks: set[str] = set()
        self._callback_counter = 0
        self._poll_counter = 0
        self._files: dict[str, _FileRecord] = {}
        self._files_by_path: dict[str, _FileRecord] = {}
        self._file_counter = 0
        self._faults: dict[str, list[_Fault]] = {}
        #: seconds, for the throttle; a test with a manual clock points it there
        self.clock: Callable[[], float] = time.monotonic
        self._throttle: _Throttle | None = None
        self._chaos: _Chaos | None = None
        self.throttled = 0  # 429s answered by the throttle
        self.chaos_faults: Counter[str] = Counter()
        #: the same faults by (method, kind)
        self.chaos_by_method: Counter[tuple[str, str]] = Counter()
        self._listeners: list[Callable[[SentMessage], None]] = []
        self._poll_generation = 0
        self._long_polls = 0
        self._closing = False
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {}
        self._register_methods()

    # ---------------------------------------------------------------- lifecycle

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1, on `port` or (0) a free port chosen by the OS."""
        self._closing = False
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # handler_cancellation: a long poll whose client vanished (SIGKILL) ends at once.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Release pending long polls (they answer []) and shut the server down."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------- test-facing API

    def user(
        self,
        user_id: int,
        first_name: str = "Awa",
        language_code: str | None = "fr",
        username: str | None = None,
    ) -> SimUser:
        """The user with that id (created on first use; same object afterwards)."""
        if user_id not in self._users:
            sim = SimUser(self, user_id, first_name, language_code, username)
            self._users[user_id] = sim
            self._chats[user_id] = sim.as_chat()
        return self._users[user_id]

    def group(self, chat_id: int, title: str = "Groupe") -> SimGroup:
        """The basic group with that (negative) id."""
        if chat_id > 0:
            raise ValueError("group chat ids are negative in the Bot API")
        if chat_id not in self._groups:
            self._groups[chat_id] = SimGroup(self, chat_id, title)
            self._chats[chat_id] = self._groups[chat_id].as_chat()
        return self._groups[chat_id]

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """New messages (not edits) the bot sent to ``chat_id``, in order."""
        return [m for m in self.sent if m.chat_id == chat_id and not m.is_edit]

    def edits_in(self, chat_id: int) -> list[SentMessage]:
        """Edits the bot made in ``chat_id``, in order."""
        return [m for m in self.sent if m.chat_id == chat_id and m.is_edit]

    def current_message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The message as a user sees it now (after edits), or None when deleted/unknown."""
        return self._messages.get(chat_id, {}).get(message_id)

    def listen(self, listener: Callable[[SentMessage], None]) -> None:
        """Call ``listener`` with each message the bot sends or edits, as it arrives: what a
        test with many users waiting at once uses instead of ``wait_for``, which re-checks
        every waiter's condition on every call."""
        self._listeners.append(listener)

    def calls_to(self, method: str) -> list[ApiCall]:
        """Recorded calls of one method (case-insensitive, as Telegram's routing)."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def callback_answer(self, update_id: int) -> dict[str, Any] | None:
        """answerCallbackQuery parameters for the press that produced ``update_id``."""
        query_id = self._callbacks_by_update.get(update_id)
        return self.callback_answers.get(query_id) if query_id else None

    def add_file(self, file_id: str, content: bytes, file_path: str | None = None) -> None:
        """Make ``file_id`` resolvable by getFile and downloadable."""
        self._file_counter += 1
        record = _FileRecord(
            file_id=file_id,
            file_unique_id=f"AQAD{self._file_counter:08d}",
            file_path=file_path or f"documents/file_{self._file_counter}",
            size=len(content),
            content=content,
        )
        record.meta = {
            "file_id": file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.size,
        }
        self._store_file(record)

    @property
    def long_polls(self) -> int:
        """getUpdates requests currently held open (a bot idling in its long poll)."""
        return self._long_polls

    @property
    def pending_updates(self) -> int:
        """Updates queued and not yet confirmed by an ``offset``."""
        return len(self._updates)

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this error (nothing is applied)."""
        fault = _Fault(error_code, description, retry_after, times)
        self._faults.setdefault(method.lower(), []).append(fault)

    def throttle(self, per_second: int, window: float = 1.0, retry_after: int = 1) -> None:
        """Answer 429 to a sending call once ``per_second`` messages went out within the last
        ``window`` seconds of ``clock`` (the refused call is not counted)."""
        self._throttle = _Throttle(per_second, window, retry_after)

    def chaos(
        self,
        rate: float,
        seed: int,
        kinds: tuple[str, ...] = CHAOS_KINDS,
        *,
        every_method: bool = False,
        retry_after: int = 1,
    ) -> None:
        """Make ``rate`` of the sending calls (``every_method``: of all calls) fail, drawn
        for each method from its own generator seeded with ``seed``: "429" answers Too Many
        Requests with ``retry_after``, "500"/"502" that error, "timeout" holds the request
        unanswered until the client gives up, "drop" closes the connection, all without
        applying the call; "lost_answer" applies it (the message is delivered) and then
        closes the connection. ``chaos(0, 0)`` stops the faults."""
        unknown = set(kinds) - {*CHAOS_KINDS, *FAULT_KINDS}
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self._chaos = _Chaos(rate, seed, kinds, every_method, retry_after)

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - the tests' API takes a plain timeout
        *,
        recheck: float | None = None,
    ) -> None:
        """Wait until ``predicate()`` holds, re-checking after every call and update.

        The predicate is only re-evaluated when the emulator sees traffic. For state the bot
        changes without calling the API (a database row...), pass ``recheck`` seconds too.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            if predicate():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(self.describe(f"Condition not met within {timeout} s"))
            try:
                async with asyncio.timeout(min(remaining, recheck or remaining)):
                    await changed.wait()
            except TimeoutError:
                pass

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int,
        timeout: float = 10.0,  # noqa: ASYNC109 - the tests' API takes a plain timeout
    ) -> list[SentMessage]:
        """Wait until the bot sent at least ``count`` new messages to ``chat_id``."""
        try:
            await self.wait_for(lambda: len(self.messages_to(chat_id)) >= count, timeout)
        except AssertionError:
            got = [m.text for m in self.messages_to(chat_id)]
            raise AssertionError(
                self.describe(
                    f"Expected {count} messages to {chat_id} within {timeout} s, got {got}"
                )
            ) from None
        return self.messages_to(chat_id)

    def describe(self, headline: str = "Bot API emulator state", last: int = 25) -> str:
        """A readable dump of recent traffic, for assertion messages."""
        polls = sum(1 for c in self.calls if c.method == "getUpdates")
        others = [c for c in self.calls if c.method != "getUpdates"][-last:]
        lines = [
            f"{headline}.",
            f"{polls} getUpdates calls; {self.pending_updates} unconfirmed updates "
            f"{[u['update_id'] for u in self._updates]}.",
            f"Last {len(others)} other calls:",
        ]
        for call in others:
            params = {k: _shorten(v) for k, v in call.params.items()}
            status = f" -> error {call.error_code}" if call.error_code else ""
            lines.append(f"  {call.method}{status} {params}")
        if not polls:
            lines.append(
                f"No getUpdates yet: is the bot running with base URL {self.base_url}/bot?"
            )
        if self.errors:
            lines.append(f"Emulator errors: {self.errors!r}")
        return "\n".join(lines)

    # ---------------------------------------------------------------- internals: state

    def _record(self, message: SentMessage) -> None:
        self.sent.append(message)
        for listener in self._listeners:
            listener(message)

    def _notify(self) -> None:
        """Wake every waiter (long polls and wait_for) by completing the current event."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _new_message(
        self, chat: dict[str, Any], sender: dict[str, Any], content: dict[str, Any]
    ) -> dict[str, Any]:
        chat_id = chat["id"]
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        message = {
            "message_id": message_id,
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        self._messages.setdefault(chat_id, {})[message_id] = message
        return message

    def _queue_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, kind: copy.deepcopy(payload)})
        self._notify()
        return update_id

    def _queue_callback(self, sender: dict[str, Any], message: dict[str, Any], data: str) -> int:
        self._callback_counter += 1
        query_id = str(4_380_000_000_000_000_000 + self._callback_counter)
        self._open_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": sender,
            "message": message,
            "chat_instance": str(8_000_000_000_000_000 + abs(message["chat"]["id"])),
            "data": data,
        }
        update_id = self._queue_update("callback_query", query)
        self._callbacks_by_update[update_id] = query_id
        return update_id

    def _queue_member_change(
        self, chat: dict[str, Any], by: dict[str, Any], old: str, new: str
    ) -> int:
        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"user": self.bot_user, "status": status}
            if status == "kicked":
                data["until_date"] = 0
            return data

        change = {
            "chat": chat,
            "from": by,
            "date": int(time.time()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        return self._queue_update("my_chat_member", change)

    def _pressable_message(self, chat_id: int, message: SentMessage | None) -> dict[str, Any]:
        """Current state of ``message`` (in its own chat: a group's message can be pressed by
        any member), else the newest bot message with an inline keyboard in ``chat_id``."""
        messages = self._messages.get(message.chat_id if message is not None else chat_id, {})
        if message is not None:
            current = messages.get(message.message_id)
            if current is None:
                raise AssertionError(f"Message {message.message_id} in {chat_id} was deleted")
            return current
        for message_id in sorted(messages, reverse=True):
            candidate = messages[message_id]
            if candidate["from"]["id"] == self.bot_user["id"] and candidate.get(
                "reply_markup", {}
            ).get("inline_keyboard"):
                return candidate
        raise AssertionError(self.describe(f"No message with an inline keyboard in {chat_id}"))

    def _user_file(
        self, prefix: str, folder: str, extension: str, size: int, meta: dict[str, Any]
    ) -> _FileRecord:
        """Register a file a simulated user sent; content is generated on download."""
        self._file_counter += 1
        n = self._file_counter
        record = _FileRecord(
            file_id=f"{prefix}AgADEmu{n:06d}",
            file_unique_id=f"AQAD{n:08d}",
            file_path=f"{folder}/file_{n}.{extension}",
            size=size,
        )
        record.meta = {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            **meta,
            "file_size": size,
        }
        self._store_file(record)
        return record

    def _store_file(self, record: _FileRecord) -> None:
        self._files[record.file_id] = record
        self._files_by_path[record.file_path] = record

    # ---------------------------------------------------------------- internals: HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["tail"]
        if path.startswith("file/bot"):
            return self._download(path.removeprefix("file/bot"))
        match = re.fullmatch(r"bot([^/]+)/([A-Za-z0-9_]+)/?", path)
        if match is None:
            return _error(ApiError(404, "Not Found"))
        if match.group(1) != self.token:
            return _error(ApiError(401, "Unauthorized"))
        try:
            params = await _read_params(request)
        except ValueError:
            return _error(ApiError(400, "Bad Request: can't parse JSON"))
        canonical, implementation = self._methods.get(
            match.group(2).lower(), (match.group(2), None)
        )
        call = ApiCall(canonical, params)
        self.calls.append(call)
        self._notify()
        try:
            fault = self._take_fault(canonical)
            if fault is not None:
                raise fault
            if implementation is None:
                raise ApiError(404, "Not Found")
            mishap = self._mishap(canonical)
            if mishap == "drop":
                return self._drop(request, call)
            if mishap == "timeout":
                return await self._hold(request, call)
            result = implementation(params)
            if asyncio.iscoroutine(result):
                result = await result
            if mishap == "lost_answer":
                return self._drop(request, call)
        except ApiError as exc:
            call.error_code = exc.error_code
            return _error(exc)
        except Exception as exc:  # an emulator bug: answer 500 but keep it visible to tests
            self.errors.append(exc)
            call.error_code = 500
            return _error(ApiError(500, f"Internal Server Error: emulator failed: {exc!r}"))
        finally:
            self._notify()
        return web.json_response({"ok": True, "result": result})

    def _mishap(self, method: str) -> str | None:
        """The chaos or throttle fault for this call: raises the HTTP errors, returns how to
        drop the connection (None: answer normally)."""
        chaos = self._chaos
        sending = method.lower() in _SENDING_METHODS
        drawn = chaos is not None and (sending or chaos.every_method) and chaos.rate > 0
        kind = chaos.draw(method) if chaos is not None and drawn else None
        if chaos is not None and kind is not None:
            self.chaos_faults[kind] += 1
            self.chaos_by_method[(method, kind)] += 1
            if kind == "429":
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {chaos.retry_after}",
                    {"retry_after": chaos.retry_after},
                )
            if kind == "500":
                raise ApiError(500, "Internal Server Error")
            if kind == "502":
                raise ApiError(502, "Bad Gateway")
            return kind
        if not sending:
            return None
        if self._throttle is not None:
            throttle, now = self._throttle, self.clock()
            while throttle.sent and throttle.sent[0] <= now - throttle.window:
                throttle.sent.popleft()
            if len(throttle.sent) >= throttle.per_second:
                self.throttled += 1
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {throttle.retry_after}",
                    {"retry_after": throttle.retry_after},
                )
            throttle.sent.append(now)
        return None

    @staticmethod
    def _drop(request: web.Request, call: ApiCall) -> web.StreamResponse:
        """Close the connection without an answer, as a network failure does."""
        call.error_code = -1
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=500)

    async def _hold(self, request: web.Request, call: ApiCall) -> web.StreamResponse:
        """A timeout: no answer until the client gives up (aiohttp then cancels this
        handler), or `TIMEOUT_HOLD` seconds, after which the connection drops."""
        call.error_code = -2
        try:
            await asyncio.sleep(TIMEOUT_HOLD)
        finally:
            self._notify()
        return self._drop(request, call)

    def _take_fault(self, method: str) -> ApiError | None:
        faults = self._faults.get(method.lower())
        if not faults:
            return None
        fault = faults[0]
        fault.times -= 1
        if fault.times <= 0:
            faults.pop(0)
        parameters = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
        return ApiError(fault.error_code, fault.description, parameters)

    def _download(self, rest: str) -> web.StreamResponse:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return _error(ApiError(401, "Unauthorized"))
        record = self._files_by_path.get(file_path)
        if record is None:
            return _error(ApiError(404, "Not Found"))
        return web.Response(body=record.data(), content_type="application/octet-stream")

    # ---------------------------------------------------------------- Bot API methods

    def _register_methods(self) -> None:
        implementations: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": lambda p: self.bot_user,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendLocation": self._send_location,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getFile": self._get_file,
        }
        for method in _MEDIA_METHODS:
            implementations[method] = lambda p, m=method: self._send_media(m, p)
        for method in _ACCEPT_TRUE:
            implementations[method] = self._accept
        self._methods = {name.lower(): (name, impl) for name, impl in implementations.items()}

    def _accept(self, params: dict[str, Any]) -> bool:
        if "chat_id" in params:
            self._chat(params)
        return True

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(409, CONFLICT_WEBHOOK)
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older pending long poll must now give way (409 Conflict)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        waiting = False
        try:
            while True:
                changed = self._changed
                if generation != self._poll_generation:
                    raise ApiError(409, CONFLICT_OTHER_POLL)
                remaining = deadline - loop.time()
                if self._updates or self._closing or remaining <= 0:
                    break
                if not waiting:  # announce the idle long poll once, then re-read the event
                    waiting = True
                    self._long_polls += 1
                    self._notify()
                    continue
                try:
                    async with asyncio.timeout(remaining):
                        await changed.wait()
                except TimeoutError:
                    pass
        finally:  # also runs when aiohttp cancels us because the client disconnected
            if waiting:
                self._long_polls -= 1
                self._notify()
        # Delivery confirms nothing: only a later offset does, so a killed client loses nothing.
        return copy.deepcopy(self._updates[:limit])

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = str(params.get("url") or "")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        """The chat addressed by ``chat_id``; Telegram's errors for unknown/blocked chats."""
        raw = params.get("chat_id")
        if isinstance(raw, str) and raw.startswith("@"):
            by_name = [c for c in self._chats.values() if c.get("username") == raw[1:]]
            chat = by_name[0] if by_name else None
        else:
            try:
                chat = self._chats.get(int(raw))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                chat = None
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat["id"] in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _check_reply_markup(self, markup: Any) -> dict[str, Any] | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ApiError(400, 'Bad Request: field "inline_keyboard" must be an Array of Array')
        for button in (b for row in rows for b in row):
            if not any(action in button for action in _INLINE_BUTTON_ACTIONS):
                raise ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _reply_to(self, chat_id: int, params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None
        target = self._messages.get(chat_id, {}).get(int(message_id))
        if target is None:
            allow = reply.get("allow_sending_without_reply", False) or params.get(
                "allow_sending_without_reply", False
            )
            if not allow:
                raise ApiError(400, "Bad Request: message to be replied not found")
            return None
        return {k: v for k, v in target.items() if k != "reply_to_message"}

    def _bot_message(
        self, method: str, params: dict[str, Any], content: dict[str, Any], raw_text: str | None
    ) -> dict[str, Any]:
        """Validate common parameters, store the new message and record it in ``sent``."""
        chat = self._chat(params)
        markup = self._check_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat["id"], params)
        if reply_to is not None:
            content["reply_to_message"] = reply_to
        if markup is not None and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        message = self._new_message(chat, self.bot_user, content)
        self._record(
            SentMessage(
                chat["id"], message["message_id"], method, raw_text, markup, params, message
            )
        )
        return message

    def _formatted(
        self, params: dict[str, Any], key: str, entities_key: str, limit: int
    ) -> dict[str, Any]:
        """``{key: plain, entities_key: [...]}`` for text/caption, Telegram's checks applied."""
        raw = params.get(key)
        if raw is None:
            return {}
        plain, entities = format_text(str(raw), params.get("parse_mode"))
        if params.get(entities_key) and not params.get("parse_mode"):
            entities = params[entities_key]
        if len(plain) > limit:
            which = "message" if key == "text" else "message caption"
            raise ApiError(400, f"Bad Request: {which} is too long")
        content: dict[str, Any] = {key: plain} if plain or key == "text" else {}
        if entities:
            content[entities_key] = entities
        return content

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        self._chat(params)  # Telegram checks the chat before the text
        content = self._formatted(params, "text", "entities", MAX_MESSAGE_LENGTH)
        if not content.get("text"):
            raise ApiError(400, "Bad Request: message text is empty")
        return self._bot_message("sendMessage", params, content, str(params["text"]))

    def _send_location(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            location = {
                "latitude": float(params["latitude"]),
                "longitude": float(params["longitude"]),
            }
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: wrong latitude or longitude") from None
        for optional in ("live_period", "heading", "horizontal_accuracy"):
            if optional in params:
                location[optional] = params[optional]
        return self._bot_message("sendLocation", params, {"location": location}, None)

    def _send_media(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        kind, prefix, folder, extension, mime = _MEDIA_METHODS[method]
        self._chat(params)
        record = self._media_record(params, kind, prefix, folder, extension, mime)
        content = self._formatted(params, "caption", "caption_entities", MAX_CAPTION_LENGTH)
        media = _media_object(kind, record)
        if kind == "photo":
            content["photo"] = [media]
        else:
            content[kind] = media
            if kind == "animation":
                content["document"] = {
                    k: v for k, v in media.items() if k not in ("width", "height", "duration")
                }
        caption = params.get("caption")
        return self._bot_message(method, params, content, None if caption is None else str(caption))

    def _media_record(
        self,
        params: dict[str, Any],
        kind: str,
        prefix: str,
        folder: str,
        extension: str,
        mime: str,
    ) -> _FileRecord:
        """Resolve the media parameter: an upload, a known file_id, or an HTTP URL."""
        value = params.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if isinstance(value, UploadedFile):
            size, content, name = len(value.data), value.data, value.filename
            mime = value.content_type if kind in ("document", "audio") else mime
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            size, content, name = 100_000, None, value.rsplit("/", 1)[-1] or None
        elif value is None:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if name and mimetypes.guess_type(name)[0]:
            extension = name.rpartition(".")[2]
        meta = {key: params[key] for key in ("width", "height", "duration") if key in params}
        if kind in ("document", "audio", "animation", "video") and name:
            meta["file_name"] = name
        if kind not in ("photo", "sticker"):
            meta["mime_type"] = mime
        record = self._user_file(prefix, folder, extension, size, meta)
        record.content = content
        return record

    def _editable(self, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(chat, message) for an edit, with Telegram's errors for missing/foreign messages."""
        chat = self._chat(params)
        message_id = params.get("message_id")
        message = self._messages.get(chat["id"], {}).get(int(message_id or 0))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat, message

    def _apply_edit(
        self,
        method: str,
        params: dict[str, Any],
        message: dict[str, Any],
        new_content: dict[str, Any],
        raw_text: str | None,
    ) -> dict[str, Any]:
        """Store the edited message; like Telegram, an edit without reply_markup drops the
        inline keyboard and an edit changing nothing is refused."""
        markup = self._check_reply_markup(params.get("reply_markup"))
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        edited = {k: v for k, v in new_content.items() if k not in ("reply_markup", "edit_date")}
        if inline is not None:
            edited["reply_markup"] = inline
        if {k: v for k, v in message.items() if k != "edit_date"} == edited:
            raise ApiError(400, NOT_MODIFIED)
        edited["edit_date"] = int(time.time())
        chat_id = message["chat"]["id"]
        self._messages[chat_id][message["message_id"]] = edited
        self._record(
            SentMessage(chat_id, message["message_id"], method, raw_text, markup, params, edited)
        )
        return edited

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        _, message = self._editable(params)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        changes = self._formatted(params, "text", "entities", MAX_MESSAGE_LENGTH)
        if not changes.get("text"):
            raise ApiError(400, "Bad Request: message text is empty")
        new_content = {k: v for k, v in message.items() if k != "entities"} | changes
        raw = str(params["text"])
        return self._apply_edit("editMessageText", params, message, new_content, raw)

    def _edit_message_caption(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        _, message = self._editable(params)
        if "text" in message:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        changes = self._formatted(params, "caption", "caption_entities", MAX_CAPTION_LENGTH)
        trimmed = {k: v for k, v in message.items() if k not in ("caption", "caption_entities")}
        trimmed.update(changes)
        caption = params.get("caption")
        raw = None if caption is None else str(caption)
        return self._apply_edit("editMessageCaption", params, message, trimmed, raw)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        _, message = self._editable(params)
        raw = message.get("text", message.get("caption"))
        return self._apply_edit("editMessageReplyMarkup", params, message, message, raw)

    def _delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params)
        message_id = int(params.get("message_id") or 0)
        if self._messages.get(chat["id"], {}).pop(message_id, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        self.deleted.append((chat["id"], message_id))
        return True

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_callbacks:
            raise ApiError(400, QUERY_INVALID)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._open_callbacks.discard(query_id)
        self.callback_answers[query_id] = params
        return True

    @staticmethod
    def _command_key(params: dict[str, Any]) -> tuple[str, str | None]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code") or None

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be an Array of at most 100 items")
        for command in commands:
            if not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._command_key(params)
        listed = [{"command": c["command"], "description": c["description"]} for c in commands]
        self.scoped_commands[key] = listed
        self.commands[key[1]] = listed
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.scoped_commands.get(self._command_key(params), [])

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        key = self._command_key(params)
        self.scoped_commands.pop(key, None)
        self.commands.pop(key[1], None)
        return True

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        record = self._files.get(str(params.get("file_id") or ""))
        if record is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if record.size > MAX_DOWNLOAD_SIZE:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.size,
            "file_path": record.file_path,
        }


# --------------------------------------------------------------------------------------------
# Request decoding helpers
# --------------------------------------------------------------------------------------------


def _media_object(kind: str, record: _FileRecord) -> dict[str, Any]:
    """The PhotoSize/Video/Voice/... object for ``record`` with the fields PTB requires."""
    media = dict(record.meta)
    if kind in ("photo", "video", "animation", "sticker"):
        media.setdefault("width", 512 if kind == "sticker" else 800)
        media.setdefault("height", 512 if kind == "sticker" else 600)
    if kind in ("voice", "video", "audio", "animation"):
        media.setdefault("duration", 1)
    if kind == "sticker":
        media.update(type="regular", is_animated=False, is_video=False)
    return media


def _decode(name: str, value: Any) -> Any:
    """PTB form-encodes non-strings as JSON (``"true"``, ``"42"``, ``'{"inline_keyboard"...'``)."""
    if not isinstance(value, str) or name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Query string, then form / multipart / JSON body, decoded the way Telegram types them."""
    raw: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json" and request.can_read_body:
        body = await request.json()
        if isinstance(body, dict):
            raw.update(body)
    elif request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                raw[key] = UploadedFile(value.filename, value.content_type, value.file.read())
            else:
                raw[key] = value
    return {key: _decode(key, value) for key, value in raw.items()}


def _error(exc: ApiError) -> web.Response:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": exc.error_code,
        "description": exc.description,
    }
    if exc.parameters:
        body["parameters"] = exc.parameters
    return web.json_response(body, status=exc.error_code)


def _shorten(value: Any, limit: int = 120) -> Any:
    text = repr(value)
    return value if len(text) <= limit else text[: limit - 3] + "..."
