"""Days of a month as people name them: a third of a month ("9月中旬", "下个月初"), a
weekday of a counted week ("上周五", "下周二"), a day by its number ("12号", "下个月20号").

Pure: the clock is passed in. Split from `dialogs.rules.everyday` (births and ages) and
shared with `dialogs.rules.ahead` (days to go).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from dialogs.rules.dates import DaySpan, cn_int

# "9月中旬", "八月底", "下个月初", "上个月底", "月底": a third of a month (上旬 1–10,
# 中旬 11–20, 下旬 21–end), of a month by number or of one counted from this one.
_MONTH_THIRD = re.compile(
    r"(?:(\d{1,2}|[一二三四五六七八九十]{1,3})\s*月份?|((?:上上|下下|再下|上|下)个?月|这个月|本月|(?<![\d一二三四五六七八九十])月))"
    r"\s*(上旬|中旬|下旬|初|中|底|末)"
)
_THIRDS = {"上旬": 0, "初": 0, "中旬": 1, "中": 1, "下旬": 2, "底": 2, "末": 2}
_MONTH_SHIFT = {"上上": -2, "下下": 2, "再下": 2, "上": -1, "下": 1}  # "再下个月" = 下下个月


def month_third(norm: str, today: date, ahead: bool) -> DaySpan | None:
    """The days of a month's third ("9月中旬" is 11–20): in the coming year when `ahead`
    (a day to go), else in the year up to today (a birth), cut at today; None when that
    third lies wholly on the other side of today."""
    m = _MONTH_THIRD.search(norm)
    if m is None:
        return None
    number, relative, part = m.groups()
    first = today.replace(day=1)
    if number is not None:
        month = cn_int(number)
        if month is None or not 1 <= month <= 12:
            return None
        later = month > today.month if not ahead else month < today.month
        first = date(today.year + (later if ahead else -later), month, 1)
    else:
        step = _MONTH_SHIFT.get(relative[:2], _MONTH_SHIFT.get(relative[:1], 0))
        first = _add_months(first, step)
    end = _add_months(first, 1) - timedelta(days=1)
    third = _THIRDS[part]
    start = first.replace(day=1 + 10 * third)
    stop = end if third == 2 else first.replace(day=10 + 10 * third)
    if ahead:
        start = max(start, today)
    else:
        stop = min(stop, today)
    return DaySpan(start, stop, m.group(0)) if start <= stop else None


def _add_months(first: date, months: int) -> date:
    """The first day of the month `months` after the one `first` opens."""
    index = first.month - 1 + months
    return date(first.year + index // 12, index % 12 + 1, 1)


# "上周五", "这个星期一", "上上礼拜三", "下周二": a weekday of a week counted from this one.
_WEEKDAY = re.compile(r"(上上|上|这|本|下)\s*(?:个)?\s*(?:周|星期|礼拜)\s*([一二三四五六日天1-7])")
_WEEKDAY_INDEX = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEK_SHIFT = {"上上": -2, "上": -1, "这": 0, "本": 0, "下": 1}


def weekday_span(norm: str, today: date) -> DaySpan | None:
    """ "上周五" = Friday of last week (weeks start on Monday, as in China)."""
    m = _WEEKDAY.search(norm)
    if m is None:
        return None
    raw = m.group(2)
    index = int(raw) - 1 if raw.isdigit() else _WEEKDAY_INDEX[raw]
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=_WEEK_SHIFT[m.group(1)])
    day = monday + timedelta(days=index)
    return DaySpan(day, day, m.group(0))


def numbered_day(pattern: re.Pattern[str], norm: str, today: date, step: int) -> DaySpan | None:
    """Day N of a month as `pattern`'s first group says it: the nearest on or before today
    (`step` -1, a day that has been) or on or after it (`step` 1, a day to go), within
    three months."""
    m = pattern.search(norm)
    n = cn_int(m.group(1)) if m else None
    if m is None or n is None or not 1 <= n <= 31:
        return None
    for k in range(3):
        day = month_day(today, k * step, n)
        if day is not None and (day <= today if step < 0 else day >= today):
            return DaySpan(day, day, m.group(0))
    return None


def month_day(today: date, months: int, n: int) -> date | None:
    """Day `n` of the month `months` away from today's (None when that month has none)."""
    month = (today.month + months - 1) % 12 + 1
    year = today.year + (today.month + months - 1) // 12
    try:
        return date(year, month, n)
    except ValueError:
        return None


# "上周生的", "上上个星期", "上个月生的": a whole past week or month, when no weekday, day
# or third of it is said (those are read above).
_PAST_WEEK = re.compile(r"(上上|上)\s*(?:个)?\s*(?:周|星期|礼拜)(?!\s*[一二三四五六日天1-7])")
_PAST_MONTH = re.compile(
    r"(上上|上)\s*个?\s*月(?!\s*(?:\d|[一二三四五六七八九十]|上旬|中旬|下旬|初|中|底|末|份?\d))"
)


def past_period(norm: str, today: date) -> DaySpan | None:
    """The days of last week (Monday to Sunday) or last month, as a range: a birth "上周"
    is any of seven days, so a rule that needs the day asks back when they disagree."""
    m = _PAST_WEEK.search(norm)
    if m is not None:
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=_WEEK_SHIFT[m.group(1)])
        return DaySpan(monday, monday + timedelta(days=6), m.group(0))
    m = _PAST_MONTH.search(norm)
    if m is None:
        return None
    first = _add_months(today.replace(day=1), _MONTH_SHIFT[m.group(1)])
    return DaySpan(first, _add_months(first, 1) - timedelta(days=1), m.group(0))
