"""The webhook server: /healthz for the load balancer, updates acknowledged once handled,
Telegram's secret header enforced. Runs the real application in-process (PTB, handlers,
store) against the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from fake_bot_api import FakeBotAPI
from net import free_port
from telegram_harness import bot_env

from bot.ops import health
from bot.ops.health import check_health
from bot.ops.operations import operations_of
from bot.settings import load_settings
from bot.telegram.app import ALLOWED_UPDATES, build_application
from bot.telegram.webhook import SECRET_HEADER, WebhookConfig, serve_webhook
from dialogs.stores import MemoryStore
from dialogs.stores.redis import RedisStore

SECRET = "health-test-secret"


@pytest.fixture
async def served(
    fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[str, Any]]:
    """The bot behind our webhook server on a free port: (base URL, application)."""
    for key, value in bot_env(fake).items():
        monkeypatch.setenv(key, value)
    app = build_application(load_settings(env_file=None))
    port = free_port()
    config = WebhookConfig(
        listen="127.0.0.1",
        port=port,
        url_path="telegram",
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        secret_token=SECRET,
        allowed_updates=list(ALLOWED_UPDATES),
    )
    stop = asyncio.Event()
    server = asyncio.ensure_future(
        serve_webhook(app, config, operations_of(app).healthz(), stop=stop)
    )
    (hook,) = await fake.wait_calls("setWebhook", timeout=60)
    assert hook["url"] == config.webhook_url and hook["secret_token"] == SECRET
    yield f"http://127.0.0.1:{port}", app
    stop.set()
    await asyncio.wait_for(server, 60)
    assert not app.running


async def test_healthz_reports_the_store_and_the_knowledge_version(
    served: tuple[str, Any],
) -> None:
    base, app = served
    async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body == {"ok": True, "store": True, "kb_version": operations_of(app).reloader.version}


async def test_an_update_is_acknowledged_once_its_reply_is_sent(
    served: tuple[str, Any], fake: FakeBotAPI
) -> None:
    base, _ = served
    update = {"update_id": 10, "message": fake.message_dict(42, text="/help")}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/telegram", json=update) as resp:
            assert resp.status == 403  # no secret header
        wrong = {SECRET_HEADER: "guess"}
        async with http.post(f"{base}/telegram", json=update, headers=wrong) as resp:
            assert resp.status == 403
        right = {SECRET_HEADER: SECRET}
        async with http.post(f"{base}/telegram", data=b"{not json", headers=right) as resp:
            assert resp.status == 400
        async with http.post(f"{base}/telegram", json=update, headers=right) as resp:
            assert resp.status == 200
            assert len(fake.messages(42)) == 1  # answered before the 200, not after
        async with http.post(f"{base}/telegram", json=update, headers=right) as resp:
            assert resp.status == 200  # Telegram retrying: acknowledged, not answered twice
        async with http.get(f"{base}/telegram") as resp:
            assert resp.status == 405
    assert len(fake.messages(42)) == 1


async def test_an_unreachable_store_makes_the_instance_unhealthy() -> None:
    store = RedisStore.from_url(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
    try:
        found = await check_health(store, lambda: "v1")
    finally:
        await store.close()
    assert not found.ok and found.as_json() == {"ok": False, "store": False, "kb_version": "v1"}
    healthy = await check_health(MemoryStore(), lambda: "v1")
    assert healthy.ok and healthy.as_json()["store"] is True


async def test_a_hung_store_fails_the_check_in_bounded_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Redis that accepts connections but never answers must not hang the check."""
    monkeypatch.setattr(health, "PING_TIMEOUT", 0.2)
    held: list[asyncio.StreamWriter] = []

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = RedisStore.from_url(f"redis://127.0.0.1:{port}/0")
    try:
        found = await check_health(store, lambda: "v1")
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
        await store.close()
    assert found.as_json() == {"ok": False, "store": False, "kb_version": "v1"}
