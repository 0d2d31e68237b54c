"""Review of reports through the engine: decisions, races, refusals, questions, the queue.

What goes out later (review posts, notices, alerts) is read from the outbox table: its
delivery is the sender's business and is tested with it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.inbound import ActionEvent
from bot.outbound import ActionMessage
from handlers.review.queue import escalate_overdue
from storage import audit, reports, review, roles, users
from storage.roles import Role
from tests.chat_driver import ChatDriver

NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def file_report(
    kibaru: Kibaru, chat_id: str, contact: str = "1", language: str = "Français"
) -> reports.Report:
    """A report of an armed attack in Commune IV of Bamako; contact 1 anonymous, 2 via bot."""
    chat = ChatDriver(kibaru.conversations, chat_id=chat_id)
    await chat.command("start")
    await chat.tap(language)
    await chat.command("signaler")
    await chat.text("1")  # armed attack
    await chat.text("2")  # today
    await chat.text("8h30")
    await chat.text("Bamako")
    await chat.text("commune 4")
    await chat.text("passer")  # no place detail
    await chat.text("Des hommes armés ont attaqué le marché de Médina Coura")
    await chat.text("3")  # people: don't know
    await chat.text("passer")  # no evidence
    await chat.text(contact)
    await chat.text("1")  # send
    async with kibaru.db.reading() as conn:
        user = await users.find(conn, "test", chat_id)
        assert user is not None
        [report, *_] = await reports.of_reporter(conn, user.id)
    return report


async def staff(kibaru: Kibaru, chat_id: str, role: Role, scope: str | None = None) -> ChatDriver:
    chat = ChatDriver(kibaru.conversations, chat_id=chat_id)
    await chat.command("start")
    await chat.tap("Français")
    async with kibaru.db.transaction() as conn:
        user = await users.find(conn, "test", chat_id)
        assert user is not None
        await roles.grant(conn, user.id, role, NOW, scope)
    return chat


async def press(chat: ChatDriver, report_id: int | str, verb: str, name: str = "Awa") -> str:
    await chat.event(
        ActionEvent(
            chat.sender, name="rv", args=(str(report_id), verb), actor_name=name, event_id=None
        )
    )
    return chat.last_text


async def outbox_rows(kibaru: Kibaru, like: str = "%") -> list[dict[str, object]]:
    async with kibaru.db.reading() as conn:
        cursor = await conn.execute(
            "SELECT key, chat_id, status, payload, batch, not_before FROM outbox"
            " WHERE key LIKE ? ORDER BY id",
            (like,),
        )
        return [dict(row) for row in await cursor.fetchall()]


async def test_a_report_is_posted_to_validators_in_scope(kibaru: Kibaru) -> None:
    await staff(kibaru, "500", Role.VALIDATOR)  # everywhere
    await staff(kibaru, "501", Role.VALIDATOR, "bamako_c4")  # this commune
    await staff(kibaru, "502", Role.VALIDATOR, "mopti")  # elsewhere
    report = await file_report(kibaru, "1001")
    posts = await outbox_rows(kibaru, "review:%")
    assert {p["chat_id"] for p in posts} == {"500", "501", "999"}  # 999: KIBARU_ADMINS
    payload = json.loads(str(posts[0]["payload"]))
    assert report.reference in payload["text"] and "Rapporteur #" in payload["text"]
    assert "1001" not in payload["text"]  # no reporter identity
    datas = [b[1] for row in payload["buttons"] for b in row]
    assert datas == [f"!rv:{report.id}:{verb}" for verb in ("val", "rej", "ask", "dup")]


async def test_validate_reaches_the_reporter_and_staff(kibaru: Kibaru) -> None:
    validator = await staff(kibaru, "500", Role.VALIDATOR)
    report = await file_report(kibaru, "1001")
    assert "gravité" in await press(validator, report.id, "val")
    await validator.tap("Alerte")
    await validator.tap("abonnés")
    assert "Passer" in validator.labels[0]
    await validator.tap("Passer")
    assert f"{report.reference} validé" in validator.last_text
    async with kibaru.db.reading() as conn:
        stored = await reports.get(conn, report.id)
        alert = await review.alert_of(conn, report.id)
        decision = await review.decision_of(conn, report.id)
    assert stored is not None and stored.status == "validated"
    assert alert is not None and (alert.severity, alert.audience) == (3, "public")
    assert decision is not None and decision.decided_by_name == "Awa"
    [notice] = await outbox_rows(kibaru, "reporter:%")
    assert notice["chat_id"] == "1001"
    assert "validé" in json.loads(str(notice["payload"]))["text"]
    assert "Awa" not in json.loads(str(notice["payload"]))["text"]  # staff stay unnamed
    alerts = await outbox_rows(kibaru, "alert:%")
    assert {a["chat_id"] for a in alerts} == {"500", "999"}  # staff: validator, coordinator
    sent_alert = alerts[0]
    text = json.loads(str(sent_alert["payload"]))["text"]
    assert "🟠" in text and "Commune IV" in text and report.reference in text
    assert "Médina Coura" not in text  # never the reporter's own words
    assert sent_alert["batch"] == report.reference
    # the review post was not sent yet: nobody needs it any more
    posts = await outbox_rows(kibaru, "review:%")
    assert posts and {p["status"] for p in posts} == {"cancelled"}


async def test_two_validators_racing_the_second_is_told_who_decided(kibaru: Kibaru) -> None:
    first = await staff(kibaru, "500", Role.VALIDATOR)
    second = await staff(kibaru, "501", Role.VALIDATOR)
    report = await file_report(kibaru, "1001")
    await press(first, report.id, "val", "Awa")
    await press(second, report.id, "rej", "Moussa")
    await first.tap("Urgence")
    await first.tap("Points focaux")
    await first.text("Attaque en cours au marché, évitez le secteur.")
    await second.tap("Impossible à vérifier")
    await second.tap("Oui")
    assert "déjà été traité par Awa" in second.last_text
    async with kibaru.db.reading() as conn:
        decision = await review.decision_of(conn, report.id)
        alert = await review.alert_of(conn, report.id)
    assert decision is not None and decision.decision == "validated"
    assert alert is not None and alert.summary == "Attaque en cours au marché, évitez le secteur."
    assert [n["key"] for n in await outbox_rows(kibaru, "reporter:%")] == [
        f"reporter:{report.id}:validated"
    ]
    # a press after the decision is answered at once
    assert "déjà été traité par Awa" in await press(second, report.id, "val", "Moussa")


async def test_presses_by_others_are_refused_and_audited(kibaru: Kibaru) -> None:
    report = await file_report(kibaru, "1001")
    stranger = ChatDriver(kibaru.conversations, chat_id="666")  # never talked to the bot
    assert "pas le droit" in await press(stranger, report.id, "val")
    elsewhere = await staff(kibaru, "502", Role.VALIDATOR, "mopti")
    assert "pas le droit" in await press(elsewhere, report.id, "rej")
    focal = await staff(kibaru, "503", Role.FOCAL_POINT, "bamako")
    assert "pas le droit" in await press(focal, report.id, "val")
    assert "pas le droit" in await press(focal, "12; DROP TABLE reports", "val")
    reporter = ChatDriver(kibaru.conversations, chat_id="1001")
    assert "pas le droit" in await press(reporter, report.id, "val")
    async with kibaru.db.reading() as conn:
        entries = [e for e in await audit.recent(conn) if e.action == "refused"]
        stored = await reports.get(conn, report.id)
        assert await review.decision_of(conn, report.id) is None
    assert len(entries) == 5
    assert stored is not None and stored.status == "received"


async def test_reject_tells_the_reporter_the_reason_in_their_language(kibaru: Kibaru) -> None:
    validator = await staff(kibaru, "500", Role.VALIDATOR)
    report = await file_report(kibaru, "1001", language="English")
    await press(validator, report.id, "rej")
    await validator.tap("Autre raison")
    await validator.text("Le marché était fermé ce jour-là")
    await validator.tap("Oui")
    assert "rejeté" in validator.last_text
    [notice] = await outbox_rows(kibaru, "reporter:%")
    text = json.loads(str(notice["payload"]))["text"]
    assert "was not retained" in text or "not accepted" in text or report.reference in text
    assert "Le marché était fermé ce jour-là" in text


async def test_ask_for_details_round_trip_without_identities(kibaru: Kibaru) -> None:
    validator = await staff(kibaru, "500", Role.VALIDATOR)
    report = await file_report(kibaru, "1001", contact="2")  # via Kibaru
    await press(validator, report.id, "ask")
    await validator.text("Combien d'hommes armés avez-vous vus ?")
    assert "Question envoyée" in validator.last_text
    [relayed] = await outbox_rows(kibaru, "question:%")
    payload = json.loads(str(relayed["payload"]))
    assert relayed["chat_id"] == "1001" and "Combien d'hommes" in payload["text"]
    assert "Awa" not in payload["text"] and "500" not in payload["text"]
    [[(_, data)]] = payload["buttons"]
    name, question_id = data[1:].split(":")
    reporter = ChatDriver(kibaru.conversations, chat_id="1001")
    # someone else cannot answer in the reporter's place
    other = ChatDriver(kibaru.conversations, chat_id="1002")
    await other.event(ActionEvent(other.sender, name=name, args=(question_id,)))
    assert "pas le droit" in other.last_text
    await reporter.event(ActionEvent(reporter.sender, name=name, args=(question_id,)))
    assert "Combien d'hommes" in reporter.last_text
    await reporter.text("Une dizaine, à moto")
    assert "transmise" in reporter.last_text
    [answer] = await outbox_rows(kibaru, "answer:%")
    text = json.loads(str(answer["payload"]))["text"]
    assert answer["chat_id"] == "500" and "Une dizaine, à moto" in text
    assert "Rapporteur #" in text and "1001" not in text
    async with kibaru.db.reading() as conn:
        [asked] = await review.questions_of(conn, report.id)
        stored = await reports.get(conn, report.id)
    assert asked.answer == "Une dizaine, à moto"
    assert stored is not None and stored.status == "under_review"


async def test_anonymous_reporters_are_not_asked(kibaru: Kibaru) -> None:
    validator = await staff(kibaru, "500", Role.VALIDATOR)
    report = await file_report(kibaru, "1001", contact="1")
    assert "anonyme" in await press(validator, report.id, "ask")
    assert await outbox_rows(kibaru, "question:%") == []


async def test_duplicate_of_a_listed_candidate_or_a_typed_reference(kibaru: Kibaru) -> None:
    validator = await staff(kibaru, "500", Role.VALIDATOR)
    first = await file_report(kibaru, "1001")
    second = await file_report(kibaru, "1002")
    third = await file_report(kibaru, "1003")
    await press(validator, second.id, "dup")
    assert first.reference in validator.labels
    await validator.tap(first.reference)
    assert f"doublon de {first.reference}" in validator.last_text
    await press(validator, third.id, "dup")
    await validator.tap("Taper une référence")
    await validator.text("ml-2026-999999")
    assert "Je ne trouve pas" in validator.last_text
    await validator.text(first.reference.lower())
    async with kibaru.db.reading() as conn:
        decision = await review.decision_of(conn, third.id)
    assert decision is not None and decision.duplicate_of == first.id
    notices = await outbox_rows(kibaru, f"reporter:{second.id}:%")
    assert first.reference in json.loads(str(notices[0]["payload"]))["text"]


async def test_pending_queue_and_escalation(kibaru: Kibaru, clock: ManualClock) -> None:
    coordinator = await staff(kibaru, "400", Role.COORDINATOR)
    validator = await staff(kibaru, "500", Role.VALIDATOR)
    first = await file_report(kibaru, "1001")
    clock.advance(minutes=10)
    second = await file_report(kibaru, "1002")
    await validator.command("a_valider")
    text = validator.last_text
    assert text.index(first.reference) < text.index(second.reference)  # oldest first
    await validator.tap(second.reference)
    [shown] = [m for m in validator.last_replies if isinstance(m, ActionMessage)]
    assert second.reference in shown.text and len(shown.actions) == 2
    community = ChatDriver(kibaru.conversations, chat_id="1001")
    await community.command("a_valider")
    assert "pas le droit" in community.last_text
    # an armed attack is urgent: 30 minutes
    clock.advance(minutes=25)
    settings, catalogs = kibaru.settings, kibaru.catalogs
    assert await escalate_overdue(kibaru.db, clock, settings, catalogs) == 1  # the first
    clock.advance(minutes=10)
    assert await escalate_overdue(kibaru.db, clock, settings, catalogs) == 1  # the second
    assert await escalate_overdue(kibaru.db, clock, settings, catalogs) == 0  # once each
    rows = await outbox_rows(kibaru, "escalation:%")
    assert sorted(r["chat_id"] for r in rows) == ["400", "400", "999", "999"]
    assert first.reference in json.loads(str(rows[0]["payload"]))["text"]
    assert coordinator.sender.chat_id == "400"


async def test_role_commands(kibaru: Kibaru) -> None:
    coordinator = await staff(kibaru, "400", Role.COORDINATOR)
    newcomer = ChatDriver(kibaru.conversations, chat_id="700")
    await newcomer.command("start")
    await newcomer.tap("Français")
    await newcomer.command("moi")
    assert "700" in newcomer.last_text
    await coordinator.command("role", "700 validator bamako_c4")
    assert "donné" in coordinator.last_text
    await coordinator.command("role", "700 validateur atlantis")
    assert "Je ne connais pas la zone" in coordinator.last_text
    await coordinator.command("role", "bonjour")
    assert "Utilisation" in coordinator.last_text
    await coordinator.command("roles")
    assert "700" in coordinator.last_text and "Commune IV" in coordinator.last_text
    await newcomer.command("role", "700 coordinator")
    assert "pas le droit" in newcomer.last_text
    await coordinator.command("role", "700 validator bamako_c4 retirer")
    assert "retiré" in coordinator.last_text
    async with kibaru.db.reading() as conn:
        user = await users.find(conn, "test", "700")
        assert user is not None and await roles.of_user(conn, user.id) == []
        actions = [e.action for e in await audit.recent(conn)]
    assert actions.count("role.grant") >= 2 and "role.revoke" in actions and "refused" in actions


async def test_broadcast_progress(kibaru: Kibaru) -> None:
    coordinator = await staff(kibaru, "400", Role.COORDINATOR)
    validator = await staff(kibaru, "500", Role.VALIDATOR)
    report = await file_report(kibaru, "1001")
    await press(validator, report.id, "val")
    await validator.tap("Vigilance")
    await validator.tap("Points focaux")
    await validator.tap("Passer")
    await coordinator.command("diffusion", report.reference)
    assert "en attente" in coordinator.last_text and "2" in coordinator.last_text
    await coordinator.command("diffusion", "ML-2026-424242")
    assert "Aucune diffusion" in coordinator.last_text


async def test_digest_subscribers_get_one_message_at_their_hour(
    kibaru: Kibaru, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two alerts in a day reach a digest subscriber as one outbox row held until 18:00."""
    from handlers.dissemination import fanout
    from storage.subscriptions import Recipient

    async with kibaru.db.transaction() as conn:
        subscriber, _ = await users.get_or_create(conn, "test", "9000", NOW)

    async def recipients(conn: object, **_: object) -> list[Recipient]:
        return [Recipient(subscriber.id, "test", "9000", "fr", "digest", 18)]

    monkeypatch.setattr(fanout.subscriptions, "recipients", recipients)
    validator = await staff(kibaru, "500", Role.VALIDATOR)
    for chat_id in ("1001", "1002"):
        report = await file_report(kibaru, chat_id)
        await press(validator, report.id, "val")
        await validator.tap("Vigilance")
        await validator.tap("abonnés")
        await validator.tap("Passer")
    [digest] = await outbox_rows(kibaru, "digest:%")
    assert digest["chat_id"] == "9000" and digest["not_before"] == "2026-03-12T18:00:00.000+00:00"
    text = json.loads(str(digest["payload"]))["text"]
    assert text.count("🟡") == 2 and "ML-2026-000001" in text and "ML-2026-000002" in text
