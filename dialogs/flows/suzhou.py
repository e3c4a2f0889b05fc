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
from dialogs.flows.questions import CommonText, FlowText
from dialogs.flows.spec import MachineSpec, Turn
from dialogs.flows.suzhou_calendar import SuzhouCalendar
from dialogs.outcomes import Outcome
from dialogs.rules.suzhou import (
    ORDER,
    UNSURE,
    Status,
    birth_proof,
    verdict,
)
from dialogs.session import Session
from dialogs.slots import children_count, count_known, residence_since, residence_years
from dialogs.types import Button, Incoming, Reply
from knowledge.loader import KnowledgeBase

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
            "points_within",
            "points_late",
            "proof_unknown",
            "unsure",
            *(f"bullet_{kind}" for kind in ("ok", "fail", "unsure")),
            *(f"proof_{count}" for count in ("upto2", "3plus")),
        }
    )  # fmt: skip  (<condition>_note texts are optional extras under a failed condition)

    BACK_FROM_END = frozenset({"ineligible"})

    def __init__(self, kb: KnowledgeBase, text: FlowText, common: CommonText) -> None:
        super().__init__(kb, text, common)
        self.calendar = SuzhouCalendar(self.t)

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
        return self.calendar.dated_notes()

    def calendar_reply(self, today: date, when: date | None = None) -> Reply:
        return self.calendar.reply(today, when)

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
