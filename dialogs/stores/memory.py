"""In-memory store: tests and the replay default. Holds JSON, not objects, like the others."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

from dialogs.session import Session
from dialogs.stores.base import ChatLocks, KeptReply, SessionStore, decode_session
from dialogs.stores.records import TurnRecord, repeats
from dialogs.stores.settings import StoreSettings
from dialogs.types import ChatId

REPLY_SWEEP_AT = 10_000  # remembered replies before expired ones are swept out


class MemoryStore(SessionStore):
    def __init__(self, settings: StoreSettings | None = None) -> None:
        super().__init__(settings)
        self._data: dict[ChatId, str] = {}
        self._updated: dict[ChatId, float] = {}
        self._replies: dict[tuple[str, str], tuple[float, str]] = {}  # (chat hash, key)
        self._records: list[TurnRecord] = []
        self._by_chat: dict[str, list[TurnRecord]] = {}  # the same records, by hashed chat
        self._locks = ChatLocks()

    async def load(self, chat_id: ChatId) -> Session | None:
        return decode_session(self._data.get(chat_id), chat_id)

    async def save(self, session: Session) -> None:
        self._data[session.chat_id] = session.to_json()
        self._updated[session.chat_id] = session.updated

    async def delete(self, chat_id: ChatId) -> bool:
        self._updated.pop(chat_id, None)
        return self._data.pop(chat_id, None) is not None

    def lock(self, chat_id: ChatId) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(chat_id)

    async def purge_idle(self, older_than: float) -> int:
        stale = [cid for cid, updated in self._updated.items() if updated < older_than]
        for cid in stale:
            await self.delete(cid)
        return len(stale)

    async def record_turn(self, record: TurnRecord) -> None:
        start, end = self.settings.day_of(record.at)
        # The chat's records only: scanning every chat's made each turn slower as the
        # process lived (2 ms a turn after 16,000 turns in `make bench ARGS=turns`).
        mine = self._by_chat.setdefault(record.chat, [])
        same_day = [r for r in mine if start <= r.at < end]
        if len(same_day) >= self.settings.records_per_chat_day:
            return
        if any(repeats(record, r) for r in same_day):
            return
        self._records.append(record)
        mine.append(record)

    async def iter_records(self, since: float = 0.0) -> AsyncIterator[TurnRecord]:
        for record in sorted(self._records, key=lambda r: r.at):
            if record.at >= since:
                yield record

    async def purge_records(self, older_than: float) -> int:
        before = len(self._records)
        self._records = [r for r in self._records if r.at >= older_than]
        for chat, mine in list(self._by_chat.items()):
            kept = [r for r in mine if r.at >= older_than]
            if kept:
                self._by_chat[chat] = kept
            else:
                del self._by_chat[chat]
        return before - len(self._records)

    async def remember_reply(self, chat_id: ChatId, key: str, reply: str, ttl: float) -> None:
        now = time.time()
        if len(self._replies) > REPLY_SWEEP_AT:
            self._replies = {k: v for k, v in self._replies.items() if v[0] > now}
        self._replies[(self.chat_hash(chat_id), key)] = (now + ttl, reply)

    async def recall_reply(self, chat_id: ChatId, key: str) -> str | None:
        found = self._replies.get((self.chat_hash(chat_id), key))
        return found[1] if found is not None and found[0] > time.time() else None

    async def commit(
        self, session: Session, record: TurnRecord, reply: KeptReply | None = None
    ) -> None:
        # None of the three awaits anything: no other task runs in between.
        await self.save(session)
        await self.record_turn(record)
        if reply is not None:
            await self.remember_reply(session.chat_id, reply.key, reply.text, reply.ttl)

    async def forget(self, chat_id: ChatId) -> None:
        await self.delete(chat_id)
        chat = self.chat_hash(chat_id)
        self._records = [r for r in self._records if r.chat != chat]
        self._by_chat.pop(chat, None)
        self._replies = {k: v for k, v in self._replies.items() if k[0] != chat}
