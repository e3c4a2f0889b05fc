"""China's official working days: the calendar package where it covers a year, the
statutory days off where it does not, and None (never a guess) for the rest."""

from datetime import date

import pytest

from dialogs.rules.workdays import days_off_since, is_workday, next_workday


def test_a_day_off_in_the_window_has_the_next_working_day() -> None:
    assert is_workday(date(2026, 6, 19)) is False  # 端午
    assert next_workday(date(2026, 6, 19)) == date(2026, 6, 22)  # Monday after the break


def test_an_unpublished_year_gives_no_working_day() -> None:
    assert is_workday(date(2099, 6, 1)) is None
    assert next_workday(date(2099, 6, 1)) is None


@pytest.mark.parametrize(
    ("start", "today", "statutory", "off"),
    [
        (date(2026, 10, 1), date(2026, 10, 3), 3, True),  # the calendar: 国庆 break
        (date(2026, 10, 1), date(2026, 10, 9), 3, False),  # back at work
        (date(2028, 10, 1), date(2028, 10, 3), 3, True),  # 2028: the statutory 3 days
        (date(2028, 10, 1), date(2028, 10, 4), 3, False),  # beyond them: not assumed
        (date(2026, 10, 1), date(2026, 9, 30), 3, False),  # before the holiday
    ],
)
def test_a_break_in_progress(start: date, today: date, statutory: int, off: bool) -> None:
    assert days_off_since(start, today, statutory) is off
