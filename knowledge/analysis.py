"""How the matcher reads a text: weighted canonical terms and the cities it names.

The same reading serves questions and the knowledge base, so both sides meet on equal
terms. Terms are canonical words (see `knowledge.normalize`) without stop words or city
names, sub-words of long words at half weight, and adjacent word pairs.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.lexicon import Lexicon
from knowledge.normalize import Normalizer

DERIVED_WEIGHT = 0.5  # sub-words of a long token (医保卡 -> 医保) count half
NUMBER_WEIGHT = 0.3
PAIR_WEIGHT = 0.5  # adjacent token pairs: word order, counted on top of the words
CLAUSE_FOCUS = 1.5  # words of the last clause weigh more
MAX_QUESTION_CHARS = 500
_CLAUSE_BREAK = re.compile(r"[，,。.？?！!；;：:、\n]+")


@dataclass(frozen=True, slots=True)
class Query:
    """A text as the matcher sees it: weighted canonical terms and the cities named."""

    terms: dict[str, float]  # every term with its best weight (how documents are indexed)
    groups: tuple[tuple[tuple[str, float], ...], ...]  # per question word: term alternatives
    cities: frozenset[str]  # named or hinted in the text


class Analyzer:
    """Turns text into a `Query`; holds nothing but the lexicon and the normaliser."""

    def __init__(self, lexicon: Lexicon, normalizer: Normalizer) -> None:
        self.lexicon = lexicon
        self.normalizer = normalizer

    def analyze(self, text: str, question: bool = True) -> Query:
        """Weighted terms of `text` and the cities it names or hints at.

        Terms are canonical tokens without stop words or city names (cities act through
        boosts, not overlap), sub-words of long tokens at half weight, numbers at low
        weight (dates in a question say little about its topic), and pairs of adjacent
        tokens (天津户籍在外地上学 has 外地/上学, 外地户籍在天津上学 has 外地/户口). For a
        `question` (not KB text), words of its last clause weigh more.
        """
        lex = self.lexicon
        raw, canonical = self.normalizer.tokens(text)
        cities = {c for c in map(lex.city_of, raw) if c is not None}
        focus = self._last_clause(text) if question else frozenset()
        freq = self.normalizer.word_freq
        content = [t for t in canonical if t not in lex.stopwords]
        groups: list[tuple[tuple[str, float], ...]] = []
        seen: set[str] = set()
        for token in content:
            if token in lex.city_names or token in seen:
                continue
            seen.add(token)
            weight = self._weight(token) * (CLAUSE_FOCUS if token in focus else 1.0)
            alternatives = [(token, weight)]
            if len(token) >= 3 and not token.isascii():
                alternatives += [(sub, DERIVED_WEIGHT) for sub in self._subwords(token, freq)]
            groups.append(tuple(dict(alternatives).items()))
        for pair in itertools.pairwise(t for t in content if t not in lex.city_names):
            if pair[0] != pair[1] and not (pair[0].isdigit() or pair[1].isdigit()):
                key = " ".join(pair)
                if key not in seen:
                    seen.add(key)
                    groups.append(((key, PAIR_WEIGHT),))
        terms: dict[str, float] = {}
        for group in groups:
            for term, weight in group:
                terms[term] = max(weight, terms.get(term, 0.0))
        return Query(terms, tuple(groups), frozenset(cities))

    def _last_clause(self, text: str) -> frozenset[str]:
        """Words of the last clause of a several-clause question: Chinese puts the actual
        question last (我社保交了三年，能积多少分 asks about points, not about 社保)."""
        parts = [p for p in _CLAUSE_BREAK.split(text[:MAX_QUESTION_CHARS]) if p.strip()]
        if len(parts) < 2:
            return frozenset()
        return frozenset(self.normalizer.tokens(parts[-1])[1])

    @staticmethod
    def _weight(token: str) -> float:
        """Question-side weight: a year (2017, 2025) names a policy, other numbers are
        mostly dates and counts that say little about the topic."""
        if token.isdigit():
            return 1.0 if len(token) == 4 else NUMBER_WEIGHT
        return 1.0

    def _subwords(self, token: str, freq: dict[str, int]) -> Iterable[str]:
        """Dictionary words inside a long token (少儿医保 -> 少儿, 医保), canonicalised."""
        lex = self.lexicon
        for size in range(2, min(4, len(token) - 1) + 1):
            for start in range(len(token) - size + 1):
                piece = token[start : start + size]
                if not freq.get(piece):
                    continue
                for word in self.normalizer.canonical(piece):
                    if word not in lex.stopwords and word not in lex.city_names and word != token:
                        yield word
