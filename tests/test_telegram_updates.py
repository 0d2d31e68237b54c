"""Telegram updates become the right plain events (no network: updates built from JSON)."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update

from bot.channels.telegram import to_event
from bot.inbound import (
    ChatKind,
    ChoiceEvent,
    CommandEvent,
    ContactEvent,
    EditedEvent,
    LocationEvent,
    MalformedChoiceEvent,
    MediaEvent,
    MediaKind,
    TextEvent,
    UnsupportedEvent,
)

USER = {"id": 77, "is_bot": False, "first_name": "Awa", "language_code": "bm"}
PRIVATE = {"id": 77, "type": "private", "first_name": "Awa"}
GROUP = {"id": -100, "type": "group", "title": "Comité"}


def message(chat: dict[str, Any] | None = None, **content: Any) -> dict[str, Any]:
    return {
        "message_id": 5,
        "date": 1_700_000_000,
        "chat": chat or PRIVATE,
        "from": USER,
        **content,
    }


def event(kind: str = "message", **payload: Any) -> object:
    update = Update.de_json({"update_id": 900, kind: payload}, None)  # type: ignore[arg-type]
    return to_event(update, "kibaru_test_bot")


def test_text_and_commands() -> None:
    text = event(**message(text="bonjour"))
    assert isinstance(text, TextEvent) and text.text == "bonjour" and text.event_id == 900
    assert text.sender.language_hint == "bm" and text.sender.chat_kind is ChatKind.PRIVATE
    command = event(**message(text="/Langue@kibaru_test_bot fr"))
    assert isinstance(command, CommandEvent)
    assert (command.name, command.args) == ("langue", "fr")
    assert event(**message(chat=GROUP, text="/start@other_bot")) is None
    in_group = event(**message(chat=GROUP, text="/start"))
    assert isinstance(in_group, CommandEvent) and in_group.sender.chat_kind is ChatKind.GROUP


def test_buttons() -> None:
    query = {"id": "q1", "from": USER, "chat_instance": "c", "message": message(text="Q")}
    choice = event("callback_query", **query, data="12:fr")
    assert isinstance(choice, ChoiceEvent) and (choice.prompt, choice.key) == (12, "fr")
    for crafted in ("fr", "x:fr", "12:", ""):
        assert isinstance(event("callback_query", **query, data=crafted), MalformedChoiceEvent)


@pytest.mark.parametrize(
    ("content", "what"),
    [
        ({"sticker": {"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1,
                      "is_animated": False, "is_video": False, "type": "regular"}}, "sticker"),
        ({"animation": {"file_id": "a", "file_unique_id": "a", "width": 1, "height": 1,
                        "duration": 1}, "document": {"file_id": "a", "file_unique_id": "a"}},
         "animation"),
        ({"dice": {"emoji": "🎲", "value": 3}}, "dice"),
        ({"new_chat_title": "x", "group_chat_created": True}, None),
    ],
)  # fmt: skip
def test_unsupported_kinds(content: dict[str, Any], what: str | None) -> None:
    result = event(**message(**content))
    if what is None:
        assert result is None  # service messages are nothing a person typed
    else:
        assert isinstance(result, UnsupportedEvent) and result.what == what


def test_media_location_contact() -> None:
    photo = event(
        **message(
            photo=[
                {"file_id": "small", "file_unique_id": "1", "width": 90, "height": 90},
                {"file_id": "big", "file_unique_id": "2", "width": 800, "height": 800,
                 "file_size": 50_000},
            ],
            caption="vu ce matin",
        )
    )  # fmt: skip
    assert isinstance(photo, MediaEvent)
    assert (photo.media, photo.file_id, photo.size, photo.caption) == (
        MediaKind.PHOTO,
        "big",
        50_000,
        "vu ce matin",
    )
    voice = event(**message(voice={"file_id": "v", "file_unique_id": "v", "duration": 7}))
    assert isinstance(voice, MediaEvent) and voice.media is MediaKind.VOICE and voice.duration == 7
    pin = event(**message(location={"latitude": 16.27, "longitude": -0.04}))
    assert isinstance(pin, LocationEvent) and pin.latitude == 16.27
    own = event(**message(contact={"phone_number": "+22370000000", "first_name": "A",
                                   "user_id": 77}))  # fmt: skip
    other = event(**message(contact={"phone_number": "+22370000001", "first_name": "B"}))
    assert isinstance(own, ContactEvent) and own.own
    assert isinstance(other, ContactEvent) and not other.own


def test_edits() -> None:
    edited = event("edited_message", **message(text="oui"), edit_date=1_700_000_100)
    assert isinstance(edited, EditedEvent)
    live = event(
        "edited_message",
        **message(location={"latitude": 16.3, "longitude": -0.05, "live_period": 900}),
        edit_date=1_700_000_100,
    )
    assert live is None  # a live location moving is not an edit to complain about
