"""The store's own thread (dialogs/stores/worker.py): calls run there, one at a time, in
the order handed over; results and exceptions reach the awaiting task; a call whose caller
gave up before it started is skipped; shutdown finishes what was handed over. Group
commits: the writes that arrive while the thread is busy are written together."""

from __future__ import annotations

import asyncio
import threading
from functools import partial

import pytest

from dialogs.stores.worker import GroupCommit, Worker


async def test_calls_run_in_order_on_one_thread_of_their_own() -> None:
    worker = Worker("test-worker")
    seen: list[tuple[int, str]] = []

    def call(n: int) -> int:
        seen.append((n, threading.current_thread().name))
        return n * n

    results = await asyncio.gather(*(worker.run(partial(call, n)) for n in range(50)))
    worker.shutdown()
    assert results == [n * n for n in range(50)]
    assert [n for n, _ in seen] == list(range(50))
    assert {name for _, name in seen} == {"test-worker"}
    assert threading.current_thread().name not in {name for _, name in seen}


async def test_an_exception_reaches_the_caller_and_the_worker_goes_on() -> None:
    worker = Worker("test-worker")

    def fail() -> int:
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        await worker.run(fail)
    assert await worker.run(lambda: 7) == 7
    worker.shutdown()


async def test_a_call_given_up_before_it_started_is_skipped() -> None:
    worker = Worker("test-worker")
    release = threading.Event()
    ran: list[str] = []
    blocker = worker.run(release.wait)  # holds the thread until released
    abandoned = worker.run(lambda: ran.append("abandoned"))
    abandoned.cancel()
    kept = worker.run(lambda: ran.append("kept"))
    release.set()
    await blocker
    await kept
    worker.shutdown()
    assert ran == ["kept"]


async def test_shutdown_finishes_what_was_handed_over_then_refuses() -> None:
    worker = Worker("test-worker")
    done: list[int] = []
    pending = [worker.run(partial(done.append, n)) for n in range(5)]
    worker.shutdown()  # waits for the thread, which ran all five first
    assert done == [0, 1, 2, 3, 4]
    await asyncio.gather(*pending)
    with pytest.raises(RuntimeError, match="shut down"):
        worker.run(lambda: None)


async def test_writes_arriving_while_the_thread_is_busy_go_together() -> None:
    worker = Worker("test-worker")
    group: GroupCommit[str, list[str]] = GroupCommit()
    written: list[list[str]] = []

    def write(batch: list[str]) -> list[str]:
        group.close(batch)  # on the thread: later writes open the next group
        written.append(list(batch))
        return list(batch)

    def start(batch: list[str]) -> asyncio.Future[list[str]]:
        return worker.run(partial(write, batch))

    release = threading.Event()
    busy = worker.run(release.wait)
    joined = [group.join("a", start), group.join("b", start)]
    await asyncio.sleep(0)  # handed over: the thread is still busy with the first call
    joined.append(group.join("c", start))
    release.set()
    await busy
    results = await asyncio.gather(*(done for done, _ in joined))
    assert [index for _, index in joined] == [0, 1, 2]
    assert results == [["a", "b", "c"]] * 3 and written == [["a", "b", "c"]]
    later, index = group.join("d", start)
    assert (await later, index) == (["d"], 0)
    worker.shutdown()


async def test_a_group_that_never_reached_the_thread_takes_no_more_writes() -> None:
    group: GroupCommit[str, list[str]] = GroupCommit()
    loop = asyncio.get_running_loop()
    gone, _ = group.join("a", lambda batch: loop.create_future())
    gone.cancel()  # as when the loop shuts down before the group is written
    fresh = loop.create_future()
    again, index = group.join("b", lambda batch: fresh)
    assert again is fresh and index == 0
