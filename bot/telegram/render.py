"""Engine `Reply` values → Telegram messages (HTML text + inline keyboard).

Pure functions, no I/O: the Telegram edge sends what `render` returns. Every string that
comes from the engine is escaped with `html.escape`, because replies can echo what the user
typed; the only markup we add ourselves is `<b>` around the title. Long replies are split
into several messages on paragraph boundaries (then lines, then characters), always between
escaped pieces, so a split can never fall inside an HTML entity or tag.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from dialogs.types import Button, Reply

MAX_MESSAGE = 4096  # Telegram's limit, in UTF-16 code units of the text
MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback_data
PARAGRAPH = "\n\n"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One Telegram message: HTML text and, on the last part of a reply, its keyboard."""

    html: str
    markup: InlineKeyboardMarkup | None = None


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (astral characters such as emoji count twice)."""
    return len(text.encode("utf-16-le")) // 2


def keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """Inline keyboard for the engine's button rows; None when there are no buttons.

    Raises ValueError for callback data over 64 bytes: the engine promises compact data,
    and a silently truncated callback would be a wrong button.
    """
    if not any(rows):
        return None
    out: list[list[InlineKeyboardButton]] = []
    for row in rows:
        if not row:
            continue
        for button in row:
            if len(button.callback.encode("utf-8")) > MAX_CALLBACK_BYTES:
                raise ValueError(
                    f"callback data over {MAX_CALLBACK_BYTES} bytes: {button.callback!r}"
                )
        out.append([InlineKeyboardButton(b.text, callback_data=b.callback) for b in row])
    return InlineKeyboardMarkup(out)


Piece = tuple[str, str]  # (separator before it in the original text, escaped text)


def _pieces(text: str, limit: int, sep_before: str = "") -> list[Piece]:
    """Split plain `text` into escaped pieces of at most `limit` units each.

    Tries paragraphs first, then lines, then single characters; pieces are escaped one by
    one, so an entity like `&amp;` is always whole inside a piece. Each piece remembers the
    separator that preceded it, so joining pieces back restores the original layout.
    """
    escaped = html.escape(text, quote=False)
    if utf16_len(escaped) <= limit:
        return [(sep_before, escaped)]
    for sep in (PARAGRAPH, "\n"):
        parts = text.split(sep)
        if len(parts) > 1:
            out: list[Piece] = []
            for i, part in enumerate(parts):
                out.extend(_pieces(part, limit, sep_before if i == 0 else sep))
            return out
    out = []
    current = ""
    for ch in text:
        piece = html.escape(ch, quote=False)
        if current and utf16_len(current) + utf16_len(piece) > limit:
            out.append((sep_before if not out else "", current))
            current = ""
        current += piece
    if current:
        out.append((sep_before if not out else "", current))
    return out


def _pack(pieces: list[Piece], limit: int) -> list[str]:
    """Greedily join escaped pieces (with their separators) into messages within `limit`.

    A separator at a message boundary is dropped: the split itself is the break.
    """
    messages: list[str] = []
    current = ""
    for sep, piece in pieces:
        candidate = f"{current}{sep}{piece}" if current else piece
        if utf16_len(candidate) <= limit:
            current = candidate
        else:
            if current.strip():
                messages.append(current)
            current = piece
    if current.strip():
        messages.append(current)
    return messages


def well_formed(text: str) -> str:
    """`text` with lone surrogates (which no UTF encoding can carry) replaced by U+FFFD."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def render(reply: Reply, limit: int = MAX_MESSAGE) -> list[Outgoing]:
    """The Telegram messages for one reply; the keyboard rides on the last one."""
    if not reply.plain().strip():
        raise ValueError("empty reply: Telegram cannot send a message without text")
    reply = Reply(
        text=well_formed(reply.text),
        title=well_formed(reply.title) if reply.title else None,
        buttons=reply.buttons,
    )
    bold_open, bold_close = "<b>", "</b>"
    pieces: list[Piece] = []
    if reply.title:
        inner = limit - len(bold_open) - len(bold_close)
        pieces.extend(
            (sep, f"{bold_open}{p}{bold_close}")
            for sep, p in _pieces(reply.title, inner)
            if p.strip()  # a bold run of blanks alone would be an empty message
        )
    # The title sits on the line right above the text, as in the terminal.
    pieces.extend(_pieces(reply.text, limit, "\n" if pieces else ""))
    messages = _pack(pieces, limit)
    if not messages:
        raise ValueError("empty reply: Telegram cannot send a message without text")
    markup = keyboard(reply.buttons)
    out = [Outgoing(m) for m in messages]
    out[-1] = Outgoing(out[-1].html, markup)
    return out


def render_all(replies: list[Reply], limit: int = MAX_MESSAGE) -> list[Outgoing]:
    return [message for reply in replies for message in render(reply, limit)]
