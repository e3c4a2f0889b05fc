"""What opens an answer, before the entries' own text (or stands for it: a statement of
context acknowledged): a scope guard instead of them, the
entry's curated verdict for a yes/no question, another year's label, the fee for several
children, a figure the parent says confirmed or corrected, and whether a late question
asks to enrol at all.

Split from `dialogs.understanding` (the clerk decides which stage answers; these say what
the head of that answer is). Pure over the knowledge base and the turn.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from dialogs.choosing import STRONG_RANK
from dialogs.dialogue import Turn
from dialogs.figure_claims import figure_check
from dialogs.rules.dates import format_cn
from dialogs.rules.everyday import cn_number
from dialogs.types import Reply
from knowledge.loader import KnowledgeBase
from knowledge.schema import Entry, Guard

# "两年", "半年", "18个月", "一年多": a duration as a parent says it.
_DURATION = re.compile(
    r"(\d{1,2}|[一二两三四五六七八九十]{1,3}|半)\s*(?:个)?\s*(?:多)?\s*(年|个月)"
)


ONLY_CITY_FILLER = "的呢吧啊呀哦嗯是在市那边这边。，,.!！~"  # "是天津的呀": still only a city


class AnswerHeads:
    def __init__(self, kb: KnowledgeBase, city_names: Mapping[str, str]) -> None:
        assert kb.understanding is not None
        self.kb = kb
        self.vocab = kb.understanding
        # Names of the cities the pages do not cover (the lexicon knows them as cities).
        self._uncovered = {n: c for n, c in city_names.items() if c not in self.vocab.coverage}
        self._city_names = city_names
        # Who only a guard for every city is about (grown-ups).
        self._guarded = frozenset(
            p for g in self.vocab.guards if g.city is None for p in g.any_population
        )
        self._snippet_aspects = {
            a for e in kb.entries.values() if e.group == "related" for a in e.aspects
        }

    def opened(
        self, turn: Turn, chosen: list[str], first: Reply, verdict: bool = True, before: str = ""
    ) -> Reply:
        """The first reply with what it must open with, innermost first: the entry's verdict
        (unless an office is checked, or not `verdict`: the question was another city's),
        another year's label, another case's or place's note, the fee for several children
        or a stated duration checked. `before`: the message this one follows."""
        office = self.office_check(turn, chosen)  # "要交到区人社局吗": not that office
        said = next((v for e in chosen if (v := self.verdict(turn, e)) is not None), None)
        if said is not None and office is None and verdict:
            first = headed(said, first)
        year = self.other_year(turn)
        if year is not None:
            first = headed(self.kb.text("guard_year", covered=year[0], year=year[1]), first)
        other = (
            self.implied_other(turn, before)
            or self.beside_uncovered(turn)
            or self.snippet_elsewhere(turn, chosen)
            or office
        )
        if other is not None:
            first = headed(other, first)
        total = self.fee(turn, chosen) or self.duration_check(turn) or self.claimed(turn)
        return headed(total, first) if total is not None else first

    def why_silence(self) -> str:
        """ "为什么才交100": no page says why a rule is so; the rule it states comes after."""
        why = next((a.name for a in self.vocab.aspects.values() if a.explains), "")
        return self.kb.text("abstain_aspect_near", what=why)  # (asked only when one explains)

    def context_ack(self, turn: Turn) -> str:
        """ "我在苏州上班，老家河南的": what was understood, and an invitation to ask."""
        label = self.kb.ui.get(f"city_{turn.city}") if turn.city else None
        facts = [label] if label is not None else []
        if turn.birth is not None:
            day = format_cn(turn.birth.first)
            if turn.birth.first != turn.birth.last:
                day = f"{day}–{format_cn(turn.birth.last)}"
            facts.append(self.kb.text("fact_birth", date=day))
        if not facts:
            return self.kb.text("act_context_none")
        return self.kb.text("act_context", facts="；".join(facts))

    def guard(self, turn: Turn, before_flows: bool = False) -> str | None:
        """The reply key of the first scope guard the turn meets; `before_flows`: only the
        guards for what a city's check does not ask (a case it cannot take)."""
        for guard in self.vocab.guards:
            if guard.city is not None and guard.city != turn.city:
                continue
            if before_flows and not guard.before_flows:
                continue
            # "那我妈退休的呢" after a question about a child: who the message itself names
            # replaces the conversation's, which would otherwise keep the child in the frame.
            own = turn.frame.populations
            if own & set(guard.any_population) and self.only_states(turn):
                continue  # "居住证？有，我老公有": who holds the permit, not a question for them
            populations = own if own & set(guard.any_population) else turn.populations
            if guard.any_population and not (populations & set(guard.any_population)):
                continue
            said = turn.frame.text.replace(" ", "")
            theirs = any(w in said for w in guard.own_words)
            if _errand_only(guard, said):
                continue  # "那我们大人要带什么": the grown-ups' errand for the child
            if populations & set(guard.no_population) and not theirs:
                continue
            return guard.reply
        return None

    def without_errand_grownups(self, turn: Turn) -> Turn:
        """The turn as the dialogue should remember it: a grown-up named in an errand for the
        child ("我老婆说…", "用我的身份证替她办") is not who later questions are about; a
        grown-up a guard fired for stays (the follow-up "交多少" is still about them)."""
        grown = turn.populations & self._guarded
        if grown and self.guard(turn) is None and self.errand(turn):
            return replace(turn, populations=turn.populations - grown)
        return turn

    def names_only_city(self, turn: Turn) -> bool:
        """The message is a city's name and nothing else ("天津的", "苏州"), as when the
        question before it did not say which city."""
        if turn.city is None or turn.frame.populations:
            return False
        rest = turn.frame.text.replace(" ", "")
        for name, city in sorted(self._city_names.items(), key=lambda n: -len(n[0])):
            if city == turn.city:
                rest = rest.replace(name, "")
        return not rest.strip(ONLY_CITY_FILLER)

    def errand(self, turn: Turn) -> bool:
        """The message names a grown-up in an errand for the child ("我老婆说…", "替她办"),
        not as who the question is about."""
        said = turn.frame.text.replace(" ", "")
        return any(g.city is None and _errand_only(g, said) for g in self.vocab.guards)

    def is_statement(self, turn: Turn) -> bool:
        """A statement of context ("我在苏州上班，老家河南的"): no aspect, no question word."""
        text = turn.frame.text
        return not turn.frame.aspects and not any(w in text for w in self.vocab.question_words)

    def asks_beside(self, turn: Turn) -> bool:
        """ "那我住的是高新区 在高新区哪里交申请" inside the check: the fact answers the flow's
        question and the message asks another thing (a question of an aspect no flow question
        asks), which is answered beside it - never dropped for the next question."""
        aspects = [a for a in turn.frame.aspects if a not in self.vocab.flow_asks]
        strong = any(self.vocab.aspects[a].rank >= STRONG_RANK for a in aspects)
        return strong and not self.is_statement(turn) and not turn.frame.correction

    def consequence(self, text: str) -> bool:
        """ "这样孩子就已经有医保了吧": a state asked of the step before, not facts to judge."""
        compact = text.replace(" ", "").rstrip("?？")
        return compact.startswith(tuple(self.vocab.consequence_leads)) and compact.endswith(
            tuple(self.vocab.consequence_tails)
        )

    def only_states(self, turn: Turn) -> bool:
        """A statement that is no yes/no, "…呢" or correction either: it asks nothing."""
        frame = turn.frame
        return self.is_statement(turn) and not (frame.yes_no or frame.followup or frame.correction)

    def uncovered_aspect(self, turn: Turn) -> str | None:
        """Asked of the other city, the aspect is one that city's page does not cover
        ("天津办新生儿医保也要公示吗" after Suzhou's 公示, "苏州积分入医呢" after Tianjin's
        fee): that page says nothing of it, said before its own way - never its nearest
        answer as if it said the same. Only on
        a switch of city, and only when no answer of that city says the word that asked
        ("回执" is in Tianjin's answers too: the entries answer it). Aspects the
        news snippets answer are theirs to head (`snippet_elsewhere`); an aspect with an
        `instead` answers with that one."""
        covered = self.vocab.coverage.get(turn.city or "")
        if covered is None or not turn.aspects or not turn.switched:
            return None
        aspect = turn.aspects[0]
        spec = self.vocab.aspects[aspect]
        if aspect in covered or spec.instead or spec.silent or aspect in self._snippet_aspects:
            return None
        said = turn.frame.text.replace(" ", "")
        words = [w for w in spec.words if w in said]
        # "也得交钱不" asks whether at all (an entry may say); "苏州呢" after "交多少" the amount.
        yes_no = turn.frame.yes_no and aspect in turn.frame.aspects
        if any(
            e.city == turn.city
            and ((yes_no and aspect in e.aspects) or any(w in e.answer for w in words))
            for e in self.kb.entries.values()
        ):
            return None  # an entry answers it ("参保缴费后"), or names the thing ("回执")
        city = self.kb.ui.get(f"city_{turn.city}", turn.city or "")
        return self.kb.text("compare_uncovered", city=city, what=spec.name)

    def other_year(self, turn: Turn) -> tuple[int, int] | None:
        year = turn.frame.year
        covered = self.vocab.years.get(turn.city or "")
        if year is None or not covered or year in covered:
            return None
        if turn.birth is not None and turn.birth.first.year == year:
            return None  # a birth date's year, not a question about another year's rules
        return covered[-1], year

    def verdict(self, turn: Turn, entry_id: str) -> str | None:
        """The entry's own verdict for a yes/no question about its aspect ("能网上办吗"), or
        for any question of an aspect whose answer is a verdict ("先办哪个": the order)."""
        if not turn.aspects or turn.inherited:
            return None
        if not turn.frame.yes_no and not self.vocab.aspects[turn.aspects[0]].verdict_any:
            return None
        verdicts = self.kb.entries[entry_id].verdicts
        return next((verdicts[a] for a in turn.aspects if a in verdicts), None)

    def for_children(self, turn: Turn, chosen: list[str]) -> str | None:
        """ "双胞胎一共交多少": the page's per-child fee times the children, with the
        per-child figures beside it (the page states the fee per child)."""
        if not turn.children or "cost" not in turn.aspects:
            return None
        entry = self._fee_entry(chosen)
        if entry is None or entry.per_child is None:
            return None
        fee, n = entry.per_child, turn.children
        return self.kb.text(
            "cost_children",
            n=n,
            personal=fee.personal * n,
            personal_each=fee.personal,
            subsidy=fee.subsidy * n,
            subsidy_each=fee.subsidy,
            total_each=fee.total,
            total=fee.total * n,
            applies=entry.applies_to,
        )

    def asks_to_enrol(self, turn: Turn) -> bool:
        """ "现在还能上吗": whether one may still enrol, not when benefits start."""
        said = turn.frame.text.replace(" ", "")
        return any(w in said for w in self.vocab.enrol_words) and not any(
            w in said for w in self.vocab.benefit_words
        )

    def fee_check(self, turn: Turn, chosen: list[str]) -> str | None:
        """ "是100吗" → 对; "730是自己交的吧" → 不对：730元是政府补助，个人缴纳是100元. The
        figure said is compared with the entry's per-child fee; the part it is said to be
        comes from the message's words (`fee_roles`), else from the figure itself."""
        if not turn.frame.yes_no or turn.children:
            return None
        entry = self._fee_entry(chosen)
        if entry is None or entry.per_child is None:
            return None
        parts = entry.per_child.model_dump()
        said = turn.frame.text.replace(" ", "")
        # A figure, not a count of days, months, years or children ("出生100天").
        figures = [int(n) for n in re.findall(r"(?<!\d)(\d{2,5})(?![\d天日号岁个年月周])", said)]
        known = [n for n in figures if n in parts.values()]
        if len(known) != 1:
            return None  # no figure of the fee, or several: nothing single to confirm
        n = known[0]
        actual = next(role for role, value in parts.items() if value == n)
        asked = next(
            (r for r, words in self.vocab.fee_roles.items() for w in words if w in said), actual
        )
        role = self.kb.text(f"fee_role_{asked}")
        if asked == actual:
            return self.kb.text("fee_check_yes", role=role, n=n, applies=entry.applies_to)
        return self.kb.text(
            "fee_check_no",
            n=n,
            actual=self.kb.text(f"fee_role_{actual}"),
            role=role,
            right=parts[asked],
            applies=entry.applies_to,
        )

    def duration_check(self, turn: Turn) -> str | None:
        """ "是不是要交满两年社保才行" → 不是 (the page: one year); "住满一年就行吗" → 对."""
        rule = self.vocab.duration_rules.get(turn.city or "")
        said = turn.frame.text.replace(" ", "")
        if rule is None or not turn.frame.yes_no or not any(w in said for w in rule.words):
            return None
        m = _DURATION.search(said)
        if m is None or not any(w in said[: m.start()] for w in rule.claim_words):
            return None
        n = cn_number(m.group(1))
        if n is None:
            return None
        months = n * 12 if m.group(2) == "年" else n
        if months > rule.months:
            return self.kb.text("duration_more", said=m.group(0))
        if months < rule.months:
            return self.kb.text("duration_less", said=m.group(0))
        return self.kb.text("duration_enough")

    def claimed(self, turn: Turn) -> str | None:
        """ "不是60天内吗": a figure of the page's rule said back, confirmed or corrected."""
        found = figure_check(self.vocab, turn)
        if found is None:
            return None
        right, fact, figure = found
        if right:
            return self.kb.text("claim_right", fact=fact)
        return self.kb.text("claim_wrong", fact=fact, said=figure)

    def office_check(self, turn: Turn, chosen: list[str]) -> str | None:
        """ "是不是要交到区人社局": an office the answer on where does not name is not where
        the page sends the parent; said first, then where it does."""
        if not turn.frame.yes_no or not chosen:
            return None
        entry = self.kb.entries[chosen[0]]
        if "where" not in entry.aspects:
            return None
        said = turn.frame.text.replace(" ", "")
        office = next((o for o in self.vocab.offices if o in said), None)
        if office is None or any(n in entry.answer for n in [office, *self.vocab.offices[office]]):
            return None
        return self.kb.text("office_other", office=office)

    def implied_other(self, turn: Turn, before: str = "") -> str | None:
        """ "外地户口在天津生孩子 能用津心办出生一件事吗": the way the message names is for
        another 户籍 than the one it states; that comes first, then the stated case's way.
        A bare "外地户口的宝宝能用吗" asks of the way the message before it named."""
        said = turn.frame.text.replace(" ", "")
        if turn.frame.yes_no and not any(w in said for w in self.vocab.implied_notes):
            said += before.replace(" ", "")
        for word, key in self.vocab.implied_notes.items():
            implied = self.vocab.implied_populations.get(word)
            if word not in said or implied is None:
                continue
            group = self.vocab.populations[implied].group
            stated = {p for p in turn.populations if self.vocab.populations[p].group == group}
            if stated and implied not in stated:
                return self.kb.text(key)
        return None

    def beside_uncovered(self, turn: Turn) -> str | None:
        """ "天津和广州哪个新生儿医保便宜": the other place is not in the pages; say so before
        the covered city's answer, so that it is never read as a comparison."""
        if turn.city is None or "remote" in turn.aspects:
            return None  # "天津医保在北京能用吗" is the news snippets' own question
        said = turn.frame.text.replace(" ", "")
        if not any(w in said for w in self.vocab.versus_words):
            return None
        place = next((n for n in self._uncovered if len(n) >= 2 and n in said), None)
        if place is None:
            return None
        city = self.kb.ui.get(f"city_{turn.city}", turn.city)
        return self.kb.text("beside_uncovered", place=place, city=city)

    def snippet_elsewhere(self, turn: Turn, chosen: list[str]) -> str | None:
        """A news snippet (they come with the Tianjin page) given in a conversation about a
        city whose page says nothing of its subject: that city's page is silent, and the
        snippet is general news, not that city's rule."""
        if turn.city is None or not chosen:
            return None
        entry = self.kb.entries[chosen[0]]
        covered = self.vocab.coverage.get(turn.city, [])
        if entry.group != "related" or any(a in covered for a in entry.aspects):
            return None
        city = self.kb.ui.get(f"city_{turn.city}", turn.city)
        return self.kb.text("snippet_elsewhere", city=city)

    def fee(self, turn: Turn, chosen: list[str]) -> str | None:
        """The fee head of a cost answer: several children's sum, or a stated figure checked."""
        return self.for_children(turn, chosen) or self.fee_check(turn, chosen)

    def _fee_entry(self, chosen: list[str]) -> Entry | None:
        """The chosen entry that states the fee per child, if any."""
        return next((self.kb.entries[e] for e in chosen if self.kb.entries[e].per_child), None)


def headed(head: str, reply: Reply) -> Reply:
    """The reply with a line said before its text."""
    return replace(reply, text=f"{head}\n{reply.text}")


def _errand_only(guard: Guard, said: str) -> bool:
    """The message names the guard's people only in an errand for the child ("我老婆说…",
    "那我们大人要带什么"), not as who it asks about (none of the guard's own words)."""
    return any(w in said for w in guard.errand_words) and not any(
        w in said for w in guard.own_words
    )
