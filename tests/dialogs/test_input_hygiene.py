"""Input hygiene (issue 13 #4, #5): lone surrogates, format characters and bytes that are not
UTF-8 never reach a store, and `yibao replay` answers every line, however bad.

Real subprocesses (`yibao replay`, `yibao chat`) on real SQLite files, and the engine over a
real redis-server.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from bot.wiring import load_flows
from dialogs.engine import Engine
from dialogs.hygiene import scrub
from dialogs.stores.records import TurnRecord
from dialogs.stores.redis import RedisStore
from dialogs.types import Incoming
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Matcher

YIBAO = str(Path(sys.executable).with_name("yibao"))
WATERMELON = "你们那里卖不卖西瓜"  # unanswered: its text goes into a turn record


def replay(lines: list[bytes], store: str) -> list[dict[str, object]]:
    done = subprocess.run(
        [YIBAO, "replay", "--store", store, "--today", "2026-03-01"],
        input=b"".join(line + b"\n" for line in lines),
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def test_replay_answers_every_line_however_bad(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    lines = [
        json.dumps({"chat_id": 1, "text": WATERMELON + "\ud800"}).encode(),  # lone surrogate
        b'{"chat_id": 2, "text": "\xff\xfe' + WATERMELON.encode() + b'"}',  # not UTF-8
        b"[" * 100_000 + b"]" * 100_000,  # nested deeper than the parser's recursion
        json.dumps({"chat_id": 2**63, "text": "你好"}).encode(),  # beyond SQLite's integers
        json.dumps({"chat_id": -(2**63) - 1, "text": "你好"}).encode(),
        json.dumps({"chat_id": 3, "text": "天津新生儿医保交多少钱"}).encode(),
    ]
    out = replay(lines, f"sqlite:///{db}")
    assert len(out) == len(lines)
    assert "replies" in out[0] and "replies" in out[1]
    assert "nested too deeply" in str(out[2]["error"])
    assert "chat_id" in str(out[3]["error"]) and "chat_id" in str(out[4]["error"])
    assert out[5]["entry"] is not None  # the run went on
    texts = [t for (t,) in sqlite3.connect(db).execute("SELECT text FROM records")]
    assert sum(1 for t in texts if t and WATERMELON in t) == 2  # both records kept, clean
    assert all(t is None or t.encode("utf-8") for t in texts)


def test_chat_reads_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    done = subprocess.run(
        [YIBAO, "chat", "--store", f"sqlite:///{tmp_path / 's.db'}"],
        input=WATERMELON.encode() + b"\xff\n" + "天津新生儿医保交多少钱\n".encode(),
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    assert "830" in done.stdout.decode() or "100" in done.stdout.decode()


async def test_redis_keeps_a_record_of_a_surrogate_question(
    kb: KnowledgeBase, matcher: Matcher, redis_url: str
) -> None:
    store = RedisStore.from_url(redis_url)
    engine = Engine(kb, matcher, store, flows=load_flows(kb))
    replies = await engine.handle(9, Incoming(text=WATERMELON + "\udfff\u200b"))
    assert replies
    records = [r async for r in store.iter_records()]
    assert [r.text for r in records] == [WATERMELON]
    await store.close()


def test_scrub_drops_surrogates_and_format_characters_only() -> None:
    assert scrub("1\u200b3\u00ad8\ud800\u202e号") == "138号"
    assert scrub("天津 新生儿\n医保") == "天津 新生儿\n医保"
    assert TurnRecord.new("h", "unanswered", "问\ud800题").text == "问题"
