"""What the matcher searches: every entry and out-of-scope item as weighted terms, and the
out-of-scope topics a message can name by a word of their own.

Entries are indexed from their keywords (weight 3), title (2) and sample questions (1);
out-of-scope items from their keywords and questions. Segmenting the whole KB is most of a
cold start's own work, so the result is cached on disk by content (`knowledge.cache`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from knowledge import cache
from knowledge.analysis import Analyzer
from knowledge.city_weights import Doc
from knowledge.loader import KnowledgeBase

KEYWORD_WEIGHT = 3.0
TITLE_WEIGHT = 2.0
QUESTION_WEIGHT = 1.0
NAMING_MIN_CHARS = 3  # shorter out-of-scope words are too common to name a topic alone


def indexed(
    kb: KnowledgeBase, analyzer: Analyzer, lexicon_digest: str
) -> tuple[list[Doc], list[dict[str, float]]]:
    """Every entry and out-of-scope item (as a `Doc`) with its weighted terms."""
    key = hashlib.sha256(
        f"{kb.version}:{lexicon_digest}:{cache.code_stamp()}".encode()
    ).hexdigest()[:24]
    stored = cache.read("index", key)
    if isinstance(stored, list):
        return [Doc(*row[:6]) for row in stored], [row[6] for row in stored]
    docs: list[Doc] = []
    doc_terms: list[dict[str, float]] = []
    for entry in kb.entries.values():
        fields = [(KEYWORD_WEIGHT, entry.keywords), (TITLE_WEIGHT, [entry.title])]
        fields.append((QUESTION_WEIGHT, entry.questions))
        terms, mentions = _weigh(analyzer, fields)
        others = mentions - {entry.city}
        docs.append(Doc(entry.id, entry.city, entry.topic, False, others, entry.group == "core"))
        doc_terms.append(terms)
    for item in kb.out_of_scope.values():
        terms, cities = _weigh(
            analyzer, [(KEYWORD_WEIGHT, item.keywords), (QUESTION_WEIGHT, item.questions)]
        )
        docs.append(Doc(item.id, None, None, True, cities))
        doc_terms.append(terms)
    rows = [
        (d.id, d.city, d.topic, d.oos, d.cities, d.core, terms)
        for d, terms in zip(docs, doc_terms, strict=True)
    ]
    cache.write("index", key, rows)
    return docs, doc_terms


def _weigh(
    analyzer: Analyzer, fields: Iterable[tuple[float, Iterable[str]]]
) -> tuple[dict[str, float], frozenset[str]]:
    """Each term's best weight over the fields, and the cities the texts name."""
    terms: dict[str, float] = {}
    cities: set[str] = set()
    for weight, texts in fields:
        for text in texts:
            query = analyzer.analyze(text, question=False)
            cities |= query.cities
            for token, share in query.terms.items():
                value = weight * share
                if value > terms.get(token, 0.0):
                    terms[token] = value
    return terms, frozenset(cities)


class NamedTopics:
    """Out-of-scope topics named by a word no entry of the pages uses (积分入学, 社保卡丢了):
    saying it makes the message about that topic, however much else it shares with the
    pages ("苏州积分入学要什么材料" is not the 积分入医 materials)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        pages = "".join(
            e.title + e.answer + "".join(e.questions) + "".join(e.keywords)
            for e in kb.entries.values()
        )
        self._page_words = frozenset(k for e in kb.entries.values() for k in e.keywords)
        self._words = sorted(
            (
                (word, item.id)
                for item in kb.out_of_scope.values()
                for word in item.keywords
                if len(word) >= NAMING_MIN_CHARS and word not in pages
            ),
            key=lambda pair: -len(pair[0]),
        )

    def named(self, surface: str) -> str | None:
        """The topic `surface` names, unless a longer word of the pages' own is said too
        ("办居住证" in "已经办居住证了，积分入医能申请吗" yields to 积分入医)."""
        said = surface.replace(" ", "")
        found = next(((w, oos) for w, oos in self._words if w in said), None)
        if found is None:
            return None
        longest = max((len(k) for k in self._page_words if k in said), default=0)
        return found[1] if len(found[0]) > longest else None
