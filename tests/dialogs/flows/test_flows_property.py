"""Property test: any sequence of answers, button presses and navigation in either flow keeps
the session valid, never leaves a chat attached to a shared machine, and every offered button
fits Telegram's 64 bytes."""

from __future__ import annotations

import asyncio
import os
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs.engine import Engine
from dialogs.flows.machine import GuidedFlow
from dialogs.types import Incoming

EXAMPLES = int(os.environ.get("YIBAO_FUZZ_EXAMPLES", "60"))
WORDS = [
    "/tianjin", "/suzhou", "返回", "重新开始", "继续", "不用了", "是", "不是", "有", "没有",
    "不确定", "1", "2", "3", "4", "6", "9", "跳过", "下一步", "天津户籍", "外地户口", "农村",
    "2月10日", "2026-02-30", "10.1", "今天", "园区", "吴江", "小学", "高中", "公办", "参加过",
    "两个孩子", "三胎", "住了两年", "8个月", "天津新生儿医保交多少钱", "公示多久",
    "我有苏州居住证住了两年交社保，孩子在工业园区上公办小学，没参加过苏州医保，能申请吗",
    "孩子2026年2月10日在天津出生，医保最晚什么时候办",
]  # fmt: skip
ACTIONS = st.one_of(
    st.sampled_from(WORDS).map(lambda t: Incoming(text=t)),
    st.text(min_size=1, max_size=12).map(lambda t: Incoming(text=t)),
    st.sampled_from(["x:back", "x:restart", "k:cont", "k:stop", "f:tianjin", "f:suzhou"]).map(
        lambda c: Incoming(callback=c)
    ),
    st.integers(min_value=0, max_value=9).map(lambda i: Incoming(callback=f"#{i}")),
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    actions=st.lists(ACTIONS, min_size=1, max_size=14),
    day=st.integers(min_value=0, max_value=3 * 366),
)
def test_any_sequence_keeps_flows_sound(engine: Engine, actions: list[Incoming], day: int) -> None:
    today = date(2026, 1, 1) + timedelta(days=day)

    async def play() -> None:
        offered: list[str] = []
        for action in actions:
            if action.callback and action.callback.startswith("#"):
                if not offered:
                    continue
                action = Incoming(callback=offered[int(action.callback[1:]) % len(offered)])
            replies = await engine.handle(
                7, Incoming(text=action.text, callback=action.callback, today=today)
            )
            assert replies
            offered = [b.callback for r in replies for row in r.buttons for b in row]
            assert all(len(cb.encode()) <= 64 for cb in offered)
            session = await engine.store.load(7)
            assert session is not None
            if session.flow is not None:
                flow = engine.flows[session.flow]
                assert session.state in flow.states()
                assert all(
                    isinstance(v, str | int | bool) or v is None for v in session.slots.values()
                )
            for flow in engine.flows.values():
                assert isinstance(flow, GuidedFlow) and flow.machine.models == []
        await engine.store.delete(7)

    asyncio.run(play())
