"""What every guided flow shares: one transitions Machine and the turn logic.

A flow is a set of question states joined by `next` transitions whose conditions read the
session's slots. ONE `transitions.Machine(model=None)` per flow serves every chat: each turn
adds a short-lived `Turn` model positioned at the session's saved state, fires `next`
while the current question is already answered (so a sentence that states several facts
skips the questions it answers), then removes the model. Only the state name and the
JSON-serialisable slots are stored, so a restart between two turns loses nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import date

from transitions import Machine

from dialogs import callbacks as cb
from dialogs import outcomes
from dialogs.callbacks import Callback, Kind
from dialogs.flows import questions as qs
from dialogs.flows.base import FlowResult
from dialogs.flows.hosting import TurnHosts
from dialogs.flows.questions import CommonText, FlowText, build_question, generic_words, pick
from dialogs.flows.spec import MachineSpec, Turn
from dialogs.outcomes import Outcome
from dialogs.rules.dates import DaySpan
from dialogs.session import Session
from dialogs.slots import normalize, spot
from dialogs.types import Button, Incoming, Reply
from knowledge.loader import KnowledgeBase

TRAIL = "_trail"  # slot holding the states left so far, for "返回"
MAX_CHAIN = 50  # a guard: no flow has that many states


class GuidedFlow:
    """start/step/resume/back for a flow of questions; subclasses add texts and rules."""

    spec: MachineSpec

    # Every key of the flow's `text` mapping the code may ask for, keys built at run time
    # included: checked when the flow is built, so `yibao kb check` and /reload reject a
    # renamed or missing key instead of the first turn that needs it raising KeyError.
    TEXT_KEYS: frozenset[str] = frozenset()
    # End states "返回" can still step back from (the flow ends, `reopen` resumes it).
    BACK_FROM_END: frozenset[str] = frozenset()

    def __init__(self, kb: KnowledgeBase, text: FlowText, common: CommonText) -> None:
        self.kb = kb
        self.text = text
        self.common = common
        self.name = self.spec.name
        lists = {
            k: v
            for k, v in (text.model_extra or {}).items()
            if isinstance(v, list) and all(isinstance(w, str) for w in v)
        }
        self.questions = {s: build_question(s, q, lists) for s, q in text.questions.items()}
        unknown = set(self.questions) - set(self.spec.states)
        if unknown:
            raise ValueError(f"flow {self.name}: questions for unknown states {sorted(unknown)}")
        self.machine = Machine(model=None, **self.spec.kwargs())
        self._hosts = TurnHosts(self.machine)
        missing = sorted(self.TEXT_KEYS - set(text.text))
        if missing:
            raise ValueError(f"flow {self.name}: text keys missing: {', '.join(missing)}")
        self._states = frozenset(self.spec.states)
        self._slots = frozenset(q.slot for q in self.questions.values())
        self.generic = generic_words(common)

    def t(self, key: str, **fmt: object) -> str:
        """A text of this flow by key, formatted."""
        template = self.text.text[key]
        return template.format(**fmt) if fmt else template

    def in_context(self, text: str, session: Session) -> bool:
        """The message is about this flow's city: it says so, or the chat already is there
        and the message names no other flow's city."""
        if any(w in text for w in self.text.context_words):
            return True
        return session.city == self.name and not self.elsewhere(text)

    def elsewhere(self, text: str) -> bool:
        """The message names another flow's city and not this one's."""
        return any(w in text for w in self.text.other_cities) and not any(
            w in text for w in self.text.context_words
        )

    # ---------------------------------------------------------------- hooks
    def make_turn(self, session: Session, today: date) -> Turn:
        return Turn(session, today)

    def extract(self, text: str, session: Session, today: date) -> dict[str, str]:
        """Every slot a free-text message states (word lists; subclasses add parsers)."""
        found: dict[str, str] = {}
        for q in self.questions.values():
            value = spot(text, q.spec)
            if value is not None:
                found[q.slot] = value
        return found

    def parse_answer(self, state: str, text: str, session: Session, today: date) -> str | None:
        """A value for the current question from a parser (dates, counts); None = not parsed."""
        return None

    def reject(self, state: str, text: str, session: Session, today: date) -> str | None:
        """A message when `text` is a recognisably wrong answer (an impossible date)."""
        return None

    def callback_value(self, state: str, value: str, session: Session, today: date) -> str:
        return value

    def prompt(self, state: str, session: Session, today: date) -> str:
        return self.questions[state].ask

    def render_other(self, state: str, session: Session, today: date) -> list[Reply]:
        """Replies for a state that is not a question (results, the end)."""
        raise NotImplementedError(state)

    def on_start(
        self, session: Session, today: date, found: Mapping[str, str], when: DaySpan | None = None
    ) -> list[Reply]:
        """Replies before the first question; `when`: the day(s) the first message says the
        parent will go ("下周再去办"), for rules that depend on the day of the errand."""
        return []

    def describe(self, slot: str, value: str) -> str | None:
        """How the acknowledgement names a slot value (default: the option's label)."""
        q = self.questions.get(slot)
        option = q.option(value) if q else None
        return option.said if option else None

    # ---------------------------------------------------------------- the Flow protocol
    def states(self) -> frozenset[str]:
        return self._states

    def start(
        self,
        session: Session,
        today: date,
        text: str | None = None,
        facts: Mapping[str, str] | None = None,
        when: DaySpan | None = None,
    ) -> list[Reply]:
        """Begin at the first question; facts stated in `text` (or given as `facts`, read
        by the caller from several messages) fill their slots and are acknowledged."""
        session.state = self.spec.initial
        session.slots.pop(TRAIL, None)
        if facts is not None:
            found = dict(facts)
        else:
            found = self.extract(text, session, today) if text else {}
        session.slots.update(found)
        # What the flow is comes first even when the message already stated facts: a parent
        # who asked "怎么弄" learns what the process is before the first question.
        intro = f"{self.text.intro}\n{self._ack(found)}" if found else self.text.intro
        out: list[Reply] = [Reply(text=intro, title=self.text.title)]
        out.extend(self.on_start(session, today, found, when))
        return self._run(session, today, out)

    def step(self, session: Session, incoming: Incoming, today: date) -> FlowResult | None:
        state = session.state or self.spec.initial
        if incoming.callback is not None:
            found = self._from_callback(state, incoming.callback, session, today)
            if found is None:
                return None
        else:
            text = incoming.text or ""
            if self.elsewhere(text):
                return None  # about another city: a digression (or another flow's request)
            read = self._read(state, text, session, today)
            if read is None:
                complaint = self.reject(state, text, session, today)
                if complaint is None and qs.bare_reply(text, self.generic, state in self.questions):
                    complaint = self.common.not_an_answer.format(text=text[:20])
                if complaint is None and qs.names_only(text, self.text.city_words):
                    shown = self.render(state, session, today)  # "那苏州这边呢": this check
                    return FlowResult([replace(shown[0], title=self.text.title), *shown[1:]])
                if complaint is not None:
                    return FlowResult([Reply(text=complaint), *self.render(state, session, today)])
                return self._navigation(text, session, today)
            found = read
        return self._apply(state, found, session, today)

    def amend(self, session: Session, found: Mapping[str, str], today: date) -> FlowResult | None:
        """Facts corrected in a message the current question did not read ("哦不对 是10月3日"
        while 户籍 is asked): taken like answers, so the flow replays from the step they
        decide, keeping the other answers. None when nothing changes or no slot is known."""
        known = {k: v for k, v in found.items() if k in self._slots}
        if not known:
            return None
        return self._apply(session.state or self.spec.initial, known, session, today)

    def _apply(
        self, state: str, found: Mapping[str, str], session: Session, today: date
    ) -> FlowResult | None:
        changed = {k: v for k, v in found.items() if session.slots.get(k) != v}
        q = self.questions.get(state)
        if not changed and (q is None or q.slot not in found):
            return None
        session.slots.update(found)
        passed = set(self._trail(session))
        if q is None or any(k in passed for k in changed):
            # A correction of an earlier answer (or from a result state): replay from the
            # top with everything known; the chain stops at the first open question.
            session.state = self.spec.initial
            session.slots.pop(TRAIL, None)
        # Facts beyond the question asked ("哦不对 是10月3日出生" while 户籍 is asked) are
        # acknowledged, so the parent sees they were taken.
        aside = {
            k: v
            for k, v in changed.items()
            if (q is None or k != q.slot) and self.describe(k, v) is not None
        }
        out = [Reply(text=self._ack(aside))] if aside else []
        return FlowResult(self._run(session, today, out))

    def _navigation(self, text: str, session: Session, today: date) -> FlowResult | None:
        """Navigation buttons typed: 继续 (show the question again), 返回修改 (one step back),
        再查一次 (from the top), 不用了 (leave the flow)."""
        norm = normalize(text)
        if norm in self.generic.get("resume", frozenset()):
            return FlowResult(self.resume(session, today))
        if norm in self.generic.get("back", frozenset()):
            return FlowResult(self.back(session, today))
        if norm in self.generic.get("again", frozenset()):
            session.slots.clear()
            return FlowResult(self.start(session, today))
        if norm in self.generic.get("stop", frozenset()):
            session.end_flow()
            menu = ((Button(self.common.menu_label, cb.menu("main")),),)
            return FlowResult([Reply(text=self.kb.text("cancelled"), buttons=menu)])
        return None

    def resume(self, session: Session, today: date) -> list[Reply]:
        return self.render(session.state or self.spec.initial, session, today)

    def back(self, session: Session, today: date) -> list[Reply]:
        trail = self._trail(session)
        if not trail:
            state = session.state or self.spec.initial
            return [Reply(text=self.common.back_at_start), *self.render(state, session, today)]
        previous = trail.pop()
        self._set_trail(session, trail)
        session.slots.pop(previous, None)
        session.state = previous
        return self.render(previous, session, today)

    # ---------------------------------------------------------------- running the machine
    @contextmanager
    def attached(self, session: Session, today: date) -> Iterator[Turn]:
        """A Turn on the shared machine at the saved state; always taken off again (a model
        bound once is reused: `dialogs.flows.hosting`)."""
        turn = self.make_turn(session, today)
        with self._hosts.on_machine(turn, session.state or self.spec.initial) as model:
            try:
                yield model
            finally:
                session.state = model.state

    def shortcut(self, session: Session) -> str | None:
        """A state to go to at once whatever is still unanswered (a failed condition)."""
        return None

    def _run(self, session: Session, today: date, out: list[Reply]) -> list[Reply]:
        jump = self.shortcut(session)
        if jump is not None and session.state != jump:
            session.state = jump
        with self.attached(session, today) as model:
            for _ in range(MAX_CHAIN):
                q = self.questions.get(model.state)
                if model.state in self.spec.final or q is None or q.slot not in session.slots:
                    break
                left = model.state
                self._set_trail(session, [*self._trail(session), left])
                self.machine.events["next"].trigger(model)
                if model.state == left:
                    break
            out.extend(model.out)
        state = session.state or self.spec.initial
        out.extend(self.render(state, session, today))
        if state in self.spec.final:
            kept = self._snapshot(session, state) if state in self.BACK_FROM_END else ""
            session.end_flow()
            session.ended = kept
        return out

    def _snapshot(self, session: Session, state: str) -> str:
        slots = {k: v for k, v in session.slots.items() if k != TRAIL}
        return json.dumps({"flow": self.name, "state": state, "slots": slots}, ensure_ascii=False)

    def reopen(self, session: Session, today: date) -> list[Reply] | None:
        """ "返回" after this flow ended in one of `BACK_FROM_END`: back in the flow, at that
        state, then one step back (answers kept)."""
        try:
            kept = json.loads(session.ended) if session.ended else None
        except ValueError:
            kept = None
        if not isinstance(kept, dict) or kept.get("flow") != self.name:
            return None
        session.flow, session.state = self.name, str(kept.get("state"))
        session.slots.update(kept.get("slots") or {})
        session.ended = ""
        return self.back(session, today)

    def render(self, state: str, session: Session, today: date) -> list[Reply]:
        q = self.questions.get(state)
        if q is None:
            return self.render_other(state, session, today)
        rows: list[tuple[Button, ...]] = []
        buttons = [Button(o.label, self.callback(state, o.value)) for o in q.options]
        for i in range(0, len(buttons), q.columns):
            rows.append(tuple(buttons[i : i + q.columns]))
        if state != self.spec.initial:
            rows.append(self.nav_row())
        return [
            Reply(
                text=self.prompt(state, session, today),
                buttons=tuple(rows),
                state=outcomes.state(Outcome.FLOW, self.name, state),
                numbered=not self.numbers_answer(state),
            )
        ]

    def numbers_answer(self, state: str) -> bool:
        """True when a bare number answers this question itself (years, children), so its
        buttons must not be offered by number (`dialogs.choices`)."""
        return False

    def nav_row(self) -> tuple[Button, ...]:
        return (
            Button(self.kb.text("back"), cb.action("back")),
            Button(self.kb.text("restart"), cb.action("restart")),
        )

    def end_buttons(self) -> tuple[tuple[Button, ...], ...]:
        return (
            (
                Button(self.common.again_label, cb.flow(self.name)),
                Button(self.common.menu_label, cb.menu("main")),
            ),
        )

    def callback(self, state: str, value: str) -> str:
        return cb.step(self.name, state, value)

    # ---------------------------------------------------------------- reading answers
    def _from_callback(
        self, state: str, data: str, session: Session, today: date
    ) -> dict[str, str] | None:
        pressed = Callback.unpack(data)
        if (
            pressed is None
            or len(pressed.args) != 3
            or not pressed.is_(Kind.STEP, self.name, state)
        ):
            return None
        value = pressed.args[2]
        q = self.questions.get(state)
        if q is None or q.option(value) is None:
            return None
        return {q.slot: self.callback_value(state, value, session, today)}

    def _read(self, state: str, text: str, session: Session, today: date) -> dict[str, str] | None:
        """The slots an in-flow message states: the current question first, then any other."""
        found = self.extract(text, session, today)
        q = self.questions.get(state)
        if q is not None:
            value = self.parse_answer(state, text, session, today) or pick(q, text, self.generic)
            if value is not None:
                found[q.slot] = self.callback_value(state, value, session, today)
        return found or None

    # ---------------------------------------------------------------- small helpers
    def _ack(self, found: Mapping[str, str]) -> str:
        order = list(self.spec.states)
        items = [
            d
            for slot, value in sorted(
                found.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99
            )
            if (d := self.describe(slot, value))
        ]
        return self.common.ack.format(items=self.common.ack_sep.join(items))

    @staticmethod
    def _trail(session: Session) -> list[str]:
        raw = session.slots.get(TRAIL)
        return [s for s in raw.split(",") if s] if isinstance(raw, str) else []

    @staticmethod
    def _set_trail(session: Session, trail: list[str]) -> None:
        session.slots[TRAIL] = ",".join(trail)
