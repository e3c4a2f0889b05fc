"""The turn engine through its one public function, with a real in-memory store."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from dialogs.engine import MAX_CHARS, Engine
from dialogs.hygiene import clean_line
from dialogs.session import Session
from dialogs.types import Incoming, Reply


def texts(replies: list[Reply]) -> str:
    return "\n".join(r.plain() for r in replies)


def callbacks(replies: list[Reply]) -> list[str]:
    return [b.callback for r in replies for row in r.buttons for b in row]


async def say(engine: Engine, text: str, chat: int = 1) -> list[Reply]:
    return await engine.handle(chat, Incoming(text=text, today=date(2026, 3, 1)))


async def press(engine: Engine, data: str, chat: int = 1) -> list[Reply]:
    return await engine.handle(chat, Incoming(callback=data, today=date(2026, 3, 1)))


async def test_start_shows_welcome_and_main_menu(engine: Engine) -> None:
    replies = await say(engine, "/start")
    assert engine.kb.text("welcome").splitlines()[0] in texts(replies)
    assert "m:tianjin" in callbacks(replies) or "f:tianjin" in callbacks(replies)
    assert all(len(c.encode()) <= 64 for c in callbacks(replies))


@pytest.mark.parametrize("word", ["菜单", "帮助", "/menu", "/help"])
async def test_menu_words_show_the_main_menu(engine: Engine, word: str) -> None:
    replies = await say(engine, word)
    assert engine.kb.menus["main"].text in texts(replies)


async def test_factual_answer_ends_with_source_year_and_official_channel(engine: Engine) -> None:
    replies = await say(engine, "天津新生儿医保要交多少钱")
    answer = replies[-1]
    assert answer.entry is not None
    entry = engine.kb.entries[answer.entry]
    assert entry.applies_to in answer.text
    assert entry.source.section in answer.text
    assert "官方" in answer.text.splitlines()[-1]


async def test_entry_button_answers_that_entry(engine: Engine) -> None:
    entry_id = next(iter(engine.kb.entries))
    replies = await press(engine, f"e:{entry_id}")
    assert replies[-1].entry == entry_id


async def test_unknown_or_forged_callback_is_answered_politely(engine: Engine) -> None:
    for data in ("e:no.such.entry", "zz", "", "s:tianjin:whatever", "m:../../etc", "c:shanghai"):
        replies = await press(engine, data)
        assert engine.kb.text("stale_button") in texts(replies), data


async def test_empty_and_whitespace_input_get_a_hint_and_the_menu(engine: Engine) -> None:
    for raw in ("", "   ", "\u200b\u200f", "\x00\x01"):
        replies = await say(engine, raw)
        assert engine.kb.text("empty") in texts(replies)
        assert callbacks(replies)


async def test_oversized_input_is_answered_from_its_beginning_with_a_notice(engine: Engine) -> None:
    replies = await say(engine, "天津新生儿医保要交多少钱" + "啊" * (MAX_CHARS * 10))
    assert engine.kb.text("too_long", limit=MAX_CHARS) in texts(replies)
    assert len(replies) >= 2


async def test_forget_asks_first_then_erases(engine: Engine) -> None:
    await say(engine, "苏州积分入医什么时候申请")
    assert await engine.store.load(1) is not None
    prompt = await say(engine, "/forget")
    (yes,) = [c for c in callbacks(prompt) if c.startswith("x:forget:yes:")]
    assert "x:forget:no" in callbacks(prompt)
    kept = await press(engine, "x:forget:no")
    assert engine.kb.text("forget_kept") in texts(kept)
    assert await engine.store.load(1) is not None
    assert engine.kb.text("forget_confirm") in texts(await press(engine, yes))  # used up
    prompt = await say(engine, "/forget")
    (yes,) = [c for c in callbacks(prompt) if c.startswith("x:forget:yes:")]
    gone = await press(engine, yes)
    assert engine.kb.text("forgotten") in texts(gone)
    assert await engine.store.load(1) is None


async def test_about_lists_every_source_with_its_date(engine: Engine) -> None:
    out = texts(await say(engine, "/about"))
    for source in engine.kb.sources.values():
        assert source.title in out and source.published in out


async def test_unknown_saved_state_falls_back_to_menu_with_notice(engine: Engine) -> None:
    await engine.store.save(Session(chat_id=5, flow="tianjin", state="renamedInV2"))
    replies = await say(engine, "你好", chat=5)
    assert engine.kb.text("unknown_state") in texts(replies)
    session = await engine.store.load(5)
    assert session is not None and session.flow is None


async def test_unknown_saved_flow_falls_back_too(engine: Engine) -> None:
    await engine.store.save(Session(chat_id=6, flow="shanghai", state="ask"))
    replies = await say(engine, "天津新生儿医保要交多少钱", chat=6)
    assert engine.kb.text("unknown_state") in texts(replies)
    assert replies[-1].entry is not None  # and the question is still answered


async def test_cancel_outside_a_flow_is_harmless(engine: Engine) -> None:
    for word in ("/cancel", "重新开始", "返回"):
        replies = await say(engine, word)
        assert engine.kb.menus["main"].text in texts(replies)


async def test_chats_are_independent(engine: Engine) -> None:
    await say(engine, "苏州积分入医什么时候申请", chat=1)
    await say(engine, "天津新生儿医保要交多少钱", chat=2)
    one, two = await engine.store.load(1), await engine.store.load(2)
    assert one is not None and two is not None
    assert one.city == "suzhou" and two.city == "tianjin"


def test_clean_line_strips_controls_and_keeps_chinese() -> None:
    assert clean_line("\u200b天津\u202e\x00 新生儿\n\t医保 ") == "天津 新生儿 医保"
    assert clean_line("\ud800abc") == "abc"


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 5, 31), "还没开始"),
        (date(2026, 6, 1), "正在申请期内"),
        (date(2026, 8, 31), "最后一天"),
        (date(2026, 9, 1), "已经结束"),
    ],
)
async def test_window_answer_carries_todays_calendar_from_the_flow_rule(
    engine: Engine, today: date, expected: str
) -> None:
    replies = await engine.handle(9, Incoming(callback="e:sz.window", today=today))
    answer = replies[-1]
    assert answer.entry == "sz.window"
    assert expected in answer.text
    assert f"{today.year}年{today.month}月{today.day}日" in answer.text
    # The note sits between the curated answer and the source footer.
    assert answer.text.index(expected) < answer.text.index("来源")


async def test_entries_without_a_dated_note_are_unchanged_by_the_date(engine: Engine) -> None:
    early = await engine.handle(10, Incoming(callback="e:tj.cost", today=date(2026, 1, 1)))
    late = await engine.handle(11, Incoming(callback="e:tj.cost", today=date(2026, 12, 1)))
    assert early[-1].text == late[-1].text


@pytest.mark.parametrize("word", ["菜单", "积分", "新生儿"])
async def test_keywords_work_inside_a_flow_then_offer_to_continue(
    engine: Engine, word: str
) -> None:
    await say(engine, "/suzhou", chat=20)
    replies = await say(engine, word, chat=20)
    assert engine.kb.text("not_covered") not in texts(replies)
    assert "k:cont" in callbacks(replies)
    session = await engine.store.load(20)
    assert session is not None and session.flow == "suzhou"


async def test_quit_word_leaves_the_flow_outside_the_terminal(engine: Engine) -> None:
    await say(engine, "/tianjin", chat=21)
    replies = await say(engine, "退出", chat=21)
    assert engine.kb.text("cancelled") in texts(replies)
    session = await engine.store.load(21)
    assert session is not None and session.flow is None


async def test_help_word_gives_the_help_text(engine: Engine) -> None:
    replies = await say(engine, "帮助")
    assert engine.kb.text("help").splitlines()[0] in texts(replies)


async def test_a_question_waiting_for_its_city_is_kept_masked(engine: Engine) -> None:
    await say(engine, "宝宝医保去哪里办 我电话13812345678", chat=22)
    session = await engine.store.load(22)
    assert session is not None
    pending = str(session.slots.get("pending_q"))
    assert "13812345678" not in pending and "[PHONE]" in pending


async def test_a_menus_buttons_are_built_once_and_anew_after_a_reload(engine: Engine) -> None:
    first, again = await say(engine, "菜单"), await say(engine, "菜单", chat=2)
    assert first[0].buttons is again[0].buttons  # built once for this knowledge
    menus = dict(engine.kb.menus)
    main = menus["main"]
    row = main.buttons[0]
    renamed = row[0].model_copy(update={"label": "改过的标签"})
    menus["main"] = main.model_copy(update={"buttons": [[renamed, *row[1:]], *main.buttons[1:]]})
    engine.reload(dataclasses.replace(engine.kb, menus=menus), engine.matcher)
    after = await say(engine, "菜单", chat=3)
    assert after[0].buttons[0][0].text == "改过的标签"
    assert callbacks(after) == callbacks(first)
