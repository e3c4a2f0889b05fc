"""A phrase of the page asked back: "页面说“随出生、随参保、随享受”，实际是啥意思",
"积分入医里说的9月15日是什么日子". The answer is the entry whose text says that phrase,
whatever other entries the question's words would reach (9月15日 is also a day of the
application calendar, but the page says it of the 入学指标).

Only a phrase the parent marks as quoted counts: in quotation marks, or after 说的 / 写的 /
提到的 (`quote_markers`) - a bare "出生一件事是什么意思" is an ordinary question the frame answers.
"""

from __future__ import annotations

import re
import unicodedata

from knowledge.loader import KnowledgeBase
from knowledge.schema import Understanding

_QUOTED = re.compile(r"[“\"「『‘'](.{2,40}?)[”\"」』’']")
_NOT_TEXT = re.compile(r"[\s\W_]+")
MIN_CHARS = 3  # shorter quotes ("90") say too little to find their sentence


def _plain(text: str) -> str:
    """Letters and digits only, full-width folded: "9月15日" matches "9月15日前"."""
    return _NOT_TEXT.sub("", unicodedata.normalize("NFKC", text))


class QuotedText:
    def __init__(self, kb: KnowledgeBase, vocab: Understanding) -> None:
        self._kb = kb
        self._meaning = tuple(vocab.meaning_words)
        self._markers = tuple(vocab.quote_markers)  # 说的, 写的 …
        self._answers = {e.id: _plain(e.answer) for e in kb.entries.values()}

    def entry(self, text: str, city: str | None) -> str | None:
        """The entry whose answer says the phrase quoted in `text`, the shortest of several
        (the one about it, not an overview that repeats it); None when nothing is quoted
        or no entry of the city says it."""
        if not any(w in text for w in self._meaning):
            return None
        quote = self._quote(text)
        if quote is None or len(quote) < MIN_CHARS:
            return None
        hits = [
            eid
            for eid, answer in self._answers.items()
            if quote in answer and (city is None or self._kb.entries[eid].city == city)
        ]
        return min(hits, key=lambda e: len(self._answers[e])) if hits else None

    def _quote(self, text: str) -> str | None:
        marked = _QUOTED.search(text)
        if marked is not None:
            return _plain(marked.group(1))
        at = min((i for w in self._meaning if (i := text.find(w)) >= 0), default=-1)
        before = text[:at] if at > 0 else ""
        cut = max((before.rfind(m) + len(m) for m in self._markers if m in before), default=-1)
        return _plain(before[cut:]) if cut > 0 else None
