"""The Suzhou flow's dated notes: what a day means for 积分入医 - the application window,
the 公示's earliest end, the 核定表 deadline, enrolling through the school, and whether a
积分 item obtained that day is scored this year.

Kept apart from the flow's questions (dialogs/flows/suzhou.py): the FAQ answers carry the
same notes (`dated:` in knowledge/data/suzhou.yaml), so the flow and the answers never
disagree; the rules themselves are pure functions of the day in dialogs/rules/suzhou.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from dialogs import outcomes
from dialogs.outcomes import Outcome
from dialogs.rules.dates import format_cn
from dialogs.rules.suzhou import (
    Phase,
    calendar,
    publicity_end,
    school_phase,
    scored_in,
    scoring_cutoff,
    scoring_year,
)
from dialogs.rules.workdays import is_workday, next_workday
from dialogs.types import Reply

Text = Callable[..., str]  # the flow's text lookup: key, **fields -> text


class SuzhouCalendar:
    def __init__(self, t: Text) -> None:
        self.t = t

    def dated_notes(self) -> Mapping[str, Callable[[date, date | None], str]]:
        """The calendar for today (or the day asked about), for FAQ answers about the
        application window, the 公示, the 核定表, the school and the scoring."""
        return {
            "suzhou_calendar": lambda today, when: self.reply(today, when).text,
            "suzhou_form": self.form_note,
            "suzhou_school": self.school_note,
            "suzhou_publicity": self.publicity_note,
            "suzhou_points": self.points_note,
        }

    def school_note(self, today: date, when: date | None = None) -> str:
        """Is it the time to enrol through the school (9–11月) on that day."""
        day = when or today
        fields = {"now": self._now(today, day), "today": format_cn(day)}
        key = {
            Phase.PREPARE: "school_not_yet",
            Phase.OPEN: "school_open",
            Phase.CLOSED: "school_closed",
        }[school_phase(day)]
        return self.t(key, **fields)

    def publicity_note(self, today: date, when: date | None = None) -> str:
        """A 公示 said to start on a day: its earliest end (5 working days, official calendar).
        Without a start day there is nothing to compute: the entry's text says the rule."""
        if when is None:
            return ""
        end = publicity_end(when, is_workday)
        if end is None:
            return self.t("publicity_unknown", year=when.year)
        return self.t("publicity_end", start=format_cn(when), end=format_cn(end))

    def points_note(self, today: date, when: date | None = None) -> str:
        """ "9月2号才拿到的加分证书能算上吗": the page scores the items obtained by 8月31日;
        without a day said there is nothing to judge (the entry says the rule)."""
        if when is None:
            return ""
        year = scoring_year(today)
        key = "points_within" if scored_in(when, year) else "points_late"
        return self.t(key, day=format_cn(when), cutoff=format_cn(scoring_cutoff(year)), year=year)

    def form_note(self, today: date, when: date | None = None) -> str:
        """Can the 核定表 still be printed on that day: "还来得及，还有N天" / "已过"."""
        day = when or today
        cal = calendar(day)
        fields = {"now": self._now(today, day), "today": format_cn(day)}
        if cal.phase is Phase.PREPARE or cal.phase is Phase.OPEN:
            return self.t("form_not_yet", **fields, deadline=format_cn(cal.form_deadline))
        if cal.phase is Phase.REVIEW:
            days = (cal.form_deadline - day).days
            return self.t("form_open", **fields, deadline=format_cn(cal.form_deadline), days=days)
        return self.t(
            "form_closed",
            **fields,
            deadline=format_cn(cal.form_deadline),
            opens=format_cn(cal.opens),
        )

    def _now(self, today: date, day: date) -> str:
        return self.t("now_today") if day == today else self.t("now_then")

    def reply(self, today: date, when: date | None = None) -> Reply:
        """The application window on today (or the day asked about)."""
        day = when or today
        now = self._now(today, day)
        cal = calendar(day)
        key = {
            Phase.PREPARE: "calendar_prepare",
            Phase.OPEN: "calendar_open_last" if cal.days_left == 0 else "calendar_open",
            Phase.REVIEW: "calendar_review",
            Phase.CLOSED: "calendar_closed",
        }[cal.phase]
        days = cal.days_to_open if cal.phase is Phase.PREPARE else cal.days_left
        body = self.t(
            key,
            now=now,
            today=format_cn(day),
            opens=format_cn(cal.opens),
            closes=format_cn(cal.closes),
            days=days,
        )
        if cal.within_2017_notice:
            body += "\n" + self.t("calendar_review_2017")
        if cal.phase is Phase.OPEN:
            # "节假日除外": the official holiday calendar, or say it is not published yet.
            workday = is_workday(day)
            if workday is False:  # the answer to "端午节那天收吗" comes first
                body = self._day_off(day, cal.closes) + "\n" + body
            elif workday is None and when is not None:
                body += "\n" + self.t("calendar_holiday_unknown", year=day.year)
        return Reply(text=body, state=outcomes.state(Outcome.CALENDAR, cal.phase.value))

    def _day_off(self, day: date, closes: date) -> str:
        """A day off in the window: not that day, and the first working day after it."""
        text = self.t("calendar_holiday", today=format_cn(day))
        following = next_workday(day)
        if following is not None and following <= closes:
            text += self.t("calendar_next_workday", next=format_cn(following))
        return text
