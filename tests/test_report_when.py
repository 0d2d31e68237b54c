"""Reading the date and time of an incident as reporters type them (handlers/report/when.py).

Every case uses a fixed `today`; nothing here reads the real clock.
"""

from __future__ import annotations

from datetime import date, time

import pytest

from handlers.report.when import (
    MAX_AGE,
    DateProblem,
    DayPeriod,
    TimeProblem,
    parse_date,
    parse_time,
)

#: A Wednesday, late enough in the year that day-month dates of this year are in the past.
TODAY = date(2025, 6, 18)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # numeric, day first, every separator
        ("12/03", "fr", date(2025, 3, 12)),
        ("12-03", "fr", date(2025, 3, 12)),
        ("12.03", "fr", date(2025, 3, 12)),
        ("12/3", "fr", date(2025, 3, 12)),
        ("12 03", "fr", date(2025, 3, 12)),
        ("12/03/2025", "fr", date(2025, 3, 12)),
        ("12/03/25", "fr", date(2025, 3, 12)),
        ("12.3.2025", "en", date(2025, 3, 12)),
        ("2025-03-12", "en", date(2025, 3, 12)),
        ("2025/3/12", "bm", date(2025, 3, 12)),
        ("le 12/03", "fr", date(2025, 3, 12)),
        ("03/12", "fr", date(2024, 12, 3)),  # day first: 3 December, never 12 March
        ("18/06", "fr", TODAY),
        # French month names, with and without accents, abbreviated, any case
        ("12 mars", "fr", date(2025, 3, 12)),
        ("12 mars 2025", "fr", date(2025, 3, 12)),
        ("12 MARS 25", "fr", date(2025, 3, 12)),
        ("1er mars", "fr", date(2025, 3, 1)),
        ("premier mars", "fr", date(2025, 3, 1)),
        ("12 février", "fr", date(2025, 2, 12)),
        ("12 fevrier", "fr", date(2025, 2, 12)),
        ("12 févr.", "fr", date(2025, 2, 12)),
        ("12 fev", "fr", date(2025, 2, 12)),
        ("3 août", "fr", date(2024, 8, 3)),
        ("3 aout", "fr", date(2024, 8, 3)),
        ("5 janv.", "fr", date(2025, 1, 5)),
        ("le 12 mars", "fr", date(2025, 3, 12)),
        ("mercredi 12 mars 2025", "fr", date(2025, 3, 12)),
        # English: day first or month first
        ("12 March", "en", date(2025, 3, 12)),
        ("March 12", "en", date(2025, 3, 12)),
        ("March 12, 2025", "en", date(2025, 3, 12)),
        ("March 12th", "en", date(2025, 3, 12)),
        ("the 12th of March", "en", date(2025, 3, 12)),
        ("1st May", "en", date(2025, 5, 1)),
        ("12 feb", "en", date(2025, 2, 12)),
        ("Sept 3", "en", date(2024, 9, 3)),
        ("Wednesday 12 March", "en", date(2025, 3, 12)),
        # Bambara month names from CLDR, with or without the special letters
        ("12 marisi", "bm", date(2025, 3, 12)),
        ("12 marisi 2025", "bm", date(2025, 3, 12)),
        ("1 zanwuye", "bm", date(2025, 1, 1)),
        ("4 mɛ", "bm", date(2025, 5, 4)),
        ("4 me", "bm", date(2025, 5, 4)),
        ("2 ɔkutɔburu", "bm", date(2024, 10, 2)),
        ("2 okutoburu", "bm", date(2024, 10, 2)),
        ("9 sɛt", "bm", date(2024, 9, 9)),
        ("tarata 12 marisi", "bm", date(2025, 3, 12)),
        # French and English month names work whatever the reporter's language
        ("12 mars", "bm", date(2025, 3, 12)),
        ("12 march", "bm", date(2025, 3, 12)),
        ("12 march", "fr", date(2025, 3, 12)),
        ("12 mars", "en", date(2025, 3, 12)),
        ("12 mars", "xx", date(2025, 3, 12)),  # an unknown language still has the fallbacks
        # words for recent days, in the three languages
        ("aujourd'hui", "fr", TODAY),
        ("Aujourd’hui", "fr", TODAY),
        ("aujourdhui", "fr", TODAY),
        ("maintenant", "fr", TODAY),
        ("today", "en", TODAY),
        ("now", "en", TODAY),
        ("sisan", "bm", TODAY),
        ("bi", "bm", TODAY),
        ("Bì", "bm", TODAY),
        ("hier", "fr", date(2025, 6, 17)),
        ("Yesterday", "en", date(2025, 6, 17)),
        ("kunu", "bm", date(2025, 6, 17)),
        ("kunun", "bm", date(2025, 6, 17)),
        ("avant-hier", "fr", date(2025, 6, 16)),
        ("avant hier", "fr", date(2025, 6, 16)),
        ("the day before yesterday", "en", date(2025, 6, 16)),
        ("day before yesterday", "en", date(2025, 6, 16)),
        ("kunasini", "bm", date(2025, 6, 16)),
        ("il y a 3 jours", "fr", date(2025, 6, 15)),
        ("il y a 1 jour", "fr", date(2025, 6, 17)),
        ("10 days ago", "en", date(2025, 6, 8)),
        ("hier", "bm", date(2025, 6, 17)),  # French words are understood in every language
    ],
)
def test_dates_that_are_accepted(text: str, language: str, expected: date) -> None:
    assert parse_date(text, TODAY, language) == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # nothing to read
        ("", "fr", DateProblem.UNREADABLE),
        ("   ", "fr", DateProblem.UNREADABLE),
        ("bientôt", "fr", DateProblem.UNREADABLE),
        ("je ne sais pas", "fr", DateProblem.UNREADABLE),
        ("mars", "fr", DateProblem.UNREADABLE),
        ("12", "fr", DateProblem.UNREADABLE),
        ("12 mars à Gao", "fr", DateProblem.UNREADABLE),
        ("12/03/2025/1", "fr", DateProblem.UNREADABLE),
        ("12/03/202", "fr", DateProblem.UNREADABLE),
        ("123/03", "fr", DateProblem.UNREADABLE),
        ("12 ju", "fr", DateProblem.UNREADABLE),  # too short to be a month
        ("12 jui", "fr", DateProblem.UNREADABLE),  # juin or juillet?
        ("mars 12", "fr", DateProblem.UNREADABLE),  # month first only with English names
        ("12 marisi", "fr", DateProblem.UNREADABLE),  # Bambara names only for Bambara
        ("12 mar", "fr", date(2025, 3, 12)),  # "mar." is also Tuesday, but not here
        # no calendar has them
        ("32/13", "fr", DateProblem.IMPOSSIBLE),
        ("31/02", "fr", DateProblem.IMPOSSIBLE),
        ("31/04/2025", "fr", DateProblem.IMPOSSIBLE),
        ("00/03", "fr", DateProblem.IMPOSSIBLE),
        ("12/00", "fr", DateProblem.IMPOSSIBLE),
        ("12/13", "fr", DateProblem.IMPOSSIBLE),
        ("03/25", "en", DateProblem.IMPOSSIBLE),  # month first is never guessed
        ("31 février", "fr", DateProblem.IMPOSSIBLE),
        ("29/02/2025", "fr", DateProblem.IMPOSSIBLE),
        ("29 feb 2023", "en", DateProblem.IMPOSSIBLE),
        # after today
        ("19/06/2025", "fr", DateProblem.FUTURE),
        ("12/03/2026", "fr", DateProblem.FUTURE),
        ("12/03/26", "fr", DateProblem.FUTURE),  # 2026, the closest century
        ("2030-01-01", "en", DateProblem.FUTURE),
        ("1 janvier 2026", "fr", DateProblem.FUTURE),
        # more than a year ago
        ("12/03/1990", "fr", DateProblem.TOO_OLD),
        ("12/03/90", "fr", DateProblem.TOO_OLD),  # 1990, not 2090
        ("17/06/2024", "fr", DateProblem.TOO_OLD),
        ("12 mars 2024", "fr", DateProblem.TOO_OLD),
        ("il y a 400 jours", "fr", DateProblem.TOO_OLD),
    ],
)
def test_dates_that_are_refused(text: str, language: str, expected: date | DateProblem) -> None:
    assert parse_date(text, TODAY, language) == expected


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        # without a year: the most recent such day that is not in the future
        ("28/12", date(2026, 1, 3), date(2025, 12, 28)),
        ("28 décembre", date(2026, 1, 3), date(2025, 12, 28)),
        ("3/1", date(2026, 1, 3), date(2026, 1, 3)),
        ("4/1", date(2026, 1, 3), date(2025, 1, 4)),  # 364 days ago
        ("31/12", date(2026, 1, 1), date(2025, 12, 31)),
        ("1/1", date(2025, 12, 31), date(2025, 1, 1)),
        # with a year, across New Year: last year is fine, next year is the future
        ("28/12/2025", date(2026, 1, 3), date(2025, 12, 28)),
        ("28/12/25", date(2026, 1, 3), date(2025, 12, 28)),
        ("3/1/2027", date(2026, 1, 3), DateProblem.FUTURE),
        # the year limit is inclusive: 365 days ago is accepted, 366 is not
        ("18/06/2024", date(2025, 6, 18), date(2024, 6, 18)),
        ("17/06/2024", date(2025, 6, 18), DateProblem.TOO_OLD),
        # leap day
        ("29/02", date(2024, 3, 1), date(2024, 2, 29)),
        ("29/02/2024", date(2024, 3, 1), date(2024, 2, 29)),
        ("29/02", date(2025, 2, 28), date(2024, 2, 29)),  # exactly 365 days back
        ("29/02", date(2025, 3, 1), DateProblem.TOO_OLD),  # last one is 366 days back
        ("29/02", date(2026, 3, 1), DateProblem.TOO_OLD),
        ("29 février", date(2028, 2, 29), date(2028, 2, 29)),
        ("29/02/2025", date(2025, 3, 1), DateProblem.IMPOSSIBLE),
        ("hier", date(2024, 3, 1), date(2024, 2, 29)),
        ("yesterday", date(2026, 1, 1), date(2025, 12, 31)),
    ],
)
def test_year_inference(text: str, today: date, expected: date | DateProblem) -> None:
    assert parse_date(text, today, "fr") == expected


def test_max_age_is_a_year() -> None:
    assert MAX_AGE.days == 365


def test_results_are_told_apart_by_type() -> None:
    result = parse_date("12/03", TODAY, "fr")
    assert isinstance(result, date)
    assert not isinstance(result, DateProblem)
    problem = parse_date("bientôt", TODAY, "fr")
    assert isinstance(problem, DateProblem)
    assert problem == "unreadable"  # a StrEnum: safe to store and to log


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # exact times, French style
        ("14h", time(14, 0)),
        ("14H", time(14, 0)),
        ("14h30", time(14, 30)),
        ("14 h 30", time(14, 30)),
        ("14h 30", time(14, 30)),
        ("14h05", time(14, 5)),
        ("14h5", time(14, 5)),
        ("9h", time(9, 0)),
        ("0h", time(0, 0)),
        ("23h59", time(23, 59)),
        ("14 heures", time(14, 0)),
        ("14 heures 30", time(14, 30)),
        ("14h30 min", time(14, 30)),
        ("vers 14h", time(14, 0)),
        ("à 14h30", time(14, 30)),
        ("14", time(14, 0)),
        # colon and dot
        ("14:30", time(14, 30)),
        ("14.30", time(14, 30)),
        ("09:05", time(9, 5)),
        # English style
        ("2:30 pm", time(14, 30)),
        ("2:30pm", time(14, 30)),
        ("2 pm", time(14, 0)),
        ("2pm", time(14, 0)),
        ("2 PM", time(14, 0)),
        ("2 p.m.", time(14, 0)),
        ("9 am", time(9, 0)),
        ("9 a.m.", time(9, 0)),
        ("12 am", time(0, 0)),
        ("12 pm", time(12, 0)),
        ("12:30 am", time(0, 30)),
        ("at 3 o'clock", time(3, 0)),
        ("around 2 pm", time(14, 0)),
        # an hour with a part of the day
        ("8h du soir", time(20, 0)),
        ("8h du matin", time(8, 0)),
        ("3h du matin", time(3, 0)),
        ("2h de l'après-midi", time(14, 0)),
        ("10 at night", time(22, 0)),
        ("2 at night", time(2, 0)),
        ("8 in the evening", time(20, 0)),
        ("20h du soir", time(20, 0)),
        # named times
        ("midi", time(12, 0)),
        ("Minuit", time(0, 0)),
        ("noon", time(12, 0)),
        ("midnight", time(0, 0)),
        ("à midi", time(12, 0)),
        ("tìlegan", time(12, 0)),
        # vague parts of the day
        ("matin", DayPeriod.MORNING),
        ("le matin", DayPeriod.MORNING),
        ("ce matin", DayPeriod.MORNING),
        ("dans la matinée", DayPeriod.MORNING),
        ("morning", DayPeriod.MORNING),
        ("in the morning", DayPeriod.MORNING),
        ("sɔgɔma", DayPeriod.MORNING),
        ("sogoma", DayPeriod.MORNING),
        ("après-midi", DayPeriod.AFTERNOON),
        ("l'après-midi", DayPeriod.AFTERNOON),
        ("afternoon", DayPeriod.AFTERNOON),
        ("wula", DayPeriod.AFTERNOON),
        ("soir", DayPeriod.EVENING),
        ("le soir", DayPeriod.EVENING),
        ("dans la soirée", DayPeriod.EVENING),
        ("evening", DayPeriod.EVENING),
        ("fitiri", DayPeriod.EVENING),
        ("nuit", DayPeriod.NIGHT),
        ("la nuit", DayPeriod.NIGHT),
        ("at night", DayPeriod.NIGHT),
        ("su", DayPeriod.NIGHT),
        ("su fɛ", DayPeriod.NIGHT),
        # refused
        ("", TimeProblem.UNREADABLE),
        ("bientôt", TimeProblem.UNREADABLE),
        ("je ne sais pas", TimeProblem.UNREADABLE),
        ("hier soir", TimeProblem.UNREADABLE),
        ("14h30 à Gao", TimeProblem.UNREADABLE),
        ("1430", TimeProblem.UNREADABLE),
        ("14h300", TimeProblem.UNREADABLE),
        ("h30", TimeProblem.UNREADABLE),
        ("25h", TimeProblem.IMPOSSIBLE),
        ("24h", TimeProblem.IMPOSSIBLE),
        ("14h75", TimeProblem.IMPOSSIBLE),
        ("14:60", TimeProblem.IMPOSSIBLE),
        ("13 pm", TimeProblem.IMPOSSIBLE),
        ("0 am", TimeProblem.IMPOSSIBLE),
        ("15h du matin", TimeProblem.IMPOSSIBLE),
    ],
)
def test_times(text: str, expected: time | DayPeriod | TimeProblem) -> None:
    assert parse_time(text) == expected


def test_a_period_is_not_a_time_problem() -> None:
    period = parse_time("soir")
    assert isinstance(period, DayPeriod)
    assert not isinstance(period, TimeProblem)


def test_a_date_is_never_read_as_a_time() -> None:
    from handlers.report.when import TimeProblem

    assert parse_time("12/11") is TimeProblem.UNREADABLE
    assert parse_time("12-11") is TimeProblem.UNREADABLE
