"""`within`: the passive reply's budget. It waits for a turn at most the budget and never
cancels it (a slow turn's reply goes out later), as `wait_for(shield(turn))` did."""

from __future__ import annotations

import asyncio

import pytest

from bot.wechat.server import within


async def test_a_turn_within_the_budget_is_done() -> None:
    turn = asyncio.ensure_future(asyncio.sleep(0.01, result="reply"))
    assert await within(turn, 5.0)
    assert turn.result() == "reply"


async def test_a_slow_turn_is_left_running() -> None:
    turn = asyncio.ensure_future(asyncio.sleep(0.2, result="late"))
    assert not await within(turn, 0.01)
    assert not turn.cancelled()
    assert await turn == "late"


async def test_no_budget_never_waits() -> None:
    turn = asyncio.ensure_future(asyncio.sleep(0, result="quick"))
    assert not await within(turn, 0)
    assert await turn == "quick"


async def test_a_failed_turn_is_done_and_raises_on_result() -> None:
    async def fail() -> None:
        raise TimeoutError("the store's own")

    turn = asyncio.ensure_future(fail())
    assert await within(turn, 5.0)
    with pytest.raises(TimeoutError):
        turn.result()


async def test_a_cancelled_wait_leaves_the_turn_running() -> None:
    turn = asyncio.ensure_future(asyncio.sleep(0.1, result="kept"))
    waiting = asyncio.ensure_future(within(turn, 5.0))
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await turn == "kept"
