"""The one place that builds an engine from settings; every edge calls it."""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bot.settings import Settings
from dialogs.clock import Clock
from dialogs.engine import Engine
from dialogs.flows.base import Flow
from dialogs.flows.registry import build_flows
from dialogs.stores import StoreSettings, open_store
from dialogs.stores.resilient import ResilientStore
from knowledge.loader import KnowledgeBase, load_kb
from knowledge.matcher import Matcher

USERS_CLOCK = Clock()  # the default time zone's; commands pass the configured one
# Net new container objects between two young-generation collections (CPython: 700). A
# server with 64 messages in flight keeps ~1,500 young objects alive (coroutines, futures,
# frames) that refcounting frees, not the collector: at 700 it walked them every ~7
# messages, ~5 % of a WeChat reply's CPU, and found almost nothing (a few cycles a second).
YOUNG_GC_THRESHOLD = 10_000


def load_flows(kb: KnowledgeBase) -> dict[str, Flow]:
    """The guided flows, keyed by name, worded from `kb`'s flow_text."""
    return build_flows(kb)


def build_engine(
    store_url: str = "memory://",
    clock: Callable[[], date] = USERS_CLOCK.today,
    kb_dir: Path | None = None,
    lexicon_dir: Path | None = None,
    store_settings: StoreSettings | None = None,
    channel: str | None = None,
) -> Engine:
    """`kb_dir` / `lexicon_dir`: knowledge files other than the packaged ones (YIBAO_KB_DIR,
    YIBAO_LEXICON_DIR: e.g. a volume curators edit, then /reload). `channel`: word the
    knowledge for that channel (`KnowledgeBase.for_channel`, e.g. "wechat")."""
    kb = load_kb(kb_dir)
    if channel is not None:
        kb = kb.for_channel(channel)
    matcher = Matcher(kb, lexicon_dir)
    # One serving process per SQLite file (`StoreInUse` otherwise: the commands exit 4).
    # Resilient: if the backend fails, the bot answers on from memory and says so.
    store = ResilientStore(open_store(store_url, store_settings, exclusive=True))
    engine = Engine(kb, matcher, store, flows=load_flows(kb), clock=clock)
    # Everything built so far (KB, index, jieba) lives as long as the process: move it out
    # of the garbage collector's reach, or each full collection walks it for milliseconds
    # and breaks the 2 ms turn budget.
    gc.freeze()
    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
    return engine


def engine_for(
    settings: Settings, store_url: str, channel: str | None = None, clock: Clock | None = None
) -> Engine:
    """The engine every command runs: on `store_url`, with the settings' clock (users' time
    zone), knowledge directories, lifetimes and salt."""
    return build_engine(
        store_url,
        clock=(clock or settings.clock()).today,
        kb_dir=settings.kb_dir,
        lexicon_dir=settings.lexicon_dir,
        store_settings=settings.store_settings(),
        channel=channel,
    )
