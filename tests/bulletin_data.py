"""A data set for the bulletins, with figures worked out by hand in `WEEK_16_NOV` and
`NOVEMBER` below (times are UTC, which is Bamako's time all year).

Week of Monday 16 to Sunday 22 November 2026 (the report sent Monday 23 at 08:00):

| # | validated (local) | received     | sev | category      | place              | killed |
|---|-------------------|--------------|-----|---------------|--------------------|--------|
| 8 | Mon 16 00:00:00   | Sun 15 23:00 | 1   | displacement  | Ségou (region)     |        |
| 1 | Tue 17 10:00      | Tue 17 08:00 | 4   | armed_attack  | Ansongo, Gao       | 3 (+2 injured) |
| 2 | Wed 18 12:00      | Wed 18 11:30 | 3   | armed_attack  | Mopti (region)     | 1      |
| 3 | Thu 19 09:00      | Wed 18 21:00 | 4   | kidnapping    | Gao (region)       |        |
| 4 | Fri 20 15:00      | Fri 20 14:00 | 2   | crime         | Commune IV, Bamako |        |
| 5 | Sat 21 14:00      | Sat 21 10:00 | 1   | crime         | Ansongo, Gao       |        |
| 6 | Sun 22 23:59:59   | Sun 22 20:00 | 2   | epidemic      | Tombouctou         |        |
| 7 | Mon 23 00:00:00   | Sun 22 22:00 | 3   | intercommunal | Mopti (next week)  |        |

Week before (9 to 15 November): two alerts, validated Tue 10 09:00 and Sun 15 23:59:59.
October: one alert validated Sat 31 October 23:59:59; December: one on Tue 1 December 00:00.
Also in the week: a report rejected (received Tue 17, decided Wed 18), one marked duplicate
(received Thu 19, decided Thu 19) and one still waiting (received Fri 20).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from storage import committees, reports, review, sessions, users
from storage.committees import MemberType
from storage.database import Connection
from storage.reports import NewReport
from storage.review import Audience, Decision

BAMAKO = ZoneInfo("Africa/Bamako")


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    reference: str
    severity: int
    validated: datetime


async def _report(
    conn: Connection,
    received: datetime,
    category: str,
    region: str | None,
    cercle: str | None = None,
    killed: int | None = None,
    injured: int | None = None,
) -> reports.Report:
    return await reports.create(
        conn,
        NewReport(
            category=category,
            occurred_on=received.date(),
            precision="cercle_or_commune" if cercle else "region",
            contact="anonymous",
            language="fr",
            region=region,
            cercle=cercle,
            killed=killed,
            injured=injured,
            description="Mots du rapporteur à ne jamais montrer",
            place_detail="près de la maison du chef",
        ),
        None,
        received,
        BAMAKO,
    )


async def validated(
    conn: Connection,
    validator: int,
    *,
    received: datetime,
    validated_at: datetime,
    severity: int,
    category: str,
    region: str | None,
    cercle: str | None = None,
    killed: int | None = None,
    injured: int | None = None,
) -> Seeded:
    report = await _report(conn, received, category, region, cercle, killed, injured)
    await review.decide(conn, report, Decision.VALIDATED, validator, "Analyste", validated_at)
    await review.create_alert(conn, report.id, severity, Audience.PUBLIC, None, validated_at)
    return Seeded(report.reference, severity, validated_at)


async def seed(conn: Connection) -> dict[int, Seeded]:
    """The data set of the module docstring; the week's alerts by their number."""
    validator, _ = await users.get_or_create(conn, "test", "seed-validator", at(1))
    v = validator.id
    found: dict[int, Seeded] = {}
    # October and December: outside November, one each side.
    await validated(
        conn,
        v,
        received=at(31, 20, month=10),
        validated_at=at(31, 23, 59, 59, 10),
        severity=2,
        category="crime",
        region="kayes",
    )
    await validated(
        conn,
        v,
        received=at(30, 23),
        validated_at=datetime(2026, 12, 1, tzinfo=UTC),
        severity=4,
        category="armed_attack",
        region="gao",
    )
    # The week before.
    await validated(
        conn,
        v,
        received=at(10, 8),
        validated_at=at(10, 9),
        severity=3,
        category="armed_attack",
        region="kidal",
    )
    await validated(
        conn,
        v,
        received=at(15, 22),
        validated_at=at(15, 23, 59, 59),
        severity=1,
        category="hate_speech",
        region="segou",
    )
    # The week.
    found[8] = await validated(
        conn,
        v,
        received=at(15, 23),
        validated_at=at(16),
        severity=1,
        category="displacement",
        region="segou",
    )
    found[1] = await validated(
        conn,
        v,
        received=at(17, 8),
        validated_at=at(17, 10),
        severity=4,
        category="armed_attack",
        region="gao",
        cercle="gao_ansongo",
        killed=3,
        injured=2,
    )
    found[2] = await validated(
        conn,
        v,
        received=at(18, 11, 30),
        validated_at=at(18, 12),
        severity=3,
        category="armed_attack",
        region="mopti",
        killed=1,
    )
    found[3] = await validated(
        conn,
        v,
        received=at(18, 21),
        validated_at=at(19, 9),
        severity=4,
        category="kidnapping",
        region="gao",
    )
    found[4] = await validated(
        conn,
        v,
        received=at(20, 14),
        validated_at=at(20, 15),
        severity=2,
        category="crime",
        region="bamako",
        cercle="bamako_c4",
    )
    found[5] = await validated(
        conn,
        v,
        received=at(21, 10),
        validated_at=at(21, 14),
        severity=1,
        category="crime",
        region="gao",
        cercle="gao_ansongo",
    )
    found[6] = await validated(
        conn,
        v,
        received=at(22, 20),
        validated_at=at(22, 23, 59, 59),
        severity=2,
        category="epidemic",
        region="tombouctou",
    )
    found[7] = await validated(
        conn,
        v,
        received=at(22, 22),
        validated_at=at(23),
        severity=3,
        category="intercommunal_conflict",
        region="mopti",
    )
    rejected = await _report(conn, at(17, 9), "crime", "kayes")
    await review.decide(conn, rejected, Decision.REJECTED, v, None, at(18, 9), reason="rumour")
    duplicate = await _report(conn, at(19, 9), "kidnapping", "gao")
    await review.decide(conn, duplicate, Decision.DUPLICATE, v, None, at(19, 10))
    await _report(conn, at(20, 9), "other", "sikasso")
    return found


async def seed_sessions(conn: Connection) -> None:
    """November's CCS-C activity: two sessions held (a third cancelled, a fourth in October).

    Present: Awa (woman, 18-24, civil society) at both, Moussa (man, over 35, FSI) at the
    first, Issa (man, 25-35, local authority) marked absent. Participations 3: women 2
    (67 %), youth 2 (67 %), FSI 1.
    """
    committee = await committees.by_code(conn, "ccsc_bamako_c4")
    assert committee is not None
    people = []
    for name, sex, age, kind in (
        ("Awa", "female", "18_24", MemberType.CIVIL_SOCIETY),
        ("Moussa", "male", "over_35", MemberType.FSI),
        ("Issa", "male", "25_35", MemberType.LOCAL_AUTHORITY),
    ):
        user, _ = await users.get_or_create(conn, "test", f"member-{name}", at(1))
        await committees.save_profile(conn, user.id, sex, age, name, at(1))
        member = await committees.request(conn, committee.id, user.id, kind, at(1))
        assert member is not None
        await committees.decide(conn, member.id, True, user.id, at(1))
        people.append(user.id)
    awa, moussa, issa = people

    async def session(starts: datetime) -> int:
        created = await sessions.create(
            conn,
            committee_id=committee.id,
            kind="statutory",
            title="Réunion statutaire",
            starts_at=starts,
            place="Mairie",
            agenda=None,
            summary=None,
            checkin_code="4821",
            created_by=None,
            now=at(1),
        )
        assert created is not None
        for person in people:
            await sessions.invite(conn, created.id, person)
        return created.id

    first, second = await session(at(5, 10)), await session(at(19, 10))
    for session_id, present in ((first, (awa, moussa)), (second, (awa,))):
        for person in present:
            await sessions.mark(conn, session_id, person, True, None)
        await sessions.mark(conn, session_id, issa, False, None)
    cancelled = await session(at(26, 10))
    await sessions.mark(conn, cancelled, awa, True, None)
    await sessions.cancel(conn, cancelled)
    october = await session(at(29, 10, month=10))
    await sessions.mark(conn, october, awa, True, None)
