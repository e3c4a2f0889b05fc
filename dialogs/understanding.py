"""Understand a free-text turn in its conversation, then answer it the way a clerk would.

Order of decisions (each is data-driven; the wording is in knowledge/data/*.yaml):

1. the message's frame (`knowledge.frame`) is merged with the dialogue state kept in
   `session.context`: what a follow-up leaves out is inherited ("后天呢" = same question,
   other day; "苏州也一样吗" = same question, other city; "然后呢" = the next step), what it
   says replaces the old value (corrections);
2. conversation acts (你好, 谢谢, a statement of context) get a short reply, facts remembered;
3. scope guards: a population or year the pages do not cover gets an honest reply, never
   the nearest in-scope answer;
4. verdicts from the pure rules the flows use: the 90-day rule for a stated birth day, the
   Suzhou calendar for a dated step ("核定表现在还能打印吗", "后天呢");
5. frame -> entry: entries answering the frame's aspect for its city and population, keyword
   overlap breaking ties; no such entry: "the page does not say", the closest as buttons.

`answer` returns replies, the keyword matcher's `Match` when the clerk has no opinion of its
own (the engine renders it), or None when the question names only other cities.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from dialogs import callbacks as cb
from dialogs import outcomes
from dialogs.birth_verdicts import BirthVerdicts
from dialogs.choosing import STRONG_RANK, EntryChooser
from dialogs.dialogue import CASE_KEYS, SAID_SEP, DialogueReader, Turn, said
from dialogs.flows.facts import ended_flow
from dialogs.heads import AnswerHeads, headed
from dialogs.inheritance import asks_what_now
from dialogs.items import ItemPointer, beside, last_step
from dialogs.outcomes import Outcome
from dialogs.quoting import QuotedText
from dialogs.renders import Renders
from dialogs.scope_match import ScopeMatches
from dialogs.session import Session
from dialogs.splitting import CaseSplitter
from dialogs.types import Button, Reply
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Match, MatchContext, Matcher

HOW_ASPECTS = frozenset({"steps", "eligibility"})  # a stated birth day adds its verdict
MAX_SUGGESTIONS = 3


class Clerk:
    def __init__(self, kb: KnowledgeBase, matcher: Matcher) -> None:
        assert kb.understanding is not None
        self.kb = kb
        self.vocab = kb.understanding
        self.matcher = matcher
        self.dialogue = DialogueReader(self.vocab, matcher)
        self._groups = self.dialogue.groups
        self.cities = matcher.lexicon.cities  # the covered cities, in declared order
        self.chooser = EntryChooser(kb, self.vocab, matcher, self.dialogue.reader)
        self.pointer = ItemPointer(self.vocab)
        self.quoting = QuotedText(kb, self.vocab)
        self.city_names = matcher.lexicon.city_names
        self.heads = AnswerHeads(kb, self.city_names)
        self.scope = ScopeMatches(kb, self.vocab, matcher, self.chooser.fits)
        self.births = BirthVerdicts(kb, self.heads)
        self.splitter = CaseSplitter(
            kb,
            self.chooser,
            self.heads,
            {c: [n for n, cid in self.city_names.items() if cid == c] for c in self.cities},
            self.dialogue.relative_hukou,
            self.dialogue.reader,
        )

    def read(self, session: Session, text: str, today: date) -> Turn:
        """The message in its conversation (`dialogs.dialogue`)."""
        return self.dialogue.read(session, text, today)

    def new_case(self, session: Session, text: str) -> bool:
        """ "第二家：…", "那第三户呢": another family's case. Its facts replace the last
        family's (who, birth day, children, the item pointed at); the city stays."""
        if not any(w in text for w in self.vocab.new_case_words):
            return False
        for key in CASE_KEYS:
            session.context.pop(key, None)
        return True

    def as_claim(self, session: Session, text: str) -> str:
        """ "是这样吗", "靠谱吗" alone after a message stating something heard ("邻居说苏州
        积分入医随时都能申请"): that message asked as a yes/no question."""
        bare = text.strip().rstrip("？?！!。 ")
        earlier = said(session)
        if bare not in self.vocab.confirm_words or not earlier:
            return text
        return f"{earlier[-1]}，{bare}？"

    def remember(self, session: Session, turn: Turn) -> None:
        """Keep the dialogue state; a grown-up named in an errand for the child ("我老婆说…",
        "用我的身份证替她办") is not who later questions are about."""
        self.dialogue.remember(session, self.heads.without_errand_grownups(turn))

    # ---------------------------------------------------------------- deciding
    def answer(
        self,
        session: Session,
        text: str,
        today: date,
        render: Renders,
        turn: Turn | None = None,
    ) -> list[Reply] | Match | None:
        """Decide a free-text turn. With `turn` given, the caller has read the message and
        remembers it; without, the clerk reads and remembers it itself."""
        self.chooser.new_turn()
        if turn is None:
            turn = self.read(session, text, today)
            replies = self._decide(session, turn, today, render)
            self.remember(session, turn)
        else:
            replies = self._decide(session, turn, today, render)
        if turn.frame.asks_why and isinstance(replies, Match) and replies.kind == "answer":
            replies = [render.entry_reply(session, str(replies.entry_id), today)]
        if turn.frame.asks_why and isinstance(replies, list) and replies:
            replies[0] = headed(self.heads.why_silence(), replies[0])  # "为什么才交100"
        return replies

    def _decide(
        self, session: Session, turn: Turn, today: date, render: Renders
    ) -> list[Reply] | Match | None:
        """The stages in order; the first that has something to say answers."""
        if (
            turn.frame.correction
            and not turn.aspects
            and turn.stated
            and turn.city
            and said(session)
        ):
            # "哦不对 孩子其实还没上幼儿园" after an answer: how to enrol, for the corrected case.
            turn = replace(turn, aspects=("steps",), inherited=True)
        if turn.elsewhere:
            return self.scope.elsewhere(turn)
        item = self.pointer.item(session, turn, render.entry_item, self.kb)
        if item is not None:
            return [item]
        if self.pointer.asks_last(turn) and session.last_entry in self.kb.entries:
            end = last_step(self.kb, str(session.last_entry))  # "最后一步是什么"
            return [render.entry_reply(session, end, today)]
        quoted = self.quoting.entry(turn.raw, turn.city)  # "说的9月15日是什么日子"
        if quoted is not None:
            return [render.entry_reply(session, quoted, today)]
        early = self._before_matching(session, turn, today, render)
        if early is not None:
            return early
        match = self.matcher.match(
            turn.raw, MatchContext(city=turn.city, topic=session.topic, entry=session.last_entry)
        )
        if match.kind == "out_of_scope":
            return self._out_of_scope(session, turn, today, render, match)
        return self._from_entries(session, turn, today, render, match)

    def _before_matching(
        self, session: Session, turn: Turn, today: date, render: Renders
    ) -> list[Reply] | None:
        """Acts, corrections of nothing asked, scope guards, verdicts, "然后呢"."""
        frame = turn.frame
        if frame.act is not None:  # the whole message is the act (its words may name no one)
            return [self._said_as(self.kb.text(f"act_{frame.act}"), Outcome.ACT)]
        if frame.correction and not turn.aspects and turn.stated:
            # "不对 是初二" with no question before it: the fact is taken, nothing guessed.
            return [self._said_as(self.heads.context_ack(turn), Outcome.ACT)]
        guard = self.heads.guard(turn)
        if guard is not None:
            said_instead = self._page_says(session, turn, today, render, guard)
            return [self._said_as(self.kb.text(guard), Outcome.GUARD), *said_instead]
        if ended_flow(session) and asks_what_now(turn.frame.text, self.vocab.what_now):
            return self.scope.what_now(turn, session, today, render)  # after "暂不符合"
        silence = self.scope.silence(turn, session, today, render)
        if silence is not None:
            return silence
        # "老大在天津上小学，老二刚出生，分别怎么办": each child's own case, before any flow.
        each = self.splitter.per_child(turn, session, today, render)
        if each:
            return each
        decided = self._flow_decides(session, turn, today, render)
        if decided is not None:
            return decided
        own = any(self.vocab.aspects[a].rank > STRONG_RANK for a in frame.aspects)
        if (
            (frame.next_step or frame.previous_step)
            and not own
            and session.last_entry in self.kb.entries
        ):
            step = beside(self.kb, session.last_entry, after=frame.next_step)
            if step is None:  # "然后呢" after the last step, "在那之前呢" before the first
                key = "next_none" if frame.next_step else "previous_none"
                return [self._said_as(self.kb.text(key), Outcome.ABSTAIN)]
            return [render.entry_reply(session, step, today)]
        birth_city = self.births.city(turn, render, today)
        if birth_city is not None or (turn.city in render.birth_rule_cities()):
            before = str(session.context.get("aspects") or "").split(",")
            asked = turn.aspects or tuple(before)  # "比如我3月1号交的钱" after "从哪天起"
            paid = self.births.paid(replace(turn, aspects=asked), today)
            if paid is not None:
                return paid
        if birth_city is not None:
            verdict = self.births.verdict(turn, birth_city, today, render)
            if verdict is not None:
                session.last_entry = self.births.rule_entry(birth_city) or session.last_entry
                return verdict
        if turn.both:
            return self.splitter.per_city(turn, session, today, render) or None
        return None

    def _flow_decides(
        self, session: Session, turn: Turn, today: date, render: Renders
    ) -> list[Reply] | None:
        """A yes/no or eligibility question, or a plain statement of facts ("我们在苏州住了
        11个月"), in a city whose flow can decide: a failed condition is said at once, a
        fact typed as the answer to a question about the conditions is said to meet one."""
        frame = turn.frame
        asks = (
            frame.yes_no
            or "eligibility" in turn.aspects
            or self.heads.is_statement(turn)
            or any(w in frame.text for w in self.vocab.new_case_words)  # "第三家：住园区…"
            or any(w in frame.text for w in self.vocab.place_words)  # "张家港的外地孩子怎么上"
        )
        if turn.city is not None and asks and not self.heads.consequence(frame.text):
            # Facts said a turn or two before count too ("以前参加过学生医保" → "还能走积分入医吗").
            recent = SAID_SEP.join([*said(session), frame.text])
            decided = render.decided_flow(session, turn.city, recent, today, frame.correction)
            if decided is not None:
                return decided
        if turn.city is not None and "eligibility" in turn.aspects and self.heads.only_states(turn):
            met = render.met(session, turn.city, frame.text, today)  # "初三" after "有要求吗"
            if met is not None:
                return [met]
        return None

    def _out_of_scope(
        self, session: Session, turn: Turn, today: date, render: Renders, match: Match
    ) -> list[Reply] | Match:
        """A day asked about in a city's process ("端午节那天能去申请积分入医吗") is a question
        for that process's calendar, whatever the holiday's name matched; otherwise the
        out-of-scope answer stands ("端午苏州有啥好玩的" asks about no step)."""
        asks_step = bool(turn.frame.aspects) or (
            turn.inherited and (turn.frame.yes_no or turn.frame.followup)
        )  # "端午节那天街道办收申请吗" after the window: the same question, on that day
        if turn.when and turn.city and asks_step:
            dated = self.chooser.dated.for_aspect(turn)
            if dated is not None:
                return [render.entry_reply(session, dated, today, turn.when.first)]
        # "要是在北京看病要提前弄什么": the reading found care elsewhere, whatever a topic
        # out of scope shares with its words.
        away = turn.cared_away or turn.studies_away  # "在北京念书医保跟学校办还是家里办"
        if (turn.city is not None and away) or self.scope.by_chance(turn, match):
            # "大人自己要掏多少" in a Tianjin conversation reached "咨询电话" through shared
            # words only: the question's own aspect has an answer for this city, said with
            # what such an answer must say (another year's figures labelled as such).
            chosen = self.chooser.choose(turn, session, None)
            if chosen:
                return self._entry_replies(session, turn, today, render, chosen, None)
            if turn.cared_away and turn.aspects:  # "去上海看病能报吗" of Suzhou: its page is silent
                return self._abstain(turn, session) or match
        return match

    def _from_entries(
        self, session: Session, turn: Turn, today: date, render: Renders, match: Match
    ) -> list[Reply] | Match:
        """Frame -> entries (dialogs.choosing), then what the answer must say with them: the
        other city's word, a stated birth day's verdict, another year's figures."""
        # "孩子其实上初一了", or a bare "天津的" answering which city: the question again.
        restates = turn.inherited and (turn.frame.correction or self.heads.names_only_city(turn))
        # A birth day said with no city ("宝宝上个月1号出生的") is context, not a question.
        weak = match.kind != "answer" or (turn.city is None and turn.birth is not None)
        if weak and turn.stated and self.heads.is_statement(turn) and not restates:
            return [self._said_as(self.heads.context_ack(turn), Outcome.ACT)]
        picked = match.entry_id if match.kind == "answer" else None
        unsaid = self.chooser.pointing.unsaid(turn, session)
        if unsaid is not None:
            what = self.vocab.aspects[unsaid[1]].name
            body = self.kb.text("abstain_thing", thing=unsaid[0], what=what)
            return [self._said_as(body, Outcome.ABSTAIN)]
        unfit = self.scope.unfit_aspect(turn)
        if unfit is not None:
            return [self._said_as(unfit, Outcome.ABSTAIN)]
        uncovered = self.heads.uncovered_aspect(turn)
        if uncovered is not None:  # "天津也要公示吗": Tianjin's page has none; its own way
            way = self.chooser.choose(replace(turn, aspects=("steps",)), session, None)
            replies = [render.entry_reply(session, e, today) for e in way[:1]]
            if not replies:
                return [self._said_as(uncovered, Outcome.ABSTAIN)]
            return [headed(uncovered, replies[0])]
        chosen = self.chooser.choose(turn, session, picked)
        if not chosen and picked is not None and turn.frame.after:
            chosen = [picked]  # "核定表拿着干啥": what follows the thing the pick is about
        chosen = self.chooser.pointing.after(chosen, session.last_entry, turn)
        if not chosen and picked is not None and self.heads.fee(turn, [picked]):
            chosen = [picked]  # the pick stands, with its fee head said first
        if not chosen and picked is not None and self.chooser.by_chance(picked, turn):
            # "在天津还要积分吗": the other city's own word, asked of this city — or nothing.
            theirs = self.chooser.other_process(turn)
            if theirs is not None:
                chosen, picked = self.chooser.choose(turn, session, theirs), theirs
            if not chosen:
                return replace(match, kind="unknown", entry_id=None)
        if not chosen and picked is not None:
            elsewhere = self.heads.snippet_elsewhere(turn, [picked])
            if elsewhere is not None:  # "那孩子在外地看病怎么备案" in a Suzhou conversation
                return [headed(elsewhere, render.entry_reply(session, picked, today))]
        if not chosen:
            sure = turn.city is not None and bool(turn.aspects) and not turn.inherited
            if match.kind != "answer" and sure and not turn.stated:
                return self._abstain(turn, session) or match
            if picked is not None and self.chooser.other_city(picked, turn):
                # Never the other city's process for this city's question: not covered.
                return replace(match, kind="unknown", entry_id=None)
            claim = self.heads.claimed(turn)  # "公示3天吧": the matcher's entry, 不对 first
            if claim is not None and picked is not None:
                return [headed(claim, render.entry_reply(session, picked, today))]
            return match
        return self._entry_replies(session, turn, today, render, chosen, picked)

    def _entry_replies(
        self,
        session: Session,
        turn: Turn,
        today: date,
        render: Renders,
        chosen: list[str],
        picked: str | None,
    ) -> list[Reply]:
        """The chosen entries, headed by what the turn needs first: the other city's word, the
        entry's verdict, another year's label; a stated birth day's verdict after them."""
        when = turn.when.first if turn.when is not None else None
        replies = [render.entry_reply(session, e, today, when) for e in chosen]
        theirs = (
            picked is not None
            and self.chooser.other_city(picked, turn)
            and (turn.switched or self._names_other_process(picked, turn))
        )
        word_of = picked if theirs else None
        if word_of is None and turn.switched:  # "苏州那边也有这个90天吗": Tianjin's own term
            word_of = self.chooser.other_process(turn)
            theirs = word_of is not None
        if word_of is not None:
            # "天津也要积分吗" after Suzhou: the word belongs to the other city's process;
            # say whose it is and that this city's page describes its own way, then that
            # way - with no verdict of this city's entry, which answers another question.
            label = self.kb.ui.get(f"city_{turn.city}", turn.city)
            other = self.kb.entries[word_of].city
            head = self.kb.text(
                "compare_other", city=label, other=self.kb.ui.get(f"city_{other}", other)
            )
            replies[0] = headed(head, replies[0])
        birth_city = self.births.city(turn, render, today)
        if birth_city is not None and turn.birth is not None and set(turn.aspects) & HOW_ASPECTS:
            asked = replace(turn, aspects=("deadline",))
            replies += self.births.verdict(asked, birth_city, today, render) or []
        before = "".join(said(session)[-1:])  # "外地户口的宝宝能用吗" after 出生一件事
        replies[0] = self.heads.opened(turn, chosen, replies[0], not theirs, before)
        return replies

    @staticmethod
    def _said_as(text: str, outcome: Outcome) -> Reply:
        return Reply(text=text, state=outcomes.state(outcome))

    # ---------------------------------------------------------------- parts
    def _names_other_process(self, picked: str, turn: Turn) -> bool:
        """ "天津外地户口宝宝需要积分吗": a word of the other city's own process (not a news
        snippet's) that no answer of this city says."""
        entry = self.kb.entries[picked]
        if entry.group != "core":
            return False
        # The pick may be another entry of that process ("天津的宝宝能办积分入医吗" picks
        # what follows the 资格): any of its entries' own words counts.
        return (
            self.chooser.names_keyword(entry, turn, own=True)
            or self.chooser.other_process(turn) is not None
        )

    def _page_says(
        self, session: Session, turn: Turn, today: date, render: Renders, guard: str
    ) -> list[Reply]:
        """ "苏州也一样吗" after a Tianjin newborn's question, a population the Suzhou page
        lacks: after the guard, what that page says of the aspect for its own population
        (the answer's title names it), which is the comparison asked."""
        own_city = any(g.reply == guard and g.city for g in self.vocab.guards)
        if not (own_city and turn.frame.compare and turn.inherited and turn.aspects):
            return []
        chosen = self.chooser.choose(replace(turn, populations=frozenset()), session, None)
        return [render.entry_reply(session, e, today) for e in chosen[:1]]

    def _abstain(self, turn: Turn, session: Session) -> list[Reply] | None:
        aspect = turn.aspects[0]
        name = self.vocab.aspects[aspect].name
        ranked = self.chooser.ranked(turn, session)
        ids = [i for i in ranked if i in self.kb.entries][:MAX_SUGGESTIONS]
        body = self.kb.text("abstain_aspect", what=name)
        rows = tuple((Button(self.kb.entries[i].title, cb.entry(i)),) for i in ids)
        return [Reply(text=body, buttons=rows, state=outcomes.state(Outcome.ABSTAIN))]
