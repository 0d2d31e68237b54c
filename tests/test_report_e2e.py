"""Reports end to end: the real Telegram adapter against the Bot API emulator, media downloads,
the draft purge job."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from telegram import File
from telegram.error import NetworkError

from bot.app import Kibaru
from bot.channels.telegram import TelegramChannel
from bot.clock import ManualClock
from bot.scheduler import Jobs
from bot.settings import Settings
from handlers.report.flow import purge_expired_drafts
from storage import reports, users
from tests.bot_api_emulator import BotApiEmulator, SentMessage, SimUser
from tests.telegram_harness import running_bot

NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)


@pytest.fixture
def tg_settings(db_path: Path, tmp_path: Path, emulator: BotApiEmulator) -> Settings:
    return Settings(
        telegram_token=emulator.token,
        telegram_api_url=emulator.base_url,
        database_path=db_path,
        timezone=ZoneInfo("Africa/Bamako"),
        media_dir=tmp_path / "media",
        # one person takes dozens of steps while the manual clock stands still: no flood
        # control here (tests/test_flood.py tests it)
        flood_burst=1000,
    )


@pytest.fixture
async def channel(tg_settings: Settings) -> AsyncIterator[TelegramChannel]:
    async with running_bot(tg_settings, ManualClock(NOW)) as running:
        yield running


class Phone:
    """A user's phone: act, then read the bot's answers to that action."""

    def __init__(self, emulator: BotApiEmulator, user: SimUser) -> None:
        self.emulator = emulator
        self.user = user

    async def do(self, action: str, *args: object, replies: int = 1) -> list[SentMessage]:
        before = len(self.emulator.messages_to(self.user.user_id))
        await getattr(self.user, action)(*args)
        await self.emulator.wait_for_messages(self.user.user_id, before + replies)
        return self.emulator.messages_to(self.user.user_id)[before:]

    @property
    def last(self) -> SentMessage:
        return self.emulator.messages_to(self.user.user_id)[-1]


async def test_french_report_with_pin_and_photo(
    emulator: BotApiEmulator, channel: TelegramChannel, tg_settings: Settings
) -> None:
    phone = Phone(emulator, emulator.user(601, "Awa", "fr"))
    await phone.do("send_text", "/start")
    await phone.do("press", "Français")
    [question] = await phone.do("press", "🚨 Signaler un incident")
    assert len(question.button_labels) == 17 + 2  # categories, back, cancel
    await phone.do("press", "Attaque armée")
    await phone.do("press", "Hier")
    [where] = await phone.do("press", "Le soir")
    assert [b.get("request_location") for b in where.keyboard][:1] == [True]
    received, detail = await phone.do("send_location", 14.3489, -3.6094, replies=2)
    assert received.removes_keyboard and "Position reçue" in (received.text or "")
    assert "préciser le lieu" in (detail.text or "")
    await phone.do("press", "Passer")
    await phone.do("send_text", "Des hommes armés ont attaqué le marché de Boni")
    await phone.do("press", "Non, personne")
    [more] = await phone.do("send_photo", 80_000)
    assert "1 fichier reçu" in (more.text or "")
    await phone.do("press", "Terminé")
    [summary] = await phone.do("press", "Rester anonyme")
    assert "Fichiers : 1" in (summary.text or "")
    [receipt] = await phone.do("press", "Envoyer")  # the receipt on top of the menu
    assert "ML-2026-000001" in (receipt.text or "")
    assert (receipt.text or "").endswith("Que voulez-vous faire ?")
    await channel.downloads.idle()
    with sqlite3.connect(tg_settings.database_path) as conn:
        [(path,)] = conn.execute("SELECT local_path FROM report_media").fetchall()
        [(precision, lat)] = conn.execute("SELECT precision, latitude FROM reports").fetchall()
    assert Path(path).is_file() and Path(path).parent == tg_settings.media_dir
    assert (precision, lat) == ("exact_pin", 14.3489)


async def test_bambara_report_with_commune_and_voice_note(
    emulator: BotApiEmulator, channel: TelegramChannel, tg_settings: Settings
) -> None:
    phone = Phone(emulator, emulator.user(602, "Moussa", "bm"))
    await phone.do("send_text", "/start")
    await phone.do("press", "Bamanankan")
    await phone.do("send_text", "/signaler")
    await phone.do("send_text", "13")  # epidemic, by number
    await phone.do("send_text", "2")  # today
    [where] = await phone.do("send_text", "3")  # evening → the location question
    assert where.keyboard
    list_key = where.keyboard[1]["text"]
    _, regions = await phone.do("send_text", list_key, replies=2)
    assert "Bamako" in regions.button_labels
    [communes] = await phone.do("press", "Bamako")
    assert communes.button_labels[:6] == [
        f"Commune {n}" for n in ["I", "II", "III", "IV", "V", "VI"]
    ]
    await phone.do("press", "Commune VI")
    await phone.do("send_text", "skip")
    await phone.do("send_voice", 42)
    await phone.do("send_text", "3")  # people: don't know
    await phone.do("send_text", "skip")
    await phone.do("send_text", "1")  # anonymous
    [receipt] = await phone.do("send_text", "1")  # send
    assert "ML-2026-000001" in (receipt.text or "")
    await channel.downloads.idle()
    with sqlite3.connect(tg_settings.database_path) as conn:
        [(cercle, language, day_period)] = conn.execute(
            "SELECT cercle, language, day_period FROM reports"
        ).fetchall()
        [(kind, purpose, path)] = conn.execute(
            "SELECT kind, purpose, local_path FROM report_media"
        ).fetchall()
    assert (cercle, language) == ("bamako_c6", "bm")
    assert day_period == "evening"
    assert (kind, purpose) == ("voice", "description") and Path(path).is_file()


async def _pending_photo(kibaru: Kibaru, emulator: BotApiEmulator, content: bytes) -> int:
    """A photo kept in a draft, not downloaded yet; its id."""
    emulator.add_file("AgACphoto", content, "photos/file_9.jpg")
    async with kibaru.db.transaction() as conn:
        user, _ = await users.get_or_create(conn, "telegram", "605", NOW)
        return await reports.add_draft_media(
            conn,
            user.id,
            "evidence",
            "photo",
            "telegram",
            "AgACphoto",
            len(content),
            None,
            None,
            None,
            NOW,
        )


def _local_path(settings: Settings) -> str | None:
    with sqlite3.connect(settings.database_path) as conn:
        [(path,)] = conn.execute("SELECT local_path FROM report_media").fetchall()
    return path


async def test_a_file_is_on_the_disk_before_the_database_names_it(
    emulator: BotApiEmulator, tg_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a power cut a recorded file must be whole: its data and its name are flushed
    to the disk before the database records it (a crash mid-way leaves it to fetch again)."""
    events: list[tuple[str, str]] = []
    real_fsync, real_record = os.fsync, reports.set_local_path

    def fsync(fd: int) -> None:
        events.append(("flushed", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    async def record(conn: object, media_id: int, path: str) -> None:
        events.append(("recorded", path))
        await real_record(conn, media_id, path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(reports, "set_local_path", record)
    content = bytes(range(256)) * 300
    async with running_bot(tg_settings, ManualClock(NOW)) as channel:
        media_id = await _pending_photo(channel.kibaru, emulator, content)
        channel.downloads.kick()
        await channel.downloads.idle()
    final = tg_settings.media_dir / f"{media_id:08d}-photo.jpg"
    assert events == [
        ("flushed", f"{final}.part"),
        ("flushed", str(tg_settings.media_dir)),
        ("recorded", str(final)),
    ]
    assert final.read_bytes() == content
    assert [p.name for p in tg_settings.media_dir.iterdir()] == [final.name]


async def test_a_download_cut_midway_leaves_nothing_under_the_files_name(
    emulator: BotApiEmulator, tg_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = b"jpeg" * 5000
    real_download = File.download_to_drive

    async def cut(self: File, custom_path: Path | None = None, **kwargs: object) -> Path:
        assert custom_path is not None
        custom_path.write_bytes(content[:1000])
        raise NetworkError("connection reset")

    monkeypatch.setattr(File, "download_to_drive", cut)
    async with running_bot(tg_settings, ManualClock(NOW)) as channel:
        await _pending_photo(channel.kibaru, emulator, content)
        channel.downloads.kick()
        await channel.downloads.idle()
    assert list(tg_settings.media_dir.iterdir()) == []  # no part file, nothing named
    assert _local_path(tg_settings) is None  # still to fetch
    monkeypatch.setattr(File, "download_to_drive", real_download)
    async with running_bot(tg_settings, ManualClock(NOW)) as channel:  # the next start
        await channel.downloads.idle()
    path = _local_path(tg_settings)
    assert path is not None and Path(path).read_bytes() == content


async def test_expired_drafts_are_purged_with_their_files(
    settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    kibaru = await Kibaru.open(settings, clock)
    try:
        kept = tmp_path / "draft-photo.jpg"
        kept.write_bytes(b"jpeg")
        async with kibaru.db.transaction() as conn:
            user, _ = await users.get_or_create(conn, "telegram", "9", clock.now())
            await reports.save_draft(conn, user.id, {"category": "other"}, "when", clock.now())
            media_id = await reports.add_draft_media(
                conn,
                user.id,
                "evidence",
                "photo",
                "telegram",
                "F",
                4,
                None,
                None,
                None,
                clock.now(),
            )
            await reports.set_local_path(conn, media_id, str(kept))
        clock.advance(hours=71)
        assert await purge_expired_drafts(kibaru.db, clock) == 0
        clock.advance(hours=2)
        assert await purge_expired_drafts(kibaru.db, clock) == 1
        assert not kept.exists()
        async with kibaru.db.reading() as conn:
            assert await reports.load_draft(conn, user.id) is None
    finally:
        await kibaru.close()


async def test_jobs_run_at_start_up(settings: Settings, clock: ManualClock) -> None:
    kibaru = await Kibaru.open(settings, clock)
    ran = asyncio.Event()

    async def probe() -> str:
        ran.set()
        return "ok"

    kicked = asyncio.Event()
    jobs = Jobs(kibaru, kick=kicked.set)
    jobs.add("probe", timedelta(hours=1), probe)
    jobs.start()
    try:
        await asyncio.wait_for(ran.wait(), 10)
        await asyncio.wait_for(kicked.wait(), 10)  # the outbox tick runs at start-up too
        assert {job.id for job in jobs.scheduler.get_jobs()} == {
            "probe",
            "purge_expired_drafts",
            "escalate_overdue_reviews",
            "session_rules",
            "weekly_report",
            "monthly_report",
            "purge_bulletin_charts",
            "outbox_tick",
            "purge_exports",
        }
    finally:
        jobs.stop()
        await kibaru.close()


# (action, argument, replies expected) for a whole report through Telegram
REPORT_SCRIPT: list[tuple[str, object, int]] = [
    ("send_text", "/start", 1),
    ("press", "Français", 1),
    ("send_text", "/signaler", 1),
    ("press", "Vol / banditisme", 1),
    ("press", "Un autre jour", 1),
    ("send_text", "10/03", 1),
    ("send_text", "8h du matin", 1),
    ("send_text", "Ségou", 2),
    ("press", "Markala", 1),
    ("send_text", "route de Niono", 1),
    ("send_text", "Des bandits ont volé vingt bœufs", 1),
    ("press", "Non, personne", 1),
    ("press", "Passer", 1),
    ("press", "Oui, par Kibaru", 1),
    ("press", "Envoyer", 1),
]


def _report_row(settings: Settings) -> tuple[object, ...]:
    with sqlite3.connect(settings.database_path) as conn:
        rows = conn.execute(
            "SELECT reference, category, occurred_on, occurred_time, cercle, place_detail,"
            " description, killed, contact FROM reports"
        ).fetchall()
    assert len(rows) == 1, rows
    return tuple(rows[0])


EXPECTED_ROW = (
    "ML-2026-000001",
    "crime",
    "2026-03-10",
    "08:00",
    "segou_markala",
    "route de Niono",
    "Des bandits ont volé vingt bœufs",
    0,
    "via_bot",
)


async def test_restart_between_every_pair_of_steps(
    emulator: BotApiEmulator, tg_settings: Settings
) -> None:
    clock = ManualClock(NOW)
    phone = Phone(emulator, emulator.user(603, "Awa", "fr"))
    for action, argument, replies in REPORT_SCRIPT:
        async with running_bot(tg_settings, clock):  # a new bot for every single step
            before = len(emulator.messages_to(603))
            await phone.do(action, argument, replies=replies)
            # each step was answered exactly once: nothing repeated, nothing lost
            assert len(emulator.messages_to(603)) == before + replies
    assert _report_row(tg_settings) == EXPECTED_ROW


async def test_change_cancel_resume_and_expiry_through_telegram(
    emulator: BotApiEmulator, tg_settings: Settings
) -> None:
    clock = ManualClock(NOW)
    phone = Phone(emulator, emulator.user(604, "Awa", "fr"))
    async with running_bot(tg_settings, clock):
        for action, argument, replies in REPORT_SCRIPT[:-1]:
            await phone.do(action, argument, replies=replies)
        await phone.do("press", "Modifier")
        await phone.do("press", "Quand")
        await phone.do("press", "Hier")
        [summary] = await phone.do("press", "Le soir")
        assert "mercredi 11 mars 2026, le soir" in (summary.text or "")
        # cancel: the draft goes, nothing is stored
        [cancelled] = await phone.do("press", "Annuler")
        assert (cancelled.text or "").startswith("C'est annulé.")
        [fresh] = await phone.do("send_text", "/signaler")
        assert "Qu'avez-vous vu" in (fresh.text or "")
        # leave mid-way: the draft waits
        await phone.do("press", "Épidémie")
        await phone.do("send_text", "/menu")
    clock.advance(hours=20)
    async with running_bot(tg_settings, clock):
        [offer] = await phone.do("send_text", "/signaler")
        assert "signalement en cours (🦠 Épidémie)" in (offer.text or "")
        [resumed] = await phone.do("press", "Continuer")
        assert "Quand est-ce arrivé" in (resumed.text or "")
        await phone.do("send_text", "/menu")
    clock.advance(hours=73)
    async with running_bot(tg_settings, clock):
        [expired] = await phone.do("send_text", "/signaler")
        assert "Qu'avez-vous vu" in (expired.text or "")  # too old: dropped
    with sqlite3.connect(tg_settings.database_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 0


async def test_a_download_that_fails_is_tried_again_and_a_refused_one_is_not(
    emulator: BotApiEmulator, channel: TelegramChannel, tg_settings: Settings
) -> None:
    """A network failing costs a file a wait on the clock, not the file; a file id Telegram
    refuses waits for a restart instead of being asked for again and again."""
    emulator.add_file("AgACphoto-ok", b"jpeg-ok", "photos/ok.jpg")
    async with channel.kibaru.db.transaction() as conn:
        user, _ = await users.get_or_create(conn, "telegram", "650", NOW)
        ids = [
            await reports.add_draft_media(
                conn, user.id, "evidence", "photo", "telegram", file_id, 7, None, None, None, NOW
            )
            for file_id in ("AgACphoto-ok", "AgACphoto-gone")
        ]
    emulator.fail_next("getFile", 502, "Bad Gateway", times=2)
    started = channel.kibaru.clock.now()
    channel.downloads.kick()
    await channel.downloads.idle()
    with sqlite3.connect(tg_settings.database_path) as conn:
        paths = dict(conn.execute("SELECT id, local_path FROM report_media").fetchall())
    assert Path(paths[ids[0]]).read_bytes() == b"jpeg-ok"
    assert paths[ids[1]] is None  # "file not found": not retried in this run
    assert [c.error_code for c in emulator.calls_to("getFile")] == [502, 502, None, 400]
    assert (channel.kibaru.clock.now() - started).total_seconds() >= 2
