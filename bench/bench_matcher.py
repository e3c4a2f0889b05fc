"""Matcher alone: construction cost and `match()` latency, uncached and repeated.

The turn budget is p99 <= 2 ms for a whole engine turn, so `match()` has to stay well
under a millisecond even for a question it has never seen (its token cache empty).
"""

from __future__ import annotations

import gc
import tempfile
import time
from pathlib import Path

from bench.stats import summary_ms
from bot.cli.evaluate import load_cases
from knowledge import segment
from knowledge.loader import load_kb
from knowledge.matcher import MatchContext, Matcher

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "tests" / "conversations").glob("*.yaml")) + sorted(
    (ROOT.parent / "shared" / "eval").glob("*.yaml")
)
ROUNDS = 5


def _texts(matcher: Matcher) -> list[str]:
    kb = matcher.kb
    texts = [q for e in kb.entries.values() for q in e.questions]
    texts += [q for o in kb.out_of_scope.values() for q in o.questions]
    texts += [turn for path in FILES for case in load_cases(path) for turn in case.turns]
    texts.append("天津新生儿医保要交多少钱" + "啊" * 300)  # what the engine passes at most
    return texts


def main() -> None:
    kb = load_kb()
    start = time.perf_counter()
    matcher = Matcher(kb)  # first in process: jieba, lexicon, index (cached on disk)
    first = time.perf_counter() - start
    start = time.perf_counter()
    Matcher(kb)
    again = time.perf_counter() - start
    previous = segment.cache_dir()
    with tempfile.TemporaryDirectory() as empty:
        segment.use_cache_dir(Path(empty))
        start = time.perf_counter()
        Matcher(kb)
        uncached = time.perf_counter() - start
    segment.use_cache_dir(previous)
    print(
        f"Matcher(kb): first in process {first * 1000:.0f} ms (includes jieba), "
        f"again {again * 1000:.1f} ms, with an empty index cache {uncached * 1000:.0f} ms"
    )

    texts = _texts(matcher)
    gc.freeze()  # as bot.wiring.build_engine does after start-up
    contexts = [MatchContext(), MatchContext(city="tianjin", entry="tj.overview")]
    matcher.normalizer.tokens.cache_clear()
    cold: list[float] = []
    cold_cpu: list[float] = []
    for text in texts:  # each text seen for the first time: full normalisation
        t0, c0 = time.perf_counter(), time.thread_time()
        matcher.match(text, contexts[0])
        cold_cpu.append(time.thread_time() - c0)
        cold.append(time.perf_counter() - t0)
    warm: list[float] = []
    warm_cpu: list[float] = []
    for round_ in range(ROUNDS):
        ctx = contexts[round_ % 2]
        for text in texts:
            t0, c0 = time.perf_counter(), time.thread_time()
            matcher.match(text, ctx)
            warm_cpu.append(time.thread_time() - c0)
            warm.append(time.perf_counter() - t0)
    # Wall time includes being preempted on a busy machine; thread CPU time does not.
    print(f"match(), unseen text, wall:   {summary_ms(cold)}")
    print(f"match(), unseen text, CPU:    {summary_ms(cold_cpu)}")
    print(f"match(), repeated text, wall: {summary_ms(warm)}")
    print(f"match(), repeated text, CPU:  {summary_ms(warm_cpu)}")


if __name__ == "__main__":
    main()
