"""Several real `yibao run --webhook` processes sharing one redis-server, played by a fake
Telegram: shared by tests/bot/telegram/test_multi_instance.py and bench/bench_multi.py.

The driver behaves like Telegram's webhook delivery: chats are served concurrently, but the
next update of a chat is sent only once the previous one was acknowledged (HTTP 200). Each
turn goes to another instance than the one before (round robin per chat), so every turn of a
multi-step conversation depends on state another process saved.

What each chat must receive is computed by running the same scripts through a reference
engine (same knowledge, memory store): a lost, duplicated, reordered or wrong reply — say,
because a flow's state was lost between two instances — makes the comparison fail.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import IO, Any

import aiohttp
from fake_bot_api import FakeBotAPI
from net import free_port
from paths import ROOT

from bot.telegram.render import render_all
from bot.wiring import build_engine
from dialogs.types import Incoming

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "multi-instance-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# Ten turns each; every one but the first depends on what the previous turns left behind.
SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("/suzhou", "有", "交了", "两年", "园区", "小学", "公办", "没有", "3个", "下一步"),
    ("/suzhou", "有", "有", "有", "姑苏", "初中", "是", "参加过", "/start", "积分入医要带什么材料"),
    ("苏州", "要带什么材料", "天津", "要带什么材料", "交多少钱", "/help", "积分", "/cancel",
     "外地户口孩子在苏州怎么上医保", "/about"),
)  # fmt: skip


def script(chat_id: int, turns: int) -> list[str]:
    chosen = SCRIPTS[chat_id % len(SCRIPTS)]
    return [chosen[i % len(chosen)] for i in range(turns)]


async def expected_replies(chat_ids: list[int], turns: int) -> dict[int, list[list[str]]]:
    """Per chat, per turn: the HTML messages a single, sequential bot sends."""
    engine = build_engine("memory://")
    per_script: dict[int, list[list[str]]] = {}
    try:
        for index in {c % len(SCRIPTS) for c in chat_ids}:
            turns_html = []
            for text in script(index, turns):
                replies = await engine.handle(-1 - index, Incoming(text=text))
                turns_html.append([m.html for m in render_all(replies)])
            per_script[index] = turns_html
    finally:
        await engine.store.close()
    return {c: per_script[c % len(SCRIPTS)] for c in chat_ids}


def text_update(fake: FakeBotAPI, update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    """A private text message as Telegram sends it (a leading command gets its entity)."""
    fields: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        length = len(text.split()[0].encode("utf-16-le")) // 2
        fields["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return {"update_id": update_id, "message": fake.message_dict(chat_id, **fields)}


@dataclass
class Instance:
    proc: asyncio.subprocess.Process
    port: int
    log: IO[bytes]  # stderr goes to a file: a pipe nobody reads would block a chatty process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram"

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"


def instance_env(fake: FakeBotAPI, store_url: str, port: int, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "YIBAO_"))}
    return {
        **base,
        "YIBAO_CACHE_DIR": os.environ.get("YIBAO_CACHE_DIR", str(ROOT / ".cache")),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "YIBAO_STORE": store_url,
        "YIBAO_WEBHOOK_SECRET": SECRET,  # from the environment, as in deploy/
        "YIBAO_HASH_SALT": "multi-instance-pepper",  # required with a shared store
        "YIBAO_RATE_LIMIT": "off",  # the fake has no flood limit; measure the bot itself
        "YIBAO_TYPING_AFTER": "10",
        "YIBAO_LOG_LEVEL": "WARNING",
        **extra,
    }


async def start_instances(
    fake: FakeBotAPI, store_url: str, count: int, **extra: str
) -> list[Instance]:
    """`count` webhook processes on free ports; returns once each answers /healthz."""
    instances = []
    for _ in range(count):
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram"
        argv = ["run", "--webhook", url, "--listen", "127.0.0.1", "--port", str(port)]
        log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop_instances
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            *argv,
            cwd=ROOT,
            env=instance_env(fake, store_url, port, **extra),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
        )
        instances.append(Instance(proc, port, log))
    try:
        await fake.wait_calls("setWebhook", count=count, timeout=120)
        async with aiohttp.ClientSession() as http:
            for instance in instances:
                await wait_healthy(http, instance)
    except BaseException:
        await stop_instances(instances)
        raise
    return instances


async def wait_healthy(http: aiohttp.ClientSession, instance: Instance) -> dict[str, Any]:
    for _ in range(600):
        if instance.proc.returncode is not None:
            raise RuntimeError(f"instance on port {instance.port} exited")
        try:
            async with http.get(instance.health_url) as resp:
                if resp.status == 200:
                    body: dict[str, Any] = await resp.json()
                    return body
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError(f"instance on port {instance.port} never became healthy")


async def stop_instances(instances: list[Instance]) -> list[str]:
    """SIGTERM each, wait; return their stderr (logs at WARNING and above)."""
    logs = []
    for instance in instances:
        if instance.proc.returncode is None:
            instance.proc.send_signal(signal.SIGTERM)
    for instance in instances:
        try:
            await asyncio.wait_for(instance.proc.wait(), timeout=60)
        except TimeoutError:
            instance.proc.kill()
            await instance.proc.wait()
        instance.log.seek(0)
        logs.append(instance.log.read().decode(errors="replace"))
        instance.log.close()
    return logs


@dataclass
class Drive:
    """What a drive measured: per-turn latency (sent -> acknowledged) and the wall time."""

    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    failures: list[str] = field(default_factory=list)


async def drive(
    fake: FakeBotAPI,
    instances: list[Instance],
    expected: dict[int, list[list[str]]],
    first_update: int = 1,
) -> Drive:
    """Every chat's script, chats concurrently, turns one after another per chat, turn k of
    chat c at instance (c + k) mod n. After each acknowledgement the chat must hold exactly
    the messages expected so far (the reply is sent before the 200)."""
    ids = itertools.count(first_update)
    result = Drive()
    connector = aiohttp.TCPConnector(limit=len(expected) + 8)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def chat(chat_id: int, turns: list[list[str]]) -> None:
            sent_so_far = 0
            for k, text in enumerate(script(chat_id, len(turns))):
                target = instances[(chat_id + k) % len(instances)]
                update = text_update(fake, next(ids), chat_id, text)
                started = time.perf_counter()
                async with http.post(
                    target.url, json=update, headers={SECRET_HEADER: SECRET}
                ) as resp:
                    status = resp.status
                result.latencies.append(time.perf_counter() - started)
                sent_so_far += len(turns[k])
                got = len(fake.messages(chat_id))
                if status != 200 or got != sent_so_far:
                    result.failures.append(
                        f"chat {chat_id} turn {k}: HTTP {status}, {got} messages, "
                        f"expected {sent_so_far}"
                    )
                    return

        began = time.perf_counter()
        await asyncio.gather(*(chat(c, t) for c, t in expected.items()))
        result.wall = time.perf_counter() - began
    return result


def mismatches(fake: FakeBotAPI, expected: dict[int, list[list[str]]]) -> list[int]:
    """Chats whose messages differ from the reference conversation, in any way."""
    return [
        chat_id
        for chat_id, turns in expected.items()
        if [m.html for m in fake.messages(chat_id)] != [h for turn in turns for h in turn]
    ]
