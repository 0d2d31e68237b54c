"""`/alertes` and STOP, driven through the engine in French and Bambara."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.matching import normalize
from bot.settings import Settings
from handlers.alerts.questions import parse_hour
from handlers.alerts.stop import STOP_WORDS
from storage import roles, subscriptions, users
from storage.roles import Role
from storage.subscriptions import DIGEST, NOW, AreaKind, Subscription
from tests.chat_driver import ChatDriver

# Thursday 12 March 2026, 09:00 in Bamako (UTC+0)
T0 = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
MENU = "Que voulez-vous faire ?"
MENU_BM = "I b'a fɛ ka mun kɛ?"
AREA = "Pour quelle zone"
OVERVIEW = "Que voulez-vous changer ?"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


async def onboard(chat: ChatDriver, language: str = "Français") -> None:
    await chat.command("start")
    await chat.tap(language)


async def user_id(kibaru: Kibaru, chat_id: str = "1001") -> int:
    async with kibaru.db.reading() as conn:
        user = await users.find(conn, "test", chat_id)
    assert user is not None
    return user.id


async def followed(kibaru: Kibaru, chat_id: str = "1001") -> list[tuple[object, ...]]:
    uid = await user_id(kibaru, chat_id)
    async with kibaru.db.reading() as conn:
        found: list[Subscription] = await subscriptions.of_user(conn, uid)
    return [(s.kind, s.code, s.min_severity, s.delivery, s.digest_hour) for s in found]


async def paused(kibaru: Kibaru, chat_id: str = "1001") -> bool:
    uid = await user_id(kibaru, chat_id)
    async with kibaru.db.reading() as conn:
        return await subscriptions.paused_since(conn, uid) is not None


async def test_subscribe_to_a_bamako_commune_with_a_daily_digest(
    chat: ChatDriver, kibaru: Kibaru
) -> None:
    await onboard(chat)
    await chat.tap("Alertes")  # the menu entry, no longer "coming soon"
    assert AREA in chat.last.text  # nothing followed yet: straight to the first question
    assert chat.labels[:3] == ["🇲🇱 Tout le Mali", "Bamako", "Kayes"]
    await chat.tap("Bamako")
    assert chat.labels == [
        *(f"Commune {n}" for n in ["I", "II", "III", "IV", "V", "VI"]),
        "🏙️ Tout Bamako",
    ]
    await chat.text("4")  # numbered as they are named: Commune IV
    text = chat.last.text
    assert "Bamako, Commune IV : quelles alertes" in text
    for line in ("⚪ 1 Information", "🟡 2 Vigilance", "🟠 3 Alerte", "🔴 4 Urgence : danger"):
        assert line in text
    assert chat.labels[2] == "🟠 Alerte et plus grave"
    await chat.text("3")
    assert "Les urgences 🔴 arrivent toujours tout de suite" in chat.last.text
    await chat.tap("résumé")
    assert [b.label for b in chat.question.choices] == ["07:00", "12:00", "18:00", "20:00"]
    assert chat.question.numbered is False
    await chat.text("21h")
    text = chat.last.text
    assert text.startswith(
        "✅ C'est noté : 📍 Bamako, Commune IV · 🟠 Alerte et plus grave · 🗓️ résumé chaque "
        "jour à 21:00."
    )
    assert "• 📍 Bamako, Commune IV · 🟠 Alerte et plus grave · 🗓️ résumé" in text
    assert text.endswith(OVERVIEW)
    assert chat.labels == [
        "➕ Ajouter une zone",
        "🗑️ Retirer une zone",
        "⏸️ Mettre en pause",
        "✅ Terminé",
    ]
    assert await followed(kibaru) == [(AreaKind.COMMUNE, "bamako_c4", 3, DIGEST, 21)]
    await chat.tap("Terminé")
    assert chat.last.text == MENU


async def test_add_all_mali_urgent_and_all_bamako_then_remove(
    chat: ChatDriver, kibaru: Kibaru
) -> None:
    await onboard(chat)
    await chat.command("alertes")
    await chat.text("tout le mali")
    await chat.tap("Urgences seulement")  # severity 4: always at once, no delivery question
    assert "Les urgences arrivent toujours tout de suite" in chat.last.text
    assert OVERVIEW in chat.last.text
    await chat.tap("Ajouter")
    await chat.text("bamako")
    await chat.tap("Tout Bamako")
    await chat.tap("Tout, même")
    await chat.tap("Tout de suite")
    assert "• 📍 Bamako, toutes les communes · ⚪ Tout, même les informations · ⚡" in (
        chat.last.text
    )
    assert await followed(kibaru) == [
        (AreaKind.MALI, "", 4, NOW, None),
        (AreaKind.REGION, "bamako", 1, NOW, None),
    ]
    await chat.command("alerts")  # the English name works too
    await chat.tap("Retirer")
    assert chat.labels == ["🗑️ 🇲🇱 Tout le Mali", "🗑️ 📍 Bamako, toutes les communes"]
    await chat.text("1")
    assert chat.last.text.startswith("🗑️ Vous ne recevrez plus les alertes de : 🇲🇱 Tout le Mali.")
    assert await followed(kibaru) == [(AreaKind.REGION, "bamako", 1, NOW, None)]
    await chat.tap("Retirer")
    await chat.tap("Bamako")
    # nothing followed any more: the overview says so and offers to add one
    assert "Vous ne suivez aucune zone." in chat.last.text
    assert chat.labels == ["➕ Ajouter une zone", "⏸️ Mettre en pause", "✅ Terminé"]


async def test_bad_input_is_explained_and_keeps_the_answers(
    chat: ChatDriver, kibaru: Kibaru
) -> None:
    await onboard(chat)
    await chat.command("alertes")
    await chat.text("Atlantide")
    assert "Je n'ai pas compris « Atlantide »" in chat.last.text and AREA in chat.last.text
    await chat.text("Région de Ségou")
    await chat.text("7")
    assert "Je n'ai pas compris « 7 »" in chat.last.text
    assert "1 à 4" in chat.last.text
    assert "Ségou : quelles alertes" in chat.last.text  # the area is kept
    await chat.tap("Vigilance")
    await chat.unsupported("sticker")
    assert "Comment voulez-vous les recevoir" in chat.last.text
    await chat.text("2")
    await chat.text("25")
    assert "Je n'ai pas compris l'heure. Écrivez un nombre de 0 à 23" in chat.last.text
    await chat.text("demain matin")
    assert "de 0 à 23" in chat.last.text
    await chat.text("7")  # an hour here, not the 7th button
    assert await followed(kibaru) == [(AreaKind.REGION, "segou", 2, DIGEST, 7)]
    # "back" from the first question leaves the flow, like everywhere
    await chat.tap("Ajouter")
    await chat.tap("Retour")
    assert OVERVIEW in chat.last.text


async def test_stop_in_the_middle_of_a_report_pauses_and_keeps_the_place(
    chat: ChatDriver, kibaru: Kibaru
) -> None:
    await onboard(chat)
    await chat.command("alertes")
    await chat.text("Gao")
    await chat.text("2")
    await chat.text("1")
    await chat.command("signaler")
    await chat.tap("Attaque armée")
    await chat.tap("Hier")
    time_question = chat.last.text
    await chat.text("STOP")
    [reply] = chat.last_replies
    assert reply.text.startswith(
        "⏸️ C'est noté : vous ne recevrez plus d'alertes. Pour les reprendre, envoyez /alertes."
    )
    assert reply.text.endswith(time_question)  # the same question, asked again
    assert await paused(kibaru)
    await chat.text("Arrêt")
    assert "déjà en pause depuis le 12 mars 2026" in chat.last.text
    await chat.tap("Le soir")  # the report goes on where it was
    assert "Où est-ce arrivé" in chat.last.text
    await chat.command("alertes")
    text = chat.last.text
    assert text.startswith("⏸️ Vos alertes sont en pause depuis le 12 mars 2026")
    assert chat.labels[0] == "▶️ Reprendre les alertes"
    assert "⏸️ Mettre en pause" not in chat.labels
    await chat.tap("Reprendre")
    assert chat.last.text.startswith("▶️ Vos alertes reprennent.")
    assert not await paused(kibaru)
    await chat.tap("Mettre en pause")
    assert await paused(kibaru)
    # adding an area is asking for alerts again
    await chat.tap("Ajouter")
    await chat.text("Kidal")
    await chat.text("4")
    assert "▶️ Vos alertes reprennent." in chat.last.text
    assert not await paused(kibaru)


async def test_stop_command_and_stop_without_alerts(chat: ChatDriver, kibaru: Kibaru) -> None:
    await onboard(chat)
    await chat.text("stop")
    assert chat.last.text == (
        f"Vous ne recevez pas d'alertes. Pour en recevoir, envoyez /alertes.\n\n{MENU}"
    )
    assert not await paused(kibaru)
    await chat.command("alertes")
    await chat.text("Mopti")
    await chat.text("3")
    await chat.text("1")
    await chat.command("alertes")
    await chat.tap("Ajouter")
    await chat.text("Kayes")
    severity_question = chat.last.text
    await chat.command("stop")
    assert chat.last.text.startswith("⏸️ C'est noté")
    assert chat.last.text.endswith(severity_question)  # still adding Kayes
    assert await paused(kibaru)
    await chat.text("2")
    await chat.text("1")
    assert await followed(kibaru) == [
        (AreaKind.REGION, "mopti", 3, NOW, None),
        (AreaKind.REGION, "kayes", 2, NOW, None),
    ]


async def test_help_mentions_stop(chat: ChatDriver) -> None:
    await onboard(chat)
    await chat.command("aide")
    assert "/alertes — Recevoir les alertes de ma zone" in chat.last.text
    assert "envoyez STOP à tout moment" in chat.last.text


async def test_a_focal_point_sees_their_scope_without_subscribing(
    chat: ChatDriver, kibaru: Kibaru
) -> None:
    await onboard(chat)
    uid = await user_id(kibaru)
    async with kibaru.db.transaction() as conn:
        await roles.grant(conn, uid, Role.FOCAL_POINT, T0, scope="bamako_c2")
    await chat.command("alertes")
    assert "• 📍 Bamako, Commune II · toutes les alertes · ⚡ tout de suite (point focal)" in (
        chat.last.text
    )
    assert "Retirer" not in " ".join(chat.labels)  # a role is not removed here
    await chat.text("STOP")  # a focal point can pause too
    assert await paused(kibaru)


async def test_in_bambara(kibaru: Kibaru) -> None:
    chat = ChatDriver(kibaru.conversations, chat_id="2002", hint="bm")
    await onboard(chat, "Bamanankan")
    await chat.text("3")  # the menu's third entry: alerts
    assert [b.key for b in chat.question.choices][:2] == ["mali", "bamako"]
    await chat.text("tombouctou")
    await chat.text("2")
    await chat.text("sisan")  # "now"
    assert await followed(kibaru, "2002") == [(AreaKind.REGION, "tombouctou", 2, NOW, None)]
    await chat.text("segin ko")  # Bambara "back" typed on a plain keyboard leaves the overview
    assert chat.last.text == MENU_BM
    await chat.text("STOP")
    assert chat.last.text.endswith(MENU_BM) and "/alertes" in chat.last.text
    assert await paused(kibaru, "2002")
    await chat.text("dabila")  # Bambara's "cancel" is not a stop word: nothing to cancel here
    assert "/alertes" not in chat.last.text
    await chat.command("alertes")
    await chat.text("1")  # resume is the first choice when paused
    assert not await paused(kibaru, "2002")
    await chat.text("1")  # add
    await chat.text("bamako")
    await chat.text("commune 6")
    await chat.text("4")
    assert await followed(kibaru, "2002") == [
        (AreaKind.REGION, "tombouctou", 2, NOW, None),
        (AreaKind.COMMUNE, "bamako_c6", 4, NOW, None),
    ]


@pytest.mark.parametrize(
    ("typed", "hour"),
    [("18", 18), ("18h", 18), ("18 H 00", 18), ("7:00", 7), ("7 heures", 7), ("0", 0)],
)
def test_hours_as_people_type_them(typed: str, hour: int) -> None:
    assert parse_hour(typed) == hour


@pytest.mark.parametrize("typed", ["24", "-1", "dix-huit", "18h30 demain", ""])
def test_what_is_not_an_hour(typed: str) -> None:
    assert parse_hour(typed) is None


def test_only_a_whole_stop_message_pauses() -> None:
    assert {normalize(w) for w in ("STOP", "Arrêt", "ARRET", "arrêter")} <= STOP_WORDS
    assert normalize("stop, ils attaquent le marché") not in STOP_WORDS
    assert normalize("dabila") not in STOP_WORDS  # Bambara's "cancel"


async def test_answers_survive_a_restart_and_a_report_waits_underneath(
    settings: Settings, clock: ManualClock
) -> None:
    first = await Kibaru.open(settings, clock)
    chat = ChatDriver(first.conversations)
    await onboard(chat)
    await chat.command("signaler")
    await chat.tap("Épidémie")
    when_question = chat.last.text
    await chat.command("alertes")  # on top of the report, which waits
    await chat.text("Sikasso")
    await chat.text("3")
    await first.close()
    second = await Kibaru.open(settings, clock)  # a restart between two answers
    try:
        chat.conversations = second.conversations
        await chat.tap("Tout de suite")
        assert await followed(second) == [(AreaKind.REGION, "sikasso", 3, NOW, None)]
        await chat.tap("Terminé")
        assert chat.last.text == when_question  # back to the report, where it was
    finally:
        await second.close()
