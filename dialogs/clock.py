"""The program's one clock: "today" and "now" in the users' time zone (`YIBAO_TIMEZONE`).

Servers and containers usually run in UTC, where a message sent at 07:00 in Beijing is
still "yesterday": a baby born "today" would be recorded a day early and the 90-day date
and the Suzhou calendar would shift. Every command builds one `Clock` from the settings
and hands it down: the engine gets `clock.today`, the report groups records by
`clock.day_of`. The zone database comes with the `tzdata` dependency, so slim images
without /usr/share/zoneinfo know Asia/Shanghai too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Shanghai"


def zone(name: str) -> tzinfo:
    """The named IANA time zone; ValueError naming it when there is no such zone."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Clock:
    """Dates and times in `tz`. `utc_now` is the source of time (a fixed instant in tests)."""

    tz: tzinfo = field(default_factory=lambda: zone(DEFAULT_TIMEZONE))
    utc_now: Callable[[], datetime] = _utc_now

    def now(self) -> datetime:
        """The current time in the users' zone (an aware datetime)."""
        return self.utc_now().astimezone(self.tz)

    def today(self) -> date:
        """The users' date now: what "今天" means to them. `Engine(clock=clock.today)`."""
        return self.now().date()

    def day_of(self, at: float) -> date:
        """The users' calendar day of a Unix time (a stored record's `at`)."""
        return datetime.fromtimestamp(at, self.tz).date()

    def start_of(self, day: date) -> float:
        """Unix time of 00:00 on `day` in the users' zone."""
        return datetime(day.year, day.month, day.day, tzinfo=self.tz).timestamp()


def clock_in(name: str, utc_now: Callable[[], datetime] = _utc_now) -> Clock:
    """The clock of the named zone (`YIBAO_TIMEZONE`); ValueError for an unknown name."""
    return Clock(zone(name), utc_now)


def users_today() -> date:
    """Today in the default users' zone: the engine's clock when an edge passes none.

    Never the server's `date.today()`: a container runs in UTC, where from 16:00 on the
    users' "today" is already tomorrow."""
    return Clock().today()
