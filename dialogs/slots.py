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
_PARTICLES = "啊呀吧呢哦噢嘛啦哈了的"


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
    while len(out) > 1 and out[-1] in _PARTICLES:
        out = out[:-1].strip(_PUNCT)
    return out


_NEGATIONS = ("没有", "从没", "从未", "还没", "不是", "没", "未", "不", "无", "非")


def _negated(text: str, start: int) -> bool:
    """True when a negation stands right before `start` ('没' + '参加过苏州医保')."""
    return any(text.endswith(n, 0, start) for n in _NEGATIONS)


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
