"""The session store contract every backend must honour (tests/dialogs/stores/test_stores.py)."""

from __future__ import annotations

import abc
import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pydantic import ValidationError

from dialogs.session import Session
from dialogs.stores.records import TurnRecord
from dialogs.stores.settings import StoreSettings
from dialogs.types import ChatId

log = logging.getLogger(__name__)


class StoreBusyError(RuntimeError):
    """One chat's lock stayed taken longer than we wait: that update fails, the store is fine."""


class ErasureNotConfirmedError(RuntimeError):
    """The backend did not confirm an erasure (it is down): nothing may claim it was done."""


@dataclass(frozen=True, slots=True)
class PurgeResult:
    sessions: int
    records: int


@dataclass(frozen=True, slots=True)
class KeptReply:
    """A reply to remember with the turn that gave it (`SessionStore.commit`): what
    `remember_reply(chat, key, text, ttl)` keeps."""

    key: str
    text: str
    ttl: float


class SessionStorage(abc.ABC):
    """Where each chat's session lives between turns. `lock(chat_id)` serialises turns of one
    chat: the engine holds it from load to save so two updates of the same chat never
    interleave, in one process or (Redis) across many."""

    # ------------------------------------------------------------------ sessions
    @abc.abstractmethod
    async def load(self, chat_id: ChatId) -> Session | None:
        """The chat's session; None if absent or unreadable (an unreadable one is logged)."""

    @abc.abstractmethod
    async def save(self, session: Session) -> None:
        """Store the session atomically (replacing the previous one)."""

    @abc.abstractmethod
    async def delete(self, chat_id: ChatId) -> bool:
        """Erase the chat's session; True if there was one."""

    @abc.abstractmethod
    def lock(self, chat_id: ChatId) -> AbstractAsyncContextManager[None]: ...

    @abc.abstractmethod
    async def purge_idle(self, older_than: float) -> int:
        """Drop sessions last updated before `older_than` (Unix time); return how many."""


class RecordSink(abc.ABC):
    """Where the turn records go (masked, keyed by a chat hash): the report's input."""

    # ------------------------------------------------------------------ records
    @abc.abstractmethod
    async def record_turn(self, record: TurnRecord) -> None:
        """Append one turn record."""

    @abc.abstractmethod
    def iter_records(self, since: float = 0.0) -> AsyncIterator[TurnRecord]:
        """Records with `at >= since`, oldest first (the report's input)."""

    @abc.abstractmethod
    async def purge_records(self, older_than: float) -> int:
        """Drop records with `at < older_than`; return how many."""


class ReplyCache(abc.ABC):
    """Replies remembered by message id, for channels that resend a message (WeChat)."""

    # ------------------------------------------------------------------ reply cache
    @abc.abstractmethod
    async def remember_reply(self, chat_id: ChatId, key: str, reply: str, ttl: float) -> None:
        """Keep the reply given to message `key` of this chat for `ttl` seconds.

        A channel that resends a message it got no answer to in time (WeChat: the same
        MsgId up to three times) looks the reply up here instead of running a second turn;
        in the store, not in RAM, so the instance that gets the resend need not be the one
        that answered. Stored under the chat's hash, and erased by `forget`."""

    @abc.abstractmethod
    async def recall_reply(self, chat_id: ChatId, key: str) -> str | None:
        """The reply remembered for message `key` of this chat; None if absent or expired."""


class SessionStore(SessionStorage, RecordSink, ReplyCache):
    """A backend serving the three contracts for one deployment, plus what spans them:
    `forget` (all of a chat, everywhere), retention (`purge`: idle sessions after
    `settings.session_ttl`, records after `settings.record_retention`), maintenance, ping.
    """

    def __init__(self, settings: StoreSettings | None = None) -> None:
        self.settings = settings or StoreSettings()

    # ------------------------------------------------------------------ the end of a turn
    @abc.abstractmethod
    async def commit(
        self, session: Session, record: TurnRecord, reply: KeptReply | None = None
    ) -> None:
        """What a turn leaves behind, in one write: `save(session)`, `record_turn(record)`
        (within its caps) and, with `reply`, `remember_reply(session.chat_id, …)` — all of
        them or none (SQLite: one transaction; Redis: one MULTI/EXEC; memory: no await in
        between). A process killed at any point leaves the turn wholly kept or not at all:
        a session that lists a message as answered (`Session.answered`) always comes with
        the reply remembered for it, so a resend gets that reply, never nothing and never
        a second turn. One round trip where the three calls took three."""

    # ------------------------------------------------------------------ privacy
    @abc.abstractmethod
    async def forget(self, chat_id: ChatId) -> None:
        """Erase the chat's session, every record of its hash and its remembered replies,
        leaving no trace behind (SQLite: rows zeroed at once, the file rebuilt by the next
        `compact`). Returns only once the backend confirmed; raises otherwise."""

    # ------------------------------------------------------------------ upkeep
    def chat_hash(self, chat_id: ChatId) -> str:
        """The keyed hash under which this chat's records are stored."""
        return self.settings.chat_hash(chat_id)

    async def purge(self, now: float | None = None) -> PurgeResult:
        """Enforce idle expiry and record retention; the bot calls this on a schedule."""
        t = time.time() if now is None else now
        sessions = await self.purge_idle(t - self.settings.session_ttl)
        records = await self.purge_records(t - self.settings.record_retention)
        return PurgeResult(sessions=sessions, records=records)

    async def compact(self) -> bool:
        """Maintenance after erasures, off the turn path (SQLite: VACUUM and a WAL truncate
        with a bounded busy timeout); True when something was done. Others: nothing to do."""
        return False

    async def ping(self) -> bool:
        """True when the backend is reachable."""
        return True

    async def close(self) -> None:
        """Release connections and files."""


def decode_session(raw: str | bytes | None, chat_id: ChatId | None = None) -> Session | None:
    """Parse a stored session; a corrupt value is logged (without its content) and ignored.

    With `chat_id`, a session of another chat stored under this chat's key is corrupt too
    (compared as text: a Telegram id may come back from a text column as "123").

    The engine then starts a fresh session and its save overwrites the bad value, so the
    warning appears once per corrupt value rather than on every turn.
    """
    if raw is None:
        return None
    try:
        session = Session.from_json(raw)
        if chat_id is not None and str(session.chat_id) != str(chat_id):
            raise ValueError("session stored under another chat's key")
        return session
    except (ValidationError, ValueError, UnicodeDecodeError) as exc:
        log.warning(
            "unreadable session ignored (%s, %d bytes)",
            type(exc).__name__,
            len(raw),
        )
        return None


class ChatLocks:
    """Per-chat asyncio locks, created on demand and dropped when nobody waits.

    Idle chats therefore cost nothing in RAM; waiters on one chat are served in FIFO order.
    `hold` is a small class rather than a generator context manager: every turn takes one
    or two of these (a third of the cost).
    """

    def __init__(self) -> None:
        self._locks: dict[ChatId, asyncio.Lock] = {}
        self._waiters: dict[ChatId, int] = {}

    def hold(self, chat_id: ChatId) -> AbstractAsyncContextManager[None]:
        return _Hold(self, chat_id)

    def _join(self, chat_id: ChatId) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = self._locks[chat_id] = asyncio.Lock()
        self._waiters[chat_id] = self._waiters.get(chat_id, 0) + 1
        return lock

    def _leave(self, chat_id: ChatId) -> None:
        self._waiters[chat_id] -= 1
        if self._waiters[chat_id] == 0:
            del self._waiters[chat_id]
            self._locks.pop(chat_id, None)

    def __len__(self) -> int:
        return len(self._locks)


class _Hold:
    """One chat's lock held for an `async with` block (ChatLocks.hold)."""

    __slots__ = ("chat_id", "lock", "locks")

    def __init__(self, locks: ChatLocks, chat_id: ChatId) -> None:
        self.locks = locks
        self.chat_id = chat_id
        self.lock: asyncio.Lock | None = None

    async def __aenter__(self) -> None:
        lock = self.locks._join(self.chat_id)
        try:
            await lock.acquire()
        except BaseException:  # cancelled while waiting: no longer a waiter
            self.locks._leave(self.chat_id)
            raise
        self.lock = lock

    async def __aexit__(self, *_exc: object) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None
            self.locks._leave(self.chat_id)


@runtime_checkable
class OutageNotices(Protocol):
    """A store that may run degraded (`dialogs.stores.resilient`): true once per chat and
    outage, so the engine tells that chat its progress may not be kept. Not part of the
    store contract: plain backends have no such state."""

    def take_notice(self, chat_id: ChatId) -> bool: ...
