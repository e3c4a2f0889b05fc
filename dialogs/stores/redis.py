"""Redis store: several bot processes share sessions, locks and turn records.

Keys (prefix `yibao:` by default):
- `s:<chat_id>`  the session JSON, with TTL = idle expiry (refreshed on every save);
- `lock:<chat_id>` a short redis-py Lock held from load to save, so two instances never
  run turns of the same chat at once (it expires by itself if an instance dies mid-turn);
- `r:<chat hash>` a sorted set of that chat's turn records scored by time, TTL = retention;
- `m:<chat hash>` a hash of replies remembered per message id (field: the id; value: JSON
  `[expires, reply]`), expiring with its latest entry, erased with the chat;
- `rc` a sorted set of chat hashes scored by their latest record, so reports and purges
  visit only chats that have records, and `forget` reaches everything of one chat in O(1).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

from dialogs.session import Session
from dialogs.stores.base import (
    ChatLocks,
    KeptReply,
    SessionStore,
    StoreBusyError,
    decode_session,
)
from dialogs.stores.records import UNANSWERED, TurnRecord, repeats
from dialogs.stores.settings import StoreSettings
from dialogs.types import ChatId

log = logging.getLogger(__name__)

__all__ = ["RedisStore", "StoreBusyError"]

_BATCH = 200  # keys per pipeline round trip in scans and purges
POOL_SIZE = 64  # connections per process; one turn uses one at a time
POOL_WAIT = 10.0  # seconds a command may wait for a free connection
SOCKET_TIMEOUT = 1.0  # seconds: a hung Redis costs one second, then the store degrades
PROBE_TTL_MS = 5000  # the health probe's key expires by itself
LOCK_LEASE = 5.0  # seconds a chat lock lives without renewal (a killed holder's is gone soon)
MAX_HOLD = 60.0  # seconds one turn may keep renewing its chat's lock
REPLY_SWEEP_AT = 64  # remembered replies in one chat's hash before expired ones are dropped


class RedisStore(SessionStore):
    def __init__(
        self,
        client: Redis,
        settings: StoreSettings | None = None,
        prefix: str = "yibao:",
        lock_timeout: float = LOCK_LEASE,
        lock_wait: float = 65.0,
        lock_poll: float = 0.005,
    ) -> None:
        """`lock_timeout`: the lease of a held lock, renewed every third of it while the turn
        runs (replies are sent while it is held, and rate limits, RetryAfter and network
        retries can take tens of seconds); a killed instance stops renewing, so its lock is
        gone within one lease. `lock_wait`: give up waiting for a busy chat after this long
        (a live holder's slow turn).
        `lock_poll`: how often a waiting instance retries (redis-py's Lock polls)."""
        super().__init__(settings)
        self.client = client
        self.prefix = prefix
        self.lock_timeout = lock_timeout
        self.lock_wait = lock_wait
        self.lock_poll = lock_poll
        self._local = ChatLocks()

    @classmethod
    def from_url(
        cls, url: str, settings: StoreSettings | None = None, prefix: str = "yibao:"
    ) -> RedisStore:
        # A blocking pool: under a burst, commands wait for a free connection instead of
        # failing (redis-py's default pool raises MaxConnectionsError beyond 100).
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=POOL_SIZE,
            timeout=POOL_WAIT,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
        )
        return cls(Redis.from_pool(pool), settings, prefix=prefix)  # closes the pool with it

    # ------------------------------------------------------------------ keys
    def _session_key(self, chat_id: ChatId) -> str:
        return f"{self.prefix}s:{chat_id}"

    def _records_key(self, chat: str) -> str:
        return f"{self.prefix}r:{chat}"

    def _replies_key(self, chat: str) -> str:
        return f"{self.prefix}m:{chat}"

    @property
    def _chats_key(self) -> str:
        return f"{self.prefix}rc"

    # ------------------------------------------------------------------ sessions
    async def load(self, chat_id: ChatId) -> Session | None:
        return decode_session(await self.client.get(self._session_key(chat_id)), chat_id)

    async def save(self, session: Session) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            self._queue_session(pipe, session)
            await pipe.execute()

    def _queue_session(self, pipe: Pipeline, session: Session) -> None:
        ttl = max(1, int(self.settings.session_ttl))
        pipe.set(self._session_key(session.chat_id), session.to_json(), ex=ttl)

    async def delete(self, chat_id: ChatId) -> bool:
        return bool(await self.client.delete(self._session_key(chat_id)))

    def lock(self, chat_id: ChatId) -> AbstractAsyncContextManager[None]:
        return self._lock(chat_id)

    @asynccontextmanager
    async def _lock(self, chat_id: ChatId) -> AsyncIterator[None]:
        # Tasks of this process queue on a local lock first (FIFO, no polling); only the
        # head of the queue competes for the Redis lock with other instances.
        async with self._local.hold(chat_id):
            lock = self.client.lock(
                f"{self.prefix}lock:{chat_id}",
                timeout=self.lock_timeout,
                sleep=self.lock_poll,
                blocking_timeout=self.lock_wait,
                thread_local=False,
            )
            if not await lock.acquire():
                raise StoreBusyError(f"chat lock busy for more than {self.lock_wait:g}s")
            renewing = asyncio.get_running_loop().create_task(self._renew(lock))
            try:
                yield
            finally:
                renewing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewing
                try:
                    await lock.release()
                except LockError:
                    log.warning("chat lock expired before the turn ended (lock_timeout too short?)")

    async def _renew(self, lock: Lock) -> None:
        """Keep the lease while the turn runs, up to MAX_HOLD: a turn stuck beyond it (a
        send that never returns) must not hold its chat forever; its lock then lapses as a
        killed holder's does. A failure is logged (the turn goes on)."""
        deadline = asyncio.get_running_loop().time() + MAX_HOLD
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(self.lock_timeout / 3)
            try:
                await lock.reacquire()
            except (LockError, RedisError, OSError) as exc:
                log.warning("chat lock lease not renewed (%s)", type(exc).__name__)
                return

    async def purge_idle(self, older_than: float) -> int:
        """Key TTLs already expire idle sessions; this catches a shortened TTL setting."""
        removed = 0
        async for keys in self._scan_batches(f"{self.prefix}s:*"):
            values = await self.client.mget(keys)
            stale = [k for k, v in zip(keys, values, strict=True) if _updated(v) < older_than]
            if stale:
                removed += int(await self.client.delete(*stale))
        return removed

    # ------------------------------------------------------------------ records
    async def record_turn(self, record: TurnRecord) -> None:
        member = await self._admit(record)
        if member is None:
            return
        async with self.client.pipeline(transaction=True) as pipe:
            self._queue_record(pipe, record, member)
            await pipe.execute()

    async def _admit(self, record: TurnRecord) -> str | None:
        """The record's sorted-set member, or None when the per-chat daily cap or a repeated
        unanswered question keeps it out (two instances racing may each add one record
        past the cap)."""
        key = self._records_key(record.chat)
        start, end = self.settings.day_of(record.at)
        if record.outcome != UNANSWERED:
            if (
                await self.client.zcount(key, start, f"({end}")
                >= self.settings.records_per_chat_day
            ):
                return None
        else:
            day = cast(
                "list[tuple[bytes, float]]",
                await self.client.zrangebyscore(key, start, f"({end}", withscores=True),
            )
            if len(day) >= self.settings.records_per_chat_day:
                return None
            if any(repeats(record, _record(record.chat, m, at)) for m, at in day):
                return None
        # A sorted set keeps one copy of equal members, so each member carries a 64-bit
        # nonce: two identical turns stay two records (a 24-bit nonce collided about once
        # in a hundred runs of 1,200 identical records, silently losing one).
        return json.dumps(
            [record.outcome, record.confidence, record.text, os.urandom(8).hex()],
            ensure_ascii=False,
            separators=(",", ":"),
        )

    def _queue_record(self, pipe: Pipeline, record: TurnRecord, member: str) -> None:
        key = self._records_key(record.chat)
        pipe.zadd(key, {member: record.at})
        # Retention holds for active chats even if the scheduled purge never runs.
        retention = self.settings.record_retention
        pipe.zremrangebyscore(key, "-inf", f"({time.time() - retention}")
        pipe.expire(key, max(1, int(retention)))
        pipe.zadd(self._chats_key, {record.chat: record.at}, gt=True)

    async def iter_records(self, since: float = 0.0) -> AsyncIterator[TurnRecord]:
        chats = [_str(c) for c in await self.client.zrangebyscore(self._chats_key, since, "+inf")]
        found: list[TurnRecord] = []
        for batch in _chunks(chats, _BATCH):
            async with self.client.pipeline(transaction=False) as pipe:
                for chat in batch:
                    key = self._records_key(chat)
                    pipe.zrangebyscore(key, since, "+inf", withscores=True)
                results: list[list[tuple[bytes, float]]] = await pipe.execute()
            for chat, members in zip(batch, results, strict=True):
                found.extend(_record(chat, m, at) for m, at in members)
        found.sort(key=lambda r: r.at)
        for record in found:
            yield record

    async def purge_records(self, older_than: float) -> int:
        removed = 0
        cursor = 0
        while True:
            cursor, pairs = await self.client.zscan(self._chats_key, cursor, count=_BATCH)
            chats = [_str(chat) for chat, _ in pairs]
            if chats:
                async with self.client.pipeline(transaction=False) as pipe:
                    for chat in chats:
                        pipe.zremrangebyscore(self._records_key(chat), "-inf", f"({older_than}")
                    counts: list[int] = await pipe.execute()
                removed += sum(counts)
            if cursor == 0:
                break
        # Chats whose newest record is older than the cutoff have no records left.
        await self.client.zremrangebyscore(self._chats_key, "-inf", f"({older_than}")
        return removed

    # ------------------------------------------------------------------ reply cache
    async def remember_reply(self, chat_id: ChatId, key: str, reply: str, ttl: float) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            self._queue_reply(pipe, chat_id, KeptReply(key, reply, ttl))
            *_, size = await pipe.execute()
        await self._sweep_replies(chat_id, int(size))

    def _queue_reply(self, pipe: Pipeline, chat_id: ChatId, reply: KeptReply) -> None:
        """HSET, EXPIRE, HLEN: the pipeline's last result is the chat's number of replies."""
        name = self._replies_key(self.chat_hash(chat_id))
        pipe.hset(
            name, reply.key, json.dumps([time.time() + reply.ttl, reply.text], ensure_ascii=False)
        )
        # Every entry expires within `ttl` of the latest write (callers use one ttl).
        pipe.expire(name, max(1, int(reply.ttl) + 1))
        pipe.hlen(name)

    async def _sweep_replies(self, chat_id: ChatId, size: int) -> None:
        """A chat that never pauses: drop its expired replies once it holds many."""
        if size <= REPLY_SWEEP_AT:
            return
        name = self._replies_key(self.chat_hash(chat_id))
        now = time.time()
        stored = await self.client.hgetall(name)
        stale = [k for k, v in stored.items() if _expires(v) < now]
        if stale:
            await self.client.hdel(name, *stale)

    async def recall_reply(self, chat_id: ChatId, key: str) -> str | None:
        raw = await self.client.hget(self._replies_key(self.chat_hash(chat_id)), key)
        if raw is None or _expires(raw) < time.time():
            return None
        reply = json.loads(raw)[1]
        return str(reply)

    # ------------------------------------------------------------------ the end of a turn
    async def commit(
        self, session: Session, record: TurnRecord, reply: KeptReply | None = None
    ) -> None:
        """The record's cap is read first; then the session, the record and the reply are
        written in one MULTI/EXEC: one request, which Redis applies whole or not at all."""
        member = await self._admit(record)
        async with self.client.pipeline(transaction=True) as pipe:
            self._queue_session(pipe, session)
            if member is not None:
                self._queue_record(pipe, record, member)
            if reply is not None:
                self._queue_reply(pipe, session.chat_id, reply)
            results = await pipe.execute()
        if reply is not None:
            await self._sweep_replies(session.chat_id, int(results[-1]))

    # ------------------------------------------------------------------ privacy
    async def forget(self, chat_id: ChatId) -> None:
        chat = self.chat_hash(chat_id)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(
                self._session_key(chat_id), self._records_key(chat), self._replies_key(chat)
            )
            pipe.zrem(self._chats_key, chat)
            await pipe.execute()

    # ------------------------------------------------------------------ upkeep
    async def ping(self) -> bool:
        """A write probe (PING answers even when Redis refuses writes, e.g. out of memory)."""
        try:
            return bool(await self.client.set(f"{self.prefix}health", "1", px=PROBE_TTL_MS))
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self.client.aclose()

    async def _scan_batches(self, pattern: str) -> AsyncIterator[list[bytes | str]]:
        batch: list[bytes | str] = []
        async for key in self.client.scan_iter(match=pattern, count=_BATCH):
            batch.append(key)
            if len(batch) >= _BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


def _str(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _updated(raw: bytes | str | None) -> float:
    """A session's `updated` without validating the rest; unreadable values count as fresh."""
    if raw is None:
        return float("inf")
    try:
        value: Any = json.loads(raw)
        return float(value.get("updated", 0.0)) if isinstance(value, dict) else float("inf")
    except (ValueError, TypeError):
        return float("inf")


def _expires(raw: bytes | str) -> float:
    """When a remembered reply expires; an unreadable one counts as expired."""
    try:
        return float(json.loads(raw)[0])
    except (ValueError, TypeError, IndexError, KeyError):
        return 0.0


def _record(chat: str, member: bytes | str, at: float) -> TurnRecord:
    outcome, confidence, text, _nonce = json.loads(member)
    return TurnRecord(at=at, chat=chat, outcome=outcome, confidence=confidence, text=text)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
