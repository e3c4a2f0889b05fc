"""Tianjin's 90-day rule for newborns (source: 三、缴费时间).

"新生儿出生并在90天内办理参保缴费手续的，从出生之日起享受基本医疗保险待遇；在出生90天后
办理的，从缴费次日起享受基本医疗保险待遇。" The page does not say how to count the 90
days. We count the day of birth as day 1, so the 90th day is birth + 89 days: one day
earlier than counting from the day after birth, hence never later than the real deadline.
Every answer states this convention.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

WINDOW_DAYS = 90


class Standing(StrEnum):
    FUTURE = "future"  # the date is after today (an expected birth date)
    WITHIN = "within"  # day 1..89: still inside the window
    LAST = "last"  # day 90: today is the last day
    LATE = "late"  # day 91 or later


@dataclass(frozen=True, slots=True)
class Deadline:
    birth: date
    today: date
    last_day: date
    day_number: int  # 1 on the day of birth; <= 0 for a future date
    standing: Standing

    @property
    def days_left(self) -> int:
        """Days after today still inside the window (0 on the last day)."""
        return max(0, (self.last_day - self.today).days)

    def coverage_from(self, paid_on: date) -> date:
        """First day of benefits when paying on `paid_on`."""
        return self.birth if paid_on <= self.last_day else paid_on + timedelta(days=1)


def last_day(birth: date) -> date:
    """The 90th day, counting the day of birth as day 1."""
    return birth + timedelta(days=WINDOW_DAYS - 1)


def deadline(birth: date, today: date) -> Deadline:
    last = last_day(birth)
    day_number = (today - birth).days + 1
    if birth > today:
        standing = Standing.FUTURE
    elif today < last:
        standing = Standing.WITHIN
    elif today == last:
        standing = Standing.LAST
    else:
        standing = Standing.LATE
    return Deadline(
        birth=birth, today=today, last_day=last, day_number=day_number, standing=standing
    )
