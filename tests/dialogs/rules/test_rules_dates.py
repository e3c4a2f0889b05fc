"""Dates anywhere in a message; a date without a year is the latest one not after today."""

from __future__ import annotations

from datetime import date

import pytest

from dialogs.rules.dates import cn_int, find_date, find_dates, format_cn, latest_not_after
from dialogs.rules.month_spans import past_period

TODAY = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("孩子2026年10月1日出生", date(2026, 10, 1)),
        ("2026年10月1号", date(2026, 10, 1)),
        ("生日是2026-10-01", date(2026, 10, 1)),
        ("2026/10/01", date(2026, 10, 1)),
        ("2026.10.1", date(2026, 10, 1)),
        ("2026 年 2 月 10 日", date(2026, 2, 10)),
        ("１０月１日", date(2025, 10, 1)),  # full-width digits, no year: last year
        ("10月1日", date(2025, 10, 1)),
        ("10月1号生的", date(2025, 10, 1)),
        ("10月1生的", date(2025, 10, 1)),
        ("2月10", date(2026, 2, 10)),
        ("10.1", date(2025, 10, 1)),
        ("10/1", date(2025, 10, 1)),
        ("2月10日", date(2026, 2, 10)),
        ("2.10出生", date(2026, 2, 10)),
        ("3月1日", date(2026, 3, 1)),  # today itself is "not after today"
        ("3月2日", date(2025, 3, 2)),  # tomorrow: last year's
        ("十月一日", date(2025, 10, 1)),
        ("二月二十八号", date(2026, 2, 28)),
        ("今天出生的", TODAY),
        ("昨天生的", date(2026, 2, 28)),
        ("前天", date(2026, 2, 27)),
    ],
)
def test_forms(text: str, expected: date) -> None:
    hit = find_date(text, TODAY)
    assert hit is not None and hit.value == expected


@pytest.mark.parametrize(
    "text", ["交了100.5元", "2.5万", "孩子3岁", "830元", "第90天", "6.5%", "没有日期"]
)
def test_not_dates(text: str) -> None:
    assert find_date(text, TODAY) is None


@pytest.mark.parametrize("text", ["2026年2月30日", "2月30日", "13月1日", "2025-02-29"])
def test_impossible_dates_are_flagged_not_guessed(text: str) -> None:
    hit = find_date(text, TODAY)
    assert hit is not None and hit.invalid


def test_feb_29_without_year_is_the_latest_leap_day() -> None:
    assert latest_not_after(2, 29, date(2029, 3, 1)) == date(2028, 2, 29)
    assert latest_not_after(2, 29, date(2028, 2, 29)) == date(2028, 2, 29)
    assert latest_not_after(2, 29, date(2028, 2, 28)) == date(2024, 2, 29)
    hit = find_date("2月29日", date(2028, 3, 15))
    assert hit is not None and hit.value == date(2028, 2, 29)


def test_year_explicit_future_date_is_kept() -> None:
    hit = find_date("预产期2026年10月1日", TODAY)
    assert hit is not None and hit.value == date(2026, 10, 1) and hit.had_year


def test_several_dates_in_reading_order() -> None:
    hits = find_dates("2月10日出生，2026-03-01去办", TODAY)
    assert [h.value for h in hits] == [date(2026, 2, 10), date(2026, 3, 1)]


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("12", 12),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十三", 23),
        ("三十一", 31),
        ("两", 2),
        ("", None),
        ("十十", None),
    ],
)
def test_cn_int(token: str, value: int | None) -> None:
    assert cn_int(token) == value


def test_format_cn() -> None:
    assert format_cn(date(2026, 5, 10)) == "2026年5月10日"


def test_a_year_in_chinese_digits_is_that_year() -> None:
    """ "于二〇二七年二月二十八日方为其缴费": 2027, never the latest 2月28日 before today."""
    hits = find_dates("于二〇二七年二月二十八日方为其缴费", date(2026, 12, 2))
    assert [h.value for h in hits] == [date(2027, 2, 28)] and hits[0].had_year
    assert find_dates("2026年十月一日", date(2026, 12, 2))[0].value == date(2026, 10, 1)


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("上周生的", date(2026, 6, 8), date(2026, 6, 14)),
        ("上上个星期出生", date(2026, 6, 1), date(2026, 6, 7)),
        ("上个月生的", date(2026, 5, 1), date(2026, 5, 31)),
        ("上上个月出生的", date(2026, 4, 1), date(2026, 4, 30)),
    ],
)
def test_a_past_week_or_month_is_its_whole_range(text: str, first: date, last: date) -> None:
    """ "上周生的" on Saturday 2026-06-20: Monday to Sunday of last week, not one guessed day."""
    span = past_period(text, date(2026, 6, 20))
    assert span is not None and (span.first, span.last) == (first, last)


@pytest.mark.parametrize("text", ["上周五生的", "上个月15号生的", "上个月底生的", "上个月中旬"])
def test_a_named_day_or_third_is_not_the_whole_period(text: str) -> None:
    """A weekday, a day number or a third of the month is read by its own reader."""
    assert past_period(text, date(2026, 6, 20)) is None
