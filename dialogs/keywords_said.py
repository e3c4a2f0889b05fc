"""Which entries' keywords a message says, and whose they are.

"积分" asked of Tianjin is Suzhou's own word: no Tianjin answer says it, so the question
names the other city's process. "回执" is both cities' word, and "去哪" or "是啥" is nobody's: words
that ask (an aspect's words, or with a question word) belong to no process, whichever keyword
list holds them.
"""

from __future__ import annotations

from collections.abc import Mapping

from dialogs.dialogue import Turn
from knowledge.loader import KnowledgeBase
from knowledge.schema import Entry, Understanding

GENERAL = "general"  # entries for every city


class KeywordsSaid:
    def __init__(self, kb: KnowledgeBase, vocab: Understanding, cities: Mapping[str, str]) -> None:
        self.kb = kb
        self._cities = cities
        self._places = frozenset(vocab.place_words)  # a district is the case's fact
        # "天津新生儿的呢": a population's word says who it is about, not what is asked.
        self._who = frozenset(w for spec in vocab.populations.values() for w in spec.words)
        # "下一步", "然后呢", "以后呢" lead on in any conversation: nobody's own word either.
        steps = (*vocab.next_step, *vocab.previous_step, *vocab.then_words)
        self._asking = frozenset(w for spec in vocab.aspects.values() for w in spec.words) | set(
            steps
        )
        self._question_words = tuple(vocab.question_words)  # "是啥", "几天": asking too

    def names(self, entry: Entry, turn: Turn, own: bool = False) -> bool:
        """The message says one of the entry's keywords (a city's or a place's name alone does
        not count, nor a population's: "天津新生儿的呢" names who, not the subject);
        `own`: a keyword no entry of the turn's city says (积分 is Suzhou's word, 回执 both's)."""
        said = turn.frame.text.replace(" ", "")
        return any(
            len(k) >= 2
            and k in said
            and k not in self._cities
            and k not in self._places
            and (own or k not in self._who)
            and not (own and (self._asks(k) or self._city_says(turn.city, k)))
            for k in entry.keywords
        )

    @staticmethod
    def inside(entry: Entry, turn: Turn, words: list[str]) -> bool:
        """Each of these words the message says lies within a longer keyword of the entry
        that it says too ("代办" in "第三方代办系统是个啥"): it names that thing, asks nothing."""
        said = turn.frame.text.replace(" ", "")
        named = [k for k in entry.keywords if len(k) >= 3 and k in said]
        found = [w for w in words if w in said]
        return bool(found) and all(any(w in k and w != k for k in named) for w in found)

    def other_process(self, turn: Turn) -> str | None:
        """An entry of the other covered city's own process whose word the message says and
        no answer of the turn's city says ("积分" asked of Tianjin)."""
        return next(
            (
                e.id
                for e in self.kb.entries.values()
                if e.group == "core"
                and e.city not in (turn.city, GENERAL)
                and self.names(e, turn, own=True)
            ),
            None,
        )

    def _asks(self, keyword: str) -> bool:
        return keyword in self._asking or any(q in keyword for q in self._question_words)

    def _city_says(self, city: str | None, word: str) -> bool:
        return any(
            e.city == city and (word in e.answer or word in e.keywords)
            for e in self.kb.entries.values()
        )
