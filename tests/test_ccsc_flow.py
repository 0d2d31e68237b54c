"""/ccsc through the engine, in French and Bambara: joining, approval by buttons, refusals,
leaving, removal, /membres, /comite_nouveau and /participation.

What is sent later (requests to secretaries, outcomes to members) is read from the outbox.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.app import Kibaru
from bot.clock import ManualClock
from bot.i18n import LANGUAGE_NAMES
from bot.inbound import ActionEvent
from bot.outbound import ActionMessage
from storage import audit, committees, roles, users
from storage.committees import MemberStatus
from storage.roles import Role
from tests.chat_driver import ChatDriver

NOW = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
C4 = "ccsc_bamako_c4"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def person(
    kibaru: Kibaru, chat_id: str, language: str = "fr", role: Role | None = None, scope: str = ""
) -> ChatDriver:
    chat = ChatDriver(kibaru.conversations, chat_id=chat_id, hint=language)
    await chat.command("start")
    await chat.tap(LANGUAGE_NAMES[language])
    if role is not None:
        async with kibaru.db.transaction() as conn:
            user = await users.find(conn, "test", chat_id)
            assert user is not None
            await roles.grant(conn, user.id, role, NOW, scope or None)
    return chat


async def outbox_rows(kibaru: Kibaru, like: str = "%") -> list[dict[str, object]]:
    async with kibaru.db.reading() as conn:
        cursor = await conn.execute(
            "SELECT key, chat_id, payload FROM outbox WHERE key LIKE ? ORDER BY id", (like,)
        )
        return [dict(row) for row in await cursor.fetchall()]


def payload(row: dict[str, object]) -> dict[str, object]:
    return dict(json.loads(str(row["payload"])))


async def ask_to_join(chat: ChatDriver, commune: str = "Commune IV", name: str = "Awa") -> None:
    await chat.command("ccsc")
    await chat.tap(commune)
    # by number, as people on any language do: women's representative, woman, 18 to 24
    await chat.text("4")
    await chat.text("1")
    await chat.text("2")
    await chat.text(name)
    await chat.text("1")  # send


async def press(chat: ChatDriver, name: str, *args: object) -> str:
    await chat.event(ActionEvent(chat.sender, name=name, args=tuple(str(a) for a in args)))
    return chat.last_text


async def member_of(kibaru: Kibaru, chat_id: str) -> committees.Member:
    async with kibaru.db.reading() as conn:
        user = await users.find(conn, "test", chat_id)
        assert user is not None
        [(member, _)] = await committees.of_user(conn, user.id, tuple(MemberStatus))
    return member


async def test_join_request_reaches_the_secretary_and_approval_reaches_the_member(
    kibaru: Kibaru,
) -> None:
    secretary = await person(kibaru, "500", role=Role.CCSC_SECRETARY, scope=C4)
    await person(kibaru, "501", role=Role.CCSC_SECRETARY, scope="ccsc_bamako_c5")
    member = await person(kibaru, "1001")
    await ask_to_join(member)
    assert "Demande envoyée au CCS-C Commune IV" in member.last_text
    requests = await outbox_rows(kibaru, "ccsc:ask:%")
    assert {r["chat_id"] for r in requests} == {"500", "999"}  # 999: KIBARU_ADMINS
    request = payload(requests[0])
    assert "Awa" in str(request["text"]) and "Représentante des femmes" in str(request["text"])
    pending = await member_of(kibaru, "1001")
    datas = [b[1] for row in request["buttons"] for b in row]  # type: ignore[attr-defined]
    assert datas == [f"!cm:{pending.id}:ok", f"!cm:{pending.id}:no"]

    assert "maintenant membre" in await press(secretary, "cm", pending.id, "ok")
    [told] = await outbox_rows(kibaru, "ccsc:ok:%")
    assert told["chat_id"] == "1001" and "Bienvenue" in str(payload(told)["text"])
    async with kibaru.db.reading() as conn:
        user = await users.find(conn, "test", "1001")
        assert user is not None
        assert await roles.has_role(conn, user.id, Role.CCSC_MEMBER, C4)
    # The coordinator presses too late: the first decision won.
    coordinator = await person(kibaru, "600", role=Role.COORDINATOR)
    assert "déjà été traitée" in await press(coordinator, "cm", pending.id, "no")
    assert (await member_of(kibaru, "1001")).status is MemberStatus.ACTIVE


async def test_decline_in_bambara_and_strangers_are_refused_and_audited(
    kibaru: Kibaru,
) -> None:
    secretary = await person(kibaru, "500", "bm", Role.CCSC_SECRETARY, C4)
    other_secretary = await person(kibaru, "501", role=Role.CCSC_SECRETARY, scope="ccsc_bamako_c5")
    stranger = await person(kibaru, "666")
    member = await person(kibaru, "1001", "bm")
    await ask_to_join(member)
    pending = await member_of(kibaru, "1001")
    for chat in (other_secretary, stranger):
        assert "pas le droit" in await press(chat, "cm", pending.id, "ok")
    assert "pas le droit" in await press(stranger, "cm", "x", "ok")  # forged data
    await press(secretary, "cm", pending.id, "no")
    [told] = await outbox_rows(kibaru, "ccsc:no:%")
    told_text = str(payload(told)["text"])
    assert told["chat_id"] == "1001" and "CCS-C Commune IV" in told_text
    assert "pas été acceptée" not in told_text  # in Bambara, the member's language
    async with kibaru.db.reading() as conn:
        refused = [e for e in await audit.recent(conn) if e.action == "refused"]
    assert len(refused) == 3
    assert (await member_of(kibaru, "1001")).status is MemberStatus.DECLINED


async def test_bad_input_is_explained_and_keeps_the_answers(kibaru: Kibaru) -> None:
    member = await person(kibaru, "1001")
    await member.command("ccsc")
    await member.text("Commune 9")
    assert "Je n'ai pas compris" in member.last_text
    await member.text("4")  # Commune IV, by its number
    await member.text("fsi")
    await member.text("peut-être")
    assert "Je n'ai pas compris" in member.last_text
    await member.tap("Homme")
    await member.tap("Plus de 35")
    await member.text("Moussa 0701020304")
    assert "sans chiffres" in member.last_text
    await member.text("Moussa")
    assert "Moussa" in member.last_text and "Commune IV" in member.last_text
    assert "Forces de défense" in member.last_text
    await member.tap("Envoyer")
    assert "Demande envoyée" in member.last_text


async def test_a_known_profile_is_offered_and_a_member_can_leave(kibaru: Kibaru) -> None:
    secretary = await person(kibaru, "500", role=Role.CCSC_SECRETARY, scope=C4)
    member = await person(kibaru, "1001")
    await ask_to_join(member)
    await press(secretary, "cm", (await member_of(kibaru, "1001")).id, "ok")
    await member.command("ccsc")
    assert "CCS-C Commune IV" in member.last_text
    await member.tap("Rejoindre")
    await member.tap("Commune V")
    await member.tap("Autre")
    assert "Awa" in member.last_text  # the profile given before is offered
    await member.tap("garder")
    await member.tap("Envoyer")
    async with kibaru.db.reading() as conn:
        user = await users.find(conn, "test", "1001")
        assert user is not None
        mine = await committees.of_user(conn, user.id)
    assert [(c.code, m.status) for m, c in mine] == [
        (C4, MemberStatus.ACTIVE),
        ("ccsc_bamako_c5", MemberStatus.PENDING),
    ]
    await member.command("ccsc")
    await member.tap("Quitter le CCS-C Commune IV")
    await member.tap("Oui")
    assert "quitté" in member.last_text
    async with kibaru.db.reading() as conn:
        assert not await roles.has_role(conn, user.id, Role.CCSC_MEMBER, C4)
    told = [r for r in await outbox_rows(kibaru, "ccsc:left:%") if r["chat_id"] == "500"]
    assert len(told) == 1 and "a quitté le CCS-C Commune IV" in str(payload(told[0])["text"])


async def test_secretaries_list_and_remove_members(kibaru: Kibaru) -> None:
    secretary = await person(kibaru, "500", role=Role.CCSC_SECRETARY, scope=C4)
    other_secretary = await person(kibaru, "501", role=Role.CCSC_SECRETARY, scope="ccsc_bamako_c5")
    member = await person(kibaru, "1001")
    await ask_to_join(member)
    joined = await member_of(kibaru, "1001")
    await press(secretary, "cm", joined.id, "ok")
    await secretary.command("membres")
    [listing] = [m for m in secretary.last_replies if isinstance(m, ActionMessage)]
    assert "1. Awa" in listing.text and "Représentante des femmes" in listing.text
    assert listing.actions[0][0].key == f"!cmr:{joined.id}"
    await other_secretary.command("membres", C4)
    assert "pas le droit" in other_secretary.last_text
    assert "pas le droit" in await press(other_secretary, "cmr", joined.id)
    assert "retiré" in await press(secretary, "cmr", joined.id)
    assert "déjà plus membre" in await press(secretary, "cmr", joined.id)
    [told] = await outbox_rows(kibaru, "ccsc:removed:%")
    assert told["chat_id"] == "1001"
    await secretary.command("membres")
    assert "aucun membre" in secretary.last_text


async def test_pending_requests_are_listed_and_can_be_withdrawn(kibaru: Kibaru) -> None:
    secretary = await person(kibaru, "500", role=Role.CCSC_SECRETARY, scope=C4)
    member = await person(kibaru, "1001")
    await ask_to_join(member, name="Oumou")
    pending = await member_of(kibaru, "1001")
    await secretary.command("membres")
    [waiting] = [m for m in secretary.last_replies if isinstance(m, ActionMessage)]
    assert "Oumou" in waiting.text
    assert [b.key for b in waiting.actions[0]] == [f"!cm:{pending.id}:ok", f"!cm:{pending.id}:no"]
    await member.command("ccsc")
    assert "demande en attente" in member.last_text
    await member.tap("Retirer ma demande")
    await member.tap("Non")
    assert "Vos comités" in member.last_text  # nothing withdrawn, back home
    await member.tap("Retirer ma demande")
    await member.tap("Oui")
    assert "déjà été traitée" in await press(secretary, "cm", pending.id, "ok")
    assert (await member_of(kibaru, "1001")).status is MemberStatus.LEFT


async def test_coordinators_create_committees(kibaru: Kibaru) -> None:
    coordinator = await person(kibaru, "600", role=Role.COORDINATOR)
    stranger = await person(kibaru, "666")
    await stranger.command("comite_nouveau", "CCS-C Kati")
    assert "pas le droit" in stranger.last_text
    await coordinator.command("comite_nouveau", "")
    assert "Utilisation" in coordinator.last_text
    await coordinator.command("comite_nouveau", "CCS-C Kati")
    assert "ccsc_kati" in coordinator.last_text
    await coordinator.command("comite_nouveau", "CCS-C  KATI")
    assert "existe déjà" in coordinator.last_text
    await coordinator.command("comite_nouveau", "CCS-C Kalaban Coro bamako_c6")
    async with kibaru.db.reading() as conn:
        created = await committees.by_code(conn, "ccsc_kalaban_coro")
    assert created is not None and (created.name, created.commune) == (
        "CCS-C Kalaban Coro",
        "bamako_c6",
    )
    member = await person(kibaru, "1001")
    await member.command("ccsc")
    assert "CCS-C Kalaban Coro" in member.labels


async def test_participation_needs_a_role_and_reads_the_period(kibaru: Kibaru) -> None:
    secretary = await person(kibaru, "500", role=Role.CCSC_SECRETARY, scope=C4)
    stranger = await person(kibaru, "666")
    await stranger.command("participation")
    assert "pas le droit" in stranger.last_text
    await secretary.command("participation", "ccsc_bamako_c5")
    assert "pas le droit" in secretary.last_text
    await secretary.command("participation", "hier")
    assert "Je ne comprends pas la période" in secretary.last_text
    await secretary.command("participation", "2026-10")
    assert "Participation du 1 oct. 2026" in secretary.last_text
    assert "Présents : 0 participant" in secretary.last_text  # no session in October


async def test_participation_from_attendance_by_committee_and_overall(kibaru: Kibaru) -> None:
    """Sessions and invitations written directly, with hand-computed expected figures.

    Commune IV, 5 November: Awa (woman 18-24, present), Bakary (FSI over 35, present),
    Cheick (FSI 25-35, 'maybe', present), Djeneba (woman over 35, 'yes', absent) and a
    visitor without a profile ('yes', present). Cancelled and October sessions do not count.
    Commune V, 12 November: Fanta (woman under 18, present).
    Present in IV: 4, women 1 (25 %), youth 2 (50 %), FSI 2. 'Yes' in IV: Awa, Bakary,
    Djeneba, the visitor: 4, women 2 (50 %), youth 1 (25 %), FSI 1.
    Overall present: 5, women 2 (40 %), youth 3 (60 %), FSI 2.
    """
    coordinator = await person(kibaru, "600", role=Role.COORDINATOR)
    people = {
        "awa": ("female", "18_24", "women", "yes", 1),
        "bakary": ("male", "over_35", "fsi", "yes", 1),
        "cheick": ("male", "25_35", "fsi", "maybe", 1),
        "djeneba": ("female", "over_35", "civil_society", "yes", 0),
        "visitor": (None, None, None, "yes", 1),
    }
    async with kibaru.db.transaction() as conn:
        c4 = await committees.by_code(conn, C4)
        c5 = await committees.by_code(conn, "ccsc_bamako_c5")
        assert c4 is not None and c5 is not None
        ids: dict[str, int] = {}
        for name in (*people, "fanta"):
            user, _ = await users.get_or_create(conn, "test", f"chat-{name}", NOW)
            ids[name] = user.id
        for name, (sex, age, kind, _, _) in people.items():
            if sex is None or age is None or kind is None:
                continue
            await committees.save_profile(conn, ids[name], sex, age, name.title(), NOW)
            asked = await committees.request(
                conn, c4.id, ids[name], committees.MemberType(kind), NOW
            )
            assert asked is not None
            await committees.decide(conn, asked.id, True, ids[name], NOW)
        await committees.save_profile(conn, ids["fanta"], "female", "under_18", "Fanta", NOW)
        fanta = await committees.request(
            conn, c5.id, ids["fanta"], committees.MemberType.YOUTH, NOW
        )
        assert fanta is not None
        await committees.decide(conn, fanta.id, True, ids["fanta"], NOW)
        sessions = [
            (1, c4.id, "2026-11-05T10:00:00+00:00", "scheduled"),
            (2, c4.id, "2026-11-10T10:00:00+00:00", "cancelled"),
            (3, c4.id, "2026-10-30T10:00:00+00:00", "scheduled"),
            (4, c5.id, "2026-11-12T10:00:00+00:00", "scheduled"),
        ]
        await conn.executemany(
            "INSERT INTO sessions (id, committee_id, starts_at, status, kind, title, place,"
            " checkin_code, created_at) VALUES (?, ?, ?, ?, 'statutory', 'Réunion',"
            " 'Mairie', '1234', '2026-10-01T00:00:00+00:00')",
            sessions,
        )
        invitations = [
            (1, ids[name], answer, attended) for name, (_, _, _, answer, attended) in people.items()
        ]
        invitations += [
            (2, ids["awa"], "yes", 1),
            (3, ids["bakary"], "yes", 1),
            (4, ids["fanta"], "yes", 1),
        ]
        await conn.executemany(
            "INSERT INTO invitations (session_id, user_id, answer, attended) VALUES (?, ?, ?, ?)",
            invitations,
        )
    await coordinator.command("participation", "2026-11")
    text = coordinator.last_text
    c4_block = text.split("🏛️ CCS-C Commune IV")[1].split("🏛️")[0]
    assert "Présents : 4 participants, dont 1 femme (25 %), 2 jeunes (50 %) et 2 FSI" in c4_block
    assert "Inscrits (oui) : 4 participants, dont 2 femmes (50 %), 1 jeune (25 %) et 1 FSI" in (
        c4_block
    )
    overall = text.split("Ensemble")[1]
    assert "Présents : 5 participants, dont 2 femmes (40 %), 3 jeunes (60 %) et 2 FSI" in overall
    await coordinator.command("participation", "ccsc_bamako_c5 2026-11")
    assert "1 participant, dont 1 femme (100 %), 1 jeune (100 %) et 0 FSI" in (
        coordinator.last_text
    )
    assert "Ensemble" not in coordinator.last_text


async def test_a_profile_without_a_name_still_asks_for_one(kibaru: Kibaru) -> None:
    member = await person(kibaru, "1001")
    async with kibaru.db.transaction() as conn:
        user = await users.find(conn, "test", "1001")
        assert user is not None
        await committees.save_profile(conn, user.id, "female", "25_35", None, NOW)
    await member.command("ccsc")
    await member.tap("Commune II")
    await member.tap("Société civile")
    await member.tap("garder")
    assert "Un prénom suffit" in member.last_text
    await member.text("Kadiatou")
    assert "Kadiatou" in member.last_text and "25 à 35 ans" in member.last_text
