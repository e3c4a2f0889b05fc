"""A turn's replies → the one text a passive reply carries.

WeChat answers a message with one message, so the engine's replies are merged: their
texts (a title on its own line) separated by blank lines, then the choices. A text message
has no buttons: choices a bare number can pick are listed as numbered lines ("回复数字：" /
"1 外地户籍"), in the order `dialogs.choices` numbers them, so "1" picks the same button the
engine remembered; a question answered by a number itself (years, children) lists its
choices by label only. WeChat shows at most 2048 bytes of UTF-8: a longer answer is cut
at a paragraph (else a line, else a character) with "回复“更多”…" under it, and the engine
keeps the rest in the session (`Engine.handle(pager=…)`). All wording is in YAML.

With WECHAT_MENU_LINKS each numbered line is a `weixin://bizmsgmenu` link instead (WeChat's
clients show it tappable; a tap sends the label as the user's message, with the link's
`msgmenuid` as its `bizmsgmenuid`). The id names the offer as well as the number
(`menu_id`: offer × 100 + number, `Reply.offer`), so the server reads a tap on a link of
an older message as that message's choice, or as expired (`dialogs.choices`), never as
the choice of that number in the latest message. The links count towards the 2048 bytes,
so the pager cuts with them in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from dialogs.types import Reply
from knowledge.loader import KnowledgeBase

MAX_BYTES = 2048  # WeChat's limit on a text message, in UTF-8 bytes
MAX_MENU_ID_DIGITS = 18  # an offer id (seconds) and two digits, with room to spare
PARAGRAPH = "\n\n"
# What a label may not contain raw inside the link's href (the rest is sent as it is, as
# WeChat's own samples do with 汉字).
_HREF_ESCAPES = str.maketrans({c: f"%{ord(c):02X}" for c in '%&"<>=#?'})


def nbytes(text: str) -> int:
    return len(text.encode("utf-8", "replace"))


def menu_id(offer: int | None, number: int) -> int:
    """A link's msgmenuid: the offer it is on and the choice's number (1-99)."""
    return (offer or 0) * 100 + number


def read_menu_id(raw: str) -> tuple[int, int] | None:
    """(offer, number) of a tapped link's bizmsgmenuid; None for anything else. A plain
    number (a link from before offers had ids) names offer 0, which no offer has."""
    if not raw.isdigit() or not raw.isascii() or len(raw) > MAX_MENU_ID_DIGITS:
        return None
    offer, number = divmod(int(raw), 100)
    return (offer, number) if number else None


def menu_link(number: int, label: str, offer: int | None = None) -> str:
    """One numbered choice as a tappable bizmsgmenu link."""
    content = label.translate(_HREF_ESCAPES)
    href = f"weixin://bizmsgmenu?msgmenucontent={content}&msgmenuid={menu_id(offer, number)}"
    return f'<a href="{href}">{number} {label}</a>'


def _choices(replies: Sequence[Reply], kb: KnowledgeBase, links: bool = False) -> list[str]:
    numbered = [b for r in replies if r.numbered for row in r.buttons for b in row]
    typed = [b for r in replies if not r.numbered for row in r.buttons for b in row]
    blocks: list[str] = []
    if typed:
        blocks.append(kb.text("wx_choose_typed") + " / ".join(b.text for b in typed))
    if numbered:
        offer = next((r.offer for r in replies if r.numbered and r.buttons), None)
        lines = [
            menu_link(i, b.text, offer) if links else f"{i} {b.text}"
            for i, b in enumerate(numbered, start=1)
        ]
        blocks.append("\n".join([kb.text("wx_choose"), *lines]))
    return blocks


def compose(replies: Sequence[Reply], kb: KnowledgeBase, links: bool = False) -> str:
    """The replies' texts, then their choices, whatever the length."""
    blocks = [r.plain().strip() for r in replies if r.plain().strip()]
    blocks.extend(_choices(replies, kb, links))
    return PARAGRAPH.join(blocks)


def render(replies: Sequence[Reply], kb: KnowledgeBase, links: bool = False) -> str:
    """The text of one passive reply (no markup but the optional menu links: WeChat shows
    text as it is); the engine's `Pager` has cut it to size already, `clip` only guards the
    limit."""
    return clip(compose(replies, kb, links))


def clip(text: str, limit: int = MAX_BYTES) -> str:
    """A last guard: `text` within `limit` bytes, cut on a character boundary."""
    raw = text.encode("utf-8", "replace")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", "ignore")


def _pieces(text: str, limit: int) -> list[tuple[str, str]]:
    """`text` as (separator before, piece) pairs, no piece over `limit` bytes: paragraphs,
    then lines, then runs of characters."""
    if nbytes(text) <= limit:
        return [("", text)]
    for sep in (PARAGRAPH, "\n"):
        parts = text.split(sep)
        if len(parts) > 1:
            out: list[tuple[str, str]] = []
            for i, part in enumerate(parts):
                sub = _pieces(part, limit)
                out.append((sep if i else "", sub[0][1]))
                out.extend(sub[1:])
            return out
    out, current = [], ""
    for ch in text:
        if current and nbytes(current + ch) > limit:
            out.append(("", current))
            current = ""
        current += ch
    out.append(("", current))
    return out


class Pager:
    """Cuts a turn's replies to one message (`Engine.handle(pager=…)`): the choices and the
    "更多" hint always fit; the text is cut at the last paragraph that fits."""

    def __init__(self, kb: KnowledgeBase, limit: int = MAX_BYTES, links: bool = False) -> None:
        self.kb = kb
        self.limit = limit
        self.links = links
        self._text: tuple[Sequence[Reply], str] | None = None  # replies shown, their text

    def __call__(self, replies: list[Reply]) -> tuple[list[Reply], str]:
        whole = compose(replies, self.kb, self.links)
        if nbytes(whole) <= self.limit or not replies:
            self._text = (replies, clip(whole))
            return replies, ""
        body = PARAGRAPH.join(r.plain().strip() for r in replies if r.plain().strip())
        choices = [
            Reply(text="", buttons=r.buttons, numbered=r.numbered, offer=r.offer) for r in replies
        ]
        hint = self.kb.text("wx_more")
        fixed = nbytes(compose([Reply(text=hint), *choices], self.kb, self.links))
        fixed += nbytes(PARAGRAPH)
        budget = max(self.limit - fixed, self.limit // 4)
        pieces = _pieces(body, budget // 2)
        head = ""
        taken = 0
        for sep, piece in pieces:
            candidate = f"{head}{sep}{piece}" if head else piece
            if nbytes(candidate) > budget:
                break
            head, taken = candidate, taken + 1
        rest = "".join(f"{sep}{piece}" for sep, piece in pieces[taken:]).strip()
        shown = [replace(choices[0], text=f"{head}{PARAGRAPH}{hint}"), *choices[1:]]
        return shown, rest

    def render(self, shown: Sequence[Reply]) -> str:
        """`render(shown)`, composed once: the text of what this pager let through whole, or
        rendered last (the engine keeps it for resends, the server sends it), is reused."""
        if self._text is None or self._text[0] is not shown:
            self._text = (shown, render(shown, self.kb, self.links))
        return self._text[1]
