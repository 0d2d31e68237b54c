"""Each new public alert, queued for the partners' webhook (KIBARU_CAP_WEBHOOK) as CAP XML.

The row is queued in the transaction that creates the alert, so partners get an alert if and
only if it exists, exactly once in normal operation (the key is the alert's and the message
type's). It goes through the outbox on its own channel, whose transport POSTs the XML
(`bot/channels/cap_webhook.py`) and whose failures the sender retries like any other. Rows
wait on one outbox "chat", so partners receive the messages one at a time, in order: an
Update never overtakes its Alert.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.i18n import Translator
from bot.settings import Settings
from handlers.cap.message import LANGUAGES, MsgType, cap_message
from storage import outbox
from storage.database import Connection
from storage.outbox import Outgoing
from storage.reports import Report
from storage.review import Alert, Audience

#: the outbox channel of the CAP messages POSTed to partners
CAP_WEBHOOK = "cap_webhook"
#: its one recipient: the transport posts to the URL configured when it sends
PARTNERS = "partners"


def webhook_key(alert: Alert, msg_type: MsgType = MsgType.ALERT, revision: int = 1) -> str:
    suffix = f"-{revision}" if msg_type is MsgType.UPDATE else ""
    return f"cap:{alert.id}:{msg_type.value.lower()}{suffix}"


async def queue_for_partners(
    conn: Connection,
    report: Report,
    alert: Alert,
    translator_for: Callable[[str | None], Translator],
    settings: Settings,
    now: datetime,
) -> bool:
    """Queue the alert's CAP message; False when there is no webhook or the alert is for
    staff only (those never leave the network), or it was queued before."""
    if settings.cap_webhook is None or alert.audience is not Audience.PUBLIC:
        return False
    xml = cap_message(
        report,
        alert,
        [translator_for(language) for language in LANGUAGES],
        sender=settings.cap_sender,
        timezone=settings.timezone,
    )
    return await outbox.enqueue(
        conn,
        key=webhook_key(alert),
        kind="cap",
        channel=CAP_WEBHOOK,
        chat_id=PARTNERS,
        outgoing=Outgoing(xml),
        now=now,
    )
