"""Shared fixtures. Tests never reach the network beyond 127.0.0.1."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Keep jieba's cache inside the project, never the shared /tmp/jieba.cache: in this process
# (as the edges do from the settings) and in the `yibao` processes tests start.
os.environ.setdefault("YIBAO_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache"))
from dialogs.engine import Engine
from dialogs.stores import MemoryStore
from knowledge import segment
from knowledge.lexicon import LEXICON_DIR
from knowledge.loader import DATA_DIR, KnowledgeBase, load_kb
from knowledge.matcher import Matcher

segment.use_cache_dir(Path(os.environ["YIBAO_CACHE_DIR"]))

pytest_plugins = [
    "redis_fixture",  # real redis-server on 127.0.0.1 (session scoped)
    "fake_fixture",  # fake Telegram Bot API on 127.0.0.1 (per test)
]


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_kb()


@pytest.fixture(scope="session")
def matcher(kb: KnowledgeBase) -> Matcher:
    return Matcher(kb)


@pytest.fixture
def engine(kb: KnowledgeBase, matcher: Matcher) -> Engine:
    from bot.wiring import load_flows

    return Engine(kb, matcher, MemoryStore(), flows=load_flows(kb))


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the knowledge and lexicon files the test may edit (reload, admin)."""
    data, lexicon = tmp_path / "data", tmp_path / "lexicon"
    shutil.copytree(DATA_DIR, data)
    shutil.copytree(LEXICON_DIR, lexicon)
    return data, lexicon
