"""UI text is validated like flow text (issue 13 #3): every ui key the code reads is
declared with the fields it passes (`knowledge.ui_keys`), a template naming a field the code
does not pass fails `yibao kb check` with `file:line: reason`, `/reload` and SIGHUP refuse a
KB missing a used key, and the error handler's apology needs no data file."""

from __future__ import annotations

import ast
import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fake_bot_api import FakeBotAPI
from paths import ROOT
from telegram_harness import running_bot

from bot.cli.report import RATE_KEYS
from bot.ops.operations import operations_of
from bot.ops.reloader import Reloader
from bot.telegram.app import COMMANDS
from bot.wiring import build_engine
from dialogs.types import Incoming
from knowledge.loader import KnowledgeBase, load_kb
from knowledge.ui_keys import FALLBACK_APOLOGY, USED, apology, fields_of, problems

YIBAO = str(Path(sys.executable).with_name("yibao"))
QUESTION = "天津新生儿医保怎么办"


def text_calls() -> list[tuple[str, int, str | None, set[str]]]:
    """Every `<…>kb.text(key, field=…)` call in the code: (file, line, key or None when the
    key is computed, the fields passed)."""
    found: list[tuple[str, int, str | None, set[str]]] = []
    for package in ("bot", "dialogs", "knowledge"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "text"
                    and node.args
                ):
                    continue
                owner = node.func.value
                name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
                if name not in ("kb", "_kb"):
                    continue
                arg = node.args[0]
                key = (
                    arg.value
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                    else None
                )
                fields = {k.arg for k in node.keywords if k.arg is not None}
                found.append((str(path.relative_to(ROOT)), node.lineno, key, fields))
    return found


def test_every_ui_key_the_code_reads_is_declared_with_its_fields(kb: KnowledgeBase) -> None:
    calls = text_calls()
    assert len(calls) > 50  # the collector finds the calls
    wrong = [
        f"{file}:{line}: {key!r} {sorted(fields)} (declared: {sorted(USED.get(key, ()))})"
        for file, line, key, fields in calls
        if isinstance(key, str) and (key not in USED or fields != USED[key])
    ]
    assert wrong == []
    # Keys named at run time, from the code's own tables.
    assert {f"tg_cmd_{c}" for c in COMMANDS} <= set(USED)
    assert {f"report_rate_{k}" for k in RATE_KEYS} <= set(USED)
    assert problems(kb.ui) == []  # and the packaged files provide all of them, rightly


def test_templates_may_name_only_the_fields_passed() -> None:
    assert problems({**load_kb().ui, "footer": "来源：{source_title}（{sektion}）"}) == [
        (
            "footer",
            "placeholder {sektion} is not passed (fields: applies_to, section, source_title)",
        )
    ]
    assert fields_of("wechat.footer") == fields_of("footer")  # a channel's wording too
    assert problems({**load_kb().ui, "empty": "空{消息"})[0][0] == "empty"  # a lone brace


def test_a_placeholder_typo_fails_kb_check_with_its_line(files: tuple[Path, Path]) -> None:
    data, _ = files
    ui = data / "ui.yaml"
    lines = ui.read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(lines, 1) if t.startswith("  footer:"))
    ui.write_text(ui.read_text(encoding="utf-8").replace("{section}", "{sektion}"), "utf-8")
    done = subprocess.run(
        [YIBAO, "kb", "check", "--quiet", "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert f"ui.yaml:{line}: ui 'footer': placeholder {{sektion}} is not passed" in done.stderr


async def test_reload_refuses_a_kb_missing_a_used_key(files: tuple[Path, Path]) -> None:
    data, lexicon = files
    engine = build_engine("memory://", kb_dir=data, lexicon_dir=lexicon)
    ui = data / "ui.yaml"
    kept = [t for t in ui.read_text(encoding="utf-8").splitlines(keepends=True)]
    start = next(i for i, t in enumerate(kept) if t.startswith("  footer:"))
    del kept[start : start + 3]  # the key and its two lines
    ui.write_text("".join(kept), encoding="utf-8")
    outcome = await Reloader(engine, data, lexicon).reload()
    assert not outcome.ok
    assert any("ui 'footer': used by the code but missing" in p for p in outcome.problems)
    replies = await engine.handle(1, Incoming(text=QUESTION))  # the old knowledge answers
    assert "来源：" in replies[0].text
    await engine.store.close()


async def test_sighup_refuses_a_deleted_ui_file(
    fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch, files: tuple[Path, Path]
) -> None:
    data, lexicon = files
    env = {"YIBAO_KB_DIR": str(data), "YIBAO_LEXICON_DIR": str(lexicon)}
    async with running_bot(fake, monkeypatch, **env) as app:
        (data / "ui.yaml").unlink()
        ops = operations_of(app)
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(500):
            if ops.reloading:
                break
            await asyncio.sleep(0.01)
        await ops.idle()
        fake.user_text(5, QUESTION)
        (reply,) = await fake.wait_messages(5, 1, timeout=30)
    assert "来源：" in reply.text  # answered from the knowledge that was kept


def test_the_apology_needs_no_data_file(kb: KnowledgeBase) -> None:
    assert apology(kb.ui) == kb.text("error")
    assert apology({}) == FALLBACK_APOLOGY
    assert apology({"error": "  "}) == FALLBACK_APOLOGY
