"""The engine's input and output values.

They are plain frozen dataclasses so that every edge (Telegram, terminal, replay) can
render them its own way; nothing here knows about any messenger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

ChatId = int | str
"""Who a conversation is with. Telegram's chats are integers (kept as they are, so existing
sessions and records still match); other channels use strings namespaced by channel
(`wx:<openid>`), which can never equal a Telegram id, whose decimal form has no colon."""


@dataclass(frozen=True, slots=True)
class Button:
    """A choice offered to the user. `callback` must stay <= 64 bytes (Telegram's limit)."""

    text: str
    callback: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to the user.

    `text` is plain text (no markup); edges escape it. `title`, when set, is shown as a
    bold first line by edges that support it and as a plain first line elsewhere.
    """

    text: str
    title: str | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    entry: str | None = None
    state: str | None = None
    confidence: float | None = None  # the matcher's, for turn records; never shown
    # False when a bare number is an answer to this question ("住了几年？" → "2"), so edges
    # without buttons must not offer its choices by number (see `Session.offered`).
    numbered: bool = True
    # Which offer its numbered buttons belong to (`dialogs.choices`, set by the engine): an
    # edge whose choices are tappable links puts it in them, so a tap on a link of an older
    # message names the offer it was on (`Incoming.offer`). Not part of what is said.
    offer: int | None = field(default=None, compare=False)

    def plain(self) -> str:
        """The text as the user reads it, without markup."""
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True, slots=True)
class Incoming:
    """What the user did: typed `text`, or pressed a button whose data is `callback`.

    `update_id`: the messenger's increasing id of this event, when it may deliver an event
    twice (Telegram after a crash); the engine answers each id once per chat.

    `offer`: for a number chosen from a tapped link, the offer the link was on
    (`Reply.offer`); None, as for a typed number: the latest offer.
    """

    text: str | None = None
    callback: str | None = None
    today: date | None = None
    meta: dict[str, str] = field(default_factory=dict)
    update_id: int | None = None
    offer: int | None = None
