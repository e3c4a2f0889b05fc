"""A fake WeChat (the platform side) for tests and `make bench ARGS=wechat`.

It plays what WeChat's servers do towards an account's server: sign every request
(sha1 over the sorted token, timestamp and nonce), wrap messages in the safe-mode AES
envelope, post the message XML, and read the passive reply. Its crypto is its own,
written from WeChat's documentation and independent of bot/wechat/crypto.py (it pads
with `cryptography`'s PKCS7 at 256 bits, packs with int.to_bytes, builds XML with
ElementTree), and tests/bot/wechat/test_wechat_crypto.py checks it against WeChat's published sample
values, so the two implementations are each held to the documentation, not to each other.

`check_reply` holds every reply to what WeChat accepts: at most 2048 bytes of content,
well-formed XML, text in CDATA, no HTML tags, none of Telegram's words.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TOKEN = "yibao-test-token"
APP_ID = "wx49f0ab532d5d035a"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"  # WeChat's documented sample key
ACCOUNT = "gh_yibao_test"  # the account's own id (ToUserName of every message)

MAX_CONTENT_BYTES = 2048
HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>")
# A numbered choice as a tappable link (WECHAT_MENU_LINKS): the one markup WeChat text takes.
MENU_LINK = re.compile(
    r'<a href="weixin://bizmsgmenu\?msgmenucontent=([^"<>&]*)&msgmenuid=(\d+)">([^<>]*)</a>'
)
TELEGRAM_WORDS = (
    "/cancel",
    "/start",
    "/menu",
    "/forget",
    "/help",
    "/about",
    "/tianjin",
    "/suzhou",
    "按钮",
    "点按钮",
    "点“",
    "点下方",
    "Telegram",
    "键盘",
)


# ---------------------------------------------------------------------- WeChat's algorithm
def sign(*parts: str) -> str:
    """WeChat's signature: sha1 of the parts sorted as strings and joined."""
    joined = "".join(sorted(parts))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


class WeChatCipher:
    """The safe-mode envelope as WeChat builds it (消息加解密说明)."""

    def __init__(self, aes_key: str, app_id: str) -> None:
        self.key = base64.b64decode(aes_key + "=")
        assert len(self.key) == 32
        self.iv = self.key[:16]
        self.app_id = app_id.encode()

    def seal(self, message: bytes, random16: bytes | None = None) -> str:
        prefix = random16 if random16 is not None else os.urandom(16)
        body = prefix + len(message).to_bytes(4, "big") + message + self.app_id
        padder = padding.PKCS7(256).padder()  # WeChat pads to 32 bytes
        padded = padder.update(body) + padder.finalize()
        enc = Cipher(algorithms.AES(self.key), modes.CBC(self.iv)).encryptor()
        return base64.b64encode(enc.update(padded) + enc.finalize()).decode()

    def open(self, sealed: str) -> bytes:
        dec = Cipher(algorithms.AES(self.key), modes.CBC(self.iv)).decryptor()
        padded = dec.update(base64.b64decode(sealed)) + dec.finalize()
        unpadder = padding.PKCS7(256).unpadder()
        body = unpadder.update(padded) + unpadder.finalize()
        size = int.from_bytes(body[16:20], "big")
        message, app_id = body[20 : 20 + size], body[20 + size :]
        assert app_id == self.app_id, "reply sealed for another account"
        return message


def to_xml(fields: dict[str, str | int]) -> bytes:
    """A message as WeChat posts it: strings in CDATA, numbers bare."""
    parts = []
    for name, value in fields.items():
        inner = str(value) if isinstance(value, int) else f"<![CDATA[{value}]]>"
        parts.append(f"<{name}>{inner}</{name}>")
    return ("<xml>" + "".join(parts) + "</xml>").encode()


# ---------------------------------------------------------------------- the fake platform
@dataclass
class Exchange:
    """One request and what the account's server answered."""

    openid: str
    sent: dict[str, str | int]
    status: int
    raw: bytes  # the HTTP body as received
    reply: dict[str, str] = field(default_factory=dict)  # the (decrypted) reply's fields
    encrypted: bool = False

    @property
    def content(self) -> str:
        return self.reply.get("Content", "")


def check_reply(raw_xml: bytes) -> dict[str, str]:
    """What WeChat checks of a passive reply (and what its clients can show)."""
    root = ET.fromstring(raw_xml)  # well-formed
    assert root.tag == "xml"
    fields = {child.tag: child.text or "" for child in root}
    assert fields["MsgType"] == "text"
    for name in ("ToUserName", "FromUserName", "MsgType", "Content"):
        assert f"<{name}><![CDATA[".encode() in raw_xml, f"{name} not in CDATA"
    content = fields["Content"]
    assert 0 < len(content.encode("utf-8")) <= MAX_CONTENT_BYTES, len(content.encode())
    shown = MENU_LINK.sub(r"\3", content)
    assert not HTML_TAG.search(shown), HTML_TAG.search(shown)
    found = [w for w in TELEGRAM_WORDS if w in shown]
    assert not found, f"Telegram words in a WeChat reply: {found}"
    return fields


class FakeWeChat:
    """Posts messages to an account's server (`url`) the way WeChat does."""

    def __init__(self, url: str, http: aiohttp.ClientSession, encrypt: bool = False) -> None:
        self.url = url
        self.http = http
        self.encrypt = encrypt
        self.cipher = WeChatCipher(AES_KEY, APP_ID)
        self.log: list[Exchange] = []
        self._ids = itertools.count(int(time.time() * 1000) * 1000)

    def query(self, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or str(int.from_bytes(os.urandom(4), "big"))
        return {"timestamp": ts, "nonce": nonce, "signature": sign(TOKEN, ts, nonce)}

    async def verify(self, echostr: str, signature: str | None = None) -> tuple[int, str]:
        q = {**self.query(), "echostr": echostr}
        if signature is not None:
            q["signature"] = signature
        async with self.http.get(self.url, params=q) as resp:
            return resp.status, await resp.text()

    def message(self, openid: str, msg_type: str, **extra: str | int) -> dict[str, str | int]:
        fields: dict[str, str | int] = {
            "ToUserName": ACCOUNT,
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": msg_type,
        }
        fields.update(extra)
        if msg_type != "event" and "MsgId" not in fields:
            fields["MsgId"] = next(self._ids)
        return fields

    async def text(self, openid: str, content: str, **kw: object) -> Exchange:
        return await self.post(self.message(openid, "text", Content=content), **kw)  # type: ignore[arg-type]

    async def event(self, openid: str, event: str, key: str = "", **kw: object) -> Exchange:
        fields = self.message(openid, "event", Event=event)
        if key:
            fields["EventKey"] = key
        return await self.post(fields, **kw)  # type: ignore[arg-type]

    async def post(
        self,
        fields: dict[str, str | int],
        encrypt: bool | None = None,
        query: dict[str, str] | None = None,
        body: bytes | None = None,
        check: bool = True,
    ) -> Exchange:
        """Post one message (signed, sealed if `encrypt`) and read the reply."""
        sealed = self.encrypt if encrypt is None else encrypt
        q = dict(query or self.query())
        payload = to_xml(fields) if body is None else body
        if sealed and body is None:
            enc = self.cipher.seal(payload)
            q["encrypt_type"] = "aes"
            q["msg_signature"] = sign(TOKEN, q["timestamp"], q["nonce"], enc)
            payload = to_xml({"ToUserName": ACCOUNT, "Encrypt": enc})
        q.setdefault("openid", str(fields.get("FromUserName", "")))
        async with self.http.post(self.url, params=q, data=payload) as resp:
            raw = await resp.read()
            status = resp.status
        ex = Exchange(str(fields.get("FromUserName", "")), fields, status, raw, encrypted=sealed)
        if status == 200 and raw not in (b"success", b""):
            inner = raw
            if sealed:
                outer = {c.tag: c.text or "" for c in ET.fromstring(raw)}
                expected = sign(TOKEN, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
                assert outer["MsgSignature"] == expected, "reply envelope badly signed"
                inner = self.cipher.open(outer["Encrypt"])
            ex.reply = check_reply(inner) if check else {}
            if check:
                assert ex.reply["ToUserName"] == fields["FromUserName"]
                assert ex.reply["FromUserName"] == fields["ToUserName"]
        self.log.append(ex)
        return ex


def numbered(content: str) -> dict[str, int]:
    """The numbered choices of a reply: label -> number."""
    out: dict[str, int] = {}
    for line in MENU_LINK.sub(r"\3", content).splitlines():
        m = re.fullmatch(r"(\d{1,2}) (.+)", line.strip())
        if m:
            out[m.group(2)] = int(m.group(1))
    return out


# ---------------------------------------------------------------------- WeChat's server API
class FakeApi:
    """WeChat's API as far as this edge uses it: token, custom/send, menu/create."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.tokens = 0
        self.sent: list[dict[str, Any]] = []
        self.menus: list[dict[str, Any]] = []
        self.valid = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self.token)
        app.router.add_post("/cgi-bin/message/custom/send", self.send)
        app.router.add_post("/cgi-bin/menu/create", self.menu)
        return app

    async def token(self, request: web.Request) -> web.Response:
        if request.query.get("secret") != self.secret:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        self.tokens += 1
        self.valid = f"TOKEN{self.tokens}"
        return web.json_response({"access_token": self.valid, "expires_in": 7200})

    def _ok(self, request: web.Request) -> bool:
        return request.query.get("access_token") == self.valid

    async def send(self, request: web.Request) -> web.Response:
        if not self._ok(request):
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        self.sent.append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def menu(self, request: web.Request) -> web.Response:
        if not self._ok(request):
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        self.menus.append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok"})


@asynccontextmanager
async def serve_api(fake: FakeApi, port: int) -> AsyncIterator[FakeApi]:
    """`fake` listening on 127.0.0.1:`port` (WECHAT_API_BASE=http://127.0.0.1:<port>)."""
    runner = web.AppRunner(fake.app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield fake
    finally:
        await runner.cleanup()


def menu_links(content: str) -> dict[str, tuple[str, int]]:
    """The bizmsgmenu links of a reply: shown text -> (msgmenucontent, msgmenuid)."""
    return {m.group(3): (m.group(1), int(m.group(2))) for m in MENU_LINK.finditer(content)}


def without_offers(content: str) -> str:
    """The reply with each link's msgmenuid cut to the choice's number (offer × 100 +
    number): the offer ids differ between two servers."""
    return re.sub(r"&msgmenuid=(\d+)\"", lambda m: f'&msgmenuid={int(m[1]) % 100}"', content)
