"""`yibao run --webhook`: our own webhook server (aiohttp), serving `/healthz` beside it.

PTB documents this pattern ("custom webhook bot" examples): run the `Application` without
its `Updater` and feed it updates from your own web server. We need it for two reasons:

* the load balancer probes `/healthz` on the same port as the webhook, and PTB's tornado
  server has no place for extra routes;
* an update is answered `200` only once it has been handled (reply sent, state saved), not
  when it was queued. Telegram sends the next update of a chat only after the previous
  one was acknowledged, so with several instances behind a balancer update N+1 of a chat
  cannot overtake update N at another instance; and an instance that dies mid-update
  leaves it unacknowledged, so Telegram delivers it again (to another instance), where the
  engine's `update_id` check makes sure it is answered once.

Each update goes through the application's own update processor (per-chat order, bounded
concurrency) and `Application.process_update` (handlers, error handler), exactly like
updates from PTB's own queue. Start-up and shutdown follow `Application.run_webhook`:
initialize, post_init, start, serve, then on SIGINT/SIGTERM/SIGABRT stop serving (in-flight
requests finish), stop, post_stop, shutdown, post_shutdown.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application, ExtBot

from bot.ops.health import HEALTH_PATH
from bot.telegram.request import REQUESTS_KEY, close_requests

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_CONNECTIONS = 40  # Telegram's default: concurrent webhook requests it may open
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGABRT)

AnyApp = Application[Any, Any, Any, Any, Any, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def webhook_app(app: AnyApp, path: str, secret_token: str, healthz: Handler) -> web.Application:
    """The aiohttp application: POST `path` (Telegram's updates) and GET `/healthz`."""

    async def on_update(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secrets.compare_digest(given.encode(), secret_token.encode()):
            return web.Response(status=403)
        try:
            data: Any = json.loads(await request.read())
            update = Update.de_json(data, app.bot)
        except Exception as exc:  # anything Telegram would never send
            log.warning("webhook: undecodable update refused (%s)", type(exc).__name__)
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        if isinstance(app.bot, ExtBot):
            app.bot.insert_callback_data(update)
        await app.update_processor.process_update(update, app.process_update(update))
        return web.Response()

    web_app = web.Application(client_max_size=1 << 20)
    web_app.router.add_post(path, on_update)
    web_app.router.add_get(HEALTH_PATH, healthz)
    return web_app


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """Where to listen, what to register with Telegram, and the secret it must send back."""

    listen: str
    port: int
    url_path: str
    webhook_url: str
    secret_token: str
    allowed_updates: Sequence[str]


def run_webhook(app: AnyApp, config: WebhookConfig, healthz: Handler) -> None:
    """Serve until a stop signal; the blocking counterpart of `Application.run_webhook`."""
    asyncio.run(serve_webhook(app, config, healthz))


async def serve_webhook(
    app: AnyApp, config: WebhookConfig, healthz: Handler, stop: asyncio.Event | None = None
) -> None:
    """Run the bot behind our webhook server until `stop` is set (or a stop signal)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    runner: web.AppRunner | None = None
    try:
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        runner = web.AppRunner(
            webhook_app(app, "/" + config.url_path.strip("/"), config.secret_token, healthz),
            access_log=None,
            handle_signals=False,
        )
        await runner.setup()
        await web.TCPSite(runner, config.listen, config.port).start()
        await app.bot.set_webhook(
            url=config.webhook_url,
            secret_token=config.secret_token,
            allowed_updates=list(config.allowed_updates),
            max_connections=MAX_CONNECTIONS,
        )
        log.info("webhook server listening on %s:%d", config.listen, config.port)
        await stop.wait()
        log.info("stop requested: finishing the updates in progress")
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
        if runner is not None:
            await runner.cleanup()  # stops listening, lets in-flight requests finish
        if app.running:
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
        await close_requests(app.bot_data.get(REQUESTS_KEY, ()))
