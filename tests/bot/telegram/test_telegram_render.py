"""Rendering engine replies for Telegram: escaping, the bold title, splitting, keyboards."""

from __future__ import annotations

import pytest
from fake_bot_api import HtmlError, parse_html
from hypothesis import given
from hypothesis import strategies as st

from bot.telegram.render import MAX_MESSAGE, keyboard, render, render_all, utf16_len
from dialogs.types import Button, Reply
from knowledge.loader import KnowledgeBase


def test_user_markup_is_escaped_and_title_bold() -> None:
    (out,) = render(Reply(title="<i>题</i>", text="a < b & c > d </code>"))
    assert out.html == "<b>&lt;i&gt;题&lt;/i&gt;</b>\na &lt; b &amp; c &gt; d &lt;/code&gt;"
    assert parse_html(out.html) == "<i>题</i>\na < b & c > d </code>"
    assert out.markup is None


def test_keyboard_rides_on_the_last_part_only() -> None:
    text = "\n\n".join("段" * 3000 for _ in range(3))
    parts = render(Reply(text=text, buttons=((Button("是", "s:x:yes"), Button("否", "s:x:no")),)))
    assert len(parts) == 3
    assert [p.markup is not None for p in parts] == [False, False, True]
    last = parts[-1].markup
    assert last is not None
    assert [[b.callback_data for b in row] for row in last.inline_keyboard] == [
        ["s:x:yes", "s:x:no"]
    ]


def test_split_on_paragraphs_keeps_them_whole() -> None:
    paragraphs = [f"第{i}段" + "字" * 1500 for i in range(6)]
    parts = render(Reply(text="\n\n".join(paragraphs)))
    assert all(utf16_len(p.html) <= MAX_MESSAGE for p in parts)
    rebuilt = [para for p in parts for para in p.html.split("\n\n")]
    assert rebuilt == paragraphs


def test_split_never_cuts_an_entity() -> None:
    text = "&" * 5000  # escapes to 25 000 characters with no paragraph or line to split on
    parts = render(Reply(text=text))
    assert all(utf16_len(p.html) <= MAX_MESSAGE for p in parts)
    assert "".join(parse_html(p.html) for p in parts) == text


def test_emoji_count_double_as_telegram_counts_them() -> None:
    parts = render(Reply(text="😀" * 3000))
    assert len(parts) == 2
    assert all(utf16_len(p.html) <= MAX_MESSAGE for p in parts)


def test_oversized_callback_data_is_refused() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        keyboard(((Button("x", "e:" + "长" * 30),),))


def test_every_menu_renders_within_telegram_limits(kb: KnowledgeBase) -> None:
    for menu in kb.menus.values():
        rows = tuple(
            tuple(Button(b.label, b.action.replace("entry:", "e:")) for b in row)
            for row in menu.buttons
        )
        parts = render(Reply(text=menu.text, buttons=rows))
        shown = "".join(parse_html(part.html) for part in parts)
        assert shown.strip() == menu.text.strip()  # the whole text, well-formed, nothing lost
        assert all(utf16_len(p.html) <= MAX_MESSAGE for p in parts)


@given(
    st.text(alphabet=st.sampled_from("ab<>&;\n 汉😀#"), max_size=300),
    st.one_of(st.none(), st.text(alphabet=st.sampled_from("<>&b汉 "), min_size=1, max_size=40)),
    st.integers(min_value=60, max_value=400),
)
def test_any_text_renders_to_valid_html_that_reads_back_the_same(
    text: str, title: str | None, limit: int
) -> None:
    reply = Reply(text=text, title=title)
    if not (title or "").strip() and not text.strip():
        return
    parts = render_all([reply], limit=limit)
    for part in parts:
        assert utf16_len(part.html) <= limit
        try:
            parse_html(part.html)
        except HtmlError as exc:  # pragma: no cover - the assertion message
            pytest.fail(f"invalid HTML {part.html!r}: {exc}")
    # Nothing is lost but blanks: line breaks where messages were split, a blank title.
    shown = "".join(parse_html(p.html) for p in parts)
    assert "".join(shown.split()) == "".join(reply.plain().split())
