"""Find a calendar date anywhere in a message.

Parents write dates many ways: 2026年10月1日, 10月1号, 10月1, 2026-10-01, 10.1, 10/1, 十月一日,
今天. A date without a year means the latest such date not after `today` (a birth date is
in the past); with an explicit year it is taken as written. An impossible date (2月30日)
is reported as `invalid` so the flow can say so instead of guessing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUM = r"(\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"

_FULL = re.compile(r"(?<!\d)(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*[日号]?(?!\d)")
_FULL_CN = re.compile(r"(?<!\d)(\d{4})\s*年\s*" + _NUM + r"\s*月\s*" + _NUM + r"\s*[日号]?")
_MONTH_DAY = re.compile(_NUM + r"\s*月\s*" + _NUM + r"(?:\s*[日号]|(?![\d十]))")
_SHORT = re.compile(r"(?<![\d./\-])(\d{1,2})[./](\d{1,2})(?![\d./%万元块岁个天年月kKgG])")
RELATIVE_DAYS = {"前天": 2, "昨天": 1, "昨日": 1, "今天": 0, "今日": 0}  # days back

MAX_BACK_YEARS = 8  # enough to find the latest 2月29日


@dataclass(frozen=True, slots=True)
class DateHit:
    """A date found in text. `value` is None when the text names an impossible date."""

    value: date | None
    had_year: bool
    span: tuple[int, int]

    @property
    def invalid(self) -> bool:
        return self.value is None


def cn_int(token: str) -> int | None:
    """'12', '十二', '二十三', '三十一', '两' -> int; anything else -> None."""
    token = unicodedata.normalize("NFKC", token).strip()
    if not token:
        return None
    if token.isdigit():
        return int(token)
    if "十" in token:
        head, _, tail = token.partition("十")
        tens = 1 if head == "" else _CN_DIGITS.get(head)
        ones = 0 if tail == "" else _CN_DIGITS.get(tail)
        if tens is None or ones is None or len(head) > 1 or len(tail) > 1:
            return None
        return tens * 10 + ones
    if len(token) == 1:
        return _CN_DIGITS.get(token)
    return None


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def latest_not_after(month: int, day: int, today: date) -> date | None:
    """The latest month/day on or before `today`; None if month/day never exists."""
    if _make(2000, month, day) is None:  # 2000 is a leap year: covers 2月29日
        return None
    for back in range(MAX_BACK_YEARS + 1):
        candidate = _make(today.year - back, month, day)
        if candidate is not None and candidate <= today:
            return candidate
    return None


_CN_YEAR = re.compile(r"[〇零一二三四五六七八九]{4}(?=\s*年)")
_YEAR_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")


def find_dates(text: str, today: date) -> list[DateHit]:
    """Every date in `text`, in reading order, without overlaps ("二〇二七年" is 2027; the
    spans stay those of `text`: a year in Chinese digits keeps its length)."""
    norm = _CN_YEAR.sub(
        lambda m: m.group(0).translate(_YEAR_DIGITS), unicodedata.normalize("NFKC", text)
    )
    hits: list[DateHit] = []
    taken: list[tuple[int, int]] = []

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= a or span[0] >= b for a, b in taken)

    for m in _FULL.finditer(norm):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        hits.append(DateHit(_make(y, mo, d), True, m.span()))
        taken.append(m.span())
    for m in _FULL_CN.finditer(norm):  # "2027年二月二十八日"
        mo_c, d_c = cn_int(m.group(2)), cn_int(m.group(3))
        if free(m.span()) and mo_c is not None and d_c is not None:
            hits.append(DateHit(_make(int(m.group(1)), mo_c, d_c), True, m.span()))
            taken.append(m.span())
    for pattern in (_MONTH_DAY, _SHORT):
        for m in pattern.finditer(norm):
            if not free(m.span()):
                continue
            mo_i, d_i = cn_int(m.group(1)), cn_int(m.group(2))
            if mo_i is None or d_i is None or not (1 <= mo_i <= 12 and 1 <= d_i <= 31):
                if pattern is _MONTH_DAY:
                    hits.append(DateHit(None, False, m.span()))
                    taken.append(m.span())
                continue
            hits.append(DateHit(latest_not_after(mo_i, d_i, today), False, m.span()))
            taken.append(m.span())
    for word, back in RELATIVE_DAYS.items():
        start = norm.find(word)
        if start >= 0 and free((start, start + len(word))):
            span = (start, start + len(word))
            hits.append(DateHit(today - timedelta(days=back), False, span))
            taken.append(span)
    return sorted(hits, key=lambda h: h.span)


def find_date(text: str, today: date) -> DateHit | None:
    """The first date in `text`, or None."""
    hits = find_dates(text, today)
    return hits[0] if hits else None


def format_cn(value: date) -> str:
    """2026-05-10 -> '2026年5月10日', the form the answers use."""
    return f"{value.year}年{value.month}月{value.day}日"


@dataclass(frozen=True, slots=True)
class DaySpan:
    """A date or a range of possible dates (`first` == `last` when pinned to one day)."""

    first: date
    last: date
    phrase: str

    @property
    def exact(self) -> date | None:
        return self.first if self.first == self.last else None


SpanReader = Callable[[str, date], "DaySpan | None"]  # (normalised text, today) -> days said


def first_span(readers: Sequence[SpanReader], norm: str, today: date) -> DaySpan | None:
    """The days the first reader that finds any says (readers in order of precedence)."""
    return next((span for read in readers if (span := read(norm, today)) is not None), None)
