"""The flow conversation files (tests/conversations/flows_*.yaml) pass, as `make eval` runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from paths import CONVERSATIONS

from bot.cli.evaluate import evaluate, load_cases
from dialogs.engine import Engine

FILES = sorted(CONVERSATIONS.glob("flows_*.yaml"))


def test_there_is_a_file_per_flow() -> None:
    assert {p.name for p in FILES} >= {"flows_tianjin.yaml", "flows_suzhou.yaml"}
    assert all(len(load_cases(p)) >= 20 for p in FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
async def test_conversation_file(engine: Engine, path: Path) -> None:
    outcomes = await evaluate([path], engine)
    failures = [
        f"{o.case.id}: {'; '.join(o.failures)} | {o.last_text[:200]}"
        for o in outcomes
        if o.failures
    ]
    assert not failures, "\n".join(failures)
