"""Start a real `yibao wechat` subprocess on a free 127.0.0.1 port (tests and bench)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import aiohttp
from fake_wechat import AES_KEY, APP_ID, TOKEN
from net import free_port
from paths import ROOT

SALT = "wechat-test-salt"


def chat_hash(openid: str) -> str:
    """The record hash of a WeChat user, as the server computes it (YIBAO_HASH_SALT)."""
    digest = hmac.new(SALT.encode(), f"wx:{openid}".encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


@dataclass
class WeChatProcess:
    proc: asyncio.subprocess.Process
    port: int
    path: str
    log: IO[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"


def wechat_env(store_url: str, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "YIBAO_"))}
    base.update(
        {
            "WECHAT_TOKEN": TOKEN,
            "WECHAT_APP_ID": APP_ID,
            "WECHAT_AES_KEY": AES_KEY,
            "YIBAO_CACHE_DIR": os.environ.get("YIBAO_CACHE_DIR", str(ROOT / ".cache")),
            "YIBAO_STORE": store_url,
            "YIBAO_HASH_SALT": SALT,
            "YIBAO_LOG_LEVEL": "WARNING",
        }
    )
    base.update(extra)
    return base


async def start_wechat(
    workdir: Path, store_url: str, path: str = "/wechat", **extra: str
) -> WeChatProcess:
    """The real command line, from `workdir` (so no developer's .env is read)."""
    port = free_port()
    log_path = workdir / f"wechat-{port}.log"
    log = log_path.open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "wechat",
        "--listen",
        "127.0.0.1",
        "--port",
        str(port),
        "--path",
        path,
        cwd=workdir,
        env={**wechat_env(store_url, **extra), "PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=log,
    )
    instance = WeChatProcess(proc, port, path, log, log_path)
    await wait_healthy(instance)
    return instance


async def wait_healthy(instance: WeChatProcess, within: float = 90.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if instance.proc.returncode is not None:
                raise RuntimeError(instance.log_path.read_text(errors="replace"))
            try:
                async with http.get(instance.health_url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("yibao wechat did not become healthy")


async def stop_wechat(instance: WeChatProcess) -> str:
    """SIGTERM, wait; the process's log (WARNING and above)."""
    if instance.proc.returncode is None:
        instance.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(instance.proc.wait(), 30)
        except TimeoutError:
            instance.proc.kill()
            await instance.proc.wait()
    instance.log.close()
    return instance.log_path.read_text(errors="replace")
