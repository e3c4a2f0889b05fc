"""Route free text to a knowledge entry, an out-of-scope notice, a city question or "unknown".

Scoring is weighted keyword overlap. Every entry (and out-of-scope item) is indexed once
(`knowledge.index`), as canonical terms (see `knowledge.normalize`) from its keywords (weight
3), title (2) and sample questions (1), times each term's IDF over the whole KB, in an
inverted index. Terms (see `knowledge.analysis`) are words, sub-words of long words at
half weight (少儿医保 -> 医保) and adjacent word pairs (word order: 外地户籍在天津上学 is not
天津户籍在外地上学). A question is analysed the same way, looks up its postings, and the
sums are adjusted:

* by city (`knowledge.city_weights`): a named or implied city's entries up, the other core
  city's down; a question naming only a non-core city never reaches the pages' processes;
  with no city named, the conversation's city and the previous answer's `related` entries
  are favoured; a bare "苏州呢" re-asks the previous answer's subject for the named city;
* with no city at all and both cities fitting, the answer is "clarify_city".

`confidence` is the share of the question's word weight the winner explains; below
`min_confidence` (or with too little absolute evidence) the result is "unknown" with the
best three entries as suggestions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from knowledge.analysis import Analyzer, Query
from knowledge.city_weights import Doc, MatchContext, city_factor, close_fits, core_city
from knowledge.index import KEYWORD_WEIGHT, NamedTopics, indexed
from knowledge.lexicon import LEXICON_DIR, Lexicon, lexicon_digest, load_lexicon
from knowledge.loader import KnowledgeBase
from knowledge.normalize import Normalizer, normalizer_for

__all__ = ["Match", "MatchContext", "MatchKind", "Matcher"]

MatchKind = Literal["answer", "clarify_city", "out_of_scope", "unknown"]

UNKNOWN_IDF = 1.0  # a question word the KB never uses still dilutes the confidence

IMPLY_MAX_SHARE = 0.1  # a token implies a city only if at most this share of docs use it
FOCUS_WEIGHT = 0.2  # up to +20% for an entry whose keywords the question covers
OVERVIEW_TOPIC = "overview"  # each core city's entry for "tell me about <city>"

MIN_CONFIDENCE = 0.2
OTHER_CITY_MIN_CONFIDENCE = 0.5  # a related snippet must fit well to answer another city
MIN_SCORE = 4.0
CLARIFY_RATIO = 0.75  # both cities' words present: clarify only when the fit is close
NEUTRAL_CLARIFY_RATIO = 0.3  # no city-specific word at all: any real second fit is enough
SUGGESTIONS = 3
READINGS_KEPT = 64  # texts whose analysis is kept (a turn reads its text 2-3 times)

_lexicon_cache: dict[str, Lexicon] = {}


@dataclass(frozen=True, slots=True)
class Match:
    """The decision. `entry_id` is an entry id (answer) or out-of-scope id; `suggestions`
    are entry ids (clarify_city: the best Tianjin and Suzhou entries)."""

    kind: MatchKind
    entry_id: str | None = None
    confidence: float = 0.0
    city: str | None = None
    suggestions: tuple[str, ...] = field(default=())


def _lexicon(root: Path | None) -> Lexicon:
    """The lexicon, parsed again only when its files changed (a hot reload sees edits)."""
    key = f"{(root or LEXICON_DIR).resolve()}:{lexicon_digest(root)}"
    found = _lexicon_cache.get(key)
    if found is None:
        found = load_lexicon(root)
        _lexicon_cache[key] = found
    return found


class Matcher:
    """Built once per knowledge base; `match` is a few dictionary look-ups per token."""

    def __init__(
        self,
        kb: KnowledgeBase,
        lexicon_dir: Path | None = None,
        *,
        min_confidence: float = MIN_CONFIDENCE,
        min_score: float = MIN_SCORE,
    ) -> None:
        self.kb = kb
        self.lexicon = _lexicon(lexicon_dir)
        self.normalizer: Normalizer = normalizer_for(self.lexicon)
        self.analyzer = Analyzer(self.lexicon, self.normalizer)
        self._readings: dict[str, Query] = {}
        self.min_confidence = min_confidence
        self.min_score = min_score
        self._core = self.lexicon.core_cities
        self._related = {e.id: frozenset(e.related) for e in kb.entries.values()}
        self._docs, doc_terms = indexed(kb, self.analyzer, self.lexicon.digest)
        self.doc_ids = [d.id for d in self._docs]  # index in `scores` -> entry or item id
        total = len(self._docs)
        # A rare token only one core city's entries use (90天, 核定表) implies that city;
        # a common one (申请 is in half of Suzhou's entries) is just that city's vocabulary.
        seen_in: dict[str, set[str]] = {}
        counts: dict[str, int] = {}
        # Out-of-scope items about one core city count too: 多少钱 is in Tianjin's cost
        # entry and in "Suzhou's fee is not in the sources", so it implies neither.
        for doc, terms in zip(self._docs, doc_terms, strict=True):
            about = core_city(doc, self._core) if doc.core or doc.oos else None
            for token in terms:
                counts[token] = counts.get(token, 0) + 1
                if about is not None:
                    seen_in.setdefault(token, set()).add(about)
        rare = max(1, int(total * IMPLY_MAX_SHARE))
        self._city_of_token = {
            t: next(iter(c))
            for t, c in seen_in.items()
            if len(c) == 1 and " " not in t and counts[t] <= rare
        }
        df: dict[str, int] = {}
        for terms in doc_terms:
            for token in terms:
                df[token] = df.get(token, 0) + 1
        self.idf = {t: math.log(1.0 + total / n) for t, n in df.items()}
        self._postings: dict[str, tuple[tuple[int, float], ...]] = {}
        self._topics = NamedTopics(kb)
        grouped: dict[str, list[tuple[int, float]]] = {}
        for index, terms in enumerate(doc_terms):
            for token, weight in terms.items():
                grouped.setdefault(token, []).append((index, weight * self.idf[token]))
        self._postings = {t: tuple(p) for t, p in grouped.items()}
        # Each document's own keywords (full weight, single words) and their IDF mass:
        # between equal scores, the entry whose keywords the question covers most wins.
        self._keywords = [
            frozenset(t for t, w in terms.items() if w >= KEYWORD_WEIGHT and " " not in t)
            for terms in doc_terms
        ]
        self._keyword_mass = [sum(self.idf[t] for t in kws) or 1.0 for kws in self._keywords]

    def analyze(self, text: str) -> Query:
        """How the matcher reads a question (see `knowledge.analysis`). The last few
        readings are kept: one turn asks for the same text's reading two or three times
        (the clerk's cities, the match, the entries' scores). Queries are never mutated."""
        query = self._readings.get(text)
        if query is None:
            if len(self._readings) >= READINGS_KEPT:
                self._readings.pop(next(iter(self._readings)))
            query = self._readings[text] = self.analyzer.analyze(text)
        return query

    def normalize(self, text: str) -> str:
        """The canonical text: what keyword routes and the index compare against."""
        return self.normalizer.normalize(text)

    # ------------------------------------------------------------------ matching
    def implied_cities(self, query: Query) -> frozenset[str]:
        """The core cities the query's rare words imply (核定表 → Suzhou, 90天 → Tianjin)."""
        found = {self._city_of_token.get(t) for t in query.terms}
        found.discard(None)
        return frozenset(c for c in found if c is not None)

    def scores(self, query: Query, ctx: MatchContext) -> list[tuple[float, int]]:
        """(adjusted score, doc index) of every candidate with some overlap, best first."""
        acc: dict[int, float] = {}
        postings = self._postings
        for group in query.groups:
            if len(group) == 1:
                token, weight = group[0]
                for index, value in postings.get(token, ()):
                    acc[index] = acc.get(index, 0.0) + weight * value
                continue
            # A word and its sub-words (少儿医保, 少儿, 医保): a document earns the best one.
            best: dict[int, float] = {}
            for token, weight in group:
                for index, value in postings.get(token, ()):
                    if weight * value > best.get(index, 0.0):
                        best[index] = weight * value
            for index, value in best.items():
                acc[index] = acc.get(index, 0.0) + value
        ranked: list[tuple[float, int]] = []
        implied = self.implied_cities(query)
        words = [g[0][0] for g in query.groups if " " not in g[0][0]]
        for index, raw in acc.items():
            factor = city_factor(
                self._docs[index], query.cities, implied, ctx, self._core, self._related
            )
            if factor > 0.0:
                keywords = self._keywords[index]
                covered = sum(self.idf[w] for w in words if w in keywords)
                focus = 1.0 + FOCUS_WEIGHT * covered / self._keyword_mass[index]
                ranked.append((raw * factor * focus, index))
        ranked.sort(key=lambda pair: (-pair[0], pair[1]))
        return ranked

    def match(self, text: str, ctx: MatchContext | None = None) -> Match:
        ctx = ctx or MatchContext()
        query = self.analyze(text)
        named_city = self._single(query.cities)
        elsewhere = bool(query.cities) and not (query.cities & self._core)
        if not query.terms:
            follow = self._follow_up(query.cities, ctx)
            if follow is not None:
                return follow
            return (
                self._not_covered(query, 0.0, ())
                if elsewhere
                else Match("unknown", city=named_city)
            )
        ranked = self.scores(query, ctx)
        mass = KEYWORD_WEIGHT * sum(self._group_mass(group) for group in query.groups)
        entries = [(s, i) for s, i in ranked if not self._docs[i].oos]
        suggestions = tuple(self._docs[i].id for _, i in entries[:SUGGESTIONS])
        if not ranked:
            return (
                self._not_covered(query, 0.0, ())
                if elsewhere
                else Match("unknown", city=named_city)
            )
        best_score, best_index = ranked[0]
        best = self._docs[best_index]
        confidence = min(1.0, best_score / mass) if mass else 0.0
        strong = confidence >= self.min_confidence and best_score >= self.min_score
        if elsewhere and not (strong and (best.oos or confidence >= OTHER_CITY_MIN_CONFIDENCE)):
            # Another city's question without a snippet that clearly fits: say plainly it
            # is not covered rather than answer beside the point.
            return self._not_covered(query, confidence, suggestions, ranked)
        clarify = self._clarify(query, ctx, ranked, best)
        if clarify is not None:
            return Match(kind="clarify_city", confidence=confidence, suggestions=clarify)
        if not strong:
            overview = self._overview(query)
            if overview is not None:
                return overview
            return Match(
                kind="unknown", confidence=confidence, city=named_city, suggestions=suggestions
            )
        # "苏州积分入学要什么材料": 积分入学 is a topic the pages do not cover, however much
        # of the rest of the question fits 积分入医.
        topic = self._topics.named(self.normalizer.surface(text)) or best.id
        if best.oos or topic != best.id:
            return Match("out_of_scope", topic, confidence, named_city, suggestions)
        return Match(kind="answer", entry_id=best.id, confidence=confidence, city=best.city)

    def not_covered(self, text: str) -> Match:
        """The out-of-scope verdict for a question about a city the pages do not cover
        ("杭州积分入医怎么申请"), whatever in-scope words it also uses."""
        query = self.analyze(text)
        others = replace(query, cities=query.cities - self._core)
        return self._not_covered(others, 0.0, ())

    def _not_covered(
        self,
        query: Query,
        confidence: float,
        suggestions: tuple[str, ...],
        ranked: list[tuple[float, int]] | None = None,
    ) -> Match:
        """Out of scope for a non-core city. In order: a fitting item that names the city,
        any item naming it, a fitting item, the item naming most other cities (the
        "other cities" notice); unknown when the KB has none of these."""
        ranked_oos = [(score, i) for score, i in ranked or () if self._docs[i].oos]
        naming = self._oos_naming(query.cities)
        candidates = [i for _, i in ranked_oos if i in naming] + naming
        candidates += [i for score, i in ranked_oos if score >= self.min_score]
        others = [
            (len(doc.cities - self._core), i)
            for i, doc in enumerate(self._docs)
            if doc.oos and doc.cities - self._core
        ]
        candidates += [max(others)[1]] if others else []
        city = self._single(query.cities)
        if not candidates:
            return Match("unknown", confidence=confidence, city=city, suggestions=suggestions)
        return Match(
            kind="out_of_scope",
            entry_id=self._docs[candidates[0]].id,
            confidence=confidence,
            city=city,
            suggestions=suggestions,
        )

    def _overview(self, query: Query) -> Match | None:
        """ "苏州医保": a core city and nothing but words the KB knows -> the city's overview.
        An unknown word ("天津的天气") means the question is about something else."""
        city = self._single(query.cities)
        if city not in self._core or any(
            g[0][0] not in self.idf for g in query.groups if " " not in g[0][0]
        ):
            return None
        for doc in self._docs:
            if doc.city == city and doc.core and doc.topic == OVERVIEW_TOPIC:
                return Match("answer", doc.id, confidence=self.min_confidence, city=city)
        return None

    def _oos_naming(self, cities: frozenset[str]) -> list[int]:
        """Out-of-scope items whose own text names one of `cities` (上海 -> other cities)."""
        return [i for i, doc in enumerate(self._docs) if doc.oos and doc.cities & cities]

    def _follow_up(self, cities: frozenset[str], ctx: MatchContext) -> Match | None:
        """A bare city ("苏州呢") after an answer: that city's entry on the same subject.

        The previous entry's title stands in for the question; entries of the same topic
        (topics are shared across cities: materials, where, time ...) come first.
        """
        previous = self.kb.entries.get(ctx.entry or "")
        city = self._single(cities)
        if previous is None or city is None or city not in self._core or previous.city == city:
            return None
        stand_in = self.analyze(previous.title)
        query = Query(stand_in.terms, stand_in.groups, frozenset({city}))
        candidates = [
            (self._docs[i].topic == previous.topic, score, self._docs[i].id)
            for score, i in self.scores(query, MatchContext(city=city))
            if not self._docs[i].oos and self._docs[i].city == city and self._docs[i].core
        ]
        if not candidates:
            return None
        best = max(candidates, key=lambda c: (c[0], c[1]))
        return Match(kind="answer", entry_id=best[2], confidence=self.min_confidence, city=city)

    def _group_mass(self, group: tuple[tuple[str, float], ...]) -> float:
        """What a question word could earn at most; pairs only add evidence, never dilute."""
        token, weight = group[0]
        if " " in token:
            return 0.0
        known = [w * self.idf[t] for t, w in group if t in self.idf]
        return max(known) if known else weight * UNKNOWN_IDF

    def _clarify(
        self, query: Query, ctx: MatchContext, ranked: list[tuple[float, int]], best: Doc
    ) -> tuple[str, ...] | None:
        """The question fits both core cities and names neither: ask which one.

        A city's best fit may be an out-of-scope item about it (Suzhou's fee is not in the
        sources): asking first beats answering Tianjin's fee to someone in Suzhou.
        Returns the entries behind the two fits (out-of-scope ones left out).
        """
        if query.cities or ctx.city in self._core or best.oos or best.city not in self._core:
            return None
        implied = self.implied_cities(query)
        if len(implied) == 1:
            return None
        ratio = CLARIFY_RATIO if implied else NEUTRAL_CLARIFY_RATIO
        return close_fits(ranked, self._docs, self._core, ratio, self.min_score)

    @staticmethod
    def _single(cities: frozenset[str]) -> str | None:
        return next(iter(cities)) if len(cities) == 1 else None
