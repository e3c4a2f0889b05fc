"""`yibao wechat`: the 公众号 message server (aiohttp), on the same engine as every edge.

- `GET {path}` is WeChat's URL check: the signature over (token, timestamp, nonce) must
  hold, then the `echostr` is echoed.
- `POST {path}` carries one message as XML, plain or (with WECHAT_AES_KEY, "compatible
  mode") in an AES envelope with its `msg_signature`; an encrypted message is answered
  encrypted, a plain one in plain. A bad signature gets 403 before anything is read or
  stored; so does a timestamp more than `max_skew` seconds off (a replay of an old
  request). Bodies over `max_body` get 413; DTDs and entities are refused (bot/wechat/xml).
- WeChat waits 5 s for the passive reply, then resends the same message (same MsgId, and
  possibly the same timestamp and nonce) up to three times. A resend is not an attack: it
  is answered from the reply remembered for that MsgId in the store (so across instances),
  never with a second turn. The MsgId goes to the engine as the update id, so the session
  the turn loads anyway says whether it was answered (`Session.answered`), and the engine
  keeps the reply with the session in one store write (`Remember`, `SessionStore.commit`):
  a message costs two store calls (load, commit), a process killed at any point leaves
  either the answered session with its reply or neither, and only a resend reads the
  remembered reply. Messages of one user pass the engine's chat lock, so a resend that
  arrives while the first is still being answered waits for it and gets the same text.
  (Events have no MsgId: their key is looked up first, under a lock of its own.)
- A turn that takes more than `reply_within` (WECHAT_REPLY_BUDGET_MS, 4 s) is answered
  "success" (WeChat then neither resends nor shows anything), and its reply goes out
  through the customer-service API when WECHAT_APP_SECRET is set
  (bot/wechat/customer_service) — once: a resend answered from the cache sends nothing.
- Events: subscribe → welcome and menu; unsubscribe → everything of the user is erased;
  CLICK → the button's callback. Other message types get the text-only hint.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

from bot.ops.health import HEALTH_PATH
from bot.wechat.crypto import CryptoError, Envelope, signature_ok
from bot.wechat.customer_service import WeChatApi
from bot.wechat.menu import HELP_KEY
from bot.wechat.render import Pager, read_menu_id
from bot.wechat.settings import WeChatSettings
from bot.wechat.xml import XmlError, encrypted_reply, parse, text_reply
from dialogs import callbacks as cb
from dialogs.callbacks import Callback, Kind
from dialogs.engine import Engine, Remember
from dialogs.types import Incoming
from knowledge.ui_keys import apology

log = logging.getLogger(__name__)
T = TypeVar("T")

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
SUCCESS = "success"  # "received, nothing to say": WeChat shows nothing and does not resend
CHANNEL = "wx:"
# What a custom-menu click may name: a menu, a flow or an entry (dialogs.callbacks).
CLICK_KINDS = frozenset({Kind.MENU, Kind.FLOW, Kind.ENTRY})
NON_TEXT = cb.notice("non_text")  # the engine's text-only notice


@dataclass(frozen=True, slots=True)
class ServerConfig:
    path: str = "/wechat"
    max_body: int = 128 * 1024  # a 10,000-character message is ~40 KB encrypted
    max_skew: float = 300.0  # seconds a request's timestamp may be off our clock
    reply_within: float = 4.0  # WeChat waits 5 s; the rest is the network's
    remember_for: float = 600.0  # seconds a reply is kept for resends (WeChat's take ~15 s)


class WeChatServer:
    def __init__(
        self,
        engine: Engine,
        settings: WeChatSettings,
        config: ServerConfig | None = None,
        api: WeChatApi | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.config = config or ServerConfig()
        self.api = api
        self.clock = clock
        self.envelope = (
            Envelope(settings.token, settings.aes_key, settings.app_id)
            if settings.aes_key
            else None
        )
        self._late: set[asyncio.Task[object]] = set()

    # ------------------------------------------------------------------ HTTP
    def http(self, healthz: Handler) -> web.Server:
        """The HTTP side: aiohttp's low-level server and a dict of the three routes. What an
        Application adds per request (router, match info, signals, the Request subclass) was
        about 20 µs of a message's CPU; the answers are the same: 404 for another path, 405
        with Allow for another method, HEAD as GET, 413 beyond `max_body`."""
        path = "/" + self.config.path.strip("/")
        routes: dict[str, dict[str, Handler]] = {
            path: {"GET": self.verify, "HEAD": self.verify, "POST": self.receive},
            HEALTH_PATH: {"GET": healthz, "HEAD": healthz},
        }
        max_body = self.config.max_body

        def request(
            message: RawRequestMessage,
            payload: StreamReader,
            protocol: RequestHandler,
            writer: AbstractStreamWriter,
            task: asyncio.Task[None],
        ) -> web.BaseRequest:
            loop = task.get_loop()
            return web.BaseRequest(
                message, payload, protocol, writer, task, loop, client_max_size=max_body
            )

        async def dispatch(request: web.BaseRequest) -> web.StreamResponse:
            methods = routes.get(request.path)
            if methods is None:
                raise web.HTTPNotFound()
            handler = methods.get(request.method)
            if handler is None:
                raise web.HTTPMethodNotAllowed(request.method, methods)
            return await handler(request)

        return web.Server(dispatch, request_factory=request, access_log=None)

    def _signed(self, request: web.BaseRequest) -> bool:
        q = request.query
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        if not timestamp.isdigit() or not nonce:
            return False
        if abs(self.clock() - int(timestamp)) > self.config.max_skew:
            log.warning("wechat: request with a stale timestamp refused")
            return False
        return signature_ok((self.settings.token, timestamp, nonce), q.get("signature", ""))

    async def verify(self, request: web.BaseRequest) -> web.Response:
        """WeChat's server-URL check (服务器配置 → 提交)."""
        if not self._signed(request):
            return web.Response(status=403)
        return web.Response(text=request.query.get("echostr", ""))

    async def receive(self, request: web.BaseRequest) -> web.Response:
        if not self._signed(request):
            log.warning("wechat: request with a bad signature refused")
            return web.Response(status=403)
        body = await request.read()  # aiohttp answers 413 beyond client_max_size
        encrypted = request.query.get("encrypt_type", "raw") == "aes"
        try:
            if encrypted:
                fields = self._open(request, body)
                if fields is None:
                    return web.Response(status=403)
            else:
                fields = parse(body)
        except XmlError as exc:
            log.warning("wechat: unreadable message refused (%s)", exc)
            return web.Response(status=400)
        if not fields.get("FromUserName") or not fields.get("ToUserName"):
            return web.Response(status=400)
        text = await self.answer(fields)
        if not text:
            return web.Response(text=SUCCESS)
        now = int(self.clock())
        xml = text_reply(fields["FromUserName"], fields["ToUserName"], text, now)
        if encrypted and self.envelope is not None:
            nonce = str(secrets.randbelow(10**10))
            sealed = self.envelope.encrypt(xml.encode())
            sig = self.envelope.msg_signature(str(now), nonce, sealed)
            xml = encrypted_reply(sealed, sig, now, nonce)
        return web.Response(text=xml, content_type="application/xml")

    def _open(self, request: web.BaseRequest, body: bytes) -> dict[str, str] | None:
        """The message inside a safe-mode envelope; None when it is not ours (403)."""
        if self.envelope is None:
            log.warning("wechat: encrypted message but WECHAT_AES_KEY is not set")
            return None
        sealed = parse(body).get("Encrypt", "")
        q = request.query
        parts = (self.settings.token, q.get("timestamp", ""), q.get("nonce", ""), sealed)
        if not sealed or not signature_ok(parts, q.get("msg_signature", "")):
            log.warning("wechat: encrypted message with a bad msg_signature refused")
            return None
        try:
            return parse(self.envelope.decrypt(sealed))
        except CryptoError as exc:
            log.warning("wechat: envelope refused (%s)", exc)
            return None

    # ------------------------------------------------------------------ messages
    async def answer(self, fields: dict[str, str]) -> str | None:
        """The reply text for one message (None: say nothing), within `reply_within`."""
        openid = fields["FromUserName"]
        chat = CHANNEL + openid
        kind = fields.get("MsgType", "")
        event = fields.get("Event", "").lower() if kind == "event" else ""
        if event == "unsubscribe":
            await self.engine.forget(chat)  # nothing is kept of people who left
            return None
        msg_id = fields.get("MsgId", "")
        incoming = to_incoming(kind, event, fields, int(msg_id) if msg_id.isdigit() else None)
        if incoming is None:
            return None
        key = f"m:{msg_id}" if msg_id else f"e:{fields.get('CreateTime', '')}:{event or kind}"
        turn = asyncio.ensure_future(self._turn(chat, key, incoming))
        try:
            if await within(turn, self.config.reply_within):
                text, _ = turn.result()
                return text
        except TimeoutError:  # raised by the turn itself: handled as wait_for did
            pass
        log.warning("wechat: turn slower than %.1fs, answered later", self.config.reply_within)
        self._later(turn, openid, _float(fields.get("CreateTime")) or self.clock())
        return None

    async def _turn(self, chat: str, key: str, incoming: Incoming) -> tuple[str | None, bool]:
        """The reply text, and whether this call produced it (False: a resend's, from the
        cache)."""
        if incoming.update_id is not None:
            return await self._answer(chat, key, incoming)
        # An event has no MsgId for the engine to know: its key is looked up first, under a
        # lock of its own so that a resend racing the first delivery waits for its reply.
        async with self.engine.store.lock(chat + "#m"):
            cached = await self.engine.store.recall_reply(chat, key)
            if cached is not None:
                return cached, False  # a resend: the same reply, no second turn
            return await self._answer(chat, key, incoming)

    async def _answer(self, chat: str, key: str, incoming: Incoming) -> tuple[str | None, bool]:
        """A turn whose reply the engine keeps with the session, in one store write."""
        pager = self.pager()
        remember = Remember(key, pager.render, self.config.remember_for)
        try:
            replies = await self.engine.handle(chat, incoming, pager=pager, remember=remember)
        except Exception:
            log.exception("wechat: turn failed")
            return apology(self.engine.kb.ui), True  # not remembered: a resend retries
        if not replies and incoming.update_id is not None:
            # The engine answered this MsgId already (a resend, maybe to another instance):
            # the reply it kept with that turn's session.
            return await self.engine.store.recall_reply(chat, key), False
        return pager.render(replies), True

    def pager(self) -> Pager:
        return Pager(self.engine.kb, links=self.settings.menu_links)

    def _later(
        self, turn: asyncio.Future[tuple[str | None, bool]], openid: str, asked_at: float
    ) -> None:
        """Send a slow turn's reply through the customer-service API once it is ready
        (only the turn that produced it: a resend's copy is not sent again)."""
        if self.api is None:
            return
        api = self.api

        async def send() -> None:
            text, fresh = await turn
            if text and fresh:
                await api.send_text(openid, text, asked_at)

        task: asyncio.Task[object] = asyncio.ensure_future(send())
        self._late.add(task)
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[object]) -> None:
        self._late.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("wechat: late reply not sent (%s)", type(task.exception()).__name__)

    async def drain(self) -> None:
        """Wait for late replies still being sent (at shutdown)."""
        if self._late:
            await asyncio.gather(*self._late, return_exceptions=True)


async def within(turn: asyncio.Future[T], seconds: float) -> bool:
    """Wait for `turn` at most `seconds` without ever cancelling it (a slow turn goes on; its
    reply is sent later); True when it is done. What `wait_for(shield(turn))` did, with one
    future and one timer a message instead of that pair's three futures and their
    callbacks (about 10 µs of a message's CPU)."""
    if turn.done() or seconds <= 0:  # as wait_for: no budget, no wait
        return turn.done()
    woken = asyncio.get_running_loop().create_future()

    def wake(_: object = None) -> None:
        if not woken.done():
            woken.set_result(None)

    timer = woken.get_loop().call_later(seconds, wake)
    turn.add_done_callback(wake)
    try:
        await woken
    finally:
        timer.cancel()
        turn.remove_done_callback(wake)
    return turn.done()


def to_incoming(
    kind: str, event: str, fields: dict[str, str], update_id: int | None = None
) -> Incoming | None:
    """What the user did, in the engine's terms; None for what needs no answer.
    `update_id`: the MsgId, for the engine's once-per-message answer."""
    if kind == "text":
        tapped = read_menu_id(fields.get("bizmsgmenuid", ""))
        if tapped is not None:  # a tap on a numbered choice's link (WECHAT_MENU_LINKS)
            offer, number = tapped
            return Incoming(text=str(number), offer=offer, update_id=update_id)
        return Incoming(text=fields.get("Content", ""), update_id=update_id)
    if kind == "voice" and fields.get("Recognition", "").strip():
        # WeChat's own speech recognition
        return Incoming(text=fields["Recognition"], update_id=update_id)
    if kind == "event":
        if event == "subscribe":
            return Incoming(text="/start", update_id=update_id)
        key = fields.get("EventKey", "")
        if event == "click" and key == HELP_KEY:
            return Incoming(text="/help", update_id=update_id)
        clicked = Callback.unpack(key)
        if event == "click" and clicked is not None and clicked.kind in CLICK_KINDS:
            return Incoming(callback=key, update_id=update_id)
        return None  # VIEW, LOCATION, SCAN, TEMPLATESENDJOBFINISH …: nothing to say
    # image, voice, video, location, link, file …
    return Incoming(callback=NON_TEXT, update_id=update_id)


def _float(raw: str | None) -> float:
    try:
        return float(raw or 0)
    except ValueError:
        return 0.0
