"""China's official working days: holidays and make-up workdays through `chinese_calendar`
(a maintained package), which knows a year only once the State Council has published it;
for a year it does not know, callers say so, or fall back on the statutory days off the
holiday data gives.

Pure functions of the day asked about.
"""

from __future__ import annotations

from datetime import date, timedelta

MAX_DAYS_OFF = 9  # the longest official break (春节, 国庆: 8 days) and a weekend day


def is_workday(day: date) -> bool | None:
    """True/False from China's official calendar (make-up workdays count); None when the
    calendar for that year is not published yet, so callers can say so."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def next_workday(day: date) -> date | None:
    """The first working day after `day` by the official calendar; None when the calendar
    does not cover the days in between."""
    for ahead in range(1, MAX_DAYS_OFF + 2):
        following = day + timedelta(ahead)
        workday = is_workday(following)
        if workday is None:
            return None
        if workday:
            return following
    return None


def days_off_since(start: date, today: date, statutory: int) -> bool:
    """Every day from `start` to today is an official day off: by the calendar package
    where it covers the year, else within the statutory days off."""
    days = (today - start).days
    if not 0 <= days <= MAX_DAYS_OFF:
        return False
    off = [is_workday(start + timedelta(d)) for d in range(days + 1)]
    if any(o is None for o in off):
        return days < statutory
    return not any(off)
