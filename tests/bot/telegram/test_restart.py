"""The engine over real stores: conversations survive restarts, turns are recorded, /forget
erases everything of a chat.

A "restart" closes the store and builds a new Engine on the same SQLite file (or Redis
server), exactly what a killed and restarted process does. Each conversation is replayed
once on a single uninterrupted in-memory engine and once with a restart after EVERY turn:
the transcripts must be identical.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import pytest
from redis_fixture import redis_dump

from bot.wiring import load_flows
from dialogs.engine import Engine
from dialogs.session import Session
from dialogs.stores import MemoryStore, SessionStore, StoreSettings
from dialogs.stores.records import UNANSWERED
from dialogs.stores.redis import RedisStore
from dialogs.stores.sqlite import SqliteStore, path_from_url
from dialogs.types import Incoming, Reply
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Matcher

TODAY = date(2026, 3, 1)
SETTINGS = StoreSettings(hash_salt="restart-test")
CHAT = 424_242
PRESS_FIRST = Incoming(callback="<press the first button of the last reply>")

# A conversation that builds context (city, topic, last entry) outside any flow.
CONTEXT_SCRIPT: tuple[Incoming, ...] = (
    Incoming(text="/start"),
    Incoming(callback="c:tianjin"),
    PRESS_FIRST,
    Incoming(text="新生儿怎么参保"),
    PRESS_FIRST,
    Incoming(text="要交多少钱"),
    Incoming(text="返回"),
)


def make_engine(kb: KnowledgeBase, matcher: Matcher, store: SessionStore) -> Engine:
    return Engine(kb, matcher, store, flows=load_flows(kb), clock=lambda: TODAY)


def _resolve(step: Incoming, last: Sequence[Reply]) -> Incoming:
    if step is not PRESS_FIRST:
        return step
    for reply in reversed(last):
        for row in reply.buttons:
            for button in row:
                return Incoming(callback=button.callback)
    return Incoming(text="/start")


def _transcript(replies: Sequence[Reply]) -> list[tuple[str, str | None, str | None, list[str]]]:
    return [
        (r.plain(), r.entry, r.state, [b.callback for row in r.buttons for b in row])
        for r in replies
    ]


async def run_script(
    kb: KnowledgeBase,
    matcher: Matcher,
    steps: Sequence[Incoming],
    open_store: Callable[[], SessionStore],
    restart_every_turn: bool,
) -> tuple[list[object], list[Session | None]]:
    """Play `steps`; return the transcript and the session as loaded before each turn."""
    store = open_store()
    engine = make_engine(kb, matcher, store)
    transcript: list[object] = []
    sessions: list[Session | None] = []
    last: list[Reply] = []
    for step in steps:
        if restart_every_turn:
            await store.close()
            store = open_store()
            engine = make_engine(kb, matcher, store)
        sessions.append(await store.load(CHAT))
        last = await engine.handle(CHAT, _resolve(step, last))
        transcript.append(_transcript(last))
    await store.close()
    return transcript, sessions


async def _compare(
    kb: KnowledgeBase, matcher: Matcher, steps: Sequence[Incoming], path: Path
) -> list[Session | None]:
    memory = MemoryStore(SETTINGS)
    expected, _ = await run_script(kb, matcher, steps, lambda: memory, restart_every_turn=False)
    got, sessions = await run_script(
        kb, matcher, steps, lambda: SqliteStore(path, SETTINGS), restart_every_turn=True
    )
    assert got == expected
    return sessions


async def test_context_survives_restarts(
    kb: KnowledgeBase, matcher: Matcher, tmp_path: Path
) -> None:
    sessions = await _compare(kb, matcher, CONTEXT_SCRIPT, tmp_path / "state.db")
    after_city = sessions[2]
    assert after_city is not None and after_city.city == "tianjin"
    versions = [s.version for s in sessions if s is not None]
    assert versions == list(range(1, len(CONTEXT_SCRIPT)))  # one session, continued


async def test_flows_survive_restarts_midway(
    kb: KnowledgeBase, matcher: Matcher, tmp_path: Path
) -> None:
    flows = load_flows(kb)
    if not flows:
        pytest.skip("no guided flows installed yet (dialogs/flows/registry.py)")
    for name in flows:
        steps = (Incoming(text="/start"), Incoming(callback=f"f:{name}"), *[PRESS_FIRST] * 4)
        sessions = await _compare(kb, matcher, steps, tmp_path / f"{name}.db")
        # Each of these was loaded by a fresh process, in the middle of the flow.
        states = [s.state for s in sessions if s is not None and s.flow == name]
        assert len(set(states)) >= 2, states


KILLED_PROCESS = """
import asyncio, sys
from datetime import date
from bot.wiring import build_engine
from dialogs.types import Incoming

async def main():
    engine = build_engine(sys.argv[1], clock=lambda: date(2026, 3, 1))
    for step in (Incoming(text="/start"), Incoming(callback="c:tianjin"),
                 Incoming(callback="f:" + next(iter(engine.flows), "none"))):
        await engine.handle(int(sys.argv[2]), step)
    print("ready", flush=True)
    await asyncio.sleep(3600)  # killed here: the store is never closed

asyncio.run(main())
"""


async def test_a_killed_process_loses_nothing(
    kb: KnowledgeBase, matcher: Matcher, tmp_path: Path
) -> None:
    """SIGKILL between two turns (no close, no checkpoint): the next process continues."""
    url = f"sqlite://{tmp_path}/state.db"
    with subprocess.Popen(
        [sys.executable, "-c", KILLED_PROCESS, url, str(CHAT)],
        stdout=subprocess.PIPE,
        env={**os.environ, "YIBAO_HASH_SALT": SETTINGS.hash_salt},
    ) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        finally:
            proc.kill()
    store = SqliteStore(path_from_url(url), SETTINGS)
    before = await store.load(CHAT)
    replies = await make_engine(kb, matcher, store).handle(CHAT, Incoming(text="/start"))
    records = [r async for r in store.iter_records()]
    await store.close()
    assert before is not None and before.city == "tianjin" and before.version == 3
    assert before.flow == (next(iter(load_flows(kb)), None))
    assert replies and len(records) == 4


async def test_unknown_saved_state_falls_back_to_the_menu(
    kb: KnowledgeBase, matcher: Matcher, tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    old = SqliteStore(path, SETTINGS)
    stale = Session(chat_id=CHAT, flow="tianjin", state="renamed_by_an_upgrade")
    stale.touch()
    await old.save(stale)
    await old.close()
    store = SqliteStore(path, SETTINGS)
    replies = await make_engine(kb, matcher, store).handle(CHAT, Incoming(text="你好"))
    loaded = await store.load(CHAT)
    await store.close()
    assert kb.text("unknown_state") in replies[0].plain()
    assert loaded is not None and loaded.flow is None and loaded.state is None


async def test_corrupt_saved_session_starts_afresh(
    kb: KnowledgeBase, matcher: Matcher, tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    store = SqliteStore(path, SETTINGS)
    await store.save(Session(chat_id=CHAT))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE sessions SET data = '{\"chat_id\": [' WHERE chat_id = ?", (CHAT,))
    replies = await make_engine(kb, matcher, store).handle(CHAT, Incoming(text="/start"))
    loaded = await store.load(CHAT)
    await store.close()
    assert replies and replies[0].state == "menu:main"
    assert loaded is not None and loaded.version == 1


# ---------------------------------------------------------------------- records and /forget
GIBBERISH = "zzqx wvvk 13812345678 2026年2月10日 qqzx"


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> SessionStore:
    if request.param == "memory":
        return MemoryStore(SETTINGS)
    if request.param == "sqlite":
        return SqliteStore(tmp_path / "state.db", SETTINGS)
    return RedisStore.from_url(request.getfixturevalue("redis_url"), SETTINGS)


async def test_turns_are_recorded_with_masked_text(
    kb: KnowledgeBase, matcher: Matcher, any_store: SessionStore
) -> None:
    engine = make_engine(kb, matcher, any_store)
    await engine.handle(CHAT, Incoming(text="/start"))
    answer = await engine.handle(CHAT, Incoming(text=GIBBERISH))
    records = [r async for r in any_store.iter_records()]
    await any_store.close()
    assert answer[-1].state == UNANSWERED
    assert [r.outcome for r in records] == ["menu", UNANSWERED]
    assert {r.chat for r in records} == {any_store.chat_hash(CHAT)}
    assert records[0].text is None
    assert records[1].text == "zzqx wvvk [PHONE] [DATE] qqzx"


async def test_forget_through_the_engine_erases_every_trace(
    kb: KnowledgeBase, matcher: Matcher, any_store: SessionStore, tmp_path: Path
) -> None:
    engine = make_engine(kb, matcher, any_store)
    other = CHAT + 1
    for chat_id in (CHAT, other):
        await engine.handle(chat_id, Incoming(text="/start"))
        await engine.handle(chat_id, Incoming(callback="c:suzhou"))
        await engine.handle(chat_id, Incoming(text=f"{GIBBERISH} 小明宝宝"))
    (prompt,) = await engine.handle(CHAT, Incoming(text="/forget"))
    yes = prompt.buttons[0][0].callback
    await engine.handle(CHAT, Incoming(callback=yes))

    assert await any_store.load(CHAT) is None
    assert await any_store.load(other) is not None
    chats = {r.chat async for r in any_store.iter_records()}
    assert chats == {any_store.chat_hash(other)}
    if isinstance(any_store, SqliteStore):
        assert await any_store.compact()  # the maintenance job's rebuild after erasures
        trace = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("state"))
    elif isinstance(any_store, RedisStore):
        trace = await redis_dump(any_store)
    else:
        trace = repr(vars(any_store)).encode()
    await any_store.close()
    assert str(CHAT).encode() not in trace
    assert any_store.chat_hash(CHAT).encode() not in trace
    assert str(other).encode() in trace  # the check above can fail
