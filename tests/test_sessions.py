"""CCS-C sessions: creation, invitations with RSVP, reminders, moving, cancelling, attendance.

The clock is manual: 23 November 2026, 09:00 UTC is 09:00 in Bamako (UTC+0, no summer time),
so reminder times are easy to check by hand.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.inbound import ActionEvent
from bot.outbound import ActionMessage
from storage import roles, users
from storage.roles import Role
from tests.chat_driver import ChatDriver
from tests.test_review_flow import outbox_rows, staff

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def member(
    kibaru: Kibaru, chat_id: str, language: str = "Français", committee: str = "ccsc_bamako_c4"
) -> ChatDriver:
    chat = ChatDriver(kibaru.conversations, chat_id=chat_id)
    await chat.command("start")
    await chat.tap(language)
    async with kibaru.db.transaction() as conn:
        user = await users.find(conn, "test", chat_id)
        assert user is not None
        await conn.execute(
            "INSERT INTO committee_members (committee_id, user_id, member_type, status,"
            " requested_at) SELECT id, ?, 'civil_society', 'active', ? FROM committees"
            " WHERE code = ?",
            (user.id, NOW.isoformat(), committee),
        )
    return chat


async def user_id(kibaru: Kibaru, chat_id: str) -> int:
    async with kibaru.db.reading() as conn:
        user = await users.find(conn, "test", chat_id)
    assert user is not None
    return user.id


async def press(chat: ChatDriver, data: str) -> str:
    """Tap an action button given its callback data (`!name:args`)."""
    name, *args = data[1:].split(":")
    await chat.event(ActionEvent(chat.sender, name=name, args=tuple(args), event_id=None))
    return chat.last_text


def payload(row: dict[str, object]) -> dict[str, object]:
    return dict(json.loads(str(row["payload"])))


def button_datas(row: dict[str, object]) -> list[str]:
    return [str(b[1]) for line in payload(row).get("buttons", []) for b in line]  # type: ignore[attr-defined]


async def create_session(
    secretary: ChatDriver, day: str = "4/12", hour: str = "10h", title: str = "Réunion de décembre"
) -> None:
    await secretary.command("session_nouvelle")
    await secretary.tap("statutaire")
    await secretary.text(title)
    await secretary.text(day)
    await secretary.text(hour)
    await secretary.text("Mairie de la Commune IV")
    await secretary.text("Bilan sécuritaire du mois")
    await secretary.tap("Passer")
    await secretary.tap("Créer et inviter")


async def secretary_of_c4(kibaru: Kibaru) -> ChatDriver:
    return await staff(kibaru, "400", Role.CCSC_SECRETARY, "ccsc_bamako_c4")


async def test_creation_invites_every_active_member_in_their_language(kibaru: Kibaru) -> None:
    secretary = await secretary_of_c4(kibaru)
    await member(kibaru, "701")
    await member(kibaru, "702", "Bamanankan")
    await member(kibaru, "703", committee="ccsc_bamako_c1")  # another committee
    await secretary.command("session_nouvelle")
    assert "genre de session" in secretary.last_text  # one committee: not asked
    await secretary.tap("statutaire")
    await secretary.text("Réunion statutaire de décembre")
    await secretary.text("31/02")
    assert "« 31/02 » n'existe pas" in secretary.last_text
    await secretary.text("20/11/2026")
    assert "déjà passé" in secretary.last_text
    await secretary.text("4/12")
    assert "vendredi 4 décembre 2026" in secretary.last_text
    await secretary.text("25:00")
    assert "« 25:00 » n'est pas une heure possible" in secretary.last_text
    assert "vendredi 4 décembre 2026" in secretary.last_text  # the day is kept
    await secretary.text("10h")
    await secretary.text("Mairie de la Commune IV")
    await secretary.text("Bilan du mois ; plan des patrouilles")
    await secretary.tap("Passer")
    assert "vendredi 4 décembre 2026 à 10:00" in secretary.last_text
    assert "2 membres seront invités" in secretary.last_text
    await secretary.tap("Créer et inviter")
    assert "2 invitations envoyées" in secretary.last_text
    assert "Code de présence" in secretary.last_text
    rows = await outbox_rows(kibaru, "invitation:%")
    assert sorted(str(r["chat_id"]) for r in rows) == ["701", "702"]
    french, bambara = sorted(rows, key=lambda r: str(r["chat_id"]))
    assert "Viendrez-vous ?" in str(payload(french)["text"])
    assert "Bilan du mois" in str(payload(french)["text"])
    assert button_datas(french) == ["!rsvp:1:yes", "!rsvp:1:maybe", "!rsvp:1:no"]
    # Bambara: the date in Babel's Bambara (the new strings are translated at merge)
    assert "Bilan du mois" in str(payload(bambara)["text"])
    assert "2026" in str(payload(bambara)["text"]) and len(button_datas(bambara)) == 3
    [roll] = await outbox_rows(kibaru, "roll-call:%")
    assert roll["chat_id"] == "400" and roll["not_before"] == "2026-12-04T10:00:00.000+00:00"


async def test_only_secretaries_of_the_committee_and_coordinators_create(kibaru: Kibaru) -> None:
    other = await staff(kibaru, "401", Role.CCSC_SECRETARY, "ccsc_bamako_c1")
    plain = await member(kibaru, "701")
    await plain.command("session_nouvelle")
    assert "pas le droit" in plain.last_text
    await other.command("session_nouvelle")
    assert "genre de session" in other.last_text  # their own committee only
    coordinator = await staff(kibaru, "402", Role.COORDINATOR)
    await coordinator.command("session_nouvelle")
    assert "Pour quel comité" in coordinator.last_text
    assert len(coordinator.labels) == 6
    async with kibaru.db.reading() as conn:
        cursor = await conn.execute("SELECT action FROM audit_log WHERE action = 'refused'")
        assert len(list(await cursor.fetchall())) == 1


async def test_answer_and_change_create_and_cancel_reminders(kibaru: Kibaru) -> None:
    secretary = await secretary_of_c4(kibaru)
    awa = await member(kibaru, "701")
    await create_session(secretary)
    assert "Réponse enregistrée" in await press(awa, "!rsvp:1:yes")
    rows = await outbox_rows(kibaru, "reminder:%")
    assert [r["not_before"] for r in rows] == [
        "2026-12-03T10:00:00.000+00:00",  # 24 h before 10:00 in Bamako
        "2026-12-04T08:00:00.000+00:00",  # 2 h before
    ]
    assert all(r["status"] == "queued" for r in rows)
    await press(awa, "!rsvp:1:no")
    assert all(r["status"] == "cancelled" for r in await outbox_rows(kibaru, "reminder:%"))
    await press(awa, "!rsvp:1:maybe")
    rows = await outbox_rows(kibaru, "reminder:%")
    assert [r["status"] for r in rows] == ["cancelled", "cancelled", "queued", "queued"]
    await awa.command("sessions")
    [listed] = [m for m in awa.last_replies if isinstance(m, ActionMessage)]
    assert "Peut-être" in listed.text and "Réunion de décembre" in listed.text


async def test_a_reminder_close_to_the_start_skips_delays_already_past(
    kibaru: Kibaru, clock: ManualClock
) -> None:
    secretary = await secretary_of_c4(kibaru)
    awa = await member(kibaru, "701")
    await create_session(secretary, day="demain", hour="8h")  # in 23 h
    await press(awa, "!rsvp:1:yes")
    [row] = await outbox_rows(kibaru, "reminder:%")
    assert row["not_before"] == "2026-11-24T06:00:00.000+00:00"


async def test_a_non_member_answering_a_forwarded_invitation_is_refused(kibaru: Kibaru) -> None:
    secretary = await secretary_of_c4(kibaru)
    await member(kibaru, "701")
    await create_session(secretary)
    stranger = ChatDriver(kibaru.conversations, chat_id="666")
    await stranger.command("start")
    await stranger.tap("Français")
    assert "pas le droit" in await press(stranger, "!rsvp:1:yes")
    assert await outbox_rows(kibaru, "reminder:%") == []
    async with kibaru.db.reading() as conn:
        cursor = await conn.execute(
            "SELECT subject, detail FROM audit_log WHERE action = 'refused'"
        )
        rows = [tuple(r) for r in await cursor.fetchall()]
    assert len(rows) == 1 and rows[0][0] == "session:1"


async def test_moving_a_session_moves_reminders_and_tells_those_coming(kibaru: Kibaru) -> None:
    secretary = await secretary_of_c4(kibaru)
    awa = await member(kibaru, "701")
    moussa = await member(kibaru, "702", "Bamanankan")
    await member(kibaru, "703")
    await create_session(secretary)
    await press(awa, "!rsvp:1:yes")
    await press(moussa, "!rsvp:1:maybe")
    await secretary.command("sessions")
    [listed] = [m for m in secretary.last_replies if isinstance(m, ActionMessage)]
    assert "1 oui, 1 peut-être, 0 non, sur 3" in listed.text
    move, _cancel = listed.actions[0]
    intruder = await member(kibaru, "704")
    assert "pas le droit" in await press(intruder, move.key)
    await press(secretary, move.key)
    await secretary.text("11/12")
    await secretary.text("15h30")
    assert "vendredi 11 décembre 2026 à 15:30" in secretary.last_text
    await secretary.tap("Déplacer")
    assert "2 personnes prévenues" in secretary.last_text
    rows = await outbox_rows(kibaru, "reminder:%")
    queued = sorted(str(r["not_before"]) for r in rows if r["status"] == "queued")
    assert queued == [
        "2026-12-10T15:30:00.000+00:00",
        "2026-12-10T15:30:00.000+00:00",
        "2026-12-11T13:30:00.000+00:00",
        "2026-12-11T13:30:00.000+00:00",
    ]
    assert sum(r["status"] == "cancelled" for r in rows) == 4
    told = await outbox_rows(kibaru, "session-moved:%")
    assert sorted(str(r["chat_id"]) for r in told) == ["701", "702"]
    assert "11 décembre 2026" in str(payload(told[0])["text"])
    [old_roll, new_roll] = await outbox_rows(kibaru, "roll-call:%")
    assert old_roll["status"] == "cancelled"
    assert new_roll["not_before"] == "2026-12-11T15:30:00.000+00:00"


async def test_cancelling_a_session_stops_reminders_and_tells_those_coming(kibaru: Kibaru) -> None:
    secretary = await secretary_of_c4(kibaru)
    awa = await member(kibaru, "701")
    moussa = await member(kibaru, "702")
    await create_session(secretary)
    await press(awa, "!rsvp:1:yes")
    await press(moussa, "!rsvp:1:no")
    await press(secretary, "!scx:1")
    assert "Annuler « Réunion de décembre »" in secretary.last_text
    await press(secretary, "!scx:1:ok")
    assert "1 personne prévenue" in secretary.last_text
    assert all(r["status"] == "cancelled" for r in await outbox_rows(kibaru, "reminder:%"))
    [told] = await outbox_rows(kibaru, "session-cancelled:%")
    assert told["chat_id"] == "701" and "annulée" in str(payload(told)["text"])
    assert "annulée" in await press(awa, "!rsvp:1:maybe")
    await awa.command("sessions")
    assert "Aucune session à venir" in awa.last_text


async def test_check_in_code_valid_only_from_start_to_six_hours_after(
    kibaru: Kibaru, clock: ManualClock
) -> None:
    secretary = await secretary_of_c4(kibaru)
    awa = await member(kibaru, "701")
    await create_session(secretary, day="demain", hour="10h")
    async with kibaru.db.reading() as conn:
        cursor = await conn.execute("SELECT checkin_code FROM sessions WHERE id = 1")
        row = await cursor.fetchone()
    assert row is not None
    code = str(row[0])
    wrong = "0000" if code != "0000" else "1111"
    await awa.command("presence", "48")
    assert "code à 4 chiffres" in awa.last_text
    await awa.command("presence", code)
    assert "qu'à partir du début" in awa.last_text
    clock.set(datetime(2026, 11, 24, 10, 5, tzinfo=UTC))
    await awa.command("presence", wrong)
    assert f"Le code {wrong} ne correspond" in awa.last_text
    await awa.command("presence", code)
    assert "Présence enregistrée" in awa.last_text
    clock.set(datetime(2026, 11, 24, 16, 1, tzinfo=UTC))
    await awa.command("presence", code)
    assert "n'est plus valable" in awa.last_text
    async with kibaru.db.reading() as conn:
        cursor = await conn.execute("SELECT attended, checked_in_at FROM invitations")
        [(attended, checked_in_at)] = [tuple(r) for r in await cursor.fetchall()]
    assert attended == 1 and checked_in_at == "2026-11-24T10:05:00+00:00"


async def test_roll_call_marks_present_absent_and_the_rest(
    kibaru: Kibaru, clock: ManualClock
) -> None:
    secretary = await secretary_of_c4(kibaru)
    await member(kibaru, "701")
    await member(kibaru, "702")
    await member(kibaru, "703")
    await create_session(secretary, day="demain", hour="10h")
    assert "s'ouvre au début" in await press(secretary, "!roll:1")
    clock.set(datetime(2026, 11, 24, 10, 30, tzinfo=UTC))
    await press(secretary, "!roll:1")
    [roll] = [m for m in secretary.last_replies if isinstance(m, ActionMessage)]
    assert len(roll.actions) == 4  # three members and "mark the rest absent"
    first, second = await user_id(kibaru, "701"), await user_id(kibaru, "702")
    await press(secretary, f"!mk:1:{first}:1")
    await press(secretary, f"!mk:1:{second}:0")
    await press(secretary, "!mk:1:rest")
    assert "1 membre marqué absent" in secretary.last_text
    async with kibaru.db.reading() as conn:
        cursor = await conn.execute("SELECT attended FROM invitations ORDER BY user_id")
        assert [r[0] for r in await cursor.fetchall()] == [1, 0, 0]
    intruder = await member(kibaru, "704")
    assert "pas le droit" in await press(intruder, "!roll:1")


async def test_in_bambara_a_secretary_creates_and_a_member_answers(kibaru: Kibaru) -> None:
    """The new strings are translated at merge; what Babel and the parsers give is checked."""
    secretary = await member(kibaru, "400", "Bamanankan")
    async with kibaru.db.transaction() as conn:
        user = await users.find(conn, "test", "400")
        assert user is not None
        await roles.grant(conn, user.id, Role.CCSC_SECRETARY, NOW, "ccsc_bamako_c4")
    fanta = await member(kibaru, "702", "Bamanankan")
    await secretary.command("session_nouvelle")
    await secretary.tap_key(secretary.question.prompt, "statutory")
    await secretary.text("Lajɛ kalo o kalo")
    await secretary.text("4 desanburu")  # the month in Bambara
    assert "juma 4 desanburu 2026" in secretary.last_text
    await secretary.text("10h")
    await secretary.text("Komini 4 meri")
    await secretary.tap_key(secretary.question.prompt, "_skip")
    await secretary.tap_key(secretary.question.prompt, "_skip")
    await secretary.tap_key(secretary.question.prompt, "create")
    invitations = await outbox_rows(kibaru, "invitation:%")
    assert [r["chat_id"] for r in invitations] == ["400", "702"]  # the secretary is a member
    invitation = invitations[1]
    assert "juma 4 desanburu 2026" in str(payload(invitation)["text"])
    await press(fanta, "!rsvp:1:maybe")
    rows = await outbox_rows(kibaru, "reminder:%")
    assert [r["not_before"] for r in rows] == [
        "2026-12-03T10:00:00.000+00:00",
        "2026-12-04T08:00:00.000+00:00",
    ]
    assert "juma 4 desanburu 2026" in str(payload(rows[0])["text"])
    await fanta.command("sessions")
    [listed] = [m for m in fanta.last_replies if isinstance(m, ActionMessage)]
    assert [b.key for row in listed.actions for b in row] == [
        "!rsvp:1:yes",
        "!rsvp:1:maybe",
        "!rsvp:1:no",
    ]


async def test_erasing_ones_data_stops_ones_reminders(kibaru: Kibaru) -> None:
    """By the outbox's own trigger (0004): guarded here because reminders wait for days."""
    secretary = await secretary_of_c4(kibaru)
    awa = await member(kibaru, "701")
    await create_session(secretary)
    await press(awa, "!rsvp:1:yes")
    await awa.command("effacer")
    await awa.tap("Oui")
    rows = await outbox_rows(kibaru, "reminder:%")
    assert len(rows) == 2 and all(r["status"] == "cancelled" for r in rows)


async def test_a_training_with_places_has_a_waiting_list_that_moves_up(kibaru: Kibaru) -> None:
    secretary = await secretary_of_c4(kibaru)
    awa, moussa, fanta = [await member(kibaru, chat) for chat in ("701", "702", "703")]
    await secretary.command("session_nouvelle")
    await secretary.tap("Formation")
    await secretary.text("Formation aux premiers secours")
    await secretary.text("4/12")
    await secretary.text("9h")
    await secretary.text("Centre de santé de Lafiabougou")
    await secretary.tap("Passer")
    await secretary.tap("Passer")
    await secretary.text("beaucoup")
    assert "« beaucoup » n'est pas un nombre de places" in secretary.last_text
    await secretary.text("1")
    assert "Qui invitez-vous" in secretary.last_text
    await secretary.tap("seulement")  # the committee's members only
    assert "👥 1 place, puis liste d'attente" in secretary.last_text
    await secretary.tap("Créer et inviter")
    assert "Réponse enregistrée" in await press(awa, "!rsvp:1:yes")
    assert "n° 1 sur la liste d'attente" in await press(moussa, "!rsvp:1:yes")
    assert "n° 2 sur la liste d'attente" in await press(fanta, "!rsvp:1:yes")
    reminders = await outbox_rows(kibaru, "reminder:%")
    assert {str(r["key"]).split(":")[2] for r in reminders} == {str(await user_id(kibaru, "701"))}
    await moussa.command("sessions")
    [listed] = [m for m in moussa.last_replies if isinstance(m, ActionMessage)]
    assert "liste d'attente" in listed.text
    await press(awa, "!rsvp:1:no")  # Awa's place goes to Moussa, first in line
    [told] = await outbox_rows(kibaru, "session-place:%")
    assert told["chat_id"] == "702" and "place s'est libérée" in str(payload(told)["text"])
    queued = [r for r in await outbox_rows(kibaru, "reminder:%") if r["status"] == "queued"]
    assert {str(r["key"]).split(":")[2] for r in queued} == {str(await user_id(kibaru, "702"))}
    async with kibaru.db.reading() as conn:
        cursor = await conn.execute("SELECT answer, waitlisted FROM invitations ORDER BY user_id")
        assert [tuple(r) for r in await cursor.fetchall()] == [
            ("no", 0),
            ("yes", 0),
            ("yes", 1),
        ]


async def test_an_expired_row_is_dropped_when_claimed_not_sent(kibaru: Kibaru) -> None:
    from datetime import timedelta

    from storage import outbox

    async with kibaru.db.transaction() as conn:
        for key, expires in (("late", NOW - timedelta(minutes=1)), ("fine", NOW + timedelta(1))):
            await outbox.enqueue(
                conn,
                key=key,
                channel="test",
                chat_id="701",
                outgoing=outbox.Outgoing("⏰"),
                now=NOW - timedelta(hours=3),
                kind="reminder",
                not_before=NOW - timedelta(hours=2),
                expires_at=expires,
            )
        rows = await outbox.due(conn, ["test"], NOW, 10)
        claimed = await outbox.mark_sending(conn, [r.id for r in rows], NOW)
    assert [r.key for r in rows if r.id in claimed] == ["fine"]
    statuses = {str(r["key"]): r["status"] for r in await outbox_rows(kibaru)}
    assert statuses == {"late": "cancelled", "fine": "sending"}


async def test_a_member_approved_later_is_invited_to_the_sessions_already_planned(
    kibaru: Kibaru,
) -> None:
    secretary = await secretary_of_c4(kibaru)
    await member(kibaru, "701")
    await create_session(secretary)
    newcomer = ChatDriver(kibaru.conversations, chat_id="704")
    await newcomer.command("start")
    await newcomer.tap("Français")
    await newcomer.command("ccsc")
    await newcomer.tap("Commune IV")
    for answer in ("3", "2", "4", "Issa", "1"):  # civil society, man, over 35, name, send
        await newcomer.text(answer)
    [request] = [r for r in await outbox_rows(kibaru, "ccsc:ask:%") if r["chat_id"] == "400"]
    [approve] = [d for d in button_datas(request) if d.endswith(":ok")]
    assert "membre" in await press(secretary, approve)
    rows = await outbox_rows(kibaru, "invitation:%")
    assert sorted(str(r["chat_id"]) for r in rows) == ["701", "704"]


async def test_a_big_committee_gets_its_roll_call_in_pages(
    kibaru: Kibaru, clock: ManualClock
) -> None:
    """85 members: three messages of at most 40 (Telegram allows 100 buttons a keyboard);
    a tap shows again only the page of the member marked."""
    secretary = await secretary_of_c4(kibaru)
    async with kibaru.db.transaction() as conn:
        for number in range(85):
            user, _ = await users.get_or_create(conn, "test", f"9{number:03d}", NOW)
            await conn.execute(
                "INSERT INTO committee_members (committee_id, user_id, member_type, status,"
                " requested_at) SELECT id, ?, 'youth', 'active', ? FROM committees"
                " WHERE code = 'ccsc_bamako_c4'",
                (user.id, NOW.isoformat()),
            )
    await create_session(secretary, day="demain", hour="10h")
    clock.set(datetime(2026, 11, 24, 10, 30, tzinfo=UTC))
    await press(secretary, "!roll:1")
    pages = [m for m in secretary.last_replies if isinstance(m, ActionMessage)]
    assert [len(p.actions) for p in pages] == [40, 40, 6]  # 5 members and "the rest"
    assert all(sum(len(row) for row in p.actions) <= 100 for p in pages)
    assert pages[2].text.endswith("3/3")
    last = await user_id(kibaru, "9084")
    await press(secretary, f"!mk:1:{last}:1")
    [again] = [m for m in secretary.last_replies if isinstance(m, ActionMessage)]
    assert again.text.endswith("3/3") and "✅" in again.actions[4][0].label


async def open_training(
    secretary: ChatDriver, title: str, *audience: str, confirm: bool = True
) -> None:
    await secretary.command("session_nouvelle")
    await secretary.tap("Formation")
    await secretary.text(title)
    await secretary.text("4/12")
    await secretary.text("9h")
    await secretary.text("Maison des femmes")
    await secretary.tap("Passer")
    await secretary.tap("Passer")
    await secretary.tap("Passer")  # no limit of places
    for label in audience:
        await secretary.tap(label)
    if confirm:
        await secretary.tap("Créer et inviter")


async def test_an_open_training_invites_focal_points_or_the_communes_subscribers(
    kibaru: Kibaru,
) -> None:
    from storage import subscriptions
    from storage.subscriptions import AreaKind

    secretary = await secretary_of_c4(kibaru)
    await member(kibaru, "701")
    await staff(kibaru, "801", Role.FOCAL_POINT, "bamako")
    follower = ChatDriver(kibaru.conversations, chat_id="802")
    await follower.command("start")
    await follower.tap("Bamanankan")
    async with kibaru.db.transaction() as conn:
        user = await users.find(conn, "test", "802")
        assert user is not None
        await subscriptions.subscribe(
            conn, user.id, AreaKind.COMMUNE, "bamako_c4", 3, "now", None, NOW
        )

    await open_training(secretary, "Formation des points focaux", "points focaux")
    rows = await outbox_rows(kibaru, "invitation:1:%")
    # the member and the focal point; the subscriber (not a focal point) is not invited
    assert sorted(str(r["chat_id"]) for r in rows) == ["701", "801"]
    await open_training(secretary, "Forum public sur la sécurité", "abonnés", "Commune IV")
    rows = await outbox_rows(kibaru, "invitation:2:%")
    assert sorted(str(r["chat_id"]) for r in rows) == ["701", "801", "802"]
    bambara = next(r for r in rows if r["chat_id"] == "802")
    assert "Viendrez-vous" not in str(payload(bambara)["text"])  # in their language
    outsider = ChatDriver(kibaru.conversations, chat_id="802")
    await press(outsider, "!rsvp:2:yes")  # not a member: sex and age group, asked once
    assert [b.key for b in outsider.question.choices] == ["female", "male"]
    await outsider.text("1")
    await outsider.text("3")
    async with kibaru.db.reading() as conn:
        user = await users.find(conn, "test", "802")
        assert user is not None
        row = await conn.execute_fetchall(
            "SELECT sex, age_group FROM participant_profiles WHERE user_id = ?", (user.id,)
        )
        invitation = await conn.execute_fetchall(
            "SELECT answer FROM invitations WHERE session_id = 2 AND user_id = ?", (user.id,)
        )
    assert [tuple(r) for r in row] == [("female", "25_35")]
    assert [tuple(r) for r in invitation] == [("yes",)]
    await press(outsider, "!rsvp:2:maybe")  # known now: not asked again
    assert not outsider.last_replies or all(
        "female" not in [b.key for b in getattr(m, "choices", ())] for m in outsider.last_replies
    )
    member_701 = ChatDriver(kibaru.conversations, chat_id="701")
    await press(member_701, "!rsvp:2:yes")  # members are never asked (their request did)
    assert "Réponse enregistrée" in member_701.last_text
    assert "Une dernière question" not in member_701.last_text


async def follower_of(kibaru: Kibaru, chat_id: str, code: str | None) -> ChatDriver:
    """Someone who follows alerts for an area (None: all Mali) and belongs to no committee."""
    from storage import subscriptions
    from storage.subscriptions import AreaKind

    chat = ChatDriver(kibaru.conversations, chat_id=chat_id)
    await chat.command("start")
    await chat.tap("Français")
    kind = (
        AreaKind.MALI
        if code is None
        else AreaKind.COMMUNE
        if code.startswith("bamako_")
        else AreaKind.REGION
    )
    async with kibaru.db.transaction() as conn:
        user = await users.find(conn, "test", chat_id)
        assert user is not None
        await subscriptions.subscribe(conn, user.id, kind, code or "mali", 1, "now", None, NOW)
    return chat


async def test_an_open_session_can_invite_another_committee_or_a_chosen_areas_subscribers(
    kibaru: Kibaru,
) -> None:
    secretary = await secretary_of_c4(kibaru)
    await member(kibaru, "701")
    await member(kibaru, "702", committee="ccsc_bamako_c2")
    await follower_of(kibaru, "811", "bamako_c4")
    await follower_of(kibaru, "812", "segou")
    await open_training(secretary, "Atelier inter-communes", "autre comité", confirm=False)
    assert "Quel comité" in secretary.last_text
    assert "CCS-C Commune IV" not in secretary.labels
    await secretary.tap("Commune II")
    assert "CCS-C Commune II sont invités aussi" in secretary.last_text
    assert "chacun peut s'inscrire" in secretary.last_text
    await secretary.tap("Créer et inviter")
    rows = await outbox_rows(kibaru, "invitation:1:%")
    assert sorted(str(r["chat_id"]) for r in rows) == ["701", "702"]
    await open_training(secretary, "Forum de Ségou", "abonnés", "Ségou", confirm=False)
    assert "Région de Ségou" in secretary.last_text
    await secretary.tap("Créer et inviter")
    rows = await outbox_rows(kibaru, "invitation:2:%")
    assert sorted(str(r["chat_id"]) for r in rows) == ["701", "812"]


async def test_anyone_finds_open_sessions_of_their_area_and_registers(kibaru: Kibaru) -> None:
    secretary = await secretary_of_c4(kibaru)
    await open_training(secretary, "Formation des points focaux", "points focaux")
    await create_session(secretary, day="5/12", title="Réunion des membres")  # closed
    near = await follower_of(kibaru, "821", "bamako")  # all Bamako: takes in Commune IV
    far = await follower_of(kibaru, "822", "segou")
    unknown = ChatDriver(kibaru.conversations, chat_id="823")
    await unknown.command("start")
    await unknown.tap("Français")

    await near.command("sessions")
    [shown] = [m for m in near.last_replies if isinstance(m, ActionMessage)]
    assert "Formation des points focaux" in shown.text and "Session ouverte" in shown.text
    assert [b.key for row in shown.actions for b in row] == ["!rsvp:1:yes"]
    await far.command("sessions")
    assert "Aucune session à venir" in far.last_text
    await unknown.command("sessions")  # nothing known about them: every open session
    assert "Formation des points focaux" in unknown.last_text
    assert "/alertes" in unknown.last_text

    await press(near, "!rsvp:1:yes")  # registers, then is asked sex and age group once
    assert [b.key for b in near.question.choices] == ["female", "male"]
    await near.text("2")
    await near.text("4")
    async with kibaru.db.reading() as conn:
        rows = await conn.execute_fetchall(
            "SELECT i.answer FROM invitations i JOIN users u ON u.id = i.user_id"
            " WHERE i.session_id = 1 AND u.chat_id = '821'"
        )
    assert [r[0] for r in rows] == ["yes"]
    assert len(await outbox_rows(kibaru, "reminder:1:%")) == 2  # reminders like a member's
    await near.command("sessions")  # now among their own sessions, with their answer
    assert "Votre réponse : ✅ Je viendrai" in near.last_text
    assert "Je m'inscris" not in near.last_text
    # a session of the committee's own members stays closed, even with crafted data
    await press(far, "!rsvp:2:yes")
    assert "pas le droit" in far.last_text


async def test_a_monthly_repetition_can_be_stopped_by_its_committee_only(kibaru: Kibaru) -> None:
    secretary = await secretary_of_c4(kibaru)
    other = await staff(kibaru, "401", Role.CCSC_SECRETARY, "ccsc_bamako_c1")
    await secretary.command("session_nouvelle")
    await secretary.tap("statutaire")
    await secretary.text("Réunion statutaire")
    await secretary.text("3/12")
    await secretary.text("10h")
    await secretary.text("Mairie de la Commune IV")
    await secretary.tap("Passer")
    await secretary.tap("Passer")
    await secretary.tap("répéter")
    await secretary.command("sessions")
    stop = [
        b.key
        for m in secretary.last_replies
        if isinstance(m, ActionMessage)
        for row in m.actions
        for b in row
        if "répéter" in b.label
    ]
    assert stop and all(key == "!srs:1" for key in stop)
    assert "pas le droit" in await press(other, "!srs:1:ok")
    assert "Ne plus créer chaque mois" in await press(secretary, "!srs:1")
    assert "Répétition arrêtée" in await press(secretary, "!srs:1:ok")
    assert "déjà arrêtée" in await press(secretary, "!srs:1:ok")
    async with kibaru.db.reading() as conn:
        from storage import sessions

        assert await sessions.active_rules(conn) == []
        refused = await conn.execute_fetchall(
            "SELECT subject FROM audit_log"
            " WHERE action = 'refused' AND detail = 'session:stop_rule'"
        )
    assert len(refused) == 1
