"""WeChat edge under load: replies/s and request-to-reply latency, one `yibao wechat`.

Setup: the fake WeChat (tests/support/fake_wechat.py) and the load driver
(tests/support/wechat_load.py) run in this process; the server is the real
`yibao wechat` subprocess on a SQLite file.
500 users each send the same ten messages (a menu, the Tianjin flow by numbers, 积分 …),
each waiting for its reply before the next; every reply is compared with what a
reference engine says, so each run is also checked: zero lost, zero wrong.

- burst: all users at once (64 requests in flight) → replies/s, and the server's CPU per
  reply (its capacity on one core is the inverse: the server is one asyncio thread, plus
  the SQLite store's thread);
- paced: every user sends a message every 1.67 s → about 300 messages/s offered →
  latency p50/p99 (the passive reply has 5 s).
Runs plain and safe mode (AES envelope both ways). The machine is shared: the load average
is printed first, and the server's CPU seconds after each run.

Usage: `python -m bench wechat` (or `make bench ARGS=wechat`).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

from bench.stats import percentile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from wechat_harness import WeChatProcess, start_wechat, stop_wechat  # noqa: E402
from wechat_load import SCRIPT, LoadResult, drive, expected_replies  # noqa: E402

USERS = 500
PERIOD = 500 / 300  # seconds between two messages of one user: ~300 messages/s offered


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(name: str, result: LoadResult, cpu: float) -> None:
    lat = sorted(result.latencies_ms)
    rate = result.replies / result.seconds if result.seconds else 0.0
    print(
        f"  {name:<18} {result.sent} sent, {result.replies} replies, lost {result.lost}, "
        f"wrong {result.wrong} | {rate:7.0f} replies/s | p50 {percentile(lat, 50):6.1f} ms"
        f"  p99 {percentile(lat, 99):6.1f} ms | server CPU {cpu:5.1f} s"
        f" ({cpu / max(result.replies, 1) * 1000:.2f} ms a reply)",
        flush=True,
    )


async def run() -> None:
    print(f"  load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"  {USERS} users × {len(SCRIPT)} messages per run", flush=True)
    expected = await expected_replies(USERS)
    for encrypt in (False, True):
        mode = "safe" if encrypt else "plain"
        for name, period, conc in (("burst", None, 64), ("paced ~300/s", PERIOD, 500)):
            # A fresh server and state file per run: each user starts the script afresh.
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                server: WeChatProcess = await start_wechat(work, f"sqlite:///{work / 's.db'}")
                try:
                    before = cpu_seconds(server.proc.pid)
                    result = await drive(server.url, USERS, expected, conc, period, encrypt)
                    report(f"{mode} {name}", result, cpu_seconds(server.proc.pid) - before)
                finally:
                    await stop_wechat(server)


def main() -> None:
    asyncio.run(run())
