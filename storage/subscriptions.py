"""TEMPORARY stand-in with the agreed interface, replaced by the subscriptions branch."""

from __future__ import annotations

from dataclasses import dataclass

from storage.database import Connection


@dataclass(frozen=True)
class Recipient:
    user_id: int
    channel: str
    chat_id: str
    language: str | None
    delivery: str
    digest_hour: int | None


async def recipients(
    conn: Connection, *, region: str | None, commune_or_cercle: str | None, severity: int
) -> list[Recipient]:
    return []
