"""Dates as people say them: holidays, relative days, a child's age.

Pure functions with the clock (`today`) passed in. Holiday names and rules are data
(understanding.yaml `holidays`); lunar festivals and solar terms come from `lunar_python` (a
maintained calendar library), China's official days off from `dialogs.rules.workdays`.

A birth date is in the past ("中秋节那天出生": the latest 中秋 not after today), a "what if"
date in the future ("后天呢"). A phrase not pinned to one day ("三个月大") is a range, so a
rule that needs the exact day asks back instead of guessing — never today by default.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal, Protocol

from dialogs.rules.dates import RELATIVE_DAYS, DaySpan, SpanReader, cn_int, find_dates, first_span
from dialogs.rules.month_spans import month_third, numbered_day, past_period, weekday_span
from dialogs.rules.workdays import days_off_since


@dataclass(frozen=True, slots=True)
class Holiday:
    """How to find a holiday in a year: a solar or lunar month/day, the eve of the lunar
    new year, or a solar term by name (清明)."""

    kind: Literal["solar", "lunar", "lunar_eve", "term"]
    month: int = 0
    day: int = 0
    term: str = ""
    days_off: int = 0  # statutory days off from the holiday on


HolidayRule = Holiday
Holidays = Mapping[str, HolidayRule]  # by name
Years = Mapping[str, int]  # 去年 -> -1: a year said before a holiday


class _HolidayLike(Protocol):
    kind: Literal["solar", "lunar", "lunar_eve", "term"]
    month: int
    day: int
    term: str
    days_off: int


# The tables built last, with the knowledge's table each came from (a reload replaces that
# table, never changes it): the current one and the one before a reload.
_BUILT: list[tuple[Mapping[str, _HolidayLike], dict[str, Holiday]]] = []


def holidays_from(specs: Mapping[str, _HolidayLike]) -> dict[str, Holiday]:
    """The holiday table of the knowledge files as rule values: built once per table (a
    flow asks on every message it reads for a birth day, ~1 % of a WeChat reply's CPU), so
    the same dict for the same table — to read, not to change."""
    for table, built in _BUILT:
        if table is specs:
            return built
    built = {name: Holiday(h.kind, h.month, h.day, h.term, h.days_off) for name, h in specs.items()}
    _BUILT[:] = [(specs, built), *_BUILT[:1]]
    return built


NUMBER = r"(\d{1,3}|[一二两三四五六七八九十百]{1,4}|半)"


def cn_number(token: str) -> float | None:
    """'50', '五十', '一百', '半' -> number; None when it is not one."""
    token = unicodedata.normalize("NFKC", token).strip()
    if token == "半":
        return 0.5
    if token.startswith("一百") or token == "百":
        rest = token[2:] if token.startswith("一百") else ""
        tail = cn_int(rest.lstrip("零")) if rest else 0
        return None if tail is None else 100.0 + tail
    value = cn_int(token)
    return None if value is None else float(value)


@lru_cache(maxsize=4096)
def holiday_on(rule: HolidayRule, year: int) -> date | None:
    """The Gregorian date of a holiday rule in `year` (None if none). Cached: a solar term
    costs lunar_python about a millisecond, and the same few are asked again and again."""
    kind, month, day = rule.kind, rule.month, rule.day
    try:
        if kind == "solar":
            return date(year, month, day)
        from lunar_python import Lunar  # imported on first use: most turns need no calendar

        if kind == "lunar":
            solar = Lunar.fromYmd(year, month, day).getSolar()
            return date(solar.getYear(), solar.getMonth(), solar.getDay())
        if kind == "lunar_eve":  # 除夕: the day before the lunar new year of `year + 1`
            solar = Lunar.fromYmd(year + 1, 1, 1).getSolar()
            return date(solar.getYear(), solar.getMonth(), solar.getDay()) - timedelta(days=1)
        # A lunar year's table holds the terms from the previous 冬至 on: look in two.
        for lunar_year in (year, year + 1):
            term = Lunar.fromYmd(lunar_year, 6, 1).getJieQiTable().get(rule.term)
            if term is not None and term.getYear() == year:
                return date(term.getYear(), term.getMonth(), term.getDay())
        return None
    except (ValueError, IndexError):
        return None


def last_holiday(rule: HolidayRule, today: date) -> date | None:
    """The latest occurrence on or before today (a birth date named by its holiday)."""
    for year in (today.year, today.year - 1, today.year - 2):
        found = holiday_on(rule, year)
        if found is not None and found <= today:
            return found
    return None


def next_holiday(rule: HolidayRule, today: date) -> date | None:
    """The next occurrence on or after today ("国庆后三天去办")."""
    for year in (today.year, today.year + 1):
        found = holiday_on(rule, year)
        if found is not None and found >= today:
            return found
    return None


def holiday_to_go(rule: HolidayRule, today: date) -> date | None:
    """The day meant by "国庆去办": the next occurrence, or today while this year's days off
    last ("国庆人多" on 10月3日 is this 国庆). Never a birth day: that is the holiday itself."""
    found = holiday_on(rule, today.year)
    if found is not None and found < today and days_off_since(found, today, rule.days_off):
        return today
    return next_holiday(rule, today)


def holiday_hit(text: str, holidays: Mapping[str, HolidayRule]) -> tuple[str, HolidayRule] | None:
    """The holiday the text names; of several, the one said last (the longer at one end):
    "过完年初七" is the seventh day of the new year, not the new year itself."""
    found = [(at + len(n), len(n), n) for n in holidays if (at := _said_at(text, n)) >= 0]
    if not found:
        return None
    name = max(found)[2]
    return name, holidays[name]


_TODAY_WORDS = frozenset(w for w, back in RELATIVE_DAYS.items() if back == 0)  # 今天, 今日
_NUMERAL_BEFORE = "一二三四五六七八九十零〇两第0123456789"
_UNIT_AFTER = "月号日点岁个天年周"


def _said_at(text: str, name: str) -> int:
    """Where `name` is last said as a holiday, -1 if not: "十一" is 国庆 in "十一去办", not in
    "十一月十五号" or "二十一号"."""
    at = text.rfind(name)
    while at >= 0:
        after = text[at + len(name) : at + len(name) + 1]
        before = text[at - 1 : at] if at else ""
        if not (after and after in _UNIT_AFTER) and not (before and before in _NUMERAL_BEFORE):
            return at
        at = text.rfind(name, 0, at)
    return -1


_PAST_MONTH_DAY = re.compile(
    r"(上上个?月|上个?月|这个?月|本月)\s*" + r"(\d{1,2}|[一二三四五六七八九十]{1,3})\s*[号日]"
)
_MONTH_ONLY = re.compile(
    r"(?<![\d年])(\d{1,2}|[一二三四五六七八九十]{1,3})\s*(?:月份|月)"
    r"(?:\s*(?:初|中|底|末|份))?\s*(?:出生|生的|生|出世)"
)
_BARE_DAY = re.compile(r"(?<![\d月.\-/])(\d{1,2}|[一二三四五六七八九十]{1,3})\s*[号日](?!子)")
# "90天内", "出生后90天以后", "过了90天", "从出生算90天", "离90天": the rule's period, not
# the child's age.
_AGE_DAYS = re.compile(
    r"(?<!过了)(?<!超过)(?<!超了)(?<!过)(?<!前)(?<!后)(?<!算)(?<!离)(?<!按)(?<!距)"
    + r"(?:出生|生了|生下来|满)?\s*"
    + r"(?<![\d一二两三四五六七八九十百])"
    + NUMBER
    + r"\s*(?:多)?\s*天(?!\s*(?:内|以内|之内|后|以后|之后|期限|规定|的规定))"
)
_AGE_WEEKS = re.compile(NUMBER + r"\s*(?:个)?\s*(?:多)?\s*(?:星期|周)(?:大|了|前|之前|以前)")
# "刚满3周": that many weeks to the day, as 满月 is a month (not 周岁, an age in years).
_FULL_WEEKS = re.compile(r"满\s*" + NUMBER + r"\s*(?:个)?\s*(?:星期|周)(?!岁)")
# "四个月大", "三个多月了", "一个半月" (a month and a half; at the end of a message too:
# "不对，是四个半月").
_AGE_MONTHS = re.compile(
    NUMBER
    + r"\s*(?:个)?\s*(多|半)?\s*月"
    + r"(?:大|了|前|之前|以前|的宝宝|的孩子|宝宝|\s*[了啦呀]?\s*[。！!]?\s*$)"
)


def birth_span(
    text: str,
    today: date,
    holidays: Mapping[str, HolidayRule],
    fixed: Mapping[str, int],
    years: Mapping[str, int] | None = None,
) -> DaySpan | None:
    """When a child was born, from anything a parent may say; None if nothing is said.

    Explicit dates, a holiday ("元旦那天", "去年春节": `years` before it), "上个月15号", "12号",
    an age ("出生50天", "四个月大": a range) or a fixed age word (`fixed`: 刚出生 -> 0 days,
    满月 -> 30 ...). The readers are tried in order; the first that finds one decides."""
    norm = unicodedata.normalize("NFKC", text)
    readers: tuple[SpanReader, ...] = (
        _explicit_date,
        lambda n, t: _holiday_birth(n, t, holidays, years or {}),
        _this_or_last_month_day,
        _past_weekday,
        lambda n, t: month_third(n, t, ahead=False),
        _month_only,
        lambda n, t: _fixed_age(n, t, fixed),
        _age_in_days,
        _age_in_weeks,
        _age_in_months,
        _bare_day,
    )
    span = first_span(readers, norm, today)
    if span is not None and span.last == today:
        # "今天出生满50天", "今天满月了": today is when the age is counted, not the birth;
        # "今天大年初一，宝宝是上个月15号出生的": today is when the parent writes. Any other
        # day said, before today, is the birth.
        said_today = span.phrase in _TODAY_WORDS  # not a holiday that falls today
        others = readers[1:] if said_today else readers[6:10]  # else the ages only
        aged = (a for r in others if (a := r(norm, today)) is not None and a.last < today)
        return next(aged, span)
    return span


_CLAUSE_BREAK = re.compile(r"[，,。.;；!！?？\n]")
BIRTH_WORD_GAP = 8  # characters between a date and its birth word ("7月28号在天津出生的")
_AGE_UNITS = "天周个"  # a birth word starting with a unit counts after a number only
_COUNTS = frozenset("0123456789一二两三四五六七八九十百半多几")


def said_of_birth(
    text: str, span: DaySpan, birth_words: Iterable[str], errands: Iterable[str] = ()
) -> bool:
    """Whether the day in `text` is the birth day: a birth word in the same clause, close to
    the date, with no errand between them ("今天出生", "元旦那天生的", "出生50天"); not so in
    "今天去交医保，还能从出生当天开始享受吗" or "今天办还算出生90天内吗"."""
    errand = re.compile("|".join(re.escape(e) for e in errands) or "(?!)")
    norm = unicodedata.normalize("NFKC", text)
    at = norm.find(span.phrase)
    if at < 0:
        return True  # the reader rewrote the phrase: nothing to check it against
    end = at + len(span.phrase)
    for word in birth_words:
        for hit in re.finditer(re.escape(word), norm):
            if word[0] in _AGE_UNITS and norm[hit.start() - 1 : hit.start()] not in _COUNTS:
                continue  # "天大" of an age ("50天大"), not of "今天大年初一"
            if hit.start() < end and hit.end() > at:
                return True  # the phrase itself says it ("出生50天")
            gap = norm[end : hit.start()] if hit.start() >= end else norm[hit.end() : at]
            close = len(gap) <= BIRTH_WORD_GAP
            alone = not _CLAUSE_BREAK.split(norm[end:], 1)[0].strip(" 的那天")
            if close and _one_clause(gap, hit.start() >= end or alone) and not errand.search(gap):
                return True
    return False


def _one_clause(gap: str, comma_ok: bool) -> bool:
    """No clause break between the date and its birth word - but one comma where the date is
    its own clause ("就是12月28号，我家宝宝在天津出生了", "宝宝出生了，5月2号")."""
    breaks = _CLAUSE_BREAK.findall(gap)
    return not breaks or (comma_ok and breaks in (["，"], [","]))


def _explicit_date(norm: str, today: date) -> DaySpan | None:
    hits = [h for h in find_dates(norm, today) if h.value is not None]
    # "今天大年初一，宝宝是去年11月1号出生的": with another date said, today is when the
    # parent writes, not the birth.
    others = [h for h in hits if h.value != today]
    hits = others if len(hits) > 1 and others else hits
    if not hits or hits[0].value is None:
        return None
    return DaySpan(hits[0].value, hits[0].value, norm[hits[0].span[0] : hits[0].span[1]])


def _holiday_birth(norm: str, today: date, holidays: Holidays, years: Years) -> DaySpan | None:
    found = holiday_hit(norm, holidays)
    if found is None:
        return None
    low, high = holiday_offset(norm, found[0])
    at = _said_at(norm, found[0])
    shift = years.get(norm[max(0, at - 2) : at])  # "去年春节": that year's, not the last
    # "春节前两天" two days before a 春节 still to come is a birth already past.
    days: list[date | None] = [next_holiday(found[1], today), last_holiday(found[1], today)]
    if shift is not None:  # its day in that calendar year (除夕 is the lunar year's last day)
        days = [holiday_on(found[1], today.year + shift - y) for y in (1, 0)]
        days = [d for d in days if d is not None and d.year == today.year + shift]
    day = next((d for d in days if d is not None and d + timedelta(days=high) <= today), None)
    return DaySpan(day + timedelta(days=low), day + timedelta(days=high), found[0]) if day else None


# "春节前两天", "国庆后一天", "元旦前几天": days before or after the holiday.
_OFFSET = re.compile(r"^\s*(?:的)?\s*(前|后)\s*(\d|[一二两三四五六七几])\s*天")


def holiday_offset(norm: str, name: str) -> tuple[int, int]:
    """Days from the holiday (low, high), (0, 0) for none; "前几天" is a week up to the day."""
    at = _said_at(norm, name)
    m = _OFFSET.match(norm[at + len(name) :]) if at >= 0 else None
    if m is None:
        return 0, 0
    sign = -1 if m.group(1) == "前" else 1
    if m.group(2) == "几":
        return (-7, -2) if sign < 0 else (2, 7)
    n = cn_number(m.group(2))
    days = sign * int(n) if n is not None else 0
    return days, days


def _past_weekday(norm: str, today: date) -> DaySpan | None:
    span = weekday_span(norm, today) or past_period(norm, today)  # "上周五", "上周"
    return span if span is not None and span.first <= today else None


def _this_or_last_month_day(norm: str, today: date) -> DaySpan | None:
    """ "上个月15号", "这个月3号"."""
    m = _PAST_MONTH_DAY.search(norm)
    n = cn_int(m.group(2)) if m else None
    if m is None or n is None:
        return None
    month_start = today.replace(day=1)
    for _ in range(len(m.group(1)) - len(m.group(1).lstrip("上"))):  # 上个月, 上上个月
        month_start = (month_start - timedelta(days=1)).replace(day=1)
    try:
        day = month_start.replace(day=n)
    except ValueError:
        return None
    return DaySpan(day, day, m.group(0))


def _month_only(norm: str, today: date) -> DaySpan | None:
    """ "8月出生的": the whole month (the latest one not after today), as a range."""
    m = _MONTH_ONLY.search(norm)
    month = cn_int(m.group(1)) if m else None
    if m is None or month is None or not 1 <= month <= 12:
        return None
    year = today.year if month <= today.month else today.year - 1
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return DaySpan(first, min(today, nxt - timedelta(days=1)), m.group(0))


def _fixed_age(norm: str, today: date, fixed: Mapping[str, int]) -> DaySpan | None:
    for word in sorted(fixed, key=len, reverse=True):
        if word in norm:
            day = today - timedelta(days=fixed[word])
            return DaySpan(day, day, word)
    return None


def _age_in_days(norm: str, today: date) -> DaySpan | None:
    """ "出生50天": whether the day of birth counts is not said: a 2-day range (wider: 多)."""
    m = _AGE_DAYS.search(norm)
    days_old = cn_number(m.group(1)) if m else None
    if m is None or days_old is None or days_old >= 1000:
        return None
    first = today - timedelta(days=int(days_old) + (9 if "多" in m.group(0) else 0))
    return DaySpan(first, today - timedelta(days=int(days_old) - 1), m.group(0))


def _age_in_weeks(norm: str, today: date) -> DaySpan | None:
    full = _FULL_WEEKS.search(norm)
    weeks = cn_number(full.group(1)) if full else None
    if full is not None and weeks is not None:
        day = today - timedelta(days=int(weeks * 7))
        return DaySpan(day, day, full.group(0))
    m = _AGE_WEEKS.search(norm)
    weeks = cn_number(m.group(1)) if m else None
    if m is None or weeks is None:
        return None
    days = int(weeks * 7)
    if m.group(0).endswith("前"):  # "12周前": that many weeks ago, to the day
        return DaySpan(today - timedelta(days=days), today - timedelta(days=days), m.group(0))
    return DaySpan(today - timedelta(days=days + 6), today - timedelta(days=days), m.group(0))


def _age_in_months(norm: str, today: date) -> DaySpan | None:
    """ "三个月大" is 88–93 days; "三个多月" is more than three months."""
    m = _AGE_MONTHS.search(norm)
    months = cn_number(m.group(1)) if m else None
    if m is None or months is None:
        return None
    if m.group(2) == "半":
        months += 0.5
    more = m.group(2) == "多"
    low = int(months * 30.4) + 1 if more else int(months * 30) - 2
    high = int(months * 31) + (30 if more else 0)
    return DaySpan(today - timedelta(days=high), today - timedelta(days=low), m.group(0))


def _bare_day(norm: str, today: date) -> DaySpan | None:
    """ "12号": this month's 12th if it has come, else the latest month that has one."""
    return numbered_day(_BARE_DAY, norm, today, -1)
