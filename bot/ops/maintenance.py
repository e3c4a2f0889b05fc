"""Retention, enforced on a schedule: idle sessions and old turn records are deleted.

The stores already expire data lazily (SQLite when it opens, Redis by key TTL and when a
chat writes), but a chat that never writes again, or a long-running process that never
reopens its file, would keep old data past the promised lifetime. A JobQueue job therefore
runs `SessionStore.purge()` every `PURGE_EVERY` seconds with the lifetimes from
YIBAO_SESSION_TTL_DAYS and YIBAO_RECORD_RETENTION_DAYS (`StoreSettings`). Deletes are
idempotent, so several instances purging the same Redis is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from dialogs.stores.base import PurgeResult, SessionStore

log = logging.getLogger(__name__)

PURGE_EVERY = 3600.0  # seconds between two purges; retention is counted in days
PURGE_FIRST = 60.0  # seconds after start-up: not in the way of the first turns
COMPACT_EVERY = 600.0  # seconds: a rebuild left over (deferred, or from before a restart)
COMPACT_GAP = 10.0  # seconds at least between two rebuilds, however many chats forget


async def purge_expired(store: SessionStore, clock: Callable[[], float] = time.time) -> PurgeResult:
    """One purge run: sessions idle past their TTL, records past retention. Never raises
    for a store outage (logged; the next run catches up)."""
    try:
        result = await store.purge(now=clock())
    except Exception as exc:  # a scheduled job must survive a store outage
        log.warning("retention purge failed: %s", type(exc).__name__)
        return PurgeResult(sessions=0, records=0)
    if result.sessions or result.records:
        log.info(
            "retention purge: %d idle session(s), %d old record(s) deleted",
            result.sessions,
            result.records,
        )
    return result


async def compact_erased(store: SessionStore) -> bool:
    """Rebuild the store's file after `/forget` erasures (SQLite: VACUUM + WAL truncate on
    its checkpoint thread), at most once per `COMPACT_EVERY` however many chats forgot;
    a no-op when nothing was erased. Never raises (logged; the next run tries again)."""
    try:
        return await store.compact()
    except Exception as exc:  # a scheduled job must survive a store outage
        log.warning("file rebuild after erasures failed: %s", type(exc).__name__)
        return False


class Compactor:
    """Rebuilds the store's file soon after an erasure (`poke`, from `Engine.on_erased`),
    in the background and at most once per `COMPACT_GAP`: ten `/forget`s cost one rebuild,
    and no turn waits for it. Also runs every `COMPACT_EVERY` for a rebuild a busy
    reader deferred or a restart interrupted (a no-op when none is due)."""

    def __init__(self, store: SessionStore, gap: float = COMPACT_GAP) -> None:
        self.store = store
        self.gap = gap
        self._due = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        self._due.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._due.wait(), COMPACT_EVERY)
            self._due.clear()
            await compact_erased(self.store)
            await asyncio.sleep(self.gap)
