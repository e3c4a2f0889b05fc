"""Crash recovery: `yibao run` is killed with SIGKILL halfway through a guided flow, started
again, and the conversation finishes as if nothing had happened — 20 times in a row.

Each round takes a new chat through the Suzhou eligibility flow by typed answers, kills the
bot process after a few answers at one of three moments, and finishes the flow with the next
process. The transcript the chat received must equal the uninterrupted one (computed from the
engine itself): no reply missing, none sent twice.

The three moments, in turn:
- idle: the last answer was sent and its state saved (it may or may not be acknowledged);
- reply in flight: the bot is sending the reply to an update (the fake Bot API holds the
  sendMessage), so nothing of that turn is saved; the update must come back after the
  restart (it was never acknowledged) and be answered from the state before it;
- answered, not acknowledged: the reply was sent and the state saved, but the getUpdates that
  would acknowledge the update never completes; the restarted bot gets the update again and
  must not answer it twice.

A restart costs a whole process start (KB, jieba). To keep 20 rounds short, the next process
is started ahead of time behind a "gate" of the fake API (its getUpdates returns nothing until
the gate opens), so after the kill only the gate has to open.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_bot_api import FakeBotAPI, Sent, parse_html
from telegram_harness import bot_env, environ_with

from bot.telegram.render import render_all
from dialogs.engine import Engine
from dialogs.types import Incoming

YIBAO = str(Path(sys.executable).with_name("yibao"))
ROUNDS = 20
ANSWERS = ("/suzhou", "已办理", "参加了", "满一年", "姑苏区", "小学", "是", "没参加过")
MOMENTS = ("idle", "reply in flight", "answered, not acknowledged")
TURN_TIMEOUT = 30.0


@dataclass
class BotProcess:
    name: str
    proc: asyncio.subprocess.Process
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Fleet:
    """The live bot process and a warmed-up standby behind a closed gate."""

    def __init__(self, fake: FakeBotAPI, tmp_path: Path) -> None:
        self.fake = fake
        self.tmp_path = tmp_path
        self.db = tmp_path / "state.db"
        self.started = 0
        self.all: list[BotProcess] = []
        self.live: BotProcess | None = None
        self.standby: BotProcess | None = None

    async def spawn(self) -> BotProcess:
        name = f"p{self.started}"
        self.started += 1
        env = bot_env(
            self.fake,
            TELEGRAM_API_BASE_URL=self.fake.gate_url(name),
            YIBAO_STORE=f"sqlite:///{self.db}",
            YIBAO_HASH_SALT="crash-recovery-pepper",  # required with a persistent store
            YIBAO_STANDBY="1",  # the standby waits for the SQLite lock, warmed up
            YIBAO_CACHE_DIR=os.environ["YIBAO_CACHE_DIR"],
        )
        log = self.tmp_path / f"{name}.log"
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                YIBAO, "run", cwd=self.tmp_path, env=environ_with(env), stdout=out, stderr=out
            )
        bot = BotProcess(name, proc, log)
        self.all.append(bot)
        return bot

    async def start(self) -> None:
        self.live = await self.spawn()
        self.fake.open_gate(self.live.name)
        await self.holding(self.live)  # so the standby is the one that waits
        self.standby = await self.spawn()

    async def kill_and_switch(self) -> None:
        """SIGKILL the live process; the standby (once it polls) takes over at once."""
        assert self.live is not None and self.standby is not None
        await self.standing_by(self.standby)
        self.live.proc.kill()
        assert await self.live.proc.wait() == -9
        self.fake.thaw()  # whatever the dead process left hanging gets a 502 nobody reads
        self.live, self.standby = self.standby, None
        self.fake.open_gate(self.live.name)
        await self.holding(self.live)
        self.standby = await self.spawn()

    async def holding(self, bot: BotProcess, timeout: float = 60) -> None:
        """Wait until `bot` holds the SQLite file's lock (its pid in `<db>.lock`)."""
        lock = self.db.with_name(self.db.name + ".lock")
        deadline = time.monotonic() + timeout
        while not (lock.exists() and lock.read_text().strip() == str(bot.proc.pid)):
            assert bot.proc.returncode is None, bot.output()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{bot.name} never took the lock")
            await asyncio.sleep(0.02)

    async def standing_by(self, bot: BotProcess, timeout: float = 60) -> None:
        """Wait until `bot` is warmed up and waiting for the SQLite lock (one process per
        file: the live one holds it until it dies)."""
        deadline = time.monotonic() + timeout
        while "standing by" not in bot.output():
            assert bot.proc.returncode is None, bot.output()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{bot.name} never stood by")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        for bot in self.all:
            if bot.proc.returncode is None:
                bot.proc.kill()
                await bot.proc.wait()


@pytest.fixture
async def fleet(fake: FakeBotAPI, tmp_path: Path) -> AsyncIterator[Fleet]:
    ships = Fleet(fake, tmp_path)
    await ships.start()
    try:
        yield ships
    finally:
        await ships.stop()


@pytest.fixture
def reference(engine: Engine) -> Iterator[list[list[str]]]:
    """What Telegram shows for each answer of an uninterrupted conversation."""
    loop = asyncio.new_event_loop()
    turns = []
    for text in ANSWERS:
        replies = loop.run_until_complete(engine.handle(1, Incoming(text=text)))
        turns.append([parse_html(m.html) for m in render_all(replies)])
    loop.close()
    yield turns


def saved_update(db: Path, chat_id: int) -> int:
    """The last update id the chat's saved session has answered (0 if none)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        row = conn.execute("SELECT data FROM sessions WHERE chat_id = ?", (chat_id,)).fetchone()
    return max(json.loads(row[0]).get("answered", [0])) if row else 0


async def wait_saved(db: Path, chat_id: int, update_id: int) -> None:
    deadline = time.monotonic() + TURN_TIMEOUT
    while saved_update(db, chat_id) < update_id:
        assert time.monotonic() < deadline, f"update {update_id} never saved"
        await asyncio.sleep(0.01)


async def say(fake: FakeBotAPI, chat_id: int, text: str, expect_total: int) -> int:
    update_id = fake.user_text(chat_id, text)
    await fake.wait_messages(chat_id, expect_total, timeout=TURN_TIMEOUT)
    return update_id


@pytest.mark.slow
async def test_kill_9_halfway_through_a_flow_twenty_times(
    fake: FakeBotAPI, fleet: Fleet, reference: list[list[str]]
) -> None:
    expected = [text for turn in reference for text in turn]
    assert reference[-1], "the flow ends with a verdict"
    totals = [sum(len(t) for t in reference[: i + 1]) for i in range(len(reference))]
    redelivered = 0
    for round_ in range(ROUNDS):
        chat = 7000 + round_
        moment = MOMENTS[round_ % len(MOMENTS)]
        half = 3 + round_ % 2  # answers given before the crash
        for step in range(half):
            update_id = await say(fake, chat, ANSWERS[step], totals[step])
        if moment == "idle":
            await wait_saved(fleet.db, chat, update_id)
        elif moment == "reply in flight":
            calls = len(fake.calls_of("sendMessage"))
            fake.stall_next("sendMessage")
            update_id = fake.user_text(chat, ANSWERS[half])
            await fake.wait_calls("sendMessage", calls + 1, timeout=TURN_TIMEOUT)
            assert saved_update(fleet.db, chat) < update_id
            half += 1
        else:
            update_id = fake.user_text(chat, ANSWERS[half])
            fake.freeze_polls(after_update=update_id)
            await fake.wait_messages(chat, totals[half], timeout=TURN_TIMEOUT)
            await wait_saved(fleet.db, chat, update_id)
            half += 1
        await fleet.kill_and_switch()
        if moment != "idle":
            # Never acknowledged: Telegram hands it to the next process as well.
            await asyncio.wait_for(_delivered_twice(fake, update_id), TURN_TIMEOUT)
            redelivered += 1
        if moment == "reply in flight":
            await fake.wait_messages(chat, totals[half - 1], timeout=TURN_TIMEOUT)
        for step in range(half, len(ANSWERS)):
            await say(fake, chat, ANSWERS[step], totals[step])
        got = [m.text for m in fake.messages(chat)]
        assert got == expected, f"round {round_} ({moment}): transcript differs"
    assert redelivered == sum(1 for r in range(ROUNDS) if MOMENTS[r % len(MOMENTS)] != "idle")
    assert fleet.started == ROUNDS + 2
    live = fleet.live
    assert live is not None
    await asyncio.sleep(0.2)
    for chat in range(7000, 7000 + ROUNDS):  # nothing late: each chat's transcript is final
        assert [m.text for m in fake.messages(chat)] == expected
    assert "Traceback" not in "".join(b.output() for b in fleet.all)
    # Everything answered is acknowledged in the end (the ledger never keeps an update open).
    for _ in range(500):
        if not fake.unacknowledged():
            break
        await asyncio.sleep(0.01)
    assert fake.unacknowledged() == []


async def _delivered_twice(fake: FakeBotAPI, update_id: int) -> None:
    while fake.delivered[update_id] < 2:
        await asyncio.sleep(0.01)


async def press_and_wait(fake: FakeBotAPI, message: Sent, data: str) -> list[Sent]:
    """Press a button; return the messages of that turn (it ends on a keyboard)."""
    before = len(fake.messages(message.chat_id))
    fake.press(message, data)
    sent = await fake.wait_until(
        message.chat_id,
        lambda s: len(s) > before and s[-1].markup is not None,
        timeout=TURN_TIMEOUT,
    )
    return sent[before:]


def first_flow_button(message: Sent) -> str:
    return next(data for _, data in message.buttons() if data.startswith("s:"))


async def test_kill_9_while_answering_a_button_press(fake: FakeBotAPI, fleet: Fleet) -> None:
    """The press is delivered again after the restart: answered once, no apology, even though
    Telegram refuses a second answer to the same callback query."""
    transcripts = []
    for chat, crash in ((7100, False), (7101, True)):
        fake.user_text(chat, "/start")
        (menu,) = await fake.wait_messages(chat, 1, timeout=TURN_TIMEOUT)
        (question,) = (await press_and_wait(fake, menu, "f:tianjin"))[-1:]
        if crash:
            calls = len(fake.calls_of("sendMessage"))
            fake.stall_next("sendMessage")
            query_id = fake.press(question, first_flow_button(question))
            await fake.wait_calls("sendMessage", calls + 1, timeout=TURN_TIMEOUT)
            await fleet.kill_and_switch()
            await fake.wait_until(
                chat, lambda s: s[-1].markup is not None and len(s) > 2, timeout=TURN_TIMEOUT
            )
            answers = [
                c for c in fake.calls_of("answerCallbackQuery")
                if str(c["callback_query_id"]) == query_id
            ]  # fmt: skip
            assert len(answers) == 2  # the same press, answered by both processes
        else:
            await press_and_wait(fake, question, first_flow_button(question))
        transcripts.append([m.text for m in fake.messages(chat)])
    await asyncio.sleep(0.2)
    assert transcripts[1] == transcripts[0]
    assert [m.text for m in fake.messages(7101)] == transcripts[0]  # nothing late either


async def test_each_update_is_answered_once_in_any_order(engine: Engine) -> None:
    """The redelivery guard remembers ids, not a high-water mark: with two instances an older
    update of a chat can be handled after a newer one and must still be answered."""
    chat = 7200
    first = await engine.handle(chat, Incoming(text="/suzhou", update_id=11))
    assert first
    assert await engine.handle(chat, Incoming(text="/help", update_id=10))  # older, new to us
    assert await engine.handle(chat, Incoming(text="/suzhou", update_id=11)) == []  # again
    for update_id in range(12, 30):
        assert await engine.handle(chat, Incoming(text="/help", update_id=update_id))
    session = await engine.store.load(chat)
    assert session is not None and len(session.answered) == 8  # bounded
