"""500 users × 10 messages through the fake WeChat against one `yibao wechat` process:
what each user must get is computed by a reference engine in this process (same knowledge,
WeChat wording, pager and render), so a lost, duplicated or reordered reply shows up as a
mismatch. Shared by tests/bot/wechat/test_wechat_load.py and `make bench ARGS=wechat`."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp
from fake_wechat import FakeWeChat

from bot.wechat.render import Pager, render
from bot.wiring import build_engine
from dialogs.clock import Clock
from dialogs.types import Incoming

SCRIPT = ("菜单", "1", "1", "跳过", "1", "积分", "苏州", "2", "返回", "新生儿医保交多少钱")


def openid(n: int) -> str:
    return f"oLoad{n:05d}"


async def expected_replies(users: int) -> list[str]:
    """The replies of one user (every user says the same, so all get the same)."""
    engine = build_engine("memory://", clock=Clock().today, channel="wechat")
    pager = Pager(engine.kb)
    out = []
    for said in SCRIPT:
        replies = await engine.handle("wx:reference", Incoming(text=said), pager=pager)
        out.append(render(replies, engine.kb))
    await engine.store.close()
    return out


@dataclass
class LoadResult:
    sent: int = 0
    replies: int = 0
    lost: int = 0
    wrong: int = 0  # a reply other than the expected one at that place (reordered, duplicated)
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)


async def drive(
    url: str,
    users: int,
    expected: list[str],
    concurrency: int = 64,
    period: float | None = None,
    encrypt: bool = False,
) -> LoadResult:
    """Each user sends the script in order, waiting for each reply; `concurrency` users at
    a time (burst), or with `period`: every user sends a message every `period` seconds."""
    result = LoadResult()
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        wx = FakeWeChat(url, http, encrypt=encrypt)

        async def one(n: int) -> None:
            me = openid(n)
            if period is not None:
                await asyncio.sleep(period * n / users)  # spread the users over one period
            for i, said in enumerate(SCRIPT):
                started = time.perf_counter()
                async with gate:
                    ex = await wx.text(me, said)
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                result.sent += 1
                if ex.status != 200 or not ex.content:
                    result.lost += 1
                else:
                    result.replies += 1
                    if ex.content != expected[i]:
                        result.wrong += 1
                if period is not None:
                    await asyncio.sleep(max(0.0, period - (time.perf_counter() - started)))
            wx.log.clear()

        t0 = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(users)))
        result.seconds = time.perf_counter() - t0
    return result
