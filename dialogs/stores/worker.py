"""One thread of its own for a blocking resource (the SQLite store's connection), fed from
asyncio: calls run there one at a time, in the order they were handed over.

What `loop.run_in_executor` on a one-thread `ThreadPoolExecutor` does, for a fraction of
its cost per call (a turn makes two): no `concurrent.futures.Future`, with its lock and
condition, chained to an asyncio future through callbacks on both sides, and no thread
woken per call. The calls made in one iteration of the event loop are handed over
together (one queue put, so one wake-up of the thread), and the thread settles the
futures of what it ran together (one `call_soon_threadsafe`): under load, many turns
share each wake-up on both sides. A call whose caller has given up (its future
cancelled) before the thread reached it is skipped, as the executor skips a cancelled
work item.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, Generic, TypeVar

T = TypeVar("T")
W = TypeVar("W")
R = TypeVar("R")

_Call = tuple[Callable[[], Any], "asyncio.Future[Any]"]
_Outcome = tuple["asyncio.Future[Any]", object, BaseException | None]


class Worker:
    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: SimpleQueue[tuple[list[_Call], asyncio.AbstractEventLoop] | None]
        self._queue = SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pending: list[_Call] = []  # made in this iteration of the loop, not yet handed over
        self._loop: asyncio.AbstractEventLoop | None = None
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
        if self._pending and loop is not self._loop:
            self._hand_over()  # another loop's calls (a store reused by a new loop)
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((fn, future))
        if len(self._pending) == 1:
            self._loop = loop
            loop.call_soon(self._hand_over)
        return future

    def shutdown(self) -> None:
        """Finish the calls made so far, then stop the thread (waits for it)."""
        self._closed = True
        if self._thread is not None:
            self._hand_over()
            self._queue.put(None)
            self._thread.join()

    def _hand_over(self) -> None:
        if self._pending and self._loop is not None:
            calls, self._pending = self._pending, []
            self._queue.put((calls, self._loop))

    def _serve(self) -> None:
        while (batch := self._queue.get()) is not None:
            calls, loop = batch
            outcomes: list[_Outcome] = []
            for fn, future in calls:
                if future.cancelled():
                    continue
                try:
                    outcomes.append((future, fn(), None))
                except BaseException as exc:  # handed to the caller, who raises it
                    outcomes.append((future, None, exc))
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting
                loop.call_soon_threadsafe(_settle, outcomes)


def _settle(outcomes: list[_Outcome]) -> None:
    for future, result, exc in outcomes:
        if future.cancelled():
            continue
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)


class GroupCommit(Generic[W, R]):
    """Writes waiting for the worker's thread, done there together (SQLite: in one
    transaction, so one thread hand-off and one WAL commit carry many turns under load, and
    the pages they share, such as the last page of a table or of a time index, are written
    once). A write joins the open group; the group's task, started by its first write,
    closes the group when the thread reaches it, and writes arriving after that open the
    next one. No write waits for a timer: a group is what arrived while the thread was
    busy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the loop joins, the thread closes
        self._open: list[W] | None = None
        self._done: asyncio.Future[R] | None = None

    def join(
        self, write: W, start: Callable[[list[W]], asyncio.Future[R]]
    ) -> tuple[asyncio.Future[R], int]:
        """The future of the group `write` joined (`start` begins a new one), and its place."""
        with self._lock:
            # A group that ended without reaching the thread (cancelled, store closed)
            # takes no more writes either.
            if self._open is None or self._done is None or self._done.done():
                self._open = []
                self._done = start(self._open)
            self._open.append(write)
            return self._done, len(self._open) - 1

    def close(self, group: list[W]) -> None:
        """On the thread, before writing `group`: later writes go to a new group."""
        with self._lock:
            if self._open is group:
                self._open = None
