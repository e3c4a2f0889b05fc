"""Telegram edge under load: replies/s and update-to-reply latency at 500 concurrent chats.

Setup: the fake Bot API (tests/support/fake_bot_api.py) and the load driver run in this process;
the bot runs as a separate process — the real `yibao run` (long polling, PTB, our
handlers, engine on a memory store) with the flood limiter lifted (YIBAO_RATE_LIMIT=off).
Each chat sends ten text turns (tests/support/telegram_load.py); what it must receive is computed
by a reference engine, and every run is checked: zero lost, zero duplicated, in order.

Measurements per bot:
- burst: 500 chats × 10 turns queued at once → replies/s (capacity);
- paced: 500 chats each sending a turn every PERIODS seconds (about 333 and 100 turns/s
  offered), each waiting for its answer before the next → update-to-reply latency
  (update queued at the fake → the turn's first and last message received by the fake,
  and how much of it the update waited to be fetched by getUpdates), p50/p99.

Bots: "yibao" is `yibao run` as shipped (updates acknowledged only once handled,
bot/acknowledge.py); "ack on fetch" is the same bot with PTB's plain acknowledgement, to
show what the crash-safe acknowledgement costs (bench/telegram_ack_on_fetch.py).

Is the bot, not the fake server, the bottleneck? The same measurements are repeated with a
"null bot": a bare aiohttp loop (separate process) that long-polls the fake and answers
each update with one message, no PTB, no engine. The fake and the driver are the same in
every run, so the null bot's figures bound what they can serve (about five times the bot's
capacity when this was written); CPU seconds of both processes are printed too: during the
burst the bot's process runs near a full core (asyncio is one thread) while the
fake+driver process does not.

The machine is shared: other processes' load shows up in the tails, so the load average
is printed first. Diagnostics: BENCH_PROFILE=<file> runs the bot under cProfile;
BENCH_WRAP=<script> adds a bot kind "wrap" started from that script.

Usage: `python -m bench telegram` (or `make bench ARGS=telegram`).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.fake_bot_api import FakeBotAPI
from tests.telegram_load import expected_replies, flatten, script

from bench.stats import percentile

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
CHATS = 500
TURNS = 10
# Seconds between two turns of one chat in the paced runs: about 333 and 100 turns/s offered.
PERIODS = (1.5, 5.0)


@dataclass
class Result:
    replies: int = 0
    seconds: float = 0.0
    first_ms: list[float] = field(default_factory=list)
    last_ms: list[float] = field(default_factory=list)
    fetch_ms: list[float] = field(default_factory=list)
    bot_cpu: float = 0.0
    driver_cpu: float = 0.0
    problems: int = 0
    typing: int = 0
    polls: int = 0
    polled_updates: int = 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


BOTS = {
    "yibao": ["-m", "bot.cli", "run"],
    "ack-on-fetch": ["-m", "bench.telegram_ack_on_fetch"],
    "null": ["-m", "bench.bench_telegram", "--null-bot"],
    **({"wrap": [os.environ["BENCH_WRAP"]]} if os.environ.get("BENCH_WRAP") else {}),
}


async def start_bot(fake: FakeBotAPI, kind: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "YIBAO_STORE": "memory://",
        "YIBAO_RATE_LIMIT": "off",
        "YIBAO_LOG_LEVEL": "WARNING",
    }
    args = BOTS[kind] + ([fake.base_url] if kind == "null" else [])
    if os.environ.get("BENCH_PROFILE") and kind != "null":  # where the bot spends its time
        args = ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"], *args]
    proc = await asyncio.create_subprocess_exec(sys.executable, *args, cwd=ROOT, env=env)
    await fake.wait_calls("getUpdates" if kind == "null" else "setMyCommands", timeout=60)
    return proc


async def run_chat(
    fake: FakeBotAPI, chat: int, expected: list[list[str]], period: float, result: Result
) -> None:
    """One chat: each turn sent, answered in full, then (paced) wait out the period."""
    if period:
        await asyncio.sleep(random.uniform(0, period))
    done = len(fake.messages(chat))
    for text, answer in zip(script(chat, TURNS), expected, strict=True):
        began = time.perf_counter()
        update_id = fake.user_text(chat, text)
        target = done + len(answer)
        sent = await fake.wait_messages(chat, target, timeout=120)
        result.first_ms.append((sent[done].at - began) * 1000)
        result.last_ms.append((sent[target - 1].at - began) * 1000)
        result.fetch_ms.append((fake.fetched_at[update_id] - began) * 1000)
        done = target
        if period:
            await asyncio.sleep(max(0.0, period - (time.perf_counter() - began)))


async def measure(kind: str, period: float) -> Result:
    """One run: a fresh fake and bot process; `period` 0 means the burst."""
    null = kind == "null"
    fake = FakeBotAPI(TOKEN)
    await fake.start()
    chats = list(range(10_000, 10_000 + CHATS))
    if null:
        expected = {c: [["ok"]] * TURNS for c in chats}
    else:
        expected = await expected_replies(chats, TURNS)
    proc = await start_bot(fake, kind)
    result = Result()
    try:
        warm = 1  # one turn per chat first, so both runs start from a warm process
        for chat in chats[:50]:
            fake.user_text(chat + 1_000_000, "/help")
        for chat in chats[:50]:
            await fake.wait_messages(chat + 1_000_000, warm, timeout=60)
        bot_cpu, driver_cpu = cpu_seconds(proc.pid), time.process_time()
        polls_before, handed_before = len(fake.calls_of("getUpdates")), fake.handed_out
        start = time.perf_counter()
        before = len(fake.sent)
        if period:
            await asyncio.gather(*(run_chat(fake, c, expected[c], period, result) for c in chats))
        else:
            for turn in range(TURNS):
                for chat in chats:
                    fake.user_text(chat, script(chat, TURNS)[turn])
            for chat in chats:
                await fake.wait_messages(chat, len(flatten(expected[chat])), timeout=300)
        last = max(m.at for m in fake.sent[before:])
        result.seconds = last - start
        result.replies = len(fake.sent) - before
        result.bot_cpu = cpu_seconds(proc.pid) - bot_cpu
        result.driver_cpu = time.process_time() - driver_cpu
        result.typing = len(fake.calls_of("sendChatAction"))
        result.polls = len(fake.calls_of("getUpdates")) - polls_before
        result.polled_updates = fake.handed_out - handed_before
        for chat in chats:
            got = [m.html if not null else "ok" for m in fake.messages(chat)]
            if got != flatten(expected[chat]):
                result.problems += 1
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
        await fake.stop()
    return result


def report(label: str, r: Result, paced: bool) -> None:
    rate = r.replies / r.seconds if r.seconds else float("nan")
    line = (
        f"{label:<22} replies={r.replies} in {r.seconds:.2f}s = {rate:.0f} replies/s; "
        f"CPU bot={r.bot_cpu:.1f}s ({r.bot_cpu / r.seconds:.0%} of a core, "
        f"{1000 * r.bot_cpu / r.replies:.2f} ms/reply) "
        f"fake+driver={r.driver_cpu:.1f}s ({r.driver_cpu / r.seconds:.0%}); "
        f"wrong chats={r.problems}, typing actions={r.typing}; "
        f"getUpdates calls={r.polls} handing out {r.polled_updates} updates"
    )
    print(line, flush=True)
    if paced:
        print(
            f"{'':<22} update→first reply p50={percentile(r.first_ms, 50):.1f} ms "
            f"p99={percentile(r.first_ms, 99):.1f} ms; "
            f"→last reply p50={percentile(r.last_ms, 50):.1f} ms "
            f"p99={percentile(r.last_ms, 99):.1f} ms; of which waiting to be fetched "
            f"p50={percentile(r.fetch_ms, 50):.1f} ms p99={percentile(r.fetch_ms, 99):.1f} ms",
            flush=True,
        )


async def null_bot(base_url: str) -> None:
    """The fake's capacity without PTB or the engine: answer each update with one message."""
    import aiohttp

    url = f"{base_url}{TOKEN}"
    offset = 0
    pending: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as http:

        async def answer(chat_id: int) -> None:
            async with http.post(
                f"{url}/sendMessage", data={"chat_id": str(chat_id), "text": "ok"}
            ) as r:
                await r.read()

        while True:
            async with http.post(
                f"{url}/getUpdates", data={"offset": str(offset), "timeout": "10"}
            ) as r:
                updates = (await r.json())["result"]
            for update in updates:
                offset = update["update_id"] + 1
                task = asyncio.create_task(answer(update["message"]["chat"]["id"]))
                pending.add(task)
                task.add_done_callback(pending.discard)


RUNS = (
    ("yibao", "yibao bot"),
    ("ack-on-fetch", "yibao, ack on fetch"),
    ("null", "null bot (fake alone)"),
)


def main() -> None:
    print(
        f"{CHATS} chats x {TURNS} turns, limiter off, memory store; bot and fake in two processes"
    )
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    for kind, label in RUNS:
        report(f"{label}, burst", asyncio.run(measure(kind, 0)), paced=False)
        for period in PERIODS:
            rate = CHATS / period
            result = asyncio.run(measure(kind, period))
            report(f"{label}, paced ~{rate:.0f} turns/s", result, paced=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--null-bot":
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        asyncio.run(null_bot(sys.argv[2]))
    else:
        main()
