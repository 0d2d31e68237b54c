"""Plain inbound events: what a user did, whatever the channel.

Channel adapters (Telegram, console, later WhatsApp) turn their platform's updates into these
so that flows never see a platform object. Every event knows who sent it (`Sender`); the
platform's own identifiers stay strings so that phone-number ids (WhatsApp) fit too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"


class MediaKind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    VOICE = "voice"
    AUDIO = "audio"
    DOCUMENT = "document"
    VIDEO_NOTE = "video_note"


@dataclass(frozen=True)
class Sender:
    channel: str
    chat_id: str
    chat_kind: ChatKind = ChatKind.PRIVATE
    #: the platform's language guess for the user (Telegram's language_code), never trusted as a
    #: choice: it only picks the language of the very first question.
    language_hint: str | None = None
    #: the platform user inside a group chat (same as chat_id in a private chat)
    user_id: str | None = None


@dataclass(frozen=True)
class Event:
    sender: Sender
    #: the platform's update id, to recognise an update delivered twice after a crash
    event_id: int | None = field(default=None, kw_only=True)

    @property
    def kind(self) -> str:
        return type(self).__name__.removesuffix("Event").lower()


@dataclass(frozen=True)
class CommandEvent(Event):
    name: str
    args: str = ""


@dataclass(frozen=True)
class TextEvent(Event):
    text: str


@dataclass(frozen=True)
class ChoiceEvent(Event):
    """A tap on a button: `prompt` says which question the button belonged to."""

    prompt: int
    key: str


@dataclass(frozen=True)
class LocationEvent(Event):
    latitude: float
    longitude: float
    #: a named place picked in the app (Telegram venue), if any
    title: str | None = None


@dataclass(frozen=True)
class MediaEvent(Event):
    media: MediaKind
    file_id: str
    size: int | None = None
    duration: int | None = None
    mime_type: str | None = None
    file_name: str | None = None
    caption: str | None = None


@dataclass(frozen=True)
class ContactEvent(Event):
    phone: str
    #: True when the user shared their own number (not someone else's card)
    own: bool


@dataclass(frozen=True)
class UnsupportedEvent(Event):
    """Something the bot cannot use (sticker, GIF, poll, ...): `what` names it for the reply."""

    what: str


@dataclass(frozen=True)
class EditedEvent(Event):
    """The user edited an earlier message; answers are never changed behind their back."""


@dataclass(frozen=True)
class MalformedChoiceEvent(Event):
    """Callback data the bot never produced (crafted or from an older version)."""


#: first character of an action button's data; question buttons start with a digit
ACTION_MARK = "!"


@dataclass(frozen=True)
class ActionEvent(Event):
    """A tap on a button of a message that is not a question of the user's conversation: a
    report posted for review, a question relayed to a reporter. `name` picks the feature,
    `args` are the button's own data, untrusted: the feature checks who may do what.

    The sender is always the person who tapped, in their private chat (even when the button
    was in a group), so that what follows (a severity to choose, a reason to type) is asked
    privately. `actor_name` is their display name, shown to other staff only."""

    name: str
    args: tuple[str, ...] = ()
    actor_name: str | None = None


def action_data(name: str, *args: object) -> str:
    """The callback data of an action button (Telegram allows 64 bytes)."""
    data = ACTION_MARK + ":".join([name, *(str(a) for a in args)])
    if len(data.encode()) > 64:
        raise ValueError("action button data longer than 64 bytes")
    return data


InboundEvent = (
    CommandEvent
    | TextEvent
    | ChoiceEvent
    | LocationEvent
    | MediaEvent
    | ContactEvent
    | UnsupportedEvent
    | EditedEvent
    | MalformedChoiceEvent
    | ActionEvent
)
