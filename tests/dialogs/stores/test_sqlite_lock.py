"""Issue 13, item 11: two processes on one SQLite file lose flow steps, so the second is
refused: an exclusive `flock` on `<db>.lock`, one sentence, exit 4 (real subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from telegram_harness import TOKEN, environ_with


def _env(db: Path, **extra: str) -> dict[str, str]:
    return environ_with(
        {
            "YIBAO_CACHE_DIR": os.environ["YIBAO_CACHE_DIR"],
            "YIBAO_STORE": f"sqlite:///{db}",
            "YIBAO_HASH_SALT": "pepper",
            **extra,
        }
    )


def _yibao(db: Path, *args: str, stdin: str = "", **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=db.parent,
        env=_env(db, **extra),
        timeout=120,
        check=False,
    )


def _wait_for_holder(lock: Path, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if lock.exists() and lock.read_text(encoding="ascii").strip() == str(proc.pid):
            return
        assert proc.poll() is None, "the first process ended before taking the lock"
        time.sleep(0.1)
    raise AssertionError("the first process never took the lock")


def test_a_second_process_on_one_sqlite_file_is_refused_in_one_sentence(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    first = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
        env=_env(db),
    )
    try:
        _wait_for_holder(tmp_path / "state.db.lock", first)
        # Nothing listens on port 9: a bot that were not refused would exit 3 instead.
        run = _yibao(
            db, "run", TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot"
        )
        assert run.returncode == 4, run.stderr
        lines = run.stderr.strip().splitlines()
        assert lines == [
            f"yibao run: {db} is in use by another process (pid {first.pid}); run one "
            "process per SQLite file (or share a Redis store between instances)"
        ]
        chat = _yibao(db, "chat", stdin="你好\n")
        assert chat.returncode == 4 and "in use by another process" in chat.stderr
        assert "Traceback" not in chat.stderr
    finally:
        assert first.stdin is not None
        first.stdin.close()
        first.wait(timeout=60)
    # The holder is gone: the file is free again (a killed holder frees it the same way).
    replay = _yibao(db, "replay", "--store", f"sqlite:///{db}", stdin='{"text": "你好"}\n')
    assert replay.returncode == 0, replay.stderr
