"""`yibao report`: what people asked, what the bot answered, what it could not.

Input is the store's turn records (`RecordSink.iter_records`); nothing else is read, so
the report shows exactly what retention has kept. `summarise` folds the records into a
`Report` in one streaming pass (pure, no I/O); `render_text` and `bot.cli.report_html` render
it; `short_stats` is the few-line version for the admins' `/stats` command.

Rates are taken over *questions*: turns whose outcome is an entry, unanswered, clarified
or out of scope. Flow steps, menu navigation and conversation acts (你好, 谢谢, a stray
"1") are counted as turns but are not questions, so a busy guided flow does not make the
bot look better at answering, and a greeting does not make it look worse. Out-of-scope
questions are broken down by topic (the `oos.` entry), and the answered turns with the
lowest matcher confidence are listed: likely wrong answers for the curators to check.
Days are the users' calendar days (`YIBAO_TIMEZONE`, `dialogs.clock`).
"""

from __future__ import annotations

import functools
import heapq
import unicodedata
from collections import Counter, defaultdict
from collections.abc import AsyncIterable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.cli.report_cluster import Cluster, Tokenizer, cluster_questions
from dialogs.clock import Clock
from dialogs.stores.base import RecordSink
from dialogs.stores.records import (
    ACT,
    CLARIFIED,
    FLOW,
    MENU,
    OUT_OF_SCOPE,
    OUTCOMES,
    UNANSWERED,
    TurnRecord,
    is_bare_number,
    split_outcome,
)
from knowledge.loader import KnowledgeBase

ANSWERED = "answered"  # summary bucket: any outcome that is an entry id
RATE_KEYS = (ANSWERED, UNANSWERED, CLARIFIED, OUT_OF_SCOPE)
NOT_QUESTIONS = frozenset({FLOW, MENU, ACT})
TOP_CLUSTERS = 20
TOP_ENTRIES = 30
LOW_CONFIDENCE_BELOW = 0.8  # answered turns under this confidence are listed ...
LOW_CONFIDENCE_SHOWN = 20  # ... the lowest this many of them
BAR_WIDTH = 30  # characters of the longest bar in the text chart
STATS_DAYS = 7  # /stats looks back this many days by default


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    turns: int
    unanswered: int


@dataclass(frozen=True, slots=True, order=True)
class LowAnswer:
    """An answered turn the matcher was unsure of (no text is kept for answered turns)."""

    confidence: float
    day: date
    entry: str


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the renderers show; built by `summarise`."""

    since: date | None
    first: date | None  # first and last day that have records
    last: date | None
    turns: int
    chats: int
    buckets: dict[str, int]  # RATE_KEYS -> count
    entry_hits: tuple[tuple[str, int], ...]  # most hit first
    days: tuple[Day, ...]  # every day from first to last, zeros included
    clusters: tuple[Cluster, ...] = field(default=())
    zone: str = ""  # the time zone of the days
    acts: int = 0  # greetings, thanks, stray numbers: turns, not questions
    out_of_scope_topics: tuple[tuple[str, int], ...] = ()  # oos id ("" unknown), most first
    low_confidence: tuple[LowAnswer, ...] = ()  # lowest confidence first

    @property
    def questions(self) -> int:
        return sum(self.buckets.values())

    def rate(self, key: str) -> float:
        return self.buckets.get(key, 0) / self.questions if self.questions else 0.0


def record_outcome(rec: TurnRecord) -> tuple[str, str | None]:
    """The record's outcome and out-of-scope topic; an unanswered bare number recorded
    before acts had an outcome of their own is an act."""
    outcome, topic = split_outcome(rec.outcome)
    if outcome == UNANSWERED and is_bare_number(rec.text):
        return ACT, None
    return outcome, topic


@dataclass
class _Tally:
    """The counts one pass over the records accumulates (memory grows with distinct chats,
    questions and days, never with the number of records)."""

    turns: int = 0
    acts: int = 0
    chats: set[str] = field(default_factory=set)
    buckets: Counter[str] = field(default_factory=lambda: Counter({k: 0 for k in RATE_KEYS}))
    hits: Counter[str] = field(default_factory=Counter)
    topics: Counter[str] = field(default_factory=Counter)
    low: list[tuple[float, int, LowAnswer]] = field(default_factory=list)  # max-heap (negated)
    per_day: Counter[date] = field(default_factory=Counter)
    unanswered_per_day: Counter[date] = field(default_factory=Counter)
    asked: Counter[str] = field(default_factory=Counter)
    askers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, rec: TurnRecord, day: date) -> None:
        self.turns += 1
        self.chats.add(rec.chat)
        self.per_day[day] += 1
        outcome, topic = record_outcome(rec)
        if outcome not in OUTCOMES:
            self.buckets[ANSWERED] += 1
            self.hits[outcome] += 1
            self._maybe_low(rec, day, outcome)
        elif outcome == ACT:
            self.acts += 1
        elif outcome not in NOT_QUESTIONS:
            self.buckets[outcome] += 1
        if outcome == OUT_OF_SCOPE:
            self.topics[topic or ""] += 1
        if outcome == UNANSWERED:
            self.unanswered_per_day[day] += 1
            if rec.text:
                self.asked[rec.text] += 1
                self.askers[rec.text].add(rec.chat)

    def _maybe_low(self, rec: TurnRecord, day: date, outcome: str) -> None:
        """Keep the LOW_CONFIDENCE_SHOWN answered turns of lowest confidence."""
        if rec.confidence is None or rec.confidence >= LOW_CONFIDENCE_BELOW:
            return
        item = (-rec.confidence, self.turns, LowAnswer(rec.confidence, day, outcome))
        push = heapq.heappush if len(self.low) < LOW_CONFIDENCE_SHOWN else heapq.heappushpop
        push(self.low, item)

    def days(self) -> tuple[Day, ...]:
        if not self.per_day:
            return ()
        first, last = min(self.per_day), max(self.per_day)
        span = ((first + timedelta(days=n)) for n in range((last - first).days + 1))
        return tuple(Day(d, self.per_day[d], self.unanswered_per_day[d]) for d in span)


def _by_count(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


async def summarise(
    records: AsyncIterable[TurnRecord],
    tokenize: Tokenizer,
    stopwords: Collection[str] = frozenset(),
    since: date | None = None,
    clock: Clock | None = None,
) -> Report:
    """One pass over the records. Days are `clock`'s (the users' time zone)."""
    clock = clock or Clock()
    tally = _Tally()
    async for rec in records:
        tally.add(rec, clock.day_of(rec.at))
    days = tally.days()
    return Report(
        since=since,
        first=days[0].day if days else None,
        last=days[-1].day if days else None,
        turns=tally.turns,
        chats=len(tally.chats),
        buckets=dict(tally.buckets),
        entry_hits=_by_count(tally.hits),
        days=days,
        clusters=tuple(cluster_questions(tally.asked, tally.askers, tokenize, stopwords)),
        zone=str(clock.tz),
        acts=tally.acts,
        out_of_scope_topics=_by_count(tally.topics),
        low_confidence=tuple(sorted(item for _, _, item in tally.low)),
    )


async def build_report(
    store: RecordSink,
    since: date | None,
    tokenize: Tokenizer,
    stopwords: Collection[str],
    clock: Clock | None = None,
) -> Report:
    clock = clock or Clock()
    records = store.iter_records(clock.start_of(since) if since else 0.0)
    return await summarise(records, tokenize, stopwords, since, clock)


# ---------------------------------------------------------------------- text
def percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def entry_title(kb: KnowledgeBase, entry_id: str) -> str:
    """The entry's title, or its id alone when the KB no longer has it."""
    entry = kb.entries.get(entry_id)
    return entry.title if entry else entry_id


def rate_lines(report: Report, kb: KnowledgeBase) -> list[str]:
    return [
        kb.text(
            "report_rate_line",
            label=kb.text(f"report_rate_{key}"),
            count=report.buckets.get(key, 0),
            rate=percent(report.rate(key)),
        )
        for key in RATE_KEYS
    ]


def cluster_keywords(cluster: Cluster, kb: KnowledgeBase) -> str:
    return " ".join(cluster.keywords) or kb.text("report_cluster_no_keywords")


def printable(text: str) -> str:
    """Control and format characters as `?`: a stored question cannot drive the terminal."""
    return "".join("?" if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in text)


def oos_example(kb: KnowledgeBase, topic: str) -> str:
    """How people ask about an out-of-scope topic (its first sample question)."""
    item = kb.out_of_scope.get(topic)
    if not topic:
        return kb.text("report_out_of_scope_unknown")
    return item.questions[0] if item else topic


def render_text(report: Report, kb: KnowledgeBase) -> str:
    """The plain-text report printed on stdout: totals, then one section after another."""
    out = [kb.text("report_title")]
    if not report.turns:
        out.append(kb.text("report_period_empty"))
        return "\n".join(out) + "\n"
    start = report.since or report.first
    out.append(kb.text("report_period", start=start, end=report.last, zone=report.zone))
    out.append(kb.text("report_totals", turns=report.turns, chats=report.chats))
    out.append(kb.text("report_questions", questions=report.questions))
    out.extend("  " + line for line in rate_lines(report, kb))
    out.append(kb.text("report_acts", acts=report.acts))
    for section in (_unanswered, _out_of_scope, _low_confidence, _entries, _days):
        out += ["", *section(report, kb)]
    return "\n".join(out) + "\n"


def _unanswered(report: Report, kb: KnowledgeBase) -> list[str]:
    out = [kb.text("report_section_unanswered")]
    if not report.clusters:
        out.append("  " + kb.text("report_unanswered_none"))
    for rank, cluster in enumerate(report.clusters[:TOP_CLUSTERS], 1):
        keywords = printable(cluster_keywords(cluster, kb))
        line = kb.text(
            "report_cluster_line",
            rank=rank,
            turns=cluster.turns,
            chats=cluster.chats,
            keywords=keywords,
        )
        out.append(line)
        out.extend(f"     · {printable(text)} ({n})" for text, n in cluster.examples)
    return out


def _out_of_scope(report: Report, kb: KnowledgeBase) -> list[str]:
    out = [kb.text("report_section_out_of_scope")]
    if not report.out_of_scope_topics:
        out.append("  " + kb.text("report_out_of_scope_none"))
    for topic, n in report.out_of_scope_topics:
        out.append(f"  {n:>6}  {topic or '-'}  {oos_example(kb, topic)}")
    return out


def _low_confidence(report: Report, kb: KnowledgeBase) -> list[str]:
    out = [kb.text("report_section_low_confidence")]
    if not report.low_confidence:
        out.append("  " + kb.text("report_low_confidence_none", below=LOW_CONFIDENCE_BELOW))
    for low in report.low_confidence:
        title = entry_title(kb, low.entry)
        out.append(f"  {low.confidence:.2f}  {low.day.isoformat()}  {low.entry}  {title}")
    return out


def _entries(report: Report, kb: KnowledgeBase) -> list[str]:
    out = [kb.text("report_section_entries")]
    if not report.entry_hits:
        out.append("  " + kb.text("report_entries_none"))
    for entry_id, n in report.entry_hits[:TOP_ENTRIES]:
        out.append(f"  {n:>6}  {entry_id}  {entry_title(kb, entry_id)}")
    return out


def _days(report: Report, kb: KnowledgeBase) -> list[str]:
    out = [kb.text("report_section_days")]
    peak = max(d.turns for d in report.days)
    for d in report.days:
        bar = "█" * round(BAR_WIDTH * d.turns / peak) if peak else ""
        day, padded = d.day.isoformat(), bar.ljust(BAR_WIDTH)
        line = kb.text(
            "report_day_line", day=day, bar=padded, turns=d.turns, unanswered=d.unanswered
        )
        out.append("  " + line)
    return out


# ---------------------------------------------------------------------- /stats
async def short_stats(
    store: RecordSink, kb: KnowledgeBase, since: date | None = None, clock: Clock | None = None
) -> str:
    """A few lines for the admins' `/stats` (default: the last STATS_DAYS days, users' days)."""
    clock = clock or Clock()
    since = since or (clock.today() - timedelta(days=STATS_DAYS - 1))
    tokenize, stopwords = default_tokenizer()
    report = await build_report(store, since, tokenize, stopwords, clock)
    top = report.clusters[0] if report.clusters else None
    top_text = (
        f"{printable(top.examples[0][0])} ({top.turns})"
        if top
        else kb.text("report_stats_top_none")
    )
    return kb.text(
        "report_stats",
        title=kb.text("report_title"),
        start=since.isoformat(),
        turns=report.turns,
        chats=report.chats,
        questions=report.questions,
        answered=percent(report.rate(ANSWERED)),
        unanswered=percent(report.rate(UNANSWERED)),
        clarified=percent(report.rate(CLARIFIED)),
        out_of_scope=percent(report.rate(OUT_OF_SCOPE)),
        top=top_text,
    )


# ---------------------------------------------------------------------- tokens
@functools.cache
def default_tokenizer() -> tuple[Tokenizer, frozenset[str]]:
    """The matcher's own canonical tokens and stop words, so a report groups questions the
    way the bot reads them (traditional characters, typos and synonyms already folded)."""
    from knowledge.lexicon import load_lexicon
    from knowledge.normalize import normalizer_for

    lexicon = load_lexicon()
    normalizer = normalizer_for(lexicon)

    def tokenize(text: str) -> Iterable[str]:
        return normalizer.tokens(text)[1]

    return tokenize, lexicon.stopwords
