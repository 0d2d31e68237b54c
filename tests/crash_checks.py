"""What the crash suite reads in the database (tests/test_crash.py): right after each kill,
before the restart, and at the end. Plain sqlite3 on the file, as an operator would.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.bot_api_emulator import SentMessage

#: an outbox message as a person receives it: (chat, text, is an edit)
Delivery = tuple[int, str, bool]


def _connect(database: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(database, timeout=10))


def delivery_of(chat_id: str, payload: str) -> Delivery:
    data = json.loads(payload)
    return int(chat_id), str(data["text"]), data.get("edit_message_id") is not None


@dataclass
class AfterKill:
    """The database as the killed process left it."""

    integrity: str
    #: outbox rows marked "sending": claimed, maybe delivered, not written back
    in_flight: list[Delivery]
    #: reference -> the reporter's chat
    reports: dict[str, int]
    #: chat -> "flow:step" of the conversation's current question
    steps: dict[int, str]


def after_kill(database: Path) -> AfterKill:
    with _connect(database) as conn:
        integrity = "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
        broken_links = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken_links:
            integrity += f"; {len(broken_links)} foreign keys broken"
        in_flight = [
            delivery_of(chat, payload)
            for chat, payload in conn.execute(
                "SELECT chat_id, payload FROM outbox WHERE status = 'sending'"
            )
        ]
        reports = {
            reference: int(chat)
            for reference, chat in conn.execute(
                "SELECT r.reference, u.chat_id FROM reports r JOIN users u ON u.id = r.reporter_id"
            )
        }
        steps = {}
        for chat, frames in conn.execute(
            "SELECT u.chat_id, c.frames FROM conversations c JOIN users u ON u.id = c.user_id"
        ):
            top = json.loads(frames)[-1]
            steps[int(chat)] = f"{top['flow']}:{top['step']}"
    return AfterKill(integrity, in_flight, reports, steps)


@dataclass
class Outbox:
    """The outbox at the end, against what the emulator delivered."""

    by_status: Counter[str]
    #: rows neither sent nor rightly left behind (cancelled, or queued for later)
    unfinished: list[str]
    #: outbox messages delivered more often than queued: delivery -> extra copies
    duplicates: dict[Delivery, int]
    #: rows marked sent that never reached their chat
    missing: list[Delivery]


def outbox_at_end(database: Path, sent: Iterable[SentMessage]) -> Outbox:
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    with _connect(database) as conn:
        rows = list(
            conn.execute("SELECT key, kind, status, chat_id, payload, not_before FROM outbox")
        )
    by_status = Counter(f"{kind} {status}" for _, kind, status, _, _, _ in rows)
    unfinished = [
        f"{key} {status}"
        for key, _, status, _, _, not_before in rows
        if status in ("sending", "failed", "blocked")
        or (status == "queued" and (not_before is None or not_before <= now))
    ]
    queued = Counter(
        delivery_of(chat, payload) for _, _, status, chat, payload, _ in rows if status == "sent"
    )
    delivered = Counter((m.chat_id, m.text or "", m.is_edit) for m in sent)
    duplicates = {d: delivered[d] - n for d, n in queued.items() if delivered[d] > n}
    missing = [d for d, n in queued.items() if delivered[d] < n]
    return Outbox(by_status, unfinished, duplicates, missing)


@dataclass
class People:
    """What the database says about the people's own doings."""

    #: chat -> reports filed
    reports: Counter[int]
    #: reference -> chat, every report
    references: dict[str, int]
    #: chat -> "flow:step" of the conversation's current question
    steps: dict[int, str]
    #: chats with a report half done
    drafts: set[int]
    #: chat -> its answer to the invitation of `session`
    rsvp: dict[int, str | None]
    #: references validated
    validated: set[str]
    #: chat -> files of its reports and drafts
    files: Counter[int]
    #: files not downloaded, or not whole on disk
    files_missing: list[str]
    integrity: str


def people_at_end(database: Path, session: int) -> People:
    at_end = after_kill(database)
    with _connect(database) as conn:
        reports = Counter(int(chat) for chat in at_end.reports.values())
        drafts = {
            int(chat)
            for (chat,) in conn.execute(
                "SELECT u.chat_id FROM report_drafts d JOIN users u ON u.id = d.user_id"
            )
        }
        rsvp = {
            int(chat): answer
            for chat, answer in conn.execute(
                "SELECT u.chat_id, i.answer FROM invitations i JOIN users u ON u.id = i.user_id"
                " WHERE i.session_id = ?",
                (session,),
            )
        }
        validated = {
            reference
            for (reference,) in conn.execute(
                "SELECT r.reference FROM review_decisions d JOIN reports r ON r.id = d.report_id"
                " WHERE d.decision = 'validated'"
            )
        }
        files: Counter[int] = Counter()
        files_missing = []
        for chat, path, size in conn.execute(
            "SELECT u.chat_id, m.local_path, m.size FROM report_media m"
            " LEFT JOIN reports r ON r.id = m.report_id"
            " JOIN users u ON u.id = COALESCE(r.reporter_id, m.draft_owner)"
        ):
            files[int(chat)] += 1
            if path is None or not Path(path).is_file() or Path(path).stat().st_size != size:
                files_missing.append(f"{chat}: {path}")
    return People(
        reports,
        at_end.reports,
        at_end.steps,
        drafts,
        rsvp,
        validated,
        files,
        files_missing,
        at_end.integrity,
    )
