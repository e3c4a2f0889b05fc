"""How many children a parent is asking for: "双胞胎", "俩娃", "三个孩子", "是仨孩子".

A question about the fee for several children is answered with the page's per-child
figures multiplied (200 yuan for twins, never the 100 of one child as if it were the
total). The words for children and for multiple births are data (understanding.yaml);
this module only reads the Chinese numerals in front of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from dialogs.rules.dates import cn_int

# A family's children or a teacher's class ("我们班30个学生 政府一共补多少"): the page's fee
# is per child, so any count multiplies it; more than this is no count of children.
MAX_CHILDREN = 999

_SLANG = {"俩": 2, "仨": 3}  # 俩 = 两个, 仨 = 三个


def children_count(text: str, child_words: Iterable[str], births: Mapping[str, int]) -> int | None:
    """The number of children the message speaks of (2 or more), else None.

    "双胞胎" (from `births`), "俩娃", "仨孩子", "两个孩子", "3个宝宝"; not "第二个孩子" (the
    second child) nor "三娃" without 个 (a nickname as often as a count).
    """
    for word, n in sorted(births.items(), key=lambda kv: -len(kv[0])):
        if word in text:
            return n
    pattern = _count_pattern(tuple(child_words))
    m = pattern.search(text) if pattern is not None else None
    if m is None:
        return None
    raw = m.group(1)
    n = _SLANG.get(raw) or cn_int(raw) or 0
    if raw in "俩仨" or "个" in m.group(0) or "位" in m.group(0) or raw.isdigit():
        return n if 2 <= n <= MAX_CHILDREN else None
    return None  # "二胎" names the second child, "三娃" may be a nickname: not a count


@lru_cache(maxsize=8)
def _count_pattern(child_words: tuple[str, ...]) -> re.Pattern[str] | None:
    """A numeral before one of the words for children (longest first); None without words.
    Built once per word list: every message read for a count asked for it again."""
    nouns = "|".join(re.escape(w) for w in sorted(set(child_words), key=len, reverse=True) if w)
    if not nouns:
        return None
    return re.compile(
        r"(?<![第\d])(\d{1,3}|[俩仨两二三四五六七八九十百]{1,3})\s*(?:个|位|名)?\s*(?:"
        + nouns
        + ")"
    )
