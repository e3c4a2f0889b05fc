"""The WeChat edge's operations, end to end against real `yibao wechat` subprocesses and
fakes on 127.0.0.1: the slow-turn path through the customer-service API, `menu --push`
from the command line, the custom menu's click keys, SIGHUP hot reload, and the
`weixin://bizmsgmenu` links of numbered choices."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest_asyncio
from fake_wechat import (
    Exchange,
    FakeApi,
    FakeWeChat,
    menu_links,
    numbered,
    serve_api,
    without_offers,
)
from net import free_port
from paths import ROOT
from wechat_harness import WeChatProcess, start_wechat, stop_wechat, wechat_env

from bot.wechat.menu import HELP_KEY, menu_json
from bot.wechat.render import Pager, render
from bot.wiring import build_engine
from dialogs.clock import Clock
from dialogs.types import Incoming
from knowledge.lexicon import LEXICON_DIR
from knowledge.loader import DATA_DIR, load_kb

SECRET = "wx-test-app-secret"
QUESTION = "天津新生儿医保怎么办"
OLD_HEAD = "天津新生儿参保（办理医保卡）要点："
NEW_HEAD = "天津新生儿参保（办理医保卡）要点（已更新）："


async def until(check: Callable[[], bool], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.05)


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


# ---------------------------------------------------------------------- slow turns
async def test_slow_turn_is_success_then_one_customer_service_message(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    """WECHAT_REPLY_BUDGET_MS=0: no turn fits the passive reply, so every message is
    answered "success" and its reply goes out through the customer-service API, once
    (resends of the same MsgId send nothing more), on one access token."""
    port = free_port()
    async with serve_api(FakeApi(SECRET), port) as api:
        server = await start_wechat(
            tmp_path,
            f"sqlite:///{tmp_path / 'state.db'}",
            WECHAT_APP_SECRET=SECRET,
            WECHAT_API_BASE=f"http://127.0.0.1:{port}",
            WECHAT_REPLY_BUDGET_MS="0",
        )
        try:
            wx = FakeWeChat(server.url, http)
            me = "oSlowUser"
            fields = wx.message(me, "text", Content="积分")
            query = wx.query()
            first = await wx.post(fields, query=query)
            resends = [await wx.post(fields, query=query) for _ in range(3)]
            assert first.status == 200 and first.raw == b"success"
            assert all(ex.status == 200 and ex.raw == b"success" for ex in resends)
            await until(lambda: len(api.sent) >= 1)
            second = await wx.text(me, "天津新生儿医保交多少钱")
            assert second.raw == b"success"
            await until(lambda: len(api.sent) >= 2)
            await asyncio.sleep(1.0)  # nothing more arrives (no resend is sent again)
        finally:
            log = await stop_wechat(server)
    assert "Traceback" not in log, log
    assert [m["touser"] for m in api.sent] == [me, me]
    assert all(m["msgtype"] == "text" for m in api.sent)
    assert api.sent[0]["text"]["content"].startswith("苏州积分入医总览")
    assert "元" in api.sent[1]["text"]["content"]
    assert api.tokens == 1  # fetched once, reused from the store for the second message
    assert SECRET not in log


# ---------------------------------------------------------------------- the custom menu
async def _yibao(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_menu_push_from_the_command_line(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with serve_api(FakeApi(SECRET), port) as api:
        env = wechat_env(
            "memory://", PYTHONPATH=str(ROOT), WECHAT_APP_SECRET=SECRET, WECHAT_API_BASE=base
        )
        code, out, err = await _yibao(env, tmp_path, "wechat", "menu", "--push")
        assert code == 0, err
        assert api.menus == [json.loads(out)] and api.tokens == 1
        assert "menu set" in err

        env["WECHAT_APP_SECRET"] = "not-the-secret"
        code, _, err = await _yibao(env, tmp_path, "wechat", "menu", "--push")
        assert code == 1 and "errcode 40125" in err and "not-the-secret" not in err
        assert len(api.menus) == 1

        del env["WECHAT_APP_SECRET"]
        code, _, err = await _yibao(env, tmp_path, "wechat", "menu", "--push")
        assert code == 2 and "WECHAT_APP_SECRET" in err


# ---------------------------------------------------------------------- links, keys, reload
@pytest_asyncio.fixture
async def linked(tmp_path: Path) -> AsyncIterator[tuple[WeChatProcess, Path]]:
    """A server with WECHAT_MENU_LINKS on, serving a private copy of the knowledge files."""
    data, lexicon = tmp_path / "data", tmp_path / "lexicon"
    shutil.copytree(DATA_DIR, data)
    shutil.copytree(LEXICON_DIR, lexicon)
    server = await start_wechat(
        tmp_path,
        f"sqlite:///{tmp_path / 'state.db'}",
        WECHAT_MENU_LINKS="true",
        YIBAO_KB_DIR=str(data),
        YIBAO_LEXICON_DIR=str(lexicon),
        YIBAO_LOG_LEVEL="INFO",
    )
    yield server, data
    log = await stop_wechat(server)
    assert "Traceback" not in log, log


async def test_menu_click_keys_reach_the_right_menus_and_flows(
    linked: tuple[WeChatProcess, Path], http: aiohttp.ClientSession
) -> None:
    """Every CLICK key of the custom menu, sent as WeChat sends a click, gets what the
    engine answers for that button (a reference engine in this process)."""
    server, _ = linked
    reference = build_engine("memory://", clock=Clock().today, channel="wechat")
    buttons = [
        b for top in menu_json(reference.kb)["button"] for b in (top.get("sub_button") or [top])
    ]
    assert len(buttons) >= 5 and any(b["key"] == HELP_KEY for b in buttons)
    wx = FakeWeChat(server.url, http)
    for n, button in enumerate(buttons):
        key = button["key"]
        said = Incoming(text="/help") if key == HELP_KEY else Incoming(callback=key)
        pager = Pager(reference.kb, links=True)
        want = render(await reference.handle(f"wx:ref{n}", said, pager=pager), reference.kb, True)
        ex = await wx.event(f"oClick{n}_{time.monotonic_ns()}", "CLICK", key=key)
        assert without_offers(ex.content) == without_offers(want), key
    await reference.store.close()


async def test_numbered_choices_as_bizmsgmenu_links_round_trip(
    linked: tuple[WeChatProcess, Path], http: aiohttp.ClientSession
) -> None:
    server, _ = linked
    wx = FakeWeChat(server.url, http, encrypt=True)
    me = "oLinkUser"
    ex = await wx.event(me, "subscribe")
    label = "天津新生儿参保（一步步办理）"
    link = f'<a href="weixin://bizmsgmenu?msgmenucontent={label}&msgmenuid=1">1 {label}</a>'
    assert link in without_offers(ex.content) and numbered(ex.content)[label] == 1
    # A tap sends the label as the user's text, with the link's id (offer, number) as
    # bizmsgmenuid.
    content, menu_id = menu_links(ex.content)[f"1 {label}"]
    offer, number = divmod(menu_id, 100)
    assert number == 1 and offer > 0
    ex = await wx.post(wx.message(me, "text", Content=content, bizmsgmenuid=menu_id))
    assert "第一步：宝宝是哪里的户籍？" in ex.content
    content, menu_id = next(v for k, v in menu_links(ex.content).items() if "外地户籍" in k)
    ex = await wx.post(wx.message(me, "text", Content=content, bizmsgmenuid=menu_id))
    assert "居住证" in ex.content
    ex = await wx.text(me, "1")  # typing the number still works beside the links
    assert ex.status == 200 and ex.content


async def test_a_tap_on_an_older_message_is_read_against_that_message(
    linked: tuple[WeChatProcess, Path], http: aiohttp.ClientSession
) -> None:
    """Each message's links name the offer they are on: a tap on a link of an older
    message picks that message's choice (or, for a flow step since answered, the
    engine's "expired"), never the choice of that number in the latest message; a link of
    an offer no longer kept, a number an offer did not have, or an id without an offer
    (a link from before offers had ids) gets "这个选项已过期…" and the latest menu."""
    server, _ = linked
    wx = FakeWeChat(server.url, http)
    stale = load_kb().for_channel("wechat").text("stale_button")
    me = "oStaleTapUser"

    async def tap(message: Exchange, label: str) -> Exchange:
        content, menu_id = next(v for k, v in menu_links(message.content).items() if label in k)
        return await wx.post(wx.message(me, "text", Content=content, bizmsgmenuid=menu_id))

    welcome = await wx.event(me, "subscribe")  # the main menu: 4 is 苏州常见问题
    asked = await tap(welcome, "天津新生儿参保")
    assert "第一步：宝宝是哪里的户籍？" in asked.content and "4 " in asked.content
    faq = await tap(welcome, "4 苏州常见问题")  # the older message's 4, not the flow's
    assert faq.content.startswith("苏州市区流动人口子女") and stale not in faq.content
    answered = await tap(asked, "外地户籍")  # the flow is still at that question
    assert "居住证" in answered.content
    again = await tap(asked, "天津户籍")  # that question is answered: its choices expired
    assert again.content.startswith(stale)

    # Five offers later the welcome's is no longer kept: its links have expired.
    for said in ("菜单", "苏州", "天津"):
        assert stale not in (await wx.text(me, said)).content
    expired = await tap(welcome, "4 苏州常见问题")
    assert expired.content.startswith(stale) and numbered(expired.content)["苏州常见问题"] == 4
    # A number the latest offer did not have, and an id naming no offer.
    latest = menu_links(expired.content)["5 异地就医相关（新闻摘要）"][1]
    beyond = wx.message(me, "text", Content="?", bizmsgmenuid=latest + 4)
    assert (await wx.post(beyond)).content.startswith(stale)
    legacy = wx.message(me, "text", Content="苏州常见问题", bizmsgmenuid=4)
    assert (await wx.post(legacy)).content.startswith(stale)
    # Typed numbers read the latest message, as before.
    typed = await wx.text(me, "4")
    assert typed.content.startswith("苏州市区流动人口子女")


async def test_sighup_reloads_the_knowledge_and_refuses_broken_files(
    linked: tuple[WeChatProcess, Path], http: aiohttp.ClientSession
) -> None:
    server, data = linked
    wx = FakeWeChat(server.url, http)

    async def answer() -> str:
        return (await wx.text(f"oReload{time.monotonic_ns()}", QUESTION)).content

    async def version() -> str:
        async with http.get(server.health_url) as resp:
            return str((await resp.json())["kb_version"])

    assert OLD_HEAD in await answer()
    before = await version()
    path = data / "tianjin.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(OLD_HEAD, NEW_HEAD, 1), "utf-8")
    server.proc.send_signal(signal.SIGHUP)
    for _ in range(300):
        if await version() != before:
            break
        await asyncio.sleep(0.1)
    assert NEW_HEAD in await answer()
    reloaded = await version()

    # A broken file (a duplicate key) is refused: the new answers keep being served.
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("    title: "))
    lines.insert(index + 1, "    title: 重复的标题")
    path.write_text("\n".join(lines).replace(NEW_HEAD, "坏的", 1) + "\n", encoding="utf-8")
    server.proc.send_signal(signal.SIGHUP)
    await until(lambda: "knowledge reload refused" in server.log_path.read_text("utf-8"))
    assert f"tianjin.yaml:{index + 2}:" in server.log_path.read_text("utf-8")
    assert NEW_HEAD in await answer() and await version() == reloaded
    assert server.proc.returncode is None
