"""A fake Telegram Bot API on 127.0.0.1 (aiohttp), for end-to-end tests and the bench.

The real bot (PTB's HTTP stack, rate limiter and all) talks to it through
`TELEGRAM_API_BASE_URL=http://127.0.0.1:<port>/bot`. It speaks Telegram's JSON shapes for
the methods the bot uses, lets a test play the user (`user_text`, `press`, `user_message`)
and await what the bot sent (`wait_messages`), and injects faults (`fail_next`: 429 with
retry_after, 502). Like Telegram, it rejects malformed HTML, texts over 4096 characters and
callback data over 64 bytes with 400 Bad Request, so rendering mistakes fail loudly.

More faults for the robustness tests (each off unless switched on): `reset_next` (the
connection is dropped before the request is handled), `slow_next` (handled, answered late),
`garble_next` (a 200 whose body is not JSON, request not handled), `block_chat` (403 "bot
was blocked by the user" for good), `stall_next` and `freeze_polls` (requests hang unhandled
until `thaw`, then get 502: a client killed meanwhile never learns anything), and gates:
`gate_url(name)` is a base URL whose getUpdates answers nothing until `open_gate(name)`, so a
standby bot process can start up beside the live one. `delivered` counts how often each
update was handed out by getUpdates.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

JSONDict = dict[str, Any]

BOT_ID = 7_000_000_001
BOT_USERNAME = "yibao_test_bot"
BOT_USER: JSONDict = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "医保助手",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
ALLOWED_TAGS = frozenset(
    [
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del",
        "span", "tg-spoiler", "a", "tg-emoji", "code", "pre", "blockquote",
    ]
)  # fmt: skip
# Parameters PTB sends JSON-encoded inside a form; everything else is a plain string.
JSON_PARAMS = frozenset(
    [
        "chat_id", "message_id", "offset", "limit", "timeout", "reply_markup", "allowed_updates",
        "commands", "show_alert", "cache_time", "max_connections", "drop_pending_updates", "scope",
    ]
)  # fmt: skip
_TOKEN_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);"
)


class HtmlError(ValueError):
    pass


def parse_html(text: str) -> str:
    """The plain text Telegram would show for `text` in HTML mode; HtmlError if it is invalid.

    Telegram's rules: only its few tags, properly nested; `<`, `>` and `&` elsewhere must be
    escaped; only the named entities lt, gt, amp and quot (and numeric ones).
    """
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for m in _TOKEN_RE.finditer(text):
        chunk = text[pos : m.start()]
        for bad in "<>&":
            if bad in chunk:
                raise HtmlError(f"Unsupported start tag or unescaped {bad!r} at byte offset {pos}")
        out.append(chunk)
        pos = m.end()
        closing, tag, _attrs, entity = m.group(1), m.group(2), m.group(3), m.group(4)
        if entity is not None:
            if entity.startswith("#") or entity in ("lt", "gt", "amp", "quot"):
                out.append(html.unescape(m.group(0)))
                continue
            raise HtmlError(f"Unsupported HTML entity &{entity};")
        tag = tag.lower()
        if tag not in ALLOWED_TAGS:
            raise HtmlError(f'Unsupported start tag "{tag}"')
        if closing:
            if not stack or stack[-1] != tag:
                raise HtmlError(f'Unmatched end tag "{tag}"')
            stack.pop()
        else:
            stack.append(tag)
    rest = text[pos:]
    for bad in "<>&":
        if bad in rest:
            raise HtmlError(f"Unsupported start tag or unescaped {bad!r}")
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    out.append(rest)
    return "".join(out)


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


@dataclass
class Fault:
    status: int
    retry_after: int | None = None


@dataclass
class Sent:
    """One message the bot sent (its keyboard is kept current by edits)."""

    chat_id: int
    message_id: int
    html: str
    text: str
    markup: JSONDict | None
    at: float
    data: JSONDict = field(repr=False, default_factory=dict)

    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of every button, row by row."""
        if not self.markup:
            return []
        return [
            (b["text"], b["callback_data"]) for row in self.markup["inline_keyboard"] for b in row
        ]

    def callback(self, label: str) -> str:
        """The callback data of the button whose label contains `label`."""
        for text, data in self.buttons():
            if label in text:
                return data
        raise KeyError(f"no button {label!r} in {self.buttons()}")


class FakeBotAPI:
    """In-process Bot API. `await start()`, then point the bot at `base_url`."""

    def __init__(self, token: str, host: str = "127.0.0.1") -> None:
        self.token = token
        self.host = host
        self.port = 0
        self.calls: list[tuple[str, JSONDict]] = []
        self.sent: list[Sent] = []
        self.edits: list[JSONDict] = []
        self.callback_answers: dict[str, JSONDict] = {}
        self.chat_actions: list[JSONDict] = []
        self.commands: list[JSONDict] = []
        self.webhook: JSONDict = {"url": "", "secret_token": None}
        self.injected_at: dict[int, float] = {}
        self.injected: dict[int, JSONDict] = {}  # every update the user side sent, by id
        self.handed_out = 0  # updates returned by getUpdates, re-deliveries included
        self.fetched_at: dict[int, float] = {}  # when getUpdates first handed each one out
        self._updates: deque[JSONDict] = deque()
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._query_ids = itertools.count(1)
        self._chats: dict[int, JSONDict] = {}
        self._messages: dict[tuple[int, int], Sent] = {}
        self._by_chat: dict[int, list[Sent]] = {}
        self._waiters: dict[
            int, list[tuple[Callable[[list[Sent]], bool], asyncio.Future[None]]]
        ] = {}
        self._answer_waiters: dict[str, asyncio.Future[JSONDict]] = {}
        self._call_waiters: list[tuple[str, int, asyncio.Future[None]]] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._new_update: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        # Robustness faults (tests/bot/telegram: test_faults_botapi.py, test_crash_recovery.py).
        self.delivered: Counter[int] = Counter()
        self.blocked: set[int] = set()
        self._extra_faults: dict[str, deque[tuple[str, float]]] = {}
        self._frozen_polls = False
        self._freeze_after: int | None = None
        self._thawed: asyncio.Event | None = None
        self._gates: dict[str, asyncio.Event] = {}
        self.gate_polls: Counter[str] = Counter()
        self._held_chats: set[int] = set()
        self._release: asyncio.Event | None = None
        self.held = 0  # sendMessage requests waiting for release_chats()

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    async def start(self, port: int = 0) -> None:
        self._new_update = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        app.router.add_route("*", "/gate/{gate}/bot{token}/{method}", self._dispatch_gated)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self.wake_pollers()  # a client that went away leaves its long poll pending
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def wake_pollers(self) -> None:
        """End a pending long poll now (with no updates), e.g. so the bot can stop at once."""
        if self._new_update is not None:
            self._new_update.set()

    # ------------------------------------------------------------------ playing the user
    def chat(self, chat_id: int, chat_type: str = "private") -> JSONDict:
        if chat_id not in self._chats:
            if chat_type == "private":
                self._chats[chat_id] = {
                    "id": chat_id,
                    "type": "private",
                    "first_name": f"U{chat_id}",
                }
            else:
                self._chats[chat_id] = {"id": chat_id, "type": chat_type, "title": f"G{chat_id}"}
        return self._chats[chat_id]

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def inject(self, update: JSONDict) -> int:
        """Queue a raw update (without update_id); return the id it got."""
        update_id = next(self._update_ids)
        update = {"update_id": update_id, **update}
        self.injected[update_id] = update
        self._updates.append(update)
        self.injected_at[update_id] = time.perf_counter()
        if self._new_update is not None:
            self._new_update.set()
        return update_id

    def message_dict(
        self, chat_id: int, chat_type: str = "private", user_id: int | None = None, **fields: Any
    ) -> JSONDict:
        user_id = user_id if user_id is not None else (chat_id if chat_type == "private" else 42)
        return {
            "message_id": self._next_message_id(chat_id),
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": f"U{user_id}",
                "language_code": "zh-hans",
            },
            "chat": self.chat(chat_id, chat_type),
            "date": int(time.time()),
            **fields,
        }

    def user_message(self, chat_id: int, chat_type: str = "private", **fields: Any) -> int:
        """A message of any kind (sticker=..., photo=...); returns the update id."""
        return self.inject({"message": self.message_dict(chat_id, chat_type, **fields)})

    def user_text(
        self,
        chat_id: int,
        text: str,
        chat_type: str = "private",
        reply_to: Sent | None = None,
        user_id: int | None = None,
    ) -> int:
        """A typed text, with the entities Telegram would add (commands, @mentions)."""
        entities = []
        command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if command:
            entities.append({"type": "bot_command", "offset": 0, "length": _u16(command.group(0))})
        for m in re.finditer(r"@[A-Za-z0-9_]{5,}", text):
            if command and m.start() < command.end():
                continue
            entities.append(
                {"type": "mention", "offset": _u16(text[: m.start()]), "length": _u16(m.group(0))}
            )
        fields: JSONDict = {"text": text}
        if entities:
            fields["entities"] = entities
        if reply_to is not None:
            fields["reply_to_message"] = reply_to.data
        return self.user_message(chat_id, chat_type, user_id=user_id, **fields)

    def sticker(self, chat_id: int) -> int:
        return self.user_message(
            chat_id,
            sticker={
                "file_id": "CAACAgIAAxkBAAIBQ2",
                "file_unique_id": "AgADBQ",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
            },
        )

    def press(self, sent: Sent, data: str, user_id: int | None = None) -> str:
        """Press a button (by its callback data) on a message the bot sent; return the query id."""
        query_id = str(next(self._query_ids))
        chat = self._chats[sent.chat_id]
        uid = (
            user_id if user_id is not None else (sent.chat_id if chat["type"] == "private" else 42)
        )
        self.inject(
            {
                "callback_query": {
                    "id": query_id,
                    "from": {"id": uid, "is_bot": False, "first_name": f"U{uid}"},
                    "message": self._messages[(sent.chat_id, sent.message_id)].data,
                    "chat_instance": f"ci{sent.chat_id}",
                    "data": data,
                }
            }
        )
        return query_id

    # ------------------------------------------------------------------ observing the bot
    def messages(self, chat_id: int) -> list[Sent]:
        return list(self._by_chat.get(chat_id, ()))

    async def wait_messages(self, chat_id: int, count: int, timeout: float = 15) -> list[Sent]:
        """Wait until the bot has sent at least `count` messages to `chat_id`; return them all."""
        return await self.wait_until(chat_id, lambda sent: len(sent) >= count, timeout)

    async def wait_until(
        self, chat_id: int, done: Callable[[list[Sent]], bool], timeout: float = 15
    ) -> list[Sent]:
        """Wait until `done(messages sent to chat_id)` holds; return those messages."""
        if not done(self._by_chat.get(chat_id, [])):
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(chat_id, []).append((done, future))
            await asyncio.wait_for(future, timeout)
        return self.messages(chat_id)

    async def wait_answer(self, query_id: str, timeout: float = 15) -> JSONDict:
        """Wait for answerCallbackQuery on `query_id`; return its parameters."""
        if query_id not in self.callback_answers:
            future = asyncio.get_running_loop().create_future()
            self._answer_waiters[query_id] = future
            await asyncio.wait_for(future, timeout)
        return self.callback_answers[query_id]

    async def wait_calls(self, method: str, count: int = 1, timeout: float = 15) -> list[JSONDict]:
        """Wait until the bot has called `method` at least `count` times (faults included)."""
        if len(self.calls_of(method)) < count:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._call_waiters.append((method, count, future))
            await asyncio.wait_for(future, timeout)
        return self.calls_of(method)

    def _wake_call_waiters(self) -> None:
        for method, count, future in list(self._call_waiters):
            if not future.done() and len(self.calls_of(method)) >= count:
                future.set_result(None)
        self._call_waiters = [w for w in self._call_waiters if not w[2].done()]

    def calls_of(self, method: str) -> list[JSONDict]:
        return [params for name, params in self.calls if name == method]

    def fail_next(
        self, method: str, status: int, retry_after: int | None = None, times: int = 1
    ) -> None:
        """The next `times` calls of `method` fail with `status` (429 carries retry_after)."""
        for _ in range(times):
            self._faults.setdefault(method, deque()).append(Fault(status, retry_after))

    # ------------------------------------------------------------------ more faults
    def reset_next(self, method: str, times: int = 1) -> None:
        """The next `times` calls of `method` lose their connection before being handled."""
        self._add_extra(method, "reset", 0.0, times)

    def slow_next(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls of `method` are handled, then answered `seconds` late."""
        self._add_extra(method, "slow", seconds, times)

    def garble_next(self, method: str, times: int = 1) -> None:
        """The next `times` calls of `method` get a 200 with a body that is not JSON."""
        self._add_extra(method, "garble", 0.0, times)

    def stall_next(self, method: str, times: int = 1) -> None:
        """The next `times` calls of `method` hang unhandled until `thaw()`."""
        self._add_extra(method, "stall", 0.0, times)

    def hold_chat(self, chat_id: int) -> None:
        """sendMessage to `chat_id` waits (unhandled) until `release_chats()`, like a chat
        at Telegram's per-chat send limit; `held` counts the waiting requests."""
        self._held_chats.add(chat_id)
        self._release = self._release or asyncio.Event()

    def release_chats(self) -> None:
        self._held_chats.clear()
        if self._release is not None:
            self._release.set()
            self._release = None

    def block_chat(self, chat_id: int) -> None:
        """From now on sendMessage to `chat_id` fails with 403: the user blocked the bot."""
        self.blocked.add(chat_id)

    def freeze_polls(self, after_update: int | None = None) -> None:
        """Every getUpdates from now on (or: once update `after_update` has been handed
        out) hangs before acknowledging anything, until `thaw()`."""
        if after_update is None:
            self._frozen_polls = True
        else:
            self._freeze_after = after_update

    def thaw(self) -> None:
        """End the freeze; the requests that hung get 502 and change nothing."""
        self._frozen_polls = False
        if self._thawed is not None:
            self._thawed.set()
            self._thawed = None

    def gate_url(self, name: str) -> str:
        """A base URL whose getUpdates returns no update until `open_gate(name)`."""
        self._gates.setdefault(name, asyncio.Event())
        return f"http://{self.host}:{self.port}/gate/{name}/bot"

    def open_gate(self, name: str) -> None:
        self._gates.setdefault(name, asyncio.Event()).set()

    async def wait_gate_poll(self, name: str, timeout: float = 60) -> None:
        """Wait until a client behind gate `name` has asked for updates (it is ready)."""
        deadline = time.monotonic() + timeout
        while not self.gate_polls[name]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nobody polled behind gate {name!r}")
            await asyncio.sleep(0.02)

    def unacknowledged(self) -> list[int]:
        """Ids of the updates the bot has not acknowledged yet (what a restart would get)."""
        return [u["update_id"] for u in self._updates]

    def _add_extra(self, method: str, kind: str, seconds: float, times: int) -> None:
        for _ in range(times):
            self._extra_faults.setdefault(method, deque()).append((kind, seconds))

    async def _hang(self) -> web.Response:
        if self._thawed is None:
            self._thawed = asyncio.Event()
        await self._thawed.wait()
        return web.Response(status=502, text="<html>Bad Gateway</html>")

    async def _dispatch_gated(self, request: web.Request) -> web.StreamResponse:
        gate = self._gates.setdefault(request.match_info["gate"], asyncio.Event())
        if request.match_info["method"] == "getUpdates" and not gate.is_set():
            self.gate_polls[request.match_info["gate"]] += 1
            params = await _params(request)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gate.wait(), float(params.get("timeout") or 0) or 0.01)
            if not gate.is_set():
                return web.json_response({"ok": True, "result": []})
        return await self._dispatch(request)

    async def _extra_fault(self, request: web.Request, method: str) -> web.StreamResponse | float:
        """Apply the next extra fault queued for `method`: a response to give instead, or
        the delay (0: none) after which the normal answer goes out."""
        if method == "getUpdates" and self._frozen_polls:
            return await self._hang()
        queued = self._extra_faults.get(method)
        if not queued:
            return 0.0
        kind, seconds = queued.popleft()
        if kind == "reset":
            assert request.transport is not None
            request.transport.abort()  # the client sees the connection reset, no response
            return web.Response(status=500)
        if kind == "garble":
            return web.Response(text='{"ok": true, "result": {', content_type="application/json")
        if kind == "stall":
            return await self._hang()
        return seconds  # "slow"

    # ------------------------------------------------------------------ HTTP
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        method = request.match_info["method"]
        params = await _params(request)
        self.calls.append((method, params))
        if self._call_waiters:
            self._wake_call_waiters()
        extra = await self._extra_fault(request, method)
        if not isinstance(extra, float):
            return extra
        if method == "sendMessage" and _int(params.get("chat_id")) in self._held_chats:
            assert self._release is not None
            self.held += 1
            await self._release.wait()
        if method == "sendMessage" and _int(params.get("chat_id")) in self.blocked:
            return _error(ApiError(403, "Forbidden: bot was blocked by the user"))
        response = await self._handle(method, params)
        if extra:
            await asyncio.sleep(extra)
        return response

    async def _handle(self, method: str, params: JSONDict) -> web.Response:
        faults = self._faults.get(method)
        if faults:
            fault = faults.popleft()
            if fault.status == 429:
                return _error(
                    ApiError(
                        429,
                        f"Too Many Requests: retry after {fault.retry_after}",
                        {"retry_after": fault.retry_after},
                    )
                )
            return web.Response(status=fault.status, text="<html>Bad Gateway</html>")
        handler: Callable[[JSONDict], Any] | None = getattr(self, f"api_{method.lower()}", None)
        if handler is None:
            return _error(ApiError(404, "Not Found: method not found"))
        try:
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as exc:
            return _error(exc)
        return web.json_response({"ok": True, "result": result})

    # ------------------------------------------------------------------ methods
    def api_getme(self, params: JSONDict) -> JSONDict:
        return BOT_USER

    async def api_getupdates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook["url"]:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        while self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()  # acknowledged
        assert self._new_update is not None
        if not self._updates and timeout > 0:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout)
            except TimeoutError:
                return []
        batch = list(itertools.islice(self._updates, limit))
        self.handed_out += len(batch)
        now = time.perf_counter()
        for update in batch:
            self.fetched_at.setdefault(update["update_id"], now)
        self.delivered.update(u["update_id"] for u in batch)
        if self._freeze_after is not None and self._freeze_after in self.delivered:
            self._frozen_polls, self._freeze_after = True, None
        return batch

    def api_sendmessage(self, params: JSONDict) -> JSONDict:
        chat_id = int(params["chat_id"])
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        raw = str(params.get("text", ""))
        text = self._checked_text(raw, params.get("parse_mode"))
        markup = self._checked_markup(params.get("reply_markup"))
        message_id = self._next_message_id(chat_id)
        data: JSONDict = {
            "message_id": message_id,
            "from": BOT_USER,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if markup:
            data["reply_markup"] = markup
        sent = Sent(chat_id, message_id, raw, text, markup, time.perf_counter(), data)
        self.sent.append(sent)
        self._messages[(chat_id, message_id)] = sent
        self._by_chat.setdefault(chat_id, []).append(sent)
        waiters = self._waiters.get(chat_id)
        if waiters:
            for done, future in list(waiters):
                if not future.done() and done(self._by_chat[chat_id]):
                    future.set_result(None)
            self._waiters[chat_id] = [(d, f) for d, f in waiters if not f.done()]
        return data

    def api_editmessagereplymarkup(self, params: JSONDict) -> JSONDict:
        key = (int(params["chat_id"]), int(params["message_id"]))
        sent = self._messages.get(key)
        if sent is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = self._checked_markup(params.get("reply_markup"))
        if markup == sent.markup:
            raise ApiError(400, "Bad Request: message is not modified")
        sent.markup = markup
        sent.data = {k: v for k, v in sent.data.items() if k != "reply_markup"}
        if markup:
            sent.data["reply_markup"] = markup
        self.edits.append(params)
        return sent.data

    def api_editmessagetext(self, params: JSONDict) -> JSONDict:
        key = (int(params["chat_id"]), int(params["message_id"]))
        sent = self._messages.get(key)
        if sent is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        sent.html = str(params.get("text", ""))
        sent.text = self._checked_text(sent.html, params.get("parse_mode"))
        sent.markup = self._checked_markup(params.get("reply_markup"))
        sent.data = {**sent.data, "text": sent.text, "edit_date": int(time.time())}
        self.edits.append(params)
        return sent.data

    def api_answercallbackquery(self, params: JSONDict) -> bool:
        query_id = str(params["callback_query_id"])
        if query_id in self.callback_answers:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.callback_answers[query_id] = params
        future = self._answer_waiters.pop(query_id, None)
        if future is not None and not future.done():
            future.set_result(params)
        return True

    def api_sendchataction(self, params: JSONDict) -> bool:
        self.chat_actions.append(params)
        return True

    def api_setmycommands(self, params: JSONDict) -> bool:
        self.commands = list(params.get("commands") or [])
        return True

    def api_getmycommands(self, params: JSONDict) -> list[JSONDict]:
        return self.commands

    def api_setwebhook(self, params: JSONDict) -> bool:
        self.webhook = {"url": params.get("url", ""), "secret_token": params.get("secret_token")}
        return True

    def api_deletewebhook(self, params: JSONDict) -> bool:
        self.webhook = {"url": "", "secret_token": None}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def api_getwebhookinfo(self, params: JSONDict) -> JSONDict:
        return {
            "url": self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }

    def api_close(self, params: JSONDict) -> bool:
        return True

    def api_logout(self, params: JSONDict) -> bool:
        return True

    # ------------------------------------------------------------------ checks
    @staticmethod
    def _checked_text(raw: str, parse_mode: object) -> str:
        if parse_mode == "HTML":
            try:
                text = parse_html(raw)
            except HtmlError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        else:
            text = raw
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if _u16(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return text

    @staticmethod
    def _checked_markup(markup: object) -> JSONDict | None:
        if not markup:
            return None
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            raise ApiError(400, "Bad Request: unsupported reply_markup")
        for row in markup["inline_keyboard"]:
            for button in row:
                data = button.get("callback_data")
                if data is None or not 1 <= len(str(data).encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def _params(request: web.Request) -> JSONDict:
    """Merge query string and body (form, multipart or JSON) the way Telegram accepts them."""
    params: JSONDict = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            params.update(await request.json())
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    params[key] = value
    for key in JSON_PARAMS & params.keys():
        value = params[key]
        if isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):
                params[key] = json.loads(value)
    return params


def _error(exc: ApiError) -> web.Response:
    body: JSONDict = {"ok": False, "error_code": exc.code, "description": exc.description}
    if exc.parameters:
        body["parameters"] = exc.parameters
    return web.json_response(body, status=exc.code)
