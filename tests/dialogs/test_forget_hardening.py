"""`/forget` never stalls other chats and never claims an erasure the backend did not do.

Issue 13: a forget ran VACUUM and a TRUNCATE checkpoint on the single SQLite thread (seconds
on a large store, every other chat waiting; a concurrent reader made it wait as long as the
reader ran), a forged `x:forget:yes` erased without the prompt, and during a store outage
the bot said "已删除" for an erasure done only in memory. Real SQLite files, a real reader
process, a real redis-server stopped under the engine.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bot.wiring import load_flows
from dialogs.engine import Engine
from dialogs.session import Session
from dialogs.stores import MemoryStore
from dialogs.stores.records import TurnRecord
from dialogs.stores.redis import RedisStore
from dialogs.stores.resilient import ResilientStore
from dialogs.stores.sqlite import SqliteStore
from dialogs.types import Incoming, Reply
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Matcher

CHAT = 777


def callbacks(replies: list[Reply]) -> list[str]:
    return [b.callback for r in replies for row in r.buttons for b in row]


def confirm_button(replies: list[Reply]) -> str:
    (yes,) = [c for c in callbacks(replies) if c.startswith("x:forget:yes:")]
    return yes


async def test_a_forged_confirmation_only_shows_the_prompt(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    engine = Engine(kb, matcher, MemoryStore(), flows=load_flows(kb))
    await engine.handle(CHAT, Incoming(text="/suzhou"))
    for forged in ("x:forget:yes", "x:forget:yes:guess", "x:forget:yes:"):
        replies = await engine.handle(CHAT, Incoming(callback=forged))
        assert replies[0].text == kb.text("forget_confirm")
        assert await engine.store.load(CHAT) is not None  # nothing erased
    # The prompt's own button works once; the same button again only asks again.
    yes = confirm_button(await engine.handle(CHAT, Incoming(text="/forget")))
    other = confirm_button(await engine.handle(CHAT + 1, Incoming(text="/forget")))
    assert other != yes  # one nonce per prompt
    assert (await engine.handle(CHAT + 1, Incoming(callback=yes)))[0].text == kb.text(
        "forget_confirm"
    )  # another chat's button does not erase this one
    done = await engine.handle(CHAT, Incoming(callback=yes))
    assert done[0].text.startswith(kb.text("forgotten"))
    assert await engine.store.load(CHAT) is None
    again = await engine.handle(CHAT, Incoming(callback=yes))
    assert again[0].text == kb.text("forget_confirm")


async def test_forget_during_an_outage_says_it_could_not_erase(
    kb: KnowledgeBase,
    matcher: Matcher,
    own_redis: tuple[int, list[subprocess.Popen[bytes]]],
) -> None:
    port, procs = own_redis
    store = ResilientStore(RedisStore.from_url(f"redis://127.0.0.1:{port}/0"))
    engine = Engine(kb, matcher, store, flows=load_flows(kb))
    erased: list[int] = []
    engine.on_erased = lambda: erased.append(1)
    await engine.handle(CHAT, Incoming(text="/suzhou"))
    yes = confirm_button(await engine.handle(CHAT, Incoming(text="/forget")))
    procs[0].terminate()
    procs[0].wait()
    # The session (and its nonce) cannot be read: the prompt again, from memory this time.
    replies = await engine.handle(CHAT, Incoming(callback=yes))
    yes = confirm_button(replies)
    replies = await engine.handle(CHAT, Incoming(callback=yes))
    said = "\n".join(r.text for r in replies)
    assert kb.text("forget_failed") in said and kb.text("forgotten") not in said
    assert erased == []
    assert not await engine.forget("wx:gone")  # the WeChat unsubscribe path: not confirmed
    await store.close()


def _store_with_records(path: Path, chats: int, per_chat: int) -> None:
    """A large store built directly (fast), with the schema `SqliteStore` creates."""
    store = SqliteStore(path)
    asyncio.run(store.ping())
    asyncio.run(store.close())
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    rows = (
        (time.time(), f"hash{c:06d}", "unanswered", None, f"问题 {c} {i}")
        for c in range(chats)
        for i in range(per_chat)
    )
    conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


async def test_sqlite_forget_deletes_rows_only_and_others_do_not_wait(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    await asyncio.to_thread(_store_with_records, path, 2000, 50)  # 100k records
    store = SqliteStore(path)
    target = 4242
    await store.save(Session(chat_id=target))
    for i in range(200):  # a full day of the chat's records (the per-chat cap), all distinct
        await store.record_turn(TurnRecord.new(store.chat_hash(target), "unanswered", f"问题{i}"))

    started = time.perf_counter()
    await store.forget(12345)  # a chat with no rows: cheap, and no rebuild due
    nothing = time.perf_counter() - started
    assert not await store.compact()

    async def other_chat() -> float:
        t0 = time.perf_counter()
        await store.save(Session(chat_id=1))
        return time.perf_counter() - t0

    started = time.perf_counter()
    _, waited = await asyncio.gather(store.forget(target), other_chat())
    took = time.perf_counter() - started
    freed = await store._run(lambda c: c.execute("PRAGMA freelist_count").fetchone()[0])
    assert freed > 0  # rows deleted, the file not rebuilt on the turn path
    assert nothing < 0.05 and took < 0.5 and waited < 0.5, (nothing, took, waited)
    assert await store.load(target) is None
    assert [r async for r in store.iter_records() if r.chat == store.chat_hash(target)] == []
    assert await store.compact()  # the maintenance task rebuilds, once
    freed = await store._run(lambda c: c.execute("PRAGMA freelist_count").fetchone()[0])
    assert freed == 0
    await store.close()


READER = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN")
c.execute("SELECT count(*) FROM records").fetchone()
print("reading", flush=True)
time.sleep(600)
"""


async def test_a_long_reader_defers_the_rebuild_and_blocks_no_turn(tmp_path: Path) -> None:
    """A backup or `yibao report` holding a read transaction: the forget returns at once,
    the rebuild gives up within its bound (and is done by a later run), turns go on."""
    path = tmp_path / "state.db"
    store = SqliteStore(path)
    for chat in range(50):
        await store.save(Session(chat_id=chat))
        await store.record_turn(TurnRecord.new(store.chat_hash(chat), "unanswered", "问题"))
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "reading"
        started = time.perf_counter()
        await store.forget(7)
        assert time.perf_counter() - started < 0.5
        started = time.perf_counter()
        compacting = asyncio.ensure_future(store.compact())
        await asyncio.sleep(0.05)
        await store.save(Session(chat_id=8))  # a turn during the attempt
        saved = time.perf_counter() - started
        assert not await compacting  # deferred: the reader holds the WAL
        assert time.perf_counter() - started < 3.0 and saved < 1.5
    finally:
        reader.kill()
        reader.wait()
        assert reader.stdout is not None
        reader.stdout.close()
    assert await store.compact()  # the next run does it
    trace = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert store.chat_hash(7).encode() not in trace
    await store.close()
