"""Participation figures against a data set whose totals are computed by hand."""

from __future__ import annotations

from datetime import date

import pytest

from bot.settings import SettingsError, load_settings
from handlers.ccsc.figures import Participant, figures, percent, period_for, youth_groups


def coordinators_data_set() -> list[Participant]:
    """504 participants, built so that the totals can be checked by hand:

    - 94 FSI men: 60 over 35, 34 aged 25-35;
    - 91 women of civil society: 40 aged 18-24, 51 over 35;
    - 319 other men (local authorities): 20 under 18, 41 aged 18-24, 30 aged 25-35, 228 over 35.

    Women 91 (91/504 = 18.06 % → 18 %); youth 34 + 40 + 20 + 41 + 30 = 165
    (165/504 = 32.74 % → 33 %); FSI 94. With youth ending at 24: 40 + 20 + 41 = 101 (20 %).
    """
    rows: list[Participant] = []
    rows += [("male", "over_35", "fsi")] * 60 + [("male", "25_35", "fsi")] * 34
    rows += [("female", "18_24", "civil_society")] * 40
    rows += [("female", "over_35", "civil_society")] * 51
    rows += [("male", "under_18", "local_authority")] * 20
    rows += [("male", "18_24", "local_authority")] * 41
    rows += [("male", "25_35", "local_authority")] * 30
    rows += [("male", "over_35", "local_authority")] * 228
    return rows


def test_the_coordinators_figures() -> None:
    found = figures(coordinators_data_set())
    assert (found.participants, found.women, found.youth, found.fsi) == (504, 91, 165, 94)
    assert (found.women_percent, found.youth_percent) == (18, 33)


def test_youth_follows_the_setting() -> None:
    found = figures(coordinators_data_set(), youth_max_age=24)
    assert (found.youth, found.youth_percent) == (101, 20)
    assert youth_groups(35) == {"under_18", "18_24", "25_35"}
    assert youth_groups(17) == {"under_18"}


def test_percentages_are_rounded_as_a_person_would() -> None:
    assert percent(1, 8) == 13  # 12.5 → 13, not 12 (banker's rounding)
    assert percent(5, 200) == 3  # 2.5 → 3
    assert percent(1, 3) == 33 and percent(2, 3) == 67
    assert percent(0, 0) == 0


def test_unknown_profiles_count_as_participants_only() -> None:
    found = figures([(None, None, None), ("female", None, "fsi")])
    assert (found.participants, found.women, found.youth, found.fsi) == (2, 1, 0, 1)
    assert figures([]).women_percent == 0


def test_periods() -> None:
    today = date(2026, 11, 19)  # a Thursday
    month = period_for("", today)
    assert month is not None and (month.start, month.end) == (date(2026, 11, 1), date(2026, 12, 1))
    assert period_for("mois", today) == month
    week = period_for("semaine", today)
    assert week is not None and (week.start, week.end) == (date(2026, 11, 16), date(2026, 11, 23))
    year = period_for("annee", today)
    assert year is not None and (year.start, year.end) == (date(2026, 1, 1), date(2027, 1, 1))
    december = period_for("2025-12", today)
    assert december is not None and december.end == date(2026, 1, 1)
    for bad in ("2026-13", "novembre", "26-11", "2026-1-1"):
        assert period_for(bad, today) is None


def test_youth_max_age_setting() -> None:
    assert load_settings({}).youth_max_age == 35
    assert load_settings({"KIBARU_YOUTH_MAX_AGE": "24"}).youth_max_age == 24
    for bad in ("30", "jeunes", "-1"):
        with pytest.raises(SettingsError) as raised:
            load_settings({"KIBARU_YOUTH_MAX_AGE": bad})
        assert raised.value.variable == "KIBARU_YOUTH_MAX_AGE"
