"""In-memory store: tests and the replay default. Holds JSON, not objects, like the others."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dialogs.session import Session
from dialogs.stores.base import SessionStore


class MemoryStore(SessionStore):
    def __init__(self) -> None:
        self._data: dict[int, str] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiters: dict[int, int] = {}

    async def load(self, chat_id: int) -> Session | None:
        raw = self._data.get(chat_id)
        return None if raw is None else Session.from_json(raw)

    async def save(self, session: Session) -> None:
        self._data[session.chat_id] = session.to_json()

    async def delete(self, chat_id: int) -> bool:
        return self._data.pop(chat_id, None) is not None

    @asynccontextmanager
    async def lock(self, chat_id: int) -> AsyncIterator[None]:
        # Locks are created on demand and dropped when nobody waits, so idle chats cost nothing.
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._waiters[chat_id] = self._waiters.get(chat_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiters[chat_id] -= 1
            if self._waiters[chat_id] == 0:
                del self._waiters[chat_id]
                self._locks.pop(chat_id, None)

    async def purge_idle(self, older_than: float) -> int:
        stale = [cid for cid, raw in self._data.items() if Session.from_json(raw).updated < older_than]
        for cid in stale:
            del self._data[cid]
        return len(stale)
