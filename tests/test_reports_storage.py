"""Storage of reports: references, duplicates, drafts and their media, unlinking, migration."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from storage import reports, users
from storage.database import Connection, Database, bundled_migrations, fetch_one
from storage.reports import NewReport, Status

NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
BAMAKO = ZoneInfo("Africa/Bamako")  # UTC+0 all year
LAGOS = ZoneInfo("Africa/Lagos")  # UTC+1 all year

ATTACK = NewReport(
    category="armed_attack",
    occurred_on=date(2026, 3, 11),
    occurred_time="14:30",
    region="gao",
    cercle="gao_ansongo",
    precision="cercle_or_commune",
    description="Des hommes armés sont entrés dans le village.",
    killed=2,
    injured=None,
    contact="anonymous",
    language="fr",
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "k.db", now=NOW)
    yield database
    await database.close()


async def _user(conn: Connection, chat_id: str) -> int:
    user, _ = await users.get_or_create(conn, "telegram", chat_id, NOW)
    return user.id


def test_format_reference() -> None:
    assert reports.format_reference(2026, 123) == "ML-2026-000123"
    assert reports.format_reference(2026, 1) == "ML-2026-000001"


async def test_create_stores_every_answer(db: Database) -> None:
    full = replace(
        ATTACK,
        day_period="afternoon",
        locality="Ouatagouna",
        place_detail="près du marché",
        latitude=15.18,
        longitude=0.72,
        precision="exact_pin",
        injured=0,
        missing=3,
        displaced=None,
        contact="phone",
        contact_phone="+22370000000",
        language="bm",
    )
    async with db.transaction() as conn:
        reporter = await _user(conn, "1")
        created = await reports.create(conn, full, reporter, NOW, BAMAKO)
    assert created.reference == "ML-2026-000001"
    assert created.status is Status.RECEIVED
    assert created.reporter_id == reporter and created.created_at == NOW
    async with db.reading() as conn:
        loaded = await reports.get(conn, created.id)
        assert loaded == created
        assert await reports.by_reference(conn, " ml-2026-000001 ") == created
        assert await reports.by_reference(conn, "ML-2026-000002") is None
        assert await reports.get(conn, created.id + 1) is None
    assert loaded is not None
    # every answer comes back as it was given
    for name in reports._NEW_COLUMNS:
        assert getattr(loaded, name) == getattr(full, name), name
    assert loaded.occurred_on == date(2026, 3, 11) and loaded.killed == 2


async def test_references_are_consecutive_and_per_year(db: Database) -> None:
    new_year_eve = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    async with db.transaction() as conn:
        first = await reports.create(conn, ATTACK, None, NOW, BAMAKO)
        second = await reports.create(conn, ATTACK, None, NOW, BAMAKO)
        # 23:30 UTC on 31 December is still 2026 in Bamako (UTC+0) ...
        eve_in_bamako = await reports.create(conn, ATTACK, None, new_year_eve, BAMAKO)
        # ... and already 2027 one hour east: the first reference of 2027
        eve_in_lagos = await reports.create(conn, ATTACK, None, new_year_eve, LAGOS)
        next_year = await reports.create(
            conn, ATTACK, None, datetime(2027, 2, 1, tzinfo=UTC), BAMAKO
        )
    assert [r.reference for r in (first, second, eve_in_bamako, eve_in_lagos, next_year)] == [
        "ML-2026-000001",
        "ML-2026-000002",
        "ML-2026-000003",
        "ML-2027-000001",
        "ML-2027-000002",
    ]


async def test_rolled_back_report_leaves_no_gap(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await reports.create(conn, ATTACK, None, NOW, BAMAKO)
            raise RuntimeError("the step failed after the insert")
    async with db.transaction() as conn:
        created = await reports.create(conn, ATTACK, None, NOW, BAMAKO)
    assert created.reference == "ML-2026-000001"


async def test_fifty_concurrent_reports_get_fifty_consecutive_references(db: Database) -> None:
    async with db.transaction() as conn:
        reporters = [await _user(conn, str(n)) for n in range(50)]

    async def report(reporter: int) -> reports.Report:
        async with db.transaction() as conn:
            await asyncio.sleep(0)  # let the other tasks queue up at the lock
            return await reports.create(conn, ATTACK, reporter, NOW, BAMAKO)

    created = await asyncio.gather(*(report(r) for r in reporters))
    references = {r.reference for r in created}
    assert references == {reports.format_reference(2026, n) for n in range(1, 51)}
    assert len({r.id for r in created}) == 50
    assert {r.reporter_id for r in created} == set(reporters)


async def test_possible_duplicates_are_linked(db: Database) -> None:
    earlier = NOW - timedelta(hours=23, minutes=59)
    too_old = NOW - timedelta(hours=24, minutes=1)
    elsewhere = replace(ATTACK, cercle="gao_bourem")
    flood = replace(ATTACK, category="flood_drought_fire")
    region_only = replace(ATTACK, cercle=None, precision="region")
    pin_only = replace(ATTACK, region=None, cercle=None, latitude=15.1, longitude=0.7)
    async with db.transaction() as conn:
        a, b = await _user(conn, "a"), await _user(conn, "b")
        old = await reports.create(conn, ATTACK, a, too_old, BAMAKO)
        recent = await reports.create(conn, ATTACK, a, earlier, BAMAKO)
        other_place = await reports.create(conn, elsewhere, a, earlier, BAMAKO)
        other_category = await reports.create(conn, flood, a, earlier, BAMAKO)
        # another reporter, same category and cercle, 23h59 later: linked to `recent` only
        new = await reports.create(conn, ATTACK, b, NOW, BAMAKO)
        # no cercle: compared by region, so every attack of the region in the window counts
        by_region = await reports.create(conn, region_only, b, NOW, BAMAKO)
        # neither cercle nor region: nothing to compare with
        pinned = await reports.create(conn, pin_only, b, NOW, BAMAKO)
    async with db.reading() as conn:
        assert [r.id for r in await reports.similar(conn, new.id)] == [recent.id, by_region.id]
        assert [r.id for r in await reports.similar(conn, by_region.id)] == [
            recent.id,
            other_place.id,
            new.id,
        ]
        # both directions: a report shows the earlier ones and the later ones
        assert [r.id for r in await reports.similar(conn, recent.id)] == [
            old.id,
            new.id,
            by_region.id,
        ]
        # 24 h 01 before `new`, so not linked to it; but `recent` came 2 minutes after it
        assert [r.id for r in await reports.similar(conn, old.id)] == [recent.id]
        assert await reports.similar(conn, other_category.id) == []
        assert await reports.similar(conn, pinned.id) == []


async def test_report_links_are_not_made_to_later_reports(db: Database) -> None:
    async with db.transaction() as conn:
        later = await reports.create(conn, ATTACK, None, NOW + timedelta(hours=1), BAMAKO)
        created = await reports.create(conn, ATTACK, None, NOW, BAMAKO)
        assert await reports.similar(conn, created.id) == []
        assert await reports.similar(conn, later.id) == []


async def test_count_since_and_of_reporter(db: Database) -> None:
    async with db.transaction() as conn:
        awa, moussa = await _user(conn, "awa"), await _user(conn, "moussa")
        moments = [NOW - timedelta(minutes=m) for m in (90, 59, 30, 0)]
        mine = [await reports.create(conn, ATTACK, awa, at, BAMAKO) for at in moments]
        await reports.create(conn, ATTACK, moussa, NOW, BAMAKO)
        await reports.create(conn, ATTACK, None, NOW, BAMAKO)
    async with db.reading() as conn:
        assert await reports.count_since(conn, awa, NOW - timedelta(hours=1)) == 3
        assert await reports.count_since(conn, awa, NOW - timedelta(hours=2)) == 4
        assert await reports.count_since(conn, moussa, NOW - timedelta(hours=1)) == 1
        newest_first = await reports.of_reporter(conn, awa)
        assert [r.id for r in newest_first] == [r.id for r in reversed(mine)]
        assert [r.id for r in await reports.of_reporter(conn, awa, limit=2)] == [
            mine[3].id,
            mine[2].id,
        ]
        assert await reports.of_reporter(conn, await _user(conn, "nobody")) == []


async def test_drafts_are_saved_loaded_and_deleted(db: Database) -> None:
    answers = {"category": "kidnapping", "where": {"region": "mopti"}, "note": "Sévaré"}
    async with db.transaction() as conn:
        user = await _user(conn, "1")
        assert await reports.load_draft(conn, user) is None
        await reports.save_draft(conn, user, answers, "when", NOW)
        draft = await reports.load_draft(conn, user)
        assert draft == reports.Draft(answers, "when", NOW)
        later = NOW + timedelta(minutes=5)
        await reports.save_draft(conn, user, {**answers, "day": "2026-03-12"}, "where", later)
        draft = await reports.load_draft(conn, user)
        assert draft is not None and draft.step == "where" and draft.updated_at == later
        assert draft.answers["day"] == "2026-03-12"
        await reports.delete_draft(conn, user)
        assert await reports.load_draft(conn, user) is None


async def test_expired_drafts(db: Database) -> None:
    async with db.transaction() as conn:
        old, fresh, stray, busy = [await _user(conn, c) for c in ("old", "fresh", "stray", "busy")]
        await reports.save_draft(conn, old, {}, "what", NOW - timedelta(hours=73))
        await reports.save_draft(conn, fresh, {}, "what", NOW - timedelta(hours=71))
        # media left without a draft row, and old media of a draft still in use
        for owner in (stray, busy):
            await reports.add_draft_media(
                conn,
                owner,
                "evidence",
                "photo",
                "telegram",
                "f",
                1,
                None,
                None,
                None,
                NOW - timedelta(hours=80),
            )
        await reports.save_draft(conn, busy, {}, "evidence", NOW)
        assert await reports.expired_drafts(conn, NOW - timedelta(hours=72)) == [old, stray]


async def _media(conn: Connection, owner: int, purpose: str, file_id: str) -> int:
    return await reports.add_draft_media(
        conn, owner, purpose, "photo", "telegram", file_id, 2048, None, "image/jpeg", None, NOW
    )


async def test_draft_media_are_attached_on_create(db: Database) -> None:
    async with db.transaction() as conn:
        awa, moussa = await _user(conn, "awa"), await _user(conn, "moussa")
        voice = await reports.add_draft_media(
            conn, awa, "description", "voice", "telegram", "v1", 5000, 12, "audio/ogg", None, NOW
        )
        photo = await _media(conn, awa, "evidence", "p1")
        others = await _media(conn, moussa, "evidence", "p2")
        await reports.save_draft(conn, awa, {"category": "armed_attack"}, "summary", NOW)
        drafted = await reports.draft_media(conn, awa)
        assert [(m.id, m.purpose, m.report_id) for m in drafted] == [
            (voice, "description", None),
            (photo, "evidence", None),
        ]
        assert drafted[0].duration == 12 and drafted[0].draft_owner == awa
        created = await reports.create(conn, ATTACK, awa, NOW, BAMAKO)
    async with db.reading() as conn:
        attached = await reports.media_of(conn, created.id)
        assert [m.id for m in attached] == [voice, photo]
        assert all(m.draft_owner is None and m.report_id == created.id for m in attached)
        assert await reports.draft_media(conn, awa) == []
        assert await reports.load_draft(conn, awa) is None
        # another reporter's draft is not touched
        assert [m.id for m in await reports.draft_media(conn, moussa)] == [others]


async def test_draft_media_dropped_with_the_draft(db: Database) -> None:
    async with db.transaction() as conn:
        user = await _user(conn, "1")
        voice = await _media(conn, user, "description", "v")
        first = await _media(conn, user, "evidence", "p1")
        second = await _media(conn, user, "evidence", "p2")
        await reports.set_local_path(conn, voice, "/media/v.ogg")
        await reports.set_local_path(conn, first, "/media/p1.jpg")
        # changing the evidence answer drops only the evidence
        assert await reports.drop_draft_media(conn, user, "evidence") == ["/media/p1.jpg"]
        assert [m.id for m in await reports.draft_media(conn, user)] == [voice]
        assert await reports.drop_draft_media(conn, user) == ["/media/v.ogg"]
        assert await reports.draft_media(conn, user) == []
        assert second not in [m.id for m in await reports.pending_downloads(conn, 10)]


async def test_pending_downloads(db: Database) -> None:
    async with db.transaction() as conn:
        user = await _user(conn, "1")
        done = await _media(conn, user, "evidence", "a")
        waiting = await _media(conn, user, "evidence", "b")
        huge = await reports.add_draft_media(
            conn, user, "evidence", "video", "telegram", "c", 50_000_000, 300, None, None, NOW
        )
        unknown_size = await reports.add_draft_media(
            conn, user, "evidence", "document", "telegram", "d", None, None, None, "x.pdf", NOW
        )
        await reports.set_local_path(conn, done, "/media/a.jpg")
        queue = await reports.pending_downloads(conn, 10)
        assert [m.id for m in queue] == [waiting, huge, unknown_size]
        assert [m.id for m in await reports.pending_downloads(conn, 1)] == [waiting]
        fetchable = await reports.pending_downloads(conn, 10, max_size=20 * 1024 * 1024)
        assert [m.id for m in fetchable] == [waiting, unknown_size]


async def test_unlinking_makes_reports_anonymous(db: Database) -> None:
    by_phone = replace(ATTACK, contact="phone", contact_phone="+22370000000")
    async with db.transaction() as conn:
        awa, moussa = await _user(conn, "awa"), await _user(conn, "moussa")
        mine = [
            await reports.create(conn, by_phone, awa, NOW, BAMAKO),
            await reports.create(conn, replace(ATTACK, contact="via_bot"), awa, NOW, BAMAKO),
        ]
        theirs = await reports.create(conn, by_phone, moussa, NOW, BAMAKO)
        assert await reports.unlink_reporter(conn, awa) == 2
        assert await reports.unlink_reporter(conn, awa) == 0
    async with db.reading() as conn:
        for report in mine:
            unlinked = await reports.get(conn, report.id)
            assert unlinked is not None and unlinked.reporter_id is None
            assert unlinked.contact == "anonymous" and unlinked.contact_phone is None
            assert unlinked.reference == report.reference
        kept = await reports.get(conn, theirs.id)
        assert kept is not None and kept.reporter_id == moussa
        assert kept.contact_phone == "+22370000000"
        assert await reports.of_reporter(conn, awa) == []


async def test_deleting_a_user_keeps_their_reports_anonymous_and_drops_the_draft(
    db: Database,
) -> None:
    async with db.transaction() as conn:
        awa = await _user(conn, "awa")
        photo = await _media(conn, awa, "evidence", "p1")
        created = await reports.create(
            conn, replace(ATTACK, contact="phone", contact_phone="+22370000000"), awa, NOW, BAMAKO
        )
        # a second report in progress, with its own media
        await _media(conn, awa, "evidence", "p2")
        await reports.save_draft(conn, awa, {"category": "epidemic"}, "evidence", NOW)
    async with db.transaction() as conn:
        await users.delete(conn, awa)
    async with db.reading() as conn:
        kept = await reports.get(conn, created.id)
        assert kept is not None and kept.reporter_id is None
        assert kept.contact == "anonymous" and kept.contact_phone is None
        # the report's media stay; the draft's went with the user
        assert [m.id for m in await reports.media_of(conn, created.id)] == [photo]
        assert await reports.draft_media(conn, awa) == []
        assert await reports.load_draft(conn, awa) is None
        row = await fetch_one(conn, "SELECT COUNT(*) FROM report_media")
        assert row is not None and row[0] == 1


async def test_the_database_refuses_inconsistent_reports(db: Database) -> None:
    bad = [
        replace(ATTACK, contact="phone"),  # phone contact without a number
        replace(ATTACK, contact_phone="+22370000000"),  # a number the reporter did not give
        replace(ATTACK, killed=-1),
        replace(ATTACK, precision="somewhere"),
        replace(ATTACK, occurred_time="2pm"),
        replace(ATTACK, day_period="dawn"),
        replace(ATTACK, latitude=15.0),
    ]
    for report in bad:
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction() as conn:
                await reports.create(conn, report, None, NOW, BAMAKO)
    async with db.transaction() as conn:
        assert (await reports.create(conn, ATTACK, None, NOW, BAMAKO)).reference.endswith("01")


async def test_migration_applies_over_existing_data(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    old = await Database.open(path, migrations=bundled_migrations()[:1], now=NOW)
    async with old.transaction() as conn:
        user = await _user(conn, "42")
    assert await old.schema_version() == 1
    await old.close()

    db = await Database.open(path, now=NOW)
    try:
        assert await db.schema_version() == bundled_migrations()[-1].version
        async with db.transaction() as conn:
            assert await users.get(conn, user) is not None
            created = await reports.create(conn, ATTACK, user, NOW, BAMAKO)
        assert created.reference == "ML-2026-000001"
        assert await db.integrity_ok()
    finally:
        await db.close()
