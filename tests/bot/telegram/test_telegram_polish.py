"""Issue 13, seen through a Telegram client, against the fake Bot API (the real PTB stack):
a double tap answers the step once and says nothing more than its toast; /about ends with
the main-menu button; group replies are threaded to the asker; the source line never says
its title twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from fake_bot_api import BOT_USERNAME, FakeBotAPI, Sent
from telegram.ext import Application
from telegram_harness import running_bot

from dialogs import callbacks as cb
from dialogs.engine import Engine
from dialogs.session import Session
from knowledge.loader import KnowledgeBase


@pytest.fixture
async def bot(fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    async with running_bot(fake, monkeypatch) as app:
        yield app


async def say(fake: FakeBotAPI, chat_id: int, text: str, chat_type: str = "private") -> list[Sent]:
    """Send `text`; the messages of its turn (the last one carries a keyboard)."""
    before = len(fake.messages(chat_id))
    fake.user_text(chat_id, text, chat_type=chat_type)
    sent = await fake.wait_until(
        chat_id, lambda s: len(s) > before and s[-1].markup is not None, timeout=30
    )
    return sent[before:]


async def test_a_double_tap_answers_the_step_then_shows_nothing_more(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    kb: KnowledgeBase,
) -> None:
    chat = 31
    (*_, question) = await say(fake, chat, "/suzhou")
    data = next(d for _, d in question.buttons() if d.startswith("s:suzhou:permit:"))
    first = await fake.wait_answer(fake.press(question, data))
    assert "text" not in first  # a live button: the step is answered
    await fake.wait_until(chat, lambda s: "参加社会保险" in s[-1].text, timeout=30)
    after_first = len(fake.messages(chat))
    second = await fake.wait_answer(fake.press(question, data))  # the double tap
    assert second["text"] == kb.text("stale_button")  # the toast says it
    # Per-chat order: anything the second tap sent would come before this reply.
    (help_reply,) = await say(fake, chat, "/help")
    assert fake.messages(chat)[after_first:] == [help_reply]
    texts = "\n".join(m.text for m in fake.messages(chat))
    assert kb.text("stale_button") not in texts  # no "expired" message, no menu under it


async def test_about_ends_with_the_main_menu_button(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
) -> None:
    (*_, last) = await say(fake, 32, "/about")
    assert "发布日期" in fake.messages(32)[0].text
    assert last.buttons()[-1][1] == cb.menu("main")


async def test_group_replies_are_threaded_to_the_asker(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
) -> None:
    group = -100777
    sent = await say(fake, group, f"/help@{BOT_USERNAME}", chat_type="supergroup")
    (asked,) = [u for u in fake.injected.values() if u["message"]["chat"]["id"] == group]
    calls = [p for p in fake.calls_of("sendMessage") if int(p["chat_id"]) == group]
    assert len(calls) == len(sent)
    thread = calls[0]["reply_parameters"]
    assert isinstance(thread, dict)
    assert thread["message_id"] == asked["message"]["message_id"]
    assert thread["allow_sending_without_reply"] is True
    # A private chat is a conversation of two: nothing to thread.
    await say(fake, 33, "/help")
    private = [p for p in fake.calls_of("sendMessage") if int(p["chat_id"]) == 33]
    assert all("reply_parameters" not in p for p in private)


def test_the_source_line_never_repeats_its_title(engine: Engine, kb: KnowledgeBase) -> None:
    same = [
        e
        for e in kb.entries.values()
        if (s := kb.sources.get(e.source.file)) and e.source.section.strip() == s.title
    ]
    assert same, "no entry whose section is its page: the check would prove nothing"
    for entry in kb.entries.values():
        title = kb.sources[entry.source.file].title
        text = engine.entry_reply(Session(chat_id=1), entry.id, date(2026, 3, 2)).text
        assert f"{title}（{title}）" not in text
        assert f"来源：{title}" in text
