"""Bot API faults, injected by the fake server, against the real bot (PTB's HTTP stack,
rate limiter, update processor and our handlers): every reply still arrives exactly once.

Faults on sendMessage: 429 with retry_after, 500, 502, a connection reset, a response slower
than the client's read timeout, a 200 whose body is not JSON. Faults on getUpdates: the same
(the update is simply fetched again). A permanent 403 "bot was blocked by the user" is logged
once, closes the chat's session and is not retried.

"Exactly once" is read off the fake server, which records a message only when it handles a
sendMessage: each turn's messages appear once, in order, and the apology for an error never.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import pytest
from fake_bot_api import FakeBotAPI, Sent
from telegram.ext import Application
from telegram_harness import running_bot

from dialogs.engine import Engine
from knowledge.loader import KnowledgeBase

SLOW = 6.5  # seconds: beyond the bot's 5 s read timeout


@pytest.fixture
async def bot(fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    async with running_bot(fake, monkeypatch) as app:
        yield app


def engine_of(app: Application) -> Engine:  # type: ignore[type-arg]
    handler = app.handlers[0][0].callback
    engine: Engine = handler.__self__.engine  # type: ignore[attr-defined]
    return engine


async def turn(fake: FakeBotAPI, chat_id: int, text: str) -> list[Sent]:
    """Send `text`; return the messages of this turn (the last one carries a keyboard)."""
    before = len(fake.messages(chat_id))
    fake.user_text(chat_id, text)
    sent = await fake.wait_until(
        chat_id, lambda s: len(s) > before and s[-1].markup is not None, timeout=30
    )
    return sent[before:]


SUZHOU = ("/suzhou", "已办理", "参加了", "满一年")

SEND_FAULTS: dict[str, Callable[[FakeBotAPI], None]] = {
    "429 retry_after": lambda f: f.fail_next("sendMessage", 429, retry_after=1),
    "500": lambda f: f.fail_next("sendMessage", 500),
    "502 twice": lambda f: f.fail_next("sendMessage", 502, times=2),
    "connection reset": lambda f: f.reset_next("sendMessage"),
    "malformed JSON": lambda f: f.garble_next("sendMessage"),
}


async def _flow_with_fault(
    fake: FakeBotAPI, chat: int, inject: Callable[[FakeBotAPI], None]
) -> list[list[str]]:
    """The Suzhou flow's first turns, the fault injected before the third one."""
    turns = []
    for step, text in enumerate(SUZHOU):
        if step == 2:
            inject(fake)
        turns.append([m.text for m in await turn(fake, chat, text)])
    return turns


@pytest.mark.parametrize("fault", list(SEND_FAULTS))
async def test_send_faults_still_deliver_every_reply_once(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    kb: KnowledgeBase,
    fault: str,
) -> None:
    reference = await _flow_with_fault(fake, 100, lambda f: None)
    got = await _flow_with_fault(fake, 101, SEND_FAULTS[fault])
    assert got == reference  # same messages, none twice, none lost, the flow moved on once
    texts = [m.text for m in fake.messages(101)]
    assert kb.text("error") not in texts
    attempts = [p for p in fake.calls_of("sendMessage") if int(p["chat_id"]) == 101]
    assert len(attempts) > len(texts)  # the fault really hit a send, which was retried


@pytest.mark.slow
async def test_a_reply_answered_after_the_read_timeout_is_not_sent_again(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    kb: KnowledgeBase,
) -> None:
    """The server handled the message but answered too late: resending would duplicate it,
    so the bot counts it as sent, saves the turn and goes on."""
    reference = await _flow_with_fault(fake, 110, lambda f: None)
    got = await _flow_with_fault(fake, 111, lambda f: f.slow_next("sendMessage", SLOW))
    assert got == reference
    assert kb.text("error") not in [m.text for m in fake.messages(111)]


def _fail_twice(fake: FakeBotAPI, method: str, first: int, second: int) -> None:
    fake.fail_next(method, first)
    fake.fail_next(method, second)


POLL_FAULTS: dict[str, Callable[[FakeBotAPI], None]] = {
    "429": lambda f: f.fail_next("getUpdates", 429, retry_after=1),
    "500 and 502": lambda f: _fail_twice(f, "getUpdates", 500, 502),
    "connection reset": lambda f: f.reset_next("getUpdates"),
    "malformed JSON": lambda f: f.garble_next("getUpdates"),
    # Handled (the updates handed out), answered after the client gave up: fetched again.
    "slow": lambda f: f.slow_next("getUpdates", SLOW + 1.5),
}


@pytest.mark.parametrize("fault", list(POLL_FAULTS))
async def test_poll_faults_lose_no_update_and_answer_none_twice(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    fault: str,
) -> None:
    reference = [m.text for m in await turn(fake, 120, "/help")]
    POLL_FAULTS[fault](fake)
    fake.user_text(121, "/help")
    fake.user_text(122, "/help")
    for chat in (121, 122):
        sent = await fake.wait_messages(chat, len(reference), timeout=30)
        assert [m.text for m in sent] == reference
    await turn(fake, 120, "/help")  # a later turn: anything duplicated would be here by now
    assert [m.text for m in fake.messages(121)] == reference
    assert [m.text for m in fake.messages(122)] == reference


async def test_blocked_by_the_user_is_logged_once_and_the_session_closed(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    caplog: pytest.LogCaptureFixture,
) -> None:
    chat = 130
    first = await turn(fake, chat, "/suzhou")
    engine = engine_of(bot)
    for _ in range(500):  # the state is saved just after the reply is sent
        if await engine.store.load(chat) is not None:
            break
        await asyncio.sleep(0.01)
    assert await engine.store.load(chat) is not None
    fake.block_chat(chat)
    with caplog.at_level(logging.INFO):
        fake.user_text(chat, "已办理")
        fake.user_text(chat, "参加了")
        for _ in range(3000):  # until both refused updates are handled
            if len([r for r in caplog.records if "blocked" in r.getMessage()]) >= 2:
                break
            await asyncio.sleep(0.01)
        await turn(fake, 131, "/help")  # anything more (a retry, an apology) would be here by now
    attempts = [p for p in fake.calls_of("sendMessage") if int(p["chat_id"]) == chat]
    assert len(attempts) == len(first) + 2  # then one attempt per update: no retries
    assert await engine.store.load(chat) is None  # the session is closed
    blocked = [r for r in caplog.records if "blocked" in r.getMessage()]
    assert len(blocked) == 2  # one line per refused update, nothing else
    assert all(r.levelno == logging.INFO for r in blocked)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # Unblocked, the chat starts afresh.
    fake.blocked.discard(chat)
    (menu,) = await turn(fake, chat, "/start")
    assert menu.buttons()
