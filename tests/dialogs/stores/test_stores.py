"""ONE contract suite that every session store passes: memory, SQLite (a real file) and Redis
(a real redis-server, see tests/support/redis_fixture.py). Backend-specific checks come last.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from redis_fixture import redis_dump

from dialogs.session import Session
from dialogs.stores import MemoryStore, SessionStore, StoreSettings, TurnRecord, open_store
from dialogs.stores.base import KeptReply
from dialogs.stores.redis import LOCK_LEASE, RedisStore, StoreBusyError
from dialogs.stores.settings import DAY
from dialogs.stores.sqlite import CHECKPOINT_EVERY, SCHEMA_VERSION, SqliteStore

SETTINGS = StoreSettings(session_ttl=30 * DAY, record_retention=90 * DAY, hash_salt="contract")
NOW = time.time()  # stores purge expired data on open: test data must be recent


@dataclass
class Backend:
    """How the suite reaches one backend beyond the store interface."""

    name: str
    opener: Callable[[], SessionStore]
    poke: Callable[[SessionStore, int, str], Awaitable[None]]  # write a raw session value
    traces: Callable[[SessionStore], Awaitable[bytes]]  # everything the backend holds
    opened: list[SessionStore] = field(default_factory=list)

    def open(self) -> SessionStore:
        """A store instance over the same storage (memory: the same instance)."""
        store = self.opener()
        self.opened.append(store)
        return store


# ---------------------------------------------------------------------- backends
def _memory_backend() -> Backend:
    shared = MemoryStore(SETTINGS)

    async def poke(store: SessionStore, chat_id: int, raw: str) -> None:
        assert isinstance(store, MemoryStore)
        store._data[chat_id] = raw
        store._updated[chat_id] = NOW

    async def traces(store: SessionStore) -> bytes:
        assert isinstance(store, MemoryStore)
        return repr((store._data, store._updated, store._records, store._replies)).encode()

    return Backend("memory", lambda: shared, poke, traces)


def _sqlite_backend(path: Path) -> Backend:
    async def poke(store: SessionStore, chat_id: int, raw: str) -> None:
        await store.ping()  # make sure the schema exists
        with sqlite3.connect(path) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO sessions (chat_id, updated, data) VALUES (?, ?, ?)",
                (chat_id, NOW, raw),
            )

    async def traces(store: SessionStore) -> bytes:
        return b"".join(
            p.read_bytes() for p in sorted(path.parent.iterdir()) if p.name.startswith(path.name)
        )

    return Backend("sqlite", lambda: SqliteStore(path, SETTINGS), poke, traces)


def _redis_backend(url: str) -> Backend:
    async def poke(store: SessionStore, chat_id: int, raw: str) -> None:
        assert isinstance(store, RedisStore)
        await store.client.set(f"{store.prefix}s:{chat_id}", raw)

    async def traces(store: SessionStore) -> bytes:
        assert isinstance(store, RedisStore)
        return await redis_dump(store)

    return Backend("redis", lambda: RedisStore.from_url(url, SETTINGS), poke, traces)


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "memory":
        b = _memory_backend()
    elif request.param == "sqlite":
        b = _sqlite_backend(tmp_path / "data" / "state.db")
    else:
        b = _redis_backend(request.getfixturevalue("redis_url"))
    yield b
    for store in b.opened:
        await store.close()


@pytest.fixture
def store(backend: Backend) -> SessionStore:
    return backend.open()


def session(chat_id: int | str, **fields: object) -> Session:
    return Session.model_validate({"chat_id": chat_id, "updated": NOW, **fields})


# ---------------------------------------------------------------------- sessions
async def test_missing_chat_loads_as_none(store: SessionStore) -> None:
    assert await store.load(404) is None


async def test_save_load_round_trip(store: SessionStore) -> None:
    original = session(
        -100123,
        city="tianjin",
        topic="newborn",
        flow="tianjin",
        state="huji",
        slots={"birth": "2026-02-10", "children": 2, "ok": True, "school": None, "q": "孩子医保"},
        last_entry="tj_newborn_deadline",
        version=7,
    )
    await store.save(original)
    assert await store.load(-100123) == original


async def test_save_overwrites(store: SessionStore) -> None:
    await store.save(session(1, city="tianjin", version=1))
    await store.save(session(1, city="suzhou", version=2))
    loaded = await store.load(1)
    assert loaded is not None and (loaded.city, loaded.version) == ("suzhou", 2)


async def test_delete_only_that_chat(store: SessionStore) -> None:
    await store.save(session(1))
    await store.save(session(2))
    assert await store.delete(1) is True
    assert await store.delete(1) is False
    assert await store.load(1) is None
    assert await store.load(2) is not None


async def test_unknown_state_is_stored_as_is(store: SessionStore) -> None:
    """A state renamed by an upgrade comes back unchanged; the engine decides what to do."""
    await store.save(session(5, flow="tianjin", state="renamed_in_v2"))
    loaded = await store.load(5)
    assert loaded is not None and loaded.state == "renamed_in_v2"


@pytest.mark.parametrize(
    "raw", ["{not json", "[]", '{"chat_id": "abc"}', '{"slots": 3}', "\x00\x01"]
)
async def test_corrupt_value_loads_as_none_and_is_replaced(
    backend: Backend, store: SessionStore, raw: str, caplog: pytest.LogCaptureFixture
) -> None:
    await backend.poke(store, 9, raw)
    with caplog.at_level(logging.WARNING, logger="dialogs.stores"):
        assert await store.load(9) is None
    assert len([r for r in caplog.records if "unreadable session" in r.message]) == 1
    assert raw not in caplog.text  # the content itself is never logged
    await store.save(session(9, city="suzhou"))
    loaded = await store.load(9)
    assert loaded is not None and loaded.city == "suzhou"


async def test_sessions_survive_reopening(backend: Backend) -> None:
    first = backend.open()
    await first.save(session(3, city="tianjin", slots={"step": 2}))
    await first.close()
    loaded = await backend.open().load(3)
    assert loaded is not None and loaded.slots == {"step": 2}


# ---------------------------------------------------------------------- locking
async def _increment(store: SessionStore, chat_id: int, times: int) -> None:
    for _ in range(times):
        async with store.lock(chat_id):
            current = await store.load(chat_id) or session(chat_id, slots={"n": 0})
            await asyncio.sleep(0)  # let the other task run between load and save
            n = current.slots["n"]
            assert isinstance(n, int)
            current.slots["n"] = n + 1
            await store.save(current)


async def test_lock_serialises_turns_of_one_chat(store: SessionStore) -> None:
    await asyncio.gather(*(_increment(store, 77, 25) for _ in range(4)))
    loaded = await store.load(77)
    assert loaded is not None and loaded.slots["n"] == 100


async def test_lock_lets_other_chats_run(store: SessionStore) -> None:
    a_held, b_done = asyncio.Event(), asyncio.Event()

    async def hold_a() -> None:
        async with store.lock(1):
            a_held.set()
            await b_done.wait()  # chat 2 must finish while chat 1 is still locked

    async def use_b() -> None:
        await a_held.wait()
        async with store.lock(2):
            await store.save(session(2))
        b_done.set()

    await asyncio.wait_for(asyncio.gather(hold_a(), use_b()), timeout=20)
    assert await store.load(2) is not None


async def test_lock_is_released_after_an_error(store: SessionStore) -> None:
    with pytest.raises(RuntimeError):
        async with store.lock(8):
            raise RuntimeError("turn failed")
    async with asyncio.timeout(20), store.lock(8):
        await store.save(session(8))
    assert await store.load(8) is not None


# ---------------------------------------------------------------------- expiry
async def test_purge_idle_drops_only_old_sessions(store: SessionStore) -> None:
    for chat_id, updated in ((1, NOW - 300), (2, NOW - 200), (3, NOW - 100)):
        await store.save(session(chat_id, updated=updated))
    assert await store.purge_idle(NOW - 150) == 2
    assert await store.load(1) is None and await store.load(2) is None
    assert await store.load(3) is not None


async def test_purge_applies_ttl_and_retention(store: SessionStore) -> None:
    await store.save(session(1, updated=NOW - 2 * DAY))
    await store.save(session(2, updated=NOW))
    await store.record_turn(TurnRecord(at=NOW - DAY, chat="old", outcome="menu"))
    await store.record_turn(TurnRecord(at=NOW, chat="new", outcome="menu"))
    # Seen from a month (sessions) and three months (records) ahead, one of each has expired.
    result = await store.purge(now=NOW + 29 * DAY)
    assert (result.sessions, result.records) == (1, 0)
    assert await store.load(1) is None and await store.load(2) is not None
    result = await store.purge(now=NOW + 89.5 * DAY)
    assert result.records == 1
    assert [r.chat async for r in store.iter_records()] == ["new"]


# ---------------------------------------------------------------------- records
async def test_records_round_trip_in_time_order(store: SessionStore) -> None:
    records = [
        TurnRecord(at=NOW + 2, chat="b", outcome="unanswered", confidence=0.1, text="[PHONE]办"),
        TurnRecord(at=NOW, chat="a", outcome="tj_newborn_deadline", confidence=0.9),
        TurnRecord(at=NOW + 1, chat="a", outcome="clarified"),
        TurnRecord(at=NOW + 1, chat="a", outcome="clarified"),  # identical turns both count
    ]
    for record in records:
        await store.record_turn(record)
    got = [r async for r in store.iter_records()]
    assert got == sorted(records, key=lambda r: r.at)
    assert [r.at async for r in store.iter_records(since=NOW + 1)] == [NOW + 1, NOW + 1, NOW + 2]


async def test_many_records_iterate_completely(store: SessionStore) -> None:
    for i in range(1203):  # more than one page of every backend's pagination
        # Ten chats: each stays under the per-chat daily cap of records.
        await store.record_turn(TurnRecord(at=NOW + i / 7, chat=f"c{i % 10}", outcome="menu"))
    ats = [r.at async for r in store.iter_records()]
    assert len(ats) == 1203 and ats == sorted(ats)


async def test_purge_records_by_age(store: SessionStore) -> None:
    for age in (5, 4, 3, 2, 1):
        await store.record_turn(TurnRecord(at=NOW - age, chat=f"c{age % 2}", outcome="menu"))
    assert await store.purge_records(NOW - 2.5) == 3
    assert [r.at async for r in store.iter_records()] == [NOW - 2, NOW - 1]


async def test_record_new_keeps_masked_text_only_when_unanswered(store: SessionStore) -> None:
    chat = store.chat_hash(42)
    asked = "电话13812345678 孩子2026年2月10日出生"
    await store.record_turn(TurnRecord.new(chat, "unanswered", asked))
    await store.record_turn(TurnRecord.new(chat, "tj_newborn_deadline", "电话13812345678"))
    texts = [r.text async for r in store.iter_records()]
    assert texts == ["电话[PHONE] 孩子[DATE]出生", None]


# ---------------------------------------------------------------------- privacy
async def test_chat_hash_is_keyed_and_hides_the_id(store: SessionStore) -> None:
    h = store.chat_hash(123456789)
    assert h == store.chat_hash(123456789) and "123456789" not in h
    assert h != StoreSettings(hash_salt="other").chat_hash(123456789)


async def test_forget_erases_session_and_records_of_that_chat_only(store: SessionStore) -> None:
    for chat_id in (1, 2):
        await store.save(session(chat_id))
        chat = store.chat_hash(chat_id)
        await store.record_turn(TurnRecord.new(chat, "unanswered", f"问题{chat_id}"))
    await store.forget(1)
    assert await store.load(1) is None and await store.load(2) is not None
    assert [r.chat async for r in store.iter_records()] == [store.chat_hash(2)]
    await store.forget(1)  # forgetting twice is harmless


TARGET = 7_123_456_789_012  # a distinctive chat id (6 bytes as an SQLite integer)


def _sqlite_varint(n: int) -> bytes:
    """SQLite's big-endian varint (how a rowid is written in a b-tree cell)."""
    groups = []
    while True:
        groups.append(n & 0x7F)
        n >>= 7
        if not n:
            break
    groups.reverse()
    return bytes([g | 0x80 for g in groups[:-1]] + [groups[-1]])


async def test_forget_leaves_no_trace(backend: Backend, store: SessionStore) -> None:
    secret_q = "我的孩子小明宝宝怎么办理独特问题"
    # Enough rows around the target for multi-level b-trees in SQLite, where a deleted key can
    # linger as a divider in an interior page.
    others = [10_000 + i for i in range(200)] + [TARGET + 1 + i for i in range(200)]
    for other in others:
        await store.save(session(other, city="tianjin", slots={"q": "别人的问题" * 3}))
        await store.record_turn(TurnRecord.new(store.chat_hash(other), "unanswered", "别人"))
    for i in range(150):
        await store.save(session(TARGET, city="suzhou", slots={"name": "小明宝宝", "i": i}))
        await store.record_turn(TurnRecord.new(store.chat_hash(TARGET), "unanswered", secret_q))
    chat_hash = store.chat_hash(TARGET).encode()
    needles = [str(TARGET).encode(), chat_hash, "小明宝宝".encode()]
    if backend.name == "sqlite":
        needles += [TARGET.to_bytes(6, "big"), _sqlite_varint(TARGET)]
    before = await backend.traces(store)
    assert all(n in before for n in needles[:3])  # the check below can fail

    await store.forget(TARGET)
    assert await store.load(TARGET) is None  # gone for every reader at once
    await store.compact()  # the maintenance job's rebuild (SQLite), a no-op elsewhere

    after = await backend.traces(store)
    assert [n for n in needles if n in after] == []
    assert "别人".encode() in after  # other chats are still there
    assert await store.load(10_000) is not None


# ---------------------------------------------------------------------- string chat ids
WX = "wx:oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"  # a namespaced WeChat OpenID


async def test_string_ids_round_trip_beside_integer_ids(store: SessionStore) -> None:
    await store.save(session(WX, city="suzhou"))
    await store.save(session(1, city="tianjin"))
    await store.save(session("1", city="other"))  # a string that looks like an int
    loaded = await store.load(WX)
    assert loaded is not None and (loaded.chat_id, loaded.city) == (WX, "suzhou")
    telegram = await store.load(1)
    assert telegram is not None and telegram.chat_id in (1, "1")
    assert store.chat_hash(WX) != store.chat_hash(1)
    assert await store.delete(WX) and await store.load(WX) is None


async def test_telegram_hash_unchanged_by_string_ids(store: SessionStore) -> None:
    """Records written before string ids existed still belong to their chat."""
    import hashlib
    import hmac

    expected = hmac.new(b"contract", b"42", hashlib.sha256).hexdigest()[:16]
    assert store.chat_hash(42) == expected


async def test_lock_takes_string_ids(store: SessionStore) -> None:
    async with store.lock(WX), store.lock(WX + "#m"):
        pass


# ---------------------------------------------------------------------- reply cache
async def test_remembered_reply_is_recalled_until_it_expires(store: SessionStore) -> None:
    await store.remember_reply(WX, "msg:1", "回复一", ttl=300)
    await store.remember_reply(WX, "msg:2", "回复二", ttl=0.05)
    assert await store.recall_reply(WX, "msg:1") == "回复一"
    assert await store.recall_reply(WX, "msg:3") is None
    assert await store.recall_reply("wx:other", "msg:1") is None  # per chat
    await asyncio.sleep(0.1)
    assert await store.recall_reply(WX, "msg:2") is None


@pytest.mark.parametrize("backend", ["sqlite", "redis"], indirect=True)  # memory: one process
async def test_remembered_reply_is_shared_by_instances(backend: Backend) -> None:
    first, second = backend.open(), backend.open()
    await first.remember_reply(WX, "msg:7", "同一个回复", ttl=300)
    assert await second.recall_reply(WX, "msg:7") == "同一个回复"


async def test_forget_erases_remembered_replies(backend: Backend, store: SessionStore) -> None:
    await store.save(session(WX, city="suzhou"))
    await store.remember_reply(WX, "msg:9", "独特的回复内容甲乙", ttl=300)
    await store.remember_reply("wx:other", "msg:9", "别人的回复", ttl=300)
    await store.record_turn(TurnRecord.new(store.chat_hash(WX), "unanswered", "独特问题"))
    await store.forget(WX)
    assert await store.recall_reply(WX, "msg:9") is None
    await store.compact()
    after = await backend.traces(store)
    for needle in (WX.encode(), store.chat_hash(WX).encode(), "独特".encode()):
        assert needle not in after
    assert "别人的回复".encode() in after


# ---------------------------------------------------------------------- the end of a turn
async def _records_of(store: SessionStore, chat_id: str) -> list[TurnRecord]:
    return [r async for r in store.iter_records() if r.chat == store.chat_hash(chat_id)]


async def test_commit_keeps_session_record_and_reply(store: SessionStore) -> None:
    turn = session(WX, city="suzhou", answered=[11])
    record = TurnRecord.new(store.chat_hash(WX), "menu")
    await store.commit(turn, record, KeptReply("m:11", "第一个回复", 300))
    assert await store.load(WX) == turn
    assert await _records_of(store, WX) == [record]
    assert await store.recall_reply(WX, "m:11") == "第一个回复"
    assert await store.recall_reply("wx:other", "m:11") is None  # under this chat only
    await store.commit(session(WX, city="tianjin"), TurnRecord.new(store.chat_hash(WX), "menu"))
    loaded = await store.load(WX)
    assert loaded is not None and loaded.city == "tianjin"  # replaced, without a reply
    assert len(await _records_of(store, WX)) == 2
    assert await store.recall_reply(WX, "m:11") == "第一个回复"


async def test_commit_keeps_the_record_caps(store: SessionStore) -> None:
    """The record of a commit obeys `record_turn`'s rules: an unanswered question the chat
    already asked that day is not kept twice, the session and the reply are."""
    chat = store.chat_hash(WX)
    for n in (1, 2):
        record = TurnRecord.new(chat, "unanswered", "卖西瓜吗")
        await store.commit(session(WX, version=n), record, KeptReply(f"m:{n}", f"回复{n}", 300))
    assert [r.text for r in await _records_of(store, WX)] == ["卖西瓜吗"]
    loaded = await store.load(WX)
    assert loaded is not None and loaded.version == 2
    assert await store.recall_reply(WX, "m:2") == "回复2"


@pytest.mark.parametrize("refused", ["records", "replies"])
async def test_sqlite_commit_is_all_or_nothing(tmp_path: Path, refused: str) -> None:
    """One write of the turn failing (a trigger refuses it, as a full disk or an I/O error
    would) leaves nothing of the turn: the session as it was, no record, no reply. So no
    crash or error can leave a session marked answered without its reply."""
    path = tmp_path / "s.db"
    store = SqliteStore(path, SETTINGS)
    first = session(WX, city="tianjin", answered=[1])
    await store.commit(
        first, TurnRecord.new(store.chat_hash(WX), "menu"), KeptReply("m:1", "一", 60)
    )
    with sqlite3.connect(path) as conn:
        conn.execute(
            f"CREATE TRIGGER refuse BEFORE INSERT ON {refused} "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    conn.close()
    second = session(WX, city="suzhou", answered=[1, 2])
    with pytest.raises(sqlite3.IntegrityError, match="refused"):
        await store.commit(
            second, TurnRecord.new(store.chat_hash(WX), "menu"), KeptReply("m:2", "二", 60)
        )
    assert await store.load(WX) == first
    assert len(await _records_of(store, WX)) == 1
    assert await store.recall_reply(WX, "m:2") is None
    await store.close()


async def test_sqlite_concurrent_commits_fail_only_where_they_fail(tmp_path: Path) -> None:
    """Commits arriving together share one transaction (a group commit); one of them
    refused for its own reason fails alone — wholly — and the others are all kept."""
    path = tmp_path / "s.db"
    store = SqliteStore(path, SETTINGS)
    await store.ping()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON replies WHEN NEW.key = 'm:13' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    conn.close()
    chats = [f"wx:o{n}" for n in range(40)]

    async def turn(n: int) -> None:
        record = TurnRecord.new(store.chat_hash(chats[n]), "menu")
        await store.commit(session(chats[n], answered=[n]), record, KeptReply(f"m:{n}", "回复", 60))

    results = await asyncio.gather(*(turn(n) for n in range(40)), return_exceptions=True)
    failed = [n for n, r in enumerate(results) if isinstance(r, BaseException)]
    assert failed == [13] and isinstance(results[13], sqlite3.IntegrityError)
    kept = [n for n in range(40) if await store.load(chats[n]) is not None]
    replies = [n for n in range(40) if await store.recall_reply(chats[n], f"m:{n}") == "回复"]
    records = {r.chat async for r in store.iter_records()}
    await store.close()
    assert kept == replies == [n for n in range(40) if n != 13]
    assert records == {store.chat_hash(chats[n]) for n in kept}


async def test_redis_commit_is_one_multi_exec(redis_url: str) -> None:
    """Every write of a commit is inside one MULTI/EXEC (Redis applies it as one: no
    other client sees half of it, and an instance dying cannot split it); only the
    record cap's read comes before."""
    store = RedisStore.from_url(redis_url, SETTINGS)
    watcher = RedisStore.from_url(redis_url, SETTINGS).client
    seen: list[str] = []
    try:
        async with watcher.monitor() as monitor:
            turn = session(WX, answered=[5])
            record = TurnRecord.new(store.chat_hash(WX), "menu")
            await store.commit(turn, record, KeptReply("m:5", "五", 60))
            await store.client.ping()  # the end of the commit's commands, as MONITOR sees it
            while not seen or seen[-1] != "PING":
                seen.append((await monitor.next_command())["command"].split(" ")[0].upper())
    finally:
        await watcher.aclose()
        await store.close()
    assert seen.count("MULTI") == 1 and seen.count("EXEC") == 1
    begin, end = seen.index("MULTI"), seen.index("EXEC")
    assert {"SET", "ZADD", "HSET"} <= set(seen[begin:end])
    writes = {"SET", "ZADD", "HSET", "EXPIRE", "ZREMRANGEBYSCORE", "HDEL", "DEL"}
    assert [i for i, c in enumerate(seen) if c in writes and not begin < i < end] == []


# ---------------------------------------------------------------------- open_store / health
async def test_ping(store: SessionStore) -> None:
    assert await store.ping() is True


async def test_open_store_by_url(tmp_path: Path, redis_url: str) -> None:
    stores = [
        open_store("memory://", SETTINGS),
        open_store(f"sqlite://{tmp_path}/deep/dir/s.db", SETTINGS),
        open_store(redis_url, SETTINGS),
    ]
    assert [type(s) for s in stores] == [MemoryStore, SqliteStore, RedisStore]
    for s in stores:
        assert await s.ping()
        await s.close()
    assert (tmp_path / "deep" / "dir" / "s.db").exists()
    with pytest.raises(ValueError, match="unknown store"):
        open_store("mongodb://x")


# ---------------------------------------------------------------------- SQLite specifics
async def test_sqlite_file_is_wal_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore.from_url(f"sqlite://{path}", SETTINGS)
    await store.save(session(1))
    await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


async def test_sqlite_purges_expired_data_when_opened(tmp_path: Path) -> None:
    """`yibao chat` never runs the scheduled purge: opening the file enforces expiry."""
    first = SqliteStore(tmp_path / "s.db", SETTINGS)
    await first.save(session(1, updated=NOW - 31 * DAY))
    await first.save(session(2, updated=NOW - 29 * DAY))
    await first.record_turn(TurnRecord(at=NOW - 91 * DAY, chat="old", outcome="menu"))
    await first.record_turn(TurnRecord(at=NOW - 89 * DAY, chat="new", outcome="menu"))
    await first.close()
    second = SqliteStore(tmp_path / "s.db", SETTINGS)
    gone, kept = await second.load(1), await second.load(2)
    chats = [r.chat async for r in second.iter_records()]
    await second.close()
    assert gone is None and kept is not None and chats == ["new"]


async def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store = SqliteStore(path, SETTINGS)
    with pytest.raises(RuntimeError, match="newer"):
        await store.load(1)
    await store.close()


async def test_sqlite_schema_1_file_keeps_its_telegram_chats(tmp_path: Path) -> None:
    """A state file written before string ids (INTEGER chat ids) is migrated in place: the
    Telegram chats' sessions load under their integer ids, and WeChat ids fit beside them."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE sessions (chat_id INTEGER PRIMARY KEY, updated REAL NOT NULL,"
            " data TEXT NOT NULL);"
            "CREATE TABLE records (at REAL NOT NULL, chat TEXT NOT NULL, outcome TEXT NOT NULL,"
            " confidence REAL, text TEXT);"
            "PRAGMA user_version = 1;"
        )
        for chat_id in (-100123, 42):
            raw = session(chat_id, city="tianjin").to_json()
            conn.execute("INSERT INTO sessions VALUES (?, ?, ?)", (chat_id, NOW, raw))
    conn.close()
    store = SqliteStore(path, SETTINGS)
    old = await store.load(-100123)
    assert old is not None and old.chat_id == -100123 and old.city == "tianjin"
    assert await store.load(42) is not None
    await store.save(session(WX, city="suzhou"))
    assert (await store.load(WX)) is not None
    await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


async def test_redis_telegram_session_key_is_unchanged(redis_url: str) -> None:
    """Keys written for Telegram chats before string ids (`s:<int>`) are still read."""
    store = RedisStore.from_url(redis_url, SETTINGS, prefix="legacy:")
    raw = session(777, city="suzhou").to_json()
    await store.client.set("legacy:s:777", raw)
    loaded = await store.load(777)
    assert loaded is not None and loaded.city == "suzhou"
    await store.client.delete("legacy:s:777")
    await store.close()


async def test_sqlite_ping_false_after_close(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db", SETTINGS)
    assert await store.ping()
    await store.close()
    assert await store.ping() is False


async def test_sqlite_forget_removes_btree_divider_keys(tmp_path: Path) -> None:
    """A deleted key can survive in a freed or interior b-tree page (chat ids are text keys
    of an index b-tree since schema 2, where a divider key lives only in an interior page):
    the maintenance job's `compact` after the forgets rebuilds the file, so no copy of the id
    is left anywhere."""
    path = tmp_path / "s.db"
    store = SqliteStore(path, SETTINGS)
    ids = [TARGET + i for i in range(1500)]
    for chat_id in ids:
        await store.save(session(chat_id, slots={"q": "x" * 60}))
    await store.file_size()  # checkpoint: everything in the main file
    data = path.read_bytes()
    assert all(data.count(str(i).encode()) >= 2 for i in ids)  # the key and the JSON
    gone = ids[::150]
    for chat_id in gone:
        await store.forget(chat_id)
    assert await store.compact()  # one rebuild for all the erasures
    assert not await store.compact()  # and none when nothing more was erased
    after = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    await store.close()
    for chat_id in gone:
        assert _sqlite_varint(chat_id) not in after
        assert str(chat_id).encode() not in after
    assert str(ids[1]).encode() in after


async def test_sqlite_checkpoints_in_the_background(tmp_path: Path) -> None:
    """Turns never run a checkpoint inline; a second connection copies the WAL back."""
    path = tmp_path / "s.db"
    store = SqliteStore(path, SETTINGS)
    for chat_id in range(CHECKPOINT_EVERY + 1):
        await store.save(session(chat_id, city="suzhou", topic=f"topic-{chat_id:04d}"))
    checkpointer = store._checkpointer
    assert checkpointer is not None and checkpointer._pending is not None
    checkpointer._pending.result(timeout=30)
    in_main_file = path.read_bytes()
    await store.close()
    last = f"topic-{CHECKPOINT_EVERY - 1:04d}".encode()
    assert b"topic-0000" in in_main_file and last in in_main_file


# ---------------------------------------------------------------------- Redis specifics
async def test_redis_keys_carry_ttls(redis_url: str) -> None:
    store = RedisStore.from_url(redis_url, SETTINGS)
    await store.save(session(1))
    await store.record_turn(TurnRecord.new(store.chat_hash(1), "menu"))
    session_ttl = await store.client.ttl(f"{store.prefix}s:1")
    record_ttl = await store.client.ttl(f"{store.prefix}r:{store.chat_hash(1)}")
    await store.close()
    assert 0 < session_ttl <= SETTINGS.session_ttl
    assert SETTINGS.session_ttl < record_ttl <= SETTINGS.record_retention


async def test_redis_trims_expired_records_of_an_active_chat(redis_url: str) -> None:
    store = RedisStore.from_url(redis_url, SETTINGS)
    await store.record_turn(TurnRecord(at=NOW - 91 * DAY, chat="c", outcome="menu"))
    await store.record_turn(TurnRecord(at=NOW, chat="c", outcome="menu"))
    ats = [r.at async for r in store.iter_records()]
    await store.close()
    assert ats == [NOW]


async def test_redis_two_connections_serialise_one_chat(redis_url: str) -> None:
    """Two store instances (as in two bot processes) on one server: no lost update."""
    first = RedisStore.from_url(redis_url, SETTINGS)
    second = RedisStore.from_url(redis_url, SETTINGS)
    try:
        await asyncio.gather(
            _increment(first, 55, 30), _increment(second, 55, 30), _increment(first, 56, 5)
        )
        loaded = await second.load(55)
        assert loaded is not None and loaded.slots["n"] == 60
    finally:
        await first.close()
        await second.close()


async def test_redis_lock_excludes_another_instance(redis_url: str) -> None:
    first = RedisStore.from_url(redis_url, SETTINGS)
    second = RedisStore.from_url(redis_url, SETTINGS, prefix="yibao:")
    order: list[str] = []
    try:
        async with first.lock(9):
            waiter = asyncio.create_task(_locked_append(second, 9, order, "second"))
            for _ in range(20):
                await asyncio.sleep(0.005)
            assert not waiter.done()  # cannot get in while `first` holds the chat
            order.append("first")
        await asyncio.wait_for(waiter, timeout=20)
        assert order == ["first", "second"]
        impatient = RedisStore(second.client, SETTINGS, lock_wait=0.05)
        async with first.lock(9):
            with pytest.raises(StoreBusyError):
                async with impatient.lock(9):
                    pass
    finally:
        await first.close()
        await second.close()


async def _locked_append(store: SessionStore, chat_id: int, out: list[str], tag: str) -> None:
    async with store.lock(chat_id):
        out.append(tag)


async def test_redis_ping_false_when_unreachable() -> None:
    store = RedisStore.from_url("redis://127.0.0.1:1/0", SETTINGS)
    assert await store.ping() is False
    await store.close()


async def test_redis_lock_lease_is_renewed_while_the_turn_runs(redis_url: str) -> None:
    """Replies are sent inside the lock and can take tens of seconds: the short lease is
    renewed meanwhile, so no other instance gets the chat while the turn runs."""
    store = RedisStore.from_url(redis_url, SETTINGS, prefix="lease:")
    store.lock_timeout = 0.6  # the default lease is 5 s; shortened to keep the test quick
    other = RedisStore(store.client, SETTINGS, prefix="lease:", lock_wait=0.1)
    try:
        assert LOCK_LEASE <= 5 and store.lock_wait > LOCK_LEASE
        async with store.lock(5):
            for _ in range(4):  # 2.4 s, four leases
                await asyncio.sleep(0.6)
                assert await store.client.pttl(f"{store.prefix}lock:5") > 0
            with pytest.raises(StoreBusyError):
                async with other.lock(5):
                    pass
        async with other.lock(5):  # released at once when the turn ends
            pass
    finally:
        await store.close()


# ---------------------------------------------------------------------- issue 13: record cap
def _users_day() -> tuple[float, float]:
    return SETTINGS.day_of(NOW)


async def _count(store: SessionStore, chat: str) -> int:
    return sum([1 async for r in store.iter_records() if r.chat == chat])


async def test_turn_records_are_capped_per_chat_and_users_day(store: SessionStore) -> None:
    """A flooding chat writes at most `records_per_chat_day` records a day (was unbounded:
    1,000 messages -> 1,001 records); other chats and the next day are not affected."""
    start, end = _users_day()
    cap = SETTINGS.records_per_chat_day
    for i in range(cap + 5):
        await store.record_turn(TurnRecord(at=start + 1 + i * 0.01, chat="flood", outcome="menu"))
    await store.record_turn(TurnRecord(at=start + 2, chat="calm", outcome="menu"))
    await store.record_turn(TurnRecord(at=end + 1, chat="flood", outcome="menu"))
    assert await _count(store, "flood") == cap + 1
    assert await _count(store, "calm") == 1


async def test_identical_unanswered_texts_of_a_chat_are_kept_once_a_day(
    store: SessionStore,
) -> None:
    start, end = _users_day()
    for i in range(3):
        await store.record_turn(TurnRecord(start + 1 + i, "a", "unanswered", 0.1, "卖西瓜吗"))
    await store.record_turn(TurnRecord(start + 5, "a", "unanswered", 0.1, "卖香蕉吗"))
    await store.record_turn(TurnRecord(start + 6, "b", "unanswered", 0.1, "卖西瓜吗"))
    await store.record_turn(TurnRecord(end + 1, "a", "unanswered", 0.1, "卖西瓜吗"))
    texts = sorted([(r.chat, r.text or "") async for r in store.iter_records()])
    assert texts == [("a", "卖西瓜吗"), ("a", "卖西瓜吗"), ("a", "卖香蕉吗"), ("b", "卖西瓜吗")]


def test_the_users_day_follows_the_time_zone() -> None:
    # 2026-03-01 16:30 UTC is already 03-02 00:30 in Beijing: a new day there, not in UTC.
    at = 1772382600.0
    beijing = StoreSettings(timezone="Asia/Shanghai").day_of(at)
    utc = StoreSettings(timezone="UTC").day_of(at)
    assert beijing == (1772380800.0, 1772467200.0)
    assert utc == (1772323200.0, 1772409600.0)


@pytest.mark.parametrize(
    "zone", ["Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "UTC"]
)
def test_the_users_day_is_right_at_every_edge(zone: str) -> None:
    """`day_of` is computed once per quarter hour: right on both sides of every midnight
    (zones at :30 and :45 offsets too) and around DST changes (2026-03-08, 11-01 in New
    York), as computing it afresh for the very second."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    def fresh(at: float) -> tuple[float, float]:
        start = datetime.fromtimestamp(at, ZoneInfo(zone))
        start = start.replace(hour=0, minute=0, second=0, microsecond=0)
        end = (start + timedelta(days=1, hours=3)).replace(hour=0)
        return start.timestamp(), end.timestamp()

    settings = StoreSettings(timezone=zone)
    for day in ("2026-03-07", "2026-03-08", "2026-06-01", "2026-10-31", "2026-11-01"):
        midnight = datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(zone)).timestamp()
        for offset in range(-7200, 7201, 450):
            for at in (midnight + offset - 0.5, midnight + offset, midnight + offset + 0.5):
                assert settings.day_of(at) == fresh(at), (zone, at)
