"""Matches of out-of-scope topics and other cities, read against the turn: a topic that
shares only words with the question is by chance; another city's question gets its news
snippets or "not covered", never the pages' own process; a date written for newborns
is not one for pupils.

Split from `dialogs.understanding` (the clerk); pure over the knowledge base and matcher.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from dialogs import outcomes
from dialogs.choosing import STRONG_RANK
from dialogs.dialogue import SAID_SEP, WHY_FILLER, Turn, said
from dialogs.flows.facts import ended_flow
from dialogs.heads import headed
from dialogs.outcomes import Outcome
from dialogs.renders import Renders
from dialogs.session import Session
from dialogs.types import Reply
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Match, MatchContext, Matcher
from knowledge.schema import Entry, Understanding


class ScopeMatches:
    def __init__(
        self,
        kb: KnowledgeBase,
        vocab: Understanding,
        matcher: Matcher,
        fits: Callable[[Entry, Turn], bool],
    ) -> None:
        self.kb = kb
        self.vocab = vocab
        self.matcher = matcher
        self.fits = fits  # whether an entry is written for the turn's child

    def silence(
        self, turn: Turn, session: Session, today: date, render: Renders
    ) -> list[Reply] | None:
        """The message's own first aspect is one neither page says ("复印件要几份", "为啥非要
        原件" after the materials): said so, then the entry beside it for this city if the
        vocabulary names one (`near`); None when the aspect is not silent. A bare "为什么"
        asks of the answer just given: right after a flow's verdict, the conditions it
        judged; after an answer, that answer again under the silence (the rule is what the
        page has to say of why)."""
        asked = (turn.aspects if turn.inherited else turn.frame.aspects or turn.aspects)[:1]
        spec = self.vocab.aspects[asked[0]] if asked else None
        if spec is None or self.topic_says_more(turn):
            return None
        if not spec.silent and turn.city not in spec.silent_in:
            return None
        said_text = turn.frame.text.replace(" ", "")
        bare = not said_text.strip(WHY_FILLER + "".join(spec.words))
        if ended_flow(session) and bare:  # "为什么" right after a verdict: the conditions
            given = self._judged(turn, session, today, render)
            if given is not None:
                return [given]
        last = self.kb.entries.get(session.last_entry or "")
        near = spec.near.get(turn.city or "")
        if (spec.explains or spec.silent_in) and last is not None and last.city == turn.city:
            near = last.id  # "为什么会这样": the answer just given, its rule
        if near is not None:  # then what the page does say beside it
            reply = render.entry_reply(session, near, today)
            return [headed(self.kb.text("abstain_aspect_near", what=spec.name), reply)]
        body = self.kb.text("abstain_aspect", what=spec.name)
        return [Reply(text=body, state=outcomes.state(Outcome.ABSTAIN))]

    def what_now(self, turn: Turn, session: Session, today: date, render: Renders) -> list[Reply]:
        """ "那我怎么办" after a flow's "暂不符合": the page names no other way in; when the
        conditions not met are met, the next window — then those conditions again."""
        head = self.kb.text("what_now_ineligible")
        judged = self._judged(turn, session, today, render)
        if judged is None:
            return [Reply(text=head, state=outcomes.state(Outcome.ABSTAIN))]
        return [headed(head, judged)]

    @staticmethod
    def _judged(turn: Turn, session: Session, today: date, render: Renders) -> Reply | None:
        """The flow's verdict on the facts of the conversation so far ("去年办过学生医保" then
        "还能再申请吗"), as the flow that just ended judged them."""
        return render.judged(session, str(turn.city), SAID_SEP.join(said(session)), today)

    def topic_says_more(self, turn: Turn) -> bool:
        """An out-of-scope topic says more than the page's silence ("医保卡丢了咋补" is the
        card service's own reply) - when it says one of that topic's words: "孩子要不要本人
        到场" shares only "要不要…孩子" with "要不要给孩子买商业保险"."""
        match = self.matcher.match(turn.raw, MatchContext(city=turn.city))
        return match.kind == "out_of_scope" and not self.by_chance(turn, match)

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
        if entry is not None and self._not_of_snippet(turn, entry):
            return self.matcher.not_covered(turn.raw)
        topic = self.kb.out_of_scope.get(match.entry_id or "")
        if match.kind == "out_of_scope" and topic is not None and topic.about is not None:
            # "深圳少儿医保一年多少钱" is not Suzhou's fee topic (nor Tianjin's 830 beside it).
            return self.matcher.not_covered(turn.raw)
        return match

    def _not_of_snippet(self, turn: Turn, entry: Entry) -> bool:
        """ "深圳外地户口小孩少儿医保怎么参保": how to enrol there is not what the snippet on
        深圳医保 used elsewhere says (a snippet answers using insurance, never enrolling)."""
        said = turn.frame.text.replace(" ", "")
        return entry.group == "related" and any(w in said for w in self.vocab.enrol_asks)

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

    def unfit_aspect(self, turn: Turn) -> str | None:
        """The message's own aspect has answers in the city, but only for other children
        than the one it names ("天津在校学生的医保每年几月份缴费": the page's dates are the
        newborns'): the page is silent for this child, said with whom it does answer."""
        frame = turn.frame
        if turn.city is None or not frame.aspects or not frame.populations or turn.inherited:
            return None
        spec = self.vocab.aspects[frame.aspects[0]]
        if frame.aspects[0] not in self.vocab.population_bound:
            return None
        about = [
            e
            for e in self.kb.entries.values()
            if e.city == turn.city and frame.aspects[0] in e.aspects
        ]
        if not about or any(self.fits(e, turn) for e in about):
            return None
        titles = "、".join(e.title for e in about[:2])
        return self.kb.text("abstain_unfit", what=spec.name, titles=titles)
