"""What a message points back at in the answer just given ("你说的那个第三方代办系统是啥",
"能直接结算的话自己掏多少比例" after a news snippet,
"教育部门那个数什么时候出", "那个回执去哪开"): that answer again, or the page's silence
about the thing pointed at.

Split from `dialogs.choosing` (which entries answer a turn); pure over the knowledge base.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from dialogs.dialogue import Turn
from dialogs.session import Session
from knowledge.analysis import Query
from knowledge.frame import FrameReader
from knowledge.loader import KnowledgeBase
from knowledge.schema import Entry, Understanding

RARE_ANSWERS = 2  # a word pointed back at names one thing when so few answers say it
DAY = re.compile(r"\d{1,2}月\d{1,2}日")  # a day an answer names ("9月15日前")
SENTENCE = re.compile(r"[。；\n]")
SNIPPET_WORDS = 2  # words of a follow-up found in the news snippet just given: about it


# "是正式的还是试行的": two short options, the whole message.
_CHOICE = re.compile(
    r"^(?:那|那么)?(?:它|这个|那个)?(是?[^，,。还]{1,5}?的?)还是([^，,。]{1,5}?的?)[吗呢啊？?]*$"
)


class PointingBack:
    def __init__(
        self,
        kb: KnowledgeBase,
        vocab: Understanding,
        city_names: Mapping[str, str],
        query: Callable[[Turn], Query],
        reader: FrameReader,
    ) -> None:
        self.kb = kb
        self.vocab = vocab
        self._mentioned = sorted(vocab.mentioned_only, key=len, reverse=True)
        self.city_names = city_names
        self.query = query  # the turn's text as the matcher reads it (memoised per turn)
        self.reader = reader  # what a message asks of the thing it points at
        self._rarity: dict[str, int] = {}  # term -> answers saying it (the KB is fixed)
        self._all_keywords: frozenset[str] | None = None

    def back(self, last: Entry, turn: Turn) -> bool:
        """ "你说的那个第三方代办系统是啥": a pointing word and a word of three characters or
        more that the answer just given says."""
        said = turn.frame.text.replace(" ", "")
        if not any(w in said for w in self.vocab.pointing):
            return False
        terms = self.query(turn).terms
        if any(" " not in t and len(t) >= 3 and t in last.answer and self._rare(t) for t in terms):
            return True
        return "time" in turn.aspects and self._dated_sentence(last, terms)

    def after(self, chosen: list[str], last_id: str | None, turn: Turn) -> list[str]:
        """ "…以后呢": what follows the thing asked about - the answer just given when the
        message starts at it ("它拿去哪里用") or names what it ends on ("拿到那个回执以后呢"),
        else the entry chosen for the message ("公示以后呢" after another answer)."""
        last = self.kb.entries.get(last_id or "")
        if not turn.frame.after:
            return chosen
        if last is not None and turn.frame.text.startswith(tuple(self.vocab.thing_words)):
            return [last.next or last.id]
        if len(chosen) == 1 and (chosen[0] != last_id or (last and self.yields(last, turn))):
            return [self.kb.entries[chosen[0]].next or chosen[0]]
        return chosen

    @staticmethod
    def yields(last: Entry, turn: Turn) -> bool:
        """ "拿到那个回执以后呢" after the acceptance step: the message names what the answer
        ends on (出具受理回执), so what comes after is the next step; "拍完照之后呢" names a
        word with more of the same answer after it."""
        said = turn.frame.text.replace(" ", "")
        answer = last.answer.rstrip("。；;.\n ")
        return any(len(k) >= 2 and k in said and answer.endswith(k) for k in last.keywords)

    @staticmethod
    def choice(last: Entry, turn: Turn) -> bool:
        """ "是正式的还是试行的" after the documents: a choice between two short words, one
        of which the answer just given says (试行) - asked of that answer."""
        found = _CHOICE.search(turn.frame.text.replace(" ", ""))
        if found is None:
            return False
        options = [o.removeprefix("是").removesuffix("的") for o in found.groups()]
        return all(options) and any(o in last.answer for o in options)

    def asks_issuer(self, last: Entry, turn: Turn) -> bool:
        """ "我家两个孩子 去哪开" after the answer on the 计生证明: who issues the thing just
        answered, which that answer says; the message names no thing (no entry's keyword)
        and points at none ("这个…" is the thing named before, not the answer)."""
        said = turn.frame.text.replace(" ", "")
        if not any(w in said for w in self.vocab.issue_asks):
            return False
        if not any(w in last.answer for w in self.vocab.issuers):
            return False
        if any(w in said for w in (*self.vocab.pointing, *self.vocab.thing_words)):
            return False  # "它去哪开": the thing named before, which `unsaid` knows
        keywords = self._keywords()
        return not any(
            len(t) >= 2 and t in keywords and t not in self.city_names
            for t in self.query(turn).terms
        )

    def _keywords(self) -> frozenset[str]:
        if self._all_keywords is None:
            self._all_keywords = frozenset(k for e in self.kb.entries.values() for k in e.keywords)
        return self._all_keywords

    def _issued_by(self, last: Entry, term: str) -> bool:
        """A sentence of the answer names the thing and who issues it."""
        return any(
            term in s and any(w in s for w in self.vocab.issuers)
            for s in SENTENCE.split(last.answer)
        )

    @staticmethod
    def _dated_sentence(last: Entry, terms: Iterable[str]) -> bool:
        """ "教育部门那个数什么时候出" after the answer on how the quota is set: a sentence of
        that answer names a day and a word of the question (教育) — the day asked for is
        that one, not the application window's."""
        words = [t for t in terms if " " not in t and len(t) >= 2]
        return any(
            DAY.search(s) and any(w in s for w in words) for s in SENTENCE.split(last.answer)
        )

    def _rare(self, term: str) -> bool:
        """Said by at most two answers: a name for one thing ("第三方代办系统"), not a topic
        every answer repeats ("积分入医")."""
        count = self._rarity.get(term)
        if count is None:
            count = sum(1 for e in self.kb.entries.values() if term in e.answer)
            self._rarity[term] = count
        return count <= RARE_ANSWERS

    def unsaid(self, turn: Turn, session: Session) -> tuple[str, str] | None:
        """ "那个回执去哪开" after the answer naming the 回执: (the thing pointed back at, the
        aspect asked of it) when no answer of the city says the thing with that aspect —
        the page does not say where the 回执 is issued."""
        said = turn.frame.text.replace(" ", "")
        named = next((t for t in self._mentioned if t in said), None)
        if named is not None:  # "流动人口居住登记凭证是啥，去哪开": named, never explained
            rest = said.replace(named, " ")
            if any(w in rest for w in self.vocab.issue_asks):
                return named, "where"
            asked = self.reader.read(rest).aspects
            return (named, asked[0]) if asked and asked[0] in self.vocab.pointed_aspects else None
        last = self.kb.entries.get(session.last_entry or "")
        if last is None or last.city != turn.city or turn.inherited or not turn.aspects:
            return None
        if not any(w in said for w in self.vocab.pointing):
            return None
        cities = self.city_names
        for term in self.query(turn).terms:
            if " " in term or len(term) < 2 or term in cities or term not in said:
                continue
            if term not in last.answer:
                continue
            asked = self.reader.read(said.replace(term, " ")).aspects  # what is asked of it
            if not asked or asked[0] in last.aspects or asked[0] not in self.vocab.pointed_aspects:
                return None
            if asked[0] == "time" and self._dated_sentence(last, [term]):
                return None
            if asked[0] == "where" and self._issued_by(last, term):
                return None  # "那个证明去哪开": the answer names who issues it
            if not any(  # an answer about that thing (its title or keywords name it)
                e.city == turn.city
                and asked[0] in e.aspects
                and (term in e.title or any(term in k for k in e.keywords))
                for e in self.kb.entries.values()
            ):
                return term, asked[0]
        return None

    def on_snippet(self, turn: Turn, session: Session) -> str | None:
        """The news snippet just given, when the follow-up asks about what it says
        ("能直接结算的话自己掏多少比例", "医院没开通直接结算咋整" after the snippet on
        outpatient care elsewhere): a snippet's aspect is only "remote", so the frame
        alone would send these to the fee or to another snippet. Two of the message's words
        in the snippet's text, and nothing new about who or where, keep it."""
        last = self.kb.entries.get(session.last_entry or "")
        if last is None or last.group != "related" or turn.switched or turn.frame.populations:
            return None
        if turn.mentioned - {last.city}:
            return None
        terms = self.query(turn).terms
        shared = [
            t
            for t in terms
            if " " not in t and len(t) >= 2 and (t in last.answer or t in last.keywords)
        ]
        return last.id if len(shared) >= SNIPPET_WORDS else None
