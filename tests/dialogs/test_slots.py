"""Slot extraction from free text: the facts a parent states, in any order, with negations."""

from __future__ import annotations

from datetime import date

import pytest

from dialogs.flows.registry import build_guided
from dialogs.flows.suzhou import SuzhouFlow
from dialogs.flows.tianjin import TianjinFlow
from dialogs.session import Session
from dialogs.slots import Choice, SlotSpec, children_count, normalize, residence_years, spot
from knowledge.loader import KnowledgeBase

TODAY = date(2026, 3, 1)


@pytest.fixture(scope="module")
def flows(kb: KnowledgeBase) -> tuple[TianjinFlow, SuzhouFlow]:
    built = build_guided(kb)
    tj, sz = built["tianjin"], built["suzhou"]
    assert isinstance(tj, TianjinFlow) and isinstance(sz, SuzhouFlow)
    return tj, sz


def _sz(flows: tuple[TianjinFlow, SuzhouFlow], text: str) -> dict[str, str]:
    return flows[1].extract(text, Session(chat_id=1), TODAY)


def _tj(flows: tuple[TianjinFlow, SuzhouFlow], text: str) -> dict[str, str]:
    return flows[0].extract(text, Session(chat_id=1), TODAY)


def test_the_one_sentence_suzhou_question(flows: tuple[TianjinFlow, SuzhouFlow]) -> None:
    found = _sz(
        flows, "我有苏州居住证住了两年交社保，孩子在工业园区上公办小学，没参加过苏州医保，能申请吗"
    )
    assert found == {
        "permit": "yes",
        "years": "yes",
        "insurance": "yes",
        "district": "sip",
        "school": "primary",
        "approved": "yes",
        "firsttime": "yes",
    }


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("没有居住证", "permit", "no"),
        ("我们还没办居住证", "permit", "no"),
        ("有苏州的居住证", "permit", "yes"),
        ("办了居住证", "permit", "yes"),
        ("没交社保", "insurance", "no"),
        ("一直在交社保", "insurance", "yes"),
        ("来苏州8个月", "years", "no"),
        ("在苏州住了三年", "years", "yes"),
        ("住了不到一年", "years", "no"),
        ("孩子在吴江上学", "district", "other"),
        ("在姑苏区", "district", "gusu"),
        ("高新区的幼儿园", "district", "snd"),
        ("上高中", "school", "other"),
        ("读初二", "school", "junior"),
        ("之前参加过苏州医保", "firsttime", "no"),
        ("没参加过苏州医保", "firsttime", "yes"),
        ("第一次申请", "firsttime", "yes"),
        ("家里三个孩子", "children", "3plus"),
        ("二胎", "children", "upto2"),
    ],
)
def test_suzhou_phrasings(
    flows: tuple[TianjinFlow, SuzhouFlow], text: str, slot: str, value: str
) -> None:
    assert _sz(flows, text).get(slot) == value


@pytest.mark.parametrize(
    "text",
    [
        "积分入医要带居住证吗",
        "没有居住证回执怎么办",
        "孩子两岁了",
        "交了两年社保",
        "公示多久",
        "什么样的流动人口子女可以积分入医",
    ],
)
def test_suzhou_questions_state_no_condition(
    flows: tuple[TianjinFlow, SuzhouFlow], text: str
) -> None:
    found = _sz(flows, text)
    assert "permit" not in found and "years" not in found and "firsttime" not in found


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("天津户口", "hukou", "local"),
        ("户口在天津", "hukou", "local"),
        ("我们不是天津户口", "hukou", "nonlocal"),
        ("非天津户籍", "hukou", "nonlocal"),
        ("外地户口", "hukou", "nonlocal"),
        ("孩子是香港籍", "hukou", "foreign"),
        ("有天津居住证", "permit", "yes"),
        ("爸妈都没有居住证", "permit", "no"),
        ("孩子户口在天津但在外省上学", "variant", "outside"),
        ("天津农村的孩子", "variant", "rural"),
    ],
)
def test_tianjin_phrasings(
    flows: tuple[TianjinFlow, SuzhouFlow], text: str, slot: str, value: str
) -> None:
    assert _tj(flows, text).get(slot) == value


def test_a_variant_means_not_a_newborn(flows: tuple[TianjinFlow, SuzhouFlow]) -> None:
    assert _tj(flows, "户口在外省，孩子在外省上学")["hukou"] == "other"


def test_birth_date_needs_a_birth_word(flows: tuple[TianjinFlow, SuzhouFlow]) -> None:
    assert _tj(flows, "孩子2026年2月10日在天津出生")["birth"] == "2026-02-10"
    assert _tj(flows, "宝宝2.10生的")["birth"] == "2026-02-10"
    assert "birth" not in _tj(flows, "2026年2月10日去办的")
    assert "birth" not in _tj(flows, "1990年1月1日出生的妈妈")  # not a child's date


def test_longest_match_wins_and_ties_yield_nothing() -> None:
    spec = SlotSpec(
        "x",
        (Choice("a", ("天津户口",)), Choice("b", ("不是天津户口",)), Choice("c", ("外地读书",))),
    )
    assert spot("不是天津户口", spec) == "b"
    assert spot("天津户口，在外地读书", spec) is None  # equal lengths, different values
    assert spot("没有关系", spec) is None


def test_negation_before_a_word_cancels_it() -> None:
    spec = SlotSpec("x", (Choice("yes", ("参加过医保",)), Choice("no", ("没参加过医保",))))
    assert spot("没参加过医保", spec) == "no"
    assert spot("从没参加过医保", spec) == "no"
    assert spot("参加过医保", spec) == "yes"


@pytest.mark.parametrize(
    ("text", "answering", "value"),
    [
        ("住了两年", False, "yes"),
        ("住了一年", False, "yes"),
        ("居住11个月", False, "no"),
        ("来苏州18个月", False, "yes"),
        ("住了半年", False, "no"),
        ("两年", False, None),
        ("两年", True, "yes"),
        ("8个月", True, "no"),
        ("不到一年", True, "no"),
        ("2", True, "yes"),
        ("1", True, "yes"),
        ("半", True, "no"),
        ("2", False, None),
    ],
)
def test_residence_years(text: str, answering: bool, value: str | None) -> None:
    assert residence_years(text, answering) == value


@pytest.mark.parametrize(
    ("text", "answering", "count"),
    [
        ("两个孩子", False, 2),
        ("老三", False, 3),
        ("3", False, None),
        ("3", True, 3),
        ("3个", True, 3),
        ("一个", True, 1),
    ],
)
def test_children_count(text: str, answering: bool, count: int | None) -> None:
    assert children_count(text, answering) == count


@pytest.mark.parametrize(
    ("raw", "norm"), [("是的！", "是"), ("  有啊 ", "有"), ("ＹＥＳ", "yes"), ("没有呢", "没有")]
)
def test_normalize(raw: str, norm: str) -> None:
    assert normalize(raw) == norm


def test_one_fold_for_every_reader() -> None:
    """Button labels typed back, flow answers and turn records share knowledge.normalize.fold:
    full width, case and traditional characters read alike everywhere."""
    from dialogs.stores.records import normalise_text
    from knowledge.normalize import clean, fold

    assert normalize("已辦理！") == "已办理" == fold("已辦理")
    assert normalise_text("積分入醫 ＡＢＣ") == "积分入医 abc"
    assert clean("積分入醫？") == "积分入医"
