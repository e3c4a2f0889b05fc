"""The command-line edges, run as real subprocesses of the installed `yibao` script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dev_set import dev_questions
from paths import ROOT

YIBAO = [sys.executable, "-m", "bot.cli"]


def run(
    args: list[str], stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "YIBAO_STORE": "memory://", **(env or {})}
    return subprocess.run(
        YIBAO + args,
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=full_env,
        timeout=120,
    )


def test_replay_one_line_out_per_line_in_and_errors_do_not_stop_the_run() -> None:
    lines = [
        json.dumps({"chat_id": 7, "text": "天津新生儿医保要交多少钱"}, ensure_ascii=False),
        "this is not json",
        json.dumps({"chat_id": "seven", "text": "x"}),
        json.dumps({"chat_id": 7, "text": "a", "callback": "m:main"}),
        "",
        json.dumps({"chat_id": 8, "callback": "m:main"}),
    ]
    proc = run(["replay", "--today", "2026-03-01"], stdin="\n".join(lines) + "\n")
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == len(lines)
    first = out[0]
    assert first["chat_id"] == 7
    assert first["entry"] is not None and first["entry"].startswith("tj.")
    assert "100" in first["replies"][0]["text"]
    assert "<" not in first["replies"][0]["text"]  # plain text, no markup
    assert all("error" in out[i] for i in (1, 2, 3, 4))
    menu = out[5]
    assert menu["replies"][0]["buttons"], "the main menu offers buttons"
    button = menu["replies"][0]["buttons"][0][0]
    assert set(button) == {"text", "callback"} and len(button["callback"].encode()) <= 64


def test_replay_keeps_chats_independent() -> None:
    lines = [
        json.dumps({"chat_id": 1, "text": "苏州积分入医"}, ensure_ascii=False),
        json.dumps({"chat_id": 2, "text": "天津新生儿医保要交多少钱"}, ensure_ascii=False),
        json.dumps({"chat_id": 1, "text": "公示多久"}, ensure_ascii=False),
    ]
    proc = run(["replay"], stdin="\n".join(lines) + "\n")
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert out[2]["entry"] is not None and out[2]["entry"].startswith("sz."), out[2]


def test_ask_prints_one_answer_with_its_source() -> None:
    proc = run(["ask", "天津新生儿医保要交多少钱"])
    assert proc.returncode == 0, proc.stderr
    assert "100" in proc.stdout
    assert "来源" in proc.stdout and "2025" in proc.stdout


def test_chat_numbers_pick_buttons_and_eof_ends_cleanly() -> None:
    proc = run(["chat", "--store", "memory://"], stdin="3\n")
    assert proc.returncode == 0, proc.stderr
    # The welcome menu's third button opens the Tianjin FAQ menu.
    assert "[1]" in proc.stdout
    assert proc.stdout.count("> ") >= 1


def test_chat_numbers_mean_what_they_mean_on_wechat() -> None:
    """The terminal numbers choices as the engine does (`Session.offered`): on the Suzhou
    years question "2" is two years (its choices shown by label only), as on WeChat."""
    proc = run(["chat", "--store", "memory://"], stdin="/suzhou\n1\n1\n2\n")
    assert proc.returncode == 0, proc.stderr
    turns = proc.stdout.split("> ")
    years = turns[3]  # the answer to the second "1": how many years in Suzhou
    assert "[1]" not in years and "[" in years, years
    assert "哪个区" in turns[4], turns[4]


def test_chat_quit_word_ends_the_conversation() -> None:
    proc = run(["chat", "--store", "memory://"], stdin="退出\n天津\n")
    assert proc.returncode == 0
    assert proc.stdout.count("> ") == 1  # nothing after 退出 was read


def test_eval_reports_failures_and_exit_code(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        "cases:\n  - id: cost\n    turns: [天津新生儿医保交多少钱]\n    must: ['100']\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "cases:\n  - id: wrong\n    turns: [天津新生儿医保交多少钱]\n    must: ['一万元']\n",
        encoding="utf-8",
    )
    ok = run(["eval", str(good)])
    assert ok.returncode == 0 and "1 passed, 0 failed" in ok.stdout
    ko = run(["eval", str(good), str(bad)])
    assert ko.returncode == 1
    assert "wrong" in ko.stdout and "1 passed, 1 failed" in ko.stdout


def test_eval_rejects_a_malformed_file_with_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("cases:\n  - id: x\n    turns: []\n", encoding="utf-8")
    proc = run(["eval", str(broken)])
    assert proc.returncode == 2
    assert f"{broken}:3:" in proc.stderr


def test_shared_dev_set_passes_completely() -> None:
    proc = run(["eval", str(dev_questions())])
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert ", 0 failed" in proc.stdout


def test_kb_check_names_a_broken_flow_text_with_file_and_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "knowledge" / "data", data)
    flows = data / "flows.yaml"
    text = flows.read_text(encoding="utf-8")
    assert "\n  common:" in text
    flows.write_text(text.replace("\n  common:", "\n  commons:", 1), encoding="utf-8")
    line = text.split("flow_text:")[0].count("\n") + 1  # the section that lacks the key
    proc = run(["kb", "check", "--quiet", "--no-selftest", "--data", str(data)])
    assert proc.returncode == 1
    assert f"flows.yaml:{line}: flow_text: missing key 'common'" in proc.stderr


def test_kb_check_names_an_entry_whose_dated_note_no_flow_provides(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "knowledge" / "data", data)
    suzhou = data / "suzhou.yaml"
    text = suzhou.read_text(encoding="utf-8")
    assert "dated: suzhou_calendar" in text
    suzhou.write_text(text.replace("dated: suzhou_calendar", "dated: moon_phase"), encoding="utf-8")
    proc = run(["kb", "check", "--quiet", "--no-selftest", "--data", str(data)])
    assert proc.returncode == 1
    assert "suzhou.yaml:" in proc.stderr and "'moon_phase'" in proc.stderr
