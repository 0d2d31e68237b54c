"""Plain outbound messages: what the bot says, whatever the channel.

Flows return these; a channel adapter renders them (Telegram inline buttons, a numbered list
in the console, later WhatsApp interactive messages). Texts are already translated.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.inbound import MediaKind


@dataclass(frozen=True)
class Button:
    key: str
    label: str


@dataclass(frozen=True)
class Message:
    text: str


@dataclass(frozen=True)
class ActionMessage(Message):
    """A message whose buttons are actions (`bot.inbound.action_data`), not answers to the
    current question: a report shown to a validator with its decision buttons."""

    actions: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True)
class Question(Message):
    """A question with buttons; `prompt` ties taps to this very question (stale detection).

    `choices` are the numbered answers (typing "2" picks the second); `navigation` holds
    "back"/"cancel", shown as buttons but not numbered.
    """

    choices: tuple[Button, ...] = ()
    navigation: tuple[Button, ...] = ()
    prompt: int = 0
    columns: int = 1
    #: False where typed numbers are answers themselves (how many people...): the console then
    #: shows the buttons without numbers, and a typed "2" is not the second button
    numbered: bool = True


class KeyboardRequest(StrEnum):
    LOCATION = "location"
    CONTACT = "contact"


@dataclass(frozen=True)
class Request(Message):
    """Ask for something only the device can give (location pin, phone number).

    Rendered as a one-time keyboard whose first button shares it; `alternatives` are plain
    text buttons next to it (typing the label works the same).
    """

    request: KeyboardRequest
    button_label: str
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemoveKeyboard(Message):
    """A text that also hides a keyboard left by an earlier `Request`."""


@dataclass(frozen=True)
class Media(Message):
    """A file to send, by the channel's file id or from a local file; `text` is the caption."""

    kind: MediaKind = MediaKind.PHOTO
    file_id: str | None = None
    path: str | None = None
