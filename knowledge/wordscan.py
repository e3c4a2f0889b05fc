"""Which of many vocabulary words occur in a short text, without testing every word.

The frame reader looks for hundreds of aspect and population words in every clause; a
substring test per word was a tenth of a WeChat message's CPU. Indexing the words by their
first character and testing only those whose first character is in the text finds exactly
the same words (a word that occurs has its first character in the text), in the same order,
so the readers' longest-first consuming loops keep their meaning. Hand-written rather than
an Aho-Corasick package: the vocabulary is small, the texts are a sentence, and this is
twenty lines with no dependency.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

V = TypeVar("V")


class WordScan(Generic[V]):
    """An ordered list of (word, value) pairs and a fast "which of them occur in text"."""

    def __init__(self, pairs: Iterable[tuple[str, V]]) -> None:
        self.pairs: list[tuple[str, V]] = [(w, v) for w, v in pairs if w]
        self._by_first: dict[str, list[int]] = {}
        for index, (word, _) in enumerate(self.pairs):
            self._by_first.setdefault(word[0], []).append(index)

    def present(self, text: str) -> list[tuple[str, V]]:
        """The pairs whose word occurs in `text`, in the list's order."""
        indexes: list[int] = []
        for ch in set(text):
            indexes.extend(self._by_first.get(ch, ()))
        indexes.sort()
        return [self.pairs[i] for i in indexes if self.pairs[i][0] in text]
