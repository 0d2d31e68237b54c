"""Sending the weekly report and the monthly bulletin on schedule, through the outbox.

A run reads the due period and its figures, draws one chart per language among the
recipients (outside any transaction: drawing takes a moment and must not hold the database),
then, in one transaction, records the run and queues one outbox row per recipient, keyed by
(period, recipient). A crash before that commit leaves the period due: it is sent at the next
start. After it, the run is recorded and the rows are queued: nothing is sent twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from bot.clock import Clock
from bot.files import remove_files
from bot.i18n import Catalogs, Translator
from bot.settings import Settings
from handlers.bulletins.chart import render
from handlers.bulletins.figures import PeriodFigures, gather
from handlers.bulletins.schedule import MONTHLY, WEEKLY, due_period
from handlers.bulletins.text import report_text
from handlers.ccsc.figures import Period
from storage import bulletins, outbox
from storage.database import Database
from storage.outbox import Outgoing

log = logging.getLogger(__name__)

#: a chart file stays at least this long (a reply being sent, a run being committed)
CHART_GRACE = timedelta(hours=1)


def batch_of(kind: str, period: Period) -> str:
    """The outbox batch of one scheduled report: its rows, its chart files."""
    return f"bulletin:{kind}:{period.start.isoformat()}"


def chart_path(settings: Settings, name: str, t: Translator) -> Path:
    return settings.charts_dir / f"{name}-{t.language}.png"


async def _charts(
    settings: Settings, translators: list[Translator], found: PeriodFigures, name: str
) -> dict[str, Path]:
    """language -> chart file, for each language among the recipients. A chart that cannot
    be written (disk full, folder not writable) is left out: the text still goes."""
    drawn: dict[str, Path] = {}
    for t in translators:
        try:
            path = await render(t, found, chart_path(settings, name, t))
        except OSError as error:
            log.warning("bulletin chart not written: %s", type(error).__name__)
            continue
        if path is not None:
            drawn[t.language] = path
    return drawn


async def run_due(
    db: Database, clock: Clock, settings: Settings, catalogs: Catalogs, kind: str
) -> str | None:
    """Queue the report of `kind` if one is due and unsent; what was done, for the log."""
    when = settings.weekly_report if kind == WEEKLY else settings.monthly_bulletin
    if when is None:
        return None
    now = clock.now()
    zone = settings.timezone
    async with db.reading() as conn:
        recorded = await bulletins.recorded_periods(conn, kind)
        since = await bulletins.bulletins_since(conn)
        period = due_period(kind, when, now, zone, recorded, since)
        if period is None:
            return None
        found = await gather(
            conn,
            period,
            zone,
            now,
            with_ccsc=kind == MONTHLY,
            youth_max_age=settings.youth_max_age,
        )
        people = await bulletins.recipients(conn)
    translators = {
        user.id: catalogs.get(user.language or settings.default_language) for user in people
    }
    languages = {t.language: t for t in translators.values()}
    batch = batch_of(kind, period)
    name = f"{kind}-{period.start.isoformat()}"
    charts = await _charts(settings, list(languages.values()), found, name)
    texts = {language: report_text(t, found) for language, t in languages.items()}
    async with db.transaction() as conn:
        if (
            await bulletins.record_run(conn, kind, period.start, period.end, now, len(people))
            is None
        ):
            return None  # another run got there first
        for path in charts.values():
            await bulletins.record_chart(conn, str(path), batch, now)
        for user in people:
            language = translators[user.id].language
            files = (("photo", str(charts[language])),) if language in charts else ()
            await outbox.enqueue(
                conn,
                key=f"{batch}:{user.id}",
                kind="bulletin",
                channel=user.channel,
                chat_id=user.chat_id,
                user_id=user.id,
                outgoing=Outgoing(texts[language], files=files),
                now=now,
                batch=batch,
            )
    log.info("%s report of %s queued for %d recipient(s)", kind, period.start, len(people))
    return f"{kind} {period.start.isoformat()}: {len(people)} recipient(s)"


async def purge_charts(db: Database, clock: Clock) -> int:
    """Delete the chart files whose messages are all sent (or given up): hourly."""
    async with db.transaction() as conn:
        done = await bulletins.charts_done(conn, clock.now() - CHART_GRACE)
        await bulletins.forget_charts(conn, done)
    remove_files(done)
    return len(done)
