"""Announcements by coordinators: to focal points or an area, now or later, cancellable."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.inbound import ActionEvent
from bot.outbound import ActionMessage
from storage.roles import Role
from tests.chat_driver import ChatDriver
from tests.test_review_flow import outbox_rows, staff

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday, 09:00 in Bamako


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def test_announcement_to_focal_points_now(kibaru: Kibaru) -> None:
    coordinator = await staff(kibaru, "400", Role.COORDINATOR)
    await staff(kibaru, "600", Role.FOCAL_POINT, "mopti")
    await staff(kibaru, "601", Role.FOCAL_POINT)
    await coordinator.command("annonce")
    await coordinator.tap("points focaux")
    await coordinator.text("court")
    assert "au moins 2 mots" in coordinator.last_text  # too short, asked again
    await coordinator.text("Réunion de coordination demain à 10h au gouvernorat.")
    await coordinator.tap("Maintenant")
    assert "2 destinataires" in coordinator.last_text
    await coordinator.tap("Confirmer")
    assert "envoyée à 2 destinataires" in coordinator.last_text
    rows = await outbox_rows(kibaru, "announcement:%")
    assert sorted(r["chat_id"] for r in rows) == ["600", "601"]
    assert all(r["not_before"] is None and r["batch"] == "ANN-1" for r in rows)
    assert "Réunion de coordination" in json.loads(str(rows[0]["payload"]))["text"]


async def test_scheduled_announcement_is_listed_and_cancelled(kibaru: Kibaru) -> None:
    coordinator = await staff(kibaru, "400", Role.COORDINATOR)
    await staff(kibaru, "600", Role.FOCAL_POINT)
    await coordinator.command("annonce")
    await coordinator.tap("points focaux")
    await coordinator.text("Formation des points focaux vendredi.")
    await coordinator.tap("Choisir")
    await coordinator.text("hier")
    assert "pas compris" in coordinator.last_text
    await coordinator.text("demain")
    await coordinator.text("le soir")
    assert "heure précise" in coordinator.last_text
    await coordinator.text("18h30")
    assert "mardi 24 novembre 2026" in coordinator.last_text
    await coordinator.tap("Confirmer")
    assert "ANN-1 programmée" in coordinator.last_text
    [row] = await outbox_rows(kibaru, "announcement:%")
    assert row["not_before"] == "2026-11-24T18:30:00.000+00:00"
    await coordinator.command("annonces")
    [listed] = [m for m in coordinator.last_replies if isinstance(m, ActionMessage)]
    [[cancel]] = listed.actions
    intruder = ChatDriver(kibaru.conversations, chat_id="666")
    await intruder.event(ActionEvent(intruder.sender, name="ann", args=("1",)))
    assert "pas le droit" in intruder.last_text
    name, *args = cancel.key[1:].split(":")
    await coordinator.event(ActionEvent(coordinator.sender, name=name, args=tuple(args)))
    assert "annulée (1 message retiré)" in coordinator.last_text
    [row] = await outbox_rows(kibaru, "announcement:%")
    assert row["status"] == "cancelled"
    await coordinator.command("annonces")
    assert "Aucune annonce" in coordinator.last_text


async def test_only_coordinators_announce(kibaru: Kibaru) -> None:
    validator = await staff(kibaru, "500", Role.VALIDATOR)
    await validator.command("annonce")
    assert "pas le droit" in validator.last_text
    await validator.command("annonces")
    assert "pas le droit" in validator.last_text


async def test_area_announcements_reach_the_area_and_the_places_inside(kibaru: Kibaru) -> None:
    from storage import subscriptions, users
    from storage.subscriptions import AreaKind

    follows = {
        "801": (AreaKind.REGION, "bamako"),
        "802": (AreaKind.COMMUNE, "bamako_c4"),
        "803": (AreaKind.REGION, "mopti"),
        "804": (AreaKind.MALI, ""),
        "805": (AreaKind.COMMUNE, "bamako_c1"),
    }
    async with kibaru.db.transaction() as conn:
        for chat_id, (kind, code) in follows.items():
            user, _ = await users.get_or_create(conn, "test", chat_id, NOW)
            await subscriptions.subscribe(conn, user.id, kind, code, 4, "now", None, NOW)
            if chat_id == "805":
                await subscriptions.pause(conn, user.id, NOW)
        bamako = {r.chat_id for r in await subscriptions.followers(conn, "bamako")}
        commune = {r.chat_id for r in await subscriptions.followers(conn, "bamako_c4", "bamako")}
        everyone = {r.chat_id for r in await subscriptions.followers(conn, None)}
    assert bamako == {"801", "802", "804"}
    assert commune == {"801", "802", "804"}
    assert everyone == {"801", "802", "803", "804"}
