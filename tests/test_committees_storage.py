"""Committees, memberships and profiles in storage: the first decision wins, roles follow the
membership, a person who left may ask again."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import Kibaru
from storage import audit, committees, roles, users
from storage.committees import MemberStatus, MemberType
from storage.roles import Role

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _user(kibaru: Kibaru, chat_id: str) -> int:
    async with kibaru.db.transaction() as conn:
        user, _ = await users.get_or_create(conn, "test", chat_id, NOW)
    return user.id


async def test_the_six_communes_are_seeded_and_new_committees_get_a_code(kibaru: Kibaru) -> None:
    coordinator = await _user(kibaru, "999")
    async with kibaru.db.transaction() as conn:
        seeded = await committees.all_committees(conn)
        assert [c.code for c in seeded][:6] == [f"ccsc_bamako_c{i}" for i in range(1, 7)]
        created = await committees.create(conn, "CCS-C Kati Ségou", "kati", NOW, coordinator)
        assert created is not None and created.code == "ccsc_kati_segou"
        assert await committees.create(conn, "ccs-c kati segou", None, NOW, coordinator) is None
        assert (await committees.by_code(conn, "CCSC_KATI_SEGOU")) == created
    assert committees.code_for("Comité de Kayes") == "ccsc_comite_de_kayes"


async def test_request_approve_leave_and_ask_again(kibaru: Kibaru) -> None:
    member_id = await _user(kibaru, "1001")
    secretary = await _user(kibaru, "500")
    async with kibaru.db.transaction() as conn:
        committee = await committees.by_code(conn, "ccsc_bamako_c4")
        assert committee is not None
        await committees.save_profile(conn, member_id, "female", "18_24", "Awa", NOW)
        asked = await committees.request(conn, committee.id, member_id, MemberType.WOMEN, NOW)
        assert asked is not None and asked.status is MemberStatus.PENDING
        assert asked.display_name == "Awa"
        assert await committees.request(conn, committee.id, member_id, MemberType.FSI, NOW) is None
        approved = await committees.decide(conn, asked.id, True, secretary, NOW)
        assert approved is not None and approved.status is MemberStatus.ACTIVE
        assert await committees.decide(conn, asked.id, False, secretary, NOW) is None
        assert await roles.has_role(conn, member_id, Role.CCSC_MEMBER, committee.code)
        assert [m.id for m in await committees.active_members(conn, committee.id)] == [asked.id]
        [(member, user)] = await committees.active_member_users(conn, committee.id)
        assert (member.id, user.chat_id) == (asked.id, "1001")
        left = await committees.end(conn, asked.id, MemberStatus.LEFT, member_id, NOW)
        assert left is not None and left.status is MemberStatus.LEFT
        assert not await roles.has_role(conn, member_id, Role.CCSC_MEMBER, committee.code)
        assert await committees.end(conn, asked.id, MemberStatus.REMOVED, secretary, NOW) is None
        again = await committees.request(conn, committee.id, member_id, MemberType.YOUTH, NOW)
        assert again is not None and again.id == asked.id
        assert again.member_type is MemberType.YOUTH and again.status is MemberStatus.PENDING
        actions = [e.action for e in await audit.recent(conn)]
    assert "member.active" in actions and "member.left" in actions


async def test_secretaries_manage_their_committee_only(kibaru: Kibaru) -> None:
    secretary = await _user(kibaru, "500")
    coordinator = await _user(kibaru, "600")
    async with kibaru.db.transaction() as conn:
        c4 = await committees.by_code(conn, "ccsc_bamako_c4")
        c5 = await committees.by_code(conn, "ccsc_bamako_c5")
        assert c4 is not None and c5 is not None
        await roles.grant(conn, secretary, Role.CCSC_SECRETARY, NOW, c4.code)
        await roles.grant(conn, coordinator, Role.COORDINATOR, NOW)
        assert await committees.is_secretary(conn, secretary, c4)
        assert not await committees.may_manage(conn, secretary, c5)
        assert await committees.may_manage(conn, coordinator, c5)
        assert [c.code for c in await committees.managed_by(conn, secretary)] == [c4.code]
        manager_ids = {u.id for u in await committees.managers(conn, c4)}
        assert {secretary, coordinator} <= manager_ids
        assert secretary not in {u.id for u in await committees.managers(conn, c5)}


async def test_profiles_are_saved_once_and_updated(kibaru: Kibaru) -> None:
    user_id = await _user(kibaru, "1001")
    async with kibaru.db.transaction() as conn:
        assert await committees.profile(conn, user_id) is None
        await committees.save_profile(conn, user_id, "male", "over_35", None, NOW)
        await committees.save_profile(conn, user_id, "male", "25_35", "Moussa", NOW)
        profile = await committees.profile(conn, user_id)
    assert profile == committees.Profile("male", "25_35", "Moussa")
