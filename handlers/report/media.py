"""The files of a report in progress: what is accepted, and where it is noted."""

from __future__ import annotations

from bot.flow import Turn
from bot.inbound import MediaEvent
from storage import reports

#: Telegram lets bots download files up to 20 MB; a larger one could never be kept.
MAX_MEDIA_BYTES = 20 * 1024 * 1024
MAX_EVIDENCE = 5


async def keep_media(turn: Turn, event: MediaEvent, purpose: str) -> str | None:
    """Store a file of the draft; the reason it is refused, if it is."""
    if event.size is not None and event.size > MAX_MEDIA_BYTES:
        return turn.t._(
            "Ce fichier est trop lourd ({size} Mo, {limit} Mo au maximum). Envoyez une vidéo "
            "plus courte, une photo ou un message vocal.",
            size=turn.t.number(round(event.size / 1024 / 1024, 1)),
            limit=turn.t.number(MAX_MEDIA_BYTES // 1024 // 1024),
        )
    await reports.add_draft_media(
        turn.conn,
        turn.user.id,
        purpose,
        event.media.value,
        turn.user.channel,
        event.file_id,
        event.size,
        event.duration,
        event.mime_type,
        event.file_name,
        turn.now,
    )
    return None
