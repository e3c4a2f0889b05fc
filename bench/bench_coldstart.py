"""Cold start of `yibao ask` beside jieba's own initialise, in the same run (ratio)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

RUNS = 7
ASK = [sys.executable, "-m", "bot.cli", "ask", "天津新生儿医保要交多少钱"]
JIEBA = [sys.executable, "-c", "import jieba; jieba.initialize()"]


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        cmd, check=True, capture_output=True, env={**os.environ, "YIBAO_STORE": "memory://"}
    )
    return time.perf_counter() - start


def main() -> None:
    _time(ASK)  # populate caches (jieba's and ours) so both sides start warm-cached
    _time(JIEBA)
    ask: list[float] = []
    jieba: list[float] = []
    for _ in range(RUNS):  # interleaved so machine noise hits both alike
        ask.append(_time(ASK))
        jieba.append(_time(JIEBA))
    a, j = statistics.median(ask), statistics.median(jieba)
    print(f"yibao ask cold start: median {a * 1000:.0f} ms over {RUNS} runs")
    print(f"jieba.initialize():   median {j * 1000:.0f} ms over {RUNS} runs")
    print(f"ratio ask/jieba: {a / j:.2f} (target <= 1.3)")
