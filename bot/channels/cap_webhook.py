"""The partners' side of the outbox: POST each CAP message to KIBARU_CAP_WEBHOOK.

The body is the CAP XML in UTF-8, `Content-Type: application/cap+xml`. With
KIBARU_CAP_SECRET set, the header `X-Kibaru-Signature: sha256=<hex>` carries the HMAC-SHA256
of the exact body bytes keyed with the secret (GitHub's webhook convention): the receiver
recomputes it over the raw body and compares in constant time. A signature, rather than the
secret itself in a header, proves the body was not altered and never shows the secret to a
proxy or a log on the way. A replayed POST gains nothing: it is the same message, with the same
CAP identifier, which partners already de-duplicate on.

Answers map to the transport's kinds: 2xx is delivered; 429 is slowed down for its
Retry-After (seconds or an HTTP date, 60 s when absent); 5xx, 408, timeouts and network errors
are retried with the sender's backoff; any other answer (a 400, a 401 for a wrong secret, a
redirect) is permanent. The response's body is never read: only its status matters.

A partner's webhook is not Telegram: it takes no slot of Telegram's 30 messages a second
(`calls` is 0), and its 429 slows only its own rows (`bot.outbox.sender`).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from bot.outbox.transport import Permanent, RetryAfter, Transient
from storage.outbox import Outgoing

CAP_MEDIA_TYPE = "application/cap+xml"
SIGNATURE_HEADER = "X-Kibaru-Signature"
#: wait after a 429 without a readable Retry-After, and the longest wait honoured
DEFAULT_RETRY_AFTER = 60.0
LONGEST_RETRY_AFTER = 3600.0


def signature(secret: str, body: bytes) -> str:
    """The X-Kibaru-Signature value of a body: `sha256=` and the HMAC's hex digest."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def retry_after(value: str | None) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if value is None or not value.strip():
        return DEFAULT_RETRY_AFTER
    text = value.strip()
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 1.0), LONGEST_RETRY_AFTER)


#: attempts before a CAP message is given up: with the sender's backoff (2 s doubling, at most
#: 10 min) 40 attempts span about 5 hours of a partner's outage; `/export cap` catches up after
PATIENCE = 40


class CapWebhookTransport:
    """`bot.outbox.transport.Transport` for one partner URL."""

    def __init__(
        self,
        url: str,
        secret: str | None = None,
        *,
        timeout: float = 20.0,
        client: httpx.AsyncClient | None = None,
        max_attempts: int = PATIENCE,
    ) -> None:
        self.url = url
        self.secret = secret
        #: more than the sender's default for chats: a partner's outage can last hours
        self.max_attempts = max_attempts
        self._client = client or httpx.AsyncClient(
            timeout=timeout, headers={"User-Agent": "Kibaru (CAP 1.2)"}
        )

    def calls(self, outgoing: Outgoing) -> int:
        return 0

    async def deliver(self, chat_id: str, outgoing: Outgoing, skip: int = 0) -> int | None:
        """One POST: a row of one call, so `skip` is always 0 here."""
        body = outgoing.text.encode("utf-8")
        headers = {"Content-Type": CAP_MEDIA_TYPE}
        if self.secret:
            headers[SIGNATURE_HEADER] = signature(self.secret, body)
        try:
            async with self._client.stream(
                "POST", self.url, content=body, headers=headers
            ) as response:
                status = response.status_code
                wait = response.headers.get("Retry-After")
        except httpx.HTTPError as error:  # timeouts, refused connections, broken answers
            raise Transient(type(error).__name__) from None
        if 200 <= status < 300:
            return None
        if status == 429:
            raise RetryAfter("http_429", retry_after(wait))
        if status >= 500 or status == 408:
            raise Transient(f"http_{status}")
        raise Permanent(f"http_{status}")

    async def close(self) -> None:
        await self._client.aclose()
