"""The dialogue state: what a message means in its conversation.

A message alone is often half a question ("后天呢", "苏州也一样吗", "不对 是10月3日", "要什么
材料"). `DialogueReader.read` merges the message's frame (`knowledge.frame`) with what the
conversation already established, kept small and JSON-flat in `session.context`: the city,
the aspects last asked, who it is about, a stated birth day, the other city a news snippet
was about, and the last two messages (masked) for facts a flow may read. What the message
says replaces the old value (a correction); what it leaves out is inherited. `remember`
writes the merged state back. Erased by /forget and with the session's idle expiry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from dialogs.hukou import RelativeHukou
from dialogs.inheritance import asks_what_now, inherited_aspects, only_implied, with_note
from dialogs.rules.counting import children_count
from dialogs.rules.dates import DaySpan
from dialogs.said_days import SaidDays
from dialogs.session import Session
from dialogs.stores.records import redact
from knowledge.analysis import Query
from knowledge.frame import Frame, FrameReader
from knowledge.matcher import Matcher
from knowledge.schema import Understanding

SAID_TURNS, SAID_CHARS, SAID_SEP = 2, 120, "\n"  # earlier messages kept for their facts
SHORT = 8  # characters: a message this short leans on the one before
# What a bare why says around its word ("那为啥会这样呢？"); under two characters left of a
# why, it asks of the answer just given.
WHY_FILLER = "啊呀吧呢哦噢嘛啦哈了的嗯那？?！!。，,~ 会这样是要就还又不行能可以"
MIN_WHY_OF = 2
STUDY_GAP = 6  # characters after another city's name where a study word makes it a school
SIBLING_CLAUSE = re.compile(r"[\s，,。；;！!？?、]+")  # one child per clause: "老二刚出生"

# One family's case in the context: another family's ("第二家：…") forgets them.
CASE_KEYS = (
    "pops",
    "birth",
    "birth_last",
    "birth_phrase",
    "children",
    "item",
    "origin",
    "paid",
)


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
    children: int | None = None  # how many children (2+), said now or earlier ("双胞胎")
    paid: date | None = None  # the day the fee was (or will be) paid ("3月10号交的钱")
    cared_away: bool = False  # care in another city asked of this one ("在北京看病")
    studies_away: bool = False  # school in another city, asked of this one ("在北京念书")


@dataclass(frozen=True)
class _Cities:
    named: str | None  # the one covered city the message names (or implies)
    by_name: frozenset[str]  # covered cities named by name, not only implied
    core: frozenset[str]  # covered cities named or implied
    previous: str | None  # the conversation's city before this message
    city: str | None  # the turn's city


def said(session: Session) -> list[str]:
    """The last messages kept (masked), oldest first."""
    raw = session.context.get("said")
    return raw.split(SAID_SEP) if isinstance(raw, str) and raw else []


# The parts of a message naming both cities: "天津新生儿和苏州积分入医" is two.
BOTH_CLAUSES = re.compile(r"[\s，,。；;！!？?、和与跟及]+")


class DialogueReader:
    def __init__(self, vocab: Understanding, matcher: Matcher) -> None:
        self.vocab = vocab
        self.matcher = matcher
        self.reader = FrameReader(vocab)
        self._what_now = frozenset(vocab.what_now)
        self.days = SaidDays(vocab)
        self.holidays = self.days.holidays
        self._siblings = sorted(vocab.sibling_words, key=len, reverse=True)
        self.groups = {name: spec.group for name, spec in vocab.populations.items()}
        self.cities = matcher.lexicon.cities  # the covered cities, in declared order
        self._names = {
            c: [n for n, cid in matcher.lexicon.city_names.items() if cid == c]
            for c in set(matcher.lexicon.city_names.values())
        }
        self.relative_hukou = RelativeHukou(vocab, self.cities, self._names).read

    # ---------------------------------------------------------------- reading
    def read(self, session: Session, text: str, today: date) -> Turn:
        surface = self.matcher.normalizer.surface(text)
        frame = self._why_of_thing(self.reader.read(surface))
        ctx = session.context
        query = self.matcher.analyze(text)
        cities = self._cities(surface, query, session)
        studies_away = self._goes_away(surface, query, cities, self.vocab.study_words)
        cared_away = not studies_away and self._goes_away(
            surface, query, cities, self.vocab.care_words
        )
        if studies_away or cared_away:
            cities = replace(cities, city=cities.previous)
        if studies_away:  # "今年转去北京上学了": who studies away, whatever was said before
            frame = with_note(self.reader, self.groups, frame, self.vocab.away_study_note)
        if cities.city is None and not query.cities:
            by_aspect = self._city_of_aspects(frame.aspects)
            if by_aspect is not None and self.matcher.implied_cities(query) <= {by_aspect}:
                cities = replace(cities, city=by_aspect)
        leans = (
            frame.followup
            or frame.correction
            or frame.compare
            or frame.yes_no
            or len(surface) <= SHORT
        )
        what_now = asks_what_now(surface, self._what_now)  # "咋办": the subject still
        aspects, inherited = inherited_aspects(frame, ctx, leans, cities.named, what_now)
        care = self.vocab.away_care_aspect
        if cared_away and all(  # "要是在北京看病要提前弄什么": care elsewhere
            self.vocab.aspects[a].rank < self.vocab.aspects[care].rank for a in frame.aspects
        ):
            aspects, inherited = (care,), False
        if frame.year is None and "cost" in aspects:  # "明年也是这个价吗" after the fee
            frame = replace(frame, year=self._relative_year(surface, today))
        birth, when, corrected = self.days.read(text, surface, frame, session, today)
        raw, elsewhere, away = self._away(text, query, cities, ctx, leans or not frame.aspects)
        if studies_away:
            raw, elsewhere, away = f"{text} {self.vocab.away_study_note}", False, None
        elif cared_away:
            raw, elsewhere, away = f"{text} {self.vocab.away_care_note}", False, None
        return Turn(
            frame,
            cities.city,
            aspects,
            self._populations(frame, surface, cities, session),
            inherited,
            len(cities.by_name) == 2 or self._both_again(surface, cities, ctx),
            bool(cities.named and cities.previous and cities.named != cities.previous),
            elsewhere,
            bool(cities.named or frame.populations),
            birth,
            when,
            raw,
            corrected,
            away,
            query.cities,
            self._children(surface, ctx),
            self.days.paid(text, today, ctx, when is not None),
            cared_away and aspects == (care,),
            studies_away,
        )

    def _children(self, surface: str, ctx: Mapping[str, object]) -> int | None:
        """How many children: said now ("是仨孩子" corrects "俩"), else said before."""
        said_now = children_count(
            surface.replace(" ", ""), self.vocab.child_words, self.vocab.multiple_births
        )
        if said_now is not None:
            return said_now
        before = ctx.get("children")
        return int(before) if isinstance(before, int | str) and str(before).isdigit() else None

    def _goes_away(self, surface: str, query: Query, cities: _Cities, words: Sequence[str]) -> bool:
        """Another city named as where the child goes to school ("转去北京上学了") or is
        treated ("要是在北京看病") while the conversation is about a covered city and the
        message names no covered city."""
        others = query.cities - cities.core
        if not others or cities.core or cities.previous not in self.cities:
            return False
        compact = surface.replace(" ", "")
        for city in others:
            for name in self._names.get(city, []):
                at = compact.find(name)
                while at >= 0:  # "去北京姥姥家，要是在北京看病": any time it is named
                    after = compact[at + len(name) : at + len(name) + STUDY_GAP]
                    if any(w in after for w in words):
                        return True
                    at = compact.find(name, at + 1)
        return False

    def _city_of_aspects(self, aspects: tuple[str, ...]) -> str | None:
        """The one city whose page covers everything asked ("托管班算托幼机构吗": only the
        Suzhou page has a school-type rule), else None: the question stays open."""
        if not aspects:
            return None
        owners = [
            {c for c, covered in self.vocab.coverage.items() if a in covered} for a in aspects
        ]
        common = set.intersection(*owners)
        return next(iter(common)) if len(common) == 1 else None

    def _cities(self, surface: str, query: Query, session: Session) -> _Cities:
        core = query.cities & set(self.cities)
        # Cities named by name ("天津也要积分吗" names Tianjin; 积分 only implies Suzhou).
        by_name = {
            cid for name, cid in self.matcher.lexicon.city_names.items() if name in surface
        } & core
        chosen = by_name or core
        named = next(iter(chosen)) if len(chosen) == 1 else None
        saved = session.context.get("city")
        previous = saved if isinstance(saved, str) else session.city
        city = named or (None if query.cities - core else previous)
        return _Cities(named, frozenset(by_name), frozenset(core), previous, city)

    def _populations(
        self, frame: Frame, surface: str, cities: _Cities, session: Session
    ) -> frozenset[str]:
        ctx = session.context
        pops = set(frame.populations)
        stated = {self.groups[p] for p in pops}
        pops |= {
            p for p in self._sibling(surface, session, cities.city) if self.groups[p] not in stated
        }
        relative = self.relative_hukou(surface, cities.city)
        if relative is not None:
            pops = (pops - {"local", "nonlocal"}) | {relative}
        old = {p for p in str(ctx.get("pops") or "").split(",") if p}
        if ctx.get("both") and cities.named:
            # "我们天津户口，孩子在苏州读小学" then "天津那边的医保还能上吗": the facts said
            # of both cities hold for the one named now; the 户籍 is read again against it.
            before = said(session)[-1:] or [""]
            if not frame.compare:  # "苏州也有这个90天的规定吗": the same child, compared
                old -= self._said_elsewhere(before[0], cities.named)
            again = self.relative_hukou(before[0], cities.named)
            if relative is None and again is not None:
                pops = (pops - {"local", "nonlocal"}) | {again}
        elif cities.named and cities.previous and cities.named != cities.previous:
            # 户籍 is relative to a city; who the question was about carries over only when
            # the parent compares ("苏州也一样吗"), not for a bare "苏州呢" on a subject.
            keep = {"age"} if frame.compare else set()
            if ctx.get("origin"):  # "孩子安徽户口" is non-local in either city
                keep.add("hukou")
            old = {p for p in old if self.groups.get(p) in keep}
        pops -= only_implied(self.vocab, self.groups, pops, old, surface, relative)
        stated_groups = {self.groups[n] for n in pops}
        return frozenset({p for p in old if self.groups.get(p) not in stated_groups} | pops)

    def _said_elsewhere(self, message: str, city: str) -> set[str]:
        """Who a message naming both cities said only of the other one: "天津新生儿和苏州积分
        入医的办理时间" then "那苏州的截止到哪天" - the newborn is Tianjin's, not Suzhou's."""
        own = [n for n in self._names.get(city, []) if len(n) >= 2]
        others = [n for c, names in self._names.items() if c != city for n in names if len(n) >= 2]
        found: set[str] = set()
        for clause in BOTH_CLAUSES.split(message):
            # "在苏州读小学" is where the child is, a fact for both; "苏州积分入医" a topic.
            topic = any(n in clause and f"在{n}" not in clause for n in others)
            if topic and not any(n in clause for n in own):
                found |= self.reader.read(clause).populations
        return found

    def _both_again(self, surface: str, cities: _Cities, ctx: Mapping[str, object]) -> bool:
        """ "两个地方个人各交多少" right after a message naming both cities: both again."""
        return (
            bool(ctx.get("both"))
            and not cities.named
            and any(w in surface for w in self.vocab.both_words)
        )

    def _relative_year(self, surface: str, today: date) -> int | None:
        """ "今年交多少" on a day of 2027: 2027 (the clock is passed in)."""
        for word, delta in self.vocab.relative_years.items():
            if word in surface:
                return today.year + delta
        return None

    def _sibling(self, surface: str, session: Session, city: str | None) -> set[str]:
        """ "老大的医保怎么弄" / "那老二呢" after "老大在天津上二年级…老二刚在天津出生": the
        age and 户籍 that the clause naming this child stated before (most recent first) -
        "老大外地户口…老二天津户口" are two children with two 户籍."""
        compact = surface.replace(" ", "")
        word = next((w for w in self._siblings if w in compact), None)
        if word is None:
            return set()
        for message in reversed(said(session)):
            for clause in SIBLING_CLAUSE.split(message):
                if word in clause:
                    ages = {
                        p for p in self.reader.read(clause).populations if self.groups[p] == "age"
                    }
                    hukou = self.relative_hukou(clause, city)
                    if ages:
                        return ages | ({hukou} if hukou is not None else set())
        return set()

    def _away(
        self, text: str, query: Query, cities: _Cities, ctx: Mapping[str, object], leans: bool
    ) -> tuple[str, bool, str | None]:
        """(the text the matcher reads, about another city?, that city): "深圳少儿医保异地备案"
        then "要什么材料" / "在广州能用吗" is still about 深圳's card, so the matcher reads the
        question with that city's name."""
        others = query.cities - cities.core
        elsewhere = bool(others) and not cities.by_name
        away = next(iter(others)) if elsewhere and len(others) == 1 else None
        saved = ctx.get("away")
        if not cities.core and isinstance(saved, str) and (leans or others):
            names = self._names.get(saved)
            if names:
                return f"{names[0]} {text}", True, saved
        return text, elsewhere, away

    def _why_of_thing(self, frame: Frame) -> Frame:
        """ "为什么才交100", "为什么我在津心办找不到": why, of a thing the message names — that
        thing is asked (the rule is the answer the page has), the why aspect dropped; a bare
        "为什么(会这样)" keeps it: it asks of the answer just given."""
        why = [a for a in frame.aspects if self.vocab.aspects[a].explains]
        if not why:
            return frame
        rest = frame.text.replace(" ", "")
        for a in why:
            for word in sorted(self.vocab.aspects[a].words, key=len, reverse=True):
                rest = rest.replace(word, "")
        if len(rest.strip(WHY_FILLER)) < MIN_WHY_OF:
            return frame
        kept = tuple(a for a in frame.aspects if a not in why)
        return replace(frame, aspects=kept, asks_why=True)

    # ---------------------------------------------------------------- remembering
    def remember(self, session: Session, turn: Turn) -> None:
        """Keep the dialogue state: city, aspects, populations, the birth day stated, and
        the last messages (masked: ids, phones and dates) for facts a flow may read."""
        ctx = session.context
        kept_said = [*said(session), redact(turn.frame.text[:SAID_CHARS])][-SAID_TURNS:]
        ctx["said"] = SAID_SEP.join(kept_said)
        if turn.city and not turn.elsewhere:
            ctx["city"] = turn.city
        ctx["away"] = turn.away
        asked = [a for a in turn.aspects if not self.vocab.aspects[a].explains]
        if asked:  # "为什么" then "那怎么办": what now, of the question before the why
            ctx["aspects"] = ",".join(asked)
        # A status ("还没弄积分管理") answers the turn that states it; it is not a fact about
        # who the conversation is about, so it does not follow into later questions - unless
        # that turn named no city to judge it in ("…托育班，没经过教育局批准" → "能积分入医吗").
        kept = {p for p in turn.populations if self.groups.get(p) != "status" or turn.city is None}
        ctx["pops"] = ",".join(sorted(kept)) or None
        ctx["children"] = turn.children
        ctx["paid"] = turn.paid.isoformat() if turn.paid is not None else None
        SaidDays.remember(ctx, turn.when if turn.birth is not None else None)
        ctx["both"] = "1" if turn.both else None
        if turn.frame.origin or "local" in turn.populations:
            ctx["origin"] = turn.frame.origin or None
        if turn.birth is not None:
            ctx["birth"] = turn.birth.first.isoformat()
            ctx["birth_last"] = turn.birth.last.isoformat()
            ctx["birth_phrase"] = turn.birth.phrase[:20]
        for key in [k for k, v in ctx.items() if v is None]:
            del ctx[key]
