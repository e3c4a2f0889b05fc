"""`yibao run` and the network: proxies (TELEGRAM_PROXY, ALL_PROXY/HTTPS_PROXY) and a clear
one-line error, exit 3, when Telegram cannot be reached at start-up. Everything on 127.0.0.1."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest
from fake_bot_api import FakeBotAPI
from local_proxy import LocalProxy
from net import free_port
from telegram_harness import TOKEN, bot_env, environ_with

from bot.telegram.request import proxy_from_environment

YIBAO = str(Path(sys.executable).with_name("yibao"))
PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")


def without_proxies(env: dict[str, str]) -> dict[str, str]:
    """The test machine's own proxy settings (and NO_PROXY=127.0.0.1) must not interfere."""
    return {k: v for k, v in env.items() if k.upper() not in PROXY_VARS}


async def run_once(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        YIBAO, "run", cwd=cwd, env=without_proxies(environ_with(env)) | env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


def closing_sentence(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("yibao run:")]
    assert len(lines) == 1, err
    return lines[0]


async def test_unreachable_telegram_is_one_sentence_and_exit_3(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}/bot",
        "YIBAO_STORE": "memory://",
    }
    code, err = await run_once(env, tmp_path)
    assert code == 3, err
    line = closing_sentence(err)
    assert f"cannot reach Telegram at 127.0.0.1:{port}" in line and "TELEGRAM_PROXY" in line
    assert "Traceback" not in err and "Unclosed" not in err
    assert TOKEN not in err


async def test_an_unreachable_proxy_is_named(tmp_path: Path) -> None:
    fake = FakeBotAPI(TOKEN)
    await fake.start()
    port = free_port()
    try:
        env = bot_env(fake, TELEGRAM_PROXY=f"http://user:pw@127.0.0.1:{port}")
        code, err = await run_once(env, tmp_path)
    finally:
        await fake.stop()
    assert code == 3, err
    line = closing_sentence(err)
    assert f"through the proxy 127.0.0.1:{port}" in line
    assert "pw" not in line and "Traceback" not in err


@pytest.mark.parametrize("variable", ["TELEGRAM_PROXY", "ALL_PROXY", "HTTP_PROXY"])
async def test_the_bot_api_is_reached_through_the_proxy(
    fake: FakeBotAPI, tmp_path: Path, variable: str
) -> None:
    proxy = LocalProxy()
    await proxy.start()
    env = bot_env(fake, **{variable: proxy.url})
    proc = await asyncio.create_subprocess_exec(
        YIBAO, "run", cwd=tmp_path, env=without_proxies(environ_with(env)) | env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        await fake.wait_calls("setMyCommands", timeout=60)
        fake.user_text(1, "/start")
        (menu,) = await fake.wait_messages(1, 1)
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        await proxy.stop()
    assert menu.buttons()
    assert proc.returncode == 0, out.decode()
    assert any("/getMe" in line for line in proxy.request_lines), proxy.request_lines
    assert all(fake.base_url.split("/bot")[0] in line for line in proxy.request_lines)


def test_proxy_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*PROXY_VARS, *(v.lower() for v in PROXY_VARS)):
        monkeypatch.delenv(name, raising=False)
    api = "https://api.telegram.org/bot"
    assert proxy_from_environment(api) is None
    monkeypatch.setenv("ALL_PROXY", "http://all:3128")
    assert proxy_from_environment(api) == "http://all:3128"
    monkeypatch.setenv("HTTPS_PROXY", "http://tls:3128")
    assert proxy_from_environment(api) == "http://tls:3128"
    monkeypatch.setenv("NO_PROXY", "api.telegram.org")
    assert proxy_from_environment(api) is None
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.setenv("HTTPS_PROXY", "socks5://s:1080")  # aiohttp cannot use it
    assert proxy_from_environment(api) is None
