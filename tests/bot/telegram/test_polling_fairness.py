"""Issue 13, items 2 and 12, in polling mode against the fake Bot API (the real PTB stack):
one chat's flood does not hold the other chats back, and an update that cannot be parsed
is skipped instead of stopping polling.

Before: the getUpdates offset stayed at the flooder's oldest unfinished update, so its own
backlog filled every 100-update window (another chat waited 46.7 s behind 1,000 messages);
an unparseable update failed every poll forever (~250 polls/s, the raw batch in CRITICAL
log lines)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import pytest
from fake_bot_api import BOT_USERNAME, FakeBotAPI
from telegram_harness import running_bot

from bot.telegram.acknowledge import PER_CHAT

FLOOD, OTHER = 1001, 2002
FLOOD_SIZE = 1000


async def until(done: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_flood_from_one_chat_does_not_hold_back_another_chat(
    fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The flooder's replies wait, as at Telegram's per-chat send limit: its updates stay
    # in flight for the whole test unless released.
    fake.hold_chat(FLOOD)
    async with running_bot(fake, monkeypatch):
        try:
            flood = [fake.user_text(FLOOD, "你好")]
            await until(lambda: fake.held >= 1)
            flood += [fake.user_text(FLOOD, f"天津怎么参保{i}") for i in range(FLOOD_SIZE - 1)]
            asked = fake.user_text(OTHER, "天津新生儿怎么参保")
            answer = await fake.wait_messages(OTHER, 1, timeout=30)
            delay = answer[0].at - fake.injected_at[asked]
            # Order of events: the other chat is answered while the flooder's first reply is
            # still held, i.e. while the flood is being processed.
            assert fake.messages(FLOOD) == [] and fake.held >= 1
            # The flood's backlog was acknowledged past (the offset moved beyond it).
            await until(lambda: not set(flood[PER_CHAT + 1 :]) & set(fake.unacknowledged()))
        finally:
            fake.release_chats()
        sent = await fake.wait_until(
            FLOOD, lambda s: any("您发得太快了" in m.text for m in s), timeout=30
        )
    notices = [m for m in fake.messages(FLOOD) if "您发得太快了" in m.text]
    assert len(notices) == 1, [m.text for m in sent]
    # At most PER_CHAT turns answered (a turn is one to three messages) plus the notice.
    assert len(fake.messages(FLOOD)) <= 3 * PER_CHAT + 1
    print(f"\nflood of {FLOOD_SIZE}: the other chat answered {delay * 1000:.0f} ms after it wrote")


async def test_an_unparseable_update_is_skipped_and_logged_by_id_only(
    fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(fake, monkeypatch):
        fake.user_text(1, "你好")
        # A message whose chat is not an object: PTB's Update.de_json raises TypeError.
        bad = fake.inject(
            {"message": {"message_id": 1, "chat": 5, "date": 1, "text": "电话13812345678"}}
        )
        fake.user_text(2, "你好")
        await fake.wait_messages(1, 1, timeout=30)
        await fake.wait_messages(2, 1, timeout=30)
        await until(lambda: bad not in fake.unacknowledged())
        # Polling goes on at its normal pace (was ~250 getUpdates/s, for good).
        before = len(fake.calls_of("getUpdates"))
        await asyncio.sleep(2)
        assert len(fake.calls_of("getUpdates")) - before < 10
        fake.user_text(3, "你好")
        await fake.wait_messages(3, 1, timeout=30)
    assert f"update {bad} could not be read; skipped" in caplog.text
    assert "13812345678" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]


async def test_a_busy_groups_own_chatter_does_not_count_as_its_backlog(
    fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot reads a group's chatter (privacy mode off) and answers only what is addressed
    to it: twenty messages between members must not get the group throttled."""
    group = -100888
    async with running_bot(fake, monkeypatch):
        for i in range(20):  # one batch: nothing awaits in between
            fake.user_text(group, f"大家好{i}", chat_type="supergroup", user_id=50 + i)
        fake.user_text(group, f"/help@{BOT_USERNAME}", chat_type="supergroup")
        (reply,) = await fake.wait_messages(group, 1, timeout=30)
        # Per-chat order: a notice would have come before the answer.
        assert "您发得太快了" not in reply.text and "使用方法" in reply.text
    assert len(fake.messages(group)) == 1
