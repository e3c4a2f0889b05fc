"""Running the bot for real: admin commands, hot reload (SIGHUP too), reload propagation
between instances, scheduled retention purge and the health check — wired in one call.

`install_operations` is called once by `bot.telegram.app.build_application`; what it adds:

1. `/reload` and `/stats` for admins (`bot.telegram.admin`), in a handler group before the chats;
2. a JobQueue job purging expired sessions and records every hour, and a background task
   rebuilding the SQLite file soon after `/forget` erasures (`bot.ops.maintenance.Compactor`);
3. with a Redis store, a JobQueue job every `SYNC_EVERY` seconds that reloads this
   instance when another one announced a reload (`bot.ops.reloader.ReloadBroadcast`);
4. SIGHUP: reload (and announce), telling the admins if the files were refused;
5. `healthz`, the `/healthz` handler the webhook server mounts (`bot.ops.health`).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.ops.health import health_handler
from bot.ops.maintenance import PURGE_EVERY, PURGE_FIRST, Compactor, purge_expired
from bot.ops.reloader import ReloadBroadcast, Reloader, follow, reload_everywhere
from bot.telegram.admin import ADMIN_GROUP, AdminCommands, reload_message
from dialogs.engine import Engine
from dialogs.stores.redis import RedisStore

log = logging.getLogger(__name__)

SYNC_EVERY = 2.0  # seconds between two checks of the reload generation (one Redis GET)
BOT_DATA_KEY = "operations"

AnyApp = Application[Any, Any, Any, Any, Any, Any]
Hook = Callable[[AnyApp], Coroutine[Any, Any, None]]


@dataclass
class Operations:
    """What the rest of the bot may need from the operational parts."""

    reloader: Reloader
    broadcast: ReloadBroadcast | None
    admin_ids: tuple[int, ...]
    compactor: Compactor
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def engine(self) -> Engine:
        return self.reloader.engine

    def healthz(self) -> Callable[[Any], Awaitable[Any]]:
        return health_handler(self.engine.store, lambda: self.reloader.version)

    # ------------------------------------------------------------------ jobs
    async def purge_job(self, _: ContextTypes.DEFAULT_TYPE) -> None:
        await purge_expired(self.engine.store)

    async def follow_job(self, _: ContextTypes.DEFAULT_TYPE) -> None:
        if self.broadcast is None:
            return
        try:
            await follow(self.reloader, self.broadcast)
        except (RedisError, OSError) as exc:
            log.warning("reload check skipped: Redis unavailable (%s)", type(exc).__name__)

    # ------------------------------------------------------------------ lifecycle
    async def started(self, app: AnyApp) -> None:
        self.compactor.start()
        if self.broadcast is not None:
            try:
                await self.broadcast.start()
            except (RedisError, OSError) as exc:
                log.warning("reload generation unknown at start (%s)", type(exc).__name__)
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._on_hup, app)

    async def stopping(self, _: AnyApp) -> None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        await self.idle()
        await self.compactor.stop()

    @property
    def reloading(self) -> bool:
        """A SIGHUP reload is in progress."""
        return bool(self._tasks)

    async def idle(self) -> None:
        """Return once the SIGHUP reloads in progress have finished."""
        for task in list(self._tasks):
            await task

    def _on_hup(self, app: AnyApp) -> None:
        log.info("SIGHUP: reloading the knowledge files")
        task = asyncio.get_running_loop().create_task(self._hup_reload(app))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _hup_reload(self, app: AnyApp) -> None:
        outcome = await reload_everywhere(self.reloader, self.broadcast)
        if outcome.ok:
            return
        text = html.escape(reload_message(self.engine.kb, outcome, None), quote=False)
        for admin in self.admin_ids:
            with contextlib.suppress(TelegramError):
                await app.bot.send_message(admin, text)


def install_operations(
    app: AnyApp,
    engine: Engine,
    admin_ids: tuple[int, ...],
    kb_dir: Path | None = None,
    lexicon_dir: Path | None = None,
) -> Operations:
    """Add the admin handlers, jobs and lifecycle hooks to `app`; see the module docstring."""
    store = getattr(engine.store, "inner", engine.store)  # behind a ResilientStore
    broadcast = (
        ReloadBroadcast(store.client, store.prefix) if isinstance(store, RedisStore) else None
    )
    compactor = Compactor(engine.store)
    engine.on_erased = compactor.poke
    ops = Operations(Reloader(engine, kb_dir, lexicon_dir), broadcast, admin_ids, compactor)
    admin = AdminCommands(ops.reloader, broadcast, SYNC_EVERY)
    app.add_handlers(admin.handlers(admin_ids), group=ADMIN_GROUP)
    jobs = app.job_queue
    if jobs is None:
        raise RuntimeError("python-telegram-bot[job-queue] is required")
    jobs.run_repeating(ops.purge_job, interval=PURGE_EVERY, first=PURGE_FIRST, name="purge")
    if broadcast is not None:
        jobs.run_repeating(ops.follow_job, interval=SYNC_EVERY, first=SYNC_EVERY, name="kb-sync")
    app.post_init = _chain(app.post_init, ops.started)
    app.post_shutdown = _chain(ops.stopping, app.post_shutdown)
    app.bot_data[BOT_DATA_KEY] = ops
    return ops


def operations_of(app: AnyApp) -> Operations:
    ops = app.bot_data[BOT_DATA_KEY]
    assert isinstance(ops, Operations)
    return ops


def _chain(first: Hook | None, then: Hook | None) -> Hook:
    async def both(app: AnyApp) -> None:
        if first is not None:
            await first(app)
        if then is not None:
            await then(app)

    return both
