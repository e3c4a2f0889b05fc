"""A real `yibao wechat` killed with SIGKILL in the middle of a turn's write, then started
again on the same SQLite file: WeChat's resend of that message gets the answer, once.

The moment is made, not guessed: a trigger (installed by the test in the state file, a
real SQLite trigger) makes the write of this one message's reply run for minutes, and the
process is killed while the file's write lock shows that write still open. Before the
turn's writes were one transaction, the session (marked answered) was already saved at
that point and the reply was not: the resend was then answered "success", with no reply
and no second turn. Now nothing of the turn is kept, so the resend runs it again."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import aiohttp
from fake_wechat import Exchange, FakeWeChat
from wechat_harness import chat_hash, start_wechat, stop_wechat

SPIN_ROWS = 2000  # the trigger counts SPIN_ROWS³ row triples: minutes of work
OPEN_FOR = 20  # probes (50 ms apart) that must all find the write still open: a commit
# takes microseconds, so only the slowed write of the reply stays open that long


def write_open(db: Path) -> bool:
    """True while another connection holds the file's write lock (a write transaction)."""
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc), exc
        return True
    finally:
        conn.close()


def slow_down_reply(db: Path, key: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE spin (x INTEGER)")
        conn.executemany("INSERT INTO spin VALUES (?)", [(n,) for n in range(SPIN_ROWS)])
        conn.execute(
            f"CREATE TRIGGER slow_reply AFTER INSERT ON replies WHEN NEW.key = '{key}' "
            "BEGIN SELECT count(*) FROM spin a, spin b, spin c; END"
        )
    conn.close()


def kept_of(db: Path, openid: str, key: str) -> tuple[list[int], int, bool]:
    """What the file keeps of the user: the answered MsgIds, the records, that reply."""
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT data FROM sessions WHERE chat_id = ?", (f"wx:{openid}",))
        data = row.fetchone()
        records = conn.execute("SELECT COUNT(*) FROM records WHERE chat = ?", (chat_hash(openid),))
        replies = conn.execute("SELECT COUNT(*) FROM replies WHERE key = ?", (key,))
        kept = (
            list(json.loads(data[0]).get("answered", [])) if data else [],
            int(records.fetchone()[0]),
            bool(replies.fetchone()[0]),
        )
    conn.close()
    return kept


async def test_killed_while_writing_a_turn_the_resend_gets_the_answer(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    me = "oKilledMidTurn"
    server = await start_wechat(tmp_path, f"sqlite:///{db}")
    async with aiohttp.ClientSession() as http:
        wx = FakeWeChat(server.url, http)
        assert (await wx.event(me, "subscribe")).content  # a turn before, kept as it is
        fields = wx.message(me, "text", Content="积分")
        key = f"m:{fields['MsgId']}"
        slow_down_reply(db, key)
        first = asyncio.ensure_future(wx.post(fields))
        try:
            open_for = 0
            for _ in range(2400):  # two minutes at most
                open_for = open_for + 1 if write_open(db) else 0
                if open_for >= OPEN_FOR:
                    break
                await asyncio.sleep(0.05)
            assert open_for >= OPEN_FOR, "the turn's write never stayed open"
            server.proc.kill()  # SIGKILL: no shutdown, no close, mid-transaction
            await server.proc.wait()
        finally:
            (answer,) = await asyncio.gather(first, return_exceptions=True)
        await stop_wechat(server)
        # WeChat got no answer (or "success" once the 4 s budget ran out): never the reply.
        if isinstance(answer, Exchange):
            assert answer.raw == b"success"
        else:
            assert isinstance(answer, aiohttp.ClientError), answer

        # Nothing of the killed turn is in the file: not the session's answered MsgId
        # (which alone would make the resend a silent duplicate), no record, no reply.
        answered, records, replied = kept_of(db, me, key)
        assert fields["MsgId"] not in answered and (records, replied) == (1, False)

        with sqlite3.connect(db) as conn:
            conn.execute("DROP TRIGGER slow_reply")
        conn.close()
        server = await start_wechat(tmp_path, f"sqlite:///{db}")
        try:
            wx = FakeWeChat(server.url, http)
            resend = await wx.post(fields)  # WeChat's resend: the same MsgId
            again = await wx.post(fields)
        finally:
            log = await stop_wechat(server)
    assert "Traceback" not in log, log
    assert resend.status == 200 and resend.content.startswith("苏州积分入医总览")
    assert again.content == resend.content
    answered, records, replied = kept_of(db, me, key)
    assert fields["MsgId"] in answered and (records, replied) == (2, True)  # one turn
