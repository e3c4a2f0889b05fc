"""Suzhou 积分入医 (source 004): the conditions as questions → a verdict naming what fails →
the calendar for today's date → materials (计生 proof by number of children) → what
happens after applying.

A single failing answer decides at once (no point asking the rest); "不确定" answers do
not fail, they are listed as things to check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

from dialogs import callbacks as cb
from dialogs import outcomes
from dialogs.dialogue import SAID_SEP
from dialogs.flows.base import FlowResult
from dialogs.flows.facts import facts_of
from dialogs.flows.machine import GuidedFlow
from dialogs.flows.spec import MachineSpec, Turn
from dialogs.outcomes import Outcome
from dialogs.rules.dates import format_cn
from dialogs.rules.suzhou import (
    ORDER,
    UNSURE,
    Phase,
    Status,
    birth_proof,
    calendar,
    publicity_end,
    school_phase,
    verdict,
)
from dialogs.rules.workdays import is_workday, next_workday
from dialogs.session import Session
from dialogs.slots import children_count, count_known, residence_since, residence_years
from dialogs.types import Button, Incoming, Reply

NAME = "suzhou"
CHECKS = ORDER  # permit, insurance, years, district, school, approved, firsttime
PLACE = "place"  # slot: the place outside the five districts said by name ("昆山")
FAMILY = ("permit", "insurance", "years", "firsttime")  # facts about the family, not the school


def _chain() -> tuple[dict[str, str], ...]:
    out: list[dict[str, str]] = []
    for here, there in zip(CHECKS, (*CHECKS[1:], "children"), strict=True):
        out.append({"trigger": "next", "source": here, "dest": "ineligible", "conditions": "fails"})
        step = {"trigger": "next", "source": here, "dest": there}
        if there == "children":
            step["after"] = "tell_verdict"
        out.append(step)
    out.append({"trigger": "next", "source": "children", "dest": "materials"})
    out.append({"trigger": "next", "source": "materials", "dest": "done"})
    return tuple(out)


SPEC = MachineSpec(
    name=NAME,
    title="Suzhou points-based enrolment",
    states=(*CHECKS, "ineligible", "children", "materials", "done"),
    initial=CHECKS[0],
    transitions=_chain(),
    # A verdict that fails ends the flow as `done` does: nothing is left to ask, so later
    # questions are plain FAQ questions, not digressions from a flow to be continued.
    final=frozenset({"ineligible", "done"}),
)


class SuzhouTurn(Turn):
    def __init__(self, flow: SuzhouFlow, session: Session, today: date) -> None:
        super().__init__(session, today)
        self.flow = flow

    def fails(self) -> bool:
        return verdict(self.slots).status is Status.INELIGIBLE

    def tell_verdict(self) -> None:
        self.say(self.flow.verdict_reply(self.session), self.flow.calendar_reply(self.today))


class SuzhouFlow(GuidedFlow):
    spec = SPEC
    TEXT_KEYS = frozenset(
        {
            "after",
            "closing",
            "eligible",
            "ineligible",
            "judged",
            "district_place",
            "insurance_place",
            "condition_met",
            "conditions_left",
            "where",
            "materials_head",
            "material_items",
            "material_tail",
            "now_then",
            "now_today",
            "calendar_prepare",
            "calendar_open",
            "calendar_open_last",
            "calendar_review",
            "calendar_review_2017",
            "calendar_closed",
            "calendar_holiday",
            "calendar_next_workday",
            "calendar_holiday_unknown",
            "form_not_yet",
            "form_open",
            "form_closed",
            "school_not_yet",
            "school_open",
            "school_closed",
            "publicity_end",
            "publicity_unknown",
            "proof_unknown",
            "unsure",
            *(f"bullet_{kind}" for kind in ("ok", "fail", "unsure")),
            *(f"proof_{count}" for count in ("upto2", "3plus")),
        }
    )  # fmt: skip  (<condition>_note texts are optional extras under a failed condition)

    BACK_FROM_END = frozenset({"ineligible"})

    def back(self, session: Session, today: date) -> list[Reply]:
        """From the "不符合" verdict: back to the (first) question that failed, its answer
        dropped and every other answer kept."""
        failing = [s for s in CHECKS if s in verdict(session.slots).failing]
        if session.state != "ineligible" or not failing:
            return super().back(session, today)
        first = failing[0]
        for state in failing:
            session.slots.pop(self.questions[state].slot, None)
        trail = [s for s in self._trail(session) if s in CHECKS[: CHECKS.index(first)]]
        self._set_trail(session, trail)
        session.state = first
        return self.render(first, session, today)

    def make_turn(self, session: Session, today: date) -> Turn:
        return SuzhouTurn(self, session, today)

    # ---------------------------------------------------------------- free text
    def wants(self, text: str, session: Session, today: date) -> bool:
        """A parent describing their own case: two stated conditions, one of them about the
        family (not only the school, which is what FAQ questions name: "公办幼儿园可以吗"),
        or one condition plus a first-person eligibility question."""
        if not self.in_context(text, session):
            return False
        found = {k: v for k, v in self.extract(text, session, today).items() if k in CHECKS}
        known = count_known(found)
        family = any(k in found for k in FAMILY)
        asks = any(w in text for w in self.text.extra("ask_eligible"))
        personal = any(w in text for w in self.text.extra("personal_words"))
        return (known >= 2 and (family or personal)) or (known >= 1 and asks and personal)

    def extract(self, text: str, session: Session, today: date) -> dict[str, str]:
        found = super().extract(text, session, today)
        years = residence_years(text, answering=False) or residence_since(text, today)
        if years is None and "years" in session.slots and self._corrects(text):
            # "不对，我算错了，其实才十个月" after the residence was answered: that answer's
            # duration, restated with no verb of living.
            years = residence_years(text, answering=True)
        if years is not None:
            found["years"] = years
        count = children_count(text, answering=False)
        if count is not None:
            found["children"] = birth_proof(count)
        places = [str(p) for p in self.text.extra("places_outside")]
        place = next((p for p in places if p in text), None)
        if place is not None and (found.get("district") == "other" or "insurance" in found):
            found[PLACE] = place
            # "社保是在昆山交的": the place is the insurance's, not the school's.
            if found.get("insurance") == "no" and text.count(place) == 1:
                found.pop("district", None)
        return found

    def step(self, session: Session, incoming: Incoming, today: date) -> FlowResult | None:
        """A question's answer typed as a question ("住满整整一年了，居住年限够不够"): the
        condition it meets is said before the next question (a failed one ends the check,
        whose verdict says so)."""
        state = session.state
        result = super().step(session, incoming, today)
        vocab = self.kb.understanding
        text = incoming.text or ""
        if result is None or state not in CHECKS or vocab is None:
            return result
        if session.slots.get(state) in (None, "unsure") or not any(w in text for w in vocab.yes_no):
            return result
        if state in verdict(session.slots).failing:
            return result
        conditions: dict[str, str] = self.text.extra("condition")
        met = Reply(text=self.t("condition_met", condition=conditions[state]))
        return FlowResult([met, *result.replies])

    def _corrects(self, text: str) -> bool:
        vocab = self.kb.understanding
        return vocab is not None and any(w in text for w in vocab.corrections)

    def shortcut(self, session: Session) -> str | None:
        """A condition that fails decides at once: no need to ask the others first."""
        return "ineligible" if verdict(session.slots).failing else None

    def numbers_answer(self, state: str) -> bool:
        return state in ("years", "children")  # "2" is two years, two children

    def parse_answer(self, state: str, text: str, session: Session, today: date) -> str | None:
        if state == "years":
            return residence_years(text, answering=True)
        if state == "children":
            count = children_count(text, answering=True)
            return None if count is None else birth_proof(count)
        return None

    # ---------------------------------------------------------------- replies
    def _bullets(self, names: tuple[str, ...] | list[str], kind: str) -> str:
        conditions: dict[str, str] = self.text.extra("condition")
        return "\n".join(self.t(f"bullet_{kind}", text=conditions[n]) for n in names)

    def judge(self, text: str, session: Session, today: date) -> Reply | None:
        found = self.extract(text, session, today)
        if verdict({k: v for k, v in found.items() if k in CHECKS}).status is not Status.INELIGIBLE:
            return None
        kept = {k: v for k, v in found.items() if k in CHECKS or k == PLACE}
        return self.verdict_reply(Session(chat_id=session.chat_id, slots=dict(kept)), "judged")

    def met(self, text: str, said: Sequence[str], session: Session, today: date) -> Reply | None:
        """A fact stated as the answer to a question about the conditions ("初三", "相城"):
        the condition it meets, then the ones nobody has stated yet in this conversation."""
        found = {k: v for k, v in self.extract(text, session, today).items() if k in CHECKS}
        v = verdict(found)
        ok = [n for n in CHECKS if n in found and n not in v.failing and n not in v.unsure]
        if not ok or v.failing:
            return None
        known = {**session.slots, **facts_of(self, SAID_SEP.join(said), session, today)[0], **found}
        left = [n for n in CHECKS if n not in known]
        conditions: dict[str, str] = self.text.extra("condition")
        lines = [self.t("condition_met", condition=conditions[n]) for n in ok]
        if left:
            lines.append(self.t("conditions_left", conditions=self._bullets(left, "unsure")))
        return Reply(text="\n".join(lines))

    def verdict_reply(self, session: Session, key: str = "ineligible") -> Reply:
        """The verdict on the answers so far; `key`: the ineligible text (the flow's own, or
        `judged` for facts judged outside the flow, which has no "重新判断资格" to press)."""
        v = verdict(session.slots)
        ok = [n for n in CHECKS if n not in v.failing and n not in v.unsure and n not in v.missing]
        if v.status is Status.INELIGIBLE:
            body = self.t(key, failing=self._bullets(v.failing, "fail"))
            notes = [self.t(f"{n}_note") for n in v.failing if f"{n}_note" in self.text.text]
            place = session.slots.get(PLACE)
            if "district" in v.failing and isinstance(place, str):
                body = self.t("district_place", place=place) + "\n" + body  # the verdict first
            elif "insurance" in v.failing and isinstance(place, str):
                body = self.t("insurance_place", place=place) + "\n" + body
            body = "\n".join([body, *notes])
        elif v.status is Status.UNSURE:
            body = self.t(
                "unsure",
                unsure=self._bullets(v.unsure, "unsure"),
                conditions=self._bullets(ok, "ok"),
            )
        else:
            body = self.t("eligible", conditions=self._bullets(ok, "ok"))
        return Reply(text=body, state=outcomes.state(Outcome.VERDICT, v.status.value))

    def dated_notes(self) -> Mapping[str, Callable[[date, date | None], str]]:
        """The calendar for today (or the day asked about), for FAQ answers about the
        application window, the 公示 and the 核定表."""
        return {
            "suzhou_calendar": lambda today, when: self.calendar_reply(today, when).text,
            "suzhou_form": lambda today, when: self.form_note(today, when),
            "suzhou_school": lambda today, when: self.school_note(today, when),
            "suzhou_publicity": lambda today, when: self.publicity_note(today, when),
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

    def calendar_reply(self, today: date, when: date | None = None) -> Reply:
        day = when or today
        now = self._now(today, day)
        today = day
        cal = calendar(today)
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
            today=format_cn(today),
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

    def prompt(self, state: str, session: Session, today: date) -> str:
        if state == "materials":
            proof = session.slots.get("children")
            proof_key = f"proof_{proof}" if proof in ("upto2", "3plus") else "proof_unknown"
            return "\n".join(
                [
                    self.t("materials_head"),
                    self.t("material_items"),
                    self.t(proof_key),
                    self.t("material_tail"),
                    "",
                    self.t("where"),
                ]
            )
        return super().prompt(state, session, today)

    def render_other(self, state: str, session: Session, today: date) -> list[Reply]:
        if state == "ineligible":
            again = Button(str(self.text.extra("again_label")), cb.flow(NAME))
            buttons = ((again, Button(self.common.menu_label, cb.menu("main"))),)
            reply = self.verdict_reply(session)
            return [
                Reply(
                    text=reply.text,
                    buttons=buttons,
                    state=outcomes.state(Outcome.FLOW, NAME, state),
                )
            ]
        body = "\n\n".join([self.t("after"), self.t("closing")])
        return [
            Reply(
                text=body,
                buttons=self.end_buttons(),
                state=outcomes.state(Outcome.FLOW, NAME, state),
            )
        ]

    def describe(self, slot: str, value: str) -> str | None:
        if value == UNSURE:
            return None
        return super().describe(slot, value)
