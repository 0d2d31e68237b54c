"""What exports contain: validated reports, and CCS-C participation per session.

A dataset is its columns (header, HXL hashtag), a count, and a reader that returns one chunk
of records after a cursor, so the worker reads a large period in short transactions. Values
are codes and numbers analysts' tools can use as they are; the few labels (category,
severity, session kind) come next to their codes, in the coordinator's language. Dates are
ISO 8601 local dates (KIBARU_TIMEZONE).

**Reports** (`reports`), one row per validated report whose incident happened in the
period, ordered by that day:

====================  ==========================  ===========================================
column                hashtag                     what
====================  ==========================  ===========================================
reference             #event+id                   ML-2026-000123
occurred_on           #date+occurred              the day it happened
reported_on           #date+reported              the day it reached Kibaru
validated_on          #date+validated             the day a validator validated it
region_code / region  #adm1+code / #adm1+name     Kibaru's place codes (handlers/report/
cercle_code / cercle  #adm2+code / #adm2+name     places.py), not OCHA p-codes; the cercle
                                                  or, in Bamako, the commune
locality              #loc+name                   the town or village, when not in the lists
latitude, longitude   #geo+lat, #geo+lon          rounded to 3 decimals (about 100 m)
geo_precision         #geo+precision              ACLED's code: 1 the place, 2 its cercle,
                                                  3 its region
location_type         #geo+precision+code         exact_pin, locality, cercle_or_commune, region
event_type            #event+type                 ACLED event type
sub_event_type        #event+type+sub             ACLED sub-event type
category_code         #event+category+code        Kibaru's category (handlers/report/
category              #event+category+name        categories.py) and its label
sector                #sector+ecowarn+code        ECOWARN-style sector
severity              #severity                   1 information … 4 urgence
severity_name         #severity+name              its name
killed … displaced    #affected+killed, +injured, empty: not known (which is not 0)
                      +missing, +displaced
status                #status                     validated
audience              #meta+audience              public (the area's subscribers) or staff
summary               #description+summary        the validator's public summary, or the
                                                  one built from the fields when none was typed
====================  ==========================  ===========================================

Nothing about the reporter is ever read: not their id or pseudonym, their contact choice or
phone number, their words (description), their place detail, their language or their files.
The SELECT below names its columns one by one so that no format can leak what it never got;
coordinates are rounded because a pin dropped at one's door says where the reporter lives.

**Participation** (`participation`), one row per committee session (cancelled ones left
out) starting in the period, figures from `handlers.ccsc.figures` as /participation shows
them ("participations", so a person at two sessions counts twice):

====================  =================================  ====================================
column                hashtag                            what
====================  =================================  ====================================
committee_code        #org+code                          ccsc_bamako_c4
committee             #org+name                          CCS-C Commune IV
commune               #adm2+name                         the committee's commune, if any
session_id            #event+id                          Kibaru's session number
date                  #date                              the session's day
kind_code / kind      #event+type+code / #event+type+name  statutory, training, workshop, other
title                 #event+name                        the title its secretary gave it
present …             #reached+participants, +f, +f+pct, marked present: all, women (n, %),
                      +youth, +youth+pct, +fsi           youth (KIBARU_YOUTH_MAX_AGE) (n, %),
                                                         FSI
rsvp_yes …            #targeted+rsvp, +f, +f+pct,        answered "I will come": the same
                      +youth, +youth+pct, +fsi           figures
====================  =================================  ====================================

Participants are `#reached` (HXL's "people reached by an activity"), not `#affected`, which
counts people hit by a crisis; those who said they would come are `#targeted`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from bot.i18n import N_, Translator
from handlers.ccsc.figures import Figures, figures, session_rows
from handlers.dissemination.alert_text import default_summary
from handlers.exports.formats import Column, Record, Table
from handlers.report import categories, places
from handlers.review.severity import SEVERITIES
from handlers.sessions.common import KIND_NAMES
from storage.database import Connection, fetch_all, fetch_one, from_db, to_db
from storage.reports import Contact, Report, Status

#: where the last chunk ended: (the sort key, the id) of its last record
Cursor = tuple[str, int]
COORDINATE_DECIMALS = 3


@dataclass(frozen=True)
class Scope:
    """What one export covers and how it is written."""

    #: the first day, and the day after the last (local dates)
    start: date
    end: date
    t: Translator
    timezone: tzinfo
    youth_max_age: int = 35

    def bound(self, day: date) -> str:
        """A local day's midnight as stored (UTC text)."""
        return to_db(datetime.combine(day, time(0), self.timezone))


Reader = Callable[[Connection, Scope, Cursor | None, int], Awaitable[tuple[list[Record], Cursor]]]


@dataclass(frozen=True)
class Dataset:
    name: str
    #: French title (N_): the sheet's name
    title: str
    columns: tuple[Column, ...]
    count: Callable[[Connection, Scope], Awaitable[int]]
    #: up to `limit` records after the cursor (None: from the start), and the new cursor
    read: Reader
    point: tuple[str, str] | None = None

    def table(self, t: Translator) -> Table:
        return Table(self.name, self.columns, t, t._(self.title), self.point)


# --- reports -----------------------------------------------------------------------------

REPORT_COLUMNS: tuple[Column, ...] = (
    Column("reference", N_("Référence"), "#event+id"),
    Column("occurred_on", N_("Date de l'incident"), "#date+occurred"),
    Column("reported_on", N_("Date du signalement"), "#date+reported"),
    Column("validated_on", N_("Date de validation"), "#date+validated"),
    Column("region_code", N_("Code région"), "#adm1+code"),
    Column("region", N_("Région"), "#adm1+name"),
    Column("cercle_code", N_("Code cercle ou commune"), "#adm2+code"),
    Column("cercle", N_("Cercle ou commune"), "#adm2+name"),
    Column("locality", N_("Localité"), "#loc+name"),
    Column("latitude", N_("Latitude"), "#geo+lat"),
    Column("longitude", N_("Longitude"), "#geo+lon"),
    Column("geo_precision", N_("Précision géographique (ACLED)"), "#geo+precision"),
    Column("location_type", N_("Type de localisation"), "#geo+precision+code"),
    Column("event_type", N_("Type d'événement (ACLED)"), "#event+type"),
    Column("sub_event_type", N_("Sous-type d'événement (ACLED)"), "#event+type+sub"),
    Column("category_code", N_("Code catégorie"), "#event+category+code"),
    Column("category", N_("Catégorie"), "#event+category+name"),
    Column("sector", N_("Secteur"), "#sector+ecowarn+code"),
    Column("severity", N_("Gravité"), "#severity"),
    Column("severity_name", N_("Niveau de gravité"), "#severity+name"),
    Column("killed", N_("Tués"), "#affected+killed"),
    Column("injured", N_("Blessés"), "#affected+injured"),
    Column("missing", N_("Disparus"), "#affected+missing"),
    Column("displaced", N_("Déplacés"), "#affected+displaced"),
    Column("status", N_("Statut"), "#status"),
    Column("audience", N_("Diffusion"), "#meta+audience"),
    Column("summary", N_("Résumé public"), "#description+summary"),
)

# The only columns an export reads (see the module docstring).
_REPORTS = (
    "SELECT r.id, r.reference, r.occurred_on, r.region, r.cercle, r.locality, r.latitude,"
    " r.longitude, r.precision, r.category, r.killed, r.injured, r.missing, r.displaced,"
    " r.status, r.created_at, a.severity, a.audience, a.summary, d.decided_at"
    " FROM reports r"
    " LEFT JOIN alerts a ON a.report_id = r.id"
    " LEFT JOIN review_decisions d ON d.report_id = r.id"
    " WHERE r.status = 'validated' AND r.occurred_on >= ? AND r.occurred_on < ?"
)


async def count_reports(conn: Connection, scope: Scope) -> int:
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM reports WHERE status = 'validated'"
        " AND occurred_on >= ? AND occurred_on < ?",
        (scope.start.isoformat(), scope.end.isoformat()),
    )
    return int(row[0]) if row else 0


async def read_reports(
    conn: Connection, scope: Scope, after: Cursor | None, limit: int
) -> tuple[list[Record], Cursor]:
    last = after or ("", 0)
    rows = await fetch_all(
        conn,
        _REPORTS + " AND (r.occurred_on, r.id) > (?, ?) ORDER BY r.occurred_on, r.id LIMIT ?",
        (scope.start.isoformat(), scope.end.isoformat(), *last, limit),
    )
    records = [_report_record(row, scope) for row in rows]
    if rows:
        last = (rows[-1]["occurred_on"], int(rows[-1]["id"]))
    return records, last


def _local_day(stored: str | None, zone: tzinfo) -> str | None:
    return from_db(stored).astimezone(zone).date().isoformat() if stored else None


def _rounded(value: float | None) -> float | None:
    return round(value, COORDINATE_DECIMALS) if value is not None else None


def _report_record(row: sqlite3.Row, scope: Scope) -> Record:
    t = scope.t
    get = row.__getitem__
    category = categories.by_code(get("category"))
    region = places.region(get("region") or "")
    found = places.cercle(get("cercle") or "")
    try:
        precision: places.Precision | None = places.Precision(get("precision"))
    except ValueError:
        precision = None
    severity = get("severity")
    summary = get("summary") or default_summary(t, _public_report(row))
    return {
        "reference": get("reference"),
        "occurred_on": get("occurred_on"),
        "reported_on": _local_day(get("created_at"), scope.timezone),
        "validated_on": _local_day(get("decided_at"), scope.timezone),
        "region_code": get("region"),
        "region": region.name if region else None,
        "cercle_code": get("cercle"),
        "cercle": found[1].name if found else None,
        "locality": get("locality"),
        "latitude": _rounded(get("latitude")),
        "longitude": _rounded(get("longitude")),
        "geo_precision": precision.acled if precision else None,
        "location_type": get("precision"),
        "event_type": category.acled_event_type if category else None,
        "sub_event_type": category.acled_sub_event_type if category else None,
        "category_code": get("category"),
        "category": t._(category.label) if category else None,
        "sector": category.ecowarn_sector if category else None,
        "severity": severity,
        "severity_name": t._(SEVERITIES[severity][1]) if severity in SEVERITIES else None,
        "killed": get("killed"),
        "injured": get("injured"),
        "missing": get("missing"),
        "displaced": get("displaced"),
        "status": get("status"),
        "audience": get("audience"),
        "summary": summary,
    }


def _public_report(row: sqlite3.Row) -> Report:
    """The report as the default public summary needs it: the structured fields only, and
    nothing of the reporter (no id, contact, words or place detail)."""
    get = row.__getitem__
    return Report(
        id=get("id"),
        reference=get("reference"),
        reporter_id=None,
        status=Status.VALIDATED,
        created_at=from_db(get("created_at")),
        category=get("category"),
        occurred_on=date.fromisoformat(get("occurred_on")),
        precision=get("precision"),
        contact=Contact.ANONYMOUS,
        language="",
        region=get("region"),
        cercle=get("cercle"),
        locality=get("locality"),
    )


REPORTS = Dataset(
    "reports",
    N_("Signalements validés"),
    REPORT_COLUMNS,
    count_reports,
    read_reports,
    point=("latitude", "longitude"),
)


# --- participation -----------------------------------------------------------------------

PARTICIPATION_COLUMNS: tuple[Column, ...] = (
    Column("committee_code", N_("Code du comité"), "#org+code"),
    Column("committee", N_("Comité"), "#org+name"),
    Column("commune", N_("Commune"), "#adm2+name"),
    Column("session_id", N_("Session"), "#event+id"),
    Column("date", N_("Date"), "#date"),
    Column("kind_code", N_("Code du type de session"), "#event+type+code"),
    Column("kind", N_("Type de session"), "#event+type+name"),
    Column("title", N_("Titre"), "#event+name"),
    Column("present", N_("Présents"), "#reached+participants"),
    Column("present_women", N_("Présents : femmes"), "#reached+participants+f"),
    Column("present_women_pct", N_("Présents : % de femmes"), "#reached+participants+f+pct"),
    Column("present_youth", N_("Présents : jeunes"), "#reached+participants+youth"),
    Column("present_youth_pct", N_("Présents : % de jeunes"), "#reached+participants+youth+pct"),
    Column("present_fsi", N_("Présents : FSI"), "#reached+participants+fsi"),
    Column("rsvp_yes", N_("Inscrits (oui)"), "#targeted+rsvp"),
    Column("rsvp_women", N_("Inscrits : femmes"), "#targeted+rsvp+f"),
    Column("rsvp_women_pct", N_("Inscrits : % de femmes"), "#targeted+rsvp+f+pct"),
    Column("rsvp_youth", N_("Inscrits : jeunes"), "#targeted+rsvp+youth"),
    Column("rsvp_youth_pct", N_("Inscrits : % de jeunes"), "#targeted+rsvp+youth+pct"),
    Column("rsvp_fsi", N_("Inscrits : FSI"), "#targeted+rsvp+fsi"),
)

_SESSIONS = (
    "SELECT s.id, s.kind, s.title, s.starts_at, c.code, c.name, c.commune"
    " FROM sessions s JOIN committees c ON c.id = s.committee_id"
    " WHERE s.status != 'cancelled' AND s.starts_at >= ? AND s.starts_at < ?"
)


async def count_sessions(conn: Connection, scope: Scope) -> int:
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM sessions WHERE status != 'cancelled'"
        " AND starts_at >= ? AND starts_at < ?",
        (scope.bound(scope.start), scope.bound(scope.end)),
    )
    return int(row[0]) if row else 0


async def read_sessions(
    conn: Connection, scope: Scope, after: Cursor | None, limit: int
) -> tuple[list[Record], Cursor]:
    last = after or ("", 0)
    rows = await fetch_all(
        conn,
        _SESSIONS + " AND (s.starts_at, s.id) > (?, ?) ORDER BY s.starts_at, s.id LIMIT ?",
        (scope.bound(scope.start), scope.bound(scope.end), *last, limit),
    )
    records: list[Record] = []
    for row in rows:
        present = figures(await session_rows(conn, row["id"]), scope.youth_max_age)
        rsvp = figures(await session_rows(conn, row["id"], attended=False), scope.youth_max_age)
        records.append(_session_record(row, scope, present, rsvp))
    if rows:
        last = (rows[-1]["starts_at"], int(rows[-1]["id"]))
    return records, last


def _session_record(row: sqlite3.Row, scope: Scope, present: Figures, rsvp: Figures) -> Record:
    get = row.__getitem__
    commune = places.cercle(get("commune") or "")
    kind = KIND_NAMES.get(get("kind"))
    return {
        "committee_code": get("code"),
        "committee": get("name"),
        "commune": commune[1].name if commune else None,
        "session_id": get("id"),
        "date": _local_day(get("starts_at"), scope.timezone),
        "kind_code": get("kind"),
        "kind": scope.t._(kind) if kind else None,
        "title": get("title"),
        "present": present.participants,
        "present_women": present.women,
        "present_women_pct": present.women_percent,
        "present_youth": present.youth,
        "present_youth_pct": present.youth_percent,
        "present_fsi": present.fsi,
        "rsvp_yes": rsvp.participants,
        "rsvp_women": rsvp.women,
        "rsvp_women_pct": rsvp.women_percent,
        "rsvp_youth": rsvp.youth,
        "rsvp_youth_pct": rsvp.youth_percent,
        "rsvp_fsi": rsvp.fsi,
    }


PARTICIPATION = Dataset(
    "participation",
    N_("Participation CCS-C"),
    PARTICIPATION_COLUMNS,
    count_sessions,
    read_sessions,
)

DATASETS: dict[str, Dataset] = {REPORTS.name: REPORTS, PARTICIPATION.name: PARTICIPATION}
