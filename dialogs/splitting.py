"""One question, several cases: each city's answer ("天津和苏州有什么区别") or each child's
("老大外地户口在天津上小学，老二刚在天津出生，分别怎么办").

Split from `dialogs.understanding` (the clerk decides that a turn has several cases; this
module answers each with the entry its own frame chooses, one after the other). A child's
facts are the clauses that name it (老大, 老二 …, `sibling_words`) plus what the message says
of everyone (a 户籍, a parent's 居住证) for the dimensions its own clauses leave open.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

from dialogs import outcomes
from dialogs.choosing import EntryChooser
from dialogs.dialogue import Turn
from dialogs.heads import AnswerHeads
from dialogs.outcomes import Outcome
from dialogs.session import Session
from dialogs.types import Reply
from knowledge.frame import FrameReader
from knowledge.loader import KnowledgeBase

CLAUSE = re.compile(r"[\s，,。；;！!？?、]+")
MIN_CHILDREN = 2


class EntryRenders(Protocol):
    def entry_reply(
        self, session: Session, entry_id: str, today: date, when: date | None = None
    ) -> Reply: ...

    def judged(self, session: Session, city: str, text: str, today: date) -> Reply | None: ...


@dataclass
class Child:
    word: str  # how the message names it: 老大, 老二, 大的 …
    populations: set[str]  # what its own clauses say
    clauses: list[str]
    city: str | None = None  # "老大在苏州上小学，老二刚在天津生的": where its case is


class CaseSplitter:
    def __init__(
        self,
        kb: KnowledgeBase,
        chooser: EntryChooser,
        heads: AnswerHeads,
        cities: Mapping[str, list[str]],
        hukou: Callable[[str, str | None], str | None],
        reader: FrameReader,
    ) -> None:
        assert kb.understanding is not None
        self.kb = kb
        self.vocab = kb.understanding
        self.chooser = chooser
        self.heads = heads
        self.cities = cities  # each covered city's names ("天津", "津"), in declared order
        self.reader = reader  # the clerk's one frame reader (a clause is read like a message)
        self.hukou = hukou  # "天津户口" in a clause: local or not, for the turn's city
        self.groups = {name: spec.group for name, spec in self.vocab.populations.items()}
        self._siblings = sorted(self.vocab.sibling_words, key=len, reverse=True)
        self._sibling_said = re.compile("|".join(map(re.escape, self._siblings)) or "(?!)")

    # ---------------------------------------------------------------- several cities
    def per_city(
        self, turn: Turn, session: Session, today: date, render: EntryRenders
    ) -> list[Reply]:
        """Both cities named ("天津和苏州外地孩子参保有什么区别"): each city's own answer
        for the question's aspect (how to enrol when none is named), one after the other."""
        out: list[Reply] = []
        missing: list[str] = []
        aspects = turn.aspects or ("steps",)
        for city in self.cities:
            ids = self.chooser.entries(replace(turn, city=city, aspects=aspects), session)
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

    # ---------------------------------------------------------------- several children
    def children(self, text: str, city: str | None) -> tuple[list[Child], list[str]]:
        """The children a message tells apart, each with what its clauses say (a clause
        naming no child continues the one before when it says an age or school), and the
        clauses that are about no child in particular (a parent's 居住证, the question)."""
        kids: dict[str, Child] = {}
        shared: list[str] = []
        last: Child | None = None
        for clause in (c for c in CLAUSE.split(self._clauses(text)) if c):
            word = next((w for w in self._siblings if w in clause), None)
            if word is not None:
                last = kids.setdefault(word, Child(word, set(), []))
            here = self._city_in(clause) or (last.city if word is None and last else None)
            pops = set(self.reader.read(clause).populations)
            hukou = self.hukou(clause, here or city)
            if hukou is not None:
                pops = {p for p in pops if self.groups[p] != "hukou"} | {hukou}
            if word is None and (last is None or not any(self.groups[p] == "age" for p in pops)):
                shared.append(clause)
                continue
            assert last is not None
            last.city = last.city or here
            last.populations.update(pops)
            last.clauses.append(clause)
        return list(kids.values()), shared

    def _clauses(self, text: str) -> str:
        """ "俺大孙子在苏州上小学外地户口二孙子刚在天津生的": a clause break before each child's
        word, so a run-on message still tells them apart. One scan, longest word first, so
        "老大的" stays 老大 (never "老 大的")."""
        return self._sibling_said.sub(
            lambda m: (
                m.group(0)
                if CLAUSE.fullmatch(text[m.start() - 1 : m.start()] or " ")
                else f" {m.group(0)}"
            ),
            text,
        )

    def _city_in(self, clause: str) -> str | None:
        """The covered city a clause places a child in ("在苏州上小学", "在天津生的"); a city
        said of a 户口 ("天津户口") is where the family is from, not where the child is."""
        for city, names in self.cities.items():
            if any(re.search(f"在{re.escape(n)}", clause) for n in names if len(n) >= 2):
                return city
        return None

    def per_child(
        self, turn: Turn, session: Session, today: date, render: EntryRenders
    ) -> list[Reply] | None:
        """Each child the message tells apart by age or school, answered for its own case."""
        if (turn.city is None and not turn.both) or not self.several(turn):
            return None
        kids, shared = self.children(turn.frame.text, turn.city)
        out: list[Reply] = []
        aspects = turn.aspects or ("steps",)
        for kid in kids:
            head = self.kb.text("per_child", child=kid.word)
            city = kid.city or turn.city
            if city is None:
                return None  # "老大…老二…" of both cities, one child placed in neither
            judged = render.judged(session, city, " ".join([*kid.clauses, *shared]), today)
            if judged is not None:  # "老大在昆山上小学": that child's case fails a condition
                out.append(replace(judged, text=f"{head}\n{judged.text}"))
                continue
            if kid.city is not None:  # "在苏州上小学": studies in the city of its case
                kid.populations -= {p for p in kid.populations if self.groups[p] == "study_place"}
            own = {self.groups[p] for p in kid.populations}
            rest = {p for p in turn.populations if self.groups[p] not in own}
            pops = frozenset(kid.populations | rest)
            case = replace(turn, city=city, populations=pops, aspects=aspects)
            ids = self.chooser.entries(case, session)
            if not ids:
                return None  # a child nothing answers: the whole question goes the usual way
            reply = render.entry_reply(session, ids[0], today)
            verdict = self.heads.verdict(case, ids[0])
            head = f"{head}{verdict}" if verdict else head
            out.append(replace(reply, text=f"{head}\n{reply.text}"))
        return out

    def apart(self, turn: Turn) -> bool:
        """The message tells children apart, or asks after one of several ("老三刚出生呢"
        after the older two): the clerk answers that child's case, no flow for the family."""
        if turn.frame.followup and any(w in turn.frame.text for w in self._siblings):
            return True
        return self.several(turn)

    def several(self, turn: Turn) -> bool:
        """The message tells apart two children or more whose ages, schools or cities differ."""
        if not any(w in turn.frame.text for w in self._siblings):
            return False
        found = self.children(turn.frame.text, turn.city)[0]
        kids = [k for k in found if self._ages(k.populations) or k.city]
        cases = {(self._ages(k.populations), k.city) for k in kids}
        return len(kids) >= MIN_CHILDREN and len(cases) > 1

    def _ages(self, populations: set[str]) -> frozenset[str]:
        return frozenset(p for p in populations if self.groups[p] == "age")
