"""A tiny chat driver for the flow tests: say or press, then read the replies as a user would."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from dialogs.engine import Engine
from dialogs.session import Session
from dialogs.types import Incoming, Reply


@dataclass
class Chat:
    engine: Engine
    today: date
    chat_id: int = 1
    last: list[Reply] = field(default_factory=list)

    async def say(self, text: str, today: date | None = None) -> str:
        self.last = await self.engine.handle(
            self.chat_id, Incoming(text=text, today=today or self.today)
        )
        return self.text

    async def walk(self, *texts: str, today: date | None = None) -> str:
        """Say each text in turn; the replies to the last one."""
        for text in texts:
            await self.say(text, today=today)
        return self.text

    async def press(self, callback: str, today: date | None = None) -> str:
        self.last = await self.engine.handle(
            self.chat_id, Incoming(callback=callback, today=today or self.today)
        )
        return self.text

    async def press_label(self, label: str) -> str:
        """Press the button whose label is `label` among the last replies."""
        for cb in (
            b.callback for r in self.last for row in r.buttons for b in row if b.text == label
        ):
            return await self.press(cb)
        raise AssertionError(f"no button {label!r} in {self.labels}")

    @property
    def text(self) -> str:
        return "\n".join(r.plain() for r in self.last)

    @property
    def labels(self) -> list[str]:
        return [b.text for r in self.last for row in r.buttons for b in row]

    @property
    def callbacks(self) -> list[str]:
        return [b.callback for r in self.last for row in r.buttons for b in row]

    async def session(self) -> Session:
        loaded = await self.engine.store.load(self.chat_id)
        assert loaded is not None
        return loaded
