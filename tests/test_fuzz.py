"""Property tests: whatever a parent types or a client forges, the assistant answers sanely.

`make fuzz` sets YIBAO_FUZZ_EXAMPLES=10000 for a long campaign; the normal suite runs a
short one. Properties, for the matcher, the engine and the Telegram renderer:
- no exception, whatever the text (any Unicode: emoji, zero-width, RTL marks, control
  characters, lone surrogates; empty, whitespace, 100 KB; HTML/Markdown look-alikes) or
  callback data (never issued, forged);
- every reply is non-empty and renders to messages Telegram's HTML parse mode accepts
  (checked with `html.parser` against Telegram's tag set, see tests/support/telegram_html.py),
  each at most 4096 characters, its buttons' data at most 64 bytes;
- the chat's session still loads after every turn.
The number of examples actually run is printed in the test summary ("fuzz: N examples").
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from telegram_html import TelegramHtmlError, telegram_text

from bot.telegram.render import MAX_MESSAGE, render, render_all, utf16_len
from dialogs.engine import Engine
from dialogs.types import Button, Incoming, Reply
from knowledge.matcher import MatchContext, Matcher

EXAMPLES = int(os.environ.get("YIBAO_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
COUNTS: dict[str, int] = {}


class _CountReport:
    """Adds "fuzz: N examples" to pytest's terminal summary (shown even with -q)."""

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        total = sum(COUNTS.values())
        detail = ", ".join(f"{name} {n}" for name, n in sorted(COUNTS.items()))
        terminalreporter.write_line(f"fuzz: {total} examples run ({detail})")


@pytest.fixture(scope="module", autouse=True)
def _count_examples(request: pytest.FixtureRequest) -> None:
    plugins = request.config.pluginmanager
    if not plugins.has_plugin("yibao-fuzz-count"):
        plugins.register(_CountReport(), "yibao-fuzz-count")


def _ran(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1


LOOKALIKES = st.sampled_from(
    [
        "<b>天津</b>",
        "&amp; 积分 &lt;",
        "&nbsp;&#0;&#x110000;&#xD800;",
        "</code><script>alert(1)</script>",
        "<a href='javascript:x'>点我</a><span>剧透</span><tg-spoiler>",
        "<!-- 注释 --><![CDATA[x]]><?php ?>",
        "**苏州** _积分_ `code` [链接](http://x) ~~删~~ ||剧透|| __下划线__",
        "*bold _italic* text_ \\*escaped\\* ```pre```",
        "\u202e积分入医\u202c",
        "\u200b\u200d\ufeff\u2060",
        "\u200f\u202b天津\u202c\u200e",
        "𠮷𠮷😀👶🏻👨‍👩‍👧",
        "天津 newborn insurance 多少钱？",
        "積分入醫要帶什麼材料",
        "ＡＢＣ１２３　天津",
        "\x00\x1b[31m红\x7f\x85",
        "a\ud800b\udfffc",
        "/start suzhou",
        "/start ../../etc/passwd",
        "/start@yibao_test_bot",
        "/forget",
        "返回",
        "   \t\n  ",
        "",
    ]
)
ANY_CHAR = st.characters(exclude_categories=())  # every code point, lone surrogates included
TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=ANY_CHAR, max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.text(alphabet=" \t\n\r\u3000\u00a0\u200b", max_size=20),
    LOOKALIKES,
    st.builds(lambda a, b: a + b, LOOKALIKES, st.text(alphabet=ANY_CHAR, max_size=40)),
    st.text(alphabet="天津苏州积分入医新生儿宝宝孩子材料居住证外地户口多少钱吗？ ", max_size=60),
)
CALLBACK = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=ANY_CHAR, max_size=64),
    st.sampled_from(
        ["e:", "m:", "f:", "s:", "s:tianjin:", "s:suzhou:", "c:", "k:cont", "k:stop",
         "x:forget:", "x:back", "x:restart"]
    ).flatmap(lambda p: st.builds(lambda s: p + s, st.text(max_size=30))),
)  # fmt: skip
ACTION = st.one_of(
    st.builds(lambda t: Incoming(text=t), TEXT),
    st.builds(lambda c: Incoming(callback=c), CALLBACK),
)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    new = asyncio.new_event_loop()
    yield new
    new.close()


def check_telegram(replies: list[Reply]) -> None:
    """Every reply non-empty, and valid as Telegram HTML messages once rendered."""
    assert replies, "every turn gets at least one reply"
    for reply in replies:
        assert reply.plain().strip(), "no empty reply"
        for row in reply.buttons:
            for button in row:
                assert button.text.strip()
                assert 1 <= len(button.callback.encode("utf-8")) <= 64
    for message in render_all(replies):
        assert utf16_len(message.html) <= MAX_MESSAGE
        try:
            telegram_text(message.html)
        except TelegramHtmlError as exc:  # pragma: no cover - the failure message
            pytest.fail(f"Telegram would refuse {message.html[:200]!r}: {exc}")


def _issued(replies: list[Reply]) -> set[str]:
    return {b.callback for r in replies for row in r.buttons for b in row}


# ---------------------------------------------------------------------- engine
@FUZZ
@given(actions=st.lists(ACTION, min_size=1, max_size=6))
def test_engine_survives_any_sequence(
    engine: Engine, loop: asyncio.AbstractEventLoop, actions: list[Incoming]
) -> None:
    _ran("engine")
    for action in actions:
        replies = loop.run_until_complete(engine.handle(42, action))
        check_telegram(replies)
        session = loop.run_until_complete(engine.store.load(42))
        assert session is not None or (action.callback or "").startswith("x:forget:yes:")


@FUZZ
@given(
    steps=st.lists(
        st.one_of(st.integers(min_value=0, max_value=20), CALLBACK, TEXT), min_size=1, max_size=8
    )
)
def test_issued_and_forged_buttons_interleaved(
    engine: Engine, loop: asyncio.AbstractEventLoop, steps: list[int | str]
) -> None:
    """Press buttons the bot really issued (ints pick one) between forged ones and texts.

    A forged callback that matches nothing the engine understands gets the stale-button
    notice and never moves a flow; the session loads after every turn."""
    _ran("buttons")
    issued: list[str] = []
    for step in steps:
        if isinstance(step, int):
            action = Incoming(callback=issued[step % len(issued)]) if issued else Incoming("/start")
        elif step.startswith(tuple("emfsckx")) and ":" in step[:2]:
            action = Incoming(callback=step)
        else:
            action = Incoming(text=step)
        before = loop.run_until_complete(engine.store.load(43))
        replies = loop.run_until_complete(engine.handle(43, action))
        check_telegram(replies)
        after = loop.run_until_complete(engine.store.load(43))
        assert after is not None or (action.callback or "").startswith("x:forget:yes:")
        stale = engine.kb.text("stale_button")
        if action.callback is not None and replies[-1].text.startswith(stale):
            moved = (before.flow, before.state) if before else (None, None)
            assert after is not None and (after.flow, after.state) in (moved, (None, None))
        issued = sorted(_issued(replies)) or issued


@pytest.mark.parametrize(
    "text",
    [
        "积分入医" * 25_000,  # 100 000 characters
        "😀" * 50_000,  # 100 000 UTF-16 units of emoji
        "\u200b" * 100_000,  # nothing but zero-width spaces
        "<b>" * 33_000,  # look-alike markup
        "&amp;" * 20_000,
        ("天津新生儿\n" * 20_000),
        "a\ud800" * 50_000,  # lone surrogates
    ],
    ids=["cjk", "emoji", "zero-width", "tags", "entities", "lines", "surrogates"],
)
def test_hundred_kilobyte_messages(
    engine: Engine, loop: asyncio.AbstractEventLoop, text: str
) -> None:
    replies = loop.run_until_complete(engine.handle(44, Incoming(text=text)))
    check_telegram(replies)
    assert loop.run_until_complete(engine.store.load(44)) is not None


def test_hundred_kilobyte_message_says_it_was_cut(
    engine: Engine, loop: asyncio.AbstractEventLoop
) -> None:
    replies = loop.run_until_complete(engine.handle(43, Incoming(text="积分入医" * 25_000)))
    check_telegram(replies)
    assert engine.kb.text("too_long", limit=2000) in "\n".join(r.plain() for r in replies)


# ---------------------------------------------------------------------- matcher
@FUZZ
@given(text=TEXT)
def test_matcher_never_raises(matcher: Matcher, text: str) -> None:
    _ran("matcher")
    match = matcher.match(text, MatchContext())
    assert match.kind in ("answer", "clarify_city", "out_of_scope", "unknown")
    if match.kind == "answer":
        assert match.entry_id in matcher.kb.entries


# ---------------------------------------------------------------------- renderer
BUTTON = st.builds(
    Button,
    st.text(alphabet=ANY_CHAR, min_size=1, max_size=20).filter(str.strip),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=16),
)
REPLY = st.builds(
    Reply,
    text=st.one_of(TEXT, st.text(alphabet=ANY_CHAR, max_size=9000)),
    title=st.one_of(st.none(), TEXT),
    buttons=st.lists(st.lists(BUTTON, max_size=3).map(tuple), max_size=3).map(tuple),
)


def _visible(text: str) -> str:
    """What survives rendering: lone surrogates become U+FFFD, line breaks may become splits."""
    fixed = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return "".join(fixed.split())


@FUZZ
@given(reply=REPLY, limit=st.sampled_from([MAX_MESSAGE, 64, 200]))
@example(reply=Reply(title="a" + " " * 100, text=" "), limit=64)  # found by `make fuzz`
@example(reply=Reply(title=" ", text=""), limit=MAX_MESSAGE)
def test_renderer_output_is_always_valid_telegram_html(reply: Reply, limit: int) -> None:
    _ran("renderer")
    if not reply.plain().strip():
        with pytest.raises(ValueError, match="empty reply"):
            render(reply, limit)
        return
    messages = render(reply, limit)
    shown = []
    for message in messages:
        assert utf16_len(message.html) <= limit
        shown.append(telegram_text(message.html))
    assert _visible("".join(shown)) == _visible(reply.plain())
    assert all(m.markup is None for m in messages[:-1])  # the keyboard rides on the last one
