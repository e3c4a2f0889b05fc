"""Matches of out-of-scope topics and other cities, read against the turn: a topic that
shares only words with the question is by chance; another city's question gets its news
snippets or "not covered", never the pages' own process.

Split from `dialogs.understanding` (the clerk); pure over the knowledge base and matcher.
"""

from __future__ import annotations

from dialogs.choosing import STRONG_RANK
from dialogs.dialogue import Turn
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Match, MatchContext, Matcher
from knowledge.schema import Understanding


class ScopeMatches:
    def __init__(self, kb: KnowledgeBase, vocab: Understanding, matcher: Matcher) -> None:
        self.kb = kb
        self.vocab = vocab
        self.matcher = matcher

    def topic_says_more(self, turn: Turn) -> bool:
        """An out-of-scope topic says more than the page's silence ("医保卡丢了咋补" is the
        card service's own reply)."""
        return self.matcher.match(turn.raw, MatchContext(city=turn.city)).kind == "out_of_scope"

    def elsewhere(self, turn: Turn) -> Match:
        """Another city's question: the matcher's related snippets or "not covered"; an answer
        from the pages' own process ("杭州积分入医") would be another city's."""
        match = self.matcher.match(turn.raw, MatchContext())
        entry = self.kb.entries.get(match.entry_id or "")
        about = {*turn.mentioned, turn.away}  # named now, or the snippet's city before
        if (
            match.kind == "answer"
            and entry is not None
            and (entry.group == "core" or entry.city not in about)
        ):
            # Nor a snippet about somewhere else ("杭州有没有类似的政策" is not 异地备案).
            return self.matcher.not_covered(turn.raw)
        topic = self.kb.out_of_scope.get(match.entry_id or "")
        if match.kind == "out_of_scope" and topic is not None and topic.about is not None:
            # "深圳少儿医保一年多少钱" is not Suzhou's fee topic (nor Tianjin's 830 beside it).
            return self.matcher.not_covered(turn.raw)
        return match

    def by_chance(self, turn: Turn, match: Match) -> bool:
        """An out-of-scope match none of whose keywords the message says, for a question with
        a specific aspect of its own, or a follow-up of the question before, in a city the
        conversation is about."""
        item = self.kb.out_of_scope.get(match.entry_id or "")
        if item is None or turn.city is None:
            return False
        said_text = turn.frame.text.replace(" ", "")
        if any(k in said_text for k in item.keywords):
            return False
        if any(w in said_text for w in self.vocab.pronouns):
            return True  # "这个能用吗": the thing just named, not a topic out of scope
        if turn.inherited:
            # "那总共多少" after the cost answer: the question before it decides the aspect.
            return turn.frame.followup
        if not turn.frame.aspects:
            return False
        return self.vocab.aspects[turn.frame.aspects[0]].rank >= STRONG_RANK
