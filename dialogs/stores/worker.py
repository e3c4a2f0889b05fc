"""One thread of its own for a blocking resource (the SQLite store's connection), fed from
asyncio: calls run there one at a time, in the order they were handed over.

What `loop.run_in_executor` on a one-thread `ThreadPoolExecutor` does, for a fifth of its
cost per call (a turn makes two): no `concurrent.futures.Future`, with its lock and
condition, chained to an asyncio future through callbacks on both sides. The caller's
asyncio future is settled from the thread by one `call_soon_threadsafe`. A call whose
caller has given up (its future cancelled) before the thread reached it is skipped, as
the executor skips a cancelled work item.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")

_Call = tuple[Callable[[], Any], "asyncio.Future[Any]", asyncio.AbstractEventLoop]


class Worker:
    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: SimpleQueue[_Call | None] = SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False

    def run(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        """`fn()` on the worker's thread; the future gets its result or its exception."""
        if self._closed:
            raise RuntimeError(f"{self.name} is shut down")
        if self._thread is None:
            # A daemon: a store never closed must not keep the interpreter from exiting.
            self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
            self._thread.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((fn, future, loop))
        return future

    def shutdown(self) -> None:
        """Finish the calls handed over so far, then stop the thread (waits for it)."""
        self._closed = True
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()

    def _serve(self) -> None:
        while (call := self._queue.get()) is not None:
            fn, future, loop = call
            if future.cancelled():
                continue
            try:
                result = fn()
            except BaseException as exc:  # handed to the caller, who raises it
                _settle(loop, future, None, exc)
            else:
                _settle(loop, future, result, None)


def _settle(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: object,
    exc: BaseException | None,
) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
        loop.call_soon_threadsafe(_set, future, result, exc)


def _set(future: asyncio.Future[Any], result: object, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
