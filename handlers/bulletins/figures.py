"""The figures of a period, built once for the weekly report, the monthly bulletin and /stats.

`gather` reads the database (storage/statistics.py); everything else is arithmetic on what it
read, so the tests can check it against totals computed by hand. CCS-C participation comes
from `handlers.ccsc.figures` (attendance_rows, figures): the bulletin and /participation must
never disagree on who was there.
"""

from __future__ import annotations

import statistics as stats
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from handlers.bulletins.periods import bounds, previous, weeks_in
from handlers.ccsc.figures import Figures, Participant, Period, attendance_rows, figures
from handlers.report import categories, places
from handlers.review.severity import SEVERITIES
from storage import committees, statistics
from storage.database import Connection
from storage.statistics import AlertFact, ReviewCounts

#: how many alerts "the most severe" lists
MOST_SEVERE = 5


@dataclass(frozen=True)
class CcscActivity:
    #: sessions held (not cancelled, started within the period)
    sessions: int
    #: participations at those sessions: women, youth, FSI
    present: Figures


def region_of(alert: AlertFact) -> str | None:
    """The alert's region code; from its cercle when only that was stored."""
    if alert.region:
        return alert.region
    found = places.cercle(alert.cercle or "")
    return found[0].code if found else None


def _casualties(alert: AlertFact) -> int:
    return (alert.killed or 0) + (alert.injured or 0) + (alert.missing or 0)


def _region_order(code: str | None) -> int:
    """Regions in the national order, the unknown last: ties in counts read as on a map key."""
    order = [r.code for r in places.REGIONS]
    return order.index(code) if code in order else len(order)


def _category_order(code: str) -> int:
    return categories.CODES.index(code) if code in categories.CODES else len(categories.CODES)


@dataclass(frozen=True)
class PeriodFigures:
    period: Period
    #: the period's validated alerts, oldest first
    alerts: tuple[AlertFact, ...]
    #: validated alerts of the period before (same kind, same length)
    previous_total: int
    review: ReviewCounts
    #: for each report validated in the period, how long it waited
    delays: tuple[timedelta, ...]
    #: None when not asked for (the weekly report has no CCS-C part)
    ccsc: CcscActivity | None
    #: the period has not ended yet (an on-demand report of the current week)
    in_progress: bool
    zone: tzinfo

    @property
    def total(self) -> int:
        return len(self.alerts)

    @property
    def change(self) -> int:
        return self.total - self.previous_total

    def by_severity(self) -> dict[int, int]:
        """Every level, most severe first, zeros included."""
        counted = Counter(a.severity for a in self.alerts)
        return {level: counted[level] for level in sorted(SEVERITIES, reverse=True)}

    def by_region(self) -> list[tuple[str | None, int]]:
        """(region code, alerts), most alerts first; None for alerts without a region."""
        counted = Counter(region_of(a) for a in self.alerts)
        return sorted(counted.items(), key=lambda item: (-item[1], _region_order(item[0])))

    def by_category(self) -> list[tuple[str, int]]:
        counted = Counter(a.category for a in self.alerts)
        return sorted(counted.items(), key=lambda item: (-item[1], _category_order(item[0])))

    def by_region_and_category(self) -> dict[str | None, dict[str, int]]:
        """Region -> category -> alerts, regions in the order of `by_region`."""
        table: dict[str | None, dict[str, int]] = {region: {} for region, _ in self.by_region()}
        for alert in self.alerts:
            row = table[region_of(alert)]
            row[alert.category] = row.get(alert.category, 0) + 1
        return table

    def most_severe(self, limit: int = MOST_SEVERE) -> list[AlertFact]:
        """The most severe first; among equals, the most people killed, injured or missing,
        then the most recent."""
        ranked = sorted(
            self.alerts,
            key=lambda a: (a.severity, _casualties(a), a.validated_at, a.reference),
            reverse=True,
        )
        return ranked[:limit]

    def by_week(self) -> list[tuple[Period, dict[int, int]]]:
        """For each week of the period (cut to it): alerts by severity, least severe first
        (the order the trend chart stacks them)."""
        weeks = weeks_in(self.period)
        table: list[tuple[Period, dict[int, int]]] = [
            (week, dict.fromkeys(sorted(SEVERITIES), 0)) for week in weeks
        ]
        for alert in self.alerts:
            day = alert.validated_at.astimezone(self.zone).date()
            for week, row in table:
                if week.start <= day < week.end:
                    row[alert.severity] += 1
                    break
        return table

    @property
    def median_delay(self) -> timedelta | None:
        if not self.delays:
            return None
        return timedelta(seconds=stats.median(d.total_seconds() for d in self.delays))


async def ccsc_activity(
    conn: Connection, start: datetime, end: datetime, youth_max_age: int
) -> CcscActivity:
    """Sessions held in [start, end) and who was present, over every committee."""
    present: list[Participant] = []
    for committee in await committees.all_committees(conn):
        present += await attendance_rows(conn, committee.id, start, end)
    held = await statistics.sessions_held(conn, start, end)
    return CcscActivity(held, figures(present, youth_max_age))


async def gather(
    conn: Connection,
    period: Period,
    zone: tzinfo,
    now: datetime,
    *,
    with_ccsc: bool = False,
    youth_max_age: int = 35,
) -> PeriodFigures:
    start, end = bounds(period, zone)
    before_start, before_end = bounds(previous(period), zone)
    activity = None
    if with_ccsc:
        activity = await ccsc_activity(conn, start, max(start, min(end, now)), youth_max_age)
    return PeriodFigures(
        period=period,
        alerts=tuple(await statistics.alerts(conn, start, end)),
        previous_total=await statistics.count_alerts(conn, before_start, before_end),
        review=await statistics.review_counts(conn, start, end),
        delays=tuple(await statistics.validation_delays(conn, start, end)),
        ccsc=activity,
        in_progress=end > now,
        zone=zone,
    )
