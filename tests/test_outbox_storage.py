"""The outbox table and its storage functions (storage/outbox.py, migration 0004)."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Kibaru
from bot.clock import ManualClock
from storage import outbox, users
from storage.database import fetch_one
from storage.outbox import Outgoing, Status

ALERT = Outgoing(
    "⚠️ Alerte",
    buttons=((("Vu", "1:seen"), ("Plus", "1:more")), (("Fermer", "1:close"),)),
    media=(("photo", "AgACfile"),),
)


def test_outgoing_round_trips_through_json() -> None:
    for message in (ALERT, Outgoing("x"), Outgoing("édité", edit_message_id=42)):
        assert Outgoing.from_json(message.to_json()) == message
    assert "Alerte" in ALERT.to_json()  # readable in the database, not \\u-escaped


async def test_a_key_is_queued_once(kibaru: Kibaru, clock: ManualClock) -> None:
    async with kibaru.db.transaction() as conn:
        first = await outbox.enqueue(
            conn,
            key="alert:1:user:1",
            channel="telegram",
            chat_id="1",
            outgoing=ALERT,
            now=clock.now(),
            batch="ML-2026-000001",
        )
        again = await outbox.enqueue(
            conn,
            key="alert:1:user:1",
            channel="telegram",
            chat_id="1",
            outgoing=Outgoing("y"),
            now=clock.now(),
            batch="ML-2026-000001",
        )
        rows = await outbox.due(conn, ["telegram"], clock.now(), 10)
    assert (first, again) == (True, False)
    assert [(r.key, r.outgoing) for r in rows] == [("alert:1:user:1", ALERT)]


async def test_not_before_keeps_a_row_until_its_time(kibaru: Kibaru, clock: ManualClock) -> None:
    later = clock.now() + timedelta(hours=6)
    async with kibaru.db.transaction() as conn:
        await outbox.enqueue(
            conn,
            key="digest:2026-03-12:7",
            channel="telegram",
            chat_id="7",
            outgoing=Outgoing("digest"),
            now=clock.now(),
            kind="digest",
            not_before=later,
        )
        assert await outbox.due(conn, ["telegram"], clock.now(), 10) == []
        assert await outbox.next_due(conn, ["telegram"]) == later
        assert len(await outbox.due(conn, ["telegram"], later, 10)) == 1
        assert await outbox.due(conn, ["console"], later, 10) == []


async def test_progress_cancel_and_sent_message(kibaru: Kibaru, clock: ManualClock) -> None:
    now = clock.now()
    async with kibaru.db.transaction() as conn:
        for chat in range(1, 7):
            await outbox.enqueue(
                conn,
                key=f"a:{chat}",
                channel="telegram",
                chat_id=str(chat),
                outgoing=ALERT,
                now=now,
                batch="B",
            )
        rows = await outbox.due(conn, ["telegram"], now, 10)
        ids = {row.chat_id: row.id for row in rows}
        assert await outbox.mark_sending(conn, list(ids.values())) == list(ids.values())
        await outbox.mark_sent(conn, ids["1"], 501, now)
        await outbox.mark_failed(conn, ids["2"], "BadRequest")
        await outbox.mark_blocked(conn, ids["3"], "Forbidden", now)
        await outbox.mark_retry(conn, ids["4"], "TimedOut", now + timedelta(seconds=2))
        assert await outbox.cancel(conn, "a:1") is False  # already sent
        assert await outbox.cancel(conn, "a:5") is False  # in flight: it will arrive
        assert await outbox.cancel(conn, "a:4") is True  # waiting for its retry: stopped
        assert await outbox.progress(conn, "B") == {
            Status.QUEUED: 2,  # a:5 and a:6 being sent
            Status.SENDING: 0,
            Status.SENT: 1,
            Status.FAILED: 1,
            Status.BLOCKED: 1,
            Status.CANCELLED: 1,
        }
        assert await outbox.sent_message(conn, "a:1") == ("1", 501)
        assert await outbox.sent_message(conn, "a:2") is None
        assert await outbox.cancel_batch(conn, "B") == 0  # nothing left waiting
        assert (await outbox.progress(conn, "B"))[Status.CANCELLED] == 1
        error = await fetch_one(conn, "SELECT last_error FROM outbox WHERE key = 'a:3'")
        assert error is not None and error[0] == "Forbidden"


async def test_recover_queues_the_rows_a_crash_left_sending(
    kibaru: Kibaru, clock: ManualClock
) -> None:
    async with kibaru.db.transaction() as conn:
        await outbox.enqueue(
            conn, key="k", channel="telegram", chat_id="1", outgoing=ALERT, now=clock.now()
        )
        [row] = await outbox.due(conn, ["telegram"], clock.now(), 10)
        await outbox.mark_sending(conn, [row.id])
        assert await outbox.due(conn, ["telegram"], clock.now(), 10) == []
        assert await outbox.recover(conn) == 1
        assert len(await outbox.due(conn, ["telegram"], clock.now(), 10)) == 1


async def test_blocking_marks_the_user(kibaru: Kibaru, clock: ManualClock) -> None:
    async with kibaru.db.transaction() as conn:
        user, _ = await users.get_or_create(conn, "telegram", "77", clock.now())
        await outbox.enqueue(
            conn, key="k", channel="telegram", chat_id="77", outgoing=ALERT, now=clock.now()
        )
        [row] = await outbox.due(conn, ["telegram"], clock.now(), 10)
        for key, chat in (("same-chat", "77"), ("other-chat", "78")):
            await outbox.enqueue(
                conn, key=key, channel="telegram", chat_id=chat, outgoing=ALERT, now=clock.now()
            )
        await outbox.mark_sending(conn, [row.id])
        await outbox.mark_blocked(conn, row.id, "Forbidden", clock.now())
        blocked = await fetch_one(conn, "SELECT blocked_at FROM users WHERE id = ?", (user.id,))
        statuses = dict(await conn.execute_fetchall("SELECT key, status FROM outbox"))
    assert blocked is not None and blocked[0] is not None
    # the chat's other waiting row would meet the same 403: not tried at all
    assert statuses == {"k": "blocked", "same-chat": "blocked", "other-chat": "queued"}


async def test_deleting_a_user_cancels_what_was_queued_for_them(
    kibaru: Kibaru, clock: ManualClock
) -> None:
    async with kibaru.db.transaction() as conn:
        awa, _ = await users.get_or_create(conn, "telegram", "11", clock.now())
        other, _ = await users.get_or_create(conn, "telegram", "12", clock.now())
        for key, user, chat in (
            ("by-id", awa.id, "11"),
            ("by-chat", None, "11"),
            ("o", other.id, "12"),
        ):
            await outbox.enqueue(
                conn,
                key=key,
                channel="telegram",
                chat_id=chat,
                outgoing=ALERT,
                now=clock.now(),
                user_id=user,
                batch="B",
            )
        await users.delete(conn, awa.id)
        assert (await outbox.progress(conn, "B"))[Status.CANCELLED] == 2
        [left] = await outbox.due(conn, ["telegram"], clock.now(), 10)
        assert left.key == "o"
        row = await fetch_one(conn, "SELECT COUNT(*) FROM outbox WHERE chat_id = '11'")
        assert row is not None and row[0] == 0  # the chat id is forgotten too
