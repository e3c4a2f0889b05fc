"""Choosing an offered button by its number, for edges that cannot show buttons.

WeChat text messages (and a terminal) have no inline keyboard: the edge lists a turn's
buttons as numbered lines and the user answers "1". The engine remembers which callbacks
the last turn offered (`Session.offered`), in the order every edge numbers them: replies in
order, rows top to bottom, buttons left to right. Kept here rather than in each edge so a
bare number means the same button on every channel, in menus and flows alike.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from dialogs.types import Button, Reply

# A bare Chinese numeral answering a numbered list: "一" .. "十".
_CHINESE = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}
_CHINESE["两"] = 2
MAX_NUMBER = 99  # "1" .. "99": longer digit runs are years, amounts or ids, not a choice


def numbered_buttons(replies: Sequence[Reply]) -> list[Button]:
    """The buttons a bare number can pick, in the order edges number them.

    A reply with `numbered=False` (its question is answered by a number, such as years of
    residence) contributes none: its choices are shown by label only."""
    return [b for r in replies if r.numbered for row in r.buttons for b in row]


def bare_number(text: str) -> int | None:
    """1 for "1", "１", "1." or "一"; None for anything that is not just a small number."""
    norm = unicodedata.normalize("NFKC", text).strip().rstrip(".、)）")
    if norm.isdigit() and norm.isascii() and len(norm) <= 2:
        value = int(norm)
        return value if 1 <= value <= MAX_NUMBER else None
    return _CHINESE.get(norm)


def pick(offered: Sequence[str], text: str | None) -> str | None:
    """The offered callback a bare number in `text` chooses; None when it chooses none."""
    if not text or not offered:
        return None
    number = bare_number(text)
    if number is None or number > len(offered):
        return None
    return offered[number - 1]
