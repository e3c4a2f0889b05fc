"""Broken knowledge files are rejected with `file:line: reason`, by the loader and the CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from paths import CONVERSATIONS, ROOT

from knowledge.errors import KnowledgeError
from knowledge.loader import load_kb

GOOD_ENTRY = """\
  - id: tj.sample
    city: tianjin
    topic: cost
    title: 样例
    questions: [问一, 问二, 问三]
    keywords: [样例]
    answer: 样例答案
    source: {file: a.txt, section: 一}
    applies_to: 2025年度
    related: []
    aspects: [cost]
    population: [all]
"""


def _entries(*blocks: str) -> str:
    return "entries:\n" + "".join(blocks)


CASES: dict[str, tuple[dict[str, str], str, int, str]] = {
    # name: (files, file reported, line reported, words the reason must contain)
    "malformed yaml": (
        {"a.yaml": _entries(GOOD_ENTRY.replace("answer: 样例答案", "answer: 样例: 答案"))},
        "a.yaml",
        8,
        "YAML syntax error: mapping values are not allowed here",
    ),
    "missing field": (
        {"a.yaml": _entries(GOOD_ENTRY.replace("    answer: 样例答案\n", ""))},
        "a.yaml",
        2,
        "answer: Field required",
    ),
    "wrong type": (
        {"a.yaml": _entries(GOOD_ENTRY.replace("[问一, 问二, 问三]", "只有一句"))},
        "a.yaml",
        6,
        "questions: Input should be a valid list",
    ),
    "too few questions": (
        {"a.yaml": _entries(GOOD_ENTRY.replace("[问一, 问二, 问三]", "[问一]"))},
        "a.yaml",
        6,
        "questions: List should have at least 3 items",
    ),
    "unknown field": (
        {"a.yaml": _entries(GOOD_ENTRY.replace("    related: []\n", "    realted: []\n"))},
        "a.yaml",
        11,
        "realted: Extra inputs are not permitted",
    ),
    "duplicate id": (
        {"a.yaml": _entries(GOOD_ENTRY), "b.yaml": _entries("\n" + GOOD_ENTRY)},
        "b.yaml",
        3,
        "duplicate id 'tj.sample' (first at a.yaml:2)",
    ),
    "unknown related id": (
        {"a.yaml": _entries(GOOD_ENTRY.replace("related: []", "related: [tj.nowhere]"))},
        "a.yaml",
        2,
        "related id 'tj.nowhere' does not exist",
    ),
    "duplicate key": (
        {
            "a.yaml": _entries(
                GOOD_ENTRY.replace("    answer: 样例答案\n", "    answer: 一\n    answer: 二\n")
            )
        },
        "a.yaml",
        9,
        "duplicate key 'answer'",
    ),
    "unknown section": (
        {"a.yaml": _entries(GOOD_ENTRY) + "entires: []\n"},
        "a.yaml",
        14,
        "unknown section 'entires'",
    ),
}


def _write(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _kb_check(data: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """`yibao kb check --quiet --data DIR` as a real subprocess."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "kb",
            "check",
            "--quiet",
            *flags,
            "--data",
            str(data),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_the_good_entry_itself_loads(tmp_path: Path) -> None:
    kb = load_kb(_write(tmp_path, {"a.yaml": _entries(GOOD_ENTRY)}))
    assert list(kb.entries) == ["tj.sample"]


@pytest.mark.parametrize("name", list(CASES))
def test_loader_rejects_with_file_line_and_reason(tmp_path: Path, name: str) -> None:
    files, file, line, reason = CASES[name]
    with pytest.raises(KnowledgeError) as caught:
        load_kb(_write(tmp_path, files))
    messages = [str(p) for p in caught.value.problems]
    assert any(m.startswith(f"{file}:{line}: ") and reason in m for m in messages), messages
    assert all("\n" not in m for m in messages), "one line per problem"


@pytest.mark.parametrize(
    "name", ["malformed yaml", "missing field", "duplicate id", "duplicate key"]
)
def test_cli_check_exits_nonzero_printing_file_line(tmp_path: Path, name: str) -> None:
    files, file, line, reason = CASES[name]
    proc = _kb_check(_write(tmp_path, files))
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines and all(re.match(r"^[\w.]+:\d+: \S", ln) for ln in lines), lines
    assert any(ln.startswith(f"{file}:{line}: ") and reason in ln for ln in lines), lines


def test_cli_check_reports_an_uncovered_section(tmp_path: Path) -> None:
    sources = (
        "sources:\n  - file: a.txt\n    title: 页\n    published: '2025'\n    sections: [一, 二]\n"
    )
    data = _write(tmp_path, {"a.yaml": _entries(GOOD_ENTRY), "s.yaml": sources})
    proc = _kb_check(data, "--no-selftest")
    assert proc.returncode == 1
    assert "sources:1: a.txt: section '二' is cited by no entry" in proc.stderr


SECOND_ENTRY = GOOD_ENTRY.replace("tj.sample", "tj.other").replace(
    "[问一, 问二, 问三]", "[问四, 问五, 问六]"
)
LONG = "按钮标签" * 6  # 24 characters: wraps on a phone
CHECK_CASES: dict[str, tuple[dict[str, str], str]] = {
    # name: (files, the exact line `kb check` must print)
    "same keyword set": (
        {"a.yaml": _entries(GOOD_ENTRY, SECOND_ENTRY)},
        "a.yaml:14: entry 'tj.other' has exactly the keywords of 'tj.sample'",
    ),
    "shared sample question": (
        {
            "a.yaml": _entries(
                GOOD_ENTRY,
                SECOND_ENTRY.replace("[样例]", "[别的]").replace("问六", "问一"),
            )
        },
        "a.yaml:18: 'tj.other': sample question '问一' also belongs to 'tj.sample'",
    ),
    "out-of-scope keyword that an entry uses": (
        {
            "a.yaml": _entries(GOOD_ENTRY),
            "o.yaml": "out_of_scope:\n  - id: oos.x\n    keywords: [样例]\n"
            "    questions: [问]\n    answer: 抱歉\n",
        },
        "o.yaml:2: 'oos.x': keyword '样例' is also a keyword of tj.sample",
    ),
    "keyword routed twice": (
        {
            "a.yaml": _entries(GOOD_ENTRY),
            "k.yaml": "keywords:\n"
            "  - {words: [样例], action: 'entry:tj.sample'}\n"
            "  - {words: [样例], action: 'menu:main'}\n"
            "menus:\n  - id: main\n    text: 菜单\n"
            "    buttons: [[{label: 样例, action: 'entry:tj.sample'}]]\n",
        },
        "keywords:1: keyword route '样例' goes to both 'entry:tj.sample' and 'menu:main'",
    ),
    "long menu label": (
        {
            "a.yaml": _entries(GOOD_ENTRY),
            "m.yaml": "menus:\n  - id: main\n    text: 菜单\n"
            f"    buttons: [[{{label: {LONG}, action: 'entry:tj.sample'}}]]\n",
        },
        f"m.yaml:2: menu 'main': label '{LONG}' exceeds 20 characters",
    ),
}


@pytest.mark.parametrize("name", list(CHECK_CASES))
def test_cli_check_rejects_whole_kb_problems(tmp_path: Path, name: str) -> None:
    files, expected = CHECK_CASES[name]
    proc = _kb_check(_write(tmp_path, files), "--no-selftest")
    assert proc.returncode == 1
    assert expected in proc.stderr.splitlines(), proc.stderr


def test_an_aspect_a_page_covers_without_an_entry_is_rejected(tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(ROOT / "knowledge" / "data", data)
    vocab = data / "understanding.yaml"
    text = vocab.read_text(encoding="utf-8")
    vocab.write_text(
        text.replace("tianjin: [steps, eligibility,", "tianjin: [districts, steps, eligibility,"),
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError) as err:
        load_kb(data)
    assert "coverage: no tianjin entry answers 'districts'" in str(err.value)


def test_a_silent_aspect_an_entry_answers_is_rejected(tmp_path: Path) -> None:
    """ "复印件要几份" is silent (neither page says): an entry claiming it contradicts that."""
    data = _real_data_with(
        tmp_path, {"tianjin.yaml": ("aspects: [eligibility]", "aspects: [eligibility, copies]")}
    )
    with pytest.raises(KnowledgeError) as err:
        load_kb(data)
    assert "aspect 'copies': silent, yet answered" in str(err.value)


def test_an_aspect_silent_in_a_city_its_entry_answers_is_rejected(tmp_path: Path) -> None:
    """The Tianjin page names no document behind its rules: a Tianjin entry claiming the
    policy basis contradicts `silent_in: [tianjin]`."""
    data = _real_data_with(
        tmp_path, {"tianjin.yaml": ("aspects: [eligibility]", "aspects: [eligibility, basis]")}
    )
    with pytest.raises(KnowledgeError) as err:
        load_kb(data)
    assert "aspect 'basis': silent in tianjin, yet answered" in str(err.value)


def _real_data_with(tmp_path: Path, edit: dict[str, tuple[str, str]]) -> Path:
    """A copy of the shipped knowledge with one (old -> new) text edit per file."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(ROOT / "knowledge" / "data", data)
    for name, (old, new) in edit.items():
        path = data / name
        text = path.read_text(encoding="utf-8")
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return data


FLOW_CONTRACT_CASES: dict[str, tuple[dict[str, tuple[str, str]], str]] = {
    # name: (edit, what the one reported line must contain)
    "renamed flow text key": (
        {"flows.yaml": ("      deadline_late: |-", "      deadline_too_late: |-")},
        "flow_text: flow tianjin: text keys missing: deadline_late",
    ),
    "menu action to a flow that does not exist": (
        {"menus.yaml": ('action: "flow:tianjin"', 'action: "flow:tianjn"')},
        "action 'flow:tianjn': no such flow",
    ),
    "a menu defined twice": (
        {
            "menus.yaml": (
                "menus:\n",
                "menus:\n  - id: main\n    text: 又一个\n"
                "    buttons: [[{label: 主菜单, action: 'menu:main'}]]\n",
            )
        },
        "menus: duplicate id 'main' (first at menus.yaml:",
    ),
}


@pytest.mark.parametrize("name", list(FLOW_CONTRACT_CASES))
def test_check_rejects_flow_contract_breaks_with_file_and_line(tmp_path: Path, name: str) -> None:
    edit, reason = FLOW_CONTRACT_CASES[name]
    proc = _kb_check(_real_data_with(tmp_path, edit), "--no-selftest")
    assert proc.returncode == 1, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if reason in ln]
    assert lines and all(re.match(r"^[\w.]+:\d+: ", ln) for ln in lines), proc.stderr


async def test_the_declared_flow_text_keys_are_all_the_flows_use(tmp_path: Path) -> None:
    """Every key a flow asks for is declared: with the undeclared (optional) texts removed,
    every flow conversation still runs without a KeyError."""
    from bot.cli.evaluate import evaluate
    from bot.wiring import build_engine, load_flows
    from dialogs.flows.suzhou import SuzhouFlow
    from dialogs.flows.tianjin import TianjinFlow

    kb = load_kb()
    for cls in (TianjinFlow, SuzhouFlow):
        text = kb.flow_text[cls.spec.name]["text"]
        for key in [k for k in text if k not in cls.TEXT_KEYS]:
            del text[key]
    engine = build_engine("memory://")
    engine.flows = load_flows(kb)
    engine.reload(kb, engine.matcher)
    convo = CONVERSATIONS
    outcomes = await evaluate([convo / "flows_tianjin.yaml", convo / "flows_suzhou.yaml"], engine)
    assert len(outcomes) > 50


@pytest.mark.parametrize(
    ("file", "old", "new", "reason"),
    [
        (
            "tianjin.yaml",
            "      online: 可以：",
            "      districts: 可以：",
            "entry 'tj.local': verdict 'districts' is not its aspect",
        ),
        (
            "understanding.yaml",
            "    baby: [newborn, unschooled]",
            "    baby: [newborn, toddler]",
            "widen: unknown population 'toddler'",
        ),
        (
            "understanding.yaml",
            "rank: 6, instead: where,",
            "rank: 6, instead: wherever,",
            "online: instead unknown 'wherever'",
        ),
        (
            "understanding.yaml",
            "population_bound: [time, deadline]",
            "population_bound: [time, timing]",
            "unknown aspect 'timing'",
        ),
    ],
)
def test_verdicts_and_widening_name_what_exists(
    tmp_path: Path, file: str, old: str, new: str, reason: str
) -> None:
    """An entry's verdict is for one of its own aspects; `widen` names declared populations."""
    with pytest.raises(KnowledgeError) as err:
        load_kb(_real_data_with(tmp_path, {file: (old, new)}))
    shown = [str(p) for p in err.value.problems]
    assert any(reason in p and p.startswith(f"{file}:") for p in shown), shown
