"""/bulletin and /stats through the conversation engine: coordinators get the report and its
chart on demand, bad input a usage line, everyone else a refusal that is audited."""

from __future__ import annotations

from datetime import date

import pytest

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.outbound import Media
from handlers.bulletins.commands import requested_period
from storage import audit, roles, users
from storage.roles import Role
from tests.bulletin_data import at, seed, seed_sessions
from tests.chat_driver import ChatDriver


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at(25, 9))  # Wednesday 25 November 2026


async def _member(
    kibaru: Kibaru, chat_id: str, role: Role | None, tap: str = "Français"
) -> ChatDriver:
    chat = ChatDriver(kibaru.conversations, chat_id=chat_id)
    await chat.command("start")
    await chat.tap(tap)
    async with kibaru.db.transaction() as conn:
        user = await users.find(conn, "test", chat_id)
        assert user is not None
        if role is not None:
            await roles.grant(conn, user.id, role, kibaru.clock.now())
    return chat


@pytest.fixture
async def coordinator(kibaru: Kibaru) -> ChatDriver:
    async with kibaru.db.transaction() as conn:
        await seed(conn)
        await seed_sessions(conn)
    return await _member(kibaru, "2001", Role.COORDINATOR)


def test_reading_the_period_asked() -> None:
    today = date(2026, 11, 25)
    week = requested_period("semaine 20/11/2026", today)
    assert week is not None and (week.start, week.end) == (date(2026, 11, 16), date(2026, 11, 23))
    assert requested_period("week 2026-11-20", today) == week
    assert requested_period("2026-11-20", today) == week
    assert requested_period("20.11.2026 semaine", today) == week
    last_week = requested_period("semaine", today)
    assert last_week == week  # without a date: the last whole week
    assert requested_period("", today) == week
    month = requested_period("mois 2026-11", today)
    assert month is not None and (month.start, month.end) == (date(2026, 11, 1), date(2026, 12, 1))
    assert requested_period("month 19/11/2026", today) == month
    assert requested_period("2026-11", today) == month
    october = requested_period("mois", today)
    assert october is not None and october.start == date(2026, 10, 1)
    for bad in ("semaine 2026-11", "hier", "mois 31/02/2026", "semaine 1/1/1999", "a b c"):
        assert requested_period(bad, today) is None, bad


async def test_the_weekly_report_on_demand(coordinator: ChatDriver) -> None:
    replies = await coordinator.command("bulletin", "semaine")
    chart, text = replies[0], replies[1]
    assert isinstance(chart, Media) and chart.path is not None
    with open(chart.path, "rb") as png:
        assert png.read(8) == b"\x89PNG\r\n\x1a\n"
    assert text.text.startswith("📊 Rapport hebdomadaire d'alerte\n🗓️ 16–22 nov. 2026\n")
    assert "🚨 7 alertes validées" in text.text


async def test_the_current_week_reads_as_in_progress(coordinator: ChatDriver) -> None:
    replies = await coordinator.command("bulletin", "semaine 25/11/2026")
    text = next(m.text for m in replies if "Rapport hebdomadaire" in m.text)
    assert "🗓️ 23–29 nov. 2026 (en cours)" in text
    assert "🚨 1 alerte validée" in text


async def test_the_monthly_bulletin_on_demand(coordinator: ChatDriver) -> None:
    replies = await coordinator.command("bulletin", "mois 2026-11")
    assert isinstance(replies[0], Media)
    assert "📰 Bulletin mensuel de sécurité humaine\n🗓️ novembre 2026" in replies[1].text
    assert "Sessions tenues : 2" in replies[1].text


async def test_an_empty_week_has_no_chart(coordinator: ChatDriver) -> None:
    replies = await coordinator.command("bulletin", "semaine 2026-06-10")
    assert not any(isinstance(m, Media) for m in replies)
    assert "✅ Aucune alerte validée cette semaine." in replies[0].text


async def test_bad_input_gets_the_usage(coordinator: ChatDriver) -> None:
    for args in ("semaine 2026-11", "hier", "mois 31/02/2026"):
        text = "\n".join(m.text for m in await coordinator.command("bulletin", args))
        assert "Je ne comprends pas" in text and "Utilisation : /bulletin semaine" in text
    future = "\n".join(m.text for m in await coordinator.command("bulletin", "mois 2027-01"))
    assert "Cette période n'a pas encore commencé." in future


async def test_stats(coordinator: ChatDriver) -> None:
    text = "\n".join(m.text for m in await coordinator.command("stats", "2026-11"))
    assert "📊 Chiffres clés\n🗓️ novembre 2026" in text
    assert "📥 Signalements reçus : 14" in text
    assert "🚨 10 alertes validées" in text
    this_week = "\n".join(m.text for m in await coordinator.command("stats", "semaine"))
    assert "(en cours)" in this_week and "🚨 1 alerte validée" in this_week
    bad = "\n".join(m.text for m in await coordinator.command("stats", "demain"))
    assert "Je ne comprends pas la période « demain »." in bad
    assert "Utilisation : /stats" in bad


@pytest.mark.parametrize(("command", "args"), [("bulletin", "semaine"), ("stats", "")])
async def test_only_coordinators(kibaru: Kibaru, command: str, args: str) -> None:
    validator = await _member(kibaru, "2002", Role.VALIDATOR)
    text = "\n".join(m.text for m in await validator.command(command, args))
    assert "⛔ Vous n'avez pas le droit de faire cela." in text
    assert "Rapport" not in text and "Chiffres" not in text
    async with kibaru.db.reading() as conn:
        user = await users.find(conn, "test", "2002")
        [entry] = await audit.recent(conn, 1)
    assert user is not None
    assert (entry.action, entry.actor_id, entry.detail) == ("refused", user.id, command)


async def test_english_names_work_too(kibaru: Kibaru) -> None:
    chat = await _member(kibaru, "2003", Role.COORDINATOR, tap="English")
    replies = await chat.command("bulletin", "week 2026-11-20")
    assert any("Nov 16" in m.text for m in replies)
