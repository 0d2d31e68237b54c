"""The CAP messages of a period's public alerts, as one zip file for partners.

CAP tools read one message per file, so the export is a zip of one `<reference>.xml` per
alert, each the very message the webhook sent (same identifier, same sent time): a partner who
received some of them live and loads the export de-duplicates them. Staff-only alerts are never
in it. Standalone, for the `/export` command's format registry (format `cap`):

    count = await write_cap_export(conn, start, end, path, catalogs, settings)

reads alerts created in [start, end) (aware datetimes) inside the caller's read transaction,
writes the zip at `path` and returns how many messages it holds (an empty zip when none).
"""

from __future__ import annotations

import asyncio
import zipfile
from datetime import datetime
from pathlib import Path

from bot.i18n import Catalogs
from bot.settings import Settings
from handlers.cap.message import LANGUAGES, cap_message
from storage.database import Connection, fetch_all, from_db, to_db
from storage.reports import COLUMNS, from_row
from storage.review import Alert, Audience

#: the columns of `COLUMNS` read from the reports table, under its alias
_REPORT_COLUMNS = ", ".join(f"r.{n.strip()} AS {n.strip()}" for n in COLUMNS.split(","))


async def write_cap_export(
    conn: Connection,
    start: datetime,
    end: datetime,
    path: Path,
    catalogs: Catalogs,
    settings: Settings,
) -> int:
    rows = await fetch_all(
        conn,
        f"SELECT {_REPORT_COLUMNS}, a.id AS alert_id, a.severity AS alert_severity,"
        " a.summary AS alert_summary, a.created_at AS alert_created_at"
        " FROM alerts a JOIN reports r ON r.id = a.report_id"
        " WHERE a.audience = ? AND a.created_at >= ? AND a.created_at < ?"
        " ORDER BY a.created_at, a.id",
        (Audience.PUBLIC.value, to_db(start), to_db(end)),
    )
    translators = [catalogs.get(language) for language in LANGUAGES]
    files: list[tuple[str, datetime, str]] = []
    for row in rows:
        report = from_row(row)
        created = from_db(row["alert_created_at"])
        alert = Alert(
            row["alert_id"],
            report.id,
            row["alert_severity"],
            Audience.PUBLIC,
            row["alert_summary"],
            created,
        )
        xml = cap_message(
            report, alert, translators, sender=settings.cap_sender, timezone=settings.timezone
        )
        files.append((f"{report.reference}.xml", created.astimezone(settings.timezone), xml))
    await asyncio.to_thread(_write_zip, path, files)
    return len(files)


def _write_zip(path: Path, files: list[tuple[str, datetime, str]]) -> None:
    """Each file dated when its alert was created (local time, as zip tools show it)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, moment, xml in files:
            info = zipfile.ZipInfo(name, date_time=moment.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, xml.encode("utf-8"))
