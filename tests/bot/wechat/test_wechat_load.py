"""Load through the fake WeChat: 500 users × 10 messages against one subprocess, with
concurrency: 0 lost, 0 duplicated, each user's replies in order (see tests/support/wechat_load.py).
No timing assertions: the figures are `make bench ARGS=wechat`'s job."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from wechat_harness import start_wechat, stop_wechat
from wechat_load import SCRIPT, drive, expected_replies

USERS = 500


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_500_users_10_messages_nothing_lost_duplicated_or_reordered(
    tmp_path: Path,
) -> None:
    db = tmp_path / "state.db"
    server = await start_wechat(tmp_path, f"sqlite:///{db}")
    try:
        expected = await expected_replies(USERS)
        result = await drive(server.url, USERS, expected, concurrency=50)
    finally:
        log = await stop_wechat(server)
    assert "Traceback" not in log, log
    assert (result.sent, result.lost, result.wrong) == (USERS * len(SCRIPT), 0, 0)
    with sqlite3.connect(db) as conn:
        (turns,) = conn.execute("SELECT COUNT(*) FROM records").fetchone()
        (sessions,) = conn.execute("SELECT COUNT(*) FROM sessions").fetchone()
    conn.close()
    assert (turns, sessions) == (USERS * len(SCRIPT), USERS)  # one turn per message
