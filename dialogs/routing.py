"""How one turn is decided, with no I/O: commands and buttons, the open flow, the service
account's keywords, then the clerk (`dialogs.understanding`). `Engine` (dialogs.engine) wraps
it with the chat's lock, the session store, delivery and the turn record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date

from dialogs import callbacks as cb
from dialogs import outcomes
from dialogs.callbacks import Callback, Kind
from dialogs.clock import users_today
from dialogs.dialogue import SAID_SEP, Turn, said
from dialogs.flows.base import (
    Amends,
    BirthDeadline,
    DatedNotes,
    Flow,
    Judges,
    Reopens,
    WantsText,
)
from dialogs.flows.facts import ended_flow, facts_of
from dialogs.flows.machine import GuidedFlow
from dialogs.hygiene import clean_line
from dialogs.outcomes import Outcome
from dialogs.replies import Replies
from dialogs.session import Session
from dialogs.types import Button, Incoming, Reply
from dialogs.understanding import Clerk
from knowledge.loader import KnowledgeBase
from knowledge.matcher import MatchContext, Matcher

MAX_CHARS = 2000  # longer messages are answered from their beginning, with a notice
MATCH_CHARS = 300  # what the matcher reads of a long message

COMMANDS_START = ("/start", "/menu")
# `n:<ui key>`: a notice plus the main menu, for what an edge cannot pass on as text (a
# photo on WeChat); through a turn, so the menu's choices are offered by number.
NOTICES = frozenset({"non_text"})


class Router:
    """The decisions of a turn; subclassed by `Engine`, which adds the store and delivery."""

    def __init__(
        self,
        kb: KnowledgeBase,
        matcher: Matcher,
        flows: Mapping[str, Flow] | None = None,
        clock: Callable[[], date] = users_today,
    ) -> None:
        self.kb = kb
        self.matcher = matcher
        self.flows = flows or {}
        self.clock = clock

    @property
    def kb(self) -> KnowledgeBase:
        return self._kb

    @kb.setter
    def kb(self, kb: KnowledgeBase) -> None:
        # Steering words come from the knowledge files; resolved once per KB, not per turn.
        self._kb = kb
        # "退出" (quit) ends the terminal chat; everywhere else it leaves the flow, like cancel.
        self._cancel_words = kb.command_words("cancel") | kb.command_words("quit")
        self._back_words = kb.command_words("back")
        self._help_words = kb.command_words("help")
        self._more_words = kb.command_words("more")

    def reload(self, kb: KnowledgeBase, matcher: Matcher) -> None:
        """Swap in a new, already validated knowledge base (hot reload)."""
        self.kb, self.matcher = kb, matcher

    @property
    def clerk(self) -> Clerk | None:
        """The question-understanding layer for the current KB and matcher (rebuilt after
        a reload); None for a KB without an `understanding` section."""
        key = (id(self._kb), id(self.matcher))
        if getattr(self, "_clerk_key", None) != key:
            self._clerk_key = key
            has = self._kb.understanding is not None
            self._clerk = Clerk(self._kb, self.matcher) if has else None
        return self._clerk

    def turn(self, session: Session, incoming: Incoming, today: date) -> list[Reply]:
        """Decide the replies and mutate `session`; no I/O, so it is cheap to test and fuzz."""
        notices: list[Reply] = []
        if session.flow and (
            session.flow not in self.flows or session.state not in self.flows[session.flow].states()
        ):
            session.end_flow()
            notices.append(self.say.menu("main", prefix=self.kb.text("unknown_state")))
            pressed = Callback.unpack(incoming.callback)
            if pressed is not None and pressed.kind is Kind.STEP:
                return notices
        if incoming.callback is not None:
            return notices + self._callback(session, incoming, today)
        raw = incoming.text or ""
        text = clean_line(raw[: MAX_CHARS * 4])
        if not text:
            return [*notices, self.say.menu("main", prefix=self.kb.text("empty"))]
        if len(text) > MAX_CHARS:
            notices.append(Reply(text=self.kb.text("too_long", limit=MAX_CHARS)))
            text = text[:MATCH_CHARS]
        return notices + self._text(session, text, today)

    def _text(self, session: Session, text: str, today: date) -> list[Reply]:
        lowered = text.lower()
        command, _, payload = lowered.partition(" ")
        if command.startswith("/"):
            command = command.split("@", 1)[0]
        if command in COMMANDS_START:
            session.end_flow()
            if payload.strip() in self.flows:
                return self._start_flow(session, payload.strip(), today, None)
            return [self.say.menu("main", prefix=self.kb.text("welcome"))]
        if command == "/help" or lowered in self._help_words:
            return [self.say.menu("main", prefix=self.kb.text("help"))]
        if command == "/about":
            menu = ((Button(self.kb.text("main_menu"), cb.menu("main")),),)
            return [Reply(text=self.say.about(), buttons=menu)]
        if command == "/forget":
            return [self.say.forget_prompt(session)]
        if command[1:] in self.flows:
            return self._start_flow(session, command[1:], today, None)
        if command in self._cancel_words or lowered in self._cancel_words:
            was_in_flow = session.flow is not None
            session.end_flow()
            prefix = self.kb.text("cancelled") if was_in_flow else None
            return [self.say.menu("main", prefix=prefix)]
        if lowered in self._back_words:
            return self._back(session, today)
        # The dialogue state learns from every message, whichever path answers it: facts
        # stated while starting or inside a flow still hold for the next free question.
        clerk = self.clerk
        if clerk is not None and clerk.new_case(session, text):
            session.end_flow()  # "第三家呢：…": another family; the last one's check is over
        if clerk is not None and not session.flow:
            text = clerk.as_claim(session, text)  # "邻居说…" then "是这样吗": that claim asked
            lowered = text.lower()
        turn = clerk.read(session, text, today) if clerk is not None else None
        try:
            return self._route(session, text, lowered, today, turn)
        finally:
            if clerk is not None and turn is not None:
                clerk.remember(session, turn)

    def _route(
        self, session: Session, text: str, lowered: str, today: date, turn: Turn | None
    ) -> list[Reply]:
        # Flows read the repaired text (traditional characters, full width, typos such as
        # 居注证 or 社宝 fixed), the same normaliser the clerk and the matcher use.
        said = self.matcher.normalizer.repair(text) or text
        if session.flow:
            flow = self.flows[session.flow]
            result = flow.step(session, Incoming(text=said, today=today), today)
            if result is None and turn is not None and turn.corrected and isinstance(flow, Amends):
                result = flow.amend(session, turn.corrected, today)
            heads = self.clerk.heads if self.clerk is not None else None
            if result is not None and turn is not None and heads and heads.asks_beside(turn):
                return [*self._answer_free_text(session, text, today, turn), *result.replies]
            if result is not None:
                return result.replies
            wanted = self._flow_wanting(session, said, today, turn)
            if wanted is not None:
                return wanted
            # A digression (a keyword or a question): answer it, then offer to continue.
            routed = self._keyword(session, lowered, today)
            if routed is None:
                routed = self._answer_free_text(session, text, today, turn)
            return [*routed, self.say.continue_prompt()]

        routed = self._keyword(session, lowered, today)
        if routed is not None:
            return routed
        session.slots.pop("pending_q", None)  # the city question went unanswered: moved on
        wanted = self._flow_wanting(session, said, today, turn)
        if wanted is not None:
            return wanted
        return self._answer_free_text(session, text, today, turn)

    def _callback(self, session: Session, incoming: Incoming, today: date) -> list[Reply]:
        pressed = Callback.unpack(incoming.callback)
        kind, target = (pressed.kind, pressed.target) if pressed else (None, "")
        if kind is Kind.MENU and target in self.kb.menus:
            return [self.say.menu(target)]
        if kind is Kind.ENTRY and target in self.kb.entries:
            return [self.say.entry(session, target, today)]
        if kind is Kind.FLOW and target in self.flows:
            return self._start_flow(session, target, today, None)
        if kind is Kind.STEP and session.flow and target == session.flow:
            result = self.flows[session.flow].step(session, incoming, today)
            if result is not None:
                return result.replies
        if kind is Kind.CITY and target in self.cities:
            return self._city_chosen(session, target, today)
        if kind is Kind.FLOW_CONTROL and target == "cont" and session.flow:
            return self.flows[session.flow].resume(session, today)
        if kind is Kind.FLOW_CONTROL and target == "stop":
            session.end_flow()
            return [self.say.menu("main", prefix=self.kb.text("cancelled"))]
        if kind is Kind.NOTICE and target in NOTICES:
            return [self.say.menu("main", prefix=self.kb.text(target))]
        if pressed is not None and pressed.is_(Kind.ACTION, "forget", "no"):
            session.forget_nonce = ""
            return [Reply(text=self.kb.text("forget_kept"))]
        if pressed is not None and pressed.is_(Kind.ACTION, "forget", "yes"):
            # Not the prompt's own button (that one had erased): ask again.
            return [self.say.forget_prompt(session)]
        if kind is Kind.ACTION and target == "back" and (session.flow or session.ended):
            return self._back(session, today)
        if kind is Kind.ACTION and target == "restart":
            session.end_flow()
            return [self.say.menu("main")]
        # A button of a step already passed, or data no button of ours sends: the typed
        # outcome STALE lets an edge say so in its own way (a toast) instead of reading text.
        stale = self.say.menu("main", prefix=self.kb.text("stale_button"))
        return [replace(stale, state=outcomes.state(Outcome.STALE))]

    # ------------------------------------------------------------------ answers
    def _keyword(self, session: Session, lowered: str, today: date) -> list[Reply] | None:
        key = self.matcher.normalize(lowered)
        for route in self.kb.keywords:
            if lowered in route.words or key in route.words:
                kind, _, target = route.action.partition(":")
                if kind == "menu":
                    if target in self.cities:
                        return self._city_chosen(session, target, today)
                    return [self.say.menu(target)]
                if kind == "entry":
                    return [self.say.entry(session, target, today)]
                if kind == "flow" and target in self.flows:
                    return self._start_flow(session, target, today, None)
        return None

    def _city_chosen(self, session: Session, city: str, today: date) -> list[Reply]:
        """A city pressed or typed ("苏州") right after "您问的是天津还是苏州？": the question
        that asked is answered for it; otherwise the city's menu."""
        pending = session.slots.pop("pending_q", None) if not session.flow else None
        session.city = city
        if isinstance(pending, str):
            return self._answer_free_text(session, pending, today)
        return [self.say.menu(city)]

    def _answer_free_text(
        self, session: Session, text: str, today: date, turn: Turn | None = None
    ) -> list[Reply]:
        clerk = self.clerk
        understood = clerk.answer(session, text, today, self, turn) if clerk else None
        if not isinstance(understood, list):
            context = MatchContext(city=session.city, topic=session.topic, entry=session.last_entry)
            match = understood or self.matcher.match(text, context)
            understood = self.say.match(session, text, match, today)
        if clerk is not None:  # "人脸核验做完了": the step of the answer said as done
            clerk.pointer.done(session, text, understood, self._kb)
        return understood

    def entry_reply(
        self, session: Session, entry_id: str, today: date, when: date | None = None
    ) -> Reply:
        """An entry for the clerk: a dated note (computed for `when`, or today) comes first,
        since it is the verdict the question asked for."""
        return self.say.entry(session, entry_id, today, when=when, note_first=True)

    def entry_item(self, session: Session, entry_id: str, number: int) -> Reply | None:
        """One numbered item of the entry just answered; the entry stays the one pointed at."""
        return self.say.entry_item(entry_id, number)

    def decided_flow(
        self, session: Session, name: str, text: str, today: date, correcting: bool = False
    ) -> list[Reply] | None:
        """Start flow `name` when the facts in `text` already decide it (a failed condition
        gives its verdict at once); None when they do not. `text` may hold several messages,
        one per line, oldest first: a later message's fact replaces an earlier one
        ("学校其实在昆山" after "在吴中区上小学"). `correcting`: the last message corrects a
        fact of the verdict the flow just gave ("哦记错了，住了两年了" after "不符合"): the
        flow starts again with the corrected facts even when they do not decide it yet, and
        asks what is still open."""
        flow = self.flows.get(name)
        if not isinstance(flow, GuidedFlow):
            return None
        facts, last = facts_of(flow, text, session, today)
        decided = flow.shortcut(Session(chat_id=session.chat_id, slots=dict(facts))) is not None
        # (Only after the flow's own verdict: a fact it did not ask about stays with the clerk.)
        restated = correcting and ended_flow(session) == name and bool(last)
        if not decided and not restated:
            return None
        self._enter_flow(session, name)
        return flow.start(session, today, facts=facts)

    def entry_buttons(self, ids: list[str]) -> tuple[tuple[Button, ...], ...]:
        return self.say.entry_buttons(ids)

    def deadline_text(self, city: str, birth: date, today: date, when: date | None) -> str | None:
        """The birth-date verdict (Tianjin's 90 days) in the city's flow's own words; None
        when that city's flow has no such rule."""
        flow = self.flows.get(city)
        if isinstance(flow, BirthDeadline):
            return flow.deadline_text(birth, today, when)
        return None

    def judged(self, session: Session, city: str, text: str, today: date) -> Reply | None:
        """The verdict city's flow gives on the facts in `text` alone, if they decide it."""
        flow = self.flows.get(city)
        return flow.judge(text, session, today) if isinstance(flow, Judges) else None

    def met(self, session: Session, city: str, text: str, today: date) -> Reply | None:
        """The conditions city's flow finds met by the facts in `text`, the last message."""
        flow = self.flows.get(city)
        return flow.met(text, said(session), session, today) if isinstance(flow, Judges) else None

    def birth_rule_cities(self) -> frozenset[str]:
        """Cities whose flow judges a birth date (the clerk's verdicts on stated births)."""
        return self._birth_cities

    @property
    def flows(self) -> Mapping[str, Flow]:
        return self._flows

    @flows.setter
    def flows(self, flows: Mapping[str, Flow]) -> None:
        # What each flow can do is read once here, not by a runtime Protocol isinstance
        # check on every turn (each costs microseconds that add up to the turn budget).
        self._flows = flows
        self._birth_cities = frozenset(n for n, f in flows.items() if isinstance(f, BirthDeadline))
        self._wanting = [(n, f) for n, f in flows.items() if isinstance(f, WantsText)]

    @property
    def say(self) -> Replies:
        """The wording of replies for the current KB, flows and cities (rebuilt after a
        reload or a change of flows)."""
        key = (id(self._kb), id(self._flows), id(self.matcher))
        if getattr(self, "_say_key", None) != key:
            notes = {
                name: note
                for flow in reversed(list(self._flows.values()))
                if isinstance(flow, DatedNotes)
                for name, note in flow.dated_notes().items()
            }
            self._say = Replies(self._kb, notes, self.cities, self.matcher.lexicon.city_names)
            self._say_key = key
        return self._say

    @property
    def cities(self) -> tuple[str, ...]:
        """The cities covered, in declared order (lexicon/cities.yaml): keys of menus, flows."""
        return self.matcher.lexicon.cities

    def _flow_wanting(
        self, session: Session, text: str, today: date, turn: Turn | None
    ) -> list[Reply] | None:
        """Start another guided flow when free text is clearly its request (facts stated),
        unless it asks something no flow decides ("…要什么生育证明": answered as asked)."""
        vocab = self.kb.understanding
        allowed = set(vocab.flow_aspects) if vocab is not None else set()
        if turn is not None and allowed and set(turn.frame.aspects) - allowed:
            return None
        if turn is not None and turn.children and "cost" in turn.frame.aspects:
            return None  # "俩娃一共交多少": a sum the flow (one child's case) does not give
        clerk = self.clerk
        if turn and clerk and (clerk.splitter.apart(turn) or clerk.heads.guard(turn, True)):
            return None  # one child's own case ("老三刚出生呢"), or one a check cannot take
        for name, flow in self._wanting:
            if name != session.flow and flow.wants(text, session, today):
                self._enter_flow(session, name)
                if not isinstance(flow, GuidedFlow):
                    return self.flows[name].start(session, today, text)
                # Facts said a message or two before are not asked again; later ones win.
                recent = SAID_SEP.join([*said(session), text])
                facts = facts_of(flow, recent, session, today)[0]
                going = turn.when if turn and turn.birth else None  # "下周再去办"
                return flow.start(session, today, facts=facts, when=going)
        return None

    def _back(self, session: Session, today: date) -> list[Reply]:
        """ "返回": one step back in the flow, or into a flow that ended on a verdict one can
        step back from (`Session.ended`), or else the main menu."""
        if session.flow:
            return self.flows[session.flow].back(session, today)
        for flow in self.flows.values():
            reopened = flow.reopen(session, today) if isinstance(flow, Reopens) else None
            if reopened is not None:
                return reopened
        return [self.say.menu("main")]

    def _start_flow(
        self, session: Session, name: str, today: date, text: str | None
    ) -> list[Reply]:
        self._enter_flow(session, name)
        return self.flows[name].start(session, today, text)

    def _enter_flow(self, session: Session, name: str) -> None:
        session.end_flow()
        session.flow = name
        session.city = name if name in self.cities else session.city
