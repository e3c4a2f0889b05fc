""" "Today" for the account's users: the date in their timezone (Beijing time by default).

The engine takes its clock as a function; the server may run in UTC, where a message sent
at 07:00 in Beijing would still be "yesterday". China keeps no daylight saving time, so a
fixed UTC+8 is the fallback when the system has no timezone database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def zone(name: str) -> tzinfo:
    """The named timezone; UTC+8 for Asia/Shanghai without a tz database; ValueError else."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name in ("Asia/Shanghai", "Asia/Chongqing", "PRC"):
            return BEIJING
        raise ValueError(f"unknown timezone {name!r}") from None


def today_in(tz: tzinfo) -> Callable[[], date]:
    """A clock for `Engine(clock=…)`: the current date in `tz`."""

    def today() -> date:
        return datetime.now(tz).date()

    return today
