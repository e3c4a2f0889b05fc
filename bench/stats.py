"""Small helpers shared by the benchmarks."""

from __future__ import annotations

import statistics


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile; honest for the tail, no interpolation."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(samples_s: list[float]) -> str:
    ms = [s * 1000 for s in samples_s]
    return (
        f"n={len(ms)} median={statistics.median(ms):.3f} ms "
        f"p50={percentile(ms, 50):.3f} ms p99={percentile(ms, 99):.3f} ms max={max(ms):.3f} ms"
    )
