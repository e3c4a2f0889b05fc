"""The curated knowledge base: complete, exact, and saying nothing the sources do not say."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys

import pytest
from paths import CONVERSATIONS, ROOT

from bot.cli.evaluate import Case
from dialogs.types import Incoming, Reply
from knowledge.check import coverage, locate, run_checks
from knowledge.loader import DATA_DIR, SOURCES_DIR, KnowledgeBase, source_path

TIANJIN = "000_a973656e8361bb7d.txt"
SUZHOU = "004_6d4af3764853187a.txt"


def _source_text(name: str) -> str:
    """The page as shipped in the repository (knowledge/sources/): never skipped."""
    return source_path(name).read_text(encoding="utf-8")


def test_every_source_page_is_in_the_repository(kb: KnowledgeBase) -> None:
    files = {page.file for page in kb.sources.values()}
    assert files == {TIANJIN, SUZHOU}
    assert {p.name for p in SOURCES_DIR.glob("*.txt")} == files
    assert all(source_path(f).stat().st_size > 1000 for f in files)


def _answers(kb: KnowledgeBase, *ids: str) -> str:
    return "\n".join(kb.entries[i].answer for i in ids)


def test_every_entry_and_topic_has_a_unique_id_across_files() -> None:
    places = locate(DATA_DIR)
    ids: list[str] = []
    for path in sorted(DATA_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        ids += re.findall(r"(?m)^  - id: (\w+\.\S+)$", text)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert set(ids) == {p for p in places if not p.startswith("menu:")}


def test_both_sources_have_every_section_covered(kb: KnowledgeBase) -> None:
    table = coverage(kb)
    assert set(table) == {TIANJIN, SUZHOU}
    for sections in table.values():
        assert sections, "each page lists its sections"
        missing = [s for s, ids in sections.items() if not ids]
        assert not missing
    assert len(table[TIANJIN]) == 9 + 20  # title, 一..七 (五 has two parts), 20 news snippets
    assert len(table[SUZHOU]) == 8


def test_listed_sections_are_headings_of_the_page(kb: KnowledgeBase) -> None:
    for page in kb.sources.values():
        text = _source_text(page.file)
        for section in page.sections:
            core = section.split("：", 1)[-1] if section.startswith("相关推荐") else section
            parts = [p for p in re.split(r"[ （）]", core) if len(p) >= 4]
            if section.startswith("导语"):
                parts = ["积分入医资格申请将于6月1日正式启动"]
            assert parts and all(_loose(p) in _loose(text) for p in parts), section


def _loose(text: str) -> str:
    """Compare headings without caring for full/half-width punctuation."""
    return re.sub(r"[\s,，?？!！:：()（）]", "", text)


def test_kb_check_passes_without_errors(kb: KnowledgeBase) -> None:
    findings = run_checks(kb, DATA_DIR, selftest=False)
    assert findings.errors == []


@pytest.mark.parametrize(
    ("ids", "facts"),
    [
        (("tj.cost",), ["2025年度", "830元", "100元", "730元"]),
        (("tj.time",), ["90天", "出生之日", "缴费次日", "不受参保缴费时间限制"]),
        (("tj.who",), ["全日制非在职在校学生", "外省市学校", "新生婴儿"]),
        (
            ("tj.ways",),
            [
                "劳动保障服务中心",
                "行政村",
                "法定监护人",
                "以居民家庭为单位",
                "通过家庭办理",
                "随学校、托幼机构参保",
            ],
        ),
        (("tj.way_rural",), ["行政村"]),
        (("tj.way_student_outside",), ["通过家庭办理"]),
        (("tj.way_student_in_tj",), ["随学校、托幼机构参保"]),
        (("tj.local",), ["出生一件事", "津心办", "天津本地宝", "落户", "社保卡"]),
        (
            ("tj.local_steps",),
            ["新生儿妈妈的身份信息", "一件事·一次办", "新生儿出生", "母亲人脸核验"],
        ),
        (
            ("tj.nonlocal",),
            [
                "居住证",
                "受理回执",
                "流动人口居住登记凭证",
                "《出生医学证明》",
                "街（镇）综合服务机构",
                "天津医保公共服务平台网上服务大厅",
                "津医保APP医保办事大厅",
            ],
        ),
        (
            ("tj.materials",),
            ["居民户口簿（户籍证明）", "暂住证原件", "法定监护人", "护照", "指定的服务银行名称"],
        ),
        (("tj.materials_foreign",), ["港澳台人员和外籍人员", "护照"]),
        (("tj.address",), ["天津市社会保险基金管理中心及各区分中心"]),
        (("sz.basis",), ["苏府规字〔2015〕6号", "苏人保规〔2016〕2号"]),
        (("sz.districts",), ["吴中区", "相城区", "姑苏区", "工业园区", "高新区"]),
        (
            ("sz.who",),
            ["公办和民办", "托幼机构、小学、初中", "首次", "居住证", "一年以上（含一年）"],
        ),
        (("sz.window",), ["6月1日至8月31日", "节假日除外", "6月1日至9月10日", "2017年"]),
        (("sz.notice_2017",), ["6月1日至9月10日", "8月31日"]),
        (("sz.where",), ["镇人民政府（街道办事处）", "书面申请", "申请表格"]),
        (
            ("sz.materials",),
            [
                "居民身份证原件",
                "居住证原件",
                "户籍证明",
                "家庭关系证明",
                "入园、入学的证明",
                "乡级以上（含乡级）计生部门",
                "县级卫生计生部门出具的生育证明",
                "加分",
                "已提交的可不再提供",
            ],
        ),
        (
            ("sz.accept",),
            ["社会事务中心（便民服务中心）", "苏州市流动人口积分管理系统", "拍摄照片", "受理回执"],
        ),
        (
            ("sz.review",),
            [
                "8月31日",
                "9月15日",
                "9月份",
                "5个工作日",
                "区流动人口积分管理办公室",
                "11月15日",
                "盖章",
            ],
        ),
        (("sz.publicity",), ["9月份", "不得少于5个工作日"]),
        (("sz.objection",), ["公示期内", "区流动人口积分管理办公室"]),
        (("sz.form",), ["11月15日", "核定表", "盖章确认"]),
        (("sz.after",), ["9月至11月", "下一年度", "视为自动放弃", "参保缴费后"]),
        (("rel.tj_app",), ["津医保", "金医宝"]),
    ],
)
def test_key_facts_are_stated_verbatim(
    kb: KnowledgeBase, ids: tuple[str, ...], facts: list[str]
) -> None:
    text = _answers(kb, *ids)
    missing = [f for f in facts if f not in text]
    assert not missing


def test_no_answer_states_a_number_its_source_does_not(kb: KnowledgeBase) -> None:
    pages = {name: _source_text(name) for name in (TIANJIN, SUZHOU)}
    both = "\n".join(pages.values())
    bad: list[tuple[str, str]] = []
    for entry in kb.entries.values():
        page = pages[entry.source.file]
        bad += [(entry.id, n) for n in re.findall(r"\d+", entry.answer) if n not in page]
    for item in kb.out_of_scope.values():
        bad += [(item.id, n) for n in re.findall(r"\d+", item.answer) if n not in both]
    assert bad == []


def test_answers_name_the_years_their_sources_give(kb: KnowledgeBase) -> None:
    for entry in kb.entries.values():
        if entry.city == "suzhou":
            assert "2017" in entry.applies_to or "每年" in entry.applies_to, entry.id
        if entry.id == "tj.cost":
            assert entry.applies_to == "2025年度"


def test_news_snippets_are_marked_as_such(kb: KnowledgeBase) -> None:
    related = [e for e in kb.entries.values() if e.group == "related"]
    assert len(related) == 20
    for entry in related:
        assert entry.id.startswith("rel.")
        assert "2025-04-18" in entry.applies_to
        assert "健康新闻摘要" in entry.answer and "2025-04-18" in entry.answer
        assert entry.source.section.startswith("相关推荐：")
    assert {e.city for e in related} == {"dalian", "tianjin", "shenzhen", "beijing", "general"}


def test_core_entries_are_only_tianjin_and_suzhou(kb: KnowledgeBase) -> None:
    core = [e for e in kb.entries.values() if e.group == "core"]
    assert {e.city for e in core} == {"tianjin", "suzhou"}
    assert all(e.id.split(".")[0] == {"tianjin": "tj", "suzhou": "sz"}[e.city] for e in core)


def test_suzhou_answers_never_mention_tianjin_channels(kb: KnowledgeBase) -> None:
    for entry in kb.entries.values():
        if entry.city == "suzhou":
            assert "津心办" not in entry.answer and "天津" not in entry.answer, entry.id
        if entry.city == "tianjin" and entry.group == "core":
            assert "积分入医" not in entry.answer, entry.id


def test_out_of_scope_replies_say_so_and_offer_real_entries(kb: KnowledgeBase) -> None:
    assert len(kb.out_of_scope) >= 15
    for item in kb.out_of_scope.values():
        assert "抱歉" in item.answer, item.id
        assert item.offer and all(o in kb.entries for o in item.offer), item.id
    words = {w for item in kb.out_of_scope.values() for w in item.keywords}
    for marketing in (
        "端午节",
        "地铁",
        "园林卡",
        "休闲卡",
        "积分自测",
        "电影",
        "重名",
        "音乐喷泉",
        "房产",
        "优租房",
        "水电费",
        "学区",
        "人才引进",
        "车展",
        "自行车",
        "积分入户",
    ):
        assert marketing in words, marketing


def test_keywords_route_like_a_service_account(kb: KnowledgeBase) -> None:
    route = {w: r.action for r in kb.keywords for w in r.words}
    assert route["积分"] == "entry:sz.overview"
    assert route["积分入医"] == "entry:sz.overview"
    assert route["新生儿"] == "entry:tj.overview"
    assert route["天津"] == "menu:tianjin"
    assert route["苏州"] == "menu:suzhou"
    assert route["菜单"] == "menu:main"
    assert route["帮助"] == "command:help"  # the usage text, then the menu
    # Context decides what these mean, so the matcher (not a fixed route) answers them.
    assert "材料" not in route and "流程" not in route


def test_menus_offer_short_labels_and_real_targets(kb: KnowledgeBase) -> None:
    assert {"main", "tianjin", "suzhou", "related"} <= set(kb.menus)
    for menu in kb.menus.values():
        buttons = [b for row in menu.buttons for b in row]
        assert 1 <= len(buttons) <= 10, menu.id
        for button in buttons:
            assert len(button.label) <= 20, button.label
            kind, _, target = button.action.partition(":")
            assert kind != "entry" or target in kb.entries
            assert kind != "menu" or target in kb.menus


def _yibao(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_cli_check_prints_the_coverage_table() -> None:
    proc = _yibao("kb", "check", "--no-selftest")
    assert proc.returncode == 0, proc.stderr
    assert "[ok ] 四、参保方式: tj.ways" in proc.stdout
    assert "[ok ] 申请后怎样才算通过？: sz.review" in proc.stdout
    assert "MISSING" not in proc.stdout
    assert proc.stdout.rstrip().splitlines()[-1].startswith("ok: ")


def test_cli_dump_is_a_json_list_of_every_entry(kb: KnowledgeBase) -> None:
    proc = _yibao("kb", "dump")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data, list)
    assert [d["id"] for d in data] == list(kb.entries)
    assert data[0]["source"]["file"] in (TIANJIN, SUZHOU)


FAQ_SETS = sorted(CONVERSATIONS.glob("faq_*.yaml"))


@pytest.fixture(scope="module")
def faq_outcomes(kb: KnowledgeBase) -> list[tuple[Case, list[Reply], bool]]:
    """Run the own conversation set through the engine (KB + matcher, no guided flows)."""
    from bot.cli.evaluate import load_cases
    from dialogs.engine import Engine
    from dialogs.stores import MemoryStore
    from knowledge.matcher import Matcher

    engine = Engine(kb, Matcher(kb), MemoryStore())

    async def run_all() -> list[tuple[Case, list[Reply], bool]]:
        results: list[tuple[Case, list[Reply], bool]] = []
        for number, case in enumerate(c for path in FAQ_SETS for c in load_cases(path)):
            seen: list[Reply] = []
            replies: list[Reply] = []
            for turn in case.turns:
                replies = await engine.handle(number, Incoming(text=turn, today=case.today))
                seen += replies
            text = "\n".join(r.plain() for r in replies)
            labels = "\n".join(b.text for r in replies for row in r.buttons for b in row)
            ok = all(re.search(p, text + "\n" + labels) for p in case.must) and not any(
                re.search(p, text) for p in case.must_not
            )
            results.append((case, seen, ok))
        return results

    return asyncio.run(run_all())


def test_conversation_set_is_large_and_ids_are_unique(
    faq_outcomes: list[tuple[Case, list[Reply], bool]],
) -> None:
    ids = [case.id for case, _, _ in faq_outcomes]
    assert len(ids) >= 150
    assert len(ids) == len(set(ids))


def test_conversation_set_reaches_every_entry_and_topic(
    kb: KnowledgeBase, faq_outcomes: list[tuple[Case, list[Reply], bool]]
) -> None:
    reached = {r.entry for _, replies, _ in faq_outcomes for r in replies if r.entry}
    missing = sorted(set(kb.entries) - reached)
    assert missing == []
    oos_reached = reached & set(kb.out_of_scope)
    assert len(oos_reached) >= 0.8 * len(kb.out_of_scope), sorted(set(kb.out_of_scope) - reached)


def test_conversation_set_passes_at_least_95_percent(
    faq_outcomes: list[tuple[Case, list[Reply], bool]],
) -> None:
    failed = [case.id for case, _, ok in faq_outcomes if not ok]
    assert len(failed) <= 0.05 * len(faq_outcomes), failed
