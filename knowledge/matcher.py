"""Route free text to a knowledge entry. (Interim version: replaced by the jieba matcher.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from knowledge.loader import KnowledgeBase

MatchKind = Literal["answer", "clarify_city", "out_of_scope", "unknown"]


@dataclass(frozen=True, slots=True)
class MatchContext:
    """What the conversation already established; boosts entries of that city and topic."""

    city: str | None = None
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    kind: MatchKind
    entry_id: str | None = None
    confidence: float = 0.0
    city: str | None = None
    suggestions: tuple[str, ...] = field(default=())


class Matcher:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def normalize(self, text: str) -> str:
        return text.strip()

    def match(self, text: str, ctx: MatchContext | None = None) -> Match:
        ctx = ctx or MatchContext()
        best: tuple[float, str] | None = None
        for entry in self.kb.entries.values():
            score = sum(1.0 for kw in entry.keywords if kw in text)
            if ctx.city and entry.city == ctx.city:
                score *= 1.2
            if score and (best is None or score > best[0]):
                best = (score, entry.id)
        if best is None:
            return Match(kind="unknown")
        return Match(kind="answer", entry_id=best[1], confidence=min(1.0, best[0] / 2))
