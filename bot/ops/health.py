"""`GET /healthz` for the load balancer: is the store reachable, which knowledge is served.

200 `{"ok": true, "store": true, "kb_version": "…"}` when the instance can serve turns;
503 with `"ok": false` when its store is degraded (answering from this process's memory,
which another instance does not share) or does not take a write probe within `PING_TIMEOUT`, so the
balancer stops sending it updates until it recovers. `kb_version` lets an operator see at a
glance that every instance serves the same knowledge after a reload.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from dialogs.stores.base import SessionStore

log = logging.getLogger(__name__)

PING_TIMEOUT = 2.0  # seconds; a balancer's own check usually times out at 3-5 s
HEALTH_PATH = "/healthz"


@dataclass(frozen=True, slots=True)
class Health:
    store: bool
    kb_version: str

    @property
    def ok(self) -> bool:
        return self.store

    def as_json(self) -> dict[str, object]:
        return {"ok": self.ok, "store": self.store, "kb_version": self.kb_version}


async def check_health(store: SessionStore, kb_version: Callable[[], str]) -> Health:
    """Ping the store (bounded in time: a hung Redis must not hang the check)."""
    try:
        reachable = await asyncio.wait_for(store.ping(), PING_TIMEOUT)
    except (TimeoutError, OSError) as exc:
        log.warning("health: store ping failed (%s)", type(exc).__name__)
        reachable = False
    return Health(store=reachable, kb_version=kb_version())


def health_handler(
    store: SessionStore, kb_version: Callable[[], str]
) -> Callable[[web.BaseRequest], Awaitable[web.Response]]:
    """An aiohttp handler answering the health check as JSON (200 or 503); it reads nothing
    of the request, so it serves an Application (Telegram) and a low-level server (WeChat)."""

    async def healthz(_: web.BaseRequest) -> web.Response:
        health = await check_health(store, kb_version)
        return web.json_response(health.as_json(), status=200 if health.ok else 503)

    return healthz
