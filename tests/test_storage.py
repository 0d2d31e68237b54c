"""Storage: migrations, connection settings, users, roles and the audit log."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import audit, conversations, roles, users
from storage.database import Database, Migration, bundled_migrations
from storage.roles import Role

NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)


async def test_migrations_applied_once_and_recorded(db_path: Path) -> None:
    db = await Database.open(db_path, now=NOW)
    latest = bundled_migrations()[-1].version
    assert await db.schema_version() == latest
    await db.close()
    again = await Database.open(db_path, now=NOW)  # nothing re-applied, no error
    async with again.reading() as conn:
        cursor = await conn.execute("SELECT version, name FROM schema_migrations ORDER BY version")
        rows = [tuple(r) for r in await cursor.fetchall()]
    assert rows[0] == (1, "initial")
    assert len(rows) == len(bundled_migrations())
    await again.close()


async def test_connection_settings(db_path: Path) -> None:
    db = await Database.open(db_path, now=NOW)
    async with db.reading() as conn:
        assert (await (await conn.execute("PRAGMA journal_mode")).fetchone())[0] == "wal"
        assert (await (await conn.execute("PRAGMA foreign_keys")).fetchone())[0] == 1
        assert (await (await conn.execute("PRAGMA synchronous")).fetchone())[0] == 2  # FULL
    assert await db.integrity_ok()
    await db.close()


async def test_failed_migration_is_rolled_back(db_path: Path) -> None:
    broken = [
        *bundled_migrations(),
        Migration(999, "broken", "CREATE TABLE half_done (id INTEGER);\nSELECT * FROM missing;"),
    ]
    with pytest.raises(Exception, match="missing"):
        await Database.open(db_path, migrations=broken, now=NOW)
    db = await Database.open(db_path, now=NOW)
    async with db.reading() as conn:
        cursor = await conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'")
        assert await cursor.fetchone() is None
    assert await db.schema_version() == bundled_migrations()[-1].version
    await db.close()


async def test_transaction_rolls_back_on_error(db_path: Path) -> None:
    db = await Database.open(db_path, now=NOW)
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await users.get_or_create(conn, "telegram", "1", NOW)
            raise RuntimeError("boom")
    async with db.reading() as conn:
        assert await users.count(conn) == 0
    await db.close()


async def test_a_group_commits_its_transactions_together_or_not_at_all(db_path: Path) -> None:
    db = await Database.open(db_path, now=NOW)
    done: list[str] = []
    async with db.grouped():
        for chat in ("1", "2"):
            async with db.transaction() as conn:
                await users.get_or_create(conn, "telegram", chat, NOW)
                db.after_commit(lambda chat=chat: done.append(chat))
        assert done == []  # nothing is acted on before the group's commit
        with sqlite3.connect(db_path) as other:  # another connection sees nothing yet
            assert other.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
    assert done == ["1", "2"]
    with pytest.raises(RuntimeError):
        async with db.grouped():
            async with db.transaction() as conn:
                await users.get_or_create(conn, "telegram", "3", NOW)
                db.after_commit(lambda: done.append("3"))
            async with db.transaction() as conn:
                raise RuntimeError("boom")
    assert done == ["1", "2"]
    async with db.reading() as conn:
        assert await users.count(conn) == 2
    await db.close()


async def test_other_tasks_wait_for_the_group(db_path: Path) -> None:
    """A task outside the group (a scheduler job) never writes into the group's transaction."""
    db = await Database.open(db_path, now=NOW)
    order: list[str] = []

    async def job() -> None:
        async with db.transaction() as conn:
            await users.get_or_create(conn, "telegram", "job", NOW)
            order.append("job")

    async with db.grouped():
        task = asyncio.create_task(job())
        await asyncio.sleep(0)  # let the job run up to the lock
        async with db.transaction() as conn:
            await users.get_or_create(conn, "telegram", "batch", NOW)
            order.append("batch")
    await task
    assert order == ["batch", "job"]
    await db.close()


async def test_users_roles_and_audit(db_path: Path) -> None:
    db = await Database.open(db_path, now=NOW)
    async with db.transaction() as conn:
        awa, created = await users.get_or_create(conn, "telegram", "111", NOW)
        assert created and awa.language is None
        same, created_again = await users.get_or_create(conn, "telegram", "111", NOW)
        assert same.id == awa.id and not created_again
        await users.set_language(conn, awa.id, "bm")
        coordinators = await roles.ensure_coordinators(conn, "telegram", ["999"], NOW)
        boss = coordinators[0]
        assert await roles.grant(conn, awa.id, Role.FOCAL_POINT, NOW, scope="gao", by=boss.id)
        assert not await roles.grant(conn, awa.id, Role.FOCAL_POINT, NOW, scope="gao", by=boss.id)
        assert await roles.grant(conn, awa.id, Role.VALIDATOR, NOW, by=boss.id)
    async with db.reading() as conn:
        loaded = await users.get(conn, awa.id)
        assert loaded is not None and loaded.language == "bm"
        grants = await roles.of_user(conn, awa.id)
        assert {(g.role, g.scope) for g in grants} == {
            (Role.FOCAL_POINT, "gao"),
            (Role.VALIDATOR, None),
        }
        assert await roles.has_role(conn, awa.id, Role.FOCAL_POINT, "gao")
        assert not await roles.has_role(conn, awa.id, Role.FOCAL_POINT, "kidal")
        assert await roles.has_role(conn, awa.id, Role.VALIDATOR, "kidal")  # everywhere
        assert await roles.has_role(conn, boss.id, Role.COORDINATOR)
        entries = await audit.recent(conn)
    actions = [(e.action, e.detail) for e in reversed(entries)]
    assert actions == [
        ("role.grant", "coordinator"),
        ("role.grant", "focal_point@gao"),
        ("role.grant", "validator"),
    ]
    async with db.transaction() as conn:
        assert await roles.revoke(conn, awa.id, Role.VALIDATOR, NOW, by=boss.id)
        assert not await roles.revoke(conn, awa.id, Role.VALIDATOR, NOW, by=boss.id)
        assert (await audit.recent(conn, 1))[0].action == "role.revoke"
    await db.close()


async def test_ensure_coordinators_is_idempotent(db_path: Path) -> None:
    db = await Database.open(db_path, now=NOW)
    for _ in range(2):
        async with db.transaction() as conn:
            await roles.ensure_coordinators(conn, "telegram", ["1", "2"], NOW)
    async with db.reading() as conn:
        assert len(await roles.holders(conn, Role.COORDINATOR)) == 2
        assert len(await audit.recent(conn)) == 2
    await db.close()


async def test_deleting_a_user_removes_roles_and_conversation(db_path: Path) -> None:
    db = await Database.open(db_path, now=NOW)
    async with db.transaction() as conn:
        user, _ = await users.get_or_create(conn, "telegram", "5", NOW)
        await roles.grant(conn, user.id, Role.CCSC_MEMBER, NOW, scope="bamako_c1")
        state = conversations.ConversationState([conversations.Frame("menu", "main")], 3, 17)
        await conversations.save(conn, user.id, state, NOW)
    async with db.transaction() as conn:
        loaded = await conversations.load(conn, user.id)
        assert loaded is not None and loaded.prompt == 3 and loaded.last_event_id == 17
        await users.delete(conn, user.id)
    async with db.reading() as conn:
        assert await conversations.load(conn, user.id) is None
        assert await roles.of_user(conn, user.id) == []
        # the audit entry stays, without anything personal
        entries = await audit.recent(conn)
        assert entries[0].subject == f"user:{user.id}"
    await db.close()


async def test_open_conversations_are_counted(db_path: Path) -> None:
    db = await Database.open(db_path, now=NOW)
    async with db.transaction() as conn:
        for chat_id, frames in (("1", 1), ("2", 2), ("3", 3)):
            user, _ = await users.get_or_create(conn, "telegram", chat_id, NOW)
            state = conversations.ConversationState([conversations.Frame("menu", "main")] * frames)
            await conversations.save(conn, user.id, state, NOW)
        assert await conversations.count_open(conn) == 2
    await db.close()


async def test_admins_are_coordinators_from_the_start(settings: object) -> None:
    from bot.app import Kibaru
    from bot.clock import ManualClock

    app = await Kibaru.open(settings, ManualClock())  # type: ignore[arg-type]
    try:
        async with app.db.reading() as conn:
            admin = await users.find(conn, "telegram", "999")
            assert admin is not None and admin.language is None
            assert await roles.has_role(conn, admin.id, Role.COORDINATOR)
    finally:
        await app.close()


async def test_two_processes_starting_at_once_migrate_once(db_path: Path) -> None:
    import asyncio

    first, second = await asyncio.gather(
        Database.open(db_path, now=NOW), Database.open(db_path, now=NOW)
    )
    try:
        async with first.reading() as conn:
            cursor = await conn.execute("SELECT COUNT(*) FROM schema_migrations")
            assert (await cursor.fetchone())[0] == len(bundled_migrations())  # type: ignore[index]
    finally:
        await first.close()
        await second.close()


def test_split_statements() -> None:
    from storage.database import split_statements

    script = """-- a comment; with a semicolon
CREATE TABLE a (x TEXT DEFAULT ';');
CREATE TRIGGER t AFTER INSERT ON a BEGIN
    UPDATE a SET x = 'y';
END;
-- trailing comment
"""
    statements = split_statements(script)
    assert len(statements) == 2
    assert statements[1].endswith("END;")
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TABLE b (x")
