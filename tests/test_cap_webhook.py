"""CAP messages POSTed to a partner's webhook: queued when a public alert is validated, sent by
the outbox sender to a real HTTP server on 127.0.0.1, retried on 5xx with backoff on a manual
clock, signed with the shared secret, never for staff-only alerts, and not at all when
KIBARU_CAP_WEBHOOK is unset. Last, the whole way through the Telegram channel."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import Kibaru
from bot.channels.cap_webhook import (
    CAP_MEDIA_TYPE,
    SIGNATURE_HEADER,
    CapWebhookTransport,
    retry_after,
    signature,
)
from bot.channels.telegram import TelegramChannel
from bot.clock import ManualClock
from bot.outbox.pacing import Pacing
from bot.outbox.sender import OutboxSender
from bot.settings import Settings, SettingsError, load_settings
from handlers.cap.webhook import CAP_WEBHOOK, PARTNERS, queue_for_partners, webhook_key
from storage.database import Database
from storage.outbox import Outgoing
from storage.reports import Report
from storage.review import Audience
from storage.roles import Role
from tests import test_review_e2e as review_e2e
from tests import test_review_flow as review_flow
from tests.bot_api_emulator import BotApiEmulator
from tests.cap_support import Partner, partner_server, seed_alert, texts, valid
from tests.telegram_harness import running_bot

NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
SECRET = "s3cret-shared-with-the-partner"
SENDER = "kibaru@wanep-mali.org"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def partner() -> AsyncIterator[Partner]:
    async with partner_server() as server:
        yield server


@pytest.fixture
async def partner_kibaru(
    settings: Settings, clock: ManualClock, partner: Partner
) -> AsyncIterator[Kibaru]:
    """Kibaru with KIBARU_CAP_WEBHOOK pointing at the partner's server."""
    app = await Kibaru.open(
        replace(settings, cap_webhook=partner.url, cap_secret=SECRET, cap_sender=SENDER), clock
    )
    yield app
    await app.close()


async def cap_rows(db: Database) -> list[dict[str, object]]:
    async with db.reading() as conn:
        cursor = await conn.execute(
            "SELECT key, channel, chat_id, status, attempts, last_error, payload FROM outbox"
            " WHERE channel = ? ORDER BY id",
            (CAP_WEBHOOK,),
        )
        return [dict(row) for row in await cursor.fetchall()]


async def until(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    """Until `check()` is true: the sender works on real sockets, the clock is manual."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("not reached in time")
        await asyncio.sleep(0.01)


async def settled(db: Database) -> list[dict[str, object]]:
    """The CAP rows once none is queued or being sent any more."""

    async def done() -> bool:
        return all(r["status"] not in ("queued", "sending") for r in await cap_rows(db))

    await until(done)
    return await cap_rows(db)


async def queue_one(kibaru: Kibaru, **options: object) -> str:
    """Seed a public alert and queue its CAP message; the message."""
    report, alert = await seed_alert(kibaru, kibaru.clock.now(), **options)  # type: ignore[arg-type]
    async with kibaru.db.transaction() as conn:
        queued = await queue_for_partners(
            conn, report, alert, kibaru.catalogs.get, kibaru.settings, kibaru.clock.now()
        )
    assert queued
    [row] = [r for r in await cap_rows(kibaru.db) if r["key"] == webhook_key(alert)]
    return str(json.loads(str(row["payload"]))["text"])


@pytest.fixture
async def sender(partner_kibaru: Kibaru, partner: Partner) -> AsyncIterator[OutboxSender]:
    transport = CapWebhookTransport(partner.url, SECRET, max_attempts=5)
    outbox_sender = OutboxSender(
        partner_kibaru.db,
        partner_kibaru.clock,
        {CAP_WEBHOOK: transport},
        Pacing(partner_kibaru.clock),
        max_attempts=5,
    )
    outbox_sender.start()
    yield outbox_sender
    await outbox_sender.stop()
    await transport.close()


# --- settings ----------------------------------------------------------------------------------


def test_webhook_settings() -> None:
    settings = load_settings(
        {
            "KIBARU_CAP_WEBHOOK": " https://alerts.example.org/cap?token=1 ",
            "KIBARU_CAP_SECRET": SECRET,
            "KIBARU_CAP_SENDER": SENDER,
        }
    )
    assert settings.cap_webhook == "https://alerts.example.org/cap?token=1"
    assert (settings.cap_secret, settings.cap_sender) == (SECRET, SENDER)
    unset = load_settings({})
    assert unset.cap_webhook is None and unset.cap_secret is None
    assert unset.cap_sender.startswith("kibaru@")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KIBARU_CAP_WEBHOOK", "alerts.example.org/cap"),
        ("KIBARU_CAP_WEBHOOK", "ftp://alerts.example.org/cap"),
        ("KIBARU_CAP_WEBHOOK", "https://"),
        ("KIBARU_CAP_SECRET", "short"),
        ("KIBARU_CAP_SENDER", "Kibaru Mali"),
        ("KIBARU_CAP_SENDER", "kibaru,mali"),
    ],
)
def test_wrong_webhook_settings_name_their_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({variable: value})
    assert raised.value.variable == variable


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after("30") == 30
    assert retry_after(None) == retry_after("soon") == 60
    assert retry_after("999999") == 3600
    in_two_minutes = datetime.now(UTC) + timedelta(minutes=2)
    assert 100 < retry_after(in_two_minutes.strftime("%a, %d %b %Y %H:%M:%S GMT")) <= 120


# --- queued with the alert ---------------------------------------------------------------------


async def validate(kibaru: Kibaru, audience_label: str) -> Report:
    validator = await review_flow.staff(kibaru, "500", Role.VALIDATOR)
    report = await review_flow.file_report(kibaru, "1001")
    await review_flow.press(validator, report.id, "val")
    await validator.tap("Alerte")
    await validator.tap(audience_label)
    await validator.tap("Passer")
    assert f"{report.reference} validé" in validator.last_text
    return report


async def test_validating_a_public_alert_queues_its_cap_message(partner_kibaru: Kibaru) -> None:
    report = await validate(partner_kibaru, "abonnés")
    [row] = await cap_rows(partner_kibaru.db)
    assert row["key"] == "cap:1:alert" and row["chat_id"] == PARTNERS
    root = valid(json.loads(str(row["payload"]))["text"])
    assert texts(root, "cap:identifier") == [f"{SENDER}:{report.reference}"]
    assert texts(root, "cap:info/cap:language") == ["fr", "en"]
    assert "Médina Coura" not in str(row["payload"])  # the reporter's words stay home


async def test_a_staff_only_alert_is_never_queued(partner_kibaru: Kibaru) -> None:
    await validate(partner_kibaru, "Points focaux")
    assert await cap_rows(partner_kibaru.db) == []
    report, alert = await seed_alert(partner_kibaru, NOW, audience=Audience.STAFF)
    async with partner_kibaru.db.transaction() as conn:
        assert not await queue_for_partners(
            conn, report, alert, partner_kibaru.catalogs.get, partner_kibaru.settings, NOW
        )


async def test_nothing_is_queued_without_a_webhook(kibaru: Kibaru) -> None:
    assert kibaru.settings.cap_webhook is None
    await validate(kibaru, "abonnés")
    assert await cap_rows(kibaru.db) == []


# --- delivered by the outbox sender ------------------------------------------------------------


async def test_posted_signed_and_retried_with_backoff_through_500s(
    partner_kibaru: Kibaru, partner: Partner, sender: OutboxSender, clock: ManualClock
) -> None:
    partner.answers = [(500, {})] * 3
    xml = await queue_one(partner_kibaru)
    sender.kick()
    [row] = await settled(partner_kibaru.db)
    assert (row["status"], row["attempts"]) == ("sent", 4)
    assert len(partner.received) == 4
    for post in partner.received:
        assert post.body == xml.encode("utf-8")
        assert post.headers["Content-Type"] == CAP_MEDIA_TYPE
        assert post.headers[SIGNATURE_HEADER] == signature(SECRET, post.body)
    valid(partner.received[-1].body.decode("utf-8"))
    # backoff 2 s, 4 s, 8 s, on the manual clock (no real waiting)
    assert clock.now() - NOW >= timedelta(seconds=14)
    # Telegram's budget was not touched
    assert sender.pacing.priority_delay() == 0 and sender.pacing.bulk_delay() == 0


async def test_a_400_fails_the_row_without_retrying(
    partner_kibaru: Kibaru, partner: Partner, sender: OutboxSender
) -> None:
    partner.answers = [(400, {})]
    await queue_one(partner_kibaru)
    sender.kick()
    [row] = await settled(partner_kibaru.db)
    assert (row["status"], row["last_error"], row["attempts"]) == ("failed", "http_400", 1)
    assert len(partner.received) == 1


async def test_a_429_waits_for_retry_after_without_pausing_telegram(
    partner_kibaru: Kibaru, partner: Partner, sender: OutboxSender, clock: ManualClock
) -> None:
    partner.answers = [(429, {"Retry-After": "30"})]
    await queue_one(partner_kibaru)
    sender.kick()
    [row] = await settled(partner_kibaru.db)
    assert row["status"] == "sent" and len(partner.received) == 2
    assert clock.now() - NOW >= timedelta(seconds=30)
    assert sender.throttled == 1
    assert sender.pacing._paused_until is None  # Telegram's lanes never paused


async def test_an_unreachable_partner_is_retried_then_given_up(
    partner_kibaru: Kibaru, partner: Partner
) -> None:
    await queue_one(partner_kibaru)
    closed = CapWebhookTransport("http://127.0.0.1:9/cap", SECRET, timeout=5, max_attempts=3)
    outbox_sender = OutboxSender(
        partner_kibaru.db,
        partner_kibaru.clock,
        {CAP_WEBHOOK: closed},
        Pacing(partner_kibaru.clock),
        max_attempts=8,  # the transport's own patience wins
    )
    outbox_sender.start()
    try:
        [row] = await settled(partner_kibaru.db)
    finally:
        await outbox_sender.stop()
        await closed.close()
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 3, "ConnectError")
    assert outbox_sender.retried == 2 and partner.received == []


def test_the_transport_takes_no_telegram_slot_and_waits_out_long_outages() -> None:
    transport = CapWebhookTransport("http://127.0.0.1:9/cap")
    assert transport.calls(Outgoing("<alert/>")) == 0
    waits = [min(2.0 * 2 ** (n - 1), 600.0) for n in range(1, transport.max_attempts)]
    assert sum(waits) > 4 * 3600  # hours of retries, not the chats' four minutes


async def test_the_telegram_channel_posts_to_partners_only_when_configured(
    settings: Settings, clock: ManualClock, emulator: BotApiEmulator
) -> None:
    telegram = replace(settings, telegram_token=emulator.token, telegram_api_url=emulator.base_url)
    for url, channels in (
        (None, {"telegram"}),
        ("http://127.0.0.1:9/cap", {"telegram", CAP_WEBHOOK}),
    ):
        app = await Kibaru.open(replace(telegram, cap_webhook=url), clock)
        try:
            channel = TelegramChannel(app)
            assert set(channel.outbox.transports) == channels
            if channel.cap_webhook is not None:
                await channel.cap_webhook.close()
        finally:
            await app.close()


# --- end to end --------------------------------------------------------------------------------


async def test_a_validated_public_alert_reaches_the_partner_through_telegram(
    emulator: BotApiEmulator, db_path: Path, clock: ManualClock, partner: Partner
) -> None:
    settings = Settings(
        telegram_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_path=db_path,
        admins=(400,),
        timezone=ZoneInfo("Africa/Bamako"),
        review_chat_id=review_e2e.GROUP,
        cap_webhook=partner.url,
        cap_secret=SECRET,
        cap_sender=SENDER,
    )
    emulator.group(review_e2e.GROUP, "Analystes NEWS")
    async with running_bot(settings, clock) as channel:
        bot = channel.kibaru
        reporter, validator = emulator.user(1001), emulator.user(500)
        await review_e2e.onboard(emulator, reporter, "Français")
        await review_e2e.onboard(emulator, validator, "Français")
        await review_e2e.grant(bot, validator, Role.VALIDATOR)
        await review_e2e.file_report(emulator, reporter)
        [post] = await emulator.wait_for_messages(review_e2e.GROUP, 1)
        await validator.press("Valider", post)
        await review_e2e.said(emulator, validator)
        await validator.press("Urgence")
        await review_e2e.said(emulator, validator)
        await validator.press("abonnés")
        await review_e2e.said(emulator, validator)
        await validator.press("Passer")
        await review_e2e.said(emulator, validator)

        async def posted() -> bool:
            return len(partner.received) == 1

        await until(posted)
        [row] = await settled(bot.db)
    assert row["status"] == "sent" and len(partner.received) == 1
    [post] = partner.received
    assert post.headers[SIGNATURE_HEADER] == signature(SECRET, post.body)
    root = valid(post.body.decode("utf-8"))
    assert texts(root, "cap:msgType") == ["Alert"]
    assert texts(root, "cap:info/cap:severity") == ["Extreme", "Extreme"]
    assert texts(root, "cap:info/cap:area/cap:areaDesc") == ["Commune IV, Bamako"] * 2
    assert b"M\xc3\xa9dina Coura" not in post.body and b"1001" not in post.body
