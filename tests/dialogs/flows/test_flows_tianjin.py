"""The Tianjin newborn flow through the engine: every path by buttons and by typing, the
90-day boundaries, digressions, back/restart/cancel, corrections and slot filling."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from flowchat import Chat

from bot.wiring import load_flows
from dialogs.engine import Engine
from dialogs.flows.machine import GuidedFlow
from dialogs.stores import StoreSettings
from dialogs.stores.sqlite import SqliteStore
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Matcher

TODAY = date(2026, 3, 1)
BIRTH_Q = "宝宝是哪天出生的"
HUKOU_Q = "宝宝是哪里的户籍"
PERMIT_Q = "父母任何一方持有天津市有效居住证吗"


@pytest.fixture
def chat(engine: Engine) -> Chat:
    return Chat(engine, TODAY)


async def test_start_offers_hukou_buttons(chat: Chat) -> None:
    text = await chat.say("/tianjin")
    assert HUKOU_Q in text
    assert chat.callbacks[:4] == [
        "s:tianjin:hukou:local",
        "s:tianjin:hukou:nonlocal",
        "s:tianjin:hukou:foreign",
        "s:tianjin:hukou:other",
    ]
    assert all(len(cb.encode()) <= 64 for cb in chat.callbacks)
    assert (await chat.session()).state == "hukou"


@pytest.mark.parametrize(
    "entry",
    ["/tianjin", "/start tianjin", "cb:f:tianjin", "天津参保向导", "天津新生儿参保（一步步办理）"],
)
async def test_every_entrance(chat: Chat, entry: str) -> None:
    text = await (chat.press(entry[3:]) if entry.startswith("cb:") else chat.say(entry))
    assert HUKOU_Q in text


# Each path: the presses, then phrases the answers along the way must contain.
PATHS = {
    "local": (
        ["s:tianjin:hukou:local", "s:tianjin:birth:skip", "s:tianjin:materials:next"],
        [
            "出生一件事",
            "津心办",
            "天津本地宝",
            "一件事·一次办",
            "人脸核验",
            "90天内",
            "居民户口簿",
            "100元",
            "津心办",
        ],
    ),
    "nonlocal-permit": (
        [
            "s:tianjin:hukou:nonlocal",
            "s:tianjin:permit:yes",
            "s:tianjin:birth:skip",
            "s:tianjin:materials:next",
        ],
        [
            "居住证受理回执",
            "流动人口居住登记凭证",
            "出生医学证明",
            "街（镇）综合服务机构",
            "天津医保公共服务平台网上服务大厅",
            "津医保APP",
            "暂住证",
            "100元",
        ],
    ),
    "nonlocal-nopermit": (
        [
            "s:tianjin:hukou:nonlocal",
            "s:tianjin:permit:no",
            "s:tianjin:birth:skip",
            "s:tianjin:materials:next",
        ],
        ["没有说明", "社会保险基金管理中心", "100元"],
    ),
    "nonlocal-unsure": (
        [
            "s:tianjin:hukou:nonlocal",
            "s:tianjin:permit:unsure",
            "s:tianjin:birth:skip",
            "s:tianjin:materials:next",
        ],
        ["请先确认居住证", "居住证受理回执", "100元"],
    ),
    "foreign": (
        ["s:tianjin:hukou:foreign", "s:tianjin:birth:skip", "s:tianjin:materials:next"],
        ["护照等有效证件", "社会保险基金管理中心", "100元"],
    ),
    "town": (["s:tianjin:hukou:other", "s:tianjin:variant:town"], ["劳动保障服务中心", "100元"]),
    "rural": (["s:tianjin:hukou:other", "s:tianjin:variant:rural"], ["行政村", "100元"]),
    "outside": (["s:tianjin:hukou:other", "s:tianjin:variant:outside"], ["通过家庭", "100元"]),
    "school": (
        ["s:tianjin:hukou:other", "s:tianjin:variant:school"],
        ["随学校、托幼机构参保", "100元"],
    ),
}


@pytest.mark.parametrize("path", sorted(PATHS))
async def test_every_path_by_buttons(chat: Chat, path: str) -> None:
    presses, phrases = PATHS[path]
    await chat.say("/tianjin")
    transcript = []
    for cb in presses:
        assert cb in chat.callbacks, (cb, chat.callbacks)
        transcript.append(await chat.press(cb))
    whole = "\n".join(transcript)
    for phrase in phrases:
        assert phrase in whole, (path, phrase)
    assert "830元" in transcript[-1] and "本次办理已结束" in transcript[-1]
    assert "出生日期已删除" not in transcript[-1]  # no date was given
    session = await chat.session()
    assert session.flow is None and session.slots == {}  # the flow ended, its data gone


def test_no_path_invents_a_rule_for_nonlocal_without_permit(kb: KnowledgeBase) -> None:
    text = kb.flow_text["tianjin"]["text"]["path_nopermit"]
    assert "没有说明" in text and "不替它下结论" in text


# The same paths typed, in the ways people answer.
TYPED = {
    "local-label": (["天津户籍", "跳过", "下一步"], "出生一件事"),
    "local-number": (["1", "跳过", "1"], "出生一件事"),
    "local-phrase": (["我们是本地户口", "不想说", "好的"], "出生一件事"),
    "local-partial": (["天津", "skip", "继续"], "出生一件事"),
    "nonlocal-yes": (["外地户籍", "是", "跳过", "好"], "居住证受理回执"),
    "nonlocal-you": (["2", "有", "跳过", "ok"], "居住证受理回执"),
    "nonlocal-no": (["外地的", "没有", "跳过", "下一步"], "没有说明"),
    "nonlocal-no-word": (["不是天津户口", "no", "跳过", "下一步"], "没有说明"),
    "nonlocal-unsure": (["外地户口", "不知道", "跳过", "下一步"], "请先确认居住证"),
    "foreign": (["香港", "跳过", "下一步"], "护照"),
    "rural": (["不是新生儿", "农村"], "行政村"),
    "school-number": (["4", "4"], "随学校"),
}


@pytest.mark.parametrize("case", sorted(TYPED))
async def test_every_path_typed(chat: Chat, case: str) -> None:
    answers, phrase = TYPED[case]
    await chat.say("/tianjin")
    transcript = [await chat.say(a) for a in answers]
    assert "要继续刚才的办理步骤吗" not in "\n".join(transcript)  # none taken as a digression
    assert phrase in "\n".join(transcript)
    assert "100元" in transcript[-1]
    assert (await chat.session()).flow is None


@pytest.mark.parametrize(
    ("day", "phrases"),
    [
        (1, ["出生第1天", "还剩89天"]),
        (89, ["出生第89天", "还剩1天"]),
        (90, ["还来得及，但今天就是最后一天", "最后一天"]),
        (91, ["出生第91天", "已超过90天", "缴费次日"]),
    ],
)
async def test_90_day_boundaries_in_the_answer(chat: Chat, day: int, phrases: list[str]) -> None:
    birth = date(2026, 1, 10)
    today = birth + timedelta(days=day - 1)
    await chat.walk("/tianjin", "天津户籍", today=today)
    text = await chat.say("2026年1月10日", today=today)
    for phrase in phrases:
        assert phrase in text
    assert "2026年4月9日" in text  # birth + 89 days
    if day <= 90:
        assert "出生当天算第1天" in text  # the counting convention is stated


async def test_late_answer_names_the_day_coverage_starts(chat: Chat) -> None:
    await chat.walk("/tianjin", "天津户籍", today=date(2026, 6, 1))
    text = await chat.say("1月10日", today=date(2026, 6, 1))
    assert "2026年6月2日起享受" in text


@pytest.mark.parametrize(
    ("typed", "birth"),
    [
        ("2026年2月10日", "2026年2月10日"),
        ("2月10号", "2026年2月10日"),
        ("2026-02-10", "2026年2月10日"),
        ("2.10", "2026年2月10日"),
        ("2/10", "2026年2月10日"),
        ("今天", "2026年3月1日"),
    ],
)
async def test_birth_date_forms(chat: Chat, typed: str, birth: str) -> None:
    await chat.walk("/tianjin", "天津户籍")
    assert birth in await chat.say(typed)


async def test_born_today_button(chat: Chat) -> None:
    await chat.say("/tianjin")
    await chat.press("s:tianjin:hukou:local")
    text = await chat.press("s:tianjin:birth:today")
    assert "出生第1天" in text and "2026年5月29日" in text


async def test_impossible_date_is_refused_and_asked_again(chat: Chat) -> None:
    await chat.walk("/tianjin", "天津户籍")
    text = await chat.say("2月30日")
    assert "日期不存在" in text and BIRTH_Q in text
    assert (await chat.session()).state == "birth"


async def test_expected_birth_date_gives_a_plan(chat: Chat) -> None:
    await chat.walk("/tianjin", "天津户籍")
    text = await chat.say("预产期2026年10月1日")
    assert "2026年12月29日" in text and "出生后就可以办" in text


async def test_materials_are_tailored(chat: Chat) -> None:
    await chat.walk("/tianjin", "天津户籍")
    local = await chat.say("跳过")
    assert "暂住证" not in local and "护照" not in local and "服务银行" in local
    await chat.walk("/tianjin", "港澳台或外籍")
    foreign = await chat.say("跳过")
    assert "护照等有效证件及复印件" in foreign
    await chat.walk("/tianjin", "外地户籍", "有")
    nonlocal_ = await chat.say("跳过")
    assert "暂住证原件" in nonlocal_ and "出生医学证明" in nonlocal_


# ---------------------------------------------------------------- digressions and navigation
@pytest.mark.parametrize("state_answers", [[], ["天津户籍"], ["外地户籍"], ["天津户籍", "跳过"]])
async def test_digression_is_answered_then_the_flow_continues(
    chat: Chat, state_answers: list[str]
) -> None:
    await chat.say("/tianjin")
    for a in state_answers:
        await chat.say(a)
    before = (await chat.session()).state
    text = await chat.say("天津新生儿医保个人交多少钱")
    assert "100" in text and "要继续刚才的办理步骤吗" in text
    assert (await chat.session()).state == before
    resumed = await chat.press("k:cont")
    assert (await chat.session()).state == before
    assert resumed.strip()
    stopped_chat = await chat.say("异地就医怎么备案")
    assert "要继续刚才的办理步骤吗" in stopped_chat
    await chat.press("k:stop")
    assert (await chat.session()).flow is None


async def test_back_goes_one_question_up_and_forgets_that_answer(chat: Chat) -> None:
    await chat.walk("/tianjin", "外地户籍", "有")
    text = await chat.say("返回")
    assert PERMIT_Q in text
    session = await chat.session()
    assert session.state == "permit" and "permit" not in session.slots
    text = await chat.press("x:back")
    assert HUKOU_Q in text
    text = await chat.say("返回")
    assert "已经在第一步了" in text and HUKOU_Q in text
    text = await chat.say("天津户籍")
    assert "出生一件事" in text  # a new answer takes the other branch


@pytest.mark.parametrize("word", ["重新开始", "/cancel", "取消"])
async def test_leaving_works_in_every_state(chat: Chat, word: str) -> None:
    for answers in ([], ["外地户籍"], ["外地户籍", "有"], ["外地户籍", "有", "跳过"]):
        await chat.say("/tianjin")
        for a in answers:
            await chat.say(a)
        await chat.say(word)
        session = await chat.session()
        assert session.flow is None and session.slots == {}


async def test_restart_button_ends_the_flow(chat: Chat) -> None:
    await chat.say("/tianjin")
    await chat.say("外地户籍")
    assert "x:restart" in chat.callbacks
    await chat.press("x:restart")
    assert (await chat.session()).flow is None


async def test_a_stale_button_is_refused(chat: Chat) -> None:
    await chat.say("/tianjin")
    await chat.press("s:tianjin:hukou:local")
    text = await chat.press("s:tianjin:hukou:nonlocal")  # pressed again on the old message
    assert "按钮已过期" in text


async def test_a_correction_replays_from_the_top(chat: Chat) -> None:
    await chat.walk("/tianjin", "天津户籍")
    await chat.say("2月10日")
    text = await chat.say("说错了，是外地户口，有居住证")
    assert "居住证受理回执" in text  # the 外地 path now
    assert "暂住证原件" in text  # materials re-tailored, birth date kept
    session = await chat.session()
    assert session.state == "materials" and session.slots["birth"] == "2026-02-10"


# ---------------------------------------------------------------- free text with facts
async def test_one_sentence_with_a_birth_date_answers_the_deadline_at_once(chat: Chat) -> None:
    text = await chat.say("孩子2026年2月10日在天津出生，医保最晚什么时候办")
    assert "2026年5月10日" in text and "出生当天算第1天" in text
    assert HUKOU_Q in text  # then only what is missing is asked
    text = await chat.say("外地户口，有居住证")
    assert "居住证受理回执" in text
    assert BIRTH_Q not in text  # the birth date is known
    assert text.count("2026年5月10日") == 0  # the deadline is not repeated
    assert "办理材料" in text


async def test_one_sentence_with_everything_goes_straight_to_materials(chat: Chat) -> None:
    text = await chat.say("我们外地户口，有天津居住证，宝宝2月20日出生，医保怎么办")
    assert "已记下" in text and "外地户籍" in text
    assert "2026年5月20日" in text and "办理材料" in text


async def test_variant_sentence_answers_directly(chat: Chat) -> None:
    text = await chat.say("孩子户口在天津但在外省上学，医保咋办")
    assert "通过家庭" in text
    assert (await chat.session()).flow is None


@pytest.mark.parametrize(
    "question",
    [
        "天津新生儿医保怎么办理",
        "天津新生儿医保交多少钱",
        "外地户籍宝宝天津医保线下去哪登记",
        "我们不是天津户口，孩子在天津出生，医保怎么上",
    ],
)
async def test_plain_questions_stay_with_the_faq(chat: Chat, question: str) -> None:
    await chat.say(question)
    assert (await chat.session()).flow is None


async def test_the_end_says_the_birth_date_is_deleted(chat: Chat) -> None:
    text = await chat.walk("/tianjin", "天津户籍", "2月10日", "下一步")
    assert "出生日期已删除" in text
    assert (await chat.session()).slots == {}


async def test_birth_date_is_dropped_when_the_flow_ends(chat: Chat) -> None:
    await chat.say("孩子2026年2月10日在天津出生，医保最晚什么时候办")
    assert (await chat.session()).slots.get("birth") == "2026-02-10"
    await chat.say("/cancel")
    assert "birth" not in (await chat.session()).slots


async def test_restart_between_every_turn_on_sqlite(
    kb: KnowledgeBase, matcher: Matcher, tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    turns = ["/tianjin", "外地户籍", "有", "2月10日", "下一步"]
    texts = []
    for turn in turns:
        store = SqliteStore(path, StoreSettings(hash_salt="t"))
        engine = Engine(kb, matcher, store, flows=load_flows(kb))
        texts.append(await Chat(engine, TODAY).say(turn))
        await store.close()
    assert "居住证受理回执" in texts[2] and "2026年5月10日" in texts[3] and "100元" in texts[4]


async def test_one_shared_machine_and_no_chat_left_on_it(engine: Engine) -> None:
    flow = engine.flows["tianjin"]
    assert isinstance(flow, GuidedFlow)
    machine = flow.machine
    for chat_id in range(1, 6):
        await Chat(engine, TODAY, chat_id).walk("/tianjin", "外地户籍", "有", "2月10日")
    assert machine.models == []


async def test_a_failing_turn_still_detaches_the_chat(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = engine.flows["tianjin"]
    assert isinstance(flow, GuidedFlow)
    await Chat(engine, TODAY).say("/tianjin")

    def boom(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(flow.machine.events["next"], "trigger", boom)
    with pytest.raises(RuntimeError):
        await Chat(engine, TODAY).say("天津户籍")
    assert flow.machine.models == []


async def test_where_the_family_lives_does_not_override_hukou_and_birth(chat: Chat) -> None:
    text = await chat.say("我们住在天津市区，宝宝3月2日出生，天津户口，怎么办医保")
    assert "天津户籍新生儿" in text and "办理材料" in text
    assert "城镇" not in text and "不是新生儿" not in text
    session = await chat.session()
    assert session.slots["hukou"] == "local" and "variant" not in session.slots


async def test_village_with_a_birth_date_asks_the_hukou(chat: Chat) -> None:
    text = await chat.say("我们住在天津农村，宝宝2月2日出生，怎么办医保")
    assert "2026年5月2日" in text and HUKOU_Q in text
    assert "行政村" not in text


async def test_village_alone_is_still_the_rural_variant(chat: Chat) -> None:
    text = await chat.say("天津农村的孩子没上学怎么参保")
    assert "行政村" in text


async def test_the_deadline_is_for_benefits_from_birth_not_for_enrolment(chat: Chat) -> None:
    text = await chat.say("天津户口，宝宝2月20日出生，医保怎么办")
    assert "可以从出生之日起享受待遇。最晚办理日期：2026年5月20日" in text
    assert "参保缴费本身不受时间限制" in text
