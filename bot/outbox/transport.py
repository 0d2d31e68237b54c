"""What a channel offers the outbox sender: deliver one row's message, and say how it failed.

The sender decides what each failure means for the row (retry when, give up, mark the user);
the channel only translates its platform's errors into these four kinds. Each carries a short
`code` (an error type, an HTTP status) for the row's `last_error` and the logs: never the
platform's description, which can quote the message.
"""

from __future__ import annotations

from typing import Protocol

from storage.outbox import Outgoing


class DeliveryError(Exception):
    def __init__(self, code: str, done: int = 0) -> None:
        super().__init__(code)
        self.code = code
        #: the message's platform calls (see `Transport.calls`) made before the failure,
        #: counting those skipped: the next attempt skips them, so that a photo already
        #: delivered is not sent again because the text after it failed
        self.done = done


class Blocked(DeliveryError):
    """The recipient blocked the bot or left (403): retrying cannot help."""


class RetryAfter(DeliveryError):
    """The platform asked to slow down (429): wait `seconds`, then send again."""

    def __init__(self, code: str, seconds: float, done: int = 0) -> None:
        super().__init__(code, done)
        self.seconds = seconds


class Transient(DeliveryError):
    """Network error, timeout, 5xx: worth retrying later."""


class Permanent(DeliveryError):
    """The platform refused the message itself (400): retrying would fail the same way."""


class Transport(Protocol):
    async def deliver(self, chat_id: str, outgoing: Outgoing, skip: int = 0) -> int | None:
        """Send (or edit) the message, without its first `skip` calls (made by an earlier
        attempt); the id of the message carrying the text."""
        ...

    def calls(self, outgoing: Outgoing) -> int:
        """How many messages the platform counts for it (media, long texts cut in parts):
        the slots the sender takes from the pacing before delivering it. 0 for a channel
        outside Telegram's rate limits (a partner's webhook): its rows take no slot, and its
        429 delays only its own row instead of pausing Telegram's lanes."""
        ...
