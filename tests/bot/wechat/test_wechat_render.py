"""The WeChat text: numbered choices the engine remembers, the 2048-byte cut with "更多",
channel wording, and the API client against a fake WeChat API on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fake_wechat import TELEGRAM_WORDS, FakeApi, serve_api

from bot.wechat.customer_service import WeChatApi
from bot.wechat.render import MAX_BYTES, Pager, menu_id, nbytes, read_menu_id, render
from bot.wechat.settings import WeChatSettings
from bot.wiring import load_flows
from dialogs import outcomes
from dialogs.choices import OFFER_EPOCH, bare_number, next_offer
from dialogs.engine import Engine
from dialogs.outcomes import Outcome
from dialogs.stores import MemoryStore
from dialogs.types import Button, Incoming, Reply
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Matcher

WX = "wx:oRenderUser"


@pytest.fixture
def wkb(kb: KnowledgeBase) -> KnowledgeBase:
    return kb.for_channel("wechat")


@pytest.fixture
def wengine(wkb: KnowledgeBase, matcher: Matcher) -> Engine:
    return Engine(wkb, matcher, MemoryStore(), flows=load_flows(wkb))


@pytest.mark.parametrize(
    "text,number", [("1", 1), ("１", 1), ("一", 1), (" 2. ", 2), ("两", 2), ("12", 12)]
)
def test_bare_numbers(text: str, number: int) -> None:
    assert bare_number(text) == number


@pytest.mark.parametrize("text", ["0", "2026", "1年", "一年", "", "a"])
def test_not_bare_numbers(text: str) -> None:
    assert bare_number(text) is None


async def test_number_picks_the_offered_menu_button(wengine: Engine, wkb: KnowledgeBase) -> None:
    await wengine.handle(WX, Incoming(text="菜单"))
    replies = await wengine.handle(WX, Incoming(text="3"))  # 天津常见问题
    assert replies[0].text.startswith(wkb.menus["tianjin"].text)
    replies = await wengine.handle(WX, Incoming(text="2"))  # 交多少钱
    assert replies[0].entry == "tj.cost"


async def test_number_answering_years_is_years_not_a_button(wengine: Engine) -> None:
    for said in ("/suzhou", "1", "1"):
        replies = await wengine.handle(WX, Incoming(text=said))
    assert replies[-1].numbered is False  # the years question
    session = await wengine.store.load(WX)
    assert session is not None and session.offered == []
    replies = await wengine.handle(WX, Incoming(text="2"))  # two years: eligible so far
    assert "哪个区" in replies[-1].text


def test_render_numbers_buttons_and_lists_typed_choices(wkb: KnowledgeBase) -> None:
    replies = [
        Reply(
            text="甲", title="标题", buttons=((Button("外地户籍", "a"), Button("本地户籍", "b")),)
        ),
        Reply(text="乙", buttons=((Button("满一年", "c"),),), numbered=False),
    ]
    text = render(replies, wkb)
    assert text == "标题\n甲\n\n乙\n\n可直接回复：满一年\n\n回复数字：\n1 外地户籍\n2 本地户籍"


def test_menu_links_render_each_numbered_choice_as_a_bizmsgmenu_link(wkb: KnowledgeBase) -> None:
    replies = [
        Reply(text="甲", buttons=((Button("外地户籍", "a"), Button("A&B=C?", "b")),)),
        Reply(text="乙", buttons=((Button("满一年", "c"),),), numbered=False),
    ]
    text = render(replies, wkb, links=True)
    assert text.endswith(
        "回复数字：\n"
        '<a href="weixin://bizmsgmenu?msgmenucontent=外地户籍&msgmenuid=1">1 外地户籍</a>\n'
        '<a href="weixin://bizmsgmenu?msgmenucontent=A%26B%3DC%3F&msgmenuid=2">2 A&B=C?</a>'
    )
    assert "可直接回复：满一年" in text  # choices answered by a number stay plain
    assert render(replies, wkb) == render(replies, wkb, links=False)


async def test_menu_links_count_towards_the_2048_bytes(wengine: Engine, wkb: KnowledgeBase) -> None:
    for said in ("菜单", "苏州", "积分"):
        replies = await wengine.handle(WX, Incoming(text=said), pager=Pager(wkb, links=True))
        assert nbytes(render(replies, wkb, links=True)) <= MAX_BYTES


async def test_long_answer_is_cut_at_a_paragraph_and_more_gives_the_rest(
    wengine: Engine, wkb: KnowledgeBase
) -> None:
    paragraphs = [f"第{i}段：" + "医保" * 60 for i in range(30)]  # ~11 KB
    long = Reply(text="\n\n".join(paragraphs), buttons=((Button("主菜单", "m:main"),),))
    pager = Pager(wkb)
    shown, rest = pager([long])
    text = render(shown, wkb)
    assert nbytes(text) <= MAX_BYTES and wkb.text("wx_more") in text and "1 主菜单" in text
    cut = text.split(wkb.text("wx_more"))[0].strip()
    assert cut.split("\n\n")[-1] in paragraphs  # whole paragraphs only
    assert rest.startswith(paragraphs[len(cut.split("\n\n"))])
    seen = cut
    session_rest = rest
    while session_rest:  # what "更多" shows, part by part, until nothing is left
        shown, session_rest = pager([Reply(text=session_rest)])
        part = render(shown, wkb)
        assert nbytes(part) <= MAX_BYTES
        seen += "\n\n" + part.split(wkb.text("wx_more"))[0].strip()
    assert seen == long.text


async def test_more_through_the_engine_keeps_the_offered_choices(
    wengine: Engine, wkb: KnowledgeBase
) -> None:
    pager = Pager(wkb, limit=400)
    first = await wengine.handle(WX, Incoming(text="积分"), pager=pager)
    assert wkb.text("wx_more") in render(first, wkb)
    offered = (await wengine.store.load(WX)).offered  # type: ignore[union-attr]
    nxt = await wengine.handle(WX, Incoming(text="更多"), pager=pager)
    assert nxt[0].text and (await wengine.store.load(WX)).offered == offered  # type: ignore[union-attr]
    picked = await wengine.handle(WX, Incoming(text="1"), pager=pager)
    assert picked[0].text.startswith("哪些人能申请苏州积分入医")


async def test_each_offer_has_an_id_and_the_last_few_are_kept(wengine: Engine) -> None:
    """The engine stamps a turn's numbered replies with the offer's id (increasing) and
    keeps the latest offer and the three before it; a number chosen from a named offer
    picks from that one, from an offer no longer kept it is stale."""
    offers: list[int] = []
    for said in ("菜单", "3", "主菜单", "4", "苏州"):  # five offers, all with choices
        replies = await wengine.handle(WX, Incoming(text=said))
        (offer,) = {r.offer for r in replies if r.buttons and r.numbered}  # one per turn
        assert offer is not None
        offers.append(offer)
    session = await wengine.store.load(WX)
    assert session is not None and offers == sorted(set(offers))
    assert session.offer == offers[-1] and list(session.earlier_offers) == offers[1:4]
    replies = await wengine.handle(WX, Incoming(text="2", offer=offers[1]))  # 天津: 交多少钱
    assert replies[0].entry == "tj.cost"
    replies = await wengine.handle(WX, Incoming(text="2", offer=offers[0]))  # not kept
    assert replies[0].state == outcomes.state(Outcome.STALE)
    assert replies[0].text.startswith(wengine.kb.text("stale_button"))


def test_offer_ids_rise_and_start_from_the_clock() -> None:
    assert next_offer(0, OFFER_EPOCH + 1000.5) == 1000  # a new chat (or one erased)
    assert next_offer(1000, OFFER_EPOCH + 1000.9) == 1001  # two offers in one second
    assert next_offer(5000, OFFER_EPOCH + 1000) == 5001  # never back


@pytest.mark.parametrize(
    "raw,read",
    [("2892037405", (28920374, 5)), ("1299", (12, 99)), ("2", (0, 2)), ("100", None)],
)
def test_menu_ids_name_the_offer_and_the_number(raw: str, read: tuple[int, int] | None) -> None:
    assert read_menu_id(raw) == read
    if read is not None:
        assert menu_id(*read) == int(raw)


@pytest.mark.parametrize("raw", ["", "abc", "-5", "１２", "1" * 40])
def test_menu_ids_that_are_not_ours(raw: str) -> None:
    assert read_menu_id(raw) is None


def test_menu_links_carry_the_offer_of_their_reply(wkb: KnowledgeBase) -> None:
    reply = Reply(text="甲", buttons=((Button("外地户籍", "a"),),), offer=31)
    assert 'msgmenucontent=外地户籍&msgmenuid=3101">1 外地户籍</a>' in render([reply], wkb, True)


def test_wechat_wording_has_no_telegram_words(wkb: KnowledgeBase) -> None:
    used = {k: v for k, v in wkb.ui.items() if not k.startswith(("tg_", "wechat.", "admin"))}
    bad = {k: w for k, v in used.items() for w in TELEGRAM_WORDS if w in v}
    # Telegram-only texts never reach WeChat: commands the WeChat edge does not offer.
    assert set(bad) <= {"about", "forget_confirm"}, bad
    flows = repr(wkb.flow_text)
    assert [w for w in TELEGRAM_WORDS if w in flows] == []


# ---------------------------------------------------------------------- the API client
@pytest.fixture
async def api_base(unused_tcp_port: int) -> AsyncIterator[tuple[FakeApi, str]]:
    async with serve_api(FakeApi("s3cret"), unused_tcp_port) as fake:
        yield fake, f"http://127.0.0.1:{unused_tcp_port}"


async def test_customer_service_caches_the_token_in_the_store(
    api_base: tuple[FakeApi, str],
) -> None:
    fake, base = api_base
    settings = WeChatSettings("t", "wx123", "s3cret", None, base)
    store = MemoryStore()
    first, second = WeChatApi(settings, store), WeChatApi(settings, store)  # two instances
    import time

    assert await first.send_text("oA", "你好", asked_at=time.time())
    assert await second.send_text("oB", "你好", asked_at=time.time())
    assert fake.tokens == 1  # shared through the store
    fake.valid = "rotated-elsewhere"  # another fetch invalidated ours: fetched again once
    assert await second.send_text("oC", "再见", asked_at=time.time())
    assert fake.tokens == 2 and [m["touser"] for m in fake.sent] == ["oA", "oB", "oC"]
    assert not await first.send_text("oD", "太晚", asked_at=time.time() - 49 * 3600)
    await first.create_menu({"button": []})
    assert fake.menus == [{"button": []}]
    await first.close()
    await second.close()
