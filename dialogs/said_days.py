"""The days a conversation states: the child's birth day, the day the parent will go
("下周再去办", "后天呢") and the day the fee was paid ("3月10号交的钱").

Kept apart from the dialogue reader because the three are read from the same dates and
must not be confused: a birth day is never the day to go ("劳动节生的"), today said of an
errand is never the birth day ("儿童节那天出生，今天办还来得及吗"), and a day said before
stays the day asked about until another is said ("下周再去办" → "这样还能从出生那天起算吗").
What is kept lives in `session.context` (JSON-flat, erased with it).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from datetime import date

from dialogs.rules.ahead import ahead_span
from dialogs.rules.dates import DaySpan, find_dates, format_cn
from dialogs.rules.everyday import birth_span, holidays_from, said_of_birth
from dialogs.session import Session, SlotValue
from knowledge.frame import Frame
from knowledge.schema import Understanding

CLAUSE_ENDS = "，,。；;！!？?\n"
BIRTH_READS = 3  # days in one message tried as the birth day before giving up
DAY_ASPECTS = frozenset({"time", "deadline"})  # aspects that ask of a day
GO_KEY = "go"  # context: the day(s) to go said before, "first|last|phrase"


class SaidDays:
    def __init__(self, vocab: Understanding) -> None:
        self.vocab = vocab
        self.holidays = holidays_from(vocab.holidays)
        self._birth_words = (*vocab.birth_words, *vocab.age_words)

    def read(
        self, text: str, surface: str, frame: Frame, session: Session, today: date
    ) -> tuple[DaySpan | None, DaySpan | None, dict[str, str]]:
        """The birth day (stated now, or earlier in the conversation or the flow), a day
        asked about ("后天呢"), and a birth day a correction restates."""
        ctx = session.context
        # A correction after a stated birth day ("哦不对 是10月3日") restates that day.
        corrects_birth = frame.correction and isinstance(ctx.get("birth"), str)
        birth, known = None, known_birth(session)
        if corrects_birth or any(w in surface for w in self.vocab.birth_words):
            birth = self._birth_said(text, today, corrects_birth)
        checks = any(w in surface for w in self.vocab.check_words)
        if known is not None and checks and not frame.correction:
            birth = None  # "我算今天是第60天，对吧": the parent's count, to be checked
        birth = birth or known
        asked = text
        if birth is not None and birth.phrase and not corrects_birth:
            # "11月2号出生的，我想等2月10号再去办": the day to go is the other date.
            asked = text.replace(birth.phrase, " " * len(birth.phrase), 1)
        when = ahead_span(asked, today, self.holidays)
        if (
            when is not None
            and birth is not None
            and (corrects_birth or when.phrase in birth.phrase or self._of_birth(text, when))
        ):
            # The (corrected) birth day, not a day to go: "劳动节生的"; "五一假期里宝宝出生了，
            # 5月2号" names the holiday of the birth too.
            when = None
        if (
            when is not None
            and when.first == when.last == today
            and not self._asks_of(frame, surface)
        ):
            when = None  # "今天中秋，资格到手了": today's date said as context, not asked about
        if when is None and birth is not None and (frame.yes_no or frame.followup):
            when = self._go_before(surface, ctx)
        corrected: dict[str, str] = {}
        if corrects_birth and birth is not None and birth.first == birth.last:
            corrected["birth"] = birth.first.isoformat()
        return birth, when, corrected

    def _asks_of(self, frame: Frame, surface: str) -> bool:
        """The message asks of a day ("今天能去吗", "今天11月10号，还剩几天") or says an
        errand on it ("今天去交")."""
        return (
            frame.yes_no
            or bool(DAY_ASPECTS.intersection(frame.aspects))
            or any(w in surface for w in self.vocab.errand_words)
        )

    def paid(self, text: str, today: date, ctx: Mapping[str, object], new_day: bool) -> date | None:
        """The day the fee was paid: a date in a clause that says paying ("3月10号交的钱",
        "于二〇二七年二月二十八日方为其缴费"), said now or earlier in the conversation. Another
        day said now (`new_day`: "那后天去呢" after "今天去交") asks the same of that day:
        the day said before no longer decides."""
        for hit in find_dates(text, today):
            if hit.value is None:
                continue
            start = max(text.rfind(c, 0, hit.span[0]) for c in CLAUSE_ENDS) + 1
            ends = [i for c in CLAUSE_ENDS if (i := text.find(c, hit.span[1])) >= 0]
            clause = text[start : min(ends, default=len(text))]
            if any(w in clause for w in self.vocab.pay_words):
                return hit.value
        saved = ctx.get("paid")
        return date.fromisoformat(saved) if isinstance(saved, str) and not new_day else None

    @staticmethod
    def remember(ctx: MutableMapping[str, SlotValue], when: DaySpan | None) -> None:
        """Keep the day to go for the next question about it (None forgets it)."""
        if when is None:
            ctx.pop(GO_KEY, None)
        else:
            ctx[GO_KEY] = f"{when.first.isoformat()}|{when.last.isoformat()}|{when.phrase[:20]}"

    def _go_before(self, surface: str, ctx: Mapping[str, object]) -> DaySpan | None:
        """The day to go said in the turn before, for a yes/no or "…呢" that says no day
        of its own (not "现在"/"今天", which ask of today)."""
        saved = ctx.get(GO_KEY)
        if not isinstance(saved, str) or any(w in surface for w in self.vocab.now_words):
            return None
        first, last, phrase = [*saved.split("|", 2), "", ""][:3]
        try:
            return DaySpan(date.fromisoformat(first), date.fromisoformat(last), phrase)
        except ValueError:
            return None

    def _of_birth(self, text: str, span: DaySpan) -> bool:
        return said_of_birth(text, span, self._birth_words, self.vocab.errand_words)

    def _birth_said(self, text: str, today: date, corrects: bool) -> DaySpan | None:
        """The birth day the message states. A day said of an errand ("今天去交，还能从出生
        当天享受吗": today is not the birth day) is masked and the rest read again, so
        "儿童节那天出生，今天办还来得及吗" finds 儿童节 behind 今天."""
        for _ in range(BIRTH_READS):
            birth = birth_span(
                text, today, self.holidays, self.vocab.age_words, self.vocab.relative_years
            )
            if birth is None or corrects:
                return birth
            if self._of_birth(text, birth):
                return birth
            at = text.find(birth.phrase)
            if at < 0:
                return None
            text = text[:at] + " " * len(birth.phrase) + text[at + len(birth.phrase) :]
        return None


def known_birth(session: Session) -> DaySpan | None:
    """The birth day said earlier in the conversation, or answered in the flow."""
    ctx = session.context
    if isinstance(ctx.get("birth"), str):
        first = date.fromisoformat(str(ctx["birth"]))
        last = date.fromisoformat(str(ctx.get("birth_last") or ctx["birth"]))
        return DaySpan(first, last, str(ctx.get("birth_phrase") or ""))
    if isinstance(session.slots.get("birth"), str):
        try:
            day = date.fromisoformat(str(session.slots["birth"]))
        except ValueError:
            return None
        return DaySpan(day, day, format_cn(day))
    return None
