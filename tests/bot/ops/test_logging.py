"""Structured logs: JSON lines that parse, the bot token never printed, chat text only at DEBUG."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from telegram_harness import TOKEN

from bot.ops.logging_setup import NOISY_LOGGERS, REDACTED, configure_logging, log_text

OTHER_TOKEN = "987654321:ZZHdqTcvCH1vGWJxfSeofSAs0K5PALDxyz"  # never passed as a secret


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy = {n: logging.getLogger(n).level for n in NOISY_LOGGERS}
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    for name, lvl in noisy.items():
        logging.getLogger(name).setLevel(lvl)


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_format_is_one_parsable_object_per_line_with_extra_fields() -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", secrets=[TOKEN], stream=out)
    log = logging.getLogger("yibao.test")
    log.info("turn done in %d ms", 12, extra={"update_id": 42, "chat_hash": "ab12"})
    log.warning("multi\nline 多行")
    log.debug("not shown at INFO")
    first, second = json_lines(out)
    assert set(first) >= {"ts", "level", "logger", "msg"}
    assert first["msg"] == "turn done in 12 ms" and first["level"] == "INFO"
    assert first["logger"] == "yibao.test"
    assert (first["update_id"], first["chat_hash"]) == (42, "ab12")
    assert str(first["ts"]).endswith("Z") and "T" in str(first["ts"])
    assert second["msg"] == "multi\nline 多行"


def test_token_is_redacted_in_messages_arguments_and_extra_fields() -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", secrets=[TOKEN, ""], stream=out)
    log = logging.getLogger("yibao.test")
    log.info("token is " + TOKEN)
    log.info("url %s", f"https://api.telegram.org/bot{TOKEN}/getMe")
    log.info("x", extra={"url": f"/bot{TOKEN}/sendMessage"})
    log.info("unknown token %s", OTHER_TOKEN)
    text = out.getvalue()
    assert TOKEN not in text and OTHER_TOKEN not in text
    assert "123456789:AAH" not in text
    assert text.count(REDACTED) == 4


def test_token_is_redacted_in_exception_tracebacks_json_and_text() -> None:
    for fmt in ("json", "text"):
        out = io.StringIO()
        configure_logging("INFO", fmt, secrets=[TOKEN], stream=out)
        try:
            try:
                raise ConnectionError(f"cannot reach https://api.telegram.org/bot{TOKEN}/getMe")
            except ConnectionError as inner:
                raise RuntimeError(f"startup failed for {TOKEN}") from inner
        except RuntimeError:
            logging.getLogger("yibao.test").exception("bot failed")
        printed = out.getvalue()
        assert "Traceback" in printed and "ConnectionError" in printed, fmt
        assert TOKEN not in printed, fmt
        assert f"bot{REDACTED}/getMe" in printed, fmt
        if fmt == "json":
            (line,) = json_lines(out)
            assert "RuntimeError" in str(line["exc"])


def test_httpx_request_lines_never_show_the_token() -> None:
    """A real httpx client (mock transport, no network) logging its request URL at DEBUG."""
    out = io.StringIO()
    configure_logging("DEBUG", "text", secrets=[TOKEN], stream=out)

    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True})

    with httpx.Client(transport=httpx.MockTransport(reply)) as client:
        client.post(f"https://api.telegram.org/bot{TOKEN}/getMe")
    printed = out.getvalue()
    assert "HTTP Request: POST https://api.telegram.org/bot" + REDACTED + "/getMe" in printed
    assert TOKEN not in printed


def test_httpx_request_lines_are_quiet_at_info() -> None:
    out = io.StringIO()
    configure_logging("INFO", "text", secrets=[TOKEN], stream=out)
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200))) as client:
        client.get("https://api.telegram.org/bot/getMe")
    assert "HTTP Request" not in out.getvalue()


def test_text_format_is_readable_and_carries_extras() -> None:
    out = io.StringIO()
    configure_logging("info", "text", stream=out)
    logging.getLogger("yibao.x").info("hello %s", "there", extra={"update_id": 7})
    (line,) = out.getvalue().splitlines()
    assert line.endswith("INFO yibao.x: hello there update_id=7")


def test_configuring_twice_keeps_one_handler_and_rejects_bad_values() -> None:
    root = logging.getLogger()
    before = len(root.handlers)
    configure_logging("INFO", "text", stream=io.StringIO())
    configure_logging("WARNING", "json", stream=io.StringIO())
    assert len(root.handlers) == before + 1
    assert root.level == logging.WARNING
    with pytest.raises(ValueError, match="format"):
        configure_logging("INFO", "xml")
    with pytest.raises(ValueError, match="level"):
        configure_logging("LOUD", "text")


def test_log_text_gives_message_text_only_at_debug() -> None:
    log = logging.getLogger("yibao.text")
    configure_logging("INFO", "json", stream=io.StringIO())
    hidden = log_text("我的孩子身份证号是多少", log)
    assert "孩子" not in hidden and hidden.startswith("<11 chars #")
    assert hidden == log_text("我的孩子身份证号是多少", log), "same text, same mark"
    assert hidden != log_text("另一句话", log)
    configure_logging("DEBUG", "json", stream=io.StringIO())
    assert log_text("我的孩子", log) == "我的孩子"


async def _one_flow_conversation(level: str) -> list[str]:
    """The Tianjin flow from start to end, logged at `level`; the log lines."""
    from datetime import date

    from flowchat import Chat

    from bot.wiring import build_engine

    out = io.StringIO()
    configure_logging(level, "text", stream=out)
    chat = Chat(build_engine("memory://"), date(2026, 3, 1))
    await chat.say("/tianjin")
    await chat.press("s:tianjin:hukou:local")
    await chat.say("2026年2月10日")
    await chat.press("s:tianjin:materials:next")
    return out.getvalue().splitlines()


async def test_a_flow_conversation_is_quiet_at_info() -> None:
    """Issue 12: transitions logged 2-4 lines per flow step (240 of 247 lines)."""
    lines = await _one_flow_conversation("INFO")
    assert len(lines) <= 2, lines
    assert not [line for line in lines if " transitions" in line or " apscheduler" in line]
    for name in NOISY_LOGGERS:
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING


async def test_library_chatter_comes_back_at_debug() -> None:
    lines = await _one_flow_conversation("DEBUG")
    assert any(" transitions" in line for line in lines)
    assert logging.getLogger("apscheduler").getEffectiveLevel() == logging.DEBUG
