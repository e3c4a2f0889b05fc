"""A session store that keeps the bot answering while its backend is down.

`ResilientStore(inner)` forwards every call to `inner` (SQLite, Redis). When the backend
fails (locked, read-only, corrupt, unreachable), the store switches to a small in-memory
fallback: conversations go on in this process, the failure is logged once (one line per
outage, one on recovery), `degraded` turns true and `take_notice(chat)` tells the engine to
warn each chat once that its progress may not be kept. While degraded, the backend is tried
again on a save, `retry_every` seconds after the failure and then twice as long after each
failed attempt (up to `MAX_RETRY_EVERY`: a locked SQLite file costs its busy timeout per
attempt); when that works, the sessions and turn
records kept in memory (and any erasure asked for meanwhile) are written back first, so the
backend ends up as if it had never been away.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from dialogs.session import Session
from dialogs.stores.base import (
    ChatLocks,
    ErasureNotConfirmedError,
    KeptReply,
    SessionStore,
    StoreBusyError,
)
from dialogs.stores.memory import MemoryStore
from dialogs.stores.records import TurnRecord
from dialogs.types import ChatId

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_EVERY = 5.0  # seconds before the first attempt to reach a failed backend again
MAX_RETRY_EVERY = 60.0


def backend_errors() -> tuple[type[BaseException], ...]:
    """What a backend raises when it, rather than our code, is at fault.

    Not `StoreBusyError`: one busy chat says nothing about the backend's health."""
    errors: list[type[BaseException]] = [sqlite3.Error, OSError]
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is a dependency
        return tuple(errors)
    return (*errors, RedisError)


class ResilientStore(SessionStore):
    def __init__(
        self,
        inner: SessionStore,
        retry_every: float = RETRY_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(inner.settings)
        self.inner = inner
        self.retry_every = retry_every
        self.clock = clock
        self.degraded = False
        self.fallback = MemoryStore(inner.settings)
        self._errors = backend_errors()
        self._retry_at = 0.0
        self._wait = retry_every  # before the next attempt; doubles while attempts fail
        self._dirty: set[ChatId] = set()  # sessions saved in memory during the outage
        self._erase: set[ChatId] = set()  # chats to forget in the backend once it is back
        self._noticed: set[ChatId] = set()
        self._locks = ChatLocks()

    # ------------------------------------------------------------------ state
    def take_notice(self, chat_id: ChatId) -> bool:
        """True once per chat and outage: the chat should be told progress may be lost."""
        if not self.degraded or chat_id in self._noticed:
            return False
        self._noticed.add(chat_id)
        return True

    def _fail(self, exc: BaseException) -> None:
        if not self.degraded:
            self.degraded = True
            self._wait = self.retry_every
            self._retry_at = self.clock() + self._wait
            log.error(
                "session store unavailable (%s: %s); answering from memory until it returns",
                type(exc).__name__,
                str(exc)[:200],
            )

    def _due(self) -> bool:
        return not self.degraded or self.clock() >= self._retry_at

    async def _try(
        self, call: Callable[[], Awaitable[T]], always: bool = False
    ) -> tuple[bool, T | None]:
        """Run a backend call (while degraded: only when a retry is due, unless `always`);
        return (worked, result)."""
        if not always and not self._due():
            return False, None
        try:
            return True, await call()
        except self._errors as exc:
            self._fail(exc)
            return False, None

    async def _recover(self) -> None:
        """Write back what the outage kept in memory, then leave degraded mode. A session
        another instance saved more recently in the backend meanwhile is kept as it is."""
        for chat_id in sorted(self._erase, key=str):
            await self.inner.forget(chat_id)
        self._erase.clear()
        for chat_id in sorted(self._dirty, key=str):
            session = await self.fallback.load(chat_id)
            if session is not None and _newer(session, await self.inner.load(chat_id)):
                await self.inner.save(session)
        records = [r async for r in self.fallback.iter_records()]
        for record in records:
            await self.inner.record_turn(record)
        kept = len(self._dirty)
        self.fallback = MemoryStore(self.settings)
        self._dirty.clear()
        self._noticed.clear()
        self.degraded = False
        log.warning("session store is back; %d session(s) written back from memory", kept)

    async def _retry_if_due(self) -> None:
        """While degraded and a retry is due: write back and recover, or back off."""
        if self.degraded and self._due():
            try:
                await self._recover()
            except self._errors:
                self._wait = min(max(self._wait, self.retry_every) * 2, MAX_RETRY_EVERY)
                self._retry_at = self.clock() + self._wait

    # ------------------------------------------------------------------ sessions
    async def load(self, chat_id: ChatId) -> Session | None:
        """The backend's session, unless the outage left a newer one in memory. While
        degraded the backend is read only when a retry is due (a circuit breaker: a hung
        backend must not cost its timeout on every turn)."""
        if self.degraded and (chat_id in self._dirty or not self._due()):
            return await self.fallback.load(chat_id)
        worked, session = await self._try(lambda: self.inner.load(chat_id), always=True)
        return session if worked and chat_id not in self._erase else None

    async def save(self, session: Session) -> None:
        await self._write(session.chat_id, lambda store: store.save(session))

    async def commit(
        self, session: Session, record: TurnRecord, reply: KeptReply | None = None
    ) -> None:
        """The backend's one write; while it is down, the fallback's (the session and the
        record are written back on recovery, the reply serves resends to this process)."""
        await self._write(session.chat_id, lambda store: store.commit(session, record, reply))

    async def _write(
        self, chat_id: ChatId, write: Callable[[SessionStore], Awaitable[None]]
    ) -> None:
        """`write` to the backend (after a due retry), else to memory, kept for write-back."""
        await self._retry_if_due()
        if not self.degraded:
            worked, _ = await self._try(lambda: write(self.inner))
            if worked:
                return
        await write(self.fallback)
        self._dirty.add(chat_id)

    async def delete(self, chat_id: ChatId) -> bool:
        in_memory = await self.fallback.delete(chat_id)
        self._dirty.discard(chat_id)
        worked, removed = await self._try(lambda: self.inner.delete(chat_id), always=True)
        if not worked:
            self._erase.add(chat_id)
        return bool(removed) or in_memory

    def lock(self, chat_id: ChatId) -> AbstractAsyncContextManager[None]:
        """This process's lock always; the backend's (Redis: across instances) when it works.
        A backend failing to take or release its lock degrades the store, never the turn; a
        chat whose lock stays busy (`StoreBusyError`) fails only that update."""
        return _Guard(self, chat_id)

    async def purge_idle(self, older_than: float) -> int:
        in_memory = await self.fallback.purge_idle(older_than)
        _, removed = await self._try(lambda: self.inner.purge_idle(older_than))
        return in_memory + (removed or 0)

    # ------------------------------------------------------------------ records
    async def record_turn(self, record: TurnRecord) -> None:
        if not self.degraded:
            worked, _ = await self._try(lambda: self.inner.record_turn(record))
            if worked:
                return
        await self.fallback.record_turn(record)

    async def iter_records(self, since: float = 0.0) -> AsyncIterator[TurnRecord]:
        source = self.fallback if self.degraded else self.inner
        async for record in source.iter_records(since):
            yield record

    async def purge_records(self, older_than: float) -> int:
        in_memory = await self.fallback.purge_records(older_than)
        _, removed = await self._try(lambda: self.inner.purge_records(older_than))
        return in_memory + (removed or 0)

    # ------------------------------------------------------------------ reply cache
    async def remember_reply(self, chat_id: ChatId, key: str, reply: str, ttl: float) -> None:
        """In the backend; in memory while it is down (a resend then reaches this instance
        or gets a second turn, which beats no answer)."""
        if not self.degraded:
            worked, _ = await self._try(lambda: self.inner.remember_reply(chat_id, key, reply, ttl))
            if worked:
                return
        await self.fallback.remember_reply(chat_id, key, reply, ttl)

    async def recall_reply(self, chat_id: ChatId, key: str) -> str | None:
        kept = await self.fallback.recall_reply(chat_id, key)
        if kept is not None:
            return kept
        _, found = await self._try(lambda: self.inner.recall_reply(chat_id, key), always=True)
        return found

    # ------------------------------------------------------------------ privacy
    async def forget(self, chat_id: ChatId) -> None:
        """Erase everywhere. If the backend is down, the erasure is not claimed
        (`ErasureNotConfirmedError`): this process forgets the chat in memory and erases it
        in the backend as soon as it returns, but a restart meanwhile would lose that."""
        await self.fallback.forget(chat_id)
        self._dirty.discard(chat_id)
        worked, _ = await self._try(lambda: self.inner.forget(chat_id), always=True)
        if not worked:
            self._erase.add(chat_id)
            raise ErasureNotConfirmedError("the session store did not confirm the erasure")

    async def compact(self) -> bool:
        if self.degraded:
            return False
        worked, done = await self._try(self.inner.compact)
        return bool(worked and done)

    # ------------------------------------------------------------------ upkeep
    async def ping(self) -> bool:
        """Healthy only when not degraded and the backend takes a write. A due retry is
        attempted here too, so an instance the balancer stopped sending turns to (503)
        still notices the backend's return."""
        await self._retry_if_due()
        return not self.degraded and await self.inner.ping()

    async def close(self) -> None:
        await self.inner.close()


def _newer(kept: Session, stored: Session | None) -> bool:
    """Whether the session kept in memory should replace the backend's copy."""
    if stored is None:
        return True
    return (kept.updated, kept.version) > (stored.updated, stored.version)


class _Guard:
    """A turn's locks (ResilientStore.lock): this process's, then the backend's. A small
    class rather than a generator context manager: every turn takes one."""

    __slots__ = ("chat_id", "held", "local", "store")

    def __init__(self, store: ResilientStore, chat_id: ChatId) -> None:
        self.store = store
        self.chat_id = chat_id
        self.local = store._locks.hold(chat_id)
        self.held: AbstractAsyncContextManager[None] | None = None

    async def __aenter__(self) -> None:
        await self.local.__aenter__()
        store = self.store
        if not store._due():
            return
        candidate = store.inner.lock(self.chat_id)
        try:
            await candidate.__aenter__()
        except StoreBusyError:
            await self.local.__aexit__(None, None, None)
            raise
        except store._errors as exc:
            store._fail(exc)
            return
        except BaseException:
            await self.local.__aexit__(None, None, None)
            raise
        self.held = candidate

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self.held is not None:
                try:
                    await self.held.__aexit__(None, None, None)
                except self.store._errors as error:
                    self.store._fail(error)
        finally:
            await self.local.__aexit__(None, None, None)
