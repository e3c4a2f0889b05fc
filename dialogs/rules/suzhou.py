"""Suzhou 积分入医: the yearly calendar and the eligibility conditions (source 004).

Calendar (申请流程、申请后): apply 6月1日–8月31日 (节假日除外) at the 居住地镇人民政府
(街道办事处); 9月 公示; 核定表 printed by 11月15日; enrolment through the school in 9–11月.
The 2017 notice on the same page said 6月1日至9月10日; the standing procedure says 8月31日,
which is what we apply (answers mention the discrepancy where it matters).

Conditions, in the order the flow asks them. A value is one of the option values in
knowledge/data/flows.yaml; "unsure" means the parent does not know.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

WINDOW_OPEN = (6, 1)
WINDOW_CLOSE = (8, 31)
NOTICE_YEAR = 2017
NOTICE_2017_CLOSE = (9, 10)
FORM_DEADLINE = (11, 15)
# "对…8月31日以前的积分项目进行核查评分" (申请后怎样才算通过): the items scored each year.
SCORING_CUTOFF = (8, 31)

UNSURE = "unsure"
DISTRICTS = ("wuzhong", "xiangcheng", "gusu", "sip", "snd")
SCHOOLS = ("kinder", "primary", "junior")

# condition -> values that satisfy it
CONDITIONS: dict[str, frozenset[str]] = {
    "permit": frozenset({"yes"}),
    "insurance": frozenset({"yes"}),
    "years": frozenset({"yes"}),
    "district": frozenset(DISTRICTS),
    "school": frozenset(SCHOOLS),
    "approved": frozenset({"yes"}),
    "firsttime": frozenset({"yes"}),
}
ORDER = tuple(CONDITIONS)


class Phase(StrEnum):
    PREPARE = "prepare"  # 1月1日–5月31日: the window has not opened yet
    OPEN = "open"  # 6月1日–8月31日: apply now
    REVIEW = "review"  # 9月1日–11月15日: 公示, 核定表, enrolment via school
    CLOSED = "closed"  # 11月16日–12月31日: this year's cycle is over


@dataclass(frozen=True, slots=True)
class Calendar:
    today: date
    phase: Phase
    opens: date  # the next (or current) window's first day
    closes: date  # the next (or current) window's last day
    form_deadline: date  # this year's 核定表 deadline

    @property
    def days_to_open(self) -> int:
        return max(0, (self.opens - self.today).days)

    @property
    def days_left(self) -> int:
        """Days after today still inside the window (0 on 8月31日)."""
        return max(0, (self.closes - self.today).days)

    @property
    def within_2017_notice(self) -> bool:
        """In 2017 only (the notice was for that year), after 8月31日 but not after 9月10日:
        in any other year the notice's later date says nothing about this year's window."""
        return (
            self.today.year == NOTICE_YEAR
            and self.phase is Phase.REVIEW
            and self.today <= date(self.today.year, *NOTICE_2017_CLOSE)
        )


def calendar(today: date) -> Calendar:
    year = today.year
    opens, closes = date(year, *WINDOW_OPEN), date(year, *WINDOW_CLOSE)
    form = date(year, *FORM_DEADLINE)
    if today < opens:
        phase = Phase.PREPARE
    elif today <= closes:
        phase = Phase.OPEN
    elif today <= form:
        phase = Phase.REVIEW
    else:
        phase = Phase.CLOSED
    if phase in (Phase.REVIEW, Phase.CLOSED):
        opens, closes = date(year + 1, *WINDOW_OPEN), date(year + 1, *WINDOW_CLOSE)
    return Calendar(today=today, phase=phase, opens=opens, closes=closes, form_deadline=form)


SCHOOL_MONTHS = (9, 11)  # enrolment through the school: 每年9月至11月规定时间内
PUBLICITY_WORKDAYS = 5  # 公示期不得少于5个工作日


def school_phase(day: date) -> Phase:
    """Where `day` stands for enrolling through the school (9–11月): PREPARE before
    September, OPEN in September to November, CLOSED in December."""
    first, last = SCHOOL_MONTHS
    if day.month < first:
        return Phase.PREPARE
    return Phase.OPEN if day.month <= last else Phase.CLOSED


def publicity_end(
    start: date, is_workday: Callable[[date], bool | None], workdays: int = PUBLICITY_WORKDAYS
) -> date | None:
    """The earliest last day of a 公示 that starts on `start` and lasts `workdays` working
    days (the start counts when it is one). None when the official calendar of a day on
    the way is not published, so the caller says so instead of guessing."""
    day, counted = start, 0
    for _ in range(60):
        working = is_workday(day)
        if working is None:
            return None
        counted += 1 if working else 0
        if counted == workdays:
            return day
        day += timedelta(days=1)
    return None


class Status(StrEnum):
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    UNSURE = "unsure"  # nothing fails, but some answers are "unsure"
    INCOMPLETE = "incomplete"  # nothing fails yet, some conditions not answered


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    failing: tuple[str, ...]
    unsure: tuple[str, ...]
    missing: tuple[str, ...]


def verdict(answers: Mapping[str, object]) -> Verdict:
    """Judge the answers given so far; a single failing condition decides."""
    failing, unsure, missing = [], [], []
    for name in ORDER:
        value = answers.get(name)
        if value is None or value == "":
            missing.append(name)
        elif value == UNSURE:
            unsure.append(name)
        elif value not in CONDITIONS[name]:
            failing.append(name)
    if failing:
        status = Status.INELIGIBLE
    elif missing:
        status = Status.INCOMPLETE
    elif unsure:
        status = Status.UNSURE
    else:
        status = Status.ELIGIBLE
    return Verdict(status, tuple(failing), tuple(unsure), tuple(missing))


def birth_proof(children: int | None) -> str:
    """Which 计生 proof: 'upto2' (两孩以内), '3plus' (三孩及以上) or 'unknown'."""
    if children is None or children < 1:
        return "unknown"
    return "upto2" if children <= 2 else "3plus"


def scoring_cutoff(year: int) -> date:
    """The last day whose 积分 items that year's review scores."""
    return date(year, *SCORING_CUTOFF)


def scoring_year(today: date) -> int:
    """The round a parent asks about on `today`: this year's until its 核定表 deadline,
    next year's once this year's cycle is over (in December the next round is 2027's)."""
    return today.year + (calendar(today).phase is Phase.CLOSED)


def scored_in(day: date, year: int) -> bool:
    """Is an item obtained on `day` among the items `year`'s review scores (by 8月31日):
    an item from last autumn counts for this year's round."""
    return day <= scoring_cutoff(year)
