"""End to end: the real bot application ↔ PTB's HTTP stack ↔ the fake Bot API on 127.0.0.1.

Every scenario plays a Telegram user against the fake server and reads what the bot sent,
as Telegram itself would see it (the fake rejects invalid HTML, over-long texts and
oversized callback data with 400, which the bot would turn into an error message).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator

import pytest
from fake_bot_api import BOT_USERNAME, FakeBotAPI, Sent
from telegram.ext import Application
from telegram_harness import TOKEN, running_bot

from dialogs.engine import Engine
from dialogs.types import Incoming, Reply
from knowledge.loader import KnowledgeBase

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
async def bot(fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    async with running_bot(fake, monkeypatch) as app:
        yield app


async def say(fake: FakeBotAPI, chat_id: int, text: str, expect: int = 1) -> list[Sent]:
    """Send `text` and return the `expect` new messages the bot answered with."""
    before = len(fake.messages(chat_id))
    fake.user_text(chat_id, text)
    return (await fake.wait_messages(chat_id, before + expect))[before:]


async def press(
    fake: FakeBotAPI, message: Sent, data: str, expect: int = 1
) -> tuple[dict[str, object], list[Sent]]:
    before = len(fake.messages(message.chat_id))
    query = fake.press(message, data)
    answer = await fake.wait_answer(query)
    return answer, (await fake.wait_messages(message.chat_id, before + expect))[before:]


async def test_start_shows_welcome_menu_and_registers_chinese_commands(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    kb: KnowledgeBase,
) -> None:
    (menu,) = await say(fake, 1, "/start")
    assert menu.text.startswith(kb.text("welcome").splitlines()[0])
    assert ("天津新生儿参保（一步步办理）", "f:tianjin") in menu.buttons()
    names = [c["command"] for c in fake.commands]
    assert names == ["start", "menu", "tianjin", "suzhou", "help", "cancel", "forget", "about"]
    assert all(CJK.search(c["description"]) for c in fake.commands)


async def test_menu_buttons_lead_to_an_answer_with_bold_title(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    kb: KnowledgeBase,
) -> None:
    (menu,) = await say(fake, 2, "/menu")
    answer, (faq,) = await press(fake, menu, menu.callback("天津常见问题"))
    assert "text" not in answer  # a plain acknowledgement, no toast
    assert fake.edits == []  # navigation buttons never go stale: the menu keeps its keyboard
    assert faq.text.startswith(kb.menus["tianjin"].text)
    _, (entry,) = await press(fake, faq, faq.callback("交多少钱"))
    title = kb.entries["tj.cost"].title
    assert entry.html.startswith(f"<b>{title}</b>\n")
    assert entry.text.startswith(title)


async def test_keyword_jifen_opens_suzhou_help(fake: FakeBotAPI, bot: Application) -> None:  # type: ignore[type-arg]
    (reply,) = await say(fake, 3, "积分")
    assert "积分" in reply.text
    assert reply.buttons()


async def test_stale_button_gets_a_polite_answer_and_loses_its_keyboard(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    kb: KnowledgeBase,
) -> None:
    (menu,) = await say(fake, 4, "/start")
    # A flow step from a conversation that no longer exists (e.g. after /cancel or a restart).
    answer = await fake.wait_answer(fake.press(menu, "s:tianjin:gone:yes"))
    assert answer["text"] == kb.text("stale_button")  # the toast says it all (issue 13)
    (reply,) = await say(fake, 4, "/help")  # per-chat order: nothing else came in between
    assert fake.messages(4) == [menu, reply]
    assert [(int(e["chat_id"]), int(e["message_id"])) for e in fake.edits] == [(4, menu.message_id)]
    assert fake.messages(4)[0].markup is None  # the stale keyboard is gone


async def test_forget_asks_first_then_erases(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    kb: KnowledgeBase,
) -> None:
    await say(fake, 5, "积分")  # leaves a session behind
    (prompt,) = await say(fake, 5, "/forget")
    assert prompt.text == kb.text("forget_confirm")
    yes, no = [d for _, d in prompt.buttons()]
    assert yes.startswith("x:forget:yes:") and no == "x:forget:no"
    _, (done,) = await press(fake, prompt, yes)
    assert done.text.startswith(kb.text("forgotten"))
    assert fake.messages(5)[1].markup is None  # the confirmation cannot be pressed twice


async def test_sticker_gets_the_text_hint_and_the_menu(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    kb: KnowledgeBase,
) -> None:
    before = len(fake.messages(6))
    fake.sticker(6)
    (reply,) = (await fake.wait_messages(6, before + 1))[before:]
    assert reply.text.startswith(kb.text("non_text"))
    assert reply.buttons() and reply.buttons()[0][1] == "f:tianjin"


async def test_ten_thousand_characters_are_answered_within_limits(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    kb: KnowledgeBase,
) -> None:
    replies = await say(fake, 7, "积分入医要带什么材料" * 1000, expect=2)
    assert replies[0].text == kb.text("too_long", limit=2000)
    assert all(len(r.text) <= 4096 for r in replies)
    assert kb.text("error") not in [r.text for r in fake.messages(7)]


async def test_markup_in_user_text_is_escaped(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    kb: KnowledgeBase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nasty = "<b>积分</b> & </code> <script>"

    def echo(self: Engine, chat_id: int, incoming: Incoming) -> list[Reply]:
        return [Reply(title=incoming.text, text=f"你说：{incoming.text}\n\n&amp; <i>")]

    async def handle(self: Engine, chat_id: int, incoming: Incoming) -> list[Reply]:
        return echo(self, chat_id, incoming)

    monkeypatch.setattr(Engine, "handle", handle)
    (reply,) = await say(fake, 8, nasty)
    # The fake parsed it as Telegram would: the user's markup arrives as literal text.
    assert reply.text == f"{nasty}\n你说：{nasty}\n\n&amp; <i>"
    assert reply.html.startswith(
        "<b>&lt;b&gt;积分&lt;/b&gt; &amp; &lt;/code&gt; &lt;script&gt;</b>"
    )


async def test_group_answers_only_when_addressed(fake: FakeBotAPI, bot: Application) -> None:  # type: ignore[type-arg]
    group = -1001
    fake.user_text(group, "积分", chat_type="supergroup")  # chatter between people
    fake.user_text(group, "/help@some_other_bot", chat_type="supergroup")  # for another bot
    fake.user_text(group, f"@{BOT_USERNAME} 积分", chat_type="supergroup")  # for us
    (first,) = await fake.wait_messages(group, 1)
    assert "积分" in first.text
    fake.user_text(group, "/help", chat_type="supergroup")
    fake.user_text(group, "天津", chat_type="supergroup", reply_to=first)
    fake.user_message(
        group,
        "supergroup",
        sticker={
            "file_id": "x",
            "file_unique_id": "y",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        },
    )
    fake.user_text(group, f"/about@{BOT_USERNAME}", chat_type="supergroup")
    sent = await fake.wait_messages(group, 4)
    # Ordered per chat, so once the /about answer is here nothing else can still come.
    assert len(sent) == 4
    assert "使用方法" in sent[1].text
    assert "来源" in sent[3].text


async def test_reply_survives_429_and_502_exactly_once(fake: FakeBotAPI, bot: Application) -> None:  # type: ignore[type-arg]
    fake.fail_next("sendMessage", 429, retry_after=1)
    fake.fail_next("sendMessage", 502)
    (reply,) = await say(fake, 9, "/help")
    (after,) = await say(fake, 9, "/about")  # per-chat order: any duplicate would precede this
    assert [m.text for m in fake.messages(9)] == [reply.text, after.text]
    attempts = [p for p in fake.calls_of("sendMessage") if int(p["chat_id"]) == 9]
    assert len(attempts) == 4  # 429, 502, delivered, /about


async def test_slow_replies_show_typing(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = asyncio.Event()
    real_handle = Engine.handle

    async def slow(self: Engine, chat_id: int, incoming: Incoming) -> list[Reply]:
        await gate.wait()  # the turn is "thinking" until the test has seen "typing…"
        return await real_handle(self, chat_id, incoming)

    monkeypatch.setattr(Engine, "handle", slow)
    fake.user_text(10, "/help")
    (action,) = await fake.wait_calls("sendChatAction")
    assert (int(action["chat_id"]), action["action"]) == (10, "typing")
    assert fake.messages(10) == []
    gate.set()
    (reply,) = await fake.wait_messages(10, 1)
    assert "使用方法" in reply.text


async def test_fast_replies_do_not_show_typing(fake: FakeBotAPI, bot: Application) -> None:  # type: ignore[type-arg]
    await say(fake, 12, "/help")
    assert fake.calls_of("sendChatAction") == []


async def test_handler_failure_apologises_and_logs_without_text_or_token(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    kb: KnowledgeBase,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret_question = "我的孩子出生日期是2025年1月2日"

    async def broken(self: Engine, chat_id: int, incoming: Incoming) -> list[Reply]:
        raise RuntimeError(f"boom {incoming.text}")

    monkeypatch.setattr(Engine, "handle", broken)
    with caplog.at_level(logging.INFO):
        before = len(fake.messages(11))
        update_id = fake.user_text(11, secret_question)
        (reply,) = (await fake.wait_messages(11, before + 1))[before:]
    assert reply.text == kb.text("error")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"update {update_id} failed: RuntimeError" in logged
    assert secret_question not in logged
    assert TOKEN not in logged


async def test_redelivered_button_press_is_answered_without_a_reply(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
) -> None:
    """A press delivered again (already answered before a crash) gets no second reply, but
    its query is still answered, so the user's button stops spinning."""
    update_id = fake.user_text(14, "/menu")
    (menu,) = await fake.wait_messages(14, 1)
    engine: Engine = bot.handlers[0][0].callback.__self__.engine  # type: ignore[attr-defined]
    async with engine.store.lock(14):  # the turn saves just after its reply
        session = await engine.store.load(14)
        assert session is not None
        session.answered.append(update_id + 1)  # the press below, as if answered before a crash
        await engine.store.save(session)
    query = fake.press(menu, menu.callback("天津常见问题"))
    answer = await fake.wait_answer(query)
    assert "text" not in answer
    assert len(fake.messages(14)) == 1  # no second reply
