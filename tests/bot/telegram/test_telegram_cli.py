"""`yibao run` as a real process: token checks, long polling, webhook mode, clean shutdown.

These tests start the installed `yibao` console script with an environment pointing at the
fake Bot API on 127.0.0.1, exactly as an operator would run it (minus Telegram itself).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from fake_bot_api import FakeBotAPI
from net import free_port
from telegram_harness import TOKEN, bot_env, environ_with

YIBAO = str(Path(sys.executable).with_name("yibao"))
SECRET = "s3cret-Token_for-the-webhook"


async def run_cli(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        YIBAO, "run", *args, cwd=cwd, env=environ_with(env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_missing_token_says_how_to_get_one_and_exits_2(tmp_path: Path) -> None:
    code, out = await run_cli({}, tmp_path)
    assert code == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in out
    assert "@BotFather" in out


@pytest.mark.parametrize("token", ["not-a-token-but-secret-1234", f"'{TOKEN}'", "123:short"])
async def test_malformed_token_is_refused_without_echoing_it(tmp_path: Path, token: str) -> None:
    code, out = await run_cli({"TELEGRAM_BOT_TOKEN": token}, tmp_path)
    assert code == 2
    assert "malformed" in out and "@BotFather" in out
    assert token.strip() not in out


async def test_token_is_read_from_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=oops-from-dotenv-file\n")
    code, out = await run_cli({}, tmp_path)
    assert code == 2
    assert "malformed" in out
    assert "oops-from-dotenv-file" not in out


async def test_token_rejected_by_telegram_exits_2_without_printing_it(
    fake: FakeBotAPI, tmp_path: Path
) -> None:
    other = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDxyz"
    env = bot_env(fake, TELEGRAM_BOT_TOKEN=other, YIBAO_LOG_LEVEL="DEBUG")
    code, out = await run_cli(env, tmp_path)
    assert code == 2
    assert "rejected" in out
    assert other not in out and other.split(":")[1] not in out


async def _start(env: dict[str, str], cwd: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        YIBAO, "run", *args, cwd=cwd, env=environ_with(env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def _stop(proc: asyncio.subprocess.Process, sig: int) -> tuple[int, str]:
    proc.send_signal(sig)
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_long_polling_process_answers_and_stops_cleanly_on_sigint(
    fake: FakeBotAPI, tmp_path: Path
) -> None:
    env = bot_env(
        fake,
        YIBAO_STORE=f"sqlite:///{tmp_path / 'state.db'}",
        YIBAO_LOG_LEVEL="DEBUG",
        YIBAO_ALLOW_DEFAULT_SALT="1",  # development: the public salt, with a warning
    )
    proc = await _start(env, tmp_path)
    try:
        await fake.wait_calls("setMyCommands", timeout=30)
        fake.user_text(1, "/start")
        (menu,) = await fake.wait_messages(1, 1)
    finally:
        code, out = await _stop(proc, signal.SIGINT)
    assert menu.buttons()
    assert code == 0, out
    assert "store closed" in out
    assert TOKEN not in out and TOKEN.split(":")[1] not in out  # DEBUG logs every URL
    assert "YIBAO_HASH_SALT is not set" in out  # the operator is told the salt is public


@pytest.mark.parametrize("stop_at", ["getMe", "setMyCommands"])
async def test_a_stop_at_any_start_up_step_is_clean_and_quiet(
    fake: FakeBotAPI, tmp_path: Path, stop_at: str
) -> None:
    """SIGINT while PTB is still starting (getMe in flight) or once it is up: code 0, no
    traceback; and with a salt set, no salt warning and never the salt itself."""
    env = bot_env(fake, YIBAO_HASH_SALT="a-secret-pepper")
    proc = await _start(env, tmp_path)
    try:
        await fake.wait_calls(stop_at, timeout=30)
    finally:
        code, out = await _stop(proc, signal.SIGINT)
    assert code == 0, out
    assert "Traceback" not in out
    assert "YIBAO_HASH_SALT" not in out and "a-secret-pepper" not in out


async def _until_listening(http: aiohttp.ClientSession, url: str) -> None:
    """PTB calls setWebhook just before its server accepts connections: wait for it."""
    for _ in range(100):
        try:
            async with http.get(url):
                return
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.1)
    pytest.fail(f"webhook server never listened on {url}")


async def test_webhook_mode_needs_the_secret_token(fake: FakeBotAPI, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    env = bot_env(fake, YIBAO_LOG_FORMAT="json")
    proc = await _start(
        env, tmp_path, "--webhook", url, "--listen", "127.0.0.1", "--port", str(port),
        "--secret-token", SECRET,
    )  # fmt: skip
    try:
        (hook,) = await fake.wait_calls("setWebhook", timeout=30)
        assert (hook["url"], hook["secret_token"]) == (url, SECRET)
        await fake.wait_calls("setMyCommands", timeout=30)
        update = {
            "update_id": 1,
            "message": fake.message_dict(5, text="/help", entities=[
                {"type": "bot_command", "offset": 0, "length": 5}]),
        }  # fmt: skip
        async with aiohttp.ClientSession() as http:
            await _until_listening(http, url)
            statuses = []
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(url, data=json.dumps(update), headers={
                        "Content-Type": "application/json", **headers}) as resp:  # fmt: skip
                    statuses.append(resp.status)
            assert statuses == [403, 403]
            async with http.post(url, data=json.dumps(update), headers={
                    "Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": SECRET}) as resp:  # fmt: skip
                assert resp.status == 200
        (reply,) = await fake.wait_messages(5, 1)
    finally:
        code, out = await _stop(proc, signal.SIGTERM)
    assert "使用方法" in reply.text
    assert code == 0, out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert lines and all({"ts", "level", "logger", "msg"} <= line.keys() for line in lines)
    assert TOKEN not in out and SECRET not in out
