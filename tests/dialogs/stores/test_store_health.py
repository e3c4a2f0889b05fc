"""Store health and outages (issue 13 #7, #8, #14): /healthz says 503 while the store is
degraded or refuses writes, a hung Redis costs at most its 1 s timeout and then nothing
while no retry is due, and a chat lock left by a killed process is free within one lease.
A real redis-server (made to refuse writes, paused with SIGSTOP, or holding the lock of a
process killed with SIGKILL)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import redis.asyncio
from paths import ROOT

from bot.ops.health import check_health
from bot.wiring import load_flows
from dialogs.engine import Engine
from dialogs.stores.redis import LOCK_LEASE, RedisStore
from dialogs.stores.resilient import ResilientStore
from dialogs.types import Incoming
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Matcher


async def test_healthz_is_503_while_redis_refuses_writes(
    own_redis: tuple[int, list[subprocess.Popen[bytes]]],
    kb: KnowledgeBase,
    matcher: Matcher,
) -> None:
    port, _ = own_redis
    url = f"redis://127.0.0.1:{port}/0"
    store = ResilientStore(RedisStore.from_url(url))
    engine = Engine(kb, matcher, store, flows=load_flows(kb))
    admin = redis.asyncio.Redis.from_url(url)
    try:
        assert (await check_health(store, lambda: "v")).ok
        await admin.config_set("maxmemory", "1")  # PING still works; every write: OOM
        await admin.config_set("maxmemory-policy", "noeviction")
        assert await admin.ping()
        assert not (await check_health(store, lambda: "v")).ok  # the write probe fails
        await engine.handle(1, Incoming(text="/suzhou"))  # the save fails: degraded
        assert store.degraded
        await admin.config_set("maxmemory", "0")
        assert not (await check_health(store, lambda: "v")).ok  # degraded until a retry
        store._retry_at = 0.0  # the retry is due (the clock moved on)
        assert (await check_health(store, lambda: "v")).ok and not store.degraded
    finally:
        await admin.aclose()
        await store.close()


async def test_a_hung_redis_costs_one_timeout_then_nothing(
    own_redis: tuple[int, list[subprocess.Popen[bytes]]],
    kb: KnowledgeBase,
    matcher: Matcher,
) -> None:
    port, procs = own_redis
    store = ResilientStore(RedisStore.from_url(f"redis://127.0.0.1:{port}/0"), retry_every=30)
    engine = Engine(kb, matcher, store, flows=load_flows(kb))
    await engine.handle(1, Incoming(text="/suzhou"))
    os.kill(procs[0].pid, signal.SIGSTOP)  # hung: connections accepted, nothing answered
    try:
        started = time.perf_counter()
        await engine.handle(2, Incoming(text="/suzhou"))
        first = time.perf_counter() - started
        assert store.degraded
        started = time.perf_counter()
        for chat in (1, 3, 4):
            await engine.handle(chat, Incoming(text="天津新生儿医保交多少钱"))
        later = time.perf_counter() - started
    finally:
        os.kill(procs[0].pid, signal.SIGCONT)
    assert first < 4.0, first  # a few 1 s timeouts (lock, load), not 5-11 s
    assert later < 0.5, later  # the circuit is open: no backend call until a retry is due
    await store.close()


HOLDER = """
import asyncio, sys
from dialogs.stores.redis import RedisStore

async def main():
    store = RedisStore.from_url(sys.argv[1])
    async with store.lock(77):
        print("holding", flush=True)
        await asyncio.sleep(600)

asyncio.run(main())
"""


async def test_a_killed_holder_delays_the_chat_by_at_most_one_lease(redis_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, redis_url], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    await asyncio.sleep(LOCK_LEASE)  # it renewed its lease meanwhile: still held
    store = RedisStore.from_url(redis_url)
    try:
        assert await store.client.exists(f"{store.prefix}lock:77")
        holder.kill()  # kill -9 with the "turn" in flight
        holder.wait()
        started = time.perf_counter()
        async with store.lock(77):
            waited = time.perf_counter() - started
    finally:
        holder.stdout.close()
        await store.close()
    assert waited <= LOCK_LEASE + 0.5, waited
