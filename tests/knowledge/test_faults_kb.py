"""Knowledge-file faults are refused with `file:line: reason`, wherever they are met:
`yibao kb check` (the curator's check), `yibao run` (the bot does not start on them) and a
hot reload (the bot keeps serving the knowledge it had).

Each fault is one small edit to a copy of the real, valid knowledge files, so everything
else about them is known good: malformed YAML, a missing field, a wrong type, a duplicate
id, an unknown `related` id, and a lexicon file with a bad line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from paths import ROOT
from telegram_harness import TOKEN, environ_with

from bot.ops.reloader import Reloader
from dialogs.engine import Engine
from knowledge.lexicon import LEXICON_DIR
from knowledge.loader import DATA_DIR

YIBAO = str(Path(sys.executable).with_name("yibao"))
ONE_PROBLEM = re.compile(r"^[\w.-]+:\d+: [^\n]+$")


@dataclass(frozen=True)
class Fault:
    file: str  # which file of the copy is edited (data/ or lexicon/)
    old: str  # text replaced (first occurrence)
    new: str
    reason: str  # words the one-line reason must contain
    line_of: str  # the reported line is the one holding this text (after the edit)


TJ = "tianjin.yaml"
FAULTS = {
    "malformed YAML": Fault(
        TJ, "    topic: overview\n", "    topic: overview: 总览\n",
        "YAML syntax error: mapping values are not allowed here", "topic: overview: 总览",
    ),
    "missing field": Fault(
        TJ, "    title: 天津新生儿医保办理总览\n", "", "title: Field required", "- id: tj.overview",
    ),
    "wrong type": Fault(
        TJ, "    applies_to: 2025年（来源页面）\n", "    applies_to: [2025]\n",
        "applies_to: Input should be a valid string", "applies_to: [2025]",
    ),
    "duplicate id": Fault(
        TJ, "  - id: tj.who\n", "  - id: tj.overview\n",
        "duplicate id 'tj.overview' (first at tianjin.yaml:5)",
        "  - id: tj.overview\n    city: tianjin\n    topic: who",
    ),
    "unknown related id": Fault(
        TJ, "related: [tj.materials, tj.local, tj.nonlocal]", "related: [tj.materials, tj.nowhere]",
        "related id 'tj.nowhere' does not exist", "- id: tj.overview",
    ),
    "lexicon bad line": Fault(
        "lexicon/userdict.txt", "\n", "\n新生儿医保 很多\n",
        "frequency of '新生儿医保' must be a positive integer", "新生儿医保 很多",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Copy:
    data: Path
    lexicon: Path
    expected: str  # "file:line: " the problem must start with
    reason: str


def make_copy(tmp_path: Path, name: str | None) -> Copy:
    """Copies of the packaged knowledge and lexicon, with fault `name` applied."""
    data, lexicon = tmp_path / "data", tmp_path / "lexicon"
    shutil.copytree(DATA_DIR, data)
    shutil.copytree(LEXICON_DIR, lexicon)
    if name is None:
        return Copy(data, lexicon, "", "")
    fault = FAULTS[name]
    target = tmp_path / fault.file if fault.file.startswith("lexicon/") else data / fault.file
    text = target.read_text(encoding="utf-8")
    assert fault.old in text, f"{name}: the file no longer holds {fault.old!r}"
    text = text.replace(fault.old, fault.new, 1)
    target.write_text(text, encoding="utf-8")
    line = text[: text.index(fault.line_of)].count("\n") + 1
    return Copy(data, lexicon, f"{target.name}:{line}: ", fault.reason)


def assert_reported(copy: Copy, output: str) -> None:
    problems = [ln for ln in output.splitlines() if ONE_PROBLEM.match(ln)]
    hits = [p for p in problems if p.startswith(copy.expected) and copy.reason in p]
    assert hits, f"expected {copy.expected}{copy.reason!r} in:\n{output}"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [YIBAO, *args], capture_output=True, text=True, cwd=ROOT, timeout=120,
        env=environ_with(env or {}),
    )  # fmt: skip


def kb_check(copy: Copy) -> subprocess.CompletedProcess[str]:
    return run(
        "kb", "check", "--quiet", "--no-selftest", "--data", str(copy.data),
        "--lexicon", str(copy.lexicon),
    )  # fmt: skip


# ---------------------------------------------------------------------- start-up
def test_the_unmodified_copies_are_accepted(tmp_path: Path) -> None:
    proc = kb_check(make_copy(tmp_path, None))
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", list(FAULTS))
def test_kb_check_rejects_with_file_line_and_reason(tmp_path: Path, name: str) -> None:
    copy = make_copy(tmp_path, name)
    proc = kb_check(copy)
    assert proc.returncode == 1
    assert_reported(copy, proc.stderr)
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("name", list(FAULTS))
def test_yibao_run_refuses_to_start(tmp_path: Path, name: str) -> None:
    copy = make_copy(tmp_path, name)
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",  # never reached
        "YIBAO_STORE": "memory://",
        "YIBAO_KB_DIR": str(copy.data),
        "YIBAO_LEXICON_DIR": str(copy.lexicon),
    }
    proc = run("run", env=env)
    assert proc.returncode == 1
    assert_reported(copy, proc.stderr)
    assert "not started" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


# ---------------------------------------------------------------------- reload
@pytest.mark.parametrize("name", list(FAULTS))
async def test_reload_refuses_and_keeps_serving_the_old_knowledge(
    tmp_path: Path, name: str, engine: Engine
) -> None:
    copy = make_copy(tmp_path, name)
    kb, matcher = engine.kb, engine.matcher
    outcome = await Reloader(engine, copy.data, copy.lexicon).reload()
    assert not outcome.ok and not outcome.changed
    assert_reported(copy, "\n".join(outcome.problems))
    assert (engine.kb, engine.matcher) == (kb, matcher)  # still the same objects


async def test_reload_of_the_unmodified_copies_succeeds(tmp_path: Path, engine: Engine) -> None:
    copy = make_copy(tmp_path, None)
    outcome = await Reloader(engine, copy.data, copy.lexicon).reload()
    assert outcome.ok, outcome.problems
