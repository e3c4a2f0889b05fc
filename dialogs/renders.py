"""What the clerk (`dialogs.understanding`) needs from the engine to say things: entries,
the flows' rule texts and verdicts. A protocol, so that the clerk never imports the router
that owns the flows (`dialogs.routing.Router` implements it)."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from dialogs.session import Session
from dialogs.types import Button, Reply


class Renders(Protocol):
    """The engine's side of the clerk's answers."""

    def entry_reply(
        self, session: Session, entry_id: str, today: date, when: date | None = None
    ) -> Reply: ...

    def deadline_text(
        self, city: str, birth: date, today: date, when: date | None
    ) -> str | None: ...

    def birth_rule_cities(self) -> frozenset[str]: ...

    def judged(self, session: Session, city: str, text: str, today: date) -> Reply | None: ...

    def met(self, session: Session, city: str, text: str, today: date) -> Reply | None: ...

    def entry_item(self, session: Session, entry_id: str, number: int) -> Reply | None: ...

    def entry_buttons(self, ids: list[str]) -> tuple[tuple[Button, ...], ...]: ...

    def decided_flow(
        self, session: Session, name: str, text: str, today: date, correcting: bool = False
    ) -> list[Reply] | None: ...
