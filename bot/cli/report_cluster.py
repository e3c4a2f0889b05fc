"""Group unanswered questions that share keywords, so curators see topics, not 500 lines.

The method is deliberately simple, so a curator can predict it:

1. Each distinct (already masked) question becomes a keyword set: its tokens as the matcher
   reads them (jieba with the project's dictionary, HMM off for short text; typos,
   traditional characters and synonyms folded to one canonical word) minus stop words,
   punctuation, digits and the mask placeholders (`[ID]`, `[PHONE]`, ...). So "在哪里打"
   and "去哪打" share a word, and a label may show the canonical word, not the typed one.
2. Questions are visited most frequent first. Each joins the existing group whose *seed*
   (the keyword set of the group's first, i.e. most asked, question) it overlaps most,
   measured by Jaccard similarity |A ∩ B| / |A ∪ B|, if that is at least `threshold`;
   otherwise it seeds a new group. Comparing with the fixed seed rather than a growing
   union keeps a group from drifting into an unrelated topic one shared word at a time.
3. A group is labelled by the keywords found in at least half of its asks.

Only groups sharing at least one keyword are compared (an inverted index), so the pass
is close to linear in the number of distinct questions.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

Tokenizer = Callable[[str], Iterable[str]]

DEFAULT_THRESHOLD = 0.4
MAX_EXAMPLES = 3
_PLACEHOLDER = re.compile(r"\[(?:ID|PHONE|DATE|NUM)\]", re.IGNORECASE)
_MEANINGFUL = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Cluster:
    """One group of unanswered questions."""

    keywords: tuple[str, ...]  # shared by at least half of the asks, most common first
    turns: int  # how many times a question of this group was asked
    chats: int  # by how many distinct chats
    examples: tuple[tuple[str, int], ...]  # (masked question, times asked), most asked first


def keyword_set(text: str, tokenize: Tokenizer, stopwords: Collection[str]) -> frozenset[str]:
    """The words of `text` that can say what it is about."""
    words = set()
    for token in tokenize(_PLACEHOLDER.sub(" ", text)):
        word = token.strip().lower()
        if not word or word in stopwords or word.isdigit() or not _MEANINGFUL.search(word):
            continue
        if len(word) == 1 and word.isascii():
            continue
        words.add(word)
    return frozenset(words)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass
class _Group:
    seed: frozenset[str]
    members: list[str]


def cluster_questions(
    asked: Mapping[str, int],
    chats_by_text: Mapping[str, Collection[str]],
    tokenize: Tokenizer,
    stopwords: Collection[str] = frozenset(),
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Cluster]:
    """Cluster `asked` (masked text -> times asked); biggest groups first.

    `chats_by_text` gives the chat hashes that asked each text, to count distinct chats.
    Questions without any keyword are grouped only with identical text.
    """
    order = sorted(asked, key=lambda t: (-asked[t], t))
    keywords = {text: keyword_set(text, tokenize, stopwords) for text in order}
    groups: list[_Group] = []
    index: dict[str, list[int]] = defaultdict(list)
    for text in order:
        words = keywords[text]
        best, best_score = -1, 0.0
        for gi in sorted({gi for w in words for gi in index[w]}):
            score = jaccard(words, groups[gi].seed)
            if score > best_score:
                best, best_score = gi, score
        if best >= 0 and best_score >= threshold:
            groups[best].members.append(text)
            continue
        groups.append(_Group(seed=words, members=[text]))
        for word in words:
            index[word].append(len(groups) - 1)
    clusters = [_summarise(g, asked, chats_by_text, keywords) for g in groups]
    clusters.sort(key=lambda c: (-c.turns, -c.chats, c.examples[0][0]))
    return clusters


def _summarise(
    group: _Group,
    asked: Mapping[str, int],
    chats_by_text: Mapping[str, Collection[str]],
    keywords: Mapping[str, frozenset[str]],
) -> Cluster:
    turns = sum(asked[t] for t in group.members)
    weight: Counter[str] = Counter()
    for text in group.members:
        for word in keywords[text]:
            weight[word] += asked[text]
    shared = [w for w, n in weight.items() if 2 * n >= turns]
    shared.sort(key=lambda w: (-weight[w], w))
    chats: set[str] = set()
    for text in group.members:
        chats.update(chats_by_text.get(text, ()))
    examples = tuple((t, asked[t]) for t in group.members[:MAX_EXAMPLES])
    return Cluster(keywords=tuple(shared), turns=turns, chats=len(chats), examples=examples)
