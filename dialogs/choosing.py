"""Frame -> entries: which curated entries answer a turn.

Entries carry the aspects and the population they answer (knowledge/data/*.yaml), so the
turn's aspects, city and population choose them; the keyword matcher's pick is kept only when
it fits all three, and its scores only break ties. A day asked about goes to the entry whose
dated note computes that day's verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from dialogs.dated_entries import DatedEntries
from dialogs.dialogue import Turn
from dialogs.keywords_said import GENERAL, KeywordsSaid
from dialogs.pointing import PointingBack
from dialogs.session import Session
from knowledge.analysis import Query
from knowledge.frame import FrameReader
from knowledge.loader import KnowledgeBase
from knowledge.matcher import MatchContext, Matcher
from knowledge.schema import Entry, Understanding

STRONG_RANK = 5  # aspects at least this specific may overrule the matcher's pick


class EntryChooser:
    def __init__(
        self,
        kb: KnowledgeBase,
        vocab: Understanding,
        matcher: Matcher,
        reader: FrameReader | None = None,
    ) -> None:
        self.kb = kb
        self.vocab = vocab
        self.matcher = matcher
        self.groups = {name: spec.group for name, spec in vocab.populations.items()}
        self._rank_memo: dict[tuple[str, str | None, str | None, str | None], dict[str, float]] = {}
        self._query_memo: dict[str, Query] = {}
        # One frame reader (and its cache) for the clerk: the dialogue's, when given.
        reader = reader or FrameReader(vocab)
        self.pointing = PointingBack(kb, vocab, matcher.lexicon.city_names, self._query, reader)
        self.dated = DatedEntries(kb)
        self.keywords = KeywordsSaid(kb, vocab, matcher.lexicon.city_names)
        self.names_keyword = self.keywords.names
        self.other_process = self.keywords.other_process

    def new_turn(self) -> None:
        """Forget the keyword scores and the analysis memoised for the previous turn."""
        self._rank_memo.clear()
        self._query_memo.clear()

    def choose(self, turn: Turn, session: Session, matched: str | None) -> list[str]:
        """The entries to answer with: the matcher's pick unless the frame says it answers
        another aspect or another population; the frame's entries when the matcher has none.
        A day asked about ("五一那几天", "下个月呢") goes to the entry whose dated note
        computes that day's verdict."""
        dated = self.dated.pick(turn, session)
        if dated is not None:
            return [dated]
        if matched is not None and self.other_city(matched, turn):
            theirs = self.kb.entries[matched]
            own_word = theirs.group == "core" and self.names_keyword(theirs, turn, own=True)
            matched = None
            if (turn.switched and turn.inherited) or own_word:
                # "天津也要积分吗": the other city's step does not carry over; its way does.
                turn = replace(turn, aspects=("steps",))
        snippet = self.pointing.on_snippet(turn, session)
        if snippet is not None:
            return [snippet]
        turn, candidates = self._candidates(turn, session)
        stay = self._stays(turn, session, matched)
        if stay is not None:
            return [stay]
        if matched is None:
            return candidates if turn.city is not None else []
        if candidates and turn.inherited and turn.frame.correction:
            return candidates  # "不对，其实是苏州工业园区": the question asked, for the new facts
        entry = self.kb.entries[matched]
        named = self.names_keyword(entry, turn)
        closer = bool(candidates) and self.specific(candidates[0], turn) > self.specific(
            matched, turn
        )
        if closer and turn.inherited and turn.frame.followup:
            return candidates  # "老三刚出生呢" of a non-local family: the entry for who it is
        if turn.inherited and named and self.fits(entry, turn) and not closer:
            # "要拍照吗" after where to apply: the message names what the pick is about
            # (拍照 → the acceptance step), not the aspect asked before — unless the frame's
            # entry is the one for who it is about ("老三刚出生呢" of a non-local family).
            return [matched]
        if candidates and not named and self._primary_named(candidates[0], entry, turn):
            return candidates  # "流程": the entry that is about the steps, not one that has some
        if closer and self.specific(matched, turn) == 0:
            # "医保去哪办" for a town child not in school: the entry written for that child,
            # over a general one the words picked.
            return candidates
        off_aspect = self._off_aspect(entry, candidates, turn, session)
        if off_aspect and not candidates and self.by_chance(entry.id, turn):
            return []  # a news snippet that shares words only ("在天津还要积分吗" is no 备案)
        year_better = bool(candidates) and (
            self._year_better(candidates[0], entry, turn)
            or self._one_year_only(entry, candidates[0], turn)
        )
        if candidates and (off_aspect or year_better or not self.fits(entry, turn)):
            return candidates
        if not self.fits(entry, turn):
            # The keyword pick answers for another population ("外地户籍在天津上学" to a
            # Tianjin-hukou child): the best-scoring entry that fits, or nothing.
            return self.fitting(turn, session)
        return self._with_other_parts(entry, candidates, turn)

    def _with_other_parts(self, entry: Entry, candidates: list[str], turn: Turn) -> list[str]:
        """The keyword pick, with the frame's entries for the other parts of a compound
        question; a pick alone stands only for a day, a yes/no or a year asked."""
        out = [entry.id]
        if len(turn.aspects) > 1:  # a compound question: the other part too
            missing = set(turn.aspects) - set(entry.aspects[:1])
            out += [
                c for c in candidates if c != entry.id and set(self.kb.entries[c].aspects) & missing
            ]
        if turn.when is not None or turn.frame.yes_no or turn.frame.year is not None:
            return out
        asked = turn.aspects[:1]
        if asked and asked[0] in entry.verdicts and self.vocab.aspects[asked[0]].verdict_any:
            return out  # "先办哪个": the entry's verdict says the order first
        return out if len(out) > 1 else []

    def _candidates(self, turn: Turn, session: Session) -> tuple[Turn, list[str]]:
        """The frame's entries; on a switch of city with none for the conversation's child,
        those for whom the other page is written ("苏州也一样吗" after a Tianjin baby's 居住证:
        the other city's answer to the same question)."""
        candidates = self.entries(turn, session)
        if not candidates and turn.switched and turn.inherited:
            turn = replace(turn, populations=turn.frame.populations)
            candidates = self.entries(turn, session)
        bound = turn.aspects[:1] and turn.aspects[0] in self.vocab.population_bound
        if not candidates and bound and turn.frame.yes_no:
            # "天津那边的医保还能上吗" for a pupil studying elsewhere: no day is written for
            # that child, whose way is the answer (the newborns' 90 days are not theirs).
            turn = replace(turn, aspects=("steps",))
            candidates = self.entries(turn, session)
        if not candidates and turn.switched and not turn.aspects:
            # "苏州呢" after a flow's answer, nothing asked before it: that city's way.
            turn = replace(turn, aspects=("steps",))
            candidates = self.entries(turn, session)
        return turn, candidates

    def _off_aspect(
        self, entry: Entry, candidates: list[str], turn: Turn, session: Session
    ) -> bool:
        """The keyword pick answers another aspect than the one asked (a strong aspect, or
        any inherited one), or the frame's entry is written for the population and the pick
        is not."""
        strong = (
            [a for a in turn.aspects if self.vocab.aspects[a].rank >= STRONG_RANK]
            if not turn.inherited
            else list(turn.aspects)
        )
        words = self.vocab.aspects
        strong = [a for a in strong if not self.keywords.inside(entry, turn, words[a].words)]
        if strong and not set(entry.aspects) & set(strong):
            return True
        if not candidates:
            return False
        if not set(entry.aspects) & set(turn.aspects) and self.specific(
            candidates[0], turn
        ) > self.specific(entry.id, turn):
            # A weak aspect ("能参保吗") still prefers an entry written for the population
            # stated over a keyword pick that answers neither the aspect nor the population.
            return True
        # "我们住天津市区，医保去哪办" after the way for a child not in school: that way
        # answers where for that child, not the general address list for newborns; so does
        # a correction of who it is about ("搞错了，我们是天津户口").
        return turn.aspects[0] in self.kb.entries[candidates[0]].aspects and self._closer(
            candidates[0], entry.id, turn, session
        )

    def _primary_named(self, candidate: str, entry: Entry, turn: Turn) -> bool:
        """The frame's entry is about the aspect asked (its first aspect) and the message
        names one of its keywords; the keyword pick only touches that aspect."""
        theirs = self.kb.entries[candidate]
        asked = turn.aspects[0]
        return theirs.aspects[0] == asked != entry.aspects[0] and self.names_keyword(theirs, turn)

    def _closer(self, candidate: str, matched: str, turn: Turn, session: Session) -> bool:
        """The frame's entry is written for the conversation's population and the keyword
        pick is not: the answer just given, or after a correction of who it is about."""
        mine, theirs = self.specific(candidate, turn), self.specific(matched, turn)
        if turn.frame.correction:
            return mine > theirs
        if turn.frame.yes_no and mine > theirs and self._judges(candidate, turn):
            # "还能参加吗" for a child not in school: the entry that can say yes or no for
            # that child, over the general list of who may enrol.
            return not self._judges(matched, turn)
        return candidate == session.last_entry and theirs == 0 < mine

    def by_chance(self, entry_id: str, turn: Turn) -> bool:
        """A news snippet picked for a question with a strong aspect of its own that the
        snippet does not answer: it shares words with the question, not its subject."""
        entry = self.kb.entries[entry_id]
        strong = [a for a in turn.aspects if self.vocab.aspects[a].rank >= STRONG_RANK]
        return (
            entry.group == "related"
            and not turn.inherited
            and bool(strong)
            and not set(strong) & set(entry.aspects)
        )

    def _judges(self, entry_id: str, turn: Turn) -> bool:
        return any(a in self.kb.entries[entry_id].verdicts for a in turn.aspects)

    def _year_better(self, candidate: str, entry: Entry, turn: Turn) -> bool:
        """The frame's entry states the year asked about and the keyword pick does not."""
        year = str(turn.frame.year or "")
        return bool(year) and (
            self.kb.entries[candidate].applies_to.startswith(year)
            and not entry.applies_to.startswith(year)
        )

    def _one_year_only(self, entry: Entry, candidate: str, turn: Turn) -> bool:
        """The keyword pick is one year's notice (2017), no year is asked, and the frame's
        entry states the rule every year follows."""
        theirs = self.kb.entries[candidate].applies_to
        return (
            turn.frame.year is None and entry.applies_to[:4].isdigit() and not theirs[:4].isdigit()
        )

    def _stays(self, turn: Turn, session: Session, matched: str | None) -> str | None:
        """The entry just answered, when the turn asks about it again: a weak question about
        it ("外省户口长期住天津的孩子算吗" after the list of who may enrol), or a follow-up
        that inherits its aspect with no pick of the matcher ("还有别的渠道吗")."""
        last = self.kb.entries.get(session.last_entry or "")
        if last is None or last.city != turn.city:
            return None
        if not turn.switched and self.pointing.asks_issuer(last, turn):
            return last.id  # "去哪开" after the 计生证明: that answer says who issues it
        said = turn.frame.text.replace(" ", "")
        # "在它里面哪个栏目办" asks of the same thing; "它能给外地户口的新生儿办吗" asks for
        # someone new, which the frame's own entry answers.
        pronoun = not turn.frame.populations and any(w in said for w in self.vocab.pronouns)
        # "它能办异地就医备案吗" after the app: a strong aspect the answer does not cover is
        # asked of the thing, and an entry of that aspect answers it ("在它里面哪里办" stays).
        other = [a for a in turn.frame.aspects if a not in last.aspects]
        # "那个回执拿到了，是不是就算批下来了" asks whether it passed (another strong aspect).
        strong_other = any(self.vocab.aspects[a].rank > STRONG_RANK for a in other)
        back = self.pointing.back(last, turn) or self.pointing.choice(last, turn)
        if not turn.switched and self.fits(last, turn) and not strong_other and (pronoun or back):
            return last.id  # whatever aspect its words suggest ("那个第三方代办系统是啥")
        if turn.aspects and self.vocab.aspects[turn.aspects[0]].of_answer and not turn.switched:
            return last.id  # "你确定吗？有依据吗": that answer, with its source
        if (
            not turn.aspects
            or not set(last.aspects) & set(turn.aspects)
            or not self.fits(last, turn)
        ):
            return None
        weak = all(self.vocab.aspects[a].rank < STRONG_RANK for a in turn.aspects)
        if weak and not turn.switched and turn.aspects[0] in last.aspects:
            return last.id
        asked = (turn.frame.aspects or turn.aspects)[0]  # "…回执…就算批下来了吗": whether it passed
        if not turn.switched and asked in last.aspects and self.names_keyword(last, turn):
            # "去学校办手续要带什么" after what comes once approved: the message names that
            # answer's own subject, and the answer covers what is asked about it.
            return last.id
        if matched is None and turn.inherited:
            return last.id
        return None

    def other_city(self, entry_id: str | None, turn: Turn) -> bool:
        """The keyword pick is about a city other than the one asked about, and the message
        does not name that city (a 深圳 snippet for a question about 北海's materials)."""
        entry = self.kb.entries.get(entry_id or "")
        return (
            entry is not None
            and turn.city is not None
            and entry.city not in (turn.city, GENERAL)
            and (entry.group == "core" or entry.city not in turn.mentioned)
        )

    def entries(self, turn: Turn, session: Session) -> list[str]:
        """Entries answering each aspect of the frame for its city and population."""
        if turn.city is None or not turn.aspects:
            return []
        ranked = self.ranked(turn, session)
        out: list[str] = []
        covered = self.vocab.coverage.get(turn.city, [])
        for asked in turn.aspects:
            instead = self.vocab.aspects[asked].instead
            aspect = instead if instead and asked not in covered else asked
            candidates = [
                e
                for e in self.kb.entries.values()
                if e.city == turn.city and aspect in e.aspects and self.fits(e, turn)
            ]
            if not candidates:
                continue
            best = max(candidates, key=lambda e: self._preference(e, aspect, turn, ranked))
            if best.id not in out:
                out.append(best.id)
        return out

    def fitting(self, turn: Turn, session: Session) -> list[str]:
        """The highest-scoring entry of the turn's city whose population fits the turn."""
        ranked = self.ranked(turn, session)
        for entry_id in sorted(ranked, key=ranked.__getitem__, reverse=True):
            entry = self.kb.entries.get(entry_id)
            if entry is not None and entry.city == turn.city and self.fits(entry, turn):
                return [entry_id] if ranked[entry_id] > 0 else []
        return []

    def ranked(self, turn: Turn, session: Session) -> dict[str, float]:
        """Keyword scores of every entry for the turn's text in its city (memoised for the
        turn being decided: choosing, fitting and abstaining all ask for them)."""
        key = (turn.frame.text, turn.city, session.topic, session.last_entry)
        cached = self._rank_memo.get(key)
        if cached is None:
            query = self._query(turn)
            ctx = MatchContext(city=turn.city, topic=session.topic, entry=session.last_entry)
            docs = self.matcher.doc_ids
            cached = {docs[i]: score for score, i in self.matcher.scores(query, ctx)}
            self._rank_memo[key] = cached
        return cached

    def _query(self, turn: Turn) -> Query:
        """The turn's text as the matcher reads it, analysed once per turn (ranking, pointing
        back and snippet follow-ups all read it)."""
        cached = self._query_memo.get(turn.frame.text)
        if cached is None:
            cached = self.matcher.analyze(turn.frame.text)
            self._query_memo[turn.frame.text] = cached
        return cached

    def fits(self, entry: Entry, turn: Turn) -> bool:
        """Every population dimension both sides name agrees (an entry for "all" fits), and
        a condition the entry is only for (`stated_only`) has been stated."""
        if "all" in entry.population:
            return True
        if any(p not in turn.populations for p in self.vocab.stated_only if p in entry.population):
            return False
        for group in set(self.groups.values()):
            mine = {p for p in turn.populations if self.groups.get(p) == group}
            theirs = {p for p in entry.population if self.groups.get(p) == group}
            if mine and theirs and not self.widened(mine) & theirs:
                return False
        return True

    def widened(self, populations: Iterable[str]) -> set[str]:
        """The populations and what each also counts as (understanding.yaml `widen`)."""
        out = set(populations)
        for p in list(out):
            out.update(self.vocab.widen.get(p, ()))
        return out

    def _preference(
        self, entry: Entry, aspect: str, turn: Turn, ranked: dict[str, float]
    ) -> tuple[float, ...]:
        specific = float(len(self.widened(turn.populations) & set(entry.population)))
        # A condition the entry assumes and the turn does not state (a 户籍 nobody said)
        # counts against it: the general entry answers a question that leaves it open. A
        # group with a `stated_only` value (no_permit) has a default (permit): not assumed.
        stated = {self.groups.get(p) for p in (*turn.populations, *self.vocab.stated_only)}
        values = [p for p in entry.population if p != "all"]
        # Two values of a group that are not kinds of one another (local and nonlocal) leave
        # it open; kinder, primary … with student all assume a child in school.
        roots = [p for p in values if not set(self.vocab.widen.get(p, ())) & set(values)]
        groups = [self.groups.get(p) for p in roots]
        assumed = {g for g in groups if groups.count(g) == 1} - stated
        specific -= len(assumed)
        primary = 1.0 if entry.aspects[0] == aspect else 0.0
        core = 1.0 if entry.group == "core" else 0.0
        year = turn.frame.year
        dated = 0.0
        if year is not None and str(year) in entry.applies_to:
            dated = 2.0 if entry.applies_to.startswith(str(year)) else 1.0
        elif year is None and entry.applies_to[:4].isdigit():
            dated = -1.0  # one year's notice (2017) is not the rule every year follows
        # An entry written for the population stated ("天津户籍在外地上学") beats the
        # general one for the same aspect; among equals the entry's main aspect, then words.
        return (core, dated, float(specific), primary, ranked.get(entry.id, 0.0))

    def specific(self, entry_id: str, turn: Turn) -> int:
        entry = self.kb.entries[entry_id]
        return len(self.widened(turn.populations) & set(entry.population))
