"""Tianjin newborn enrolment (source 000): 户籍 → path → birth date → 90-day rule →
materials → cost and where.

The 外地 path depends on a parent's valid Tianjin 居住证; with none the page says nothing,
so the flow says so and points to the 社保 office rather than guessing. Children who are
not newborns (rural, students) get the matching line of 参保方式 and the cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from dialogs import outcomes
from dialogs.flows.base import FlowResult
from dialogs.flows.machine import GuidedFlow
from dialogs.flows.questions import CommonText, FlowText
from dialogs.flows.spec import MachineSpec, Turn
from dialogs.outcomes import Outcome
from dialogs.rules.dates import DaySpan, find_date, format_cn
from dialogs.rules.everyday import birth_span, holidays_from, said_of_birth
from dialogs.rules.tianjin import Standing, deadline
from dialogs.session import Session
from dialogs.slots import count_known
from dialogs.types import Incoming, Reply
from knowledge.frame import origin_pattern, without_origin
from knowledge.loader import KnowledgeBase

NAME = "tianjin"
SKIP = "skip"
SCHOOLING = frozenset({"outside", "school"})  # variants that say the child goes to school
DEADLINE_ASPECT = "deadline"  # understanding.yaml's aspect of "最晚哪天", "期限"
TOLD = "_told"  # the birth value whose deadline was already said this flow

SPEC = MachineSpec(
    name=NAME,
    title="Tianjin newborn enrolment",
    states=("hukou", "permit", "variant", "birth", "materials", "done"),
    initial="hukou",
    transitions=(
        {"trigger": "next", "source": "hukou", "dest": "variant", "conditions": "chose_other"},
        {"trigger": "next", "source": "hukou", "dest": "permit", "conditions": "chose_nonlocal"},
        {"trigger": "next", "source": "hukou", "dest": "birth", "after": "tell_path"},
        {"trigger": "next", "source": "permit", "dest": "birth", "after": "tell_path"},
        {"trigger": "next", "source": "variant", "dest": "done", "after": "tell_variant"},
        {"trigger": "next", "source": "birth", "dest": "materials", "after": "tell_deadline"},
        {"trigger": "next", "source": "materials", "dest": "done"},
    ),
    final=frozenset({"done"}),
)


class TianjinTurn(Turn):
    def __init__(self, flow: TianjinFlow, session: Session, today: date) -> None:
        super().__init__(session, today)
        self.flow = flow

    # conditions
    def chose_other(self) -> bool:
        return self.slot("hukou") == "other"

    def chose_nonlocal(self) -> bool:
        return self.slot("hukou") == "nonlocal"

    # after-callbacks
    def tell_path(self) -> None:
        self.say(*self.flow.path_replies(self.session))

    def tell_variant(self) -> None:
        key = f"variant_{self.slot('variant')}"
        if key in self.flow.text.text:
            self.say(Reply(text=self.flow.t(key)))

    def tell_deadline(self) -> None:
        birth = self.slot("birth")
        if birth and self.slots.get(TOLD) != birth:
            self.say(self.flow.deadline_reply(birth, self.today))
            self.slots[TOLD] = birth


class TianjinFlow(GuidedFlow):
    spec = SPEC
    TEXT_KEYS = frozenset(
        {
            "closing",
            "closing_birth",
            "cost",
            "deadline_note",
            "deadline_skipped",
            "material_child",
            "material_child_nonlocal",
            "material_contact",
            "material_foreign",
            "material_guardian",
            "material_guardian_nonlocal",
            "materials_head",
            "materials_local_note",
            "materials_nonlocal_note",
            "now_then",
            "now_today",
            "path_foreign",
            "path_local",
            "path_nonlocal",
            "path_nopermit",
            "path_unsure",
            "where_general",
            "where_local",
            "where_nonlocal",
            *(f"deadline_{s.value}" for s in Standing),
        }
    )  # fmt: skip  (variant_<value> texts are optional: a variant without one says nothing)

    def __init__(self, kb: KnowledgeBase, text: FlowText, common: CommonText) -> None:
        super().__init__(kb, text, common)
        vocab = kb.understanding
        self._origin = origin_pattern(vocab) if vocab is not None else None
        # The words that ask for a deadline ("90天的期限到哪天"): such an answer to a step
        # hears the deadline again even when it was told at the start.
        asks = vocab.aspects.get(DEADLINE_ASPECT) if vocab is not None else None
        self._deadline_words = tuple(asks.words) if asks is not None else ()

    def make_turn(self, session: Session, today: date) -> Turn:
        return TianjinTurn(self, session, today)

    # ---------------------------------------------------------------- free text
    def wants(self, text: str, session: Session, today: date) -> bool:
        """A message that states a birth date or two facts of this flow, in a Tianjin context."""
        if not self.in_context(text, session):
            return False
        found = self.extract(text, session, today)
        return "birth" in found or count_known(found) >= 2

    def extract(self, text: str, session: Session, today: date) -> dict[str, str]:
        found = super().extract(text, session, today)
        if found.get("hukou") == "local" and self._origin is not None:
            # "河北沧州户口在天津打工": the province's 户口, not the words "户口在天津".
            kept = super().extract(without_origin(self._origin, text), session, today)
            if kept.get("hukou") != "local":
                found.pop("hukou")
        if "hukou" not in found and self._origin is not None and self._origin.search(text):
            found["hukou"] = "nonlocal"  # "其实我们是山东户口": a 户籍 from another province
        birth = self._everyday_birth(text, today, require_words=True)
        if birth is not None:
            found["birth"] = birth.isoformat()
        variant = found.get("variant")
        if variant in SCHOOLING:  # going to school: not a newborn, whatever the 户籍
            found["hukou"] = "other"
        elif variant is not None:
            # 城镇/农村 may only say where a newborn's family lives: a stated 户籍 or birth
            # date wins; only with neither is it the 参保方式 line for older children.
            if "hukou" not in found and "birth" not in found:
                found["hukou"] = "other"
            elif found.get("hukou") != "other":
                del found["variant"]
        return found

    def parse_answer(self, state: str, text: str, session: Session, today: date) -> str | None:
        if state != "birth":
            return None
        birth = self._everyday_birth(text, today, require_words=False)
        return None if birth is None else birth.isoformat()

    def _everyday_birth(self, text: str, today: date, require_words: bool) -> date | None:
        """A birth day however it is said (2月10日, 中秋节那天, 上个月15号, 出生50天), only when
        it is one day: a range ("三个月大") is not guessed, the flow asks for the date."""
        if require_words and not any(w in text for w in self.text.extra("birth_words")):
            return None
        vocab = self.kb.understanding
        if vocab is None:
            hit = find_date(text, today)
            day = hit.value if hit is not None else None
        else:
            holidays = holidays_from(vocab.holidays)
            span = birth_span(text, today, holidays, vocab.age_words, vocab.relative_years)
            words = (*self.text.extra("birth_words"), *vocab.age_words)
            errands = vocab.errand_words
            if span and require_words and not said_of_birth(text, span, words, errands):
                span = None  # a day in the message that is not the birth day
            day = span.exact if span is not None else None
        return day if day is not None and self._plausible(day, today) else None

    def reject(self, state: str, text: str, session: Session, today: date) -> str | None:
        if state != "birth":
            return None
        hit = find_date(text, today)
        if hit is None:
            return None
        return self.common.bad_date.format(text=text[:40])

    def callback_value(self, state: str, value: str, session: Session, today: date) -> str:
        return today.isoformat() if (state, value) == ("birth", "today") else value

    @staticmethod
    def _plausible(birth: date, today: date) -> bool:
        """A child's birth date (up to 18 years back) or an expected one (up to 300 days on)."""
        return today - timedelta(days=366 * 18) <= birth <= today + timedelta(days=300)

    def describe(self, slot: str, value: str) -> str | None:
        if slot == "birth" and value != SKIP:
            return str(self.text.extra("ack_birth")).format(
                date=format_cn(date.fromisoformat(value))
            )
        return super().describe(slot, value)

    # ---------------------------------------------------------------- replies
    def on_start(
        self, session: Session, today: date, found: Mapping[str, str], when: DaySpan | None = None
    ) -> list[Reply]:
        """A birth date in the first message gets its deadline at once, before any question:
        as of the day the parent says they will go ("等2月10号出院后再去办"), else today
        (also when the days meant ("下周") straddle the last day: the date decides)."""
        birth = found.get("birth")
        if not birth or found.get("hukou") == "other":
            return []
        session.slots[TOLD] = birth
        if when is not None and birth != SKIP and when.last != today:
            born = date.fromisoformat(birth)
            ends = {
                deadline(born, day).standing is Standing.LATE for day in (when.first, when.last)
            }
            if len(ends) == 1:
                return [self.deadline_reply(birth, when.last, then=True)]
        return [self.deadline_reply(birth, today)]

    def deadline_text(self, birth: date, today: date, when: date | None) -> str:
        """The 90-day verdict for free text: as of today, or as of the day asked about."""
        then = when is not None and when != today  # "今天去办" is today, said as such
        return self.deadline_reply(birth.isoformat(), when or today, then=then).text

    def step(self, session: Session, incoming: Incoming, today: date) -> FlowResult | None:
        """ "天津户口，90天的期限到哪天" at the 户籍 step: the step taken, and the deadline
        said again although it was told when the flow started - the parent asked for it."""
        told = session.slots.get(TOLD)
        result = super().step(session, incoming, today)
        text = incoming.text or ""
        birth = session.slots.get("birth")
        asks = any(w in text for w in self._deadline_words)
        if result is not None and asks and isinstance(birth, str) and birth == told:
            result.replies.insert(min(1, len(result.replies)), self.deadline_reply(birth, today))
        return result

    def _apply(
        self, state: str, found: Mapping[str, str], session: Session, today: date
    ) -> FlowResult | None:
        """A corrected birth day whose deadline was already told gets the new verdict at once
        (the parent asked about it), not only when the flow reaches the birth step again,
        whether the correction came as an aside ("哦说错了，是2月5号生的" while 户籍 is
        asked) or through a step."""
        told = session.slots.get(TOLD)
        result = super()._apply(state, found, session, today)
        birth = session.slots.get("birth")
        if result is not None and told and isinstance(birth, str) and birth != told:
            result.replies.insert(1, self.deadline_reply(birth, today))
            session.slots[TOLD] = birth
        return result

    def deadline_reply(self, birth: str, today: date, then: bool = False) -> Reply:
        if birth == SKIP:
            return Reply(text=self.t("deadline_skipped"))
        rule = deadline(date.fromisoformat(birth), today)
        fields = {
            "now": self.t("now_then") if then else self.t("now_today"),
            "birth": format_cn(rule.birth),
            "today": format_cn(today),
            "last": format_cn(rule.last_day),
            "day": rule.day_number,
            "left": rule.days_left,
            "tomorrow": format_cn(rule.coverage_from(today)),  # paying today, after day 90
        }
        body = self.t(f"deadline_{rule.standing.value}", **fields)
        if rule.standing is not Standing.LATE:
            body += "\n" + self.t("deadline_note")
        return Reply(text=body)

    def path_replies(self, session: Session) -> list[Reply]:
        hukou, permit = session.slots.get("hukou"), session.slots.get("permit")
        if hukou == "local":
            keys = ["path_local"]
        elif hukou == "foreign":
            keys = ["path_foreign"]
        elif permit == "no":
            keys = ["path_nopermit"]
        elif permit == "unsure":
            keys = ["path_unsure", "path_nonlocal"]
        else:
            keys = ["path_nonlocal"]
        return [Reply(text="\n".join(self.t(k) for k in keys))]

    def prompt(self, state: str, session: Session, today: date) -> str:
        if state == "materials":
            return self.materials(session)
        return super().prompt(state, session, today)

    def materials(self, session: Session) -> str:
        hukou = session.slots.get("hukou")
        nonlocal_ = hukou == "nonlocal"
        items = [
            self.t("material_child_nonlocal" if nonlocal_ else "material_child"),
            self.t("material_guardian_nonlocal" if nonlocal_ else "material_guardian"),
        ]
        if hukou == "foreign":
            items.append(self.t("material_foreign"))
        items.append(self.t("material_contact"))
        lines = [self.t("materials_head"), *(f"{i}. {item}" for i, item in enumerate(items, 1))]
        if nonlocal_ and session.slots.get("permit") != "no":
            lines.append(self.t("materials_nonlocal_note"))
        if hukou == "local":
            lines.append(self.t("materials_local_note"))
        return "\n".join(lines)

    def render_other(self, state: str, session: Session, today: date) -> list[Reply]:
        hukou = session.slots.get("hukou")
        where = {"local": "where_local", "nonlocal": "where_nonlocal"}.get(
            str(hukou), "where_general"
        )
        if hukou == "nonlocal" and session.slots.get("permit") == "no":
            where = "where_general"
        closing = self.t("closing")
        if session.slots.get("birth") not in (None, SKIP):
            closing += self.t("closing_birth")
        body = "\n\n".join([self.t("cost"), self.t(where), closing])
        return [
            Reply(
                text=body,
                buttons=self.end_buttons(),
                state=outcomes.state(Outcome.FLOW, NAME, state),
            )
        ]
