"""The 90-day rule, counted with the day of birth as day 1 (so day 90 = birth + 89 days)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dialogs.rules.tianjin import Standing, deadline, last_day

BIRTH = date(2026, 2, 10)


def test_shared_dev_case_born_feb_10() -> None:
    rule = deadline(BIRTH, date(2026, 3, 1))
    assert rule.last_day == date(2026, 5, 10)
    assert rule.day_number == 20
    assert rule.standing is Standing.WITHIN
    assert rule.days_left == 70


@pytest.mark.parametrize(
    ("day", "standing", "coverage_from_birth"),
    [
        (1, Standing.WITHIN, True),
        (89, Standing.WITHIN, True),
        (90, Standing.LAST, True),
        (91, Standing.LATE, False),
    ],
)
def test_boundaries(day: int, standing: Standing, coverage_from_birth: bool) -> None:
    today = BIRTH + timedelta(days=day - 1)
    rule = deadline(BIRTH, today)
    assert rule.day_number == day
    assert rule.standing is standing
    start = rule.coverage_from(today)
    assert (start == BIRTH) is coverage_from_birth
    if not coverage_from_birth:
        assert start == today + timedelta(days=1)  # 从缴费次日起


def test_last_day_is_zero_days_left() -> None:
    assert deadline(BIRTH, last_day(BIRTH)).days_left == 0


def test_every_day_of_a_year_is_consistent() -> None:
    """Exhaustive: for any birth date the 90th day is birth + 89, and day 91 is late."""
    for offset in range(366 * 4):
        birth = date(2026, 1, 1) + timedelta(days=offset)
        last = last_day(birth)
        assert (last - birth).days == 89
        assert deadline(birth, last).standing is Standing.LAST
        assert deadline(birth, last + timedelta(days=1)).standing is Standing.LATE
        assert deadline(birth, last - timedelta(days=1)).standing is Standing.WITHIN


@pytest.mark.parametrize(
    ("birth", "last"),
    [
        (date(2028, 1, 1), date(2028, 3, 30)),  # leap year: February has 29 days
        (date(2027, 1, 1), date(2027, 3, 31)),  # common year
        (date(2027, 12, 1), date(2028, 2, 28)),  # across New Year into a leap February
        (date(2027, 12, 2), date(2028, 2, 29)),
        (date(2027, 12, 3), date(2028, 3, 1)),
        (date(2028, 2, 29), date(2028, 5, 28)),  # born on a leap day
    ],
)
def test_leap_years(birth: date, last: date) -> None:
    assert last_day(birth) == last


def test_future_birth_date_is_a_plan() -> None:
    rule = deadline(date(2026, 10, 1), date(2026, 3, 1))
    assert rule.standing is Standing.FUTURE
    assert rule.last_day == date(2026, 12, 29)
