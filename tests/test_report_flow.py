"""The report conversation, driven through the engine: every path, draft, and bad input."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.inbound import ChoiceEvent, CommandEvent, MediaKind
from bot.outbound import Question, RemoveKeyboard, Request
from bot.settings import Settings
from storage import reports, users
from tests.chat_driver import ChatDriver

# Thursday 12 March 2026, 09:00 in Bamako (UTC+0)
NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
SUMMARY = "Tout est juste ?"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def onboard(chat: ChatDriver, language: str = "Français") -> None:
    await chat.command("start")
    await chat.tap(language)


async def to_where(chat: ChatDriver) -> None:
    await chat.command("signaler")
    await chat.tap("Attaque armée")
    await chat.tap("Hier")
    await chat.tap("Le soir")
    assert isinstance(chat.last, Request)


async def from_what_to_summary(chat: ChatDriver) -> None:
    await chat.text("Des hommes armés ont attaqué le marché")
    await chat.tap("Oui")
    await chat.text("2")
    await chat.text("5")
    await chat.tap("0")
    await chat.tap("Je ne sais pas")
    await chat.tap("Passer")
    await chat.tap("Rester anonyme")
    assert SUMMARY in chat.last.text


async def stored(kibaru: Kibaru, chat_id: str = "1001") -> list[reports.Report]:
    async with kibaru.db.reading() as conn:
        user = await users.find(conn, "test", chat_id)
        assert user is not None
        return await reports.of_reporter(conn, user.id)


async def test_full_report_with_a_pin(chat: ChatDriver, kibaru: Kibaru) -> None:
    await onboard(chat)
    await to_where(chat)
    await chat.location(12.6392, -8.0029)
    assert any(
        isinstance(m, RemoveKeyboard) and "Position reçue" in m.text for m in chat.last_replies
    )
    await chat.text("Marché de Médina Coura")
    await from_what_to_summary(chat)
    summary = chat.last.text
    assert "🔫 Attaque armée" in summary
    assert "mercredi 11 mars 2026, le soir" in summary
    assert "position partagée" in summary and "Médina Coura" in summary
    assert "Tués : 2 · blessés : 5 · disparus : 0 · déplacés : ?" in summary
    await chat.tap("Envoyer")
    said = chat.last_replies[0].text
    assert "ML-2026-000001" in said
    assert "Que voulez-vous faire ?" in chat.last.text
    [report] = await stored(kibaru)
    assert report.reference == "ML-2026-000001"
    assert (report.category, report.occurred_on, report.day_period) == (
        "armed_attack",
        date(2026, 3, 11),
        "evening",
    )
    assert (report.latitude, report.longitude, report.precision) == (
        12.6392,
        -8.0029,
        "exact_pin",
    )
    assert (report.killed, report.injured, report.missing, report.displaced) == (2, 5, 0, None)
    assert report.contact == "anonymous" and report.contact_phone is None
    assert report.language == "fr"


async def test_a_receipt_lost_to_a_crash_is_said_again(
    chat: ChatDriver, kibaru: Kibaru, clock: ManualClock
) -> None:
    """Killed after committing a report and before the receipt went out: Telegram delivers
    "Envoyer" again, and the reporter learns their reference (the report is stored once)."""
    await onboard(chat)
    await to_where(chat)
    await chat.location(12.6392, -8.0029)
    await chat.tap("Passer")
    await from_what_to_summary(chat)
    [send] = [b for b in chat.question.choices if "Envoyer" in b.label]
    tap = ChoiceEvent(chat.sender, prompt=chat.question.prompt, key=send.key, event_id=30_000_000)
    [receipt] = await chat.event(tap)
    clock.advance(seconds=30)  # the restart
    [again] = await chat.event(tap)
    assert again.text == receipt.text
    assert "ML-2026-000001" in again.text and again.text.endswith("Que voulez-vous faire ?")
    assert len(await stored(kibaru)) == 1
    # a later update handled in the same batch, redelivered with it: the receipt again too
    help_ = CommandEvent(chat.sender, name="aide", args="", event_id=30_000_001)
    await chat.event(help_)
    [again] = await chat.event(help_)
    assert again.text == receipt.text
    # long after: a redelivered update only asks the current question
    clock.advance(minutes=2)
    await chat.command("menu")
    [menu] = await chat.event(help_)
    assert menu.text == "Que voulez-vous faire ?"


async def test_bambara_report_with_commune_and_voice_note(
    kibaru: Kibaru,
) -> None:
    chat = ChatDriver(kibaru.conversations, chat_id="2002", hint="bm")
    await onboard(chat, "Bamanankan")
    await chat.command("signaler")
    await chat.text("6")  # intercommunal conflict, by its number
    await chat.text("2")  # today
    await chat.text("14h30")  # it is 09:00: not yet
    assert [b.key for b in chat.question.choices][:2] == ["morning", "afternoon"]  # asked again
    await chat.text("8h30")
    await chat.text("Bamako")  # a region typed at the location question
    assert "Bamako" in chat.last.text and len(chat.question.choices) == 6
    await chat.text("commune 4")
    await chat.tap("⏭️")  # skip the detail
    await chat.media(MediaKind.VOICE, duration=25)
    await chat.text("3")  # people: don't know
    await chat.text("passer")  # no evidence
    await chat.text("1")  # anonymous
    await chat.text("1")  # send
    [report] = await stored(kibaru, "2002")
    assert (report.region, report.cercle, report.precision) == (
        "bamako",
        "bamako_c4",
        "cercle_or_commune",
    )
    assert report.occurred_time == "08:30" and report.language == "bm"
    assert report.killed is None and report.displaced is None
    async with kibaru.db.reading() as conn:
        [voice] = await reports.media_of(conn, report.id)
    assert (voice.kind, voice.purpose, voice.duration) == ("voice", "description", 25)


async def test_change_one_answer_from_the_summary(chat: ChatDriver, kibaru: Kibaru) -> None:
    await onboard(chat)
    await to_where(chat)
    await chat.tap("Choisir dans une liste")
    await chat.text("Gao")
    await chat.text("Ansongo")
    await chat.tap("Passer")
    await from_what_to_summary(chat)
    await chat.tap("Modifier")
    await chat.tap("Type")
    await chat.tap("Enlèvement")
    assert SUMMARY in chat.last.text and "⛓️ Enlèvement" in chat.last.text
    await chat.tap("Modifier")
    await chat.tap("Où")
    await chat.tap("Choisir dans une liste")
    await chat.text("Mopti")
    await chat.text("Djenné")  # region → cercle stays one change
    assert SUMMARY in chat.last.text and "Djenné, Mopti" in chat.last.text
    await chat.tap("Modifier")
    await chat.tap("Personnes")
    await chat.tap("Oui")
    for figure in ("1", "0", "0", "0"):
        await chat.text(figure)
    assert SUMMARY in chat.last.text and "Tués : 1" in chat.last.text
    await chat.tap("Envoyer")
    [report] = await stored(kibaru)
    assert (report.category, report.region, report.killed) == ("kidnapping", "mopti", 1)


async def test_cancel_drops_the_draft(chat: ChatDriver, kibaru: Kibaru) -> None:
    await onboard(chat)
    await to_where(chat)
    await chat.tap("Annuler")
    assert "C'est annulé." in chat.last.text
    await chat.command("signaler")
    assert "Qu'avez-vous vu" in chat.last.text  # no "continue?" question
    assert await stored(kibaru) == []


async def test_leaving_keeps_a_draft_to_resume(chat: ChatDriver, clock: ManualClock) -> None:
    await onboard(chat)
    await to_where(chat)
    await chat.command("menu")
    clock.advance(hours=5)
    await chat.command("signaler")
    assert "signalement en cours (🔫 Attaque armée)" in chat.last.text
    await chat.tap("Continuer")
    assert isinstance(chat.last, Request)  # the location question again
    await chat.command("menu")
    await chat.command("signaler")
    await chat.tap("Recommencer")
    assert "Qu'avez-vous vu" in chat.last.text


async def test_an_old_draft_is_dropped(chat: ChatDriver, clock: ManualClock) -> None:
    await onboard(chat)
    await to_where(chat)
    await chat.media(MediaKind.PHOTO)  # refused here, nothing stored
    await chat.command("menu")
    clock.advance(hours=73)
    await chat.command("signaler")
    assert "Qu'avez-vous vu" in chat.last.text


async def test_back_at_every_step(chat: ChatDriver) -> None:
    await onboard(chat)
    await to_where(chat)
    await chat.command("retour")
    assert "À quelle heure" in chat.last.text
    await chat.command("retour")
    assert "Quand est-ce arrivé" in chat.last.text
    await chat.command("retour")
    assert "Qu'avez-vous vu" in chat.last.text
    await chat.tap("Épidémie")
    assert "Quand est-ce arrivé" in chat.last.text  # earlier answers kept, new one taken


async def test_restart_between_every_pair_of_steps(settings: Settings, clock: ManualClock) -> None:
    script: list[tuple[str, object]] = [
        ("command", "start"),
        ("tap", "Français"),
        ("command", "signaler"),
        ("tap", "Vol / banditisme"),
        ("tap", "Un autre jour"),
        ("text", "10/03"),
        ("text", "8h du matin"),
        ("tap", "liste"),
        ("text", "Ségou"),
        ("text", "Markala"),
        ("text", "route de Niono"),
        ("text", "Des bandits ont volé du bétail"),
        ("tap", "Non, personne"),
        ("tap", "Passer"),
        ("tap", "Oui, par Kibaru"),
        ("tap", "Envoyer"),
    ]
    screen: list[object] = []
    for kind, value in script:
        kibaru = await Kibaru.open(settings, clock)  # a fresh process for every step
        chat = ChatDriver(kibaru.conversations, chat_id="77")
        chat.screen.extend(screen)  # type: ignore[arg-type]
        if kind == "command":
            await chat.command(str(value))
        elif kind == "tap":
            await chat.tap(str(value))
        else:
            await chat.text(str(value))
        screen = list(chat.screen)
        await kibaru.close()
    kibaru = await Kibaru.open(settings, clock)
    try:
        [report] = await stored(kibaru, "77")
    finally:
        await kibaru.close()
    assert (report.category, report.occurred_on, report.occurred_time) == (
        "crime",
        date(2026, 3, 10),
        "08:00",
    )
    assert (report.cercle, report.place_detail, report.contact) == (
        "segou_markala",
        "route de Niono",
        "via_bot",
    )


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("15/03/2026", "dans le futur"),
        ("12/03/2024", "plus d'un an"),
        ("31/02", "n'existe pas"),
        ("bientôt", "pas compris cette date"),
    ],
)
async def test_refused_dates(chat: ChatDriver, typed: str, expected: str) -> None:
    await onboard(chat)
    await chat.command("signaler")
    await chat.tap("Épidémie")
    await chat.tap("Un autre jour")
    await chat.text(typed)
    assert expected in chat.last.text
    await chat.unsupported("sticker")
    assert "Écrivez la date" in chat.last.text


async def test_bad_input_at_the_other_steps(chat: ChatDriver) -> None:
    await onboard(chat)
    await to_where(chat)
    await chat.text("quelque part")  # neither a pin, the list, nor a region
    assert "Partager la position" in chat.last.text
    await chat.location(48.85, 2.35)  # Paris
    assert "hors du Mali" in chat.last.text
    await chat.tap("Non, recommencer")
    await chat.text("Kidal")
    await chat.tap("Autre")
    await chat.text("Anefis")
    await chat.tap("Passer")
    await chat.text("feu")  # too short
    assert "au moins 3 mots" in chat.last.text
    await chat.media(MediaKind.PHOTO)  # a photo without a caption
    assert "légende" in chat.last.text
    await chat.text("x " * 2100)  # over 4,000 characters
    assert "trop long" in chat.last.text
    await chat.media(MediaKind.PHOTO, caption="Le camp a brûlé cette nuit")
    await chat.tap("Oui")
    await chat.text("-3")
    assert "Écrivez un nombre" in chat.last.text
    await chat.text("5000")  # absurd: questioned once
    assert "c'est beaucoup" in chat.last.text
    await chat.text("5000")
    assert "blessées" in chat.last.text
    for _ in range(3):
        await chat.tap("0")
    await chat.media(MediaKind.VIDEO, size=25 * 1024 * 1024)
    assert "trop lourd" in chat.last.text
    for _ in range(5):
        await chat.media(MediaKind.PHOTO)
    assert "maximum de fichiers" in chat.last.text
    await chat.tap("Donner mon numéro")
    await chat.contact("+22376000000", own=False)
    assert "propre numéro" in chat.last.text
    await chat.contact("+22376000001")
    assert SUMMARY in chat.last.text and "Fichiers : 5" in chat.last.text


async def test_flood_control_keeps_the_draft(
    chat: ChatDriver, kibaru: Kibaru, clock: ManualClock
) -> None:
    await onboard(chat)
    for _ in range(kibaru.settings.reports_per_hour):
        await chat.command("signaler")
        await chat.tap("Autre")
        await chat.tap("En ce moment")
        await chat.text("Bamako")
        await chat.tap("Commune I")
        await chat.tap("Passer")
        await from_what_to_summary(chat)
        await chat.tap("Envoyer")
        clock.advance(minutes=5)
    await chat.command("signaler")
    await chat.tap("Autre")
    await chat.tap("En ce moment")
    await chat.text("Bamako")
    await chat.tap("Commune II")
    await chat.tap("Passer")
    await from_what_to_summary(chat)
    await chat.tap("Envoyer")
    assert "c'est le maximum" in chat.last.text and SUMMARY in chat.last.text
    clock.advance(hours=1)
    await chat.tap("Envoyer")
    assert len(await stored(kibaru)) == kibaru.settings.reports_per_hour + 1


async def test_fifty_reporters_interleaved(kibaru: Kibaru) -> None:
    chats = [ChatDriver(kibaru.conversations, chat_id=str(5000 + i)) for i in range(50)]

    async def everyone(action: str, *args: str) -> None:
        await asyncio.gather(*(getattr(c, action)(*args) for c in chats))

    await everyone("command", "start")
    await everyone("tap", "Français")
    await everyone("command", "signaler")
    await everyone("tap", "Épidémie")
    await everyone("tap", "Aujourd'hui")
    await everyone("tap", "Je ne sais pas")
    await everyone("text", "Tombouctou")
    await everyone("tap", "Goundam")
    await asyncio.gather(*(c.text(f"lieu numéro {i}") for i, c in enumerate(chats)))
    await asyncio.gather(*(c.text(f"cas de choléra numéro {i}") for i, c in enumerate(chats)))
    await everyone("tap", "Non, personne")
    await everyone("tap", "Passer")
    await everyone("tap", "Rester anonyme")
    await everyone("tap", "Envoyer")
    references = set()
    for i, chat in enumerate(chats):
        [report] = await stored(kibaru, chat.sender.chat_id)
        assert report.place_detail == f"lieu numéro {i}"  # nothing crossed between reporters
        assert report.description == f"cas de choléra numéro {i}"
        references.add(report.reference)
    assert len(references) == 50


async def test_my_reports_and_forget(chat: ChatDriver, kibaru: Kibaru) -> None:
    await onboard(chat)
    await chat.command("mes_signalements")
    assert "aucun signalement" in chat.last.text
    await to_where(chat)
    await chat.text("Gao")
    await chat.text("Gao")
    await chat.tap("Passer")
    await chat.text("Une mine a explosé sur la route")
    await chat.tap("Non, personne")
    await chat.tap("Passer")
    await chat.tap("Donner mon numéro")
    await chat.contact("+22376000001")
    await chat.tap("Envoyer")
    await chat.command("mes_signalements")
    assert "ML-2026-000001 — 🔫 Attaque armée" in chat.last.text and "reçu" in chat.last.text
    [report] = await stored(kibaru)
    await chat.command("effacer")
    await chat.tap("Oui")
    async with kibaru.db.reading() as conn:
        kept = await reports.get(conn, report.id)
    assert kept is not None and kept.reporter_id is None
    assert kept.contact == "anonymous" and kept.contact_phone is None


async def test_menu_entry_and_question_shapes(chat: ChatDriver) -> None:
    await onboard(chat)
    await chat.tap("Signaler")
    question = chat.question
    assert isinstance(question, Question) and len(question.choices) == 17
    assert question.columns == 2


async def test_staff_view_never_shows_who_reported(kibaru: Kibaru) -> None:
    from handlers.report.staff_view import pseudonym, staff_view

    first = ChatDriver(kibaru.conversations, chat_id="70111222")
    second = ChatDriver(kibaru.conversations, chat_id="70333444")
    await onboard(first)
    await onboard(second)
    for chat, contact in ((first, "Rester anonyme"), (first, "Donner"), (second, "Rester")):
        await chat.command("signaler")
        await chat.tap("Enlèvement")
        await chat.tap("En ce moment")
        await chat.text("Gao")
        await chat.text("Ansongo")
        await chat.tap("Passer")
        await chat.text("Deux commerçants enlevés sur la route")
        await chat.tap("Oui")
        for figure in ("0", "0", "2", "0"):
            await chat.text(figure)
        await chat.tap("Passer")
        await chat.tap(contact)
        if contact == "Donner":
            await chat.contact("+22376001122")
        await chat.tap("Envoyer")
    t = kibaru.catalogs.get("fr")
    async with kibaru.db.transaction() as conn:
        one = await reports.by_reference(conn, "ML-2026-000001")
        two = await reports.by_reference(conn, "ML-2026-000002")
        three = await reports.by_reference(conn, "ML-2026-000003")
        assert one and two and three
        views = [
            await staff_view(
                conn, t, r, await reports.media_of(conn, r.id), await reports.similar(conn, r.id)
            )
            for r in (one, two, three)
        ]
        same = await pseudonym(conn, one.reporter_id)
        assert same == await pseudonym(conn, two.reporter_id)
        assert same != await pseudonym(conn, three.reporter_id)
    anonymous, with_phone, other = views
    assert f"Rapporteur {same}" in anonymous and "🔒 Anonyme" in anonymous
    for secret in ("70111222", "70333444", "+22376001122"):
        assert secret not in anonymous and secret not in other
    assert "+22376001122" in with_phone
    assert "Possibles doublons : ML-2026-000002, ML-2026-000003" in anonymous
    assert "ACLED : Violence against civilians / Abduction/forced disappearance" in anonymous


async def test_back_from_the_summary_walks_every_step(chat: ChatDriver, kibaru: Kibaru) -> None:
    from storage import conversations

    async def step() -> str:
        async with kibaru.db.reading() as conn:
            user = await users.find(conn, "test", "1001")
            assert user is not None
            state = await conversations.load(conn, user.id)
        assert state is not None
        return state.top.step

    await onboard(chat)
    await to_where(chat)
    await chat.location(12.6392, -8.0029)
    await chat.tap("Passer")
    await from_what_to_summary(chat)
    walked = [await step()]
    while walked[-1] != "category":
        await chat.command("retour")
        walked.append(await step())
    assert walked == [
        "summary",
        "contact",
        "evidence",
        "displaced",
        "missing",
        "injured",
        "killed",
        "people",
        "what",
        "place_detail",
        "where",
        "time",
        "when",
        "category",
    ]
    await chat.command("retour")  # before the first question: back to the menu, draft kept
    assert "Que voulez-vous faire ?" in chat.last.text
    await chat.command("signaler")
    assert "signalement en cours" in chat.last.text


async def test_text_replacing_a_voice_note_drops_it(chat: ChatDriver, kibaru: Kibaru) -> None:
    await onboard(chat)
    await to_where(chat)
    await chat.text("Kayes")  # the region
    await chat.text("Kayes")  # its cercle of the same name
    await chat.tap("Passer")
    await chat.media(MediaKind.VOICE, duration=12)
    await chat.tap("Non, personne")
    await chat.tap("Passer")
    await chat.tap("Rester anonyme")
    assert "🎤" in chat.last.text
    await chat.tap("Modifier")
    await chat.tap("Ce qui s'est passé")
    await chat.text("Finalement je préfère écrire ce qui est arrivé")
    assert SUMMARY in chat.last.text and "🎤" not in chat.last.text
    await chat.tap("Envoyer")
    [report] = await stored(kibaru)
    async with kibaru.db.reading() as conn:
        assert await reports.media_of(conn, report.id) == []
    assert report.description == "Finalement je préfère écrire ce qui est arrivé"


@pytest.mark.parametrize("typed", ["maintenant", "Sisan", "now"])
async def test_now_typed_means_now(chat: ChatDriver, kibaru: Kibaru, typed: str) -> None:
    await onboard(chat)
    await chat.command("signaler")
    await chat.tap("Épidémie")
    await chat.text(typed)
    assert isinstance(chat.last, Request)  # straight to "where": the time is known
