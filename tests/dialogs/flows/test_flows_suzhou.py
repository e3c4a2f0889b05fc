"""The Suzhou 积分入医 flow through the engine: every condition failing by button and by
typing, the calendar around its boundaries, materials by number of children, digressions,
back/restart, and the one-sentence question that gets its verdict at once."""

from __future__ import annotations

from datetime import date

import pytest
from flowchat import Chat

from dialogs.engine import Engine

TODAY = date(2026, 3, 1)
ALL_YES = [
    "s:suzhou:permit:yes",
    "s:suzhou:insurance:yes",
    "s:suzhou:years:yes",
    "s:suzhou:district:sip",
    "s:suzhou:school:primary",
    "s:suzhou:approved:yes",
    "s:suzhou:firsttime:yes",
]
ONE_SENTENCE = "我有苏州居住证住了两年交社保，孩子在工业园区上公办小学，没参加过苏州医保，能申请吗"


@pytest.fixture
def chat(engine: Engine) -> Chat:
    return Chat(engine, TODAY)


@pytest.mark.parametrize(
    "entry",
    ["/suzhou", "/start suzhou", "cb:f:suzhou", "积分入医自测", "苏州积分入医（资格与申请）"],
)
async def test_every_entrance(chat: Chat, entry: str) -> None:
    text = await (chat.press(entry[3:]) if entry.startswith("cb:") else chat.say(entry))
    assert "您（家长）已经办理苏州居住证了吗" in text


async def test_eligible_path_by_buttons_to_the_end(chat: Chat) -> None:
    await chat.say("/suzhou")
    for cb in ALL_YES:
        assert cb in chat.callbacks
        text = await chat.press(cb)
    assert "符合积分入医的申请条件" in text
    assert "纳入流动人口积分管理" in text
    assert "6月1日至8月31日" in text and "还有92天" in text  # today 3月1日: prepare
    assert "几个孩子" in text
    text = await chat.press("s:suzhou:children:upto2")
    for phrase in [
        "居民身份证原件",
        "居住证原件",
        "户籍证明",
        "家庭关系证明",
        "入园、入学的证明",
        "乡级以上（含乡级）计生部门",
        "受理回执",
    ]:
        assert phrase in text
    assert "县级卫生计生部门" not in text
    text = await chat.press("s:suzhou:materials:next")
    for phrase in [
        "9月份统一公示",
        "不少于5个工作日",
        "11月15日前",
        "核定表",
        "9月至11月",
        "视为自动放弃",
    ]:
        assert phrase in text
    session = await chat.session()
    assert session.flow is None and session.slots == {}


FAILS = {
    "permit": (0, "s:suzhou:permit:no", "已办理居住证"),
    "insurance": (1, "s:suzhou:insurance:no", "当年在苏州市区参加社会保险"),
    "years": (2, "s:suzhou:years:no", "连续合法居住一年以上"),
    "district": (3, "s:suzhou:district:other", "其他地区的办法页面没有写"),
    "school": (4, "s:suzhou:school:other", "托幼机构或义务教育阶段学校"),
    "approved": (5, "s:suzhou:approved:no", "经市、区教育部门批准设立"),
    "firsttime": (6, "s:suzhou:firsttime:no", "首次申请"),
}


@pytest.mark.parametrize("name", sorted(FAILS))
async def test_each_failing_condition_is_named_by_the_verdict(chat: Chat, name: str) -> None:
    index, bad, phrase = FAILS[name]
    await chat.say("/suzhou")
    for cb in ALL_YES[:index]:
        await chat.press(cb)
    text = await chat.press(bad)
    assert "暂不符合" in text and phrase in text
    assert text.count("✗") == 1
    session = await chat.session()
    assert session.flow is None and not session.slots  # a failing verdict ends the flow
    assert "f:suzhou" in chat.callbacks and "x:back" not in chat.callbacks
    # "再查一次" asks everything again.
    await chat.press("f:suzhou")
    assert (await chat.session()).state == "permit"


async def test_after_a_failing_verdict_faq_questions_are_not_digressions(chat: Chat) -> None:
    await chat.say("/suzhou")
    text = await chat.say("没有")
    assert "暂不符合" in text
    text = await chat.say("积分入医什么时候申请")
    assert "6月1日" in text and "要继续刚才的办理步骤吗" not in text
    assert (await chat.session()).flow is None


TYPED_ALL_YES = ["有", "交了", "两年", "园区", "小学", "公办", "没有"]


async def test_eligible_path_typed(chat: Chat) -> None:
    await chat.say("/suzhou")
    for answer in TYPED_ALL_YES:
        text = await chat.say(answer)
        assert "要继续刚才的办理步骤吗" not in text, answer
    assert "符合积分入医的申请条件" in text
    text = await chat.say("3个")
    assert "县级卫生计生部门出具的生育证明" in text
    text = await chat.say("下一步")
    assert "核定表" in text and (await chat.session()).flow is None


@pytest.mark.parametrize(
    ("answers", "phrase"),
    [
        (["没有"], "已办理居住证"),
        (["1", "2"], "当年在苏州市区参加社会保险"),
        (["是", "是", "8个月"], "连续合法居住一年以上"),
        (["嗯", "对", "满一年", "吴江"], "其他地区"),
        (
            [
                "yes",
                "yes",
                "yes",
                "6",
            ],
            "其他地区",
        ),
        (["有", "有", "有", "姑苏", "高中"], "托幼机构或义务教育阶段学校"),
        (["有", "有", "有", "姑苏", "4"], "托幼机构或义务教育阶段学校"),
        (["有", "有", "有", "姑苏", "幼儿园", "不是"], "批准设立"),
        (["有", "有", "有", "姑苏", "初中", "是", "参加过"], "首次申请"),
        (["有", "有", "有", "姑苏", "初中", "是", "有"], "首次申请"),
    ],
)
async def test_failing_typed(chat: Chat, answers: list[str], phrase: str) -> None:
    await chat.say("/suzhou")
    for a in answers:
        text = await chat.say(a)
    assert "暂不符合" in text and phrase in text


async def test_unsure_answers_are_listed_to_check(chat: Chat) -> None:
    await chat.say("/suzhou")
    for a in ["有", "有", "有", "园区", "小学", "不确定", "没参加过"]:
        text = await chat.say(a)
    assert "需要您先确认" in text and "? 学校（托幼机构）经市、区教育部门批准设立" in text
    assert "几个孩子" in text  # the flow goes on to the materials


async def test_one_sentence_gets_the_verdict_at_once(chat: Chat) -> None:
    text = await chat.say(ONE_SENTENCE)
    assert "已记下" in text
    assert "符合积分入医的申请条件" in text
    assert "您（家长）已经办理苏州居住证了吗" not in text  # nothing stated is asked again
    assert (await chat.session()).state == "children"


async def test_only_missing_facts_are_asked(chat: Chat) -> None:
    text = await chat.say("我有苏州居住证，交社保，孩子在姑苏区上幼儿园，能申请积分入医吗")
    assert "连续合法居住满一年了吗" in text
    text = await chat.say("三年了")
    assert "批准设立的吗" in text  # 幼儿园 given, approval not
    await chat.say("是")
    text = await chat.say("第一次申请")
    assert "符合积分入医的申请条件" in text


async def test_one_sentence_that_fails_names_the_condition(chat: Chat) -> None:
    text = await chat.say("我没有居住证，孩子在昆山上小学，能积分入医吗")
    assert "暂不符合" in text and "✗ 已办理居住证" in text


@pytest.mark.parametrize(
    "question",
    [
        "什么样的流动人口子女可以积分入医",
        "私立幼儿园的娃能申请积分入医吗",
        "积分入医现在可以申请了吗",
        "苏州积分入医",
        "公办和民办幼儿园都可以申请积分入医吗",
        "工业园区的公办小学能积分入医吗",
    ],
)
async def test_plain_questions_stay_with_the_faq(chat: Chat, question: str) -> None:
    await chat.say(question)
    assert (await chat.session()).flow is None


@pytest.mark.parametrize(
    ("today", "phrases"),
    [
        (date(2026, 5, 31), ["还没开始", "还有1天"]),
        (date(2026, 6, 1), ["正在申请期内", "还有91天"]),
        (date(2026, 8, 30), ["正在申请期内", "还有1天"]),
        (date(2026, 8, 31), ["最后一天"]),
        (date(2026, 9, 1), ["已经结束", "9月份统一公示", "2027年6月1日"]),
        (date(2017, 9, 5), ["已经结束", "2017年的通知", "9月10日"]),
        (date(2026, 9, 11), ["已经结束", "2027年6月1日"]),
        (date(2026, 11, 15), ["已经结束", "11月15日前"]),
        (date(2026, 11, 16), ["都已截止", "2027年6月1日"]),
        (date(2028, 2, 29), ["还没开始", "2028年6月1日", "还有93天"]),
    ],
)
async def test_calendar_for_todays_date(chat: Chat, today: date, phrases: list[str]) -> None:
    await chat.say("/suzhou", today=today)
    for cb in ALL_YES:
        text = await chat.press(cb, today=today)
    for phrase in phrases:
        assert phrase in text, (today, phrase)
    if today.year != 2017:
        assert "9月10日" not in text


@pytest.mark.parametrize(
    ("answer", "proof"),
    [
        ("1", "乡级以上"),
        ("两个", "乡级以上"),
        ("二胎", "乡级以上"),
        ("3", "县级卫生计生"),
        ("三个孩子", "县级卫生计生"),
        ("不确定", "生育两孩以内的，提供"),
    ],
)
async def test_materials_choose_the_birth_proof(chat: Chat, answer: str, proof: str) -> None:
    await chat.say("/suzhou")
    for cb in ALL_YES:
        await chat.press(cb)
    assert proof in await chat.say(answer)


async def test_digressions_in_every_question(chat: Chat) -> None:
    await chat.say("/suzhou")
    for cb in [*ALL_YES, "s:suzhou:children:upto2"]:
        state = (await chat.session()).state
        text = await chat.say("积分入医核定表最晚什么时候去打印")
        assert "11月15日" in text and "要继续刚才的办理步骤吗" in text
        assert (await chat.session()).state == state
        await chat.press("k:cont")
        await chat.press(cb)


async def test_back_and_restart(chat: Chat) -> None:
    await chat.say("/suzhou")
    await chat.say("有")
    await chat.say("有")
    text = await chat.say("返回")
    assert "参加社会保险" in text and (await chat.session()).state == "insurance"
    await chat.press("x:back")
    assert (await chat.session()).state == "permit"
    await chat.say("重新开始")
    assert (await chat.session()).flow is None


async def test_switching_flows_by_free_text(chat: Chat) -> None:
    await chat.say("/tianjin")
    text = await chat.say(ONE_SENTENCE)
    assert "符合积分入医的申请条件" in text
    assert (await chat.session()).flow == "suzhou"


def test_every_condition_question_offers_the_rule_values(engine: Engine) -> None:
    """The options in flows.yaml and the eligibility rule speak the same values."""
    from dialogs.flows.machine import GuidedFlow
    from dialogs.rules.suzhou import CONDITIONS

    flow = engine.flows["suzhou"]
    assert isinstance(flow, GuidedFlow)
    for name, ok in CONDITIONS.items():
        values = {o.value for o in flow.questions[name].options}
        assert ok <= values, name
        assert values - ok - {"unsure"}, f"{name}: no failing answer offered"


def test_broken_flow_text_is_refused_at_start_up(engine: Engine) -> None:
    from pydantic import ValidationError

    from dialogs.flows.questions import FlowText

    good = engine.kb.flow_text["suzhou"]
    with pytest.raises(ValidationError):
        FlowText.model_validate({k: v for k, v in good.items() if k != "questions"})
    broken = {
        **good,
        "questions": {"permit": {"ask": "?", "options": [{"value": "Bad Value", "label": "x"}]}},
    }
    with pytest.raises(ValidationError):
        FlowText.model_validate(broken)


async def test_a_bare_number_of_years_is_not_a_button_number(chat: Chat) -> None:
    await chat.walk("/suzhou", "有", "交了")
    text = await chat.say("2")  # two years, not option 2 ("不满一年")
    assert "暂不符合" not in text
    session = await chat.session()
    assert session.slots["years"] == "yes" and session.state == "district"


async def test_a_bare_number_of_children_is_not_a_button_number(chat: Chat) -> None:
    await chat.say("/suzhou")
    for cb in ALL_YES:
        await chat.press(cb)
    text = await chat.say("3")  # three children, not option 3 ("不确定")
    assert "县级卫生计生部门出具的生育证明" in text and "乡级以上" not in text
    await chat.say("/suzhou")
    for cb in ALL_YES:
        await chat.press(cb)
    text = await chat.say("2")  # two children: 两孩以内
    assert "生育两孩以内" in text and "县级卫生计生部门" not in text


async def test_the_eligible_verdict_refers_to_nothing_the_page_does_not_say(chat: Chat) -> None:
    await chat.say("/suzhou")
    for cb in ALL_YES:
        text = await chat.press(cb)
    assert "符合积分入医的申请条件" in text and "来源页面没有写" in text
    assert "咨询" not in text.split("规定是")[1].split("\n")[0]


async def test_back_after_a_failing_verdict_goes_one_step_back_keeping_the_answers(
    chat: Chat,
) -> None:
    """Issue 13: the intro promises "返回" at any time; after "暂不符合" it dropped to the
    main menu and lost every answer."""
    await chat.say("/suzhou")
    for cb in ALL_YES[:2]:  # permit, insurance
        await chat.press(cb)
    text = await chat.press("s:suzhou:years:no")  # under a year of residence
    assert "暂不符合" in text and (await chat.session()).flow is None
    text = await chat.say("返回")
    session = await chat.session()
    assert session.flow == "suzhou" and session.state == "years"
    assert {k: session.slots.get(k) for k in ("permit", "insurance")} == {
        "permit": "yes",
        "insurance": "yes",
    }
    assert "years" not in session.slots
    # Answered right this time, the flow goes on from there with the earlier answers.
    await chat.press(ALL_YES[2])
    assert (await chat.session()).state == "district"
    # And back again steps to the question before, as anywhere in the flow.
    await chat.press("x:back")
    assert (await chat.session()).state == "years"


async def test_back_after_a_failing_verdict_by_button_and_not_after_another_flow(
    chat: Chat,
) -> None:
    await chat.say("/suzhou")
    await chat.say("没有")
    await chat.press("x:back")
    assert (await chat.session()).state == "permit"
    await chat.say("没有")
    await chat.say("/tianjin")  # another flow started: nothing of Suzhou to go back to
    await chat.say("/cancel")
    await chat.say("返回")
    assert (await chat.session()).flow is None
