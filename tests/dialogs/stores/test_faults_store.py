"""Store faults: the bot keeps answering when its session store fails, says so once, logs
once, and writes everything back when the store returns.

Real parts only: SQLite files (locked by another process, made read-only, deleted and
corrupted while the bot runs) and a real redis-server restarted mid-conversation. The engine
runs over `ResilientStore`, as `bot.wiring.build_engine` builds it. Each conversation is
compared with the same conversation on a store that never fails: the answers must be the
same, plus one notice (ui `store_degraded`) where the store could not keep the state.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_bot_api import FakeBotAPI
from redis_fixture import redis_binary, start_redis
from telegram_harness import running_bot

from bot.wiring import load_flows
from dialogs.engine import Engine
from dialogs.session import Session
from dialogs.stores import MemoryStore, SessionStore
from dialogs.stores.redis import RedisStore, StoreBusyError
from dialogs.stores.resilient import ResilientStore
from dialogs.stores.sqlite import SqliteStore
from dialogs.types import Incoming
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Matcher

CHAT = 4242
SCRIPT = ("/suzhou", "已办理", "参加了", "满一年", "姑苏区", "小学", "是", "没参加过")
DOWN = "session store unavailable"
BACK = "session store is back"


class Clock:
    """Monotonic time the test moves by hand (when the store may be tried again)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Talk:
    """One chat with an engine over a ResilientStore; records what it was told."""

    def __init__(self, kb: KnowledgeBase, matcher: Matcher, inner: SessionStore) -> None:
        self.clock = Clock()
        self.store = ResilientStore(inner, retry_every=30.0, clock=self.clock)
        self.engine = Engine(kb, matcher, self.store, flows=load_flows(kb))
        self.kb = kb
        self.heard: list[list[str]] = []

    async def say(self, text: str) -> list[str]:
        replies = [r.plain() for r in await self.engine.handle(CHAT, Incoming(text=text))]
        self.heard.append(replies)
        return replies

    def notices(self) -> int:
        notice = self.kb.text("store_degraded")
        return sum(turn.count(notice) for turn in self.heard)

    def without_notices(self) -> list[list[str]]:
        notice = self.kb.text("store_degraded")
        return [[r for r in turn if r != notice] for turn in self.heard]

    def later(self) -> None:
        self.clock.now += 60.0


@pytest.fixture
async def reference(kb: KnowledgeBase, matcher: Matcher) -> list[list[str]]:
    """The conversation on a store that never fails."""
    engine = Engine(kb, matcher, MemoryStore(), flows=load_flows(kb))
    return [[r.plain() for r in await engine.handle(CHAT, Incoming(text=text))] for text in SCRIPT]


def lines(caplog: pytest.LogCaptureFixture, words: str) -> int:
    return len([r for r in caplog.records if words in r.getMessage()])


async def saved_state(path: Path) -> tuple[str | None, str | None]:
    """The flow and state the SQLite file holds for the chat, read by a separate store."""
    other = SqliteStore(path)
    try:
        session = await other.load(CHAT)
    finally:
        await other.close()
    assert session is not None
    return session.flow, session.state


# ---------------------------------------------------------------------- SQLite
@pytest.fixture
def locker(tmp_path: Path) -> Iterator[tuple[Path, list[subprocess.Popen[str]]]]:
    """The database path and a way to lock it from another process (killed at the end)."""
    held: list[subprocess.Popen[str]] = []
    yield tmp_path / "state.db", held
    for proc in held:
        proc.kill()
        proc.wait()


def lock_from_another_process(path: Path) -> subprocess.Popen[str]:
    """A second process takes SQLite's write lock and keeps it until killed."""
    code = (
        "import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(600)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    proc.stdout.close()  # it has nothing more to say
    return proc


@pytest.mark.slow
async def test_sqlite_locked_by_another_process(
    kb: KnowledgeBase,
    matcher: Matcher,
    reference: list[list[str]],
    locker: tuple[Path, list[subprocess.Popen[str]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    path, held = locker
    talk = Talk(kb, matcher, SqliteStore(path))
    caplog.set_level(logging.INFO)
    for text in SCRIPT[:2]:
        await talk.say(text)
    held.append(lock_from_another_process(path))
    for text in SCRIPT[2:5]:  # the first save waits out SQLite's busy timeout, then degrades
        await talk.say(text)
    assert talk.store.degraded
    unlocker = held.pop()
    unlocker.kill()
    unlocker.wait()
    talk.later()
    for text in SCRIPT[5:]:
        await talk.say(text)
    assert not talk.store.degraded
    assert talk.without_notices() == reference  # the conversation never noticed the lock
    assert talk.notices() == 1
    assert (lines(caplog, DOWN), lines(caplog, BACK)) == (1, 1)
    assert await saved_state(path) == await _state(talk)
    await talk.store.close()


async def _state(talk: Talk) -> tuple[str | None, str | None]:
    session = await talk.store.load(CHAT)
    assert session is not None
    return session.flow, session.state


def _immutable(paths: list[Path], on: bool) -> bool:
    """chattr +i / -i: read-only even for root (tests run as root in CI)."""
    flag = "+i" if on else "-i"
    done = subprocess.run(
        ["chattr", flag, *map(str, paths)], capture_output=True, check=False
    ).returncode
    return done == 0


async def test_sqlite_read_only_file(
    kb: KnowledgeBase,
    matcher: Matcher,
    reference: list[list[str]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The bot restarts on a state file it cannot write (a read-only volume, wrong owner)."""
    path = tmp_path / "state.db"
    first = Talk(kb, matcher, SqliteStore(path))
    for text in SCRIPT[:3]:
        await first.say(text)
    await first.store.close()
    files = [p for p in tmp_path.iterdir() if p.name.startswith(path.name)]
    if shutil.which("chattr") is None or not _immutable(files, True):
        pytest.skip("chattr +i is not available here (needs CAP_LINUX_IMMUTABLE)")
    caplog.set_level(logging.INFO)
    talk = Talk(kb, matcher, SqliteStore(path))
    talk.heard = list(first.heard)
    try:
        for text in SCRIPT[3:6]:
            await talk.say(text)
        assert talk.store.degraded
    finally:
        _immutable(files, False)
    talk.later()
    for text in SCRIPT[6:]:
        await talk.say(text)
    assert not talk.store.degraded
    assert talk.notices() == 1
    assert (lines(caplog, DOWN), lines(caplog, BACK)) == (1, 1)
    assert await saved_state(path) == await _state(talk)
    await talk.store.close()


async def test_sqlite_deleted_while_running_loses_nothing(
    kb: KnowledgeBase,
    matcher: Matcher,
    reference: list[list[str]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "state.db"
    talk = Talk(kb, matcher, SqliteStore(path))
    caplog.set_level(logging.INFO)
    for text in SCRIPT[:4]:
        await talk.say(text)
    for p in list(tmp_path.iterdir()):
        if p.name.startswith(path.name):
            p.unlink()
    for text in SCRIPT[4:6]:
        await talk.say(text)
    await talk.store.close()
    # A restart: the new process finds the conversation in the re-created file.
    talk.store = ResilientStore(SqliteStore(path), clock=talk.clock)
    talk.engine.store = talk.store
    for text in SCRIPT[6:]:
        await talk.say(text)
    assert talk.heard == reference  # no notice needed: nothing was ever lost
    assert lines(caplog, "state file deleted while running") == 1
    assert lines(caplog, DOWN) == 0
    await talk.store.close()


async def test_sqlite_corrupted_file_degrades_then_recovers_when_replaced(
    kb: KnowledgeBase,
    matcher: Matcher,
    reference: list[list[str]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "state.db"
    first = Talk(kb, matcher, SqliteStore(path))
    for text in SCRIPT[:2]:
        await first.say(text)
    await first.store.close()
    path.write_bytes(os.urandom(64 * 1024))  # garbage bytes over the whole file
    for p in tmp_path.iterdir():
        if p.name in (f"{path.name}-wal", f"{path.name}-shm"):
            p.unlink()
    caplog.set_level(logging.INFO)
    talk = Talk(kb, matcher, SqliteStore(path))  # the bot restarts on the corrupt file
    for text in SCRIPT[2:5]:
        replies = await talk.say(text)
        assert replies  # it answers
    assert talk.store.degraded and talk.notices() == 1
    assert lines(caplog, DOWN) == 1
    path.rename(tmp_path / "state.db.corrupt")  # the operator moves it aside
    talk.later()
    for text in SCRIPT[5:]:
        await talk.say(text)
    assert not talk.store.degraded
    assert lines(caplog, BACK) == 1
    assert await saved_state(path) == await _state(talk)
    # The corrupt file held the first turns: what followed went on from a fresh session.
    assert talk.heard[0][0] == kb.text("store_degraded")
    await talk.store.close()


# ---------------------------------------------------------------------- Redis
async def test_redis_restarted_mid_conversation(
    kb: KnowledgeBase,
    matcher: Matcher,
    reference: list[list[str]],
    own_redis: tuple[int, list[subprocess.Popen[bytes]]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port, procs = own_redis
    talk = Talk(kb, matcher, RedisStore.from_url(f"redis://127.0.0.1:{port}/0"))
    caplog.set_level(logging.INFO)
    for text in SCRIPT[:3]:
        await talk.say(text)
    procs[0].terminate()
    procs[0].wait()
    degraded = await talk.say(SCRIPT[3])
    assert degraded[0] == kb.text("store_degraded")  # said once, first
    assert talk.store.degraded
    # Redis lost everything (no persistence) and so did this turn's session: the chat got
    # a fresh start with the notice; from here the conversation lives in memory.
    for text in SCRIPT[:2]:
        await talk.say(text)
    procs.append(start_redis(redis_binary(), tmp_path, port))
    talk.later()
    for text in SCRIPT[2:]:
        await talk.say(text)
    assert not talk.store.degraded
    assert talk.notices() == 1
    assert (lines(caplog, DOWN), lines(caplog, BACK)) == (1, 1)
    after = talk.without_notices()
    assert after[:3] == reference[:3]
    assert after[4:] == reference  # the restarted conversation, whole
    restored = RedisStore.from_url(f"redis://127.0.0.1:{port}/0")
    session = await restored.load(CHAT)
    await restored.close()
    assert session is not None and (session.flow, session.state) == await _state(talk)
    await talk.store.close()


# ---------------------------------------------------------------------- the real bot
async def test_the_bot_answers_on_a_corrupt_state_file(
    fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kb: KnowledgeBase
) -> None:
    state = tmp_path / "state.db"
    state.write_bytes(os.urandom(32 * 1024))
    async with running_bot(fake, monkeypatch, YIBAO_STORE=f"sqlite:///{state}"):
        fake.user_text(1, "/start")
        notice, menu = await fake.wait_messages(1, 2)
        fake.user_text(1, "/help")
        await fake.wait_messages(1, 3)
    assert notice.text == kb.text("store_degraded")
    assert menu.buttons()
    assert kb.text("store_degraded") not in fake.messages(1)[2].text


async def test_the_bot_answers_through_a_redis_restart(
    fake: FakeBotAPI,
    monkeypatch: pytest.MonkeyPatch,
    own_redis: tuple[int, list[subprocess.Popen[bytes]]],
    tmp_path: Path,
    kb: KnowledgeBase,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port, procs = own_redis
    caplog.set_level(logging.INFO)
    url = f"redis://127.0.0.1:{port}/0"
    async with running_bot(fake, monkeypatch, YIBAO_STORE=url) as app:
        store = app.handlers[0][0].callback.__self__.engine.store  # type: ignore[attr-defined]
        assert isinstance(store, ResilientStore)
        store.retry_every = 0.0  # try Redis again at once, not after 5 s
        chat = 5
        fake.user_text(chat, "/suzhou")
        await fake.wait_until(chat, lambda s: bool(s) and s[-1].markup is not None)
        procs[0].kill()
        procs[0].wait()
        before = len(fake.messages(chat))
        fake.user_text(chat, "/help")
        sent = await fake.wait_messages(chat, before + 2)
        assert sent[before].text == kb.text("store_degraded")
        assert "使用方法" in sent[before + 1].text
        procs.append(start_redis(redis_binary(), tmp_path, port))
        fake.user_text(chat, "/help")
        sent = await fake.wait_messages(chat, before + 3)
        assert "使用方法" in sent[-1].text
        for _ in range(500):  # the turn saves (and so writes back) just after its reply
            if not store.degraded:
                break
            await asyncio.sleep(0.01)
        assert not store.degraded
    assert (lines(caplog, DOWN), lines(caplog, BACK)) == (1, 1)
    restored = RedisStore.from_url(url)
    try:
        assert await restored.load(chat) is not None  # written back to the new server
    finally:
        await restored.close()


class FlakyStore(MemoryStore):
    """A backend whose writes fail while `down` (counts the attempts)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.attempts = 0

    async def save(self, session: Session) -> None:
        self.attempts += 1
        if self.down:
            raise OSError("backend down")
        await super().save(session)


async def test_retries_back_off_while_the_backend_stays_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend, clock = FlakyStore(), Clock()
    store = ResilientStore(backend, retry_every=5.0, clock=clock)
    backend.down = True
    tried_at = []
    for second in range(0, 80):
        clock.now = 1000.0 + second
        before = backend.attempts
        await store.save(Session(chat_id=1, version=second))
        if backend.attempts > before:
            tried_at.append(second)
    assert tried_at == [0, 5, 15, 35, 75]  # 5 s, then 10, 20, 40 (at most 60)
    assert store.degraded and (await store.load(1) or Session(chat_id=0)).version == 79
    backend.down = False
    clock.now += 60
    await store.save(Session(chat_id=2))
    assert not store.degraded
    assert (await backend.load(1) or Session(chat_id=0)).version == 79  # written back
    assert lines(caplog, DOWN) == 1 and lines(caplog, BACK) == 1


async def test_a_busy_chat_fails_only_its_update(redis_url: str) -> None:
    """Another instance holding one chat too long is not a backend outage: that update
    fails with StoreBusyError and every other chat stays on Redis."""
    holder = RedisStore.from_url(redis_url)
    store = ResilientStore(RedisStore(holder.client, lock_wait=0.05))
    try:
        async with holder.lock(77):
            with pytest.raises(StoreBusyError):
                async with store.lock(77):
                    pass
        assert not store.degraded
        async with store.lock(78):
            await store.save(Session(chat_id=78, version=3))
        assert not store.degraded
        assert (await holder.load(78) or Session(chat_id=0)).version == 3  # saved in Redis
    finally:
        await holder.close()


async def test_write_back_keeps_a_newer_session_from_another_instance() -> None:
    """Two instances on one backend: while this one was degraded, the other saved a newer
    session of the same chat; recovery must not overwrite it with the stale memory copy."""
    backend, clock = FlakyStore(), Clock()
    store = ResilientStore(backend, retry_every=5.0, clock=clock)
    backend.down = True
    await store.save(Session(chat_id=1, updated=100.0, version=4, state="stale"))
    await store.save(Session(chat_id=2, updated=100.0, version=4, state="kept"))
    assert store.degraded
    backend.down = False
    other = ResilientStore(backend)
    await other.save(Session(chat_id=1, updated=200.0, version=6, state="newer"))
    clock.now += 60
    await store.save(Session(chat_id=3))
    assert not store.degraded
    assert (await backend.load(1) or Session(chat_id=0)).state == "newer"
    assert (await backend.load(2) or Session(chat_id=0)).state == "kept"  # nothing newer
