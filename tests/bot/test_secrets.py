"""Secrets and privacy: the bot token never reaches a log line or an error, and `/forget`
leaves nothing of the chat in the store's files or keys.

The token test runs `yibao run` at DEBUG (every request URL holds the token) and makes it
fail in every way the fake Bot API can: 5xx, reset connections, bodies that are not JSON, a
400 on a reply (a handler error with its traceback). The privacy test plays a whole
conversation through the real bot on SQLite and on Redis, presses "forget", and searches
every byte of the database files (WAL and shared memory included) and every Redis key and
value for the chat id (as text and as SQLite stores an integer), its hash and what it typed.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import struct
import sys
from pathlib import Path

import pytest
from fake_bot_api import FakeBotAPI, Sent
from redis_fixture import redis_dump
from telegram_harness import TOKEN, bot_env, environ_with, running_bot

from bot.ops.logging_setup import configure_logging
from bot.telegram.app import hidden_in_logs
from dialogs.stores.redis import RedisStore
from dialogs.stores.settings import StoreSettings

YIBAO = str(Path(sys.executable).with_name("yibao"))
SECRET_PART = TOKEN.split(":", 1)[1]


async def test_token_appears_in_no_log_line_even_at_debug_and_on_errors(
    fake: FakeBotAPI, tmp_path: Path
) -> None:
    env = bot_env(
        fake,
        YIBAO_LOG_LEVEL="DEBUG",
        YIBAO_STORE=f"sqlite:///{tmp_path / 's.db'}",
        YIBAO_HASH_SALT="secrets-test-pepper",  # required with a persistent store
    )
    proc = await asyncio.create_subprocess_exec(
        YIBAO, "run", cwd=tmp_path, env=environ_with(env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        await fake.wait_calls("getUpdates", timeout=60)
        fake.fail_next("getUpdates", 500)
        fake.fail_next("getUpdates", 502)
        fake.reset_next("getUpdates")
        fake.garble_next("getUpdates")
        fake.user_text(1, "/start")
        await fake.wait_messages(1, 1, timeout=60)
        fake.reset_next("sendMessage")
        fake.user_text(1, "/help")
        await fake.wait_messages(1, 2, timeout=60)
        fake.fail_next("sendMessage", 400)  # Bad Request: the handler fails, the bot apologises
        fake.user_text(1, "/about")
        await fake.wait_messages(1, 3, timeout=60)
    finally:
        proc.kill()
        out, _ = await proc.communicate()
    log = out.decode(errors="replace")
    assert "DEBUG" in log and "<redacted>" in log  # URLs were logged, redacted
    assert re.search(r"update \d+ failed: BadRequest", log)  # an exception was logged
    assert "Traceback" in log or "File " in log
    assert TOKEN not in log
    assert SECRET_PART not in log


# ---------------------------------------------------------------------- /forget
CHAT = 987_654_321_777  # large enough that SQLite stores it as a 6-byte integer
OTHER = 555_000_111
TYPED = "zorblax frumple 紫色长颈鹿"  # unanswered: recorded (masked) as typed
OTHER_TYPED = "quxbaz plonk 蓝色河马"


def integer_images(value: int) -> list[bytes]:
    """How SQLite may store `value` on disk (big-endian, 6 or 8 bytes) and as text."""
    return [value.to_bytes(6, "big"), struct.pack(">q", value), str(value).encode()]


async def converse(fake: FakeBotAPI, chat_id: int, typed: str) -> Sent:
    """A conversation that leaves a session and turn records; ends on the forget prompt."""
    for text in ("/start", typed, "/suzhou", "已办理", "/forget"):
        before = len(fake.messages(chat_id))
        fake.user_text(chat_id, text)

        def answered(sent: list[Sent], n: int = before) -> bool:
            return len(sent) > n and sent[-1].markup is not None

        await fake.wait_until(chat_id, answered)
    return fake.messages(chat_id)[-1]


async def forget(fake: FakeBotAPI, prompt: Sent) -> None:
    before = len(fake.messages(prompt.chat_id))
    (yes,) = [d for _, d in prompt.buttons() if d.startswith("x:forget:yes:")]
    await fake.wait_answer(fake.press(prompt, yes))
    await fake.wait_messages(prompt.chat_id, before + 1)
    await asyncio.sleep(0.2)  # the turn is over once its reply is sent; let the store settle


def assert_no_trace(trace: bytes, salt: str) -> None:
    chat_hash = StoreSettings(hash_salt=salt).chat_hash(CHAT).encode()
    for image in integer_images(CHAT):
        assert image not in trace, image
    assert chat_hash not in trace
    assert TYPED.encode() not in trace
    assert "紫色长颈鹿".encode() not in trace and b"zorblax" not in trace
    assert OTHER_TYPED.encode() in trace  # the search can find what is there


async def rebuilt(folder: Path, chat_id: int, within: float = 15.0) -> bytes:
    """The bytes of every file in `folder` once the chat's id is gone from them (the file
    rebuild runs in the background right after an erasure), or when `within` runs out."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        trace = b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file())
        if asyncio.get_running_loop().time() > deadline:
            return trace
        if str(chat_id).encode() not in trace:
            await asyncio.sleep(0.5)  # the rebuild's last step (the WAL truncate) done too
            return b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file())
        await asyncio.sleep(0.1)


async def test_forget_leaves_no_trace_in_the_sqlite_files(
    fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = tmp_path / "state.db"
    salt = "privacy-sqlite"
    store_url = f"sqlite:///{db}"
    async with running_bot(fake, monkeypatch, YIBAO_STORE=store_url, YIBAO_HASH_SALT=salt):
        await converse(fake, OTHER, OTHER_TYPED)
        prompt = await converse(fake, CHAT, TYPED)
        before = b"".join(p.read_bytes() for p in tmp_path.iterdir())
        # Chat ids are text keys since schema 2 (string ids): the decimal form is on disk.
        assert TYPED.encode() in before and str(CHAT).encode() in before
        await forget(fake, prompt)
        trace = await rebuilt(tmp_path, CHAT)  # by the maintenance task, soon after the forget
    assert_no_trace(trace, salt)


async def test_forget_leaves_no_trace_in_redis(
    fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    salt = "privacy-redis"
    async with running_bot(fake, monkeypatch, YIBAO_STORE=redis_url, YIBAO_HASH_SALT=salt):
        await converse(fake, OTHER, OTHER_TYPED)
        prompt = await converse(fake, CHAT, TYPED)
        await forget(fake, prompt)
    store = RedisStore.from_url(redis_url)
    try:
        trace = await redis_dump(store)
    finally:
        await store.close()
    assert_no_trace(trace, salt)


def test_webhook_secrets_are_redacted_wherever_they_come_from() -> None:
    """The env secret, a `--secret-token` and a random one all stay out of the logs."""
    assert hidden_in_logs("123:tok", "from-env", "from-cli") == ["123:tok", "from-env", "from-cli"]
    assert hidden_in_logs("123:tok", None, "from-cli") == ["123:tok", "from-cli"]
    assert hidden_in_logs("123:tok", "same", "same") == ["123:tok", "same"]
    stream = io.StringIO()
    configure_logging("DEBUG", "text", hidden_in_logs("123:tok", None, "cli-secret"), stream)
    try:
        logging.getLogger("telegram.ext").debug("setWebhook secret_token=cli-secret")
    finally:
        configure_logging("WARNING", "text", (), io.StringIO())
    assert "cli-secret" not in stream.getvalue() and "<redacted>" in stream.getvalue()
