"""Session storage costs: bytes per stored idle session, RAM per 10k sessions, store latency.

Figures printed:
- JSON bytes of typical idle sessions (after a FAQ answer, mid-flow with slots);
- SQLite file growth per 10k sessions (bytes per session, after a checkpoint);
- Redis memory per 10k sessions (INFO used_memory delta), when redis-server is installed;
- RAM per 10k sessions held by the memory store, and per 10k live Session objects
  (10k concurrent turns in flight), measured with tracemalloc;
- latency of one turn's store work (lock + load + save + record) per store, median and p99;
- SQLite forget latency with 10k sessions stored (it rebuilds the file).
Target (issue 3): <= 2 KB per stored idle session.
"""

from __future__ import annotations

import asyncio
import gc
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bench.stats import percentile
from dialogs.session import Session
from dialogs.stores import MemoryStore, SessionStore, StoreSettings, TurnRecord
from dialogs.stores.redis import RedisStore
from dialogs.stores.sqlite import SqliteStore

N = 10_000
TURNS = 2_000
SETTINGS = StoreSettings()
NOW = time.time()


def faq_session(chat_id: int) -> Session:
    """Idle after a FAQ answer: city, topic, last entry."""
    return Session(
        chat_id=-1_000_000_000_000 - chat_id if chat_id % 2 else 5_000_000_000 + chat_id,
        city="tianjin",
        topic="newborn_enrolment",
        last_entry="tj.nonlocal.materials",
        updated=NOW,
        version=12,
    )


def flow_session(chat_id: int) -> Session:
    """Idle in the middle of a flow, with every slot a flow collects."""
    s = faq_session(chat_id)
    s.flow, s.state = "suzhou", "school_district"
    s.slots = {
        "points": True,
        "residence_permit": True,
        "lived_one_year": True,
        "district": "industrial_park",
        "school_kind": "primary_public",
        "enrolled_before": False,
        "children": 2,
        "birth": "2026-02-10",
    }
    return s


def typical(i: int) -> Session:
    return flow_session(i) if i % 4 == 0 else faq_session(i)


def _ms(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"median {statistics.median(ms):.3f} ms, p99 {percentile(ms, 99):.3f} ms"


async def _turn_latency(store: SessionStore) -> list[float]:
    """What a turn asks of the store: lock, load, save, record (engine logic excluded)."""
    for i in range(200):  # a population to read from, and warm-up
        await store.save(typical(i))
    samples: list[float] = []
    for t in range(TURNS):
        chat_id = typical(t % 200).chat_id
        start = time.perf_counter()
        async with store.lock(chat_id):
            session = await store.load(chat_id) or Session(chat_id=chat_id)
            session.touch()
            await store.save(session)
            await store.record_turn(TurnRecord.new(store.chat_hash(chat_id), "tj.cost"))
        samples.append(time.perf_counter() - start)
    return samples


async def _fill(store: SessionStore, n: int) -> None:
    for i in range(n):
        await store.save(typical(i))


def _memory_figures() -> None:
    async def fill_memory() -> MemoryStore:
        store = MemoryStore(SETTINGS)
        await _fill(store, N)
        return store

    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    store = asyncio.run(fill_memory())
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - base
    live = [typical(i) for i in range(N)]
    gc.collect()
    with_live = tracemalloc.get_traced_memory()[0] - base - held
    tracemalloc.stop()
    print(
        f"memory store, {N} idle sessions held as JSON: {held / 1e6:.2f} MB "
        f"({held / N:.0f} B/session)"
    )
    print(
        f"{N} live Session objects (turns in flight): {with_live / 1e6:.2f} MB "
        f"({with_live / N:.0f} B/session)"
    )
    del store, live


async def _sqlite_figures(workdir: Path) -> None:
    path = workdir / "bench.db"
    store = SqliteStore(path, SETTINGS)
    await store.ping()
    empty = await store.file_size()
    await _fill(store, N)
    full = await store.file_size()
    print(
        f"sqlite file growth per {N} sessions: {(full - empty) / 1e6:.2f} MB "
        f"({(full - empty) / N:.0f} B/session)"
    )
    start = time.perf_counter()
    await store.forget(typical(N // 2).chat_id)
    took_ms = (time.perf_counter() - start) * 1000
    print(f"sqlite forget with {N} sessions stored (VACUUM): {took_ms:.1f} ms")
    await store.close()
    store = SqliteStore(workdir / "latency.db", SETTINGS)
    print(f"sqlite turn store work: {_ms(await _turn_latency(store))}")
    await store.close()


@asynccontextmanager
async def _redis_server(workdir: Path) -> AsyncIterator[str | None]:
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"
        probe = RedisStore.from_url(url, SETTINGS)
        for _ in range(500):
            if await probe.ping():
                break
            await asyncio.sleep(0.01)
        await probe.close()
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def _redis_figures(workdir: Path) -> None:
    async with _redis_server(workdir) as url:
        if url is None:
            print("redis: skipped (redis-server not installed)")
            return
        store = RedisStore.from_url(url, SETTINGS)
        before = int((await store.client.info("memory"))["used_memory"])
        await _fill(store, N)
        after = int((await store.client.info("memory"))["used_memory"])
        print(
            f"redis memory per {N} sessions: {(after - before) / 1e6:.2f} MB "
            f"({(after - before) / N:.0f} B/session)"
        )
        await store.client.flushall()
        print(f"redis turn store work (127.0.0.1): {_ms(await _turn_latency(store))}")
        await store.close()


def _sizes() -> None:
    faq = len(faq_session(1).to_json().encode())
    flow = len(flow_session(1).to_json().encode())
    print(f"session JSON: {faq} B after a FAQ answer, {flow} B mid-flow with 8 slots")
    print("target: <= 2048 B per stored idle session")


async def _async_main(workdir: Path) -> None:
    print(f"memory turn store work: {_ms(await _turn_latency(MemoryStore(SETTINGS)))}")
    await _sqlite_figures(workdir)
    await _redis_figures(workdir)


def main() -> None:
    _sizes()
    _memory_figures()
    with tempfile.TemporaryDirectory(prefix="yibao-bench-") as tmp:
        asyncio.run(_async_main(Path(tmp)))


if __name__ == "__main__":
    main()
