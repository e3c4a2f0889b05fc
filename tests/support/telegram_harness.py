"""Run the real `yibao run` application in-process against the fake Bot API.

`running_bot` builds the bot with `bot.telegram.app.build_application` from settings read
from the environment — exactly what `yibao run` does — and drives it the way `run_polling`
would (post_init, start, long polling; then stop, post_shutdown), so tests exercise PTB's
HTTP stack, rate limiter, update processor and our handlers for real.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fake_bot_api import FakeBotAPI
from telegram.ext import Application

from bot.settings import load_settings
from bot.telegram.app import ALLOWED_UPDATES, build_application

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def bot_env(fake: FakeBotAPI, **extra: str) -> dict[str, str]:
    """The environment `yibao run` needs to talk to `fake` (memory store unless overridden)."""
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "YIBAO_STORE": "memory://",
        **extra,
    }


@asynccontextmanager
async def running_bot(fake: FakeBotAPI, monkeypatch: Any, **env: str) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    for key, value in bot_env(fake, **env).items():
        monkeypatch.setenv(key, value)
    app = build_application(load_settings(env_file=None))
    async with app:
        assert app.post_init is not None and app.post_shutdown is not None
        await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0, timeout=1, allowed_updates=list(ALLOWED_UPDATES)
        )
        try:
            yield app
        finally:
            stopping = asyncio.ensure_future(app.updater.stop())
            await asyncio.sleep(0)  # let it flag the polling loop to stop…
            fake.wake_pollers()  # …then end the pending long poll instead of waiting it out
            await stopping
            await app.stop()
    await app.post_shutdown(app)


def environ_with(env: dict[str, str]) -> dict[str, str]:
    """os.environ plus `env`, minus any TELEGRAM_/YIBAO_/WECHAT_ variable the test did not
    set (so only `env` and a `.env` file speak)."""
    prefixes = ("TELEGRAM_", "YIBAO_", "WECHAT_")
    base = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return {**base, **env}
