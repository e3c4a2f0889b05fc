"""Choosing an offered button by its number, for edges that cannot show buttons.

WeChat text messages (and a terminal) have no inline keyboard: the edge lists a turn's
buttons as numbered lines and the user answers "1". The engine remembers which callbacks
the last turn offered (`Session.offered`), in the order every edge numbers them: replies in
order, rows top to bottom, buttons left to right. Kept here rather than in each edge so a
bare number means the same button on every channel, in menus and flows alike.

Each turn's offer has an id (`Session.offer`, stamped on the replies as `Reply.offer`), and
the session keeps the few offers before the latest (`Session.earlier_offers`). An edge whose
numbered choices are tappable links (WeChat's bizmsgmenu) puts the id in each link, so a
tap on a link of an older message picks from the offer that message made — as an older
Telegram button still does what it said — and a link of an offer no longer kept, or a
number that offer did not have, gets the engine's "this choice has expired" (`STALE`),
never the choice of that number in the latest offer. A typed number is read against the
latest offer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import replace

from dialogs import callbacks as cb
from dialogs.session import Session
from dialogs.types import Button, Incoming, Reply

# A bare Chinese numeral answering a numbered list: "一" .. "十".
_CHINESE = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}
_CHINESE["两"] = 2
MAX_NUMBER = 99  # "1" .. "99": longer digit runs are years, amounts or ids, not a choice
KEPT_OFFERS = 4  # the latest offer and the three before it: what a tapped link may name
OFFER_EPOCH = 1_767_225_600  # 2026-01-01 UTC: offer ids count seconds from it (`next_offer`)
# No button sends it: the router's answer to a choice it cannot honour (ui `stale_button`).
STALE = cb.action("stale")


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


def choose(session: Session, incoming: Incoming) -> str | None:
    """The callback the number in `incoming` chooses: from the offer its tapped link names
    (`Incoming.offer`), else from the latest; `STALE` for a tap on an offer no longer kept
    or a number it did not have; None when a typed text chooses nothing."""
    if incoming.offer is None:
        return pick(session.offered, incoming.text)
    if incoming.offer == session.offer:
        offered = session.offered
    else:
        offered = session.earlier_offers.get(incoming.offer, [])
    return pick(offered, incoming.text) or STALE


def next_offer(previous: int, now: float) -> int:
    """The id of a turn's offer: above the chat's previous one, and at least the seconds
    since OFFER_EPOCH, so a chat erased and begun again does not reuse the ids of links
    still in its history (unless it made more than one offer a second before)."""
    return max(previous + 1, int(now) - OFFER_EPOCH)


def stamp(replies: Sequence[Reply], offer: int) -> list[Reply]:
    """The replies, those with numbered buttons marked as offer `offer`."""
    return [replace(r, offer=offer) if r.numbered and r.buttons else r for r in replies]


def keep_offer(session: Session, offer: int, shown: Sequence[Reply]) -> None:
    """The numbered buttons of `shown` become the latest offer, as `offer`; the offer
    before it joins the few kept (`KEPT_OFFERS` in all)."""
    earlier = session.earlier_offers
    if session.offered:
        earlier[session.offer] = session.offered
        for old in list(earlier)[: max(0, len(earlier) - (KEPT_OFFERS - 1))]:
            del earlier[old]
    session.offered = [b.callback for b in numbered_buttons(shown)]
    session.offer = offer
