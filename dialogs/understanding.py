"""Understand a free-text turn in its conversation, then answer it the way a clerk would.

Order of decisions (each is data-driven; the wording is in knowledge/data/*.yaml):

1. the message's frame (`knowledge.frame`) is merged with the dialogue state kept in
   `session.context`: what a follow-up leaves out is inherited ("后天呢" = same question,
   other day; "苏州也一样吗" = same question, other city; "然后呢" = the next step), what it
   says replaces the old value (corrections);
2. conversation acts (你好, 谢谢, a statement of context) get a short reply, facts remembered;
3. scope guards: a population or year the pages do not cover gets an honest reply, never
   the nearest in-scope answer;
4. verdicts from the same pure rules the flows use: the 90-day rule for a stated birth day
   (and "what if we go next week"), the Suzhou calendar for a dated step ("核定表现在还能
   打印吗", "后天呢");
5. frame -> entry: entries answering the frame's aspect for its city and population,
   keyword overlap only breaking ties; no such entry means an honest "the page does not
   say" with the closest entries as buttons.

`answer` returns replies, or the keyword matcher's `Match` when the clerk has no opinion
of its own (the engine renders that match: one matcher run per turn), or None when the
question names only other cities (the engine's matcher handles those).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

from dialogs import callbacks as cb
from dialogs import outcomes
from dialogs.outcomes import Outcome
from dialogs.rules.dates import format_cn
from dialogs.rules.everyday import DaySpan, ahead_span, birth_span, holidays_from
from dialogs.rules.tianjin import Standing, deadline
from dialogs.session import Session
from dialogs.stores.records import redact
from dialogs.types import Button, Reply
from knowledge.frame import Frame, FrameReader
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Match, MatchContext, Matcher
from knowledge.schema import Entry

DATED_ASPECTS = frozenset({"time", "deadline", "form", "publicity"})
BIRTH_ASPECTS = frozenset({"deadline", "benefit_start", "time"})
GENERAL = "general"  # entries for every city
HOW_ASPECTS = frozenset({"steps", "eligibility"})  # a stated birth day adds its verdict
MAX_SUGGESTIONS = 3
STRONG_RANK = 5  # aspects at least this specific may overrule the matcher's pick
SAID_TURNS, SAID_CHARS, SAID_SEP = 2, 120, "\n"  # earlier messages kept for their facts


class Renders(Protocol):
    """What the clerk needs from the engine to say things (entries, flows' rule texts)."""

    def entry_reply(
        self, session: Session, entry_id: str, today: date, when: date | None = None
    ) -> Reply: ...

    def deadline_text(
        self, city: str, birth: date, today: date, when: date | None
    ) -> str | None: ...

    def birth_rule_cities(self) -> frozenset[str]: ...

    def entry_buttons(self, ids: list[str]) -> tuple[tuple[Button, ...], ...]: ...

    def decided_flow(
        self, session: Session, name: str, text: str, today: date
    ) -> list[Reply] | None: ...


@dataclass
class Turn:
    """The merged frame of this turn: the message plus what the dialogue already knew."""

    frame: Frame
    city: str | None
    aspects: tuple[str, ...]
    populations: frozenset[str]
    inherited: bool  # the aspect came from an earlier turn
    both: bool  # names both cities the pages cover ("天津和苏州有什么区别")
    switched: bool  # names a city other than the one the conversation was about
    elsewhere: bool  # names only cities other than the two the pages cover
    stated: bool  # the message states facts (a city, a population, a date)
    birth: DaySpan | None
    when: DaySpan | None
    raw: str  # the message as sent: what the keyword matcher reads
    corrected: dict[str, str]  # slot -> value a correction restates (a flow takes them too)
    away: str | None = None  # the one other city the conversation is about (a news snippet)
    mentioned: frozenset[str] = frozenset()  # every city the message names or hints at


class Clerk:
    def __init__(self, kb: KnowledgeBase, matcher: Matcher) -> None:
        assert kb.understanding is not None
        self.kb = kb
        self.vocab = kb.understanding
        self.matcher = matcher
        self.reader = FrameReader(self.vocab)
        self.holidays = holidays_from(self.vocab.holidays)
        self._groups = {name: spec.group for name, spec in self.vocab.populations.items()}
        self.cities = matcher.lexicon.cities  # the covered cities, in declared order
        self._rank_memo: dict[tuple[str, str | None, str | None, str | None], dict[str, float]] = {}

    # ---------------------------------------------------------------- reading
    def read(self, session: Session, text: str, today: date) -> Turn:
        surface = self.matcher.normalizer.surface(text)
        frame = self.reader.read(surface)
        ctx = session.context
        query = self.matcher.analyze(text)
        core = query.cities & set(self.cities)
        # Cities named by name ("天津也要积分吗" names Tianjin; 积分 only implies Suzhou).
        by_name = {
            cid for name, cid in self.matcher.lexicon.city_names.items() if name in surface
        } & core
        named = next(iter(by_name or core)) if len(by_name or core) == 1 else None
        saved = ctx.get("city")
        previous_city = saved if isinstance(saved, str) else session.city
        city = named or (None if query.cities - core else previous_city)
        pops = set(frame.populations)
        # A city-relative 户籍: "天津户口" is local in Tianjin, non-local in Suzhou.
        for c in self.cities:
            names = [n for n, cid in self.matcher.lexicon.city_names.items() if cid == c]
            for name in names:
                compact = surface.replace(" ", "")
                for h in self.vocab.hukou_words:
                    at = compact.find(name + h) if len(name) >= 2 else -1
                    if at < 0:
                        continue
                    negated = any(compact.endswith(n, 0, at) for n in self.vocab.negations)
                    pops -= {"local", "nonlocal"}
                    pops.add("local" if (city == c) != negated else "nonlocal")
        old = {p for p in str(ctx.get("pops") or "").split(",") if p}
        if named and previous_city and named != previous_city:
            # 户籍 is relative to a city; who the question was about carries over only when
            # the parent compares ("苏州也一样吗"), not for a bare "苏州呢" on a subject.
            keep = {"age"} if frame.compare else set()
            old = {p for p in old if self._groups.get(p) in keep}
        merged = {p for p in old if self._groups.get(p) not in {self._groups[n] for n in pops}}
        merged |= pops
        # A question that names no aspect of its own leans on the last one ("关系证明带原件
        # 就够了吧" after a question on materials), as do follow-up words and short messages.
        leans = (
            frame.followup or frame.correction or frame.compare or frame.yes_no or len(surface) <= 8
        )
        old_aspects = tuple(a for a in str(ctx.get("aspects") or "").split(",") if a)
        aspects = frame.aspects
        inherited = False
        if not aspects and old_aspects and (leans or frame.populations or named):
            aspects, inherited = old_aspects, True
        birth = None
        # A correction after a stated birth day ("哦不对 是10月3日") restates that day.
        corrects_birth = frame.correction and isinstance(ctx.get("birth"), str)
        if corrects_birth or any(w in surface for w in self.vocab.birth_words):
            birth = birth_span(text, today, self.holidays, self.vocab.age_words)
        if birth is None and isinstance(ctx.get("birth"), str):
            first = date.fromisoformat(str(ctx["birth"]))
            last = date.fromisoformat(str(ctx.get("birth_last") or ctx["birth"]))
            birth = DaySpan(first, last, str(ctx.get("birth_phrase") or ""))
        if birth is None and isinstance(session.slots.get("birth"), str):
            try:
                day = date.fromisoformat(str(session.slots["birth"]))
                birth = DaySpan(day, day, format_cn(day))
            except ValueError:
                birth = None
        when = ahead_span(text, today, self.holidays)
        if corrects_birth and birth is not None and when is not None:
            when = None  # the corrected birth day, not a day to go
        if when is not None and birth is not None and when.phrase in birth.phrase:
            when = None  # "劳动节生的": the holiday is the birth day, not a day to go
        stated = bool(named or frame.populations)
        elsewhere = bool(query.cities - core) and not by_name
        raw, away = text, None
        others = query.cities - core
        if elsewhere and len(others) == 1:
            away = next(iter(others))
        saved_away = ctx.get("away")
        if not core and isinstance(saved_away, str) and (leans or others or not frame.aspects):
            # "深圳少儿医保异地备案" then "要什么材料" / "在广州能用吗": still about 深圳's
            # card, so the matcher reads the question with that city's name.
            names = [n for n, cid in self.matcher.lexicon.city_names.items() if cid == saved_away]
            if names:
                raw, elsewhere, away = f"{names[0]} {text}", True, saved_away
        corrected: dict[str, str] = {}
        if corrects_birth and birth is not None and birth.first == birth.last:
            corrected["birth"] = birth.first.isoformat()
        return Turn(
            frame,
            city,
            aspects,
            frozenset(merged),
            inherited,
            len(by_name) == 2,
            bool(named and previous_city and named != previous_city),
            elsewhere,
            stated,
            birth,
            when,
            raw,
            corrected,
            away,
            query.cities,
        )

    def remember(self, session: Session, turn: Turn) -> None:
        """Keep the dialogue state: city, aspects, populations, the birth day stated, and
        the last messages (masked: ids, phones and dates) for facts a flow may read."""
        ctx = session.context
        said = [*self._said(session), redact(turn.frame.text[:SAID_CHARS])][-SAID_TURNS:]
        ctx["said"] = SAID_SEP.join(said)
        if turn.city and not turn.elsewhere:
            ctx["city"] = turn.city
        ctx["away"] = turn.away
        if turn.aspects:
            ctx["aspects"] = ",".join(turn.aspects)
        # A status ("还没弄积分管理") answers the turn that states it; it is not a fact about
        # who the conversation is about, so it does not follow into later questions.
        kept = {p for p in turn.populations if self._groups.get(p) != "status"}
        ctx["pops"] = ",".join(sorted(kept)) or None
        if turn.birth is not None:
            ctx["birth"] = turn.birth.first.isoformat()
            ctx["birth_last"] = turn.birth.last.isoformat()
            ctx["birth_phrase"] = turn.birth.phrase[:20]
        for key in [k for k, v in ctx.items() if v is None]:
            del ctx[key]

    @staticmethod
    def _said(session: Session) -> list[str]:
        raw = session.context.get("said")
        return raw.split(SAID_SEP) if isinstance(raw, str) and raw else []

    # ---------------------------------------------------------------- deciding
    def answer(
        self,
        session: Session,
        text: str,
        today: date,
        render: Renders,
        turn: Turn | None = None,
    ) -> list[Reply] | Match | None:
        """Decide a free-text turn. With `turn` given, the caller has read the message and
        remembers it; without, the clerk reads and remembers it itself."""
        self._rank_memo.clear()
        if turn is not None:
            return self._decide(session, turn, today, render)
        turn = self.read(session, text, today)
        replies = self._decide(session, turn, today, render)
        self.remember(session, turn)
        return replies

    def _decide(
        self, session: Session, turn: Turn, today: date, render: Renders
    ) -> list[Reply] | Match | None:
        frame = turn.frame
        if turn.elsewhere:
            # Another city's question: the matcher's related snippets or "not covered"; an
            # answer from the pages' own process ("杭州积分入医") would be another city's.
            match = self.matcher.match(turn.raw, MatchContext())
            entry = self.kb.entries.get(match.entry_id or "")
            if match.kind == "answer" and entry is not None and entry.group == "core":
                return self.matcher.not_covered(turn.raw)
            return match
        if frame.act is not None and not turn.stated:
            return [Reply(text=self.kb.text(f"act_{frame.act}"), state=outcomes.state(Outcome.ACT))]
        if frame.correction and not turn.aspects and turn.stated:
            # "不对 是初二" with no question before it: the fact is taken, nothing guessed.
            return [Reply(text=self._context_ack(turn), state=outcomes.state(Outcome.ACT))]
        guard = self._guard(turn)
        if guard is not None:
            return [Reply(text=self.kb.text(guard), state=outcomes.state(Outcome.GUARD))]
        asks = frame.yes_no or "eligibility" in turn.aspects
        if turn.city is not None and asks:
            # Facts stated a turn or two before count too ("以前参加过学生医保" then "还能走
            # 积分入医吗"): the flow reads them with this message.
            said = SAID_SEP.join([*self._said(session), frame.text])
            decided = render.decided_flow(session, turn.city, said, today)
            if decided is not None:
                return decided
        if frame.next_step and session.last_entry in self.kb.entries:
            nxt = self.kb.entries[session.last_entry].next
            if nxt is None:
                return [
                    Reply(text=self.kb.text("next_none"), state=outcomes.state(Outcome.ABSTAIN))
                ]
            return [render.entry_reply(session, nxt, today)]
        birth_city = self._birth_city(turn, render)
        if birth_city is not None:
            verdict = self._birth_verdict(turn, birth_city, today, render)
            if verdict is not None:
                return verdict
        if turn.both:
            per_city = self._per_city(turn, session, today, render)
            if per_city:
                return per_city
        match = self.matcher.match(
            turn.raw, MatchContext(city=turn.city, topic=session.topic, entry=session.last_entry)
        )
        if match.kind == "out_of_scope":
            return match
        if match.kind != "answer" and turn.stated and self._statement(turn):
            return [Reply(text=self._context_ack(turn), state=outcomes.state(Outcome.ACT))]
        chosen = self._choose(turn, session, match.entry_id if match.kind == "answer" else None)
        if not chosen:
            if match.kind != "answer" and self._sure_of_aspect(turn) and not turn.stated:
                return self._abstain(turn, session)
            if match.kind == "answer" and self._other_city(match.entry_id, turn):
                # Never the other city's process for this city's question: not covered.
                return replace(match, kind="unknown", entry_id=None)
            return match
        when = turn.when.first if turn.when is not None else None
        replies = [render.entry_reply(session, e, today, when) for e in chosen]
        if turn.switched and match.kind == "answer" and self._other_city(match.entry_id, turn):
            # "天津也要积分吗" after Suzhou: the word belongs to the other city's process;
            # say that this city's page describes its own way, then that way.
            label = self.kb.ui.get(f"city_{turn.city}", turn.city)
            head = self.kb.text("compare_other", city=label)
            replies[0] = replace(replies[0], text=f"{head}\n{replies[0].text}")
        if birth_city is not None and turn.birth is not None and set(turn.aspects) & HOW_ASPECTS:
            verdict = self._birth_verdict(
                replace(turn, aspects=("deadline",)), birth_city, today, render
            )
            replies += verdict or []
        year = self._other_year(turn)
        if year is not None:
            head = self.kb.text("guard_year", covered=year[0], year=year[1])
            replies[0] = replace(replies[0], text=f"{head}\n{replies[0].text}")
        return replies

    def _choose(self, turn: Turn, session: Session, matched: str | None) -> list[str]:
        """The entries to answer with: the matcher's pick unless the frame says it answers
        another aspect or another population; the frame's entries when the matcher has none.
        A day asked about ("五一那几天", "下个月呢") goes to the entry whose dated note
        computes that day's verdict."""
        if turn.when is not None and turn.city is not None:
            dated = self._dated_entry(turn)
            if dated is not None:
                return [dated]
        if matched is not None and self._other_city(matched, turn):
            matched = None
            if turn.switched and turn.inherited:
                # "天津也要积分吗": the other city's step does not carry over; its way does.
                turn = replace(turn, aspects=("steps",))
        candidates = self._entries(turn, session)
        if matched is None:
            return candidates if turn.city is not None else []
        entry = self.kb.entries[matched]
        strong = (
            [a for a in turn.aspects if self.vocab.aspects[a].rank >= STRONG_RANK]
            if not turn.inherited
            else list(turn.aspects)
        )
        off_aspect = bool(strong) and not set(entry.aspects) & set(strong)
        if not off_aspect and candidates and not set(entry.aspects) & set(turn.aspects):
            # A weak aspect ("能参保吗") still prefers an entry written for the population
            # stated over a keyword pick that answers neither the aspect nor the population.
            off_aspect = self._specific(candidates[0], turn) > self._specific(matched, turn)
        year = str(turn.frame.year or "")
        year_better = (
            bool(year)
            and bool(candidates)
            and (
                self.kb.entries[candidates[0]].applies_to.startswith(year)
                and not entry.applies_to.startswith(year)
            )
        )
        if candidates and (off_aspect or year_better or not self._fits(entry, turn)):
            return candidates
        if not self._fits(entry, turn):
            # The keyword pick answers for another population ("外地户籍在天津上学" to a
            # Tianjin-hukou child): the best-scoring entry that fits, or nothing.
            return self._fitting(turn, session)
        out = [matched]
        if len(turn.aspects) > 1:  # a compound question: the other part too
            out += [
                c
                for c in candidates
                if c != matched and not set(self.kb.entries[c].aspects) & set(entry.aspects)
            ]
        if turn.when is not None or turn.frame.yes_no or turn.frame.year is not None:
            return out
        return out if len(out) > 1 else []

    def _other_city(self, entry_id: str | None, turn: Turn) -> bool:
        """The keyword pick is about a city other than the one asked about, and the message
        does not name that city (a 深圳 snippet for a question about 北海's materials)."""
        entry = self.kb.entries.get(entry_id or "")
        return (
            entry is not None
            and turn.city is not None
            and entry.city not in (turn.city, GENERAL)
            and (entry.group == "core" or entry.city not in turn.mentioned)
        )

    def _per_city(self, turn: Turn, session: Session, today: date, render: Renders) -> list[Reply]:
        """Both cities named ("天津和苏州外地孩子参保有什么区别"): each city's own answer
        for the question's aspect (how to enrol when none is named), one after the other."""
        out: list[Reply] = []
        missing: list[str] = []
        aspects = turn.aspects or ("steps",)
        for city in self.cities:
            ids = self._entries(replace(turn, city=city, aspects=aspects), session)
            if ids:
                out.append(render.entry_reply(session, ids[0], today))
            else:
                missing.append(city)
        if not out:
            return []
        for city in missing:  # "天津和苏州各交多少": only Tianjin's page gives a figure
            label = self.kb.ui.get(f"city_{city}", city)
            what = self.vocab.aspects[aspects[0]].name
            text = self.kb.text("abstain_city_aspect", city=label, what=what)
            out.append(Reply(text=text, state=outcomes.state(Outcome.ABSTAIN)))
        return out

    # ---------------------------------------------------------------- parts
    def _statement(self, turn: Turn) -> bool:
        """A statement of context ("我在苏州上班，老家河南的"): no aspect, no question word."""
        text = turn.frame.text
        return not turn.frame.aspects and not any(w in text for w in self.vocab.question_words)

    def _context_ack(self, turn: Turn) -> str:
        """ "我在苏州上班，老家河南的": what was understood, and an invitation to ask."""
        label = self.kb.ui.get(f"city_{turn.city}") if turn.city else None
        if label is None:
            return self.kb.text("act_context_none")
        return self.kb.text("act_context", facts=label)

    def _guard(self, turn: Turn) -> str | None:
        for guard in self.vocab.guards:
            if guard.city is not None and guard.city != turn.city:
                continue
            if guard.any_population and not (turn.populations & set(guard.any_population)):
                continue
            if turn.populations & set(guard.no_population):
                continue
            return guard.reply
        return None

    def _other_year(self, turn: Turn) -> tuple[int, int] | None:
        year = turn.frame.year
        covered = self.vocab.years.get(turn.city or "")
        if year is None or not covered or year in covered:
            return None
        if turn.birth is not None and turn.birth.first.year == year:
            return None  # a birth date's year, not a question about another year's rules
        return covered[-1], year

    def _birth_city(self, turn: Turn, render: Renders) -> str | None:
        """The city whose birth-date rule (Tianjin's 90 days) judges this turn: the turn's
        city if its flow has one, or the only such city for a newborn named with no city."""
        cities = render.birth_rule_cities()
        if turn.city in cities:
            return turn.city
        if turn.city is None and turn.birth and "newborn" in turn.populations and len(cities) == 1:
            return next(iter(cities))
        return None

    def _birth_verdict(
        self, turn: Turn, city: str, today: date, render: Renders
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
        return (
            None
            if text is None
            else [Reply(text=text, state=outcomes.state(Outcome.VERDICT, "deadline"))]
        )

    def _entries(self, turn: Turn, session: Session) -> list[str]:
        """Entries answering each aspect of the frame for its city and population."""
        if turn.city is None or not turn.aspects:
            return []
        ranked = self._ranked(turn, session)
        out: list[str] = []
        for aspect in turn.aspects:
            candidates = [
                e
                for e in self.kb.entries.values()
                if e.city == turn.city and aspect in e.aspects and self._fits(e, turn)
            ]
            if not candidates:
                continue
            best = max(candidates, key=lambda e: self._preference(e, aspect, turn, ranked))
            if best.id not in out:
                out.append(best.id)
        return out

    def _fitting(self, turn: Turn, session: Session) -> list[str]:
        """The highest-scoring entry of the turn's city whose population fits the turn."""
        ranked = self._ranked(turn, session)
        for entry_id in sorted(ranked, key=ranked.__getitem__, reverse=True):
            entry = self.kb.entries.get(entry_id)
            if entry is not None and entry.city == turn.city and self._fits(entry, turn):
                return [entry_id] if ranked[entry_id] > 0 else []
        return []

    def _dated_entry(self, turn: Turn) -> str | None:
        """The city's entry with a dated note for the turn's aspect (else its "time" one)."""
        dated = [e for e in self.kb.entries.values() if e.city == turn.city and e.dated]
        for aspect in (*turn.aspects, "time"):
            for entry in dated:
                if entry.aspects[0] == aspect:
                    return entry.id
        return None

    def _ranked(self, turn: Turn, session: Session) -> dict[str, float]:
        """Keyword scores of every entry for the turn's text in its city (memoised for the
        turn being decided: choosing, fitting and abstaining all ask for them)."""
        key = (turn.frame.text, turn.city, session.topic, session.last_entry)
        cached = self._rank_memo.get(key)
        if cached is None:
            query = self.matcher.analyze(turn.frame.text)
            ctx = MatchContext(city=turn.city, topic=session.topic, entry=session.last_entry)
            docs = self.matcher.doc_ids
            cached = {docs[i]: score for score, i in self.matcher.scores(query, ctx)}
            self._rank_memo[key] = cached
        return cached

    def _fits(self, entry: Entry, turn: Turn) -> bool:
        """Every population dimension both sides name agrees (an entry for "all" fits)."""
        if "all" in entry.population:
            return True
        for group in ("age", "hukou"):
            mine = {p for p in turn.populations if self._groups.get(p) == group}
            theirs = {p for p in entry.population if self._groups.get(p) == group}
            if mine and theirs and not self._age_match(mine, theirs):
                return False
        return True

    @staticmethod
    def _age_match(mine: set[str], theirs: set[str]) -> bool:
        school = {"kinder", "primary", "junior", "senior"}
        widened = set(mine) | ({"student"} if mine & school else set())
        return bool(widened & theirs)

    def _preference(
        self, entry: Entry, aspect: str, turn: Turn, ranked: dict[str, float]
    ) -> tuple[float, ...]:
        specific = len(turn.populations & set(entry.population))
        primary = 1.0 if entry.aspects[0] == aspect else 0.0
        core = 1.0 if entry.group == "core" else 0.0
        year = turn.frame.year
        dated = 0.0
        if year is not None and str(year) in entry.applies_to:
            dated = 2.0 if entry.applies_to.startswith(str(year)) else 1.0
        # An entry written for the population stated ("天津户籍在外地上学") beats the
        # general one for the same aspect; among equals the entry's main aspect, then words.
        return (core, dated, float(specific), primary, ranked.get(entry.id, 0.0))

    def _specific(self, entry_id: str, turn: Turn) -> int:
        entry = self.kb.entries[entry_id]
        return len(turn.populations & set(entry.population))

    def _sure_of_aspect(self, turn: Turn) -> bool:
        return turn.city is not None and bool(turn.aspects) and not turn.inherited

    def _abstain(self, turn: Turn, session: Session) -> list[Reply] | None:
        aspect = turn.aspects[0]
        name = self.vocab.aspects[aspect].name
        ranked = self._ranked(turn, session)
        ids = [i for i in ranked if i in self.kb.entries][:MAX_SUGGESTIONS]
        body = self.kb.text("abstain_aspect", what=name)
        rows = tuple((Button(self.kb.entries[i].title, cb.entry(i)),) for i in ids)
        return [Reply(text=body, buttons=rows, state=outcomes.state(Outcome.ABSTAIN))]
