"""Read a message into a question frame: who it is about, what it asks, what kind of question.

The matcher answers "which entry shares the most words"; a frame answers "what is asked",
which is what keeps a clerk from answering a different question confidently. All
vocabulary comes from knowledge/data/understanding.yaml; this module only looks for it in
the repaired surface text (`Normalizer.surface`: simplified, half-width, typos fixed).

Pure: no session, no clock. Dates and facts that need today's date are read by
`dialogs.understanding`, which owns the conversation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from knowledge.schema import Understanding
from knowledge.wordscan import WordScan

READ_CACHE = 4096  # distinct messages whose frame is kept (a few MB at most)
_YEAR = re.compile(r"(20\d\d)\s*(?:年度|年(?!\s*\d{1,2}\s*月))")
_CN_DIGITS = str.maketrans("〇零○一二三四五六七八九", "00012345678" + "9")
_QUESTION_TAIL = ("吗", "呢", "么", "嘛", "?", "不", "没")
_CLAUSE = re.compile(r"(?:[ ，,、。；;]|还有|另外|以及|顺便|同时)+")
# "哦不是今年春节 是去年春节", "不是初三，是高一": a correction by its form ("不是…是吗" asks).
_NOT_BUT = re.compile(r"^(?:哦|噢|喔|啊|嗯|呃)?不是.{1,12}?[，,。 ]*是(?!吗|吧|不是|的吧|么)")
MAX_ASPECTS = 3  # "多少钱、在哪办、要带啥": a compound question's parts, best first


# What a parent says is done before asking what comes next ("打印完然后呢").


@dataclass(frozen=True, slots=True)
class Frame:
    """What one message says. Empty fields mean "not said", to be inherited in a dialogue."""

    text: str
    aspects: tuple[str, ...] = ()  # best first; more only for a compound question
    populations: frozenset[str] = field(default_factory=frozenset)
    year: int | None = None
    yes_no: bool = False
    act: str | None = None  # greeting, thanks, ok, who, bye: the whole message is that act
    followup: bool = False  # leans on the previous turn ("那…呢", "要是…")
    correction: bool = False  # "不对", "说错了", "其实是"
    next_step: bool = False  # "然后呢"
    previous_step: bool = False  # "在那之前呢"
    after: bool = False  # "核定表拿到以后呢": the step after the thing named
    origin: bool = False  # "孩子安徽户口": a 户籍 from elsewhere, for whichever city
    compare: bool = False  # "也一样吗"
    by_ability: bool = False  # the aspect is only the ability fallback ("…能…吗")
    asks_why: bool = False  # "为什么才交100": why, of what the message names (its aspect dropped)

    @property
    def aspect(self) -> str | None:
        return self.aspects[0] if self.aspects else None


_AGE_YEARS = re.compile(r"(?<!\d)(\d{2,3})\s*(?:周岁|岁)")


def without_origin(pattern: re.Pattern[str] | None, text: str) -> str:
    """`text` with its "<province>户口" phrases blanked: "沧州户口在天津打工" holds the words
    "户口在天津", which say nothing of a Tianjin 户籍 once the origin is read."""
    if pattern is None:
        return text
    return pattern.sub(lambda m: " " * len(m.group()), text)


def origin_pattern(vocab: Understanding) -> re.Pattern[str] | None:
    """ "<province>户口", "安徽人", "老家河南": a 户籍 from elsewhere, whichever page is asked
    about; one pattern, built once (read per turn, and by the Tianjin flow's 户籍 step)."""
    provinces = _alternation(vocab.provinces)
    after = _alternation([*vocab.hukou_words, *vocab.origin_after])
    before = _alternation(vocab.origin_before)
    # "河北沧州户口": a city's name (two characters, 市 or not) may stand between.
    parts = (
        [f"(?:{provinces})(?:[\u4e00-\u9fff]{{2}}市?)?(?:{after})"] if provinces and after else []
    )
    parts += [f"(?:{before})(?:{provinces})"] if provinces and before else []
    return re.compile("|".join(parts)) if parts else None


class FrameReader:
    """Built once per knowledge base; `read` is a few substring scans."""

    def __init__(self, vocab: Understanding) -> None:
        self.vocab = vocab
        self._things = tuple(vocab.thing_words)  # "它拿去哪里用": the thing just named
        self._aspect_words = WordScan(
            sorted(
                ((w, name) for name, spec in vocab.aspects.items() for w in spec.words),
                key=lambda pair: -len(pair[0]),
            )
        )
        self._population_words = WordScan(
            sorted(
                ((w, name) for name, spec in vocab.populations.items() for w in spec.words),
                key=lambda pair: -len(pair[0]),
            )
        )
        self._acts = {w.lower(): act for act, words in vocab.acts.items() for w in words}
        self._yes_no_words = frozenset(vocab.yes_no)
        self._origin = origin_pattern(vocab)
        # "大年初一", "正月初三": a day's name, not a school grade (初一 is junior school).
        self._day_names = sorted((n for n in vocab.holidays if len(n) > 2), key=len, reverse=True)
        self._documents = sorted(
            (*vocab.mentioned_only, *vocab.acting_persons), key=len, reverse=True
        )
        # A frame is a pure function of the text, and people send the same short messages
        # again and again ("积分", "1", "好的", "然后呢"): read each once.
        self.read = lru_cache(maxsize=READ_CACHE)(self._read)  # type: ignore[method-assign]

    def read(self, surface: str) -> Frame:
        """What one message says (cached per reader: see `__init__`)."""
        return self._read(surface)

    def _read(self, surface: str) -> Frame:
        text = surface.strip()
        compact = text.replace(" ", "")
        act = self._act(text)
        populations = self._populations(compact)
        aspects = self._aspects(text, stated=len(populations) >= 2)
        next_step = self._next_step(compact, text)
        if next_step and not compact.startswith(tuple(self.vocab.next_step)):
            aspects = ()  # "材料备齐了下一步呢": what is done is not what is asked
        yes_no = self._yes_no(compact)
        ability = self.vocab.ability_aspect
        by_ability = (
            not aspects
            and yes_no
            and bool(ability)
            and any(w in compact for w in self.vocab.ability_words)
        )
        if by_ability and ability:
            aspects = (ability,)
        return Frame(
            text=text,
            aspects=aspects,
            populations=populations,
            year=self._year(compact),
            yes_no=yes_no,
            act=act,
            followup=any(w in compact for w in self.vocab.followup),
            correction=any(w in compact for w in self.vocab.corrections)
            or _NOT_BUT.match(text) is not None,
            next_step=next_step,
            previous_step=any(w in compact for w in self.vocab.previous_step),
            after=any(
                compact.endswith(w)
                and (len(compact) > len(w) + 1 or compact.startswith(self._things))
                for w in self.vocab.after_words
            ),
            compare=any(w in compact for w in self.vocab.compare),
            by_ability=by_ability,
            origin=self._origin is not None and self._origin.search(compact) is not None,
        )

    # ---------------------------------------------------------------- parts
    def _act(self, text: str) -> str | None:
        """The act a message consists of, allowing several act words ("好的 谢谢")."""
        rest = text.lower()
        found: str | None = None
        for word in sorted(self._acts, key=len, reverse=True):
            if word in rest:
                found = found or self._acts[word]
                rest = rest.replace(word, " ")
        leftover = "".join(ch for ch in rest if ch not in " 啊呀吧呢哦噢嘛啦哈了的!~")
        return found if found and not leftover else None

    def _aspects(self, text: str, stated: bool = False) -> tuple[str, ...]:
        """Aspects by clause: each clause's best (by rank); the message's best first.
        `stated`: the message states who it is about (a parent describing their case)."""
        clauses = [c for c in _CLAUSE.split(text) if c]
        picked: list[tuple[int, int, str]] = []  # (-rank, clause index, aspect)
        for index, clause in enumerate(clauses or [text]):
            best: tuple[int, str] | None = None
            asks_ability = False
            rest = clause
            for word, name in self._aspect_words.present(clause):
                if word in rest:
                    rank = self.vocab.aspects[name].rank
                    if best is None or rank > best[0]:
                        best = (rank, name)
                    asks_ability |= name == self.vocab.ability_aspect and word in self._yes_no_words
                    rest = rest.replace(word, " ")
            if best is not None:
                picked.append((-best[0], index, best[1]))
                # A parent's run-on "我们外地户口…孩子能不能上天津的医保要带什么东西" asks
                # both: the explicit yes/no on eligibility stays a part of its own.
                if stated and asks_ability and best[1] != self.vocab.ability_aspect:
                    ability = self.vocab.ability_aspect or best[1]
                    picked.append((-self.vocab.aspects[ability].rank, index, ability))
        ordered: list[str] = []
        for _, _, name in sorted(picked):
            if name not in ordered:
                ordered.append(name)
        absorbed = {a for name in ordered for a in self.vocab.aspects[name].absorbs}
        return tuple([a for a in ordered if a not in absorbed][:MAX_ASPECTS])

    def _populations(self, compact: str) -> frozenset[str]:
        found: dict[str, str] = {}  # group -> population; the longest word decides
        rest = without_origin(self._origin, compact)
        for name in (*self._day_names, *self._documents):  # "居住证受理回执" is no permit
            rest = rest.replace(name, " ")
        for word, name in self._population_words.present(compact):
            if word in rest:
                spec = self.vocab.populations[name]
                found.setdefault(spec.group, name)
                if not spec.shares_words:
                    rest = rest.replace(word, " ")
        # "<province>户口": a 户籍 from elsewhere, whichever page is asked about.
        if "hukou" not in found and self._origin is not None and self._origin.search(compact):
            found["hukou"] = "nonlocal"
        grownup = self._grownup(compact)
        if grownup is not None:
            found.setdefault(self.vocab.populations[grownup].group, grownup)
        for word, name in self.vocab.implied_populations.items():
            if word in compact:
                found.setdefault(self.vocab.populations[name].group, name)
        return frozenset(found.values())

    def _grownup(self, compact: str) -> str | None:
        """ "我今年62岁": an age in years no child has (`grownup_age`), a grown-up's."""
        rule = self.vocab.grownup_age
        years, name = rule.get("years"), rule.get("population")
        if not isinstance(years, int) or not isinstance(name, str):
            return None
        ages = (int(m.group(1)) for m in _AGE_YEARS.finditer(compact))
        return name if any(age >= years for age in ages) else None

    def _next_step(self, compact: str, text: str) -> bool:
        """ "然后呢", "接下来呢怎么弄"; "打印完然后呢": a step done, then the next; "公示完了也没人
        提意见 然后呢": the step word as a clause of its own, a step done a clause earlier
        ("拍完照之后呢", one clause, asks within the step)."""
        steps = self.vocab.next_step
        done = self.vocab.done_words
        if any(compact.startswith(w) for w in steps):
            return True
        head, _, last = text.strip().rpartition(" ")
        if last in steps and any(d in head for d in done):
            return True
        return any(compact.endswith(w) and w.endswith("呢") for w in steps) and any(
            d + w in compact for w in steps for d in done
        )

    @staticmethod
    def _year(compact: str) -> int | None:
        """ "2027年", "二零二七年度" (digits said one by one, as years are)."""
        m = _YEAR.search(compact.translate(_CN_DIGITS))
        return int(m.group(1)) if m else None

    def _yes_no(self, compact: str) -> bool:
        return any(w in compact for w in self.vocab.yes_no) or compact.endswith(_QUESTION_TAIL)


def _alternation(words: list[str]) -> str:
    """A regex alternation of literal words, longest first."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True) if w)
