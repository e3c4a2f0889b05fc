"""Process logging: readable lines or one JSON object per line, never the token, never chat text.

`configure_logging(level, fmt, secrets=[token])` installs one handler on the root logger.
Its filter rewrites every record before any formatter sees it: the message (with its
arguments merged in), the traceback text, the stack and string `extra` fields, replacing
each given secret and anything shaped like a Bot API token by `<redacted>`. The token sits
in every Bot API URL (`.../bot<token>/getMe`), so a library logging a URL or an exception
that quotes one would otherwise leak it.

Chat text is personal data: log it through `log_text(text, logger)`, which gives the text
only when that logger is enabled for DEBUG and a length plus a per-process keyed hash
otherwise (enough to see that two lines are about the same message, not to recover it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets as _secrets
import sys
import time
from collections.abc import Iterable
from typing import Any, Final, TextIO

REDACTED: Final = "<redacted>"
FORMATS: Final = ("text", "json")
# Any Telegram bot token (<bot id>:<secret>), so a token we were not told about is caught too.
TOKEN_SHAPE: Final = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
# Libraries that chatter at INFO: request URLs (httpx, aiohttp's access log), every flow
# step (transitions: 2-4 lines each), every job (apscheduler). WARNING and above only,
# unless the operator asks for DEBUG.
NOISY_LOGGERS: Final = (
    "httpx",
    "httpcore",
    "hpack",
    "transitions",
    "apscheduler",
    "aiohttp.access",
)
_STANDARD_ATTRS: Final = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)
_HASH_KEY: Final = _secrets.token_bytes(16)  # per process: hashes correlate, never reverse
_OURS: Final = "_yibao_handler"


class RedactingFilter(logging.Filter):
    """Replace secrets and token-shaped strings in everything a record can print."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_SHAPE.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # mismatched %-arguments: keep both, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in extra_fields(record).items():
            if isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The `extra={...}` fields of a record (update_id, chat_hash, ...)."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


def iso_time(record: logging.LogRecord) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{stamp}.{int(record.msecs):03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the extra fields, exc and stack."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": iso_time(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            out.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`ts LEVEL logger: msg key=value ...`, then the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{iso_time(record)} {record.levelname} {record.name}: {record.getMessage()}"
        extras = " ".join(f"{k}={v}" for k, v in extra_fields(record).items())
        if extras:
            line += " " + extras
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + record.stack_info
        return line


def configure_logging(
    level: str | int = "INFO",
    fmt: str = "text",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> RedactingFilter:
    """Install (or replace) the yibao handler on the root logger; return its filter.

    `level`: DEBUG, INFO, WARNING or ERROR; `fmt`: "text" or "json"; `secrets`: strings
    that must never be printed (the bot token). Handlers installed by others (pytest's
    capture, for one) are left alone; calling it again replaces only our own handler.
    """
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {FORMATS}, got {fmt!r}")
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    redactor = RedactingFilter(secrets)
    handler.addFilter(redactor)
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(
            logging.DEBUG if numeric <= logging.DEBUG else logging.WARNING
        )
    return redactor


def log_text(text: str, logger: logging.Logger | None = None) -> str:
    """`text` itself if `logger` logs DEBUG, else `<N chars #hash>` (no content at all)."""
    target = logger or logging.getLogger()
    if target.isEnabledFor(logging.DEBUG):
        return text
    digest = hmac.new(_HASH_KEY, text.encode("utf-8", "replace"), hashlib.sha256).hexdigest()
    return f"<{len(text)} chars #{digest[:8]}>"
