"""WeChat's server API, for what a passive reply cannot do: a late answer and the menu.

A passive reply must come within 5 s; when a turn takes longer the server answers
"success" and sends the text through the customer-service API (客服消息) instead, which
WeChat accepts for 48 hours after the user's last message. Both that and the custom-menu
push need an access token, which WeChat issues per account and invalidates when another
one is fetched: so it is cached in the session store (under a pseudo chat of the account,
as a remembered reply with the token's lifetime), shared by every instance, and fetched
again only when it expires or WeChat says it is no longer valid.

aiohttp against a configurable base URL (WECHAT_API_BASE), so the tests point it at a fake
on 127.0.0.1. The access token and the AppSecret travel in query strings and are never
logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp

from bot.wechat.settings import WeChatSettings
from dialogs.stores.base import SessionStore

log = logging.getLogger(__name__)

WINDOW = 48 * 3600.0  # seconds after the user's message in which WeChat takes 客服消息
TOKEN_MARGIN = 300.0  # refresh the access token this long before WeChat's expiry
TOKEN_KEY = "access_token"
TIMEOUT = aiohttp.ClientTimeout(total=10.0)
# errcodes: the token is invalid or expired (fetch another one and try once more)
TOKEN_ERRORS = frozenset({40001, 40014, 42001})


class ApiError(RuntimeError):
    """WeChat answered with a non-zero errcode (the message says which)."""

    def __init__(self, message: str, errcode: int = 0) -> None:
        super().__init__(message)
        self.errcode = errcode


class WeChatApi:
    """The few API calls this edge makes: token, customer-service text, menu create."""

    def __init__(self, settings: WeChatSettings, store: SessionStore) -> None:
        if not settings.app_id or not settings.app_secret:
            raise ValueError("the WeChat API needs WECHAT_APP_ID and WECHAT_APP_SECRET")
        self.settings = settings
        self.store = store
        self._http: aiohttp.ClientSession | None = None
        self._fetching = asyncio.Lock()

    @property
    def _token_chat(self) -> str:
        return f"wxapi:{self.settings.app_id}"

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def access_token(self, refresh: bool = False) -> str:
        """The account's access token: from the store, else fetched (one fetch at a time
        in this process; another instance's fresh token is picked up from the store)."""
        if not refresh:
            cached = await self.store.recall_reply(self._token_chat, TOKEN_KEY)
            if cached:
                return cached
        async with self._fetching:
            if not refresh:
                cached = await self.store.recall_reply(self._token_chat, TOKEN_KEY)
                if cached:
                    return cached
            data = await self._get(
                "/cgi-bin/token",
                {
                    "grant_type": "client_credential",
                    "appid": self.settings.app_id,
                    "secret": self.settings.app_secret or "",
                },
            )
            token = str(data["access_token"])
            lifetime = max(60.0, float(data.get("expires_in", 7200)) - TOKEN_MARGIN)
            await self.store.remember_reply(self._token_chat, TOKEN_KEY, token, lifetime)
            return token

    async def send_text(self, openid: str, text: str, asked_at: float) -> bool:
        """Send `text` to `openid` as a customer-service message; False when the 48-hour
        window since the user's message (`asked_at`, Unix time) has closed."""
        if time.time() - asked_at > WINDOW:
            log.info("late reply dropped: the 48-hour customer-service window has closed")
            return False
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        await self._call("/cgi-bin/message/custom/send", body)
        return True

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self._call("/cgi-bin/menu/create", menu)

    async def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST with the access token; once more with a fresh token if WeChat refused it."""
        for attempt in range(2):
            token = await self.access_token(refresh=attempt > 0)
            try:
                return await self._post(path, token, body)
            except ApiError as exc:
                if attempt or exc.errcode not in TOKEN_ERRORS:
                    raise
        raise AssertionError("unreachable")

    async def _post(self, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.settings.api_base}{path}"
        async with self._client().post(
            url, params={"access_token": token}, json=body, allow_redirects=False
        ) as resp:
            return _checked(path, await resp.json(content_type=None))

    async def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        url = f"{self.settings.api_base}{path}"
        async with self._client().get(url, params=params, allow_redirects=False) as resp:
            return _checked(path, await resp.json(content_type=None))


def _checked(path: str, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ApiError(f"{path}: not a JSON object")
    code = int(data.get("errcode", 0) or 0)
    if code:
        raise ApiError(f"{path}: errcode {code} ({str(data.get('errmsg', ''))[:80]})", code)
    return data
