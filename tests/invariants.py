"""What "the stored state is valid" means, checked from the database alone after any event.

Derived from the schema (storage/migrations) and from what the code promises on top of it:
conversations only in registered flows and steps, answers as JSON objects, references
unique and without gaps per year, decisions and statuses that agree, invitations within
their capacity, outbox rows the sender can read, memberships that carry their role, no
personal data in the audit log. Each check says which row broke which rule.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.app import Kibaru
from bot.engine import Features
from bot.i18n import SHIPPED_LANGUAGES
from bot.inbound import ACTION_MARK
from bot.outbound import ActionMessage, Media, Message, Question
from handlers.report import categories, places
from handlers.report.flow import ORDER
from storage.database import from_db, to_db
from storage.outbox import Outgoing

REFERENCE = re.compile(r"ML-(\d{4})-(\d{6})")
#: Telegram: 64 bytes of callback data a button, 100 buttons a keyboard
MAX_DATA = 64
MAX_BUTTONS = 100


class Broken(AssertionError):
    """A rule of the stored state or of a reply does not hold."""


def _require(condition: object, what: str) -> None:
    if not condition:
        raise Broken(what)


def _rows(conn: sqlite3.Connection, sql: str, *values: object) -> list[dict[str, object]]:
    return [dict(row) for row in conn.execute(sql, values).fetchall()]


def check_replies(replies: Iterable[Message], features: Features) -> None:
    """What a channel must be able to send: a text (a caption may be empty), buttons whose
    data fits Telegram's 64 bytes, action buttons that name a registered action."""
    for message in replies:
        _require(isinstance(message, Media) or message.text.strip(), f"empty reply {message!r}")
        _require("Traceback" not in message.text, "a traceback in a reply")
        if isinstance(message, Question):
            buttons = (*message.choices, *message.navigation)
            _require(len(buttons) <= MAX_BUTTONS, f"{len(buttons)} buttons on a question")
            for button in buttons:
                data = f"{message.prompt}:{button.key}"
                _require(len(data.encode()) <= MAX_DATA, f"button data too long: {data!r}")
                _require(button.label.strip(), f"a button without a label: {button!r}")
        if isinstance(message, ActionMessage):
            buttons = [b for row in message.actions for b in row]
            _require(len(buttons) <= MAX_BUTTONS, f"{len(buttons)} action buttons")
            for button in buttons:
                check_action_data(button.key, features)
                _require(button.label.strip(), f"a button without a label: {button!r}")


def check_action_data(data: str, features: Features) -> None:
    _require(data.startswith(ACTION_MARK), f"action data without its mark: {data!r}")
    _require(len(data.encode()) <= MAX_DATA, f"action data too long: {data!r}")
    name = data[len(ACTION_MARK) :].split(":", maxsplit=1)[0]
    _require(name in features.actions, f"a button for no registered action: {data!r}")


def check_state(kibaru: Kibaru, private: Iterable[str] = ()) -> dict[str, tuple[str, str]]:
    """Every rule below, on the whole database; returns where each chat is (flow, step).

    Read through a connection of its own, without aiosqlite's thread: the checks run after
    every event of the fuzzer, and each query through the bot's connection is a round trip
    to another thread."""
    features = kibaru.conversations.features
    conn = sqlite3.connect(f"file:{kibaru.settings.database_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        problems = _rows(conn, "PRAGMA foreign_key_check")
        _require(not problems, f"foreign keys broken: {problems}")
        where = _conversations(conn, features)
        _drafts(conn)
        _users_and_roles(conn)
        _reports(conn, kibaru)
        _invitations(conn, kibaru.clock.now())
        _outbox(conn, features)
        _session_messages(conn)
        _alert_words(conn)
        _audit(conn, tuple(private))
    finally:
        conn.close()
    return where


def _conversations(conn: sqlite3.Connection, features: Features) -> dict[str, tuple[str, str]]:
    where: dict[str, tuple[str, str]] = {}
    for row in _rows(
        conn,
        "SELECT c.user_id, c.frames, c.prompt, u.chat_id FROM conversations c"
        " JOIN users u ON u.id = c.user_id",
    ):
        user = row["user_id"]
        frames = json.loads(str(row["frames"]))
        _require(isinstance(frames, list) and frames, f"user {user}: no frames")
        _require(frames[0]["flow"] == features.menu_flow, f"user {user}: not on the main menu")
        for frame in frames:
            flow = features.flows.get(frame["flow"])
            _require(flow is not None, f"user {user}: in unknown flow {frame['flow']!r}")
            assert flow is not None
            _require(frame["step"] in flow.steps, f"user {user}: unknown step {frame['step']!r}")
            _require(isinstance(frame.get("answers"), dict), f"user {user}: answers not an object")
            history = frame.get("history") or []
            _require(all(s in flow.steps for s in history), f"user {user}: history {history}")
        _require(int(str(row["prompt"])) >= 0, f"user {user}: negative prompt")
        where[str(row["chat_id"])] = (frames[-1]["flow"], frames[-1]["step"])
    return where


def _drafts(conn: sqlite3.Connection) -> None:
    for row in _rows(conn, "SELECT user_id, answers, step FROM report_drafts"):
        _require(isinstance(json.loads(str(row["answers"])), dict), f"draft {row}: not an object")
        _require(row["step"] in ORDER, f"draft of user {row['user_id']}: step {row['step']!r}")
    orphans = _rows(
        conn,
        "SELECT id FROM report_media WHERE report_id IS NULL AND draft_owner NOT IN"
        " (SELECT user_id FROM report_drafts)",
    )
    _require(not orphans, f"media of a draft that is gone (kept forever): {orphans}")


def _users_and_roles(conn: sqlite3.Connection) -> None:
    for row in _rows(conn, "SELECT id, language FROM users"):
        _require(row["language"] in (None, *SHIPPED_LANGUAGES), f"user {row}: language")
    codes = {str(r["code"]) for r in _rows(conn, "SELECT code FROM committees")}
    for row in _rows(conn, "SELECT user_id, role, scope FROM roles"):
        scope = str(row["scope"])
        _require(
            scope == "" or scope in codes or places.region(scope) or places.cercle(scope),
            f"role {row}: unknown scope",
        )
    missing = _rows(
        conn,
        "SELECT m.id, m.user_id, c.code FROM committee_members m"
        " JOIN committees c ON c.id = m.committee_id WHERE m.status = 'active' AND NOT EXISTS"
        " (SELECT 1 FROM roles r WHERE r.user_id = m.user_id AND r.role = 'ccsc_member'"
        " AND r.scope = c.code)",
    )
    _require(not missing, f"active members without their role: {missing}")
    for row in _rows(conn, "SELECT area_kind, area_code FROM subscriptions"):
        code = str(row["area_code"])
        _require(
            code == "" or places.region(code) or places.cercle(code), f"subscription {row}: area"
        )


def _reports(conn: sqlite3.Connection, kibaru: Kibaru) -> None:
    numbers: dict[int, list[int]] = defaultdict(list)
    zone = kibaru.settings.timezone
    for row in _rows(
        conn,
        "SELECT r.id, r.reference, r.created_at, r.category, r.region, r.cercle, r.language,"
        " r.status, d.decision, d.duplicate_of, a.id AS alert FROM reports r"
        " LEFT JOIN review_decisions d ON d.report_id = r.id"
        " LEFT JOIN alerts a ON a.report_id = r.id",
    ):
        found = REFERENCE.fullmatch(str(row["reference"]))
        _require(found, f"report {row['id']}: reference {row['reference']!r}")
        assert found is not None
        year = int(found.group(1))
        made: datetime = from_db(str(row["created_at"]))
        _require(made.astimezone(zone).year == year, f"report {row['id']}: year of reference")
        numbers[year].append(int(found.group(2)))
        _require(categories.by_code(str(row["category"])), f"report {row['id']}: category")
        _require(row["region"] is None or places.region(str(row["region"])), "report region")
        _require(row["cercle"] is None or places.cercle(str(row["cercle"])), "report cercle")
        _require(row["language"] in SHIPPED_LANGUAGES, f"report {row['id']}: language")
        decision, status = row["decision"], row["status"]
        if decision == "validated":
            _require(status == "validated", f"report {row['id']}: validated but {status}")
        elif decision is not None:
            _require(status == "rejected", f"report {row['id']}: {decision} but {status}")
        else:
            _require(status != "validated", f"report {row['id']}: validated without decision")
        _require(row["alert"] is None or decision == "validated", "an alert without validation")
        _require(row["duplicate_of"] != row["id"], f"report {row['id']}: its own duplicate")
    sent: dict[int, list[datetime]] = defaultdict(list)
    for row in _rows(conn, "SELECT reporter_id, created_at FROM reports WHERE reporter_id > 0"):
        sent[int(str(row["reporter_id"]))].append(from_db(str(row["created_at"])))
    limit, hour = kibaru.settings.reports_per_hour, timedelta(hours=1)
    for reporter, times in sent.items():
        times.sort()
        for i, moment in enumerate(times):
            within = sum(1 for t in times[: i + 1] if t > moment - hour)
            _require(within <= limit, f"user {reporter}: {within} reports within an hour")
    counters = {
        int(str(r["year"])): int(str(r["last"]))
        for r in _rows(conn, "SELECT year, last FROM report_counters")
    }
    for year, taken in numbers.items():
        _require(len(taken) == len(set(taken)), f"{year}: a reference given twice")
        _require(sorted(taken) == list(range(1, len(taken) + 1)), f"{year}: gaps {taken}")
        _require(counters.get(year) == len(taken), f"{year}: counter {counters.get(year)}")


def _invitations(conn: sqlite3.Connection, now: datetime) -> None:
    outsiders = _rows(
        conn,
        "SELECT i.session_id, i.user_id FROM invitations i JOIN sessions s ON s.id ="
        " i.session_id WHERE s.open_to IS NULL AND s.status = 'scheduled' AND s.starts_at > ?"
        " AND NOT EXISTS (SELECT 1 FROM committee_members m WHERE m.committee_id ="
        " s.committee_id AND m.user_id = i.user_id AND m.status = 'active')",
        to_db(now),
    )
    _require(not outsiders, f"invited to a committee's own session, not a member: {outsiders}")
    taken: Counter[int] = Counter()
    waiting: Counter[int] = Counter()
    capacity: dict[int, int | None] = {}
    for row in _rows(
        conn,
        "SELECT i.session_id, i.user_id, i.answer, i.answered_at, i.waitlisted, i.attended,"
        " s.capacity FROM invitations i JOIN sessions s ON s.id = i.session_id",
    ):
        session = int(str(row["session_id"]))
        capacity[session] = row["capacity"]  # type: ignore[assignment]
        _require(
            (row["answer"] is None) == (row["answered_at"] is None), f"invitation {row}: answered"
        )
        _require(not row["waitlisted"] or row["answer"] == "yes", f"invitation {row}: waiting")
        if row["answer"] == "yes" and not row["waitlisted"]:
            taken[session] += 1
        if row["waitlisted"]:
            waiting[session] += 1
    for session, places_left in capacity.items():
        if places_left is None:
            _require(not waiting[session], f"session {session}: a waiting list without a limit")
            continue
        _require(taken[session] <= places_left, f"session {session}: over capacity")
        _require(
            not waiting[session] or taken[session] == places_left,
            f"session {session}: people waiting while a place is free",
        )
    for row in _rows(
        conn, "SELECT id, committee_id, open_to, open_committee, capacity FROM sessions"
    ):
        if row["open_to"] == "committee":
            _require(row["open_committee"] not in (None, row["committee_id"]), f"session {row}")
        _require(row["capacity"] is None or int(str(row["capacity"])) >= 1, f"session {row}")


def _outbox(conn: sqlite3.Connection, features: Features) -> None:
    for row in _rows(conn, "SELECT id, key, chat_id, status, payload FROM outbox"):
        outgoing = Outgoing.from_json(str(row["payload"]))
        _require(
            outgoing.text.strip() or outgoing.media or outgoing.files, f"outbox {row['key']}: empty"
        )
        for line in outgoing.buttons:
            for _label, data in line:
                check_action_data(data, features)
        _require(
            row["chat_id"] != "" or row["status"] not in ("queued", "sending"),
            f"outbox {row['key']}: still to send to a forgotten person",
        )
    posts = _rows(
        conn,
        "SELECT o.key, d.decision FROM outbox o JOIN reports r"
        " ON o.key = 'review:' || r.id || ':' || o.chat_id"
        " LEFT JOIN review_decisions d ON d.report_id = r.id"
        " WHERE o.status = 'queued' AND o.kind = 'review' AND (d.decision IS NOT NULL OR"
        " (o.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM roles x WHERE"
        " x.user_id = o.user_id AND x.role IN ('validator', 'coordinator')"
        " AND x.scope IN ('', r.region, r.cercle))))",
    )
    _require(not posts, f"review posts still to send, decided or to someone not reviewing: {posts}")
    paused = _rows(
        conn,
        "SELECT o.key FROM outbox o JOIN alert_pauses p ON p.user_id = o.user_id"
        " WHERE o.status = 'queued' AND o.kind IN ('alert', 'digest')",
    )
    _require(not paused, f"alerts still to send to people who said STOP: {paused}")


def _alert_words(conn: sqlite3.Connection) -> None:
    """An alert goes to many people: built from structured fields (the typed locality and
    the validator's summary included), never from the reporter's own words, place details
    or phone number, which can point to who reported."""
    for row in _rows(
        conn,
        "SELECT o.key, o.payload, r.description, r.place_detail, r.contact_phone, r.locality,"
        " a.summary FROM outbox o JOIN alerts a ON o.key LIKE 'alert:' || a.id || ':%'"
        " JOIN reports r ON r.id = a.report_id WHERE o.kind = 'alert'",
    ):
        text = Outgoing.from_json(str(row["payload"])).text
        allowed = f"{row['summary'] or ''} {row['locality'] or ''}"
        for field in ("description", "place_detail", "contact_phone"):
            words = str(row[field] or "").strip()
            if len(words) >= 8 and words not in allowed:
                _require(words not in text, f"{row['key']}: the reporter's {field} in an alert")


def _session_messages(conn: sqlite3.Connection) -> None:
    """Reminders still to send go to people who said yes or maybe (not waiting for a place)
    and expire when the session starts; roll calls wait for the start. A moved session takes
    them along, a cancelled one stops them."""
    sessions = {
        int(str(r["id"])): r for r in _rows(conn, "SELECT id, starts_at, status FROM sessions")
    }
    answers = {
        (int(str(r["session_id"])), int(str(r["user_id"]))): r
        for r in _rows(conn, "SELECT session_id, user_id, answer, waitlisted FROM invitations")
    }
    once: Counter[str] = Counter()
    for row in _rows(
        conn,
        "SELECT key, kind, batch, not_before, expires_at FROM outbox"
        " WHERE status = 'queued' AND kind IN ('reminder', 'roll_call')",
    ):
        parts = str(row["key"]).split(":")
        # one reminder per person, session and delay; one roll call per session
        once[":".join(parts[:4] if row["kind"] == "reminder" else parts[:2])] += 1
        session = sessions.get(int(parts[1]))
        _require(session is not None, f"{row['key']}: no such session")
        assert session is not None
        _require(session["status"] == "scheduled", f"{row['key']}: session {session['status']}")
        starts = from_db(str(session["starts_at"]))
        if row["kind"] == "roll_call":
            _require(from_db(str(row["not_before"])) == starts, f"{row['key']}: not at the start")
            continue
        _require(from_db(str(row["expires_at"])) == starts, f"{row['key']}: expiry off the start")
        _require(from_db(str(row["not_before"])) < starts, f"{row['key']}: after the start")
        invitation = answers.get((int(parts[1]), int(parts[2])))
        _require(
            invitation is not None
            and invitation["answer"] in ("yes", "maybe")
            and not invitation["waitlisted"],
            f"{row['key']}: a reminder for {invitation}",
        )
    twice = [what for what, n in once.items() if n > 1]
    _require(not twice, f"queued twice: {twice}")


def _audit(conn: sqlite3.Connection, private: tuple[str, ...]) -> None:
    names = _rows(
        conn,
        "SELECT report_id FROM review_decisions WHERE decided_by IS NULL"
        " AND decided_by_name IS NOT NULL",
    )
    _require(not names, f"the name of staff who deleted their data, kept: {names}")
    if not private:
        return
    for row in _rows(conn, "SELECT action, subject, detail FROM audit_log"):
        written = f"{row['subject']} {row['detail']}"
        for secret in private:
            _require(secret not in written, f"personal data in the audit log: {row}")
