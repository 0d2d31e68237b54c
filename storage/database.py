"""The SQLite database: connection settings, transactions and numbered migrations.

One connection, guarded by a lock, because aiosqlite runs every statement on a single thread:
without the lock, statements of two concurrent handlers would land inside each other's
transaction. WAL with `synchronous=FULL` makes each commit durable (fsynced) before the user
is told anything: where Kibaru runs, power cuts are common.

Under load, a batch of updates is handled in one group (`Database.grouped`): every
`transaction()` of the group's task joins one write transaction, committed (one fsync) when the
group ends, and only then are the users told anything. A commit per update made the fsync and
two thread trips the largest cost per update; a group pays them once per batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

Connection = aiosqlite.Connection
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


async def fetch_one(
    conn: Connection, sql: str, params: tuple[object, ...] = ()
) -> sqlite3.Row | None:
    """One row in one trip to the database thread (execute + fetchone would be two)."""
    rows = list(await conn.execute_fetchall(sql, params))
    return rows[0] if rows else None


async def fetch_all(
    conn: Connection, sql: str, params: tuple[object, ...] = ()
) -> list[sqlite3.Row]:
    return list(await conn.execute_fetchall(sql, params))


async def _version(conn: Connection) -> int:
    row = await fetch_one(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
    return int(row[0]) if row else 0


def split_statements(script: str) -> list[str]:
    """The statements of a migration file, one by one (triggers' BEGIN...END kept whole).

    `executescript` would commit any open transaction first, which would leave a migration
    half-applied after a failure; executing statement by statement keeps it in one.
    """
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if _has_code(statement):
                statements.append(statement)
            buffer = ""
    if _has_code(buffer):
        raise ValueError("a migration ends with an incomplete SQL statement")
    return statements


def _has_code(sql: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in sql.splitlines())


def to_db(moment: datetime) -> str:
    """Store instants as ISO 8601 UTC text: sortable, readable, portable to PostgreSQL."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_db(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The numbered `.sql` files shipped in `storage/migrations`, in order."""
    found: list[Migration] = []
    folder = resources.files("storage") / "migrations"
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


#: tries of the switch to WAL while another process holds the file (see `_use_wal`)
WAL_ATTEMPTS = 40


async def _use_wal(connection: Connection) -> None:
    """Turn the file to WAL. SQLite answers "locked" at once, without waiting out the busy
    timeout, when two processes open a new file at the same moment (the bot and a console,
    or a restart under systemd): the switch is tried again, a few milliseconds apart."""
    for attempt in range(WAL_ATTEMPTS):
        try:
            await connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt + 1 == WAL_ATTEMPTS:
                raise
            await asyncio.sleep(0.005 * (attempt + 1))


class Database:
    def __init__(self, connection: Connection, path: Path | str) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()
        self.path = path
        #: the task whose `grouped()` block holds the open write transaction, if any
        self._group_task: asyncio.Task[object] | None = None
        #: what to do once the open transaction is durably committed (dropped on rollback)
        self._after_commit: list[Callable[[], None]] = []

    @classmethod
    async def open(
        cls,
        path: Path | str,
        migrations: list[Migration] | None = None,
        now: datetime | None = None,
    ) -> Database:
        connection = await aiosqlite.connect(str(path), isolation_level=None)
        connection.row_factory = aiosqlite.Row
        database = cls(connection, path)
        try:
            await connection.execute("PRAGMA busy_timeout=5000")
            await _use_wal(connection)
            await connection.execute("PRAGMA synchronous=FULL")
            await connection.execute("PRAGMA foreign_keys=ON")
            await database.migrate(
                bundled_migrations() if migrations is None else migrations,
                now or datetime.now(UTC),
            )
        except BaseException:
            await connection.close()  # its thread would outlive the event loop
            raise
        return database

    async def close(self) -> None:
        async with self._lock:
            await self._connection.close()

    def _in_group(self) -> bool:
        return self._group_task is not None and asyncio.current_task() is self._group_task

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A write transaction: committed (and fsynced) when the block ends, else rolled back.

        Inside `grouped()` (same task) it joins the group's transaction instead: an error
        then fails the whole group, which the caller replays one transaction at a time.
        """
        if self._in_group():
            yield self._connection
            return
        async with self._lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                await self._rollback()
                raise
            await self._commit()

    @asynccontextmanager
    async def grouped(self) -> AsyncIterator[None]:
        """One write transaction for several handlers: all committed together, or none.

        Nothing may be told to a user about a write before the group's block has ended.
        """
        if self._in_group():
            yield
            return
        async with self._lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            self._group_task = asyncio.current_task()
            try:
                yield
            except BaseException:
                self._group_task = None
                await self._rollback()
                raise
            self._group_task = None
            await self._commit()

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the current transaction is committed, never if it is rolled
        back (deleting a file the database still refers to must wait for the commit)."""
        self._after_commit.append(action)

    async def _commit(self) -> None:
        try:
            await self._connection.execute("COMMIT")
        except BaseException:
            await self._rollback()
            raise
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            try:
                action()
            except Exception as error:  # the data is committed; a clean-up is not worth failing
                log.warning("after-commit action failed: %s", type(error).__name__)

    async def _rollback(self) -> None:
        self._after_commit.clear()
        with contextlib.suppress(sqlite3.OperationalError):  # no transaction left to undo
            await self._connection.execute("ROLLBACK")

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Connection]:
        """Reads outside a transaction, never interleaved with another handler's writes."""
        if self._in_group():
            yield self._connection
            return
        async with self._lock:
            yield self._connection

    async def schema_version(self) -> int:
        async with self.reading() as conn:
            return await _version(conn)

    async def migrate(self, migrations: list[Migration], now: datetime) -> None:
        """Apply, each in its own transaction, the migrations newer than the recorded version.

        The version is read again inside each write transaction, so two processes starting
        on the same file at once (the bot and a console) never apply a migration twice.
        """
        async with self._lock:
            conn = self._connection
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            for migration in migrations:
                if migration.version <= await _version(conn):
                    continue
                await conn.execute("BEGIN IMMEDIATE")
                try:
                    if migration.version > await _version(conn):
                        log.info("applying migration %04d_%s", migration.version, migration.name)
                        for statement in split_statements(migration.sql):
                            await conn.execute(statement)
                        await conn.execute(
                            "INSERT INTO schema_migrations (version, name, applied_at)"
                            " VALUES (?, ?, ?)",
                            (migration.version, migration.name, to_db(now)),
                        )
                except BaseException:
                    await conn.execute("ROLLBACK")
                    raise
                await conn.execute("COMMIT")

    async def integrity_ok(self) -> bool:
        async with self.reading() as conn:
            row = await fetch_one(conn, "PRAGMA integrity_check")
        return row is not None and row[0] == "ok"
