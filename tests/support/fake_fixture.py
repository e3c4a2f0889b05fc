"""pytest plugin: the `fake` fixture, a fake Telegram Bot API on 127.0.0.1 for one test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fake_bot_api import FakeBotAPI
from telegram_harness import TOKEN


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    api = FakeBotAPI(TOKEN)
    await api.start()
    yield api
    api.thaw()  # release polls a test froze, so the bot under test can stop
    await api.stop()
