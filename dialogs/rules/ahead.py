"""Days a parent asks about ahead of today: "后天呢", "下周才去办", "再过十天", "国庆节去办",
"元旦过完再等一个礼拜", "下周五去办", a year-less date in the coming year.

Pure: the clock is passed in. Split from `dialogs.rules.everyday` (which reads the days
behind today, such as a birth day) to keep each module to one job.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, timedelta

from dialogs.rules.dates import (
    RELATIVE_DAYS,
    DaySpan,
    SpanReader,
    cn_int,
    find_dates,
    first_span,
    latest_not_after,
)
from dialogs.rules.everyday import (
    NUMBER,
    HolidayRule,
    cn_number,
    holiday_hit,
    holiday_to_go,
    next_holiday,
)
from dialogs.rules.month_spans import month_day, month_third, numbered_day, weekday_span

_AHEAD_DAYS = re.compile(r"(?:再过|过)\s*" + NUMBER + r"\s*天|" + NUMBER + r"\s*天(?:以后|之后|后)")
_AHEAD_WORDS = {"大后天": 3, "后天": 2, "明天": 1, "明儿": 1}
_GO_DAYS = {"大后天": 3, "后天": 2, "明天": 1, "今天": 0, "今日": 0}
_GO_WORD_DAY = re.compile(
    r"(大后天|后天|明天|今天|今日)\s*(?:就|再|才|先)?\s*(?:去办|去交|去|办|交)"
)
_AHEAD_WEEK = re.compile(r"下(?:个)?(?:周|星期|礼拜)")
_AHEAD_MONTH = re.compile(r"(?<![下再])下(?:个)?月")  # 下下个月 is not next month
_NEXT_MONTH_DAY = re.compile(
    r"(?<![下再])下(?:个)?月\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*[号日]"
)
# "7号去办", "8号再去": a day of the month said with going, the next such day.
_GO_ON_DAY = re.compile(
    r"(?<![\d月.\-/])(\d{1,2}|[一二三四五六七八九十]{1,3})\s*[号日]\s*(?:再|才|就|过去)?\s*去"
)


# "元旦过完再等一个礼拜", "国庆后再过三天": a span of time after a holiday.
_AFTER = re.compile(
    r"^\s*(?:那天|节)?\s*(?:过完|过了|完了|之后|以后|后)?\s*再?\s*(?:等|过)\s*"
    + NUMBER
    + r"\s*(?:个)?\s*(天|周|星期|礼拜)"
)


def _after_holiday(norm: str, today: date, holidays: Mapping[str, HolidayRule]) -> DaySpan | None:
    """The holiday's next date plus the time said right after its name."""
    found = holiday_hit(norm, holidays)
    if found is None:
        return None
    m = _AFTER.search(norm[norm.find(found[0]) + len(found[0]) :])
    n = cn_number(m.group(1)) if m else None
    upcoming = next_holiday(found[1], today)
    if m is None or n is None or upcoming is None:
        return None
    day = upcoming + timedelta(days=int(n * (1 if m.group(2) == "天" else 7)))
    return DaySpan(day, day, found[0] + m.group(0))


def ahead_span(text: str, today: date, holidays: Mapping[str, HolidayRule]) -> DaySpan | None:
    """A future day a parent asks about ("后天呢", "下周才去办", "再过十天", "国庆节去办",
    "元旦过完再等一个礼拜"). The readers are tried in this order; the first that finds
    something decides (the day said with going before a holiday or 明天 said beside it)."""
    readers: tuple[SpanReader, ...] = (
        _said_going,
        lambda n, t: _after_holiday(n, t, holidays),
        _relative_word,
        _days_later,
        lambda n, t: month_third(n, t, ahead=True),
        _weekday_ahead,
        _next_week,
        _next_month_day,
        _next_month,
        _go_on_day,
        lambda n, t: _holiday_ahead(n, t, holidays),
        _year_less_date,
        _today_word,
    )
    return first_span(readers, unicodedata.normalize("NFKC", text), today)


def _said_going(norm: str, today: date) -> DaySpan | None:
    """ "明天就五一放假了，今天去办": the day said with going."""
    m = _GO_WORD_DAY.search(norm)
    if m is None:
        return None
    day = today + timedelta(days=_GO_DAYS[m.group(1)])
    return DaySpan(day, day, m.group(1))


def _relative_word(norm: str, today: date) -> DaySpan | None:
    for word, days in _AHEAD_WORDS.items():
        if word in norm:
            day = today + timedelta(days=days)
            return DaySpan(day, day, word)
    return None


def _days_later(norm: str, today: date) -> DaySpan | None:
    """ "再过十天", "三天后"."""
    m = _AHEAD_DAYS.search(norm)
    n = cn_number(m.group(1) or m.group(2)) if m else None
    if m is None or n is None:
        return None
    day = today + timedelta(days=int(n))
    return DaySpan(day, day, m.group(0))


def _weekday_ahead(norm: str, today: date) -> DaySpan | None:
    named = weekday_span(norm, today)
    return named if named is not None and named.first >= today else None  # "下周五去办"


def _next_week(norm: str, today: date) -> DaySpan | None:
    if not _AHEAD_WEEK.search(norm):
        return None
    monday = today + timedelta(days=7 - today.weekday())
    return DaySpan(monday, monday + timedelta(days=6), "下周")


def _next_month_day(norm: str, today: date) -> DaySpan | None:
    """ "下个月20号再去打": that day of next month, not the month's first."""
    m = _NEXT_MONTH_DAY.search(norm)
    n = cn_int(m.group(1)) if m else None
    on = month_day(today, 1, n) if m is not None and n is not None else None
    return DaySpan(on, on, m.group(0)) if on is not None and m is not None else None


def _next_month(norm: str, today: date) -> DaySpan | None:
    if not _AHEAD_MONTH.search(norm):
        return None
    first = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return DaySpan(first, last, "下个月")


def _holiday_ahead(norm: str, today: date, holidays: Mapping[str, HolidayRule]) -> DaySpan | None:
    found = holiday_hit(norm, holidays)
    upcoming = holiday_to_go(found[1], today) if found is not None else None
    if found is None or upcoming is None:
        return None
    return DaySpan(upcoming, upcoming, found[0])


def _year_less_date(norm: str, today: date) -> DaySpan | None:
    """A year-less date within the coming year: the latest one not after today + 365 days.
    A date said to be past ("过了11月15号没打") is a deadline already missed, not a day to
    go: it is skipped, so the verdict is computed for today. (今天/昨天 are read against
    the real today, not the shifted one: "今天去办" is today.)"""
    for hit in find_dates(norm, today + timedelta(days=365)):
        said = norm[hit.span[0] : hit.span[1]]
        if hit.value is not None and not hit.had_year and _done_on(norm[hit.span[1] :]):
            # "9月2号刚拿到的证书": the latest such day, this year's.
            done = latest_not_after(hit.value.month, hit.value.day, today)
            if done is not None:
                return DaySpan(done, done, said)
        if hit.value is not None and hit.value >= today and said not in RELATIVE_DAYS:
            if _said_past(norm[: hit.span[0]]):
                continue
            day = _earliest(hit.value, today) if not hit.had_year else hit.value
            return DaySpan(day, day, said)
    return None


def _done_on(after: str) -> bool:
    """The words after a date say something was done on it ("9月2号刚拿到", "10号已经交了"):
    a day behind today, not a day to go."""
    return after.lstrip().startswith(_DONE_AFTER)


def _earliest(day: date, today: date) -> date:
    """The same month and day a year earlier when that is still not before today
    ("今天十一月三号" on 11月3日 is today, not next year's)."""
    try:
        before = day.replace(year=day.year - 1)
    except ValueError:  # 2月29日
        return day
    return before if before >= today else day


def _today_word(norm: str, today: date) -> DaySpan | None:
    word = next((w for w in ("今天", "今日") if w in norm), None)
    return DaySpan(today, today, word) if word is not None else None


_DONE_AFTER = (
    "刚拿到",
    "才拿到",
    "拿到了",
    "刚领到",
    "领到了",
    "刚办",
    "已经",
    "就已经",
    "刚取得",
    "取得了",
)
_PAST_MARKERS = ("过了", "超过", "超过了", "错过", "错过了", "晚于", "已过", "过完")
# "假期过完10月8号再去": what is over is the holiday, and the date is the day to go.
_SPELL_OVER = ("假期", "假", "节", "年", "长假", "假日")


def _said_past(before: str) -> bool:
    """The words before a date say it has passed ("过了11月15号没打"), not that a holiday
    will be over by then."""
    before = before.rstrip()
    for marker in _PAST_MARKERS:
        if before.endswith(marker):
            return not before[: -len(marker)].rstrip().endswith(_SPELL_OVER)
    return False


def _go_on_day(norm: str, today: date) -> DaySpan | None:
    """The next day of the month numbered as said, on or after today."""
    return numbered_day(_GO_ON_DAY, norm, today, 1)
