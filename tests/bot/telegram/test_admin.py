"""Admin commands through the real bot (PTB, our handlers) against the fake Bot API:
/reload and /stats for the ids in YIBAO_ADMIN_IDS only, SIGHUP, and what everyone else gets."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from fake_bot_api import FakeBotAPI
from telegram_harness import running_bot

from bot.ops.operations import operations_of
from bot.telegram.render import render_all
from bot.wiring import build_engine
from dialogs.types import Incoming
from knowledge.loader import load_kb

ADMIN = 7001
USER = 7002
QUESTION = "天津新生儿医保怎么办"
OLD_HEAD = "天津新生儿参保（办理医保卡）要点："
NEW_HEAD = "天津新生儿参保（办理医保卡）要点（已更新）："


def admin_env(files: tuple[Path, Path], **extra: str) -> dict[str, str]:
    data, lexicon = files
    return {
        "YIBAO_ADMIN_IDS": f"{ADMIN}, 1",
        "YIBAO_KB_DIR": str(data),
        "YIBAO_LEXICON_DIR": str(lexicon),
        **extra,
    }


async def say(fake: FakeBotAPI, chat_id: int, text: str) -> str:
    """Send `text` as the user of `chat_id`; the bot's next message, as plain text."""
    count = len(fake.messages(chat_id)) + 1
    fake.user_text(chat_id, text)
    return (await fake.wait_messages(chat_id, count, timeout=30))[count - 1].text


def break_tianjin(data: Path) -> int:
    path = data / "tianjin.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("    title: "))
    lines.insert(index + 1, "    title: 重复的标题")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index + 2


def rewrite_head(data: Path) -> None:
    path = data / "tianjin.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(OLD_HEAD, NEW_HEAD, 1), "utf-8")


async def test_reload_refuses_a_broken_file_then_serves_the_fixed_one(
    fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch, files: tuple[Path, Path]
) -> None:
    data, _ = files
    kb = load_kb()
    async with running_bot(fake, monkeypatch, **admin_env(files)):
        assert OLD_HEAD in await say(fake, USER, QUESTION)
        pristine = (data / "tianjin.yaml").read_text(encoding="utf-8")
        line = break_tianjin(data)

        refused = await say(fake, ADMIN, "/reload")
        assert refused.startswith(kb.text("admin_reload_failed", count=1, version="X")[:6])
        assert f"tianjin.yaml:{line}: " in refused
        assert OLD_HEAD in await say(fake, USER, QUESTION)  # still the old knowledge

        (data / "tianjin.yaml").write_text(pristine, encoding="utf-8")
        rewrite_head(data)
        done = await say(fake, ADMIN, "/reload")
        version = f"{load_kb(data).version}-"
        assert version in done and done.startswith(
            kb.text("admin_reload_done", version="X", entries=0)[:6]
        )
        assert NEW_HEAD in await say(fake, USER, QUESTION)


async def test_non_admins_get_the_normal_answer_to_an_unknown_command(
    fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch, files: tuple[Path, Path]
) -> None:
    reference = build_engine("memory://")
    expected = {
        text: [m.html for m in render_all(await reference.handle(1, Incoming(text=text)))]
        for text in ("/reload", "/stats")
    }
    await reference.store.close()
    async with running_bot(fake, monkeypatch, **admin_env(files)):
        for text in ("/reload", "/stats"):
            before = len(fake.messages(USER))
            fake.user_text(USER, text)
            got = await fake.wait_messages(USER, before + len(expected[text]), timeout=30)
            assert [m.html for m in got[before:]] == expected[text]
        # An admin in a group is not an admin there: the summary is for a private chat.
        fake.user_text(-500, "/stats", chat_type="supergroup", user_id=ADMIN)
        await say(fake, USER, "/help")  # once this is answered, the group update was handled
    title = load_kb().text("report_title")
    assert not any(title in m.text for m in fake.sent)


async def test_stats_for_an_admin(
    fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch, files: tuple[Path, Path]
) -> None:
    kb = load_kb()
    async with running_bot(fake, monkeypatch, **admin_env(files)):
        await say(fake, USER, QUESTION)
        await say(fake, USER, "火星上怎么办医保")
        stats = await say(fake, ADMIN, "/stats")
    assert stats.startswith(kb.text("report_title"))
    assert "2" in stats  # two turns, by one chat


async def hangup(app: object) -> None:
    """Send ourselves SIGHUP and wait until the reload it started has finished."""
    ops = operations_of(app)  # type: ignore[arg-type]
    os.kill(os.getpid(), signal.SIGHUP)
    for _ in range(500):  # the loop runs the signal handler at its next iteration
        if ops.reloading:
            break
        await asyncio.sleep(0.01)
    assert ops.reloading, "SIGHUP did not start a reload"
    await ops.idle()


async def test_sighup_reloads_and_tells_the_admins_when_files_are_refused(
    fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch, files: tuple[Path, Path]
) -> None:
    data, _ = files
    async with running_bot(fake, monkeypatch, **admin_env(files)) as app:
        assert OLD_HEAD in await say(fake, USER, QUESTION)
        rewrite_head(data)
        await hangup(app)
        assert NEW_HEAD in await say(fake, USER, QUESTION)
        assert fake.messages(ADMIN) == []  # a reload that worked is only logged

        await say(fake, ADMIN, "/help")  # Telegram lets a bot write to users who wrote first
        line = break_tianjin(data)
        await hangup(app)
        (_, told) = await fake.wait_messages(ADMIN, 2, timeout=30)
        assert f"tianjin.yaml:{line}: " in told.text
        assert NEW_HEAD in await say(fake, USER, QUESTION)
