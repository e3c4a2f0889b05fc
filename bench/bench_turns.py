"""In-process turn latency over every conversation set (FAQ and flows), memory store."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bench.stats import percentile, summary_ms
from bot.cli.evaluate import load_cases
from bot.wiring import build_engine
from dialogs.types import Incoming

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "tests" / "conversations").glob("*.yaml")) + sorted(
    (ROOT.parent / "shared" / "eval").glob("*.yaml")
)
ROUNDS = 5


async def _measure() -> tuple[list[float], list[float]]:
    engine = build_engine("memory://")
    cases = [case for path in FILES for case in load_cases(path)]
    # Warm-up: first turns pay for lazy initialisation, which the cold-start bench measures.
    await engine.handle(0, Incoming(text="天津新生儿医保要交多少钱"))
    faq: list[float] = []
    flow: list[float] = []
    chat = 1
    for _ in range(ROUNDS):
        for case in cases:
            chat += 1
            for turn in case.turns:
                start = time.perf_counter()
                await engine.handle(chat, Incoming(text=turn, today=case.today))
                elapsed = time.perf_counter() - start
                in_flow = (await engine.store.load(chat)) is not None and (
                    await engine.describe_state(chat)
                ) is not None
                (flow if in_flow else faq).append(elapsed)
    return faq, flow


def main() -> None:
    faq, flow = asyncio.run(_measure())
    print(f"conversation files: {len(FILES)}, rounds: {ROUNDS}")
    print(f"turns outside flows: {summary_ms(faq)}")
    if flow:
        print(f"turns inside flows:  {summary_ms(flow)}")
    both = faq + flow
    print(f"all turns:           {summary_ms(both)}")
    print(f"target: p99 <= 2 ms -> {'met' if percentile(both, 99) * 1000 <= 2 else 'NOT met'}")
