"""Participation figures as coordinators report them: "504 participants, of whom 91 women
(18 %), 165 youth (33 %) and 94 FSI members".

The arithmetic is a pure function over (sex, age group, member type) tuples, tested against
hand-computed totals; `attendance_rows` reads those tuples from the sessions' invitations once
that table exists (it belongs to the sessions feature).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from storage.database import Connection, fetch_all, to_db

#: age groups and the oldest age each one holds (over_35 has no upper bound)
AGE_GROUP_MAX: dict[str, int | None] = {"under_18": 17, "18_24": 24, "25_35": 35, "over_35": None}

#: a participant: (sex, age group, member type); type is None for non-members of open sessions
Participant = tuple[str | None, str | None, str | None]


def youth_groups(youth_max_age: int) -> frozenset[str]:
    """The age groups whose oldest age is at most `youth_max_age` (35 → the first three)."""
    return frozenset(
        group
        for group, oldest in AGE_GROUP_MAX.items()
        if oldest is not None and oldest <= youth_max_age
    )


def percent(part: int, whole: int) -> int:
    """Rounded as a person would (half up: 12.5 % → 13 %), not to the even number."""
    if whole == 0:
        return 0
    exact = Decimal(part * 100) / Decimal(whole)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Figures:
    participants: int
    women: int
    youth: int
    fsi: int

    @property
    def women_percent(self) -> int:
        return percent(self.women, self.participants)

    @property
    def youth_percent(self) -> int:
        return percent(self.youth, self.participants)


def figures(participants: Iterable[Participant], youth_max_age: int = 35) -> Figures:
    young = youth_groups(youth_max_age)
    total = women = youth = fsi = 0
    for sex, age_group, member_type in participants:
        total += 1
        women += sex == "female"
        youth += age_group in young
        fsi += member_type == "fsi"
    return Figures(total, women, youth, fsi)


# --- periods -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    #: the first day after the period
    end: date
    #: how it was asked, for the heading: 'month', 'week', 'year'
    kind: str


def period_for(text: str, today: date) -> Period | None:
    """'' or 'mois'/'month' (this month), 'semaine'/'week', 'annee'/'année'/'year',
    'YYYY-MM', a year 'YYYY', or a range of days 'YYYY-MM-DD..YYYY-MM-DD' (both days
    included, as people say "from 1 January to 31 March"). None when unreadable."""
    word = text.strip().lower()
    if ".." in word:
        return _range(word)
    if len(word) == 4 and word.isdigit() and 2000 <= int(word) <= 2100:
        return Period(date(int(word), 1, 1), date(int(word) + 1, 1, 1), "year")
    if word in ("", "mois", "month"):
        start = today.replace(day=1)
        return Period(start, _next_month(start), "month")
    if word in ("semaine", "week"):
        start = today - timedelta(days=today.weekday())
        return Period(start, start + timedelta(days=7), "week")
    if word in ("annee", "année", "year"):
        return Period(date(today.year, 1, 1), date(today.year + 1, 1, 1), "year")
    parts = word.split("-")
    if len(parts) == 2 and all(p.isdigit() for p in parts) and len(parts[0]) == 4:
        year, month = int(parts[0]), int(parts[1])
        if 1 <= month <= 12 and 2000 <= year <= 2100:
            start = date(year, month, 1)
            return Period(start, _next_month(start), "month")
    return None


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _range(word: str) -> Period | None:
    first, _, last = (part.strip() for part in word.partition(".."))
    if not (_DAY.match(first) and _DAY.match(last)):
        return None
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:  # 2026-02-30
        return None
    if start > end or start.year < 2000 or end.year > 2100:
        return None
    return Period(start, end + timedelta(days=1), "range")


def _next_month(start: date) -> date:
    days = calendar.monthrange(start.year, start.month)[1]
    return start + timedelta(days=days)


# --- reading attendance ------------------------------------------------------------------------


_PARTICIPANTS = (
    "SELECT p.sex, p.age_group, m.member_type FROM invitations i"
    " JOIN sessions s ON s.id = i.session_id"
    " LEFT JOIN participant_profiles p ON p.user_id = i.user_id"
    " LEFT JOIN committee_members m ON m.user_id = i.user_id"
    "  AND m.committee_id = s.committee_id"
    " WHERE s.status != 'cancelled'"
)


def _counted(attended: bool) -> str:
    return " AND i.attended = 1" if attended else " AND i.answer = 'yes'"


async def attendance_rows(
    conn: Connection,
    committee_id: int,
    start: datetime,
    end: datetime,
    *,
    attended: bool = True,
) -> list[Participant]:
    """One tuple per (person, session) present (or, with attended=False, who answered yes)
    at a non-cancelled session of the committee starting in [start, end). A person at two
    sessions counts twice, as in the coordinators' reports (participations, not heads)."""
    rows = await fetch_all(
        conn,
        _PARTICIPANTS
        + " AND s.committee_id = ? AND s.starts_at >= ? AND s.starts_at < ?"
        + _counted(attended),
        (committee_id, to_db(start), to_db(end)),
    )
    return [(r["sex"], r["age_group"], r["member_type"]) for r in rows]


async def session_rows(
    conn: Connection, session_id: int, *, attended: bool = True
) -> list[Participant]:
    """The same tuples for one session (exports give a row per session); none for a
    cancelled one."""
    rows = await fetch_all(
        conn, _PARTICIPANTS + " AND s.id = ?" + _counted(attended), (session_id,)
    )
    return [(r["sex"], r["age_group"], r["member_type"]) for r in rows]
