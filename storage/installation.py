"""Per-installation secrets, created at first use and kept in the database."""

from __future__ import annotations

import secrets

from storage.database import Connection, fetch_one


async def secret(conn: Connection, name: str) -> bytes:
    """A random 32-byte key for `name`, the same for the life of this database."""
    row = await fetch_one(conn, "SELECT value FROM installation WHERE name = ?", (name,))
    if row is None:
        await conn.execute(
            "INSERT OR IGNORE INTO installation (name, value) VALUES (?, ?)",
            (name, secrets.token_hex(32)),
        )
        row = await fetch_one(conn, "SELECT value FROM installation WHERE name = ?", (name,))
    assert row is not None
    return bytes.fromhex(str(row["value"]))
