"""End to end: the fake WeChat (tests/support/fake_wechat.py) ↔ a real `yibao wechat` subprocess
on 127.0.0.1 with a real SQLite file. Every reply is checked by `check_reply` (≤ 2048 bytes,
well-formed XML, CDATA, no HTML tags, no Telegram words)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from fake_wechat import ACCOUNT, FakeWeChat, numbered, to_xml
from wechat_harness import WeChatProcess, chat_hash, start_wechat, stop_wechat

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WeChatProcess]:
    workdir = tmp_path_factory.mktemp("wechat")
    instance = await start_wechat(workdir, f"sqlite:///{workdir / 'state.db'}")
    yield instance
    log = await stop_wechat(instance)
    assert "Traceback" not in log, log


@pytest_asyncio.fixture(loop_scope="module")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(params=["plain", "safe"])
def wx(
    request: pytest.FixtureRequest, server: WeChatProcess, http: aiohttp.ClientSession
) -> FakeWeChat:
    return FakeWeChat(server.url, http, encrypt=request.param == "safe")


def state_bytes(server: WeChatProcess) -> bytes:
    db = Path(server.log_path).parent / "state.db"
    return b"".join(p.read_bytes() for p in sorted(db.parent.glob("state.db*")))


def records_of(server: WeChatProcess, openid: str) -> int:
    db = Path(server.log_path).parent / "state.db"
    with sqlite3.connect(db) as conn:
        (n,) = conn.execute(
            "SELECT COUNT(*) FROM records WHERE chat = ?", (chat_hash(openid),)
        ).fetchone()
    conn.close()
    return int(n)


def user(name: str, wx: FakeWeChat) -> str:
    return f"o{name}_{'safe' if wx.encrypt else 'plain'}_{time.monotonic_ns()}"


async def test_url_verification_echoes_only_when_signed(wx: FakeWeChat) -> None:
    assert await wx.verify("echo-123") == (200, "echo-123")
    status, _ = await wx.verify("echo-123", signature="0" * 40)
    assert status == 403


async def test_subscribe_gets_welcome_and_numbered_menu(wx: FakeWeChat) -> None:
    ex = await wx.event(user("sub", wx), "subscribe")
    assert ex.content.startswith("您好，我是医保助手")
    choices = numbered(ex.content)
    assert choices["天津新生儿参保（一步步办理）"] == 1 and "回复数字：" in ex.content


async def test_jifen_gets_the_suzhou_answer(wx: FakeWeChat) -> None:
    ex = await wx.text(user("jf", wx), "积分")
    assert ex.content.startswith("苏州积分入医总览") and "来源" in ex.content


@pytest.mark.parametrize("how", ["numbers", "labels"])
async def test_whole_tianjin_flow(wx: FakeWeChat, how: str) -> None:
    me = user("tj", wx)
    start = await wx.event(me, "subscribe")
    path = ["天津新生儿参保（一步步办理）", "天津户籍", "跳过", "下一步：费用和办理地点"]
    ex = start
    for label in path:
        choices = numbered(ex.content)
        answer = str(choices[label]) if how == "numbers" else label
        if how == "numbers" and label == path[1]:
            answer = "１"  # a full-width digit picks the same button
        ex = await wx.text(me, answer)
    assert "830元" in ex.content and "本次办理已结束" in ex.content
    assert set(numbered(ex.content)) == {"再查一次", "主菜单"}


async def test_click_event_starts_a_flow_and_chinese_numeral_picks(wx: FakeWeChat) -> None:
    me = user("click", wx)
    ex = await wx.event(me, "CLICK", key="f:tianjin")
    assert "第一步：宝宝是哪里的户籍？" in ex.content
    ex = await wx.text(me, "二")  # 外地户籍
    assert "居住证" in ex.content


async def test_a_date_question(wx: FakeWeChat) -> None:
    ex = await wx.text(
        user("date", wx), "天津孩子2025年3月1日出生的，现在办医保还能从出生起享受待遇吗"
    )
    assert "90" in ex.content


async def test_resend_of_the_same_msgid_is_one_turn_with_the_same_reply(
    wx: FakeWeChat, server: WeChatProcess
) -> None:
    me = user("resend", wx)
    fields = wx.message(me, "text", Content="新生儿医保交多少钱")
    query = wx.query()
    first = await wx.post(fields, query=query)
    again = [await wx.post(fields, query=query) for _ in range(3)]  # same timestamp and nonce
    assert first.content and all(ex.content == first.content for ex in again)
    assert records_of(server, me) == 1


async def test_resends_racing_the_first_request_get_one_turn(
    wx: FakeWeChat, server: WeChatProcess
) -> None:
    me = user("race", wx)
    fields = wx.message(me, "text", Content="苏州积分入医要带什么材料")
    query = wx.query()
    results = await asyncio.gather(*(wx.post(fields, query=query) for _ in range(4)))
    assert len({ex.content for ex in results}) == 1
    assert records_of(server, me) == 1


async def test_wrong_signature_is_403_and_nothing_is_stored(
    wx: FakeWeChat, server: WeChatProcess
) -> None:
    me = user("forged", wx)
    query = {**wx.query(), "signature": "f" * 40}
    ex = await wx.post(wx.message(me, "text", Content="积分"), query=query)
    assert ex.status == 403
    if wx.encrypt:  # a right signature but a forged msg_signature
        q = wx.query()
        enc = wx.cipher.seal(to_xml(wx.message(me, "text", Content="积分")))
        q.update(encrypt_type="aes", msg_signature="0" * 40)
        ex = await wx.post({}, query=q, body=to_xml({"ToUserName": ACCOUNT, "Encrypt": enc}))
        assert ex.status == 403
    assert me.encode() not in state_bytes(server)
    assert chat_hash(me).encode() not in state_bytes(server)


async def test_stale_timestamp_oversize_body_and_entities_are_refused(wx: FakeWeChat) -> None:
    me = user("bad", wx)
    stale = wx.query(timestamp=int(time.time()) - 3600)
    assert (await wx.post(wx.message(me, "text", Content="积分"), query=stale)).status == 403
    huge = to_xml(wx.message(me, "text", Content="长" * 100_000))
    assert (await wx.post({}, body=huge)).status == 413
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><FromUserName>&a;</FromUserName></xml>'
    assert (await wx.post({}, body=bomb)).status == 400


async def test_ten_thousand_characters(wx: FakeWeChat) -> None:
    ex = await wx.text(user("long", wx), "我想问一下积分入医" + "的事情" * 3330)
    assert ex.status == 200 and "消息太长了" in ex.content


@pytest.mark.parametrize(
    "kind,extra",
    [
        ("image", {"PicUrl": "http://127.0.0.1/x.jpg", "MediaId": "m1"}),
        ("voice", {"MediaId": "m2", "Format": "amr"}),
        ("location", {"Location_X": "39.1", "Location_Y": "117.2", "Scale": 15, "Label": "天津"}),
    ],
)
async def test_non_text_gets_the_text_only_hint(
    wx: FakeWeChat, kind: str, extra: dict[str, str | int]
) -> None:
    ex = await wx.post(wx.message(user(kind, wx), kind, **extra))
    assert ex.content.startswith("我只能读文字消息")
    assert "1 天津新生儿参保（一步步办理）" in ex.content


async def test_unsubscribe_erases_the_user(wx: FakeWeChat, server: WeChatProcess) -> None:
    me = user("leaver", wx)
    await wx.event(me, "subscribe")
    await wx.text(me, "1")
    await wx.text(me, "我家孩子叫独一无二宝宝怎么办医保呢")  # unanswered: masked text kept
    assert records_of(server, me) >= 2
    assert me.encode() in state_bytes(server)
    ex = await wx.event(me, "unsubscribe")
    assert ex.status == 200 and ex.raw == b"success"
    for _ in range(150):  # the file is rebuilt in the background right after the erasure
        if me.encode() not in state_bytes(server):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    after = state_bytes(server)
    assert me.encode() not in after and chat_hash(me).encode() not in after
    assert "独一无二".encode() not in after


async def test_more_and_numbers_after_a_cut_answer(wx: FakeWeChat) -> None:
    """Every reply fits 2048 bytes; the longest menu path is answered whole or cut with
    the 更多 hint (checked for every reply by check_reply)."""
    me = user("more", wx)
    ex = await wx.text(me, "苏州")
    assert "回复数字：" in ex.content
    ex = await wx.text(me, "更多")
    assert ex.content.startswith("没有更多内容了")


async def test_healthz(server: WeChatProcess, http: aiohttp.ClientSession) -> None:
    async with http.get(server.health_url) as resp:
        assert resp.status == 200 and (await resp.json())["ok"] is True


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("GET", "/nope", 404, None),
        ("POST", "/wechat/", 404, None),
        ("PUT", "/wechat", 405, "GET,HEAD,POST"),
        ("POST", "/healthz", 405, "GET,HEAD"),
        ("HEAD", "/healthz", 200, None),
    ],
)
async def test_other_paths_and_methods_are_answered_as_aiohttp_routes_do(
    server: WeChatProcess,
    http: aiohttp.ClientSession,
    method: str,
    path: str,
    status: int,
    allow: str | None,
) -> None:
    """The server's own dispatch (no Application) answers as the router did."""
    url = server.health_url.removesuffix("/healthz") + path
    async with http.request(method, url) as resp:
        assert (resp.status, resp.headers.get("Allow")) == (status, allow)


async def test_transcript_is_what_the_fake_saw(
    server: WeChatProcess, http: aiohttp.ClientSession
) -> None:
    """One conversation as WeChat saw it (printed with -s; kept for the README's note)."""
    wx = FakeWeChat(server.url, http, encrypt=True)
    me = "oTranscriptUser"
    await wx.event(me, "subscribe")
    for said in ("2", "1", "1", "两年", "1", "3", "1", "1"):
        await wx.text(me, said)
    for ex in wx.log:
        said = str(ex.sent.get("Content") or f"<{ex.sent.get('Event')}>")
        print(f"\n>>> {said}\n{ex.content}")
    assert all(ex.status == 200 for ex in wx.log)
