"""Retention, enforced on a schedule: idle sessions and old turn records are deleted.

The stores already expire data lazily (SQLite when it opens, Redis by key TTL and when a
chat writes), but a chat that never writes again, or a long-running process that never
reopens its file, would keep old data past the promised lifetime. A JobQueue job therefore
runs `SessionStore.purge()` every `PURGE_EVERY` seconds with the lifetimes from
YIBAO_SESSION_TTL_DAYS and YIBAO_RECORD_RETENTION_DAYS (`StoreSettings`). Deletes are
idempotent, so several instances purging the same Redis is harmless.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from dialogs.stores.base import PurgeResult, SessionStore

log = logging.getLogger(__name__)

PURGE_EVERY = 3600.0  # seconds between two purges; retention is counted in days
PURGE_FIRST = 60.0  # seconds after start-up: not in the way of the first turns


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
