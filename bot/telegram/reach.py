"""Reaching Telegram: through which proxy, and what to say when it cannot be reached.

`yibao run` talks to the Bot API directly, through `TELEGRAM_PROXY`, or through the proxy
the environment names (HTTPS_PROXY, ALL_PROXY ...; `bot.telegram.request`). When getMe
fails at start-up, PTB logs an 80-line traceback and re-raises; `run_bot` prints
`unreachable(...)` instead, one sentence, and exits `UNREACHABLE`.
"""

from __future__ import annotations

import logging
from urllib.parse import urlparse

from telegram.error import NetworkError

from bot.settings import Settings
from bot.telegram.request import describe_proxy, proxy_from_environment

UNREACHABLE = 3  # exit code: Telegram could not be reached at start-up (README)


def telegram_proxy(settings: Settings) -> str | None:
    """TELEGRAM_PROXY, else the environment's proxy for the Bot API URL (HTTPS_PROXY ...)."""
    return settings.telegram_proxy.strip() or proxy_from_environment(settings.api_base_url)


def unreachable(settings: Settings, exc: NetworkError) -> str:
    """One sentence for an operator whose bot cannot reach Telegram at start-up."""
    host = urlparse(settings.api_base_url).netloc
    proxy = telegram_proxy(settings)
    via = f" through the proxy {describe_proxy(proxy)}" if proxy else ""
    cause = (str(exc.__cause__ or exc).splitlines() or [""])[0]
    return (
        f"yibao run: cannot reach Telegram at {host}{via} ({type(exc).__name__}: {cause}); "
        "check the network, DNS or TELEGRAM_PROXY / HTTPS_PROXY."
    )


class BootstrapAbortFilter(logging.Filter):
    """Drop PTB's traceback for a start-up that could not reach Telegram: `run_bot` says it
    in one sentence (and exits UNREACHABLE) instead of a second, 80-line traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("Network Retry Loop (Bootstrap") and "Abort" in message)
