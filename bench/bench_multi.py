"""Scale-out: one vs two `yibao run --webhook` instances sharing one redis-server.

Setup (all on this machine): a private redis-server, the fake Bot API and the driver in
this process (tests/support/multi_instance.py), and N real bot processes in webhook mode with
YIBAO_STORE=redis://… and the flood limiter lifted. The driver plays Telegram's webhook
delivery: 200 chats at once, each sending its next update only after the previous one was
acknowledged (our server acknowledges once the reply is sent and the state saved), turn k
of chat c going to instance (c + k) mod N — so with two instances every turn follows state
the other process saved. Every run is checked against a sequential reference engine: zero
lost, duplicated, reordered or wrong replies, or the run is reported as failed.

Two loads per instance count: 200 chats × 10 turns at once (capacity: the turn latency is
mostly queueing, by Little's law about chats / turns per second) and 2 chats × 50 turns
(below capacity: the turn's own latency). Figures: replies/s (messages the fake received / wall
time of the drive) and the latency of a turn (update posted → acknowledged, i.e. after its
replies reached the fake), p50 and p99; CPU seconds of the bot processes, of redis-server
and of this process (fake + driver) show which one saturates. On a 2-core machine the
driver, Redis and the bots share the cores, so the two-instance figure says more about
correctness under contention than about capacity; in a deployment each instance has its
own cores.

Usage: `python -m bench multi` (or `make bench ARGS=multi`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.stats import percentile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(
    0, str(ROOT / "tests" / "support")
)  # the fake Bot API and the driver live with the tests

from fake_bot_api import FakeBotAPI  # noqa: E402
from multi_instance import (  # noqa: E402
    TOKEN,
    drive,
    expected_replies,
    mismatches,
    start_instances,
    stop_instances,
)
from redis_fixture import _start as start_redis  # noqa: E402

CHATS = 200  # at once: the instances' capacity (replies/s); latency is mostly queueing
TURNS = 10
LIGHT_CHATS = 2  # at once, below capacity: the latency is the turn's own
LIGHT_TURNS = 50
WARMUP_CHATS = 20


@dataclass
class Run:
    instances: int
    chats: int
    replies: int
    turns: int
    wall: float
    p50_ms: float
    p99_ms: float
    bot_cpu: float
    redis_cpu: float
    driver_cpu: float
    ok: bool


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def flush(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"FLUSHALL\r\n")
        assert s.recv(16).startswith(b"+OK")


async def measure(
    count: int, chats_at_once: int, turns: int, redis_port: int, redis_pid: int
) -> Run:
    flush(redis_port)
    fake = FakeBotAPI(TOKEN)
    await fake.start()
    chats = list(range(100_000, 100_000 + chats_at_once))
    warm = list(range(900_000, 900_000 + WARMUP_CHATS))
    expected = await expected_replies(chats, turns)
    instances = await start_instances(fake, f"redis://127.0.0.1:{redis_port}/0", count)
    try:
        await drive(fake, instances, await expected_replies(warm, 2), first_update=1)
        sent_before = len(fake.sent)
        bots = [cpu_seconds(i.proc.pid) for i in instances]
        redis_before = cpu_seconds(redis_pid)
        driver_before = sum(os.times()[:2])
        result = await drive(fake, instances, expected, first_update=10_000)
        bot_cpu = sum(cpu_seconds(i.proc.pid) for i in instances) - sum(bots)
        redis_cpu = cpu_seconds(redis_pid) - redis_before
        driver_cpu = sum(os.times()[:2]) - driver_before
        replies = len(fake.sent) - sent_before
        ok = not result.failures and not mismatches(fake, expected)
    finally:
        await stop_instances(instances)
        await fake.stop()
    ms = [s * 1000 for s in result.latencies]
    return Run(
        count,
        chats_at_once,
        replies,
        len(ms),
        result.wall,
        percentile(ms, 50),
        percentile(ms, 99),
        bot_cpu,
        redis_cpu,
        driver_cpu,
        ok,
    )


async def run_all() -> list[Run]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("bench multi needs redis-server (apt-get install redis-server)")
    workdir = Path(tempfile.mkdtemp(prefix="yibao-bench-redis-"))
    proc, port = start_redis(binary, workdir)
    try:
        return [
            await measure(count, chats, turns, port, proc.pid)
            for chats, turns in ((CHATS, TURNS), (LIGHT_CHATS, LIGHT_TURNS))
            for count in (1, 2)
        ]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    os.environ.setdefault("YIBAO_CACHE_DIR", str(ROOT / ".cache"))
    print(
        "N chats at once, a turn acknowledged before the chat's next; "
        f"{os.cpu_count()} CPU(s) shared by driver+fake, redis-server and the bots"
    )
    header = "chats  instances  turns  replies  wall s  replies/s  turn p50 ms  turn p99 ms"
    print(header + "  CPU s bots/redis/driver  check")
    for run in asyncio.run(run_all()):
        print(
            f"{run.chats:>5}  {run.instances:>9}  {run.turns:>5}  {run.replies:>7}  "
            f"{run.wall:>6.2f}  "
            f"{run.replies / run.wall:>9.0f}  {run.p50_ms:>11.1f}  {run.p99_ms:>11.1f}  "
            f"{run.bot_cpu:>9.1f}/{run.redis_cpu:.1f}/{run.driver_cpu:.1f}        "
            f"{'ok' if run.ok else 'FAILED'}"
        )


if __name__ == "__main__":
    main()
