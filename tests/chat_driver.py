"""Drive the conversation engine directly, as a channel would, and read what it answered."""

from __future__ import annotations

from itertools import count

from bot.engine import Conversations
from bot.inbound import (
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
from bot.outbound import Message, Question, Request

_update_ids = count(1)


class ChatDriver:
    """One user talking to the engine; keeps every reply, like a phone screen."""

    def __init__(
        self,
        conversations: Conversations,
        chat_id: str = "1001",
        channel: str = "test",
        hint: str | None = "fr",
        chat_kind: ChatKind = ChatKind.PRIVATE,
    ) -> None:
        self.conversations = conversations
        self.sender = Sender(channel, chat_id, chat_kind, hint, chat_id)
        self.screen: list[Message] = []
        self.last_replies: list[Message] = []

    async def event(self, event: InboundEvent) -> list[Message]:
        self.last_replies = await self.conversations.handle(event)
        self.screen.extend(self.last_replies)
        return self.last_replies

    def _id(self) -> int:
        return next(_update_ids)

    async def text(self, text: str) -> list[Message]:
        return await self.event(TextEvent(self.sender, text=text, event_id=self._id()))

    async def command(self, name: str, args: str = "") -> list[Message]:
        return await self.event(
            CommandEvent(self.sender, name=name, args=args, event_id=self._id())
        )

    async def tap(self, label: str, question: Question | None = None) -> list[Message]:
        """Tap the button whose label contains `label` on the given or the latest question.

        On a keyboard request (location, contact), the other keys send their label as text.
        """
        if question is None and self.screen and isinstance(self.screen[-1], Request):
            for key in self.screen[-1].alternatives:
                if key == label or label.lower() in key.lower():
                    return await self.text(key)
            raise AssertionError(f"no key {label!r} in {self.screen[-1].alternatives}")
        question = question or self.question
        for button in (*question.choices, *question.navigation):
            if button.label == label or label.lower() in button.label.lower():
                return await self.event(
                    ChoiceEvent(
                        self.sender, prompt=question.prompt, key=button.key, event_id=self._id()
                    )
                )
        labels = [b.label for b in (*question.choices, *question.navigation)]
        raise AssertionError(f"no button {label!r} in {labels}")

    async def tap_key(self, prompt: int, key: str) -> list[Message]:
        return await self.event(
            ChoiceEvent(self.sender, prompt=prompt, key=key, event_id=self._id())
        )

    async def unsupported(self, what: str) -> list[Message]:
        return await self.event(UnsupportedEvent(self.sender, what=what, event_id=self._id()))

    async def edited(self) -> list[Message]:
        return await self.event(EditedEvent(self.sender, event_id=self._id()))

    async def malformed(self) -> list[Message]:
        return await self.event(MalformedChoiceEvent(self.sender, event_id=self._id()))

    async def location(self, lat: float = 12.65, lon: float = -8.0) -> list[Message]:
        return await self.event(
            LocationEvent(self.sender, latitude=lat, longitude=lon, event_id=self._id())
        )

    async def contact(self, phone: str = "+22370000000", own: bool = True) -> list[Message]:
        return await self.event(
            ContactEvent(self.sender, phone=phone, own=own, event_id=self._id())
        )

    async def media(
        self,
        kind: MediaKind = MediaKind.PHOTO,
        size: int = 1000,
        caption: str | None = None,
        duration: int | None = None,
    ) -> list[Message]:
        update_id = self._id()
        return await self.event(
            MediaEvent(
                self.sender,
                media=kind,
                file_id=f"file-{update_id}",
                size=size,
                duration=duration,
                caption=caption,
                event_id=update_id,
            )
        )

    @property
    def question(self) -> Question:
        for message in reversed(self.screen):
            if isinstance(message, Question):
                return message
        raise AssertionError("no question on screen")

    @property
    def last(self) -> Message:
        return self.last_replies[-1]

    @property
    def last_text(self) -> str:
        return "\n".join(m.text for m in self.last_replies)

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.question.choices]

    @property
    def nav_labels(self) -> list[str]:
        return [b.label for b in self.question.navigation]
