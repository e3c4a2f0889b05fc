"""Retention enforced by the scheduled job: `purge_expired` run directly against real
SQLite and Redis stores, with the clock moved past the configured lifetimes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.ops.maintenance import purge_expired
from dialogs.session import Session
from dialogs.stores import StoreSettings, TurnRecord, open_store
from dialogs.stores.base import SessionStore
from dialogs.stores.settings import DAY

SETTINGS = StoreSettings(session_ttl=30 * DAY, record_retention=90 * DAY)


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        url = request.getfixturevalue("redis_url")
    opened = open_store(url, SETTINGS)
    yield opened
    await opened.close()


async def records(store: SessionStore) -> list[TurnRecord]:
    return [r async for r in store.iter_records()]


async def test_the_job_drops_idle_sessions_and_old_records_only(store: SessionStore) -> None:
    now = time.time()
    idle, active = Session(chat_id=1), Session(chat_id=2)
    idle.touch(now)
    active.touch(now + 20 * DAY)  # used again twenty days later
    for session in (idle, active):
        await store.save(session)
    old = TurnRecord.new(store.chat_hash(1), "unanswered", "火星上怎么办医保", at=now)
    recent = TurnRecord.new(store.chat_hash(2), "tj.overview", at=now + 60 * DAY)
    for record in (old, recent):
        await store.record_turn(record)

    result = await purge_expired(store, clock=lambda: now + 31 * DAY)
    assert (result.sessions, result.records) == (1, 0)  # 31 days idle; records kept 90
    assert await store.load(1) is None and await store.load(2) is not None

    result = await purge_expired(store, clock=lambda: now + 91 * DAY)
    assert result.records == 1
    assert [r.outcome for r in await records(store)] == ["tj.overview"]
    assert await store.load(2) is None  # idle 71 days by then


async def test_a_store_outage_does_not_kill_the_job() -> None:
    store = open_store("redis://127.0.0.1:1/0", SETTINGS)  # nothing listens on port 1
    try:
        result = await purge_expired(store)
    finally:
        await store.close()
    assert (result.sessions, result.records) == (0, 0)
