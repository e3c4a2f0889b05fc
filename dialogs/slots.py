"""Slot extraction: read the facts a parent states in free text.

Word lists live in knowledge/data/flows.yaml (a curator can add phrasings); this module
only knows how to look for them. Where several options match, the longest match wins, so
"没有居住证" beats "有居住证" and "不是天津户口" beats "天津户口"; an exact tie between two
different options is ambiguous and yields nothing (better to ask than to guess).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from dialogs.rules.dates import DateHit, cn_int, find_date
from knowledge.normalize import fold

_PUNCT = " \t\r\n,.!?;:~，。！？；：、…~～“”\"'‘’()（）【】[]"
PARTICLES = "啊呀吧呢哦噢嘛啦哈了的"  # sentence-final particles, not words


@dataclass(frozen=True, slots=True)
class Choice:
    """One value a slot can take and how people say it."""

    value: str
    words: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True, slots=True)
class SlotSpec:
    slot: str
    choices: tuple[Choice, ...]


def normalize(text: str) -> str:
    """`knowledge.normalize.fold`, then punctuation and trailing particles trimmed:
    '是的！' -> '是', '已辦理' -> '已办理'."""
    out = fold(text).strip(_PUNCT)
    while len(out) > 1 and out[-1] in PARTICLES:
        out = out[:-1].strip(_PUNCT)
    return out


_NEGATIONS = ("没有", "从没", "从未", "还没", "不是", "没", "未", "不", "无", "非")


# What may stand between a negation and the words it negates: "没在苏州上过医保",
# "没给孩子交过医保" (a place or a beneficiary, not a clause of its own).
# (Grammar, not vocabulary: 在 + a short place, 给/帮/为 + the child; no city is named.)
_NEGATION_GAP = re.compile(r"(?:在[^，,。；;！!？?\s没不未]{0,4}|[给帮为](?:孩子|娃|他|她|宝宝))$")


def _negated(text: str, start: int) -> bool:
    """True when a negation stands right before `start` ('没' + '参加过苏州医保'), or
    before a place or a beneficiary that stands before it ('没' + '在苏州' + '上过医保')."""
    if any(text.endswith(n, 0, start) for n in _NEGATIONS):
        return True
    gap = _NEGATION_GAP.search(text, 0, start)
    return gap is not None and any(text.endswith(n, 0, gap.start()) for n in _NEGATIONS)


def _matches(norm: str, choice: Choice) -> list[int]:
    """Lengths of the un-negated matches of a choice's words and patterns in `norm`."""
    found: list[int] = []
    for word in choice.words:
        w = word.lower()
        if not w:
            continue
        at = norm.find(w)
        while at >= 0:
            if w.startswith(_NEGATIONS) or not _negated(norm, at):
                found.append(len(w))
            at = norm.find(w, at + 1)
    for pattern in choice.patterns:
        for m in pattern.finditer(norm):
            if not _negated(norm, m.start()):
                found.append(m.end() - m.start())
    return found


def spot(text: str, spec: SlotSpec) -> str | None:
    """The value whose words or patterns match `text` longest; None if none or a tie.

    A match right after a negation ('没' + '参加过医保') does not count for its option;
    the negated phrasing is listed under the opposite option.
    """
    norm = unicodedata.normalize("NFKC", text).lower()
    best_len, best = 0, set[str]()
    for choice in spec.choices:
        lengths = _matches(norm, choice)
        if not lengths:
            continue
        longest = max(lengths)
        if longest > best_len:
            best_len, best = longest, {choice.value}
        elif longest == best_len:
            best.add(choice.value)
    return best.pop() if len(best) == 1 else None


def extract(text: str, specs: Iterable[SlotSpec]) -> dict[str, str]:
    """Every slot `text` states, by word lists."""
    found: dict[str, str] = {}
    for spec in specs:
        value = spot(text, spec)
        if value is not None:
            found[spec.slot] = value
    return found


# ---------------------------------------------------------------- numbers in phrases
_N = r"(\d{1,3}|[一二两三四五六七八九十]{1,3}|半)"
_DURATION = re.compile(_N + r"\s*(?:多)?\s*(年|个月|个多月)")
_STAY_VERB = re.compile(r"(住|居住|生活|待|呆|来|在苏州|在这)")
_UNDER = re.compile(r"(不到|不满|没满|未满|差)")


def _amount(token: str) -> float | None:
    if token == "半":
        return 0.5
    n = cn_int(token)
    return None if n is None else float(n)


def residence_years(text: str, answering: bool) -> str | None:
    """'住了两年' -> 'yes', '住了8个月' / '不到一年' -> 'no' (threshold: one year, inclusive).

    In free text a duration counts only after a verb of living (住、居住、来…), so '孩子两岁'
    or '交了两年社保' are not read as residence; when the parent is answering the residence
    question (`answering`), a bare '两年' or even '2' is enough.
    """
    norm = unicodedata.normalize("NFKC", text)
    for m in _DURATION.finditer(norm):
        before = norm[max(0, m.start() - 8) : m.start()]
        if not answering and not _STAY_VERB.search(before):
            continue
        amount = _amount(m.group(1))
        if amount is None:
            continue
        years = amount if m.group(2) == "年" else amount / 12
        under = _UNDER.search(norm[max(0, m.start() - 3) : m.start()]) is not None
        if under:
            return "no" if years <= 1 else None
        return "yes" if years >= 1 else "no"
    if answering:
        # A bare number answering "how long" is a number of years ('2' -> two years), read
        # before the reply could be taken for the number of a button.
        bare = normalize(norm)
        amount = _amount(bare) if re.fullmatch(_N, bare) else None
        if amount is not None:
            return "yes" if amount >= 1 else "no"
    return None


# "去年十月从安徽过来苏州打工的", "前年搬来的", "2024年3月来的苏州": when the family came.
_SINCE = re.compile(
    r"(今年|去年|前年|(20\d\d)\s*年)\s*(?:(\d{1,2}|[一二三四五六七八九十]{1,3})\s*月份?)?"
    r"[^，,。；;！!？?]{0,10}?(?:过来|搬来|搬到|来到|来的|来了|来苏州|到苏州|落脚|住进|住到)"
)
_YEARS_BACK = {"今年": 0, "去年": 1, "前年": 2}


def residence_since(text: str, today: date) -> str | None:
    """'去年十月…过来' on 2026-06-15 -> 'no' (eight months); 'yes' / 'no' only when every
    day of the month (or year) said gives the same answer against one year, else None."""
    m = _SINCE.search(unicodedata.normalize("NFKC", text))
    if m is None:
        return None
    word, year_said, month_said = m.groups()
    year = int(year_said) if year_said else today.year - _YEARS_BACK[word]
    month = cn_int(month_said) if month_said else None
    if month_said is not None and (month is None or not 1 <= month <= 12):
        return None
    first = date(year, month or 1, 1)
    last = date(year + (month or 12) // 12, (month or 12) % 12 + 1, 1)  # the day after
    if first > today:
        return None
    try:
        a_year_on = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        a_year_on = today.replace(year=today.year - 1, day=28)
    if last <= a_year_on:  # even the last day said is a year or more ago
        return "yes"
    if first > a_year_on:
        return "no"
    return None


_COUNT = re.compile(
    r"(\d{1,2}|[一二两三四五六七八九十]{1,2})\s*(?:个)?\s*(?:孩子|小孩|娃|孩|宝宝|胎)"
)
_ORDINAL = re.compile(r"老([二三四五六七八九])")


def children_count(text: str, answering: bool) -> int | None:
    """'两个孩子' / '二胎' / '老三' -> 2 / 2 / 3; a bare '3' only when answering the question."""
    norm = unicodedata.normalize("NFKC", text)
    m = _COUNT.search(norm)
    if m:
        return cn_int(m.group(1))
    m = _ORDINAL.search(norm)
    if m:
        return cn_int(m.group(1))
    if answering:
        bare = normalize(norm).rstrip("个")
        n = cn_int(bare) if bare else None
        if n is not None and 1 <= n <= 20:
            return n
    return None


def mentioned_date(text: str, today: date, near: Iterable[str] = ()) -> DateHit | None:
    """The first date in `text`; with `near` words, only if one of them is also in the text."""
    words = list(near)
    if words and not any(w in text for w in words):
        return None
    return find_date(text, today)


def count_known(found: Mapping[str, object]) -> int:
    return sum(1 for v in found.values() if v not in (None, ""))
