"""Hot reload: validation first, `file:line` problems, the old knowledge kept on failure,
turns answered correctly while a new lexicon is being built, and propagation between two
instances through a real Redis."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.ops.reloader import (
    ReloadBroadcast,
    Reloader,
    ReloadOutcome,
    build_knowledge,
    follow,
    reload_everywhere,
)
from bot.telegram.admin import MAX_PROBLEMS_SHOWN, reload_message
from bot.wiring import build_engine
from dialogs.engine import Engine
from dialogs.stores.redis import RedisStore
from dialogs.types import Incoming
from knowledge.errors import KnowledgeError
from knowledge.loader import load_kb

QUESTION = "天津新生儿医保怎么办"
OLD_HEAD = "天津新生儿参保（办理医保卡）要点："
NEW_HEAD = "天津新生儿参保（办理医保卡）要点（已更新）："


@pytest.fixture
async def engine(files: tuple[Path, Path]) -> AsyncIterator[Engine]:
    data, lexicon = files
    served = build_engine("memory://", kb_dir=data, lexicon_dir=lexicon)
    yield served
    await served.store.close()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def duplicate_title(data: Path) -> int:
    """Break tianjin.yaml with a duplicate key; return the line the loader must name."""
    path = data / "tianjin.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("    title: "))
    lines.insert(index + 1, "    title: 重复的标题")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index + 2


async def answer(engine: Engine, chat_id: int = 1, text: str = QUESTION) -> str:
    replies = await engine.handle(chat_id, Incoming(text=text))
    return "\n".join(r.text for r in replies)


async def test_a_broken_file_is_named_with_its_line_and_the_old_kb_keeps_answering(
    engine: Engine, files: tuple[Path, Path]
) -> None:
    data, lexicon = files
    reloader = Reloader(engine, data, lexicon)
    kb, matcher, before = engine.kb, engine.matcher, reloader.version
    assert OLD_HEAD in await answer(engine)
    edit(data / "tianjin.yaml", OLD_HEAD, NEW_HEAD)  # a good edit…
    line = duplicate_title(data)  # …in a file that no longer loads

    outcome = await reloader.reload()

    assert not outcome.ok and not outcome.changed
    assert any(p.startswith(f"tianjin.yaml:{line}: ") for p in outcome.problems), outcome
    assert engine.kb is kb and engine.matcher is matcher and outcome.version == before
    assert OLD_HEAD in await answer(engine, chat_id=2)
    message = reload_message(engine.kb, outcome, None)
    assert f"tianjin.yaml:{line}:" in message and before in message


async def test_a_fixed_file_is_served_after_the_reload(
    engine: Engine, files: tuple[Path, Path]
) -> None:
    data, lexicon = files
    reloader = Reloader(engine, data, lexicon)
    before = reloader.version
    edit(data / "tianjin.yaml", OLD_HEAD, NEW_HEAD)

    outcome = await reloader.reload()

    assert outcome.ok and outcome.changed and outcome.version != before
    assert (
        reloader.version
        == outcome.version
        == f"{load_kb(data).version}-" + (engine.matcher.lexicon.digest[:8])
    )
    assert NEW_HEAD in await answer(engine)
    assert engine.flows and all(f is not None for f in engine.flows.values())
    again = await reloader.reload()
    assert again.ok and not again.changed and again.version == outcome.version


async def test_a_broken_lexicon_line_is_named_and_the_old_matcher_kept(
    engine: Engine, files: tuple[Path, Path]
) -> None:
    data, lexicon = files
    userdict = lexicon / "userdict.txt"
    text = userdict.read_text(encoding="utf-8").rstrip("\n") + "\n坏词 很多\n"
    userdict.write_text(text, encoding="utf-8")
    line = text.count("\n")
    matcher = engine.matcher

    outcome = await Reloader(engine, data, lexicon).reload()

    assert not outcome.ok
    wrong = f"userdict.txt:{line}: frequency of '坏词' must be a positive integer"
    assert outcome.problems == (wrong,)
    assert engine.matcher is matcher
    assert OLD_HEAD in await answer(engine)


def test_build_knowledge_reports_every_file_at_once(files: tuple[Path, Path]) -> None:
    data, lexicon = files
    line = duplicate_title(data)
    (lexicon / "stopwords.txt").write_text("两个 词\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        build_knowledge(data, lexicon)
    shown = [str(p) for p in caught.value.problems]
    assert any(p.startswith(f"tianjin.yaml:{line}: ") for p in shown)
    assert "stopwords.txt:1: one stop word per line" in shown


def test_a_reload_refuses_what_kb_check_refuses_a_dated_note_no_flow_provides(
    files: tuple[Path, Path],
) -> None:
    """`/reload` and `yibao kb check` run one check (dialogs.kb_check): a dated note that no
    flow provides used to pass the reload and fail only the command."""
    data, lexicon = files
    edit(data / "suzhou.yaml", "dated: suzhou_calendar", "dated: moon_phase")
    with pytest.raises(KnowledgeError) as caught:
        build_knowledge(data, lexicon)
    shown = [str(p) for p in caught.value.problems]
    assert any("no flow provides dated note 'moon_phase'" in p for p in shown), shown
    assert all(p.startswith("suzhou.yaml:") for p in shown), shown


async def test_turns_during_a_lexicon_reload_answer_from_one_whole_matcher(
    engine: Engine, files: tuple[Path, Path]
) -> None:
    """The new lexicon's jieba dictionary is built while turns go on: every turn gets the
    full answer, and the engine switches from one complete matcher to the other."""
    data, lexicon = files
    expected = await answer(engine)
    with (lexicon / "userdict.txt").open("a", encoding="utf-8") as handle:
        handle.write("\n医保测试新词 3000\n")  # a new dictionary, so a new jieba tokenizer
    old = engine.matcher
    reload = asyncio.ensure_future(Reloader(engine, data, lexicon).reload())
    seen: set[int] = set()
    turns = 0
    while not reload.done() or turns == 0:
        assert await answer(engine, chat_id=100 + turns % 7) == expected
        seen.add(id(engine.matcher))
        turns += 1
        await asyncio.sleep(0.005)  # leave the reload thread the GIL most of the time
    outcome = await reload
    assert outcome.ok and outcome.changed and engine.matcher is not old
    assert turns > 1 and id(old) in seen
    assert seen <= {id(old), id(engine.matcher)}
    assert await answer(engine) == expected


def test_the_admin_sees_the_first_problems_and_how_many_more() -> None:
    kb = load_kb()
    problems = tuple(f"x.yaml:{n}: bad" for n in range(1, 31))
    text = reload_message(kb, ReloadOutcome(False, False, "v1", 10, problems), None)
    assert "x.yaml:1: bad" in text and f"x.yaml:{MAX_PROBLEMS_SHOWN}: bad" in text
    assert f"x.yaml:{MAX_PROBLEMS_SHOWN + 1}: bad" not in text
    assert str(30 - MAX_PROBLEMS_SHOWN) in text.splitlines()[-1]
    done = reload_message(kb, ReloadOutcome(True, True, "v2", 10), 2.0)
    assert "v2" in done and len(done.splitlines()) == 2  # the others follow within 2 s


async def test_a_reload_reaches_another_instance_through_redis(
    redis_url: str, files: tuple[Path, Path]
) -> None:
    data, lexicon = files
    engines = [build_engine(redis_url, kb_dir=data, lexicon_dir=lexicon) for _ in range(2)]
    try:
        stores = [getattr(e.store, "inner", e.store) for e in engines]  # past a ResilientStore
        assert all(isinstance(s, RedisStore) for s in stores)
        here, there = (Reloader(e, data, lexicon) for e in engines)
        casts = [ReloadBroadcast(s.client) for s in stores if isinstance(s, RedisStore)]
        for cast in casts:
            await cast.start()
        assert await follow(there, casts[1]) is None  # nothing announced yet
        edit(data / "tianjin.yaml", OLD_HEAD, NEW_HEAD)

        outcome = await reload_everywhere(here, casts[0])
        assert outcome.changed and OLD_HEAD in await answer(engines[1])

        followed = await follow(there, casts[1])
        assert followed is not None and followed.changed
        assert there.version == here.version == outcome.version
        assert NEW_HEAD in await answer(engines[1], chat_id=2)
        assert await follow(there, casts[1]) is None  # once per announcement
        assert await follow(here, casts[0]) is None  # the announcer does not reload again
    finally:
        for e in engines:
            await e.store.close()


async def test_a_reload_still_applies_here_when_redis_cannot_announce_it(
    engine: Engine, files: tuple[Path, Path]
) -> None:
    from net import free_port
    from redis.asyncio import Redis

    data, lexicon = files
    edit(data / "tianjin.yaml", OLD_HEAD, NEW_HEAD)
    client = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
    try:
        outcome = await reload_everywhere(Reloader(engine, data, lexicon), ReloadBroadcast(client))
    finally:
        await client.aclose()
    assert outcome.ok and outcome.changed
    assert NEW_HEAD in await answer(engine)


class _Cyclic:
    """Stands for replaced knowledge that only the cycle collector can free."""

    def __init__(self) -> None:
        self.me = self


async def test_a_reload_frees_the_knowledge_it_replaced(
    engine: Engine, files: tuple[Path, Path]
) -> None:
    """Reloads freeze the new knowledge out of the collector's walks (as start-up does);
    what an earlier freeze kept must be unfrozen, or every reload leaks the old one."""
    data, lexicon = files
    reloader = Reloader(engine, data, lexicon)
    replaced = _Cyclic()
    old = weakref.ref(replaced)
    gc.freeze()  # as at start-up, with `replaced` alive
    try:
        del replaced  # now garbage, but frozen
        edit(data / "tianjin.yaml", OLD_HEAD, NEW_HEAD)
        assert (await reloader.reload()).changed
        gc.collect()
        assert old() is None
    finally:
        gc.unfreeze()
