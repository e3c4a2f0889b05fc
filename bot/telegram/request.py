"""PTB networking backend on aiohttp's client instead of httpx.

Why: measured on this project's bench (bench/bench_telegram.py), httpx + httpcore spend
3–5 ms of CPU per Bot API call under concurrency (the connection pool re-scans every
connection for every request), about ten times what aiohttp's client spends; with one
sendMessage per reply that alone capped the bot near 100 replies/s on two cores.
`BaseRequest` is PTB's documented extension point for exactly this.

Errors map onto PTB's: timeouts → `TimedOut`, other client errors → `NetworkError` (their
messages name the host, never the URL path that holds the token).

Proxies: an explicit one (`TELEGRAM_PROXY`) or, like PTB's default httpx client, the
standard environment variables (`proxy_from_environment`: HTTPS_PROXY / HTTP_PROXY for the
URL's scheme, else ALL_PROXY, NO_PROXY respected). aiohttp speaks to http:// proxies and
tunnels HTTPS through them with CONNECT.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterable
from urllib.parse import urlsplit

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

Headers = dict[str, str]
JSON_HEADERS: Headers = {"Content-Type": "application/json"}
PROXY_SCHEMES = ("http",)  # what aiohttp's client can use as a proxy
REQUESTS_KEY = "aiohttp_requests"  # bot_data key: the application's request objects

log = logging.getLogger(__name__)


def proxy_from_environment(url: str) -> str | None:
    """The proxy the environment sets for `url` (None: direct, or excluded by NO_PROXY).

    `getproxies()` reads HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and friends (any case); aiohttp's
    own `trust_env` ignores ALL_PROXY, which is why this is resolved here."""
    parts = urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    found = urllib.request.getproxies()
    proxy = found.get(parts.scheme) or found.get("all")
    if proxy and urlsplit(proxy).scheme not in PROXY_SCHEMES:
        scheme = urlsplit(proxy).scheme
        log.warning("ignoring the %s proxy from the environment: only http:// works", scheme)
        return None
    return proxy or None


def describe_proxy(proxy: str) -> str:
    """host:port of a proxy URL, for messages (never its user or password)."""
    parts = urlsplit(proxy)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


class AiohttpRequest(BaseRequest):
    """One aiohttp `ClientSession` with a bounded pool of keep-alive connections."""

    __slots__ = ("_connect", "_pool", "_pool_size", "_proxy", "_read", "_session", "_write")

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        proxy: str | None = None,
    ) -> None:
        self._pool_size = connection_pool_size
        self._proxy = proxy
        self._read, self._write = read_timeout, write_timeout
        self._connect, self._pool = connect_timeout, pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, keepalive_timeout=30),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = self._read if isinstance(read_timeout, DefaultValue) else read_timeout
        write = self._write if isinstance(write_timeout, DefaultValue) else write_timeout
        connect = self._connect if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool if isinstance(pool_timeout, DefaultValue) else pool_timeout
        # aiohttp's `connect` covers waiting for a pooled connection plus opening one.
        waiting = None if connect is None or pool is None else connect + pool
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=waiting,
            sock_connect=connect,
            sock_read=None if read is None and write is None else max(read or 0, write or 0),
        )
        try:
            body, headers = _body(request_data)
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout, proxy=self._proxy
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def _body(request_data: RequestData | None) -> tuple[aiohttp.FormData | bytes | None, Headers]:
    """The request body: JSON (cheaper to encode than a URL-encoded form of Chinese text,
    and accepted by the Bot API for every method), multipart when there are files."""
    if request_data is None:
        return None, {}
    files = request_data.multipart_data
    if not files:
        payload = json.dumps(request_data.parameters, ensure_ascii=False).encode("utf-8")
        return payload, JSON_HEADERS
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, part in files.items():
        filename, content, *rest = part
        form.add_field(name, content, filename=filename, content_type=rest[0] if rest else None)
    return form, {}


async def close_requests(requests: Iterable[AiohttpRequest]) -> None:
    """Close the sessions even when PTB never finished initialising (getMe failed at
    start-up: PTB's shutdown then skips them, and aiohttp complains of unclosed sessions)."""
    for request in requests:
        await request.shutdown()
