"""Subscriptions storage: who receives an alert of a given place and severity, and how."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import roles, subscriptions, users
from storage.database import Connection, Database
from storage.roles import Role
from storage.subscriptions import DIGEST, NOW, AreaKind, Recipient, recipients

T0 = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
MALI, REGION, COMMUNE = AreaKind.MALI, AreaKind.REGION, AreaKind.COMMUNE


@pytest.fixture
async def conn(db_path: Path) -> AsyncIterator[Connection]:
    db = await Database.open(db_path, now=T0)
    async with db.transaction() as connection:
        yield connection
    await db.close()


async def person(conn: Connection, chat_id: str, language: str | None = "fr") -> int:
    user, _ = await users.get_or_create(conn, "telegram", chat_id, T0)
    if language:
        await users.set_language(conn, user.id, language)
    return user.id


async def follow(
    conn: Connection,
    user_id: int,
    kind: AreaKind,
    code: str = "",
    level: int = 1,
    delivery: str = NOW,
    hour: int | None = None,
) -> bool:
    return await subscriptions.subscribe(conn, user_id, kind, code, level, delivery, hour, T0)


async def who(
    conn: Connection, region: str | None, commune: str | None, severity: int
) -> dict[int, tuple[str, int | None]]:
    found = await recipients(conn, region=region, commune_or_cercle=commune, severity=severity)
    assert len({r.user_id for r in found}) == len(found), "someone twice"
    return {r.user_id: (r.delivery, r.digest_hour) for r in found}


async def test_region_commune_and_all_mali(conn: Connection) -> None:
    everywhere = await person(conn, "1")
    bamako = await person(conn, "2")
    commune_4 = await person(conn, "3")
    commune_1 = await person(conn, "4")
    gao = await person(conn, "5")
    await follow(conn, everywhere, MALI)
    await follow(conn, bamako, REGION, "bamako")
    await follow(conn, commune_4, COMMUNE, "bamako_c4")
    await follow(conn, commune_1, COMMUNE, "bamako_c1")
    await follow(conn, gao, REGION, "gao")
    assert set(await who(conn, "bamako", "bamako_c4", 2)) == {everywhere, bamako, commune_4}
    assert set(await who(conn, "gao", "gao_ansongo", 2)) == {everywhere, gao}
    # a report placed by a pin only (no region yet): all Mali
    assert set(await who(conn, None, None, 2)) == {everywhere}


async def test_minimum_severity(conn: Connection) -> None:
    info, vigilance, alerte, urgence = [await person(conn, str(n)) for n in range(4)]
    for level, user_id in enumerate((info, vigilance, alerte, urgence), 1):
        await follow(conn, user_id, REGION, "mopti", level)
    assert set(await who(conn, "mopti", None, 1)) == {info}
    assert set(await who(conn, "mopti", None, 3)) == {info, vigilance, alerte}
    assert set(await who(conn, "mopti", None, 4)) == {info, vigilance, alerte, urgence}
    with pytest.raises(ValueError):
        await recipients(conn, region="mopti", commune_or_cercle=None, severity=5)


async def test_digest_and_severity_4_always_at_once(conn: Connection) -> None:
    awa = await person(conn, "1")
    await follow(conn, awa, REGION, "kayes", 1, DIGEST, 18)
    assert await who(conn, "kayes", None, 3) == {awa: (DIGEST, 18)}
    assert await who(conn, "kayes", None, 4) == {awa: (NOW, None)}


async def test_each_person_once_the_most_urgent_delivery_wins(conn: Connection) -> None:
    awa = await person(conn, "1")
    await follow(conn, awa, MALI, "", 1, DIGEST, 20)
    await follow(conn, awa, REGION, "bamako", 2, DIGEST, 7)
    await follow(conn, awa, COMMUNE, "bamako_c3", 3, NOW)
    assert await who(conn, "bamako", "bamako_c3", 3) == {awa: (NOW, None)}
    assert await who(conn, "bamako", "bamako_c5", 3) == {awa: (DIGEST, 7)}
    assert await who(conn, "bamako", "bamako_c5", 1) == {awa: (DIGEST, 20)}
    assert await who(conn, "segou", None, 3) == {awa: (DIGEST, 20)}


async def test_choosing_an_area_again_replaces_its_settings(conn: Connection) -> None:
    awa = await person(conn, "1")
    assert await follow(conn, awa, REGION, "gao", 1, DIGEST, 18) is True
    assert await follow(conn, awa, REGION, "gao", 3, NOW) is False
    [only] = await subscriptions.of_user(conn, awa)
    assert (only.kind, only.code, only.min_severity, only.delivery, only.digest_hour) == (
        REGION,
        "gao",
        3,
        NOW,
        None,
    )
    assert await who(conn, "gao", None, 2) == {}


async def test_bad_subscriptions_are_refused(conn: Connection) -> None:
    awa = await person(conn, "1")
    for kind, code, level, delivery, hour in [
        (MALI, "gao", 1, NOW, None),
        (REGION, "", 1, NOW, None),
        (REGION, "gao", 0, NOW, None),
        (REGION, "gao", 1, DIGEST, None),
        (REGION, "gao", 1, DIGEST, 24),
        (REGION, "gao", 1, NOW, 8),
        (REGION, "gao", 1, "weekly", None),
    ]:
        with pytest.raises(ValueError):
            await follow(conn, awa, kind, code, level, delivery, hour)
    assert await subscriptions.of_user(conn, awa) == []


async def test_pause_and_resume(conn: Connection) -> None:
    awa, moussa = await person(conn, "1"), await person(conn, "2")
    await follow(conn, awa, MALI)
    await follow(conn, moussa, MALI)
    await roles.grant(conn, awa, Role.FOCAL_POINT, T0, scope="gao")
    assert await subscriptions.pause(conn, awa, T0) is True
    assert await subscriptions.pause(conn, awa, datetime(2026, 3, 13, tzinfo=UTC)) is False
    assert await subscriptions.paused_since(conn, awa) == T0  # the first STOP counts
    # STOP wins over the subscription and over the focal point's role
    assert set(await who(conn, "gao", None, 4)) == {moussa}
    assert await subscriptions.resume(conn, awa) is True
    assert await subscriptions.resume(conn, awa) is False
    assert set(await who(conn, "gao", None, 4)) == {awa, moussa}


async def test_subscribing_lifts_a_pause(conn: Connection) -> None:
    awa = await person(conn, "1")
    await follow(conn, awa, MALI)
    await subscriptions.pause(conn, awa, T0)
    await follow(conn, awa, REGION, "gao")
    assert await subscriptions.paused_since(conn, awa) is None


async def test_focal_points_by_scope_at_once_without_a_subscription(conn: Connection) -> None:
    national = await person(conn, "1")
    gao = await person(conn, "2")
    commune_2 = await person(conn, "3")
    validator = await person(conn, "4")
    await roles.grant(conn, national, Role.FOCAL_POINT, T0)
    await roles.grant(conn, gao, Role.FOCAL_POINT, T0, scope="gao")
    await roles.grant(conn, commune_2, Role.FOCAL_POINT, T0, scope="bamako_c2")
    await roles.grant(conn, validator, Role.VALIDATOR, T0, scope="gao")
    # even an information, even with a digest subscription of their own: at once
    await follow(conn, gao, REGION, "gao", 3, DIGEST, 18)
    assert await who(conn, "gao", "gao_ansongo", 1) == {national: (NOW, None), gao: (NOW, None)}
    assert set(await who(conn, "bamako", "bamako_c2", 1)) == {national, commune_2}
    assert set(await who(conn, "bamako", "bamako_c6", 1)) == {national}
    assert await subscriptions.focal_scopes(conn, gao) == ["gao"]
    assert await subscriptions.focal_scopes(conn, national) == [None]


async def test_recipients_carry_what_the_sender_needs(conn: Connection) -> None:
    fr, bm, unknown = await person(conn, "71", "fr"), await person(conn, "72", "bm"), 0
    unknown = await person(conn, "73", None)
    for user_id in (fr, bm, unknown):
        await follow(conn, user_id, REGION, "sikasso", 2, DIGEST, 7)
    found = await recipients(conn, region="sikasso", commune_or_cercle=None, severity=2)
    assert found == [
        Recipient(fr, "telegram", "71", "fr", DIGEST, 7),
        Recipient(bm, "telegram", "72", "bm", DIGEST, 7),
        Recipient(unknown, "telegram", "73", None, DIGEST, 7),
    ]


async def test_people_who_blocked_the_bot_are_left_out(conn: Connection) -> None:
    awa, moussa = await person(conn, "1"), await person(conn, "2")
    await follow(conn, awa, MALI)
    await follow(conn, moussa, MALI)
    assert set(await who(conn, "gao", None, 2)) == {awa, moussa}
    await conn.execute("UPDATE users SET blocked_at = ? WHERE id = ?", (T0.isoformat(), moussa))
    assert set(await who(conn, "gao", None, 2)) == {awa}


async def test_remove_and_forget(conn: Connection) -> None:
    awa, moussa = await person(conn, "1"), await person(conn, "2")
    await follow(conn, awa, REGION, "gao")
    await follow(conn, awa, MALI)
    await follow(conn, moussa, REGION, "gao")
    mali, gao = await subscriptions.of_user(conn, awa)  # all Mali listed first
    assert (mali.kind, gao.code) == (MALI, "gao")
    [theirs] = await subscriptions.of_user(conn, moussa)
    assert await subscriptions.remove(conn, awa, theirs.id) is False  # not awa's to remove
    assert await subscriptions.remove(conn, awa, gao.id) is True
    assert [s.kind for s in await subscriptions.of_user(conn, awa)] == [MALI]
    await subscriptions.pause(conn, awa, T0)
    await users.delete(conn, awa)  # /effacer: the subscriptions and the pause go with the user
    [row] = await conn.execute_fetchall(
        "SELECT (SELECT COUNT(*) FROM subscriptions WHERE user_id = ?),"
        " (SELECT COUNT(*) FROM alert_pauses WHERE user_id = ?)",
        (awa, awa),
    )
    assert tuple(row) == (0, 0)
