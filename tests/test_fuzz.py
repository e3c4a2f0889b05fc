"""Property tests: whatever a parent types or a client forges, the engine answers sanely.

`make fuzz` sets YIBAO_FUZZ_EXAMPLES=10000 for a long campaign; the normal suite runs a
short one. Properties: no exception, every reply non-empty, the session still loads.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs.engine import Engine
from dialogs.types import Incoming, Reply
from knowledge.matcher import MatchContext, Matcher

EXAMPLES = int(os.environ.get("YIBAO_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

LOOKALIKES = st.sampled_from(
    [
        "<b>天津</b>",
        "&amp; 积分 &lt;",
        "</code><script>alert(1)</script>",
        "**苏州** _积分_ `code` [链接](http://x)",
        "\u202e积分入医\u202c",
        "\u200b\u200d\ufeff",
        "𠮷𠮷😀👶🏻",
        "天津 newborn insurance 多少钱？",
        "積分入醫要帶什麼材料",
        "ＡＢＣ１２３　天津",
        "\x00\x1b[31m红\x7f",
        "/start suzhou",
        "/start ../../etc/passwd",
        "/forget",
        "返回",
    ]
)
TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    LOOKALIKES,
    st.builds(lambda a, b: a + b, LOOKALIKES, st.text(max_size=40)),
    st.text(alphabet="天津苏州积分入医新生儿宝宝孩子材料居住证外地户口多少钱吗？ ", max_size=60),
)
CALLBACK = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        ["e:", "m:", "f:", "s:", "c:", "k:cont", "k:stop", "x:forget:yes", "x:back"]
    ).flatmap(lambda p: st.builds(lambda s: p + s, st.text(max_size=30))),
)
ACTION = st.one_of(
    st.builds(lambda t: Incoming(text=t), TEXT),
    st.builds(lambda c: Incoming(callback=c), CALLBACK),
)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    new = asyncio.new_event_loop()
    yield new
    new.close()


def _check(replies: list[Reply]) -> None:
    assert replies, "every turn gets at least one reply"
    for reply in replies:
        assert reply.plain().strip(), "no empty reply"
        for row in reply.buttons:
            for button in row:
                assert button.text.strip()
                assert len(button.callback.encode("utf-8")) <= 64


@FUZZ
@given(actions=st.lists(ACTION, min_size=1, max_size=6))
def test_engine_survives_any_sequence(
    engine: Engine, loop: asyncio.AbstractEventLoop, actions: list[Incoming]
) -> None:
    for action in actions:
        replies = loop.run_until_complete(engine.handle(42, action))
        _check(replies)
        session = loop.run_until_complete(engine.store.load(42))
        assert session is not None or action.callback == "x:forget:yes"


@FUZZ
@given(text=TEXT)
def test_matcher_never_raises(matcher: Matcher, text: str) -> None:
    match = matcher.match(text, MatchContext())
    assert match.kind in ("answer", "clarify_city", "out_of_scope", "unknown")
    if match.kind == "answer":
        assert match.entry_id in matcher.kb.entries


def test_hundred_kilobyte_message(engine: Engine, loop: asyncio.AbstractEventLoop) -> None:
    replies = loop.run_until_complete(engine.handle(43, Incoming(text="积分入医" * 25_000)))
    _check(replies)
    assert engine.kb.text("too_long", limit=2000) in "\n".join(r.plain() for r in replies)
