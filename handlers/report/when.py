"""Reading the date and the time of an incident as a reporter types them.

Pure functions, no clock, no database: the caller passes `today` (in the bot's time zone), so
the same text always gives the same answer and the tests never depend on the real date.

Reporters type on cheap phones, often without accents, and mix French, Bambara and English
("12 fevrier", "kunu", "14h30", "2 pm"). Every answer is either a value or a reason code the
flow turns into an explanation in the reporter's language; nothing here raises on bad input.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TypeAlias

from babel import Locale, UnknownLocaleError

from bot.matching import normalize

#: Oldest incident a report may be about. Early warning is about what is happening now; an
#: event more than a year old belongs to a study, not to an alert (the issue's rule).
MAX_AGE = timedelta(days=365)

#: Languages whose month names are always understood, whatever the reporter's language:
#: school and administration in Mali are in French, and phones default to English.
_FALLBACK_LANGUAGES = ("fr", "en")


class DateProblem(StrEnum):
    """Why a typed date was refused; the flow explains each one differently."""

    UNREADABLE = "unreadable"
    """Not a date we can read ("bientôt", empty, "12 mars à Gao")."""
    FUTURE = "future"
    """A date after today: an incident report is about something that already happened."""
    TOO_OLD = "too_old"
    """More than `MAX_AGE` before today."""
    IMPOSSIBLE = "impossible"
    """Shaped like a date but no calendar has it: 31/02, 32/13, 29/02/2025."""


class DayPeriod(StrEnum):
    """A part of the day, for reporters who know "in the evening" but not the hour."""

    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"
    NIGHT = "night"


class TimeProblem(StrEnum):
    """Why a typed time was refused."""

    UNREADABLE = "unreadable"
    """Not a time we can read."""
    IMPOSSIBLE = "impossible"
    """Shaped like a time but out of range: 25h, 14h75, 13 pm."""


#: What `parse_date` returns: the date, or why there is none.
DateParse: TypeAlias = date | DateProblem
#: What `parse_time` returns: an exact time, a part of the day, or why there is neither.
TimeParse: TypeAlias = time | DayPeriod | TimeProblem


# --- dates ----------------------------------------------------------------------------------

#: Words for a day relative to today, normalized (see `bot.matching.normalize`), to days back.
#: Bambara: bi (today), kunu/kunun (yesterday), kunasini (day before yesterday).
_RELATIVE_DAYS: dict[str, int] = {
    "aujourd hui": 0,
    "aujourdhui": 0,
    "maintenant": 0,
    "today": 0,
    "now": 0,
    "bi": 0,
    "sisan": 0,
    "hier": 1,
    "yesterday": 1,
    "kunu": 1,
    "kunun": 1,
    "avant hier": 2,
    "avanthier": 2,
    "day before yesterday": 2,
    "the day before yesterday": 2,
    "kunasini": 2,
}
_DAYS_AGO = (
    re.compile(r"il y a (\d{1,3}) jours?"),
    re.compile(r"(\d{1,3}) days? ago"),
)
#: Words that carry no date: "le 12 mars", "on the 12th of March".
_DATE_FILLERS = frozenset({"le", "on", "the", "of"})
_DAY_TOKEN = re.compile(r"(\d{1,2})(?:er|re|st|nd|rd|th)?")
_DAY_WORDS = {"premier": 1}
_NUMBER = re.compile(r"\d+")
#: How many years back a date typed without a year is looked for: 29/02 needs up to 8.
_YEAR_SEARCH = 8


def parse_date(text: str, today: date, language: str) -> DateParse:
    """The date of an incident from what the reporter typed, or why it cannot be used.

    Numeric dates are always day first (`12/03` is 12 March), as in French and in Mali: a
    date guessed month first would be silently wrong, which is worse than a refusal. The
    only month-first form is an English month name followed by the day ("March 12"), which
    cannot be misread. Month names come from Babel's CLDR data for `language`, plus French
    and English for everyone, matched without accents or case, and by an unambiguous prefix
    of 3 letters or more ("fev", "sept").

    A date without a year is the most recent such day that is not after `today`: a report
    is about the past, so `28/12` typed on 3 January means last December. A two-digit year
    is the one of its century closest to `today` (`25` is 2025, `90` is 1990).
    """
    words = normalize(text)
    if not words:
        return DateProblem.UNREADABLE
    if words in _RELATIVE_DAYS:
        return _checked(today - timedelta(days=_RELATIVE_DAYS[words]), today)
    for pattern in _DAYS_AGO:
        ago = pattern.fullmatch(words)
        if ago:
            return _checked(today - timedelta(days=int(ago.group(1))), today)

    tokens = [token for token in words.split() if token not in _DATE_FILLERS]
    if tokens and tokens[0] in _weekdays(language):
        tokens = tokens[1:]  # "mardi 12 mars": the weekday adds nothing we would trust
    parts = _numeric_date(tokens, today) or _named_date(tokens, today, language)
    if parts is None:
        return DateProblem.UNREADABLE
    day, month, year = parts
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return DateProblem.IMPOSSIBLE
    if year is None:
        return _most_recent(day, month, today)
    try:
        return _checked(date(year, month, day), today)
    except ValueError:
        return DateProblem.IMPOSSIBLE


#: Words for a day relative to today, forwards (announcements, sessions): days ahead.
#: Bambara: sini (tomorrow), sinikɛnɛ (the day after).
_DAYS_AHEAD: dict[str, int] = {
    "aujourd hui": 0,
    "aujourdhui": 0,
    "today": 0,
    "bi": 0,
    "demain": 1,
    "tomorrow": 1,
    "sini": 1,
    "apres demain": 2,
    "apresdemain": 2,
    "sinikene": 2,
}
#: How far ahead something can be planned.
MAX_AHEAD = timedelta(days=365)


def parse_upcoming_date(text: str, today: date, language: str) -> DateParse:
    """A date in the coming year, typed the same ways as `parse_date` (day first), or why it
    cannot be used: a day without a year is the next such day from `today` on; a past day
    is refused (`DateProblem.TOO_OLD`), and so is one more than a year ahead (`FUTURE`)."""
    words = normalize(text)
    if not words:
        return DateProblem.UNREADABLE
    if words in _DAYS_AHEAD:
        return today + timedelta(days=_DAYS_AHEAD[words])
    tokens = [token for token in words.split() if token not in _DATE_FILLERS]
    if tokens and tokens[0] in _weekdays(language):
        tokens = tokens[1:]
    parts = _numeric_date(tokens, today) or _named_date(tokens, today, language)
    if parts is None:
        return DateProblem.UNREADABLE
    day, month, year = parts
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return DateProblem.IMPOSSIBLE
    for candidate_year in [year] if year is not None else range(today.year, today.year + 9):
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            if year is not None:
                return DateProblem.IMPOSSIBLE
            continue  # 29/02: the next leap year
        if year is None and candidate < today:
            continue
        if candidate < today:
            return DateProblem.TOO_OLD
        if candidate - today > MAX_AHEAD:
            return DateProblem.FUTURE
        return candidate
    return DateProblem.IMPOSSIBLE


def _checked(day: date, today: date) -> DateParse:
    if day > today:
        return DateProblem.FUTURE
    if today - day > MAX_AGE:
        return DateProblem.TOO_OLD
    return day


def _most_recent(day: int, month: int, today: date) -> DateParse:
    for year in range(today.year, today.year - _YEAR_SEARCH, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue  # 29/02 outside a leap year: look one year further back
        if candidate <= today:
            return _checked(candidate, today)
    return DateProblem.IMPOSSIBLE


_Parts: TypeAlias = tuple[int, int, int | None]


def _numeric_date(tokens: list[str], today: date) -> _Parts | None:
    """`12/03`, `12-3`, `12.03.2025`, `12/03/25`, `2025-03-12` (separators are spaces here)."""
    if not tokens or not all(_NUMBER.fullmatch(token) for token in tokens):
        return None
    sizes = [len(token) for token in tokens]
    numbers = [int(token) for token in tokens]
    if len(tokens) == 2 and max(sizes) <= 2:
        return numbers[0], numbers[1], None
    if len(tokens) == 3 and sizes[0] == 4 and max(sizes[1:]) <= 2:
        return numbers[2], numbers[1], numbers[0]
    if len(tokens) == 3 and max(sizes[:2]) <= 2 and sizes[2] in (2, 4):
        return numbers[0], numbers[1], _full_year(tokens[2], today)
    return None


def _full_year(token: str, today: date) -> int:
    if len(token) == 4:
        return int(token)
    century = today.year // 100 * 100
    candidates = (century - 100 + int(token), century + int(token), century + 100 + int(token))
    return min(candidates, key=lambda year: abs(year - today.year))


def _named_date(tokens: list[str], today: date, language: str) -> _Parts | None:
    """`12 mars`, `1er mars 2025`, `12 marisi`, `12 March`, `March 12th, 2025`."""
    if len(tokens) not in (2, 3):
        return None
    year: int | None = None
    if len(tokens) == 3:
        if not re.fullmatch(r"\d{2}|\d{4}", tokens[2]):
            return None
        year = _full_year(tokens[2], today)
    day = _day(tokens[0])
    month = _month(tokens[1], _languages(language))
    if day is None or month is None:
        # Month first only with an English month name: "March 12" is the English habit, and
        # nobody writes "mars 12" in French.
        day = _day(tokens[1])
        month = _month(tokens[0], ("en",))
    if day is None or month is None:
        return None
    return day, month, year


def _day(token: str) -> int | None:
    if token in _DAY_WORDS:
        return _DAY_WORDS[token]
    number = _DAY_TOKEN.fullmatch(token)
    return int(number.group(1)) if number else None


def _month(token: str, languages: tuple[str, ...]) -> int | None:
    names = _month_names(languages)
    if token in names:
        return names[token]
    if len(token) >= 3 and not token.isdigit():
        months = {month for name, month in names.items() if name.startswith(token)}
        if len(months) == 1:
            return months.pop()
    return None


def _languages(language: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((language, *_FALLBACK_LANGUAGES)))


def _locale(language: str) -> Locale | None:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return None


@lru_cache(maxsize=16)
def _month_names(languages: tuple[str, ...]) -> dict[str, int]:
    """Normalized wide and abbreviated month names of these languages, to month numbers."""
    names: dict[str, int] = {}
    for language in languages:
        locale = _locale(language)
        if locale is None:
            continue
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for month, name in locale.months[context][width].items():
                    names.setdefault(normalize(name), month)
    return names


@lru_cache(maxsize=16)
def _weekdays(language: str) -> frozenset[str]:
    """Normalized full weekday names (abbreviations clash with months: fr "mar." is Tuesday)."""
    names: set[str] = set()
    for code in _languages(language):
        locale = _locale(code)
        if locale is not None:
            names.update(normalize(name) for name in locale.days["format"]["wide"].values())
    return frozenset(names)


# --- times ----------------------------------------------------------------------------------

_NAMED_TIMES: dict[str, time] = {
    "midi": time(12, 0),
    "noon": time(12, 0),
    "midday": time(12, 0),
    "tilegan": time(12, 0),  # Bambara tìlegan
    "minuit": time(0, 0),
    "midnight": time(0, 0),
}
#: Parts of the day, normalized. Bambara: sɔgɔma/sɔgɔmada (morning), fajiri (dawn), wula and
#: wulada (from mid-afternoon to sunset: AFTERNOON), fitiri (dusk: EVENING), su (night).
_PERIODS: dict[str, DayPeriod] = {
    "matin": DayPeriod.MORNING,
    "matinee": DayPeriod.MORNING,
    "morning": DayPeriod.MORNING,
    "sogoma": DayPeriod.MORNING,
    "sogomada": DayPeriod.MORNING,
    "fajiri": DayPeriod.MORNING,
    "apres midi": DayPeriod.AFTERNOON,
    "aprem": DayPeriod.AFTERNOON,
    "afternoon": DayPeriod.AFTERNOON,
    "wula": DayPeriod.AFTERNOON,
    "wulada": DayPeriod.AFTERNOON,
    "soir": DayPeriod.EVENING,
    "soiree": DayPeriod.EVENING,
    "evening": DayPeriod.EVENING,
    "fitiri": DayPeriod.EVENING,
    "nuit": DayPeriod.NIGHT,
    "night": DayPeriod.NIGHT,
    "tonight": DayPeriod.NIGHT,
    "su": DayPeriod.NIGHT,
}
#: Words around a time that change nothing: "vers 14h", "à 2 pm", "dans la soirée", "su fɛ".
_TIME_FILLERS = frozenset(
    {"a", "vers", "environ", "at", "around", "about", "in", "the", "this", "le", "la", "l"}
    | {"ce", "cette", "dans", "du", "de", "fe"}
)
_HOUR_WORDS = frozenset({"h", "heure", "heures", "hr", "hrs", "oclock"})
_MINUTE_WORDS = frozenset({"min", "mn", "minute", "minutes"})
_TOKENS = re.compile(r"\d+|[^\W\d_]+")


def parse_time(text: str) -> TimeParse:
    """The time of day of an incident, a part of the day, or why it cannot be used.

    Exact: "14h", "14h30", "14 h 30", "14:30", "14.30", "2:30 pm", "2 pm", "8h du soir",
    "midi", "minuit", "noon", "midnight". Vague: "matin", "soir", "in the evening", "sɔgɔma",
    "su" give a `DayPeriod`, because someone who only knows "at night" should be able to say
    so rather than invent an hour. A bare number ("14") is read as an hour on the clock.
    """
    if re.search(r"\d\s*[/-]\s*\d", text):
        return TimeProblem.UNREADABLE  # "12/11" or "12-11" is a date, never a time
    words = re.sub(r"\b([ap]) m\b", r"\1m", normalize(text)).replace("o clock", "oclock")
    tokens = [token for token in _TOKENS.findall(words) if token not in _TIME_FILLERS]
    phrase = " ".join(tokens)
    if phrase in _NAMED_TIMES:
        return _NAMED_TIMES[phrase]
    if phrase in _PERIODS:
        return _PERIODS[phrase]
    if not tokens or not tokens[0].isdigit() or len(tokens[0]) > 2:
        return TimeProblem.UNREADABLE

    hour, minute, rest = int(tokens[0]), 0, tokens[1:]
    if rest and rest[0] in _HOUR_WORDS:
        rest = rest[1:]
    if rest and rest[0].isdigit():
        if len(rest[0]) > 2:
            return TimeProblem.UNREADABLE
        minute, rest = int(rest[0]), rest[1:]
        if rest and rest[0] in _MINUTE_WORDS:
            rest = rest[1:]
    suffix = " ".join(rest)
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            return TimeProblem.IMPOSSIBLE
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    elif suffix in _PERIODS:
        shifted = _in_period(hour, _PERIODS[suffix])
        if shifted is None:
            return TimeProblem.IMPOSSIBLE
        hour = shifted
    elif suffix:
        return TimeProblem.UNREADABLE
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return TimeProblem.IMPOSSIBLE
    return time(hour, minute)


def _in_period(hour: int, period: DayPeriod) -> int | None:
    """The 24-hour clock for "8h du soir", "3h du matin", "10 at night"; None if contradictory."""
    if hour > 23:
        return None
    if period is DayPeriod.MORNING:
        return hour if hour <= 12 else None
    if period is DayPeriod.NIGHT:
        if hour == 12:
            return 0
        return hour + 12 if 6 <= hour < 12 else hour
    return hour + 12 if 1 <= hour < 12 else hour
