"""`yibao wechat [--listen H] [--port N] [--path P]` and `yibao wechat menu [--push]`.

The composition root of the WeChat edge: settings → logging (secrets redacted) → the
engine worded for WeChat, on the users' date (YIBAO_TIMEZONE) → the aiohttp server,
until SIGINT/SIGTERM. SIGHUP reloads the knowledge and lexicon files as `yibao run` does
(bot.ops.reloader: validated first, broken files refused and logged with file:line, the
old knowledge kept); with a Redis store the reload is announced and the other instances
(WeChat or Telegram) follow within `SYNC_EVERY` seconds, as this one follows theirs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Callable

from aiohttp import web
from redis.exceptions import RedisError

from bot.ops.health import health_handler
from bot.ops.logging_setup import configure_logging
from bot.ops.maintenance import Compactor, purge_expired
from bot.ops.reloader import ReloadBroadcast, Reloader, follow, reload_everywhere
from bot.settings import Settings, SettingsError, check_salt
from bot.wechat.customer_service import ApiError, WeChatApi
from bot.wechat.menu import menu_json
from bot.wechat.server import ServerConfig, WeChatServer
from bot.wechat.settings import WeChatSettings, wechat_settings
from bot.wiring import engine_for
from dialogs.engine import Engine
from dialogs.stores.redis import RedisStore
from knowledge.loader import load_kb

log = logging.getLogger(__name__)

CHANNEL = "wechat"
PURGE_EVERY = 3600.0  # seconds between two purges of idle sessions and old records
SYNC_EVERY = 2.0  # seconds between two checks of another instance's reload (Redis only)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    wx = sub.add_parser("wechat", help="serve a WeChat Official Account (公众号)")
    wx.add_argument("action", nargs="?", choices=("menu",), help="print the custom menu JSON")
    wx.add_argument("--push", action="store_true", help="with `menu`: set it through the API")
    wx.add_argument("--listen", default="127.0.0.1")
    wx.add_argument("--port", type=int, default=8081)
    wx.add_argument("--path", default="/wechat")


def run_wechat(args: argparse.Namespace, settings: Settings) -> int:
    """Exit codes: 0 after a clean stop, 2 for a settings problem (no WECHAT_TOKEN, a
    malformed key, no salt for a persistent store), 1 when `menu --push` fails."""
    try:
        wx = wechat_settings(settings)
        if args.action != "menu":
            check_salt(settings, settings.store_url())
    except SettingsError as exc:
        print(f"yibao wechat: {exc}", file=sys.stderr)
        return 2
    secrets = [wx.token, wx.aes_key or "", wx.app_secret or "", settings.hash_salt or ""]
    configure_logging(settings.yibao_log_level, settings.yibao_log_format, secrets=secrets)
    if args.action == "menu":
        return _menu(settings, wx, push=args.push)
    engine = engine_for(settings, settings.store_url(), channel=CHANNEL)
    config = ServerConfig(path=args.path, reply_within=wx.reply_budget)
    reloader = Reloader(engine, settings.kb_dir, settings.lexicon_dir)
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(serve(engine, wx, config, args.listen, args.port, reloader=reloader))
    return 0


def _menu(settings: Settings, wx: WeChatSettings, push: bool) -> int:
    menu = menu_json(load_kb(settings.kb_dir).for_channel(CHANNEL))
    print(json.dumps(menu, ensure_ascii=False, indent=2))
    if not push:
        return 0
    if not wx.app_id or not wx.app_secret:
        print("yibao wechat menu --push needs WECHAT_APP_ID and WECHAT_APP_SECRET", file=sys.stderr)
        return 2

    async def push_menu() -> None:
        from dialogs.stores import open_store

        store = open_store(settings.store_url(), settings.store_settings())
        api = WeChatApi(wx, store)
        try:
            await api.create_menu(menu)
        finally:
            await api.close()
            await store.close()

    try:
        asyncio.run(push_menu())
    except (ApiError, OSError) as exc:
        print(f"yibao wechat menu --push: {exc}", file=sys.stderr)
        return 1
    print("menu set", file=sys.stderr)
    return 0


async def serve(
    engine: Engine,
    wx: WeChatSettings,
    config: ServerConfig,
    listen: str,
    port: int,
    stop: asyncio.Event | None = None,
    reloader: Reloader | None = None,
) -> None:
    """Serve until `stop` is set or a stop signal arrives; then finish what is in flight."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    reloader = reloader or Reloader(engine)
    hot = HotReload(reloader, _broadcast(engine))
    loop.add_signal_handler(signal.SIGHUP, hot.on_hup)
    api = WeChatApi(wx, engine.store) if wx.app_id and wx.app_secret else None
    server = WeChatServer(engine, wx, config, api)
    healthz = health_handler(engine.store, lambda: reloader.version)
    runner = web.ServerRunner(server.http(healthz), handle_signals=False)
    purger = asyncio.ensure_future(_purge_hourly(engine))
    follower = asyncio.ensure_future(hot.follow_others())
    compactor = Compactor(engine.store)
    engine.on_erased = compactor.poke  # an unsubscribe's erasure: the file rebuilt soon after
    compactor.start()
    try:
        await runner.setup()
        await web.TCPSite(runner, listen, port).start()
        mode = "safe/compatible" if wx.aes_key else "plain"
        log.info("wechat server listening on %s:%d%s (%s mode)", listen, port, config.path, mode)
        await stop.wait()
        log.info("stop requested: finishing the messages in progress")
    finally:
        for sig in (*STOP_SIGNALS, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        for task in (purger, follower):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await hot.idle()
        await compactor.stop()
        await runner.cleanup()
        await server.drain()
        if api is not None:
            await api.close()
        await engine.store.close()


async def _purge_hourly(engine: Engine) -> None:
    while True:
        await asyncio.sleep(PURGE_EVERY)
        await purge_expired(engine.store)


def _broadcast(engine: Engine) -> ReloadBroadcast | None:
    store = getattr(engine.store, "inner", engine.store)  # behind a ResilientStore
    if isinstance(store, RedisStore):
        return ReloadBroadcast(store.client, store.prefix)
    return None


class HotReload:
    """SIGHUP → reload (and announce to the other instances); follow theirs with Redis."""

    def __init__(self, reloader: Reloader, broadcast: ReloadBroadcast | None) -> None:
        self.reloader = reloader
        self.broadcast = broadcast
        self._tasks: set[asyncio.Task[object]] = set()

    def on_hup(self) -> None:
        log.info("SIGHUP: reloading the knowledge files")
        task: asyncio.Task[object] = asyncio.ensure_future(
            reload_everywhere(self.reloader, self.broadcast)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Return once the reloads in progress have finished."""
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await task

    async def follow_others(self) -> None:
        if self.broadcast is None:
            return
        try:
            await self.broadcast.start()
        except (RedisError, OSError) as exc:
            log.warning("reload generation unknown at start (%s)", type(exc).__name__)
        while True:
            await asyncio.sleep(SYNC_EVERY)
            try:
                await follow(self.reloader, self.broadcast)
            except (RedisError, OSError) as exc:
                log.warning("reload check skipped: Redis unavailable (%s)", type(exc).__name__)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop (a dependency except on Windows): the HTTP handling and the
    store's thread hand-offs take about a fifth less CPU per message; else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
