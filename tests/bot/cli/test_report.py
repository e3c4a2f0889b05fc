"""`yibao report` and `/stats`: records written through the real store API, then reported."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from paths import ROOT

from bot.cli.report import (
    ANSWERED,
    Report,
    build_report,
    default_tokenizer,
    render_text,
    short_stats,
)
from bot.cli.report_cluster import cluster_questions, jaccard, keyword_set
from bot.cli.report_html import render_html
from dialogs.clock import Clock, clock_in
from dialogs.engine import Engine
from dialogs.stores import MemoryStore, SessionStore, StoreSettings, TurnRecord, open_store
from dialogs.stores.records import ACT, CLARIFIED, FLOW, MENU, OUT_OF_SCOPE, UNANSWERED
from dialogs.stores.sqlite import SqliteStore
from dialogs.types import Incoming
from knowledge.loader import KnowledgeBase

CLOCK = Clock()  # the users' time zone, Asia/Shanghai by default
# Recent days: stores drop records older than the retention period when they open.
DAY1 = CLOCK.today() - timedelta(days=10)
DAY2, DAY3, DAY4 = (DAY1 + timedelta(days=n) for n in (1, 2, 3))
ENTRY_A, ENTRY_B = "rel.tj_app", "rel.tj_outpatient"
VACCINE = ("新生儿疫苗在哪里打", "新生儿疫苗去哪里打")
CARD = ("社保卡丢了怎么补办", "社保卡丢了补办", "社保卡补办要多久")
SCRIPT = "<script>alert(1)</script>"
PHONE_Q = "我的手机13812345678怎么查医保"

# (day, chat id, outcome, text): 20 turns over three days (none on March 3rd).
TURNS: list[tuple[date, int, str, str | None]] = [
    (DAY1, 1, UNANSWERED, VACCINE[0]),
    (DAY1, 2, UNANSWERED, VACCINE[0]),
    (DAY1, 3, UNANSWERED, VACCINE[1]),
    (DAY1, 1, UNANSWERED, CARD[0]),
    (DAY1, 1, ENTRY_A, None),
    (DAY1, 2, ENTRY_A, None),
    (DAY1, 3, ENTRY_B, None),
    (DAY1, 4, CLARIFIED, None),
    (DAY1, 4, FLOW, None),
    (DAY1, 4, MENU, None),
    (DAY2, 5, UNANSWERED, CARD[1]),
    (DAY2, 6, UNANSWERED, CARD[2]),
    (DAY2, 5, ENTRY_A, None),
    (DAY2, 6, OUT_OF_SCOPE, None),
    (DAY2, 6, FLOW, None),
    (DAY4, 7, UNANSWERED, SCRIPT),
    (DAY4, 7, UNANSWERED, PHONE_Q),
    (DAY4, 8, CLARIFIED, None),
    (DAY4, 8, ENTRY_B, None),
    (DAY4, 8, MENU, None),
]
QUESTIONS = 16  # all turns but the 2 flow steps and 2 menu turns


async def fill(store: SessionStore, turns: list[tuple[date, int, str, str | None]]) -> None:
    for i, (day, chat_id, outcome, text) in enumerate(turns):
        at = CLOCK.start_of(day) + 3600 + i  # distinct times, all inside the day
        record = TurnRecord.new(store.chat_hash(chat_id), outcome, text=text, at=at)
        await store.record_turn(record)


async def report_of(store: SessionStore, since: date | None = None) -> Report:
    tokenize, stopwords = default_tokenizer()
    return await build_report(store, since, tokenize, stopwords)


# ---------------------------------------------------------------------- clustering
def test_keyword_set_drops_stop_words_placeholders_and_digits() -> None:
    tokenize, stopwords = default_tokenizer()
    words = keyword_set("我的手机[PHONE]怎么查医保 2026 a", tokenize, stopwords)
    assert {"查", "医保"} <= words
    assert not words & {"我", "的", "怎么", "phone", "[phone]", "2026", "a"}


def test_jaccard() -> None:
    assert jaccard(frozenset("ab"), frozenset("bc")) == pytest.approx(1 / 3)
    assert jaccard(frozenset(), frozenset("a")) == 0.0


def test_clusters_group_questions_that_share_keywords() -> None:
    tokenize, stopwords = default_tokenizer()
    asked = {VACCINE[0]: 2, VACCINE[1]: 1, CARD[0]: 1, CARD[1]: 1, CARD[2]: 1, "端午节放假吗": 1}
    chats = {VACCINE[0]: {"a", "b"}, VACCINE[1]: {"a"}, CARD[2]: {"c"}}
    clusters = cluster_questions(asked, chats, tokenize, stopwords)
    groups = [{text for text, _ in c.examples} for c in clusters]
    assert groups == [set(VACCINE), set(CARD), {"端午节放假吗"}]  # equal asks: more chats first
    vaccine, card, _ = clusters
    assert (card.turns, vaccine.turns) == (3, 3)
    assert (card.chats, vaccine.chats) == (1, 2)  # distinct chats, not asks
    assert {"社保卡", "补办"} <= set(card.keywords)
    assert {"新生儿", "疫苗", "打"} <= set(vaccine.keywords)
    assert vaccine.examples[0] == (VACCINE[0], 2), "most asked phrasing first"


def test_a_shared_common_word_alone_does_not_merge_topics() -> None:
    tokenize, stopwords = default_tokenizer()
    asked = {"天津医保卡丢了怎么补办": 1, "天津医保门诊能报销吗": 1}
    clusters = cluster_questions(asked, {}, tokenize, stopwords)
    assert len(clusters) == 2


def test_questions_without_keywords_group_only_with_identical_text() -> None:
    clusters = cluster_questions({"[PHONE]": 2, "[ID]": 1}, {}, lambda t: t.split(), ())
    assert [(c.keywords, c.turns) for c in clusters] == [((), 2), ((), 1)]


# ---------------------------------------------------------------------- figures
def check_figures(report: Report) -> None:
    assert report.turns == len(TURNS)
    assert report.chats == 8
    assert report.questions == QUESTIONS
    assert report.buckets == {ANSWERED: 5, UNANSWERED: 8, CLARIFIED: 2, OUT_OF_SCOPE: 1}
    assert report.rate(CLARIFIED) == pytest.approx(2 / QUESTIONS)
    assert report.rate(OUT_OF_SCOPE) == pytest.approx(1 / QUESTIONS)
    assert report.entry_hits == ((ENTRY_A, 3), (ENTRY_B, 2))
    days = [(d.day, d.turns, d.unanswered) for d in report.days]
    assert days == [(DAY1, 10, 4), (DAY2, 5, 2), (DAY3, 0, 0), (DAY4, 5, 2)]
    top = [{text for text, _ in c.examples} for c in report.clusters[:2]]
    assert top == [set(VACCINE), set(CARD)]
    assert [(c.turns, c.chats) for c in report.clusters[:2]] == [(3, 3), (3, 3)]


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionStore]:
    """Each backend, opened by URL as `yibao report --store URL` opens it."""
    if request.param == "redis":
        url: str = request.getfixturevalue("redis_url")
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        url = "memory://"
    store = open_store(url, StoreSettings(hash_salt="report-test"))
    yield store
    await store.close()


async def test_report_figures_on_every_store(any_store: SessionStore) -> None:
    await fill(any_store, TURNS)
    check_figures(await report_of(any_store))


async def test_report_figures_from_a_reopened_sqlite_file(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    await fill(store, TURNS)
    await store.close()
    reopened = SqliteStore(tmp_path / "state.db")
    try:
        check_figures(await report_of(reopened))
    finally:
        await reopened.close()


async def test_since_keeps_later_days_only() -> None:
    store = MemoryStore()
    await fill(store, TURNS)
    report = await report_of(store, since=DAY2)
    assert report.turns == 10
    assert [d.day for d in report.days] == [DAY2, DAY3, DAY4]
    assert report.entry_hits == ((ENTRY_A, 1), (ENTRY_B, 1))


async def test_text_report_lists_rates_clusters_entries_and_days(kb: KnowledgeBase) -> None:
    store = MemoryStore()
    await fill(store, TURNS)
    text = render_text(await report_of(store), kb)
    assert kb.text("report_title") in text
    clarified = kb.text(
        "report_rate_line", label=kb.text("report_rate_clarified"), count=2, rate="12.5%"
    )
    assert clarified in text
    assert f"· {VACCINE[0]} (2)" in text
    assert kb.entries[ENTRY_A].title in text
    assert f"{DAY3.isoformat()}  " in text  # a day without turns still shows, with a zero
    assert "13812345678" not in text and "[PHONE]" in text


async def test_empty_store_says_so(kb: KnowledgeBase) -> None:
    report = await report_of(MemoryStore())
    assert report.turns == 0 and report.days == () and report.rate(UNANSWERED) == 0.0
    assert kb.text("report_period_empty") in render_text(report, kb)
    assert kb.text("report_period_empty") in render_html(report, kb)


async def test_forgotten_chat_leaves_the_report() -> None:
    store = MemoryStore(StoreSettings(hash_salt="s"))
    await fill(store, TURNS)
    await store.forget(7)  # asked the <script> and the phone question
    report = await report_of(store)
    assert report.turns == len(TURNS) - 2
    assert all(SCRIPT not in c.examples[0][0] for c in report.clusters)


# ---------------------------------------------------------------------- HTML
VOID = frozenset({"meta", "br", "rect", "link", "img", "hr", "input"})


class TagBalance(HTMLParser):
    """Fails on a closing tag that does not close the innermost open element."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack)
        self.stack.pop()


def check_html(page: str, kb: KnowledgeBase) -> None:
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page.lower(), "a question must never become markup"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and "@import" not in page
    assert page.count("<svg") == 1 and page.count("<rect") == 2 * 4  # two bars per day
    assert kb.text("report_title") in page
    assert "13812345678" not in page
    balance = TagBalance()
    balance.feed(page)
    balance.close()
    assert balance.stack == [], "every element is closed"


async def test_html_is_self_contained_and_escapes_questions(kb: KnowledgeBase) -> None:
    store = MemoryStore()
    await fill(store, TURNS)
    check_html(render_html(await report_of(store), kb), kb)


async def test_short_stats_for_admins(kb: KnowledgeBase) -> None:
    store = MemoryStore()
    today = CLOCK.today()
    turns = [
        (today, 1, UNANSWERED, VACCINE[0]),
        (today, 2, UNANSWERED, VACCINE[0]),
        (today, 2, ENTRY_A, None),
        (today, 3, CLARIFIED, None),
        (date(2020, 1, 1), 9, UNANSWERED, CARD[0]),
    ]
    await fill(store, turns)
    stats = await short_stats(store, kb)
    assert stats.startswith(kb.text("report_title"))
    assert "25.0%" in stats and "50.0%" in stats  # clarified 1/4, unanswered 2/4
    assert f"{VACCINE[0]} (2)" in stats
    assert CARD[0] not in stats, "older than the default window"
    everything = await short_stats(store, kb, since=date(2019, 1, 1))
    assert "20.0%" in everything  # clarified 1/5 once the old turn counts


# ---------------------------------------------------------------------- CLI
def test_cli_report_text_and_html_from_a_sqlite_file(tmp_path: Path, kb: KnowledgeBase) -> None:
    import asyncio

    db = tmp_path / "state.db"

    async def seed() -> None:
        store = SqliteStore(db)
        await fill(store, TURNS)
        await store.close()

    asyncio.run(seed())
    out = tmp_path / "report.html"
    env = {**os.environ, "YIBAO_STORE": "memory://"}  # --store must win over the env
    args = ["report", "--store", f"sqlite:///{db}", "--since", DAY2.isoformat(), "--html", str(out)]
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert kb.text("report_totals", turns=10, chats=4) in proc.stdout
    assert VACCINE[0] not in proc.stdout, "asked before --since"
    assert CARD[2] in proc.stdout
    page = out.read_text(encoding="utf-8")
    assert kb.text("report_totals", turns=10, chats=4) in page
    assert "<script" not in page.lower() and "&lt;script&gt;" in page
    assert not re.search(r"https?://", page)

    bad = subprocess.run(
        [sys.executable, "-m", "bot.cli", "report", "--since", "March"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2 and "--since" in bad.stderr

    absent = tmp_path / "nothing-here" / "state.db"
    none = subprocess.run(
        [sys.executable, "-m", "bot.cli", "report", "--store", f"sqlite:///{absent}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert none.returncode == 1 and str(absent) in none.stderr
    assert not absent.parent.exists(), "a report never creates a database"


async def test_text_report_neutralises_terminal_control_characters(kb: KnowledgeBase) -> None:
    store = MemoryStore()
    await fill(store, [(DAY1, 1, UNANSWERED, "医保\x1b[2J清屏\u202e")])
    text = render_text(await report_of(store), kb)
    assert "\x1b" not in text and "\u202e" not in text
    assert "医保?[2j清屏" in text  # lower-cased; the Cf mark was dropped from the record


async def test_turns_through_the_real_engine_show_up_in_the_report(
    engine: Engine, kb: KnowledgeBase
) -> None:
    """End to end: the engine records each turn, the report reads them back."""
    for text in ("/start", "天津新生儿医保交多少钱", "asdf qwer", "asdf qwer 13812345678"):
        await engine.handle(11, Incoming(text=text, today=DAY1))
    await engine.handle(12, Incoming(text="asdf qwer", today=DAY1))
    report = await report_of(engine.store)
    assert (report.turns, report.chats, report.questions) == (5, 2, 4)
    assert report.buckets[ANSWERED] == 1 and report.buckets[UNANSWERED] == 3
    assert [hit[0] for hit in report.entry_hits] == ["tj.cost"]
    (cluster,) = report.clusters
    assert (cluster.turns, cluster.chats) == (3, 2)
    assert cluster.examples == (("asdf qwer", 2), ("asdf qwer [PHONE]", 1))


# ---------------------------------------------------------------------- issue 12
async def test_greetings_thanks_and_bare_numbers_are_not_unanswered(
    engine: Engine, kb: KnowledgeBase
) -> None:
    for chat, text in enumerate(("你好", "谢谢", "1", "好的", "１")):  # a fresh chat each:
        await engine.handle(21 + chat, Incoming(text=text, today=DAY1))  # nothing offered
    await engine.handle(21, Incoming(text="asdf qwer", today=DAY1))
    report = await report_of(engine.store)
    assert report.acts == 5
    assert report.buckets[UNANSWERED] == 1 and report.questions == 1
    assert [c.examples for c in report.clusters] == [(("asdf qwer", 1),)]
    assert kb.text("report_acts", acts=5) in render_text(report, kb)


async def test_a_bare_number_recorded_as_unanswered_before_counts_as_an_act() -> None:
    store = MemoryStore()
    await fill(store, [(DAY1, 1, UNANSWERED, "1"), (DAY1, 1, ACT, None)])
    report = await report_of(store)
    assert (report.acts, report.buckets[UNANSWERED], report.clusters) == (2, 0, ())


async def test_out_of_scope_is_broken_down_by_topic(engine: Engine, kb: KnowledgeBase) -> None:
    for chat, text in enumerate(("苏州园林卡怎么办理", "苏州园林卡在哪里买", "积分计算器在哪")):
        await engine.handle(30 + chat, Incoming(text=text, today=DAY1))
    await fill(engine.store, [(DAY1, 40, OUT_OF_SCOPE, None)])  # an old record: no topic
    report = await report_of(engine.store)
    topics = dict(report.out_of_scope_topics)
    assert topics["oos.garden_card"] == 2 and topics[""] == 1
    assert sum(topics.values()) == report.buckets[OUT_OF_SCOPE] == 4
    text = render_text(report, kb)
    assert kb.text("report_section_out_of_scope") in text
    assert f"       2  oos.garden_card  {kb.out_of_scope['oos.garden_card'].questions[0]}" in text
    assert "oos.garden_card" in render_html(report, kb)


async def test_low_confidence_answers_are_listed_lowest_first(kb: KnowledgeBase) -> None:
    store = MemoryStore()
    for i, confidence in enumerate((0.95, 0.31, 1.0, 0.52, None)):
        at = CLOCK.start_of(DAY2) + i
        await store.record_turn(TurnRecord.new("h", ENTRY_A, confidence=confidence, at=at))
    report = await report_of(store)
    assert [(x.confidence, x.day, x.entry) for x in report.low_confidence] == [
        (0.31, DAY2, ENTRY_A),
        (0.52, DAY2, ENTRY_A),
    ]
    text = render_text(report, kb)
    section = text.split(kb.text("report_section_low_confidence"))[1]
    assert section.index("0.31") < section.index("0.52")
    assert f"0.31  {DAY2.isoformat()}  {ENTRY_A}  {kb.entries[ENTRY_A].title}" in section
    assert "0.95" not in section


async def test_report_days_are_the_users_days() -> None:
    """20:00 UTC on December 1st is 04:00 on December 2nd in Shanghai."""
    store = MemoryStore()
    evening_utc = datetime(2026, 12, 1, 20, 0, tzinfo=UTC).timestamp()
    await store.record_turn(TurnRecord.new("h", ENTRY_A, at=evening_utc))
    tokenize, stopwords = default_tokenizer()
    shanghai = await build_report(store, None, tokenize, stopwords, clock_in("Asia/Shanghai"))
    assert [d.day for d in shanghai.days] == [date(2026, 12, 2)]
    assert shanghai.zone == "Asia/Shanghai"
    since = await build_report(store, date(2026, 12, 2), tokenize, stopwords, CLOCK)
    assert since.turns == 1
    utc = await build_report(store, None, tokenize, stopwords, clock_in("UTC"))
    assert [d.day for d in utc.days] == [date(2026, 12, 1)]
