"""One clock for the whole program, in the users' time zone (YIBAO_TIMEZONE, issue 12)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.settings import Settings, SettingsError, load_settings
from bot.wiring import build_engine, engine_for
from dialogs.clock import Clock, clock_in, users_today
from dialogs.engine import Engine
from dialogs.stores.memory import MemoryStore
from dialogs.types import Incoming
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Matcher

# 20:00 UTC on December 1st is 04:00 on December 2nd in Beijing.
EVENING_UTC = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


def at_evening_utc() -> datetime:
    return EVENING_UTC


def test_the_clock_gives_the_users_date_not_the_servers() -> None:
    shanghai = clock_in("Asia/Shanghai", at_evening_utc)
    assert shanghai.today() == date(2026, 12, 2)
    assert shanghai.now().hour == 4 and shanghai.now().utcoffset() is not None
    assert clock_in("UTC", at_evening_utc).today() == date(2026, 12, 1)
    assert Clock().tz == ZoneInfo("Asia/Shanghai")  # the default zone
    assert shanghai.day_of(EVENING_UTC.timestamp()) == date(2026, 12, 2)
    assert shanghai.start_of(date(2026, 12, 2)) == datetime(2026, 12, 1, 16, tzinfo=UTC).timestamp()


async def _born_today(engine: Engine) -> str:
    await engine.handle(1, Incoming(text="/tianjin"))
    await engine.handle(1, Incoming(callback="s:tianjin:hukou:local"))
    replies = await engine.handle(1, Incoming(text="今天出生"))
    return "\n".join(r.plain() for r in replies)


async def test_born_today_at_4am_in_beijing_counts_90_days_from_december_2nd() -> None:
    settings = Settings(yibao_timezone="Asia/Shanghai")
    engine = engine_for(settings, "memory://", clock=clock_in("Asia/Shanghai", at_evening_utc))
    text = await _born_today(engine)
    assert "2026年12月2日" in text and "出生第1天" in text
    assert "2027年3月1日" in text  # day 90, the day of birth counting as day 1
    assert "2026年12月1日" not in text


def test_the_engines_default_clock_is_beijing_time() -> None:
    engine = build_engine()
    assert engine.clock() == datetime.now(ZoneInfo("Asia/Shanghai")).date()


def test_an_engine_built_without_a_clock_counts_in_beijing_time_not_the_servers(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    """A bare `Engine(...)` (tests, scripts) once used the server's `date.today()`: from
    16:00 UTC on, its "today" was a day behind the bot it was compared with."""
    engine = Engine(kb, matcher, MemoryStore())
    assert engine.clock is users_today
    assert users_today() == datetime.now(ZoneInfo("Asia/Shanghai")).date()


def test_the_time_zone_is_a_setting_and_an_unknown_one_is_refused(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("YIBAO_TIMEZONE=Europe/Berlin\n", encoding="utf-8")
    assert load_settings(str(env)).clock().tz == ZoneInfo("Europe/Berlin")
    env.write_text("YIBAO_TIMEZONE=\n", encoding="utf-8")  # empty: the default
    assert load_settings(str(env)).clock().tz == ZoneInfo("Asia/Shanghai")
    env.write_text("YIBAO_TIMEZONE=Mars/Olympus\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="YIBAO_TIMEZONE"):
        load_settings(str(env))


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])  # UTC+14, UTC-12
def test_replay_uses_the_configured_zone_for_today(zone: str, tmp_path: Path) -> None:
    """26 hours apart: at any moment the two zones are on different dates."""
    lines = [
        {"chat_id": 1, "text": "/tianjin"},
        {"chat_id": 1, "callback": "s:tianjin:hukou:local"},
        {"chat_id": 1, "text": "今天出生"},
    ]
    env = {**os.environ, "YIBAO_TIMEZONE": zone, "YIBAO_STORE": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "replay"],
        input="".join(json.dumps(line) + "\n" for line in lines),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=True,
    )
    today = datetime.now(ZoneInfo(zone)).date()
    last = json.loads(proc.stdout.splitlines()[-1])
    text = "\n".join(r["text"] for r in last["replies"])
    assert f"{today.year}年{today.month}月{today.day}日" in text
