"""Per-chat conversation state, small enough to serialise on every turn."""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, Field

from dialogs.types import ChatId

SlotValue = str | int | bool | None


class Session(BaseModel):
    """Everything the engine remembers about one chat between two turns.

    Kept deliberately flat and JSON-serialisable: stores persist `to_json()` and nothing
    per chat is held in RAM between turns. Personal data (a child's birth date) lives only
    in `slots` and is dropped when its flow ends.
    """

    model_config = ConfigDict(extra="ignore")

    chat_id: ChatId
    city: str | None = None
    topic: str | None = None
    flow: str | None = None
    state: str | None = None
    slots: dict[str, SlotValue] = Field(default_factory=dict)
    last_entry: str | None = None
    # The dialogue state (dialogs/understanding.py): city, aspects, populations and a birth
    # day stated in free text, so a follow-up can leave them out. Erased by /forget and
    # with the session's idle expiry.
    context: dict[str, SlotValue] = Field(default_factory=dict)
    updated: float = 0.0
    version: int = 0
    answered: list[int] = Field(default_factory=list)  # recent update ids (redelivery guard)
    # The callbacks of the buttons the last turn offered, in the order shown, so a bare "1"
    # picks the first of them on edges that cannot show buttons (WeChat, SMS-like channels).
    offered: list[str] = Field(default_factory=list)
    # The id of that offer, and a few offers before it by id, so a tap on a numbered link
    # of an older message picks from the offer it was on (dialogs.choices).
    offer: int = 0
    earlier_offers: dict[int, list[str]] = Field(default_factory=dict)
    # The rest of a long answer an edge could not show at once ("更多" shows what follows).
    more: str = ""
    # The one-time nonce of the last "/forget" prompt: only its own confirm button erases
    # (a forged or replayed `x:forget:yes` shows the prompt again).
    forget_nonce: str = ""
    # A flow that ended on a verdict one can still step back from (Suzhou's "不符合"): its
    # name, state and answers as JSON, so "返回" reopens it one step back with the answers
    # kept. Cleared when any flow starts, on cancel and restart.
    ended: str = ""

    def to_json(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Session:
        return cls.model_validate_json(raw)

    def touch(self, now: float | None = None) -> None:
        self.updated = time.time() if now is None else now
        self.version += 1

    def end_flow(self) -> None:
        """Leave the current flow and forget everything it collected."""
        self.flow = None
        self.state = None
        self.slots.clear()
        self.ended = ""
