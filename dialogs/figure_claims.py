"""A figure of a page's rule, said back to be confirmed ("出生后60天以内要参保，是这样吧",
"不是60天内办吗", "申请是7月到9月吧", "核定表11月30号前打印对吧", "公示是3天吧"): the
reply opens with 对 or 不对 and the page's own statement, before the entry that supports it.

A parent who misremembers a figure and gets the right rule without being told they were
wrong keeps the wrong figure; the clerk says so first. Pure over the vocabulary and a turn.
The figures and what the page says of them are data (`figure_claims` in understanding.yaml).
"""

from __future__ import annotations

import re

from dialogs.dialogue import Turn
from dialogs.rules.everyday import cn_number
from knowledge.schema import FigureClaim, Understanding

_N = r"(\d{1,3}|[一二两三四五六七八九十]{1,3})"
# Each kind's form, its numbers as groups; a day count must be a time limit ("60天内",
# "不是60天吗"), never an age ("出生60天了").
_FORMS = {
    "days_within": re.compile(
        rf"{_N}\s*(?:个)?\s*(?:天|日)\s*(?:内|以内|之内|里|期限|时限)|不是\s*{_N}\s*天(?=吗|吧|嘛|么|啊|？|\?|$)"
    ),
    "month_span": re.compile(
        rf"{_N}\s*月(?:份|\d{{1,2}}[日号])?\s*(?:到|至|-|~|—|－|～)\s*{_N}\s*月"
    ),
    "day_before": re.compile(rf"{_N}\s*月\s*{_N}\s*[日号]?\s*(?:前|之前|以前|截止|为止)"),
    "count": re.compile(rf"{_N}\s*(?:个)?\s*(?:工作日|天)"),
}


def said_figure(claim: FigureClaim, said: str) -> tuple[list[int], str] | None:
    """The figure of `claim`'s kind the message says, as whole numbers, and the words that
    say it; None if it says none."""
    m = _FORMS[claim.kind].search(said)
    if m is None:
        return None
    numbers = [cn_number(g) for g in m.groups() if g is not None]
    whole = [int(n) for n in numbers if n is not None and n == int(n)]
    if not whole or len(whole) != len(numbers):
        return None
    return whole, m.group(0)


def figure_check(vocab: Understanding, turn: Turn) -> tuple[bool, str, str] | None:
    """(whether it is the page's, what the page says, the figure as said) for the first of
    the city's figures the message says to be confirmed; None when it says none."""
    said = turn.frame.text.replace(" ", "")
    tagged = any(t in said for t in vocab.claim_tags)
    if any(w in said for w in vocab.plan_words):
        return None
    # The claim whose own words the message says most specifically first ("入学指标数是几号
    # 前认定的" is the quota's day, though it says 积分入医 too).
    for claim in sorted(vocab.figure_claims, key=lambda c: -_named(c, said)):
        if claim.city != turn.city or (claim.words and not _named(claim, said)):
            continue
        figure = said_figure(claim, said)
        if figure is None:
            continue
        at = said.find(figure[1])  # "不是60天(内)吗": the figure said as a doubt
        denied = figure[1].startswith("不是") or "不是" in said[max(0, at - 3) : at]
        if not (tagged or denied):
            continue
        if claim.claim_words and not denied and not any(w in said for w in claim.claim_words):
            continue
        return figure[0] == claim.value, claim.fact, figure[1].removeprefix("不是")
    return None


def _named(claim: FigureClaim, said: str) -> int:
    """How many of the claim's words the message says (0: none)."""
    return sum(w in said for w in claim.words)
