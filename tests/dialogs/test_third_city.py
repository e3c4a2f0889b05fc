"""A city is data: a fictional third city (tests/data/third_city/) added to copies of the
knowledge and lexicon folders, touching no file under bot/, dialogs/ or knowledge/, gets its
entries answered, its keyword and menu, its command, a two-step flow and a clarify button."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from paths import ROOT, TEST_DATA

from bot.telegram.app import command_list
from bot.wiring import build_engine
from dialogs.engine import Engine
from dialogs.types import Incoming

CITY = TEST_DATA / "third_city"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    base = tmp_path_factory.mktemp("kb")
    data, lexicon = base / "data", base / "lexicon"
    shutil.copytree(ROOT / "knowledge" / "data", data)
    shutil.copytree(ROOT / "knowledge" / "lexicon", lexicon)
    for path in CITY.glob("*.yaml"):
        shutil.copy(path, data / path.name)
    cities = lexicon / "cities.yaml"
    text = cities.read_text(encoding="utf-8")
    text = text.replace("core: [tianjin, suzhou]", "core: [tianjin, suzhou, beihai]")
    text = text.replace("cities:\n", "cities:\n  beihai:\n    names: [北海, 北海市]\n", 1)
    cities.write_text(text, encoding="utf-8")
    return build_engine("memory://", kb_dir=data, lexicon_dir=lexicon)


async def _say(engine: Engine, chat: int, *turns: str) -> str:
    text = ""
    for turn in turns:
        replies = await engine.handle(chat, Incoming(text=turn))
        text = "\n".join(r.plain() for r in replies)
    return text


async def test_the_third_citys_entries_are_answered(engine: Engine) -> None:
    assert engine.cities == ("tianjin", "suzhou", "beihai")
    assert "每人每年10元" in await _say(engine, 1, "北海少儿医保交多少钱")
    assert "一楼窗口" in await _say(engine, 2, "北海孩子医保去哪里办")


async def test_its_keyword_menu_and_command(engine: Engine) -> None:
    assert "北海（测试城市）：请选择" in await _say(engine, 3, "北海医保")
    assert "第一步：孩子是新生儿吗？" in await _say(engine, 4, "/beihai")
    assert "beihai" in [c.command for c in command_list(engine)]


async def test_its_two_step_flow_by_text_and_by_button(engine: Engine) -> None:
    assert "第二步" in await _say(engine, 5, "/beihai", "新生儿")
    done = await _say(engine, 5, "上学了")
    assert "新生儿" in done and "上学了" in done and "一楼窗口" in done
    first = await engine.handle(6, Incoming(text="/beihai"))
    button = first[-1].buttons[0][0]
    second = await engine.handle(6, Incoming(callback=button.callback))
    assert "第二步" in "\n".join(r.text for r in second)


async def test_the_clarify_question_offers_every_city(engine: Engine) -> None:
    replies = await engine.handle(7, Incoming(text="少儿医保要带什么材料"))
    labels = [b.text for r in replies for row in r.buttons for b in row]
    assert any(r.state == "clarify" for r in replies), [(r.state, r.text) for r in replies]
    assert labels == ["天津", "苏州", "北海"]
    chosen = await engine.handle(7, Incoming(callback=replies[0].buttons[0][2].callback))
    # Beihai has no entry on materials: an honest abstention, never another city's list.
    assert all(r.state in ("abstain", "unanswered") for r in chosen), chosen
    assert "居住证" not in "".join(r.text for r in chosen)


async def test_the_check_accepts_it_and_rejects_an_unknown_city(tmp_path: Path) -> None:
    import subprocess
    import sys

    data = tmp_path / "data"
    shutil.copytree(ROOT / "knowledge" / "data", data)
    shutil.copy(CITY / "beihai.yaml", data / "beihai.yaml")
    command = [sys.executable, "-m", "bot.cli", "kb", "check", "--quiet", "--no-selftest"]
    proc = subprocess.run(
        [*command, "--data", str(data)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 1  # the packaged lexicon does not know 北海
    assert "beihai.yaml:4: entry 'bh.cost': city 'beihai' is not in cities.yaml" in proc.stderr
