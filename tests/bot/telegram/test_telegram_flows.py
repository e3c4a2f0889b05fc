"""The guided flows through Telegram: Tianjin by buttons, Suzhou by typed answers.

Each turn of a flow ends with a message that carries a keyboard (the next question, or the
final "again / main menu" choice), which is how these tests know a turn is complete.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fake_bot_api import FakeBotAPI, Sent
from telegram.ext import Application
from telegram_harness import running_bot

from knowledge.loader import KnowledgeBase


@pytest.fixture
async def bot(fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    async with running_bot(fake, monkeypatch) as app:
        yield app


async def turn_done(fake: FakeBotAPI, chat_id: int, before: int) -> list[Sent]:
    """The messages of the turn that started when the chat had `before` messages."""
    sent = await fake.wait_until(chat_id, lambda s: len(s) > before and s[-1].markup is not None)
    return sent[before:]


def flow_buttons(message: Sent) -> list[str]:
    return [data for _, data in message.buttons() if data.startswith("s:")]


async def test_tianjin_flow_by_buttons_to_the_checklist(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    kb: KnowledgeBase,
) -> None:
    chat = 21
    fake.user_text(chat, "/start")
    (menu,) = await turn_done(fake, chat, 0)
    pressed: list[tuple[Sent, str]] = []
    question = menu
    data = menu.callback("天津新生儿参保")
    for _ in range(12):
        before = len(fake.messages(chat))
        answer = await fake.wait_answer(fake.press(question, data))
        assert "text" not in answer  # a live button: acknowledged, no "expired" toast
        pressed.append((question, data))
        replies = await turn_done(fake, chat, before)
        question = replies[-1]
        choices = flow_buttons(question)
        if not choices:
            break
        data = choices[0]
    texts = "\n".join(m.text for m in fake.messages(chat))
    assert len(pressed) >= 4  # menu, then at least three questions answered by button
    assert kb.text("stale_button") not in texts
    assert "f:tianjin" in [d for _, d in question.buttons()]  # the end: "again" or menu
    assert "材料" in texts  # the checklist of what to bring
    # Every keyboard that moved the flow on is gone (the menu's own stays usable).
    retired = {int(e["message_id"]) for e in fake.edits}
    assert {m.message_id for m, _ in pressed[1:]} <= retired

    # A second tap on an answered question (a stale client view) is refused by the toast
    # alone: no message over the live one (issue 13).
    first_question, first_answer = pressed[1]
    before = len(fake.messages(chat))
    answer = await fake.wait_answer(fake.press(first_question, first_answer))
    assert answer["text"] == kb.text("stale_button")
    fake.user_text(chat, "/help")
    (reply,) = (await turn_done(fake, chat, before))[-1:]
    assert fake.messages(chat)[before:] == [reply]


async def type_answers(fake: FakeBotAPI, chat: int, answers: list[str]) -> list[Sent]:
    fake.user_text(chat, "/suzhou")
    await turn_done(fake, chat, 0)
    for text in answers:
        before = len(fake.messages(chat))
        fake.user_text(chat, text)
        await turn_done(fake, chat, before)
    return fake.messages(chat)


def verdict_line(kb: KnowledgeBase, key: str) -> str:
    line: str = kb.flow_text["suzhou"]["text"][key].splitlines()[0]
    return line


async def test_suzhou_eligibility_by_typed_answers(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    kb: KnowledgeBase,
) -> None:
    sent = await type_answers(
        fake, 22, ["已办理", "参加了", "满一年", "姑苏区", "小学", "是", "没参加过"]
    )
    assert any(m.text.startswith(verdict_line(kb, "eligible")) for m in sent)
    assert not any(m.text.startswith(verdict_line(kb, "ineligible")) for m in sent)


async def test_suzhou_without_residence_permit_is_not_eligible(
    fake: FakeBotAPI,
    bot: Application,  # type: ignore[type-arg]
    kb: KnowledgeBase,
) -> None:
    sent = await type_answers(fake, 23, ["没有"])
    assert sent[-1].text.startswith(verdict_line(kb, "ineligible"))
