"""Masking of unanswered questions (issue 13 #6): the formats people really type — numbers
split by dots, dashes of every width, brackets, zero-width characters or soft hyphens;
Arabic-Indic, full-width or spelled-out digits; ID numbers in groups, bank cards,
landlines, dates in words, e-mail addresses — never reach a turn record in clear.
Property tests: each format is generated, wrapped in prose, and must leave no digit."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from dialogs.stores.records import redact

SEPARATORS = ["", "", " ", "-", ".", "—", "–", "·", "\u200b", "\u00ad", "\u2060", "  ", "- "]
ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
FULL_WIDTH = "０１２３４５６７８９"
SPOKEN = "零幺二三四五六七八九"  # 幺 for 一, as read out on the phone
WRITTEN = "〇一二三四五六七八九"
PROSE = (
    st.sampled_from(["", "我的电话是", "孩子的", "请联系 ", "号码："]),
    st.sampled_from(["", " 谢谢", "，怎么办医保", "。", " 能办吗"]),
)

digit = st.integers(min_value=0, max_value=9)


def script(digits: list[int], which: str) -> list[str]:
    table = {"ascii": "0123456789", "full": FULL_WIDTH, "arabic": ARABIC_INDIC}[which]
    return [table[d] for d in digits]


def joined(chars: list[str], seps: list[str]) -> str:
    return chars[0] + "".join(s + c for s, c in zip(seps, chars[1:], strict=False))


def no_number_left(masked: str) -> bool:
    return not re.search(r"[0-9]", masked) and not re.search(f"[{WRITTEN}{SPOKEN}]{{4,}}", masked)


@st.composite
def separated(draw: st.DrawFn, digits: list[int]) -> str:
    which = draw(st.sampled_from(["ascii", "full", "arabic"]))
    seps = draw(
        st.lists(st.sampled_from(SEPARATORS), min_size=len(digits) - 1, max_size=len(digits) - 1)
    )
    return joined(script(digits, which), seps)


@st.composite
def phones(draw: st.DrawFn) -> str:
    digits = [1, draw(st.integers(3, 9)), *draw(st.lists(digit, min_size=9, max_size=9))]
    style = draw(st.sampled_from(["separated", "bracketed", "spoken"]))
    if style == "spoken":
        return "".join(SPOKEN[d] for d in digits)
    if style == "bracketed":
        a, b, c = (
            joined([str(d) for d in part], [""] * 4)
            for part in (digits[:3], digits[3:7], digits[7:])
        )
        return f"({a}) {b}-{c}"
    return draw(separated(digits))


@st.composite
def ids(draw: st.DrawFn) -> str:
    digits = draw(st.lists(digit, min_size=17, max_size=17))
    body = draw(separated(digits))
    return body + draw(st.sampled_from(["", " ", "-"])) + draw(st.sampled_from(["X", "x", "7"]))


@st.composite
def cards(draw: st.DrawFn) -> str:
    digits = draw(st.lists(digit, min_size=16, max_size=19))
    sep = draw(st.sampled_from(["", " ", "-", "  "]))
    groups = ["".join(str(d) for d in digits[i : i + 4]) for i in range(0, len(digits), 4)]
    return sep.join(groups)


@st.composite
def landlines(draw: st.DrawFn) -> str:
    area = "0" + "".join(str(d) for d in draw(st.lists(digit, min_size=2, max_size=3)))
    number = draw(st.lists(digit, min_size=7, max_size=8))
    local = draw(separated(number))
    return draw(st.sampled_from([f"{area}-{local}", f"({area}) {local}", f"{area} {local}"]))


def cn_number(n: int) -> str:
    tens, ones = divmod(n, 10)
    return ("" if tens == 0 else ("十" if tens == 1 else WRITTEN[tens] + "十")) + (
        WRITTEN[ones] if ones or not tens else ""
    )


@st.composite
def cn_dates(draw: st.DrawFn) -> str:
    year = "".join(WRITTEN[int(c)] for c in str(draw(st.integers(1990, 2030))))
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 31))
    end = draw(st.sampled_from(["日", "号"]))
    return f"{year}年{cn_number(month)}月{cn_number(day)}{end}"


emails = st.builds(
    lambda user, host, tld: f"{user}@{host}.{tld}",
    st.from_regex(r"[a-z0-9][a-z0-9._+\-]{0,15}", fullmatch=True),
    st.from_regex(r"[a-z0-9][a-z0-9\-]{0,10}", fullmatch=True),
    st.sampled_from(["com", "cn", "com.cn", "net", "org"]),
)


@given(st.one_of(phones(), ids(), cards(), landlines()), *PROSE)
def test_personal_numbers_in_any_format_leave_no_digit(
    number: str, before: str, after: str
) -> None:
    masked = redact(before + number + after)
    assert no_number_left(masked), (before + number + after, masked)
    assert "[" in masked


@given(cn_dates(), *PROSE)
def test_dates_in_words_are_masked(day: str, before: str, after: str) -> None:
    masked = redact(f"{before}孩子{day}出生{after}")
    assert "[DATE]" in masked and not re.search(f"[{WRITTEN}十]{{2,}}年", masked), masked


@given(emails, *PROSE)
def test_email_addresses_are_masked(address: str, before: str, after: str) -> None:
    masked = redact(before + address + after)
    assert "@" not in masked and "[EMAIL]" in masked, masked


def test_the_formats_from_the_issue() -> None:
    for text, mark in [
        ("138.1234.5678", "[PHONE]"),
        ("138—1234—5678", "[PHONE]"),
        ("(138) 1234-5678", "[PHONE]"),
        ("1381 2345 678", "[PHONE]"),
        ("138\u200b1234\u00ad5678", "[PHONE]"),
        ("١٣٨١٢٣٤٥٦٧٨", "[PHONE]"),
        ("幺三八一二三四五六七八", "[PHONE]"),
        ("1101 0119 9003 0712 3X", "[ID]"),
        ("6222 0212 3456 7890 123", "[NUM]"),
        ("022-2345-6789", "[PHONE]"),
        ("二〇二三年五月六日", "[DATE]"),
        ("wang.xiaoming@qq.com", "[EMAIL]"),
    ]:
        assert redact(f"我的是{text}怎么办") == f"我的是{mark}怎么办", text


def test_prose_and_amounts_stay_readable() -> None:
    for text in [
        "住了三年",
        "交了一个月",
        "我家830 100元",
        "2025年的缴费标准",
        "两孩三孩",
        "一二年级",
    ]:
        assert redact(text) == text
