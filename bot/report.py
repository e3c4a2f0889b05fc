"""`yibao report`: what people asked, what the bot answered, what it could not.

Input is the store's turn records (`SessionStore.iter_records`); nothing else is read, so
the report shows exactly what retention has kept. `summarise` folds the records into a
`Report` in one streaming pass (pure, no I/O); `render_text` and `bot.report_html` render
it; `short_stats` is the few-line version for the admins' `/stats` command.

Rates are taken over *questions*: turns whose outcome is an entry, unanswered, clarified
or out of scope. Flow steps and menu navigation are counted as turns but are not
questions, so a busy guided flow does not make the bot look better at answering.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import AsyncIterable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.report_cluster import Cluster, Tokenizer, cluster_questions
from dialogs.stores.base import SessionStore
from dialogs.stores.records import (
    CLARIFIED,
    FLOW,
    MENU,
    OUT_OF_SCOPE,
    OUTCOMES,
    UNANSWERED,
    TurnRecord,
)
from knowledge.loader import KnowledgeBase

ANSWERED = "answered"  # summary bucket: any outcome that is an entry id
RATE_KEYS = (ANSWERED, UNANSWERED, CLARIFIED, OUT_OF_SCOPE)
NOT_QUESTIONS = frozenset({FLOW, MENU})
TOP_CLUSTERS = 20
TOP_ENTRIES = 30
BAR_WIDTH = 30  # characters of the longest bar in the text chart
STATS_DAYS = 7  # /stats looks back this many days by default


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    turns: int
    unanswered: int


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

    @property
    def questions(self) -> int:
        return sum(self.buckets.values())

    def rate(self, key: str) -> float:
        return self.buckets.get(key, 0) / self.questions if self.questions else 0.0


def day_of(at: float) -> date:
    """The UTC calendar day of a Unix time (reports are in UTC to be reproducible)."""
    return datetime.fromtimestamp(at, UTC).date()


def start_of(day: date) -> float:
    """Unix time of 00:00 UTC on `day`."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


async def summarise(
    records: AsyncIterable[TurnRecord],
    tokenize: Tokenizer,
    stopwords: Collection[str] = frozenset(),
    since: date | None = None,
) -> Report:
    """One pass over the records; memory grows with distinct chats, questions and days."""
    turns = 0
    chats: set[str] = set()
    buckets: Counter[str] = Counter({k: 0 for k in RATE_KEYS})
    hits: Counter[str] = Counter()
    per_day: Counter[date] = Counter()
    unanswered_per_day: Counter[date] = Counter()
    asked: Counter[str] = Counter()
    askers: dict[str, set[str]] = defaultdict(set)
    async for rec in records:
        turns += 1
        chats.add(rec.chat)
        day = day_of(rec.at)
        per_day[day] += 1
        if rec.outcome not in OUTCOMES:
            buckets[ANSWERED] += 1
            hits[rec.outcome] += 1
        elif rec.outcome not in NOT_QUESTIONS:
            buckets[rec.outcome] += 1
        if rec.outcome == UNANSWERED:
            unanswered_per_day[day] += 1
            if rec.text:
                asked[rec.text] += 1
                askers[rec.text].add(rec.chat)
    first = min(per_day) if per_day else None
    last = max(per_day) if per_day else None
    days: list[Day] = []
    if first and last:
        for n in range((last - first).days + 1):
            d = first + timedelta(days=n)
            days.append(Day(d, per_day[d], unanswered_per_day[d]))
    return Report(
        since=since,
        first=first,
        last=last,
        turns=turns,
        chats=len(chats),
        buckets=dict(buckets),
        entry_hits=tuple(sorted(hits.items(), key=lambda kv: (-kv[1], kv[0]))),
        days=tuple(days),
        clusters=tuple(cluster_questions(asked, askers, tokenize, stopwords)),
    )


async def build_report(
    store: SessionStore, since: date | None, tokenize: Tokenizer, stopwords: Collection[str]
) -> Report:
    records = store.iter_records(start_of(since) if since else 0.0)
    return await summarise(records, tokenize, stopwords, since)


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


def render_text(report: Report, kb: KnowledgeBase) -> str:
    """The plain-text report printed on stdout."""
    out = [kb.text("report_title")]
    if not report.turns:
        out.append(kb.text("report_period_empty"))
        return "\n".join(out) + "\n"
    start = report.since or report.first
    out.append(kb.text("report_period", start=start, end=report.last))
    out.append(kb.text("report_totals", turns=report.turns, chats=report.chats))
    out.append(kb.text("report_questions", questions=report.questions))
    out.extend("  " + line for line in rate_lines(report, kb))

    out += ["", kb.text("report_section_unanswered")]
    if not report.clusters:
        out.append("  " + kb.text("report_unanswered_none"))
    for rank, cluster in enumerate(report.clusters[:TOP_CLUSTERS], 1):
        out.append(
            kb.text(
                "report_cluster_line",
                rank=rank,
                turns=cluster.turns,
                chats=cluster.chats,
                keywords=printable(cluster_keywords(cluster, kb)),
            )
        )
        out.extend(f"     · {printable(text)} ({n})" for text, n in cluster.examples)

    out += ["", kb.text("report_section_entries")]
    if not report.entry_hits:
        out.append("  " + kb.text("report_entries_none"))
    for entry_id, n in report.entry_hits[:TOP_ENTRIES]:
        out.append(f"  {n:>6}  {entry_id}  {entry_title(kb, entry_id)}")

    out += ["", kb.text("report_section_days")]
    peak = max(d.turns for d in report.days)
    for d in report.days:
        bar = "█" * round(BAR_WIDTH * d.turns / peak) if peak else ""
        out.append(
            "  "
            + kb.text(
                "report_day_line",
                day=d.day.isoformat(),
                bar=bar.ljust(BAR_WIDTH),
                turns=d.turns,
                unanswered=d.unanswered,
            )
        )
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------- /stats
async def short_stats(store: SessionStore, kb: KnowledgeBase, since: date | None = None) -> str:
    """A few lines for the admins' `/stats` (default: the last STATS_DAYS days, UTC)."""
    since = since or (datetime.now(UTC).date() - timedelta(days=STATS_DAYS - 1))
    tokenize, stopwords = default_tokenizer()
    report = await build_report(store, since, tokenize, stopwords)
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


# ---------------------------------------------------------------------- CLI
def run_report(args: argparse.Namespace) -> int:
    """`yibao report`: 0 on success, 1 when there is no store to read."""
    from dialogs.stores import default_store_url

    url = args.store or default_store_url()
    missing = missing_sqlite_file(url)
    if missing:
        print(f"yibao report: no state database at {missing}", file=sys.stderr)
        return 1
    return asyncio.run(_run(args, url))


def missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite store that does not exist (a report must not create one)."""
    if not url.startswith("sqlite://"):
        return None
    from dialogs.stores.sqlite import path_from_url

    path = path_from_url(url)
    return None if path == ":memory:" or Path(path).exists() else path


async def _run(args: argparse.Namespace, url: str) -> int:
    from bot.report_html import render_html
    from dialogs.stores import open_store
    from knowledge.loader import load_kb

    kb = load_kb()
    store = open_store(url)
    try:
        tokenize, stopwords = default_tokenizer()
        report = await build_report(store, args.since, tokenize, stopwords)
    finally:
        await store.close()
    sys.stdout.write(render_text(report, kb))
    if args.html:
        Path(args.html).write_text(render_html(report, kb), encoding="utf-8")
    return 0
