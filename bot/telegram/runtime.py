"""How updates are scheduled and requests retried: per-chat order, flood limits, retries.

`ChatOrderedProcessor` lets PTB run updates of different chats concurrently while the updates
of one chat run one after another, from engine turn to the last message sent, in the order
Telegram delivered them. The engine's store lock alone would keep sessions consistent but
could still send two replies of one chat out of order.

`RetryingRateLimiter` is PTB's `AIORateLimiter` (Telegram's flood limits, `RetryAfter`
retries) that also retries transient network failures such as a 502 from the Bot API.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.error import BadRequest, NetworkError, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, BaseUpdateProcessor

log = logging.getLogger(__name__)

JSON = bool | dict[str, Any] | list[dict[str, Any]]

# PTB's own semaphore must never make an update wait, or updates could overtake each other
# while waiting for it; the real bound is `ChatOrderedProcessor.limit`, taken after the
# per-chat lock.
UNBOUNDED = 1 << 30


class ChatOrderedProcessor(BaseUpdateProcessor):
    """At most `limit` updates in flight; updates of the same chat strictly in arrival order.

    PTB starts one task per update in arrival order and each task reaches
    `do_process_update` without yielding, so the FIFO `asyncio.Lock` of its chat is queued
    for in arrival order. Locks exist only while a chat has updates in flight.
    """

    def __init__(self, limit: int = 256) -> None:
        super().__init__(UNBOUNDED)
        self.limit = limit
        self._slots = asyncio.BoundedSemaphore(limit)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    @staticmethod
    def chat_key(update: object) -> int | None:
        if isinstance(update, Update) and update.effective_chat is not None:
            return update.effective_chat.id
        return None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = self.chat_key(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up: locks are made on demand."""

    async def shutdown(self) -> None:
        """Nothing to release: PTB waits for in-flight updates before calling this."""


class RetryingRateLimiter(AIORateLimiter):
    """`AIORateLimiter` plus a few retries, with backoff, for transient network errors.

    Retried: `NetworkError` itself (5xx such as 502, refused or reset connections) and a
    body that is not JSON (see `_garbled`). Not retried:
    `BadRequest` (our mistake; retrying cannot help) and `TimedOut` (the request may have
    reached Telegram, and sending a message twice is worse than once late).
    """

    def __init__(
        self,
        *,
        limited: bool = True,
        max_retries: int = 3,
        network_retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        if limited:
            super().__init__(max_retries=max_retries)
        else:
            super().__init__(overall_max_rate=0, group_max_rate=0, max_retries=max_retries)
        self.network_retries = network_retries
        self.backoff = backoff
        # Every 429 builds a RetryAfter, whose int `retry_after` PTB 22 deprecates with a
        # warning (an error under pytest's -W error: the 429 was then never retried). Opt in
        # to the timedelta PTB moves to; AIORateLimiter reads the timedelta either way.
        os.environ.setdefault("PTB_TIMEDELTA", "true")

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        attempt = 0
        while True:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except (BadRequest, TimedOut):
                raise
            except TelegramError as exc:
                if not isinstance(exc, NetworkError) and not _garbled(exc):
                    raise
                if attempt >= self.network_retries:
                    raise
                delay = self.backoff * (2**attempt)
                attempt += 1
                log.warning(
                    "%s failed (%s); retry %d/%d in %.1fs",
                    endpoint,
                    type(exc).__name__,
                    attempt,
                    self.network_retries,
                    delay,
                )
                await asyncio.sleep(delay)


def _garbled(exc: TelegramError) -> bool:
    """PTB's "Invalid server response": a body that is not JSON (a proxy's error page sent
    with status 200, a cut connection), so the request did not reach the Bot API."""
    return isinstance(exc.__cause__, ValueError)
