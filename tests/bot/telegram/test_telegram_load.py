"""Many chats at once through the real bot: zero lost, zero duplicated, in order per chat.

With the flood limiter lifted (YIBAO_RATE_LIMIT=off), 500 chats × 10 turns are queued at
once — the hardest case for ordering, since every chat has ten updates waiting. With the
default limiter, a burst of 300 replies to 100 chats must be paced at Telegram's ≈30
messages per second overall, none lost.
"""

from __future__ import annotations

import pytest
from fake_bot_api import FakeBotAPI
from telegram_harness import running_bot
from telegram_load import expected_replies, flatten, script

FLOOD_LIMIT = 30  # messages per second overall (PTB's AIORateLimiter default)


async def _burst(fake: FakeBotAPI, chats: list[int], turns: int) -> dict[int, list[str]]:
    expected = {c: flatten(t) for c, t in (await expected_replies(chats, turns)).items()}
    for turn in range(turns):
        for chat in chats:
            fake.user_text(chat, script(chat, turns)[turn])
    for chat in chats:
        await fake.wait_messages(chat, len(expected[chat]), timeout=120)
    return expected


@pytest.mark.slow
async def test_500_chats_10_turns_nothing_lost_duplicated_or_reordered(
    fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    chats = list(range(1000, 1500))
    async with running_bot(fake, monkeypatch, YIBAO_RATE_LIMIT="off"):
        expected = await _burst(fake, chats, 10)
        # A last turn per chat: once its answer is in, nothing older can still arrive.
        for chat in chats:
            fake.user_text(chat, "/help")
        for chat in chats:
            await fake.wait_messages(chat, len(expected[chat]) + 1, timeout=120)
    for chat in chats:
        assert [m.html for m in fake.messages(chat)[:-1]] == expected[chat], chat
    assert len(fake.sent) == sum(len(e) + 1 for e in expected.values())


@pytest.mark.slow
async def test_default_limiter_paces_a_burst_at_30_per_second(
    fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    chats = list(range(2000, 2100))
    turns = ["/help", "/about", "/help"]  # one message each: 300 replies
    async with running_bot(fake, monkeypatch):
        for text in turns:
            for chat in chats:
                fake.user_text(chat, text)
        for chat in chats:
            await fake.wait_messages(chat, len(turns), timeout=120)
    times = sorted(m.at for m in fake.sent)
    assert len(times) == 300  # none lost, none doubled
    for chat in chats:
        assert [m.text.split("\n")[0] for m in fake.messages(chat)][1] != (
            fake.messages(chat)[0].text.split("\n")[0]
        )  # /about between two /help: in order
    # A leaky bucket of 30/s lets at most 30 through at once, then 30 per second after;
    # timestamps are taken when the fake handles each request, after the event loop got to
    # it, so a window may also catch up to a second's worth released just before it.
    span = times[-1] - times[0]
    assert span >= (len(times) - FLOOD_LIMIT) / FLOOD_LIMIT * 0.95
    window = 5.0
    for i, start in enumerate(times):
        in_window = sum(1 for t in times[i:] if t - start < window)
        assert in_window <= FLOOD_LIMIT * (window + 2)
