"""Hot reload of the knowledge base and the lexicon: validate everything first, then swap.

A curator fixes an answer, an admin sends /reload (or the operator sends SIGHUP), and the
bot serves the new files without a restart. Nothing half-built is ever served:

1. The files are copied into a private snapshot directory, so what is validated is exactly
   what is served even if an editor is still saving.
2. The KB, the checks `yibao kb check` enforces (minus the routing self-test), the lexicon,
   a complete new `Matcher` and the guided flows are built on a worker thread, so the bot
   keeps answering meanwhile. jieba's dictionaries are per lexicon content
   (`knowledge.segment.tokenizer`), so building the new one never touches the tokenizer
   that turns in progress are using.
3. Only when all of that succeeded are the engine's references replaced, in one
   synchronous step on the event loop: a turn sees either the old knowledge or the new,
   never a mix. Any problem leaves the old knowledge in place and is reported as
   `file:line: reason`.

Known cost: every distinct lexicon loaded keeps its jieba dictionary in memory until the
process restarts (the tokenizer cache is keyed by content and never evicted).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError

from dialogs.engine import Engine
from dialogs.flows.base import Flow
from dialogs.kb_check import check_knowledge
from knowledge.errors import KnowledgeError
from knowledge.lexicon import FILES as LEXICON_FILES
from knowledge.lexicon import LEXICON_DIR
from knowledge.loader import DATA_DIR, KnowledgeBase
from knowledge.matcher import Matcher

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Knowledge:
    """Everything the engine answers from, built and validated together."""

    kb: KnowledgeBase
    matcher: Matcher
    flows: dict[str, Flow]

    @property
    def version(self) -> str:
        return knowledge_version(self.kb, self.matcher)


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """What a reload did: `ok` False means the old knowledge is still served."""

    ok: bool
    changed: bool
    version: str  # the version served after the attempt
    entries: int
    problems: tuple[str, ...] = ()


def knowledge_version(kb: KnowledgeBase, matcher: Matcher) -> str:
    """KB content hash plus lexicon content hash: equal on every instance serving the same
    files, different after any edit to either."""
    return f"{kb.version}-{matcher.lexicon.digest[:8]}"


def build_knowledge(data_dir: Path, lexicon_dir: Path) -> Knowledge:
    """Load and check every file from a snapshot; raise KnowledgeError listing all problems.

    Blocking (file reads, jieba): call it on a worker thread.
    """
    with tempfile.TemporaryDirectory(prefix="yibao-reload-") as tmp:
        data = _snapshot(
            data_dir, Path(tmp) / "data", sorted(p.name for p in data_dir.glob("*.yaml"))
        )
        lexicon = _snapshot(lexicon_dir, Path(tmp) / "lexicon", list(LEXICON_FILES))
        checked = check_knowledge(data, lexicon, selftest=False)
        if not checked.ok or checked.kb is None:
            raise KnowledgeError(checked.findings.errors)
        matcher = Matcher(checked.kb, lexicon_dir=lexicon)
    return Knowledge(checked.kb, matcher, checked.flows)


def _snapshot(source: Path, target: Path, names: list[str]) -> Path:
    """Copy `names` (those that exist) from `source` to the new directory `target`."""
    target.mkdir(parents=True)
    for name in names:
        if (source / name).is_file():
            shutil.copyfile(source / name, target / name)
    return target


class Reloader:
    """Reloads one engine's knowledge from `data_dir` and `lexicon_dir`, one reload at a time."""

    def __init__(
        self, engine: Engine, data_dir: Path | None = None, lexicon_dir: Path | None = None
    ) -> None:
        self.engine = engine
        self.data_dir = data_dir or DATA_DIR
        self.lexicon_dir = lexicon_dir or LEXICON_DIR
        self._lock = asyncio.Lock()

    @property
    def version(self) -> str:
        return knowledge_version(self.engine.kb, self.engine.matcher)

    async def reload(self) -> ReloadOutcome:
        """Build and validate off the event loop, then swap, or keep serving the old KB."""
        async with self._lock:
            before = self.version
            try:
                knowledge = await asyncio.to_thread(
                    build_knowledge, self.data_dir, self.lexicon_dir
                )
            except KnowledgeError as exc:
                problems = tuple(str(p) for p in exc.problems)
                log.error(
                    "knowledge reload refused (%d problem(s)); still serving %s:\n%s",
                    len(problems),
                    before,
                    "\n".join(problems),
                )
                return ReloadOutcome(False, False, before, len(self.engine.kb.entries), problems)
            if knowledge.version == before:
                log.info("knowledge reload: files unchanged (%s)", before)
                return ReloadOutcome(True, False, before, len(knowledge.kb.entries))
            self.swap(knowledge)
            log.info("knowledge reloaded: %s -> %s", before, knowledge.version)
            return ReloadOutcome(True, True, knowledge.version, len(knowledge.kb.entries))

    def swap(self, knowledge: Knowledge) -> None:
        """Replace every reference in one synchronous step (no await: no turn runs between)."""
        self.engine.reload(knowledge.kb, knowledge.matcher)
        self.engine.flows = knowledge.flows
        # Like start-up (bot.wiring): long-lived knowledge out of the collector's walks.
        # Unfreeze first, so the replaced knowledge (cyclic, frozen by the last freeze) can
        # be collected instead of staying in the permanent generation for good.
        gc.unfreeze()
        gc.collect()
        gc.freeze()


class ReloadBroadcast:
    """Makes a reload reach every instance that shares one Redis.

    A reload that succeeded increments a generation counter (and records the version it
    produced); every instance compares the counter with the last generation it acted on
    (`follow`, run by a JobQueue job every few seconds: one GET) and reloads from its own
    files when it moved. A counter rather than pub/sub: an instance that was restarting or
    disconnected when the reload happened still catches up at its next check.
    """

    def __init__(self, client: Redis, prefix: str = "yibao:") -> None:
        self.client = client
        self.generation_key = f"{prefix}kb:generation"
        self.version_key = f"{prefix}kb:version"
        self._seen: int | None = None

    async def start(self) -> None:
        """Adopt the current generation: a starting instance has just read the files."""
        self._seen = await self._generation()

    async def announce(self, version: str) -> None:
        """Tell the other instances to reload; this one is already at `version`."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(self.generation_key)
            pipe.set(self.version_key, version)
            generation, _ = await pipe.execute()
        self._seen = int(generation)

    async def moved(self) -> bool:
        """True (once) when another instance announced a reload since we last looked."""
        current = await self._generation()
        if current == self._seen:
            return False
        self._seen = current
        return True

    async def announced_version(self) -> str | None:
        raw = await self.client.get(self.version_key)
        return raw.decode() if isinstance(raw, bytes) else raw

    async def _generation(self) -> int:
        raw = await self.client.get(self.generation_key)
        return int(raw) if raw is not None else 0


async def reload_everywhere(reloader: Reloader, broadcast: ReloadBroadcast | None) -> ReloadOutcome:
    """/reload and SIGHUP: reload here and, if it worked, have every other instance follow."""
    outcome = await reloader.reload()
    if outcome.ok and broadcast is not None:
        try:
            await broadcast.announce(outcome.version)
        except (RedisError, OSError) as exc:
            # This instance serves the new files; the others keep theirs until the next
            # /reload or SIGHUP reaches them (or they restart).
            log.warning("reload not announced to other instances (%s)", type(exc).__name__)
    return outcome


async def follow(reloader: Reloader, broadcast: ReloadBroadcast) -> ReloadOutcome | None:
    """The periodic check: reload when another instance announced a reload."""
    if not await broadcast.moved():
        return None
    outcome = await reloader.reload()
    announced = await broadcast.announced_version()
    if outcome.ok and announced is not None and announced != outcome.version:
        log.warning(
            "another instance reloaded to %s but this one's files give %s: "
            "are the knowledge files the same on every instance?",
            announced,
            outcome.version,
        )
    return outcome
