"""A flow's machine and the model it drives: states and transitions as data (the runtime and
the diagrams both build from a `MachineSpec`), and the `Turn` a machine moves during one turn."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from dialogs.session import Session
from dialogs.types import Reply


@dataclass(frozen=True)
class MachineSpec:
    """States and transitions of one flow; the runtime and the diagrams both build from it."""

    name: str
    title: str
    states: tuple[str, ...]
    initial: str
    transitions: tuple[Mapping[str, Any], ...]
    final: frozenset[str]

    def kwargs(self) -> dict[str, Any]:
        return {
            "states": [{"name": s, "final": s in self.final} for s in self.states],
            "transitions": [dict(t) for t in self.transitions],
            "initial": self.initial,
            "auto_transitions": False,
        }


class Turn:
    """The model a flow's machine drives during one turn; conditions read its slots."""

    state: str

    def __init__(self, session: Session, today: date) -> None:
        self.session = session
        self.today = today
        self.out: list[Reply] = []

    @property
    def slots(self) -> dict[str, Any]:
        return self.session.slots

    def slot(self, name: str) -> str | None:
        value = self.session.slots.get(name)
        return value if isinstance(value, str) else None

    def say(self, *replies: Reply) -> None:
        self.out.extend(replies)
