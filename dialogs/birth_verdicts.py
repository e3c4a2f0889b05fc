"""A stated birth day's verdict (Tianjin's 90 days) for a question about time or benefits:
"还来得及 … 最晚办理日期", "来不及了 …", or the day asked back when a range straddles
the deadline ("三个月大": it could be either side).

Split from `dialogs.understanding` (the clerk decides when a turn asks for it). Pure over
the knowledge base; the flow's own words come through `render.deadline_text`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol

from dialogs import outcomes
from dialogs.dialogue import Turn
from dialogs.heads import AnswerHeads
from dialogs.outcomes import Outcome
from dialogs.rules.dates import format_cn
from dialogs.rules.tianjin import Standing, deadline
from dialogs.types import Reply
from knowledge.loader import KnowledgeBase

BIRTH_ASPECTS = frozenset({"deadline", "benefit_start", "time"})
BABY_DAYS = 366  # a birth day at most this long ago, said of no older child, is a baby's


class BirthRenders(Protocol):
    def deadline_text(
        self, city: str, birth: date, today: date, when: date | None
    ) -> str | None: ...

    def birth_rule_cities(self) -> frozenset[str]: ...


class BirthVerdicts:
    def __init__(self, kb: KnowledgeBase, heads: AnswerHeads) -> None:
        self.kb = kb
        self.heads = heads
        vocab = kb.understanding
        populations = vocab.populations if vocab is not None else {}
        # Ages that are not a baby's (a pupil, a student, a grown-up): their birth day is
        # no newborn's, however recent the question makes it sound.
        baby = {"newborn", *(vocab.widen if vocab is not None else {}).get("baby", ())}
        self._older = frozenset(
            name
            for name, spec in populations.items()
            if spec.group in {"age", "grownup"} and name not in baby and name != "baby"
        )

    def rule_entry(self, city: str) -> str | None:
        """The city's entry on when benefits start: the rule a verdict on a birth day applies,
        so "为什么" after the verdict is asked of that rule."""
        return next(
            (
                e.id
                for e in self.kb.entries.values()
                if e.city == city and "benefit_start" in e.aspects[:1]
            ),
            None,
        )

    def paid(self, turn: Turn, today: date) -> list[Reply] | None:
        """ "3月10号交的钱，从哪天起能报销": benefits from birth when paid within the 90
        days, else from the day after paying; which one only when every birth day said
        agrees (an age said of the day of paying — "半岁了才去交" — is late)."""
        if turn.paid is None or "benefit_start" not in turn.aspects:
            return None
        fields = {"paid": format_cn(turn.paid), "next": format_cn(turn.paid + timedelta(days=1))}
        key = "paid_unknown"
        birth = turn.birth
        if birth is not None and birth.last <= turn.paid:
            lates = {
                deadline(b, turn.paid).standing is Standing.LATE for b in (birth.first, birth.last)
            }
            key = (
                "paid_unknown"
                if len(lates) > 1
                else "paid_late"
                if lates == {True}
                else "paid_within"
            )
        elif birth is not None and deadline(birth.last, today).standing is Standing.LATE:
            key = "paid_late"  # the age was said of the day of paying, past day 90
        if key == "paid_within":
            text = self.kb.text(key, paid=fields["paid"])
        else:
            text = self.kb.text(key, next=fields["next"])
        return [Reply(text=text, state=outcomes.state(Outcome.VERDICT, "deadline"))]

    def city(self, turn: Turn, render: BirthRenders, today: date) -> str | None:
        """The city whose birth-date rule (Tianjin's 90 days) judges this turn: the turn's
        city if its flow has one, or the only such city for a baby with no city named: a
        newborn said so, or a birth day within the last year said of no older child
        ("她是去年10月15号生的，现在办还算90天里吗")."""
        cities = render.birth_rule_cities()
        if turn.city in cities:
            return turn.city
        if turn.city is not None or turn.birth is None or len(cities) != 1:
            return None
        recent = (today - turn.birth.last).days <= BABY_DAYS
        said = set(turn.populations)
        if "newborn" in said or (recent and not said & self._older):
            return next(iter(cities))
        return None

    def verdict(
        self, turn: Turn, city: str, today: date, render: BirthRenders
    ) -> list[Reply] | None:
        """A stated birth day (or age) with a question about time or benefits: the verdict."""
        birth = turn.birth
        asks = set(turn.aspects) & BIRTH_ASPECTS or turn.frame.yes_no or turn.when is not None
        if birth is None or not asks:
            return None
        if turn.aspects and not set(turn.aspects) & BIRTH_ASPECTS and turn.when is None:
            return None  # "孩子刚生 能上医保吗": the entry answers, the verdict follows it
        when = turn.when.first if turn.when is not None else None
        later = turn.when.last if turn.when is not None else None
        # The verdict must not depend on which day of a range is meant: both ends agree.
        ends = {
            deadline(birth.first, later or today).standing is Standing.LATE,
            deadline(birth.last, when or today).standing is Standing.LATE,
        }
        if len(ends) > 1:
            return [
                Reply(
                    text=self.kb.text(
                        "ask_birth",
                        phrase=birth.phrase,
                        first=format_cn(birth.first),
                        last=format_cn(birth.last),
                    ),
                    state=outcomes.state(Outcome.ASK),
                )
            ]
        day = birth.first
        text = render.deadline_text(city, day, today, later if turn.when is not None else None)
        if text is None:
            return None
        if ends == {True} and self.heads.asks_to_enrol(turn):
            text = self.kb.text("late_enrol") + "\n" + text
        if birth.first != birth.last:  # "8月中旬出生": the earliest day is the one counted
            first, last = format_cn(birth.first), format_cn(birth.last)
            note = self.kb.text("birth_range", phrase=birth.phrase, first=first, last=last)
            text = f"{text}\n{note}"
        if turn.city is None:  # the rule's city was taken, not said
            label = self.kb.ui.get(f"city_{city}", city)
            text = f"{text}\n{self.kb.text('birth_rule_city', city=label)}"
        return [Reply(text=text, state=outcomes.state(Outcome.VERDICT, "deadline"))]
