"""Question frames, dialogue state, scope guards and verdicts (dialogs/understanding.py),
and everyday dates (dialogs/rules/everyday.py), with the clock passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paths import CONVERSATIONS

from bot.wiring import build_engine
from dialogs.engine import Engine
from dialogs.rules.ahead import ahead_span
from dialogs.rules.everyday import birth_span, holidays_from
from dialogs.rules.suzhou import Phase, publicity_end, school_phase
from dialogs.rules.workdays import is_workday
from dialogs.types import Incoming
from knowledge.loader import load_kb

KB = load_kb()
assert KB.understanding is not None
HOLIDAYS = holidays_from(KB.understanding.holidays)
AGES = KB.understanding.age_words
YEARS = KB.understanding.relative_years


async def _say(engine: Engine, chat: int, today: date, *turns: str) -> str:
    text = ""
    for turn in turns:
        replies = await engine.handle(chat, Incoming(text=turn, today=today))
        text = "\n".join(r.plain() for r in replies)
    return text


@pytest.fixture
def engine() -> Engine:
    return build_engine("memory://")


# ---------------------------------------------------------------- everyday dates
@pytest.mark.parametrize(
    ("said", "born"),
    [
        ("宝宝去年春节那天出生的", date(2025, 1, 29)),
        ("娃是今年除夕出生的", date(2026, 2, 16)),  # the lunar year 2025's last day
        ("去年除夕出生", date(2025, 1, 28)),
        ("前年中秋出生的", date(2024, 9, 17)),
        ("去年国庆节出生", date(2025, 10, 1)),
    ],
)
def test_a_year_said_before_a_holiday_is_that_year_s(said: str, born: date) -> None:
    span = birth_span(said, date(2026, 3, 15), HOLIDAYS, AGES, YEARS)
    assert span is not None and span.first == span.last == born


def test_a_holiday_of_this_year_still_to_come_is_no_birth_day() -> None:

    assert birth_span("今年国庆出生的", date(2026, 3, 15), HOLIDAYS, AGES, YEARS) is None


@settings(max_examples=200, deadline=None)
@given(
    today=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    name=st.sampled_from(sorted(HOLIDAYS)),
)
def test_a_holiday_birth_day_is_that_holiday_never_today(today: date, name: str) -> None:
    span = birth_span(f"宝宝{name}那天出生的", today, HOLIDAYS, AGES)
    assert span is not None and span.exact is not None
    assert span.exact <= today
    assert today - span.exact < timedelta(days=366 + 31)
    if span.exact == today:  # only when the holiday really is today
        again = birth_span(f"宝宝{name}那天出生的", today - timedelta(days=1), HOLIDAYS, AGES)
        assert again is None or again.exact != today


@settings(max_examples=200, deadline=None)
@given(
    today=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    days=st.integers(min_value=2, max_value=400),
)
def test_an_age_in_days_is_that_many_days_back(today: date, days: int) -> None:
    span = birth_span(f"出生{days}天了", today, HOLIDAYS, AGES)
    assert span is not None
    assert span.first == today - timedelta(days=days)
    assert span.last < today


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("中秋节那天出生", date(2026, 9, 25)),
        ("元旦那天生的", date(2026, 1, 1)),
        ("上个月15号出生", date(2026, 11, 15)),
        ("12号生的", date(2026, 11, 12)),
        ("刚出生", date(2026, 12, 1)),
        ("9月5日出生", date(2026, 9, 5)),
        ("上周五出生的", date(2026, 11, 27)),  # 2026-12-01 is a Tuesday
        ("这个星期一生的", date(2026, 11, 30)),
    ],
)
def test_birth_phrases(phrase: str, expected: date) -> None:
    span = birth_span(phrase, date(2026, 12, 1), HOLIDAYS, AGES)
    assert span is not None and span.exact == expected


@pytest.mark.parametrize("phrase", ["我家宝宝今天出生满50天", "今天满月了", "宝宝今天刚好三个月大"])
def test_an_age_counted_today_is_not_a_birth_today(phrase: str) -> None:
    """ "今天出生满50天": today is when the age is counted; the birth is weeks back."""
    today = date(2026, 7, 10)
    span = birth_span(phrase, today, HOLIDAYS, AGES)
    assert span is not None and span.last <= today - timedelta(days=25)


@pytest.mark.parametrize("lead", ["今天", "今天礼拜五", "今天在家", "今天才想起来"])
@pytest.mark.parametrize(
    "said", ["去年11月1号", "上个月15号", "10月3日", "元旦那天", "上周三", "两个月前", "12周前"]
)
@pytest.mark.parametrize("today", [date(2027, 2, 6), date(2028, 1, 26), date(2026, 12, 1)])
def test_today_said_first_never_replaces_the_birth_day(lead: str, said: str, today: date) -> None:
    """The clock passed in; "今天…" said before the birth day leaves its reading as it is."""
    alone = birth_span(f"宝宝是{said}出生的", today, HOLIDAYS, AGES)
    span = birth_span(f"{lead}，宝宝是{said}出生的", today, HOLIDAYS, AGES)
    assert alone is not None and alone.last < today
    assert span == replace(alone, phrase=span.phrase if span else ""), (lead, said, today, span)


@pytest.mark.parametrize(
    ("phrase", "today", "day"),
    [
        ("宝宝是今年春节前两天生的", date(2027, 2, 10), date(2027, 2, 4)),
        ("宝宝是春节前两天生的", date(2027, 2, 5), date(2027, 2, 4)),  # 春节 still to come
        ("国庆后一天出生的", date(2027, 2, 10), date(2026, 10, 2)),
        ("十一月十五号出生的", date(2027, 2, 10), date(2026, 11, 15)),  # 十一月 is no 国庆
        ("宝宝刚满3周", date(2027, 4, 5), date(2027, 3, 15)),  # 满 N 周: to the day
        ("宝宝满两个星期了", date(2027, 4, 5), date(2027, 3, 22)),
    ],
)
def test_days_around_a_holiday_and_months_named_like_one(
    phrase: str, today: date, day: date
) -> None:
    span = birth_span(phrase, today, HOLIDAYS, AGES)
    assert span is not None and span.first == span.last == day, span


def test_today_said_beside_the_birth_day_is_not_the_birth() -> None:
    """ "今天大年初一，宝宝是去年11月1号出生的": today is when the parent writes."""
    span = birth_span(
        "今天大年初一，宝宝是去年11月1号在天津出生的", date(2028, 1, 26), HOLIDAYS, AGES
    )
    assert span is not None and span.first == span.last == date(2027, 11, 1)


def test_a_vague_age_is_a_range_not_a_day() -> None:
    span = birth_span("宝宝三个月大", date(2026, 12, 1), HOLIDAYS, AGES)
    assert span is not None and span.exact is None and span.first < span.last


@pytest.mark.parametrize(
    ("phrase", "days_old"),
    [("宝宝出生一个半月了", 45), ("不对 是四个半月", 137), ("两个半月大", 76)],
)
def test_a_month_and_a_half_is_not_half_a_month(phrase: str, days_old: int) -> None:
    """ "一个半月" was read as "半月" (15 days): a late baby looked early."""
    today = date(2026, 12, 1)
    span = birth_span(phrase, today, HOLIDAYS, AGES)
    assert span is not None
    assert span.first <= today - timedelta(days=days_old - 3)
    assert span.last >= today - timedelta(days=days_old + 3)
    assert span.last <= today - timedelta(days=days_old - 5)


@pytest.mark.parametrize(
    ("phrase", "first"),
    [
        ("后天呢", date(2026, 12, 3)),
        ("再过十天", date(2026, 12, 11)),
        ("下周", date(2026, 12, 7)),
        # "今天" is today, not the same day next year (the year-less dates are read up to a
        # year ahead; 今天 used to be read against that shifted day).
        ("今天去办医保还来得及从出生算吗", date(2026, 12, 1)),
        # A span after a holiday counts from the holiday, not from today.
        ("元旦过完再等一个礼拜去办医保", date(2027, 1, 8)),
        ("国庆后再过三天去办", date(2027, 10, 4)),
        ("下周五去办", date(2026, 12, 11)),
    ],
)
def test_days_ahead(phrase: str, first: date) -> None:
    span = ahead_span(phrase, date(2026, 12, 1), HOLIDAYS)
    assert span is not None and span.first == first


@pytest.mark.parametrize(
    ("phrase", "today", "first"),
    [
        # The day said with going beats the holiday's first day (and next year's 国庆).
        ("国庆长假最后一天7号去办医保", date(2026, 10, 5), date(2026, 10, 7)),
        # What is over is the holiday, not the date: the date is the day to go, not today.
        ("要是等假期过完10月8号再去，还算90天内吗", date(2026, 10, 1), date(2026, 10, 8)),
        # The seventh day of the lunar new year (2027: 春节 is 2月6日).
        ("想等过完年初七上班再去办", date(2027, 1, 25), date(2027, 2, 12)),
        ("正月初二去办", date(2027, 1, 25), date(2027, 2, 7)),
        # A day of next month by its number, not the month's first day.
        ("核定表我打算下个月20号再去打，行不", date(2026, 10, 28), date(2026, 11, 20)),
        # "明天就五一放假了，今天去办": the day said with going, not the holiday nor 明天.
        ("明天就五一放假了，今天去办还在90天以内吗", date(2026, 4, 30), date(2026, 4, 30)),
        # Something done on a year-less date ("刚拿到") happened this year, not next.
        ("我9月2号刚拿到一个加分证书", date(2026, 9, 3), date(2026, 9, 2)),
        ("3月1号已经交了", date(2027, 2, 27), date(2026, 3, 1)),
    ],
)
def test_days_ahead_around_holidays(phrase: str, today: date, first: date) -> None:
    span = ahead_span(phrase, today, HOLIDAYS)
    assert span is not None and span.first == first


def test_a_date_said_to_be_past_is_not_a_day_to_go() -> None:
    span = ahead_span("过了11月15号没打核定表", date(2026, 11, 20), HOLIDAYS)
    assert span is None or span.first != date(2027, 11, 15)


# ---------------------------------------------------------------- the clerk
TODAY = date(2026, 12, 1)


async def test_greetings_and_thanks_are_not_refused(engine: Engine) -> None:
    for i, text in enumerate(["你好", "在吗", "谢谢", "好的"]):
        reply = await _say(engine, 100 + i, TODAY, text)
        assert "不在我能回答的范围" not in reply and reply


ONE_QUESTION: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    # name: (the message, what the reply must say, what it must not)
    "adults get a scope guard, not the children's fee": (
        "我妈退休了在天津医保一年交多少",
        ("退休",),
        ("830",),
    ),
    "another year is said to be missing": (
        "天津2027年的少儿医保缴费标准是多少",
        ("2027年度的标准页面没有写", "830"),
        (),
    ),
    "a holiday birth gets a verdict": (
        "宝宝元旦那天出生的，现在在天津办医保还能从出生起享受吗",
        ("来不及了，已不能从出生之日起享受", "2026年1月1日"),
        (),
    ),
    "a district outside the five gets the verdict": (
        "孩子在太仓上小学能申请积分入医吗",
        ("不符合", "五个区"),
        (),
    ),
    "high school is outside the scheme": ("孩子读高二了还能走积分入医吗", ("不符合", "高中"), ()),
    "the year's label is kept when an out-of-scope item matched by chance": (
        "天津2026年学生医保交多少",
        ("2026年度的标准页面没有写", "830"),
        ("苏州",),
    ),
    "a treatment's coverage is not on the pages": (
        "娃打疫苗医保能报吗",
        ("没有写",),
        ("天津还是苏州",),
    ),
    "an aspect only one page covers names its city": (
        "孩子上的是没备案的托管班 算托幼机构吗",
        ("教育部门",),
        ("异地",),
    ),
    "a yes/no question gets the entry's own verdict first": (
        "天津户口新生儿医保能网上办吗",
        ("可以：", "津心办"),
        (),
    ),
}


@pytest.mark.parametrize("name", list(ONE_QUESTION))
async def test_one_question_answers(engine: Engine, name: str) -> None:
    text, present, absent = ONE_QUESTION[name]
    reply = await _say(engine, 1, TODAY, text)
    assert all(p in reply for p in present), reply
    assert not any(a in reply for a in absent), reply


async def test_a_follow_up_changes_the_day_and_reruns_the_90_day_rule(engine: Engine) -> None:
    first = await _say(engine, 3, TODAY, "天津户口，宝宝9月5日出生，怎么上医保")
    assert "还来得及" in first
    later = await _say(engine, 3, TODAY, "要是下周才去办呢")
    assert later.startswith("来不及了，已不能从出生之日起享受") and "缴费次日" in later


async def test_suzhou_day_after_tomorrow(engine: Engine) -> None:
    today = date(2026, 5, 30)
    first = await _say(engine, 5, today, "苏州积分入医现在能申请吗")
    assert "还没开始" in first
    then = await _say(engine, 5, today, "后天呢")
    assert "2026年6月1日" in then and "正在申请期内" in then


async def test_a_correction_in_the_suzhou_check_changes_the_verdict(engine: Engine) -> None:
    await _say(engine, 8, TODAY, "/suzhou")
    await _say(engine, 8, TODAY, "有居住证")
    reply = await _say(engine, 8, TODAY, "哦不对，孩子上的是高中")
    assert "暂不符合" in reply


async def test_the_form_deadline_is_counted(engine: Engine) -> None:
    reply = await _say(engine, 9, date(2026, 10, 20), "积分入医核定表现在还能打印吗")
    assert "还来得及" in reply and "26天" in reply
    closed = await _say(engine, 10, TODAY, "积分入医核定表现在还能打印吗")
    assert "已过" in closed


async def test_a_holiday_in_the_window_is_excluded(engine: Engine) -> None:
    reply = await _say(engine, 11, date(2026, 6, 1), "端午节那天能去街道交积分入医申请吗")
    assert "节假日" in reply


async def test_a_holiday_asked_as_a_follow_up_is_that_day_not_the_festival(engine: Engine) -> None:
    """ "端午节那天街道办收吗" after the window is the window's question on that day (it got
    the out-of-scope reply about festival activities); the day's verdict comes first."""
    reply = await _say(
        engine, 12, date(2026, 6, 10), "积分入医申请时间是啥时候", "端午节那天街道办收申请吗"
    )
    assert reply.startswith("苏州积分入医申请时间\n那天不受理：2026年6月19日"), reply


def _weekdays(day: date) -> bool:
    return day.weekday() < 5


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 9, 14), date(2026, 9, 18)),  # Monday -> Friday
        (date(2026, 9, 12), date(2026, 9, 18)),  # a Saturday start counts from Monday
        (date(2026, 9, 17), date(2026, 9, 23)),  # over a weekend
    ],
)
def test_publicity_lasts_five_working_days(start: date, end: date) -> None:
    assert publicity_end(start, _weekdays) == end


def test_publicity_skips_the_official_holidays() -> None:
    # 2025-10-01..08 are holidays, 2025-09-28 and 10-11 make-up workdays (official calendar).
    end = publicity_end(date(2025, 9, 29), is_workday)
    assert end is not None and end > date(2025, 10, 8)
    assert publicity_end(date(2099, 9, 1), is_workday) is None  # calendar not published


@pytest.mark.parametrize(
    ("day", "phase"),
    [
        (date(2026, 8, 31), Phase.PREPARE),
        (date(2026, 9, 1), Phase.OPEN),
        (date(2026, 11, 30), Phase.OPEN),
        (date(2026, 12, 1), Phase.CLOSED),
    ],
)
def test_school_enrolment_months(day: date, phase: Phase) -> None:
    assert school_phase(day) is phase


async def test_school_enrolment_verdict(engine: Engine) -> None:
    reply = await _say(engine, 12, date(2026, 10, 20), "核定表拿到了 现在去学校办入医手续来得及吗")
    assert "还来得及" in reply
    late = await _say(engine, 13, TODAY, "核定表拿到了 现在去学校办入医手续来得及吗")
    assert "已过" in late and "自动放弃" in late


async def test_a_publicity_start_gives_its_earliest_end(engine: Engine) -> None:
    text = "听说积分入医名单下周一9月22号开始公示 最早哪天能结束"
    reply = await _say(engine, 14, date(2025, 9, 17), text)
    assert "2025年9月26日" in reply


@pytest.mark.parametrize(
    ("turns", "verdict_due"),
    [
        (("/tianjin", "哦不对 是10月3日出生"), False),  # while 户籍 is asked
        (("/tianjin", "外地户籍", "哦不对 是10月3日出生"), False),  # while the permit is
        (("/tianjin", "外地户籍", "有居住证", "哦不对 是10月3日出生"), True),  # birth step
        (("/tianjin", "天津户籍", "2026年8月3日", "说错了 是10月3日出生的"), True),  # after
    ],
)
async def test_a_birth_correction_at_every_tianjin_step(
    engine: Engine, turns: tuple[str, ...], verdict_due: bool
) -> None:
    reply = await _say(engine, 15, TODAY, *turns)
    session = await engine.store.load(15)
    assert session is not None and session.slots.get("birth") == "2026-10-03"
    assert "2026年10月3日" in reply
    # At the birth step or after the deadline was told, the new verdict comes at once;
    # before it, the flow acknowledges the day and keeps asking its question.
    assert ("还来得及" in reply and "2026年12月31日" in reply) is verdict_due


async def test_a_hukou_correction_goes_back_to_the_step_it_decides(engine: Engine) -> None:
    await _say(engine, 16, TODAY, "/tianjin", "天津户籍")
    await _say(engine, 16, TODAY, "说错了，是外地户口")
    assert await engine.describe_state(16) == "tianjin.permit"


async def test_a_free_text_birth_correction_reanswers(engine: Engine) -> None:
    today = date(2025, 11, 20)
    await _say(engine, 17, today, "宝宝11月3日出生 在天津 最晚啥时候办医保")
    reply = await _say(engine, 17, today, "哦不对 是10月3日")
    assert "2025年12月31日" in reply and "2026年1月31日" not in reply


async def test_facts_stated_on_the_way_into_a_flow_stay_known(engine: Engine) -> None:
    await _say(engine, 18, TODAY, "孩子天津户口 在外地上学")
    reply = await _say(engine, 18, TODAY, "能跟着那边学校参保吗")
    assert "通过家庭" in reply and "随学校" not in reply


async def test_both_cities_named_get_each_citys_answer(engine: Engine) -> None:
    reply = await _say(engine, 19, TODAY, "天津和苏州的少儿医保各要交多少钱")
    assert "830" in reply and "没有写缴费金额" in reply


async def test_another_city_named_never_gets_the_pages_process(engine: Engine) -> None:
    reply = await _say(engine, 20, TODAY, "杭州积分入医怎么申请")
    assert "不在我能回答的范围" in reply and "6月1日" not in reply


@pytest.mark.parametrize(
    ("name", "right_floor", "wrong_ceiling"),
    [
        ("blind_dev.yaml", 0.97, 0.02),
        ("blind2_dev.yaml", 0.98, 0.01),
        ("blind3_dev.yaml", 0.97, 0.02),
        ("blind4_dev.yaml", 0.97, 0.02),
        ("blind5_dev.yaml", 0.97, 0.02),
        ("blind6_dev.yaml", 0.97, 0.02),
        ("blind7_dev.yaml", 0.95, 0.04),
        ("blind8_dev.yaml", 0.95, 0.04),
        ("blind9_dev.yaml", 0.95, 0.04),
        ("blind10_dev.yaml", 0.95, 0.04),
        ("blind11_dev.yaml", 0.97, 0.02),
        ("blind12_dev.yaml", 0.95, 0.04),
        ("blind13_dev.yaml", 0.93, 0.05),
        ("blind14_dev.yaml", 0.95, 0.03),
        ("blind15_dev.yaml", 0.96, 0.02),
        ("blind16_dev.yaml", 0.93, 0.06),
        ("blind17_dev.yaml", 0.97, 0.02),
        ("blind18_dev.yaml", 0.96, 0.03),
        ("blind19_dev.yaml", 0.92, 0.05),
        ("blind20_dev.yaml", 0.95, 0.04),
        ("blind21_dev.yaml", 0.95, 0.04),
        ("blind22_dev.yaml", 0.92, 0.07),
        ("blind23_dev.yaml", 0.95, 0.04),
        ("blind24_dev.yaml", 0.93, 0.06),
        ("blind25_dev.yaml", 0.96, 0.03),
        ("blind26_dev.yaml", 0.96, 0.03),
        ("blind27_dev.yaml", 0.96, 0.03),
        ("blind27e_dev.yaml", 0.96, 0.03),
        ("blind28_dev.yaml", 0.96, 0.03),
    ],
)
async def test_blind_development_sets_keep_their_floor(
    name: str, right_floor: float, wrong_ceiling: float
) -> None:
    """The blind sets (written from the pages only) must not regress below the figures at
    the end of the round that last worked on them."""

    from bot.cli.evaluate import RIGHT, WRONG, evaluate

    path = CONVERSATIONS / name
    outcomes = await evaluate([path])
    right = sum(o.verdict == RIGHT for o in outcomes) / len(outcomes)
    wrong = sum(o.verdict == WRONG for o in outcomes) / len(outcomes)
    assert right >= right_floor and wrong <= wrong_ceiling, (right, wrong)


SUZHOU_ANSWERS = ("有居住证", "交了社保", "满一年", "姑苏区", "小学", "是", "没参加过")


@pytest.mark.parametrize("answered", range(1, len(SUZHOU_ANSWERS) + 1))
async def test_a_correction_at_every_suzhou_step_changes_the_verdict(
    engine: Engine, answered: int
) -> None:
    """Whichever question is open (or after the verdict), correcting the first answer
    re-decides with the other answers kept."""
    chat = 200 + answered
    await _say(engine, chat, TODAY, "/suzhou", *SUZHOU_ANSWERS[:answered])
    reply = await _say(engine, chat, TODAY, "不对，其实没有居住证")
    assert "没有居住证" in reply and "暂不符合" in reply
    assert "参加社会保险（交社保）了吗" not in reply  # nothing answered is asked again


async def test_an_out_of_scope_topic_named_beats_the_words_it_shares(engine: Engine) -> None:
    """积分入学 is not 积分入医, however much of "要什么材料" fits the Suzhou entries."""
    reply = await _say(engine, 30, TODAY, "苏州积分入学要什么材料")
    assert "不在我能回答的范围" in reply and "居民身份证原件" not in reply


async def test_an_out_of_scope_match_by_shared_words_yields_to_the_aspect(engine: Engine) -> None:
    """ "大人自己要掏多少" in a Tianjin conversation is the personal share, not 咨询电话."""
    reply = await _say(engine, 31, TODAY, "天津娃医保", "大人自己要掏多少")
    assert "100元" in reply


async def test_an_ordinal_asks_for_that_item_of_the_answer_just_given(engine: Engine) -> None:
    """ "第二步是啥" after the 出生一件事 steps is step 2 only, not the overview."""
    reply = await _say(engine, 32, TODAY, "津心办出生一件事怎么操作", "第二步是啥")
    assert "第2项" in reply and "母亲人脸核验" in reply
    assert "用新生儿妈妈的身份信息登录" not in reply  # step 1 is not repeated


@pytest.mark.parametrize(
    ("today", "question", "last_day"),
    [
        (
            date(2026, 8, 25),
            "宝宝儿童节那天在天津出生，今天办医保还来得及从出生起享受吗",
            "2026年8月29日",
        ),
        (
            date(2026, 1, 2),
            "去年中秋节生的宝宝，天津的，今天去办医保还算90天以内吗",
            "2026年1月3日",
        ),
    ],
)
async def test_a_holiday_birth_behind_todays_errand_is_found(
    engine: Engine, today: date, question: str, last_day: str
) -> None:
    """ "今天办" was read first and dropped as an errand's day; the holiday behind it is the
    birth day (the answer was the general rule, without the verdict)."""
    reply = await _say(engine, 36, today, question)
    assert f"还来得及，可以从出生之日起享受待遇。最晚办理日期：{last_day}" in reply, reply


async def test_a_birth_correction_while_hukou_is_asked_gets_the_new_verdict(
    engine: Engine,
) -> None:
    reply = await _say(
        engine,
        37,
        date(2026, 5, 10),
        "孩子3月5号在天津出生的，医保最晚哪天办",
        "哦说错了，是2月5号生的",
    )
    assert "来不及了，已不能从出生之日起享受待遇：宝宝2026年2月5日出生" in reply, reply


async def test_a_day_number_right_before_sheng_is_a_birth(engine: Engine) -> None:
    reply = await _say(engine, 38, date(2026, 5, 30), "天津宝宝", "2月20生", "还来得及?")
    assert "宝宝2026年2月20日出生" in reply and "来不及了" in reply, reply


async def test_the_last_step_is_the_answers_last_item(engine: Engine) -> None:
    reply = await _say(engine, 35, TODAY, "津心办出生一件事怎么操作", "然后呢 最后一步")
    assert "第3项" in reply and "填写信息" in reply, reply
    assert "母亲人脸核验" not in reply


async def test_an_ordinal_beyond_the_list_is_not_made_up(engine: Engine) -> None:
    reply = await _say(engine, 33, TODAY, "津心办出生一件事怎么操作", "第五步呢")
    assert "第5项" not in reply


async def test_then_the_retired_mother_is_another_person_not_the_child(engine: Engine) -> None:
    reply = await _say(engine, 34, TODAY, "天津孩子医保交多少", "那我妈60多了退休的呢")
    assert "退休" in reply and "830" not in reply


async def test_a_follow_up_keeps_the_question_before_not_a_chance_topic(engine: Engine) -> None:
    """ "那总共多少" shares only 多少 with 咨询电话多少: it asks the cost again."""
    reply = await _say(engine, 35, TODAY, "天津儿童医保个人交100对吧", "那总共多少")
    assert "830" in reply and "咨询电话" not in reply


async def test_then_after_an_item_is_the_next_item(engine: Engine) -> None:
    """ "第一步点哪" then "然后呢": step 2, not the next entry."""
    await _say(engine, 36, TODAY, "天津新生儿 津心办登录后第一步点哪")
    reply = await _say(engine, 36, TODAY, "然后呢")
    assert "第2项" in reply and "母亲人脸核验" in reply


@pytest.mark.parametrize(
    ("done", "then", "step"),
    [
        ("出生一件事人脸核验做完了", "下一步呢", "填写信息"),
        ("津心办里的办理须知看完了，人脸核验也弄好了", "然后呢", "填写信息"),
        ("津心办已经登录好了", "然后呢", "办理须知"),
        # The part said done is the first half of a step ("阅览完办理须知后点击确认，先进行电子
        # 证照调用提示…"): the rest of that step comes next, not step 3.
        ("出生一件事看完办理须知以后", "下一步是啥", "电子证照调用提示"),
    ],
)
async def test_then_after_a_step_said_done_is_the_step_after_it(
    engine: Engine, done: str, then: str, step: str
) -> None:
    """ "人脸核验做完了" names step 2 of the answer: "下一步呢" is step 3 of the same answer,
    not the next entry (the materials)."""
    await _say(engine, 136, TODAY, done)
    reply = await _say(engine, 136, TODAY, then)
    assert step in reply and "办理材料" not in reply


async def test_which_city_after_another_city_says_that_city_is_not_covered(
    engine: Engine,
) -> None:
    """ "我们在上海" then a question naming no city: the question may well be about 上海, so
    before "天津还是苏州" the reply says the pages do not cover 上海 - never only the ask."""
    await _say(engine, 137, TODAY, "我们在上海")
    reply = await _say(engine, 137, TODAY, "外地户口孩子怎么上医保")
    assert "上海的办法页面没有写" in reply and "天津还是苏州" in reply
    fresh = await _say(engine, 138, TODAY, "外地户口孩子怎么上医保")
    assert "天津还是苏州" in fresh and "没有写" not in fresh


async def test_a_baby_of_non_local_parents_is_not_a_pupil(engine: Engine) -> None:
    """宝宝 is a baby: the newborn's way (居住证), never "随学校参保" for pupils."""
    reply = await _say(engine, 37, TODAY, "天津外地户口宝宝医保咋办")
    assert "居住证" in reply and "随学校" not in reply


async def test_a_baby_in_suzhou_is_not_the_newborn_guard(engine: Engine) -> None:
    reply = await _say(engine, 38, TODAY, "苏州宝宝积分入医怎么申请")
    assert "苏州新生儿怎么参保" not in reply and "积分入医" in reply


async def test_a_weak_question_about_the_list_just_given_is_answered_from_it(
    engine: Engine,
) -> None:
    reply = await _say(
        engine, 39, TODAY, "天津孩子医保办理对象有哪些", "外省户口长期住天津的孩子算吗"
    )
    assert "长期居住持有有效证件" in reply and "随学校" not in reply


async def test_a_bare_can_i_follow_up_asks_about_the_thing_just_described(engine: Engine) -> None:
    """ "那现在还能用吗" after the 金医宝/津医保 snippet is about the app, not enrolment."""
    reply = await _say(engine, 40, TODAY, "金医宝是什么", "那现在还能用吗")
    assert "津医保" in reply and "缴费时间" not in reply


@pytest.mark.parametrize(
    ("turns", "present"),
    [
        (("苏州积分入医申请要居住证吗",), "居住证"),
        (("孩子上的幼儿园没经过教育部门批准 能申请苏州积分入医吗",), "不符合"),
        (("苏州积分入医资格今年拿到", "是给今年还是明年的医保"), "下一年度"),
    ],
)
async def test_requirements_unapproved_schools_and_which_year(
    engine: Engine, turns: tuple[str, ...], present: str
) -> None:
    reply = await _say(engine, 60 + len(turns[-1]), TODAY, *turns)
    assert present in reply, reply
    assert "申请时间" not in reply.splitlines()[0], reply


@pytest.mark.parametrize(
    "question",
    [
        "今天去交医保，还能从出生当天开始享受吗",
        "明天去办的话，出生那天起能报吗",
        "今天办还算出生90天内吗",
    ],
)
async def test_a_day_to_go_is_never_taken_for_the_birth_day(engine: Engine, question: str) -> None:
    """Born 2025-07-28 and asked on 2025-11-10 (day 106): a question naming today or tomorrow
    and a birth must keep the stated birth day, never turn "too late" into "还剩89天"."""
    today = date(2025, 11, 10)
    reply = await _say(
        engine, 70 + len(question), today, "孩子是2025年7月28号在天津出生的，户口已经落了", question
    )
    assert "2025年11月10日出生" not in reply and "已记下：出生日期2025年11月10日" not in reply
    assert "还剩" not in reply


# (turns, what the last reply must say, what it must not say ("" = nothing))
STATE_CASES: list[tuple[tuple[str, ...], str, str]] = [
    # "在哪段时间" asks a time (not a 在哪); "这种申请期" asked of Tianjin is its time rule.
    (("苏州积分入医要在哪段时间申请", "天津也有这种申请期吗"), "不受参保缴费时间限制", "办理地址"),
    # A bare "为什么" right after a verdict: the conditions it judged (not the silence on
    # why the rule exists, which a "为什么是90天" still gets).
    (
        ("我居住证才办了8个月，在苏州相城交社保，能申请积分入医吗", "为什么"),
        "✗ 在苏州市区连续合法居住一年以上",
        "这样规定的原因",
    ),
    # The Suzhou check reads insurance paid in another city or province, a permit never
    # applied for and a toddler at home as failed conditions (its intro asks "是否符合").
    (
        ("我社保在上海交的，人住苏州园区，有苏州居住证，孩子能积分入医吗",),
        "不符合：社保在上海交",
        "能不能申请",
    ),
    (
        ("我社保是在安徽老家交的 人在姑苏区住了三年有居住证 孩子在姑苏上小学 能积分入医吗",),
        "✗ 当年在苏州市区参加社会保险",
        "能不能申请",
    ),
    (
        ("孩子在相城区公办小学上三年级，社保交了快两年了，但是一直没去办居住证，能申请积分入医吗",),
        "✗ 已办理居住证",
        "能不能申请",
    ),
    (
        ("孩子才一岁半 在家没上托班 我们在姑苏区 能积分入医吗",),
        "✗ 孩子在托幼机构或义务教育",
        "能不能申请",
    ),
    # Suzhou's page gives no amounts.
    (("苏州积分入医取得资格后要参保缴费", "政府给补多少"), "政府补助多少都没有写", "730"),
    # Care in another city asked of Suzhou: its page is silent (never the medical guard).
    (("苏州积分入医办下来了", "孩子去上海看病能报吗"), "来源页面没有写（异地就医）", "医疗建议"),
    # "是不是马上就能刷医保了" asks when benefits start (after paying), not the 核定表's date;
    # "苏州呢" after a flow's answer, nothing asked before it: Suzhou's way.
    (
        ("苏州积分入医核定表拿到了，学校也办了手续", "是不是马上就能刷医保了？"),
        "参保缴费后",
        "打印已在",
    ),
    (("天津外地户籍的孩子在天津上学，随学校参保", "苏州呢？"), "积分入医", "不在我能回答的范围"),
    # An objection raised by "去哪提"; a missed window asked as "会怎么样" / "就不能参保了".
    (
        ("苏州积分入医名单公示了，我家没在上面", "我觉得有问题，去哪提？"),
        "区流动人口积分管理办公室",
        "提出书面申请",
    ),
    (
        ("苏州积分入医资格拿到了，但一直没通过学校办入医手续", "11月都过了，会怎么样？"),
        "自动放弃",
        "首次",
    ),
    (("天津的，宝宝过了90天还没办医保", "是不是就不能参保了？"), "还能参保：", "没上学"),
    # "时间窗口" asks a time, not a 窗口 (where); a receipt is no pass.
    (
        ("苏州积分入医要在6到8月申请", "天津外地户口的新生儿也有这种时间窗口吗"),
        "不受参保缴费时间限制",
        "线下",
    ),
    (("积分入医去街道申请", "那个回执什么时候给", "拿到回执算通过了吗"), "还不算通过", "是的"),
    # "天津新生儿的呢" names who, not the subject: the materials asked before, for them.
    (("苏州积分入医的材料有哪些", "天津新生儿的呢"), "户口簿", "办理总览"),
    # Initials typed for the city and the terms (sz 苏州, jzz 居住证, sb 社保).
    (("sz 外地娃 医保咋办", "jzz要住几年"), "一年以上", "天津"),
    (("sz jfry sb 哪年的算",), "当年在市区参加社会保险", "天津"),
    # A step done with the form in hand: where it goes next (the school), not where to apply.
    (("积分入医核定表", "它要在哪天前打出来", "打完交给谁"), "学校", "提出书面申请"),
    (("核定表打好了", "拿着它去哪"), "学校", "提出书面申请"),
    # A fact typed as the answer to a question about the conditions: the condition it
    # meets, then those still open (never the "记下了" of a plain statement).
    (("积分入医对孩子上几年级有要求吗", "初三"), "符合这一条：孩子在托幼机构或义务教育", "记下了"),
    (("苏州积分入医哪些人能申请", "相城"), "符合这一条：孩子在吴中区、相城区", "不在这五个区"),
    (("苏州积分入医哪些人能申请", "昆山"), "不符合：昆山不在这五个区", "符合这一条"),
    # Pinyin typed for a term; a silence asked after a topic; an item counted in 样.
    (("我在苏州没办居住zheng，孩子能jf入医吗",), "✗ 已办理居住证", ""),
    (("积分入医交材料要拍照吗", "好的。那孩子要不要本人到场"), "孩子本人要不要到场", "商业保险"),
    (("积分入医一共要交几样材料", "第六样是啥意思"), "第6项", "苏州积分入医总览"),
    # The order asked (先…还是先…, 先办哪个): the entry's verdict says it first.
    (("积分入医是先公示还是先打核定表",), "9月份公示入医名单 → 经公示无异议的", ""),
    (("积分管理申请和积分入医申请", "先办哪个"), "先经本人申请纳入流动人口积分管理", ""),
    (("天津户口新生儿先落户还是先办医保",), "不用分先后", ""),
    (("积分入医核定表打出来了", "它拿去干嘛用"), "入医手续", "核定表：来不及"),
    # A phrase of the page asked back: the entry that says it, not the calendar's day.
    (("积分入医里说的9月15日是什么日子",), "入学指标数", "申请期"),
    (("页面说新生儿“随出生、随参保、随享受”，实际是啥意思",), "不受参保缴费时间限制", ""),
    # Asking words are no city's own: "去哪" in a Suzhou keyword list is not Suzhou's term.
    (("天津新生儿医保", "户籍证明去哪开"), "户籍证明", "苏州的来源页面里的说法"),
    (("户籍证明去哪开",), "户籍地公安机关开具的户籍证明", "计生证明（两孩/三孩）"),
    (("天津新生儿医保个人缴多少？", "你确定吗？有依据吗"), "来源：天津市新生儿医保卡办理流程", ""),
    (("天津新生儿医保要交100块", "用微信能交吗"), "用什么方式缴费", "办理对象有三类"),
    (("积分入医申请去哪交", "online能办吗"), "书面申请", "逾期未办理"),
    # Another city's own term asked of this one; a silence with what the page says beside it.
    (
        ("天津新生儿那个90天规则是怎么回事", "苏州那边也有这个90天吗"),
        "苏州的来源页面没有这一说",
        "",
    ),
    (("积分入医要多少分才能过",), "没有写要多少分才能取得资格", ""),
    (("积分入医要多少分才能过",), "按申请人积分高低进行排名", ""),
    (
        ("津心办里办出生一件事要用谁的身份登录", "孩子爸爸的身份可以吗"),
        "新生儿妈妈的身份信息",
        "办理材料：",
    ),
    # "沧州户口在天津打工": the province's 户口, not the words "户口在天津".
    (
        ("我们都是河北沧州户口在天津西青打工，我老公有天津居住证，孩子在天津生的，能上医保吗",),
        "居住证受理回执",
        "出生一件事",
    ),
    # "最后一步" after an answer with no numbered items: the end of its process.
    (("积分入医我啥都不懂，先干嘛", "最后一步是什么"), "享受", "核定表：来不及"),
    # Filler "然后就是" before a question of its own is no "然后呢".
    (
        (
            "积分入医资格我们拿到了",
            "然后就是，嗯，那个学校那边的入医手续，就是要是没按时办会咋样啊",
        ),
        "自动放弃",
        "什么时候开始享受医保待遇",
    ),
    # "已办居住证" is a permit held: the check does not ask it again.
    (
        ("犬子在苏已办居住证，孙儿在吴中区公办小学，不知可否申请积分入医？",),
        "有居住证",
        "办理苏州居住证了吗",
    ),
    # A state asked as the consequence of the step before is no fact for the check to judge.
    (("积分入医核定表已经拿到了", "这样孩子就已经有医保了吧"), "参保缴费后，方可享受", "不符合"),
    # "是啥" in a Suzhou keyword list is no Suzhou term: Tianjin's own 回执 is not "苏州的说法".
    (
        ("我们外地户口，在天津生的娃，我有天津居住证", "你说的那个回执是啥回执？"),
        "受理回执",
        "苏州的来源页面",
    ),
    # Grandparents asked as who goes, not as grown-ups insuring themselves; a permit expired.
    (("天津新生儿参保谁来办", "爷爷奶奶能替着去办吗"), "法定监护人", "成年人、退休人员"),
    (
        ("外地户口孩子在天津参保要什么条件", "如果我居住证过期了呢？"),
        "有效居住证",
        "随出生、随参保",
    ),
    # A bare "能用吗" asks of the way the message before named (出生一件事: 本市户籍 only).
    (("天津的出生一件事是什么", "外地户口的宝宝能用吗"), "不能走这个入口", ""),
    # Who may do it: the page's 法定监护人 and the mother's login, never a bare "可以".
    (("我和孩子爸离婚了，孩子跟我，天津户口的新生儿", "医保得他来办还是我能办"), "法定监护人", ""),
    (
        (
            "我们是山东户口，孩子在天津生的",
            "我和孩子他爸都没有天津居住证，能给孩子办天津医保吗",
        ),
        "页面没有写能不能",
        "可以：",
    ),
    (("外地户口宝宝在天津，我老公有天津居住证，能参保吗",), "可以凭", "页面没有写能不能"),
    (("我在天津读在职研究生 能参加学生儿童医保吗",), "全日制非在职", "可以："),
    (("苏州积分入医几号截止申请 名单几月公示",), "8月31日", ""),
    (("我生了一对双胞胎，在天津出生，户口落天津了",), "出生一件事", "外地户籍新生儿"),
    (("外地户口的新生儿在天津怎么办医保", "那如果孩子户口落在天津呢"), "出生一件事", "暂住证"),
    (("天津户口的宝宝医保怎么办", "那如果宝宝户口随我落在山东老家呢"), "居住证", "津心办"),
    (("外地户口在天津生的娃能上天津医保不",), "居住证", "通过家庭"),
    (
        ("我们家三个孩子，老三在吴中上幼儿园，积分入医要什么生育证明",),
        "证明",
        "您（家长）已经办理",
    ),
    (("我在天津生的孩子，生育津贴怎么领",), "生育津贴", "居住证"),
    (("苏州外地户口的新生儿怎么上医保",), "苏州新生儿怎么参保", "申请流程"),
    (("天津新生儿医保多少钱、在哪办、要带啥",), "830", ""),
    (("苏州积分入医我大概了解了", "杭州有没有类似的政策"), "不在", "备案"),
    (("深圳医保卡", "在广州能用吗"), "定点", "不在我能回答"),
    # After the 90 days: "还能上吗" is yes (enrol), "那笔钱还能报吗" is no (from birth).
    (("天津户口 孩子出生100天了", "还没上医保 现在还能上吗"), "可以参保：", ""),
    (
        ("宝宝四个月了 天津户口 一直没顾上医保", "现在补办的话 出生时候住院那笔钱还能报吗"),
        "来不及了，已不能从出生之日起享受",
        "可以参保：新生儿参保缴费不受时间限制",
    ),
    # A correction after an answer re-answers how to enrol for the corrected case.
    (
        (
            "孩子在天津上幼儿园 外地户口 医保是不是得家里自己去街道办",
            "哦不对 孩子其实还没上幼儿园 在家带着",
        ),
        "劳动保障服务中心",
        "记下了",
    ),
    # "各级各类学校" includes a university: full-time students are on the page's list.
    (("我儿子在天津读大学 全日制的 老家湖北 能参加天津学生医保吗",), "属于办理对象", "不符合"),
    # A school without the education department's approval is not one the rule counts.
    (
        ("娃上的是小区里没办证的家庭托儿所 工业园区的 能申请积分入医吗",),
        "不符合：",
        "工业园区和高新区。",
    ),
    (("积分入医材料交上去以后", "当场会给我个啥"), "回执", ""),
    (("积分入医公示名单里没有我家孩子", "我觉得分算错了 找谁"), "积分管理办公室", ""),
    # A correction of the 户籍 re-answers with the way for the corrected 户籍.
    (
        ("外地户口的宝宝天津医保咋上", "搞错了，我们是天津户口，去年刚迁过来的"),
        "出生一件事",
        "居住证受理回执",
    ),
    (("天津新生儿医保卡线下去哪办", "我们住河西区，在区里能办吗"), "可以：", "办理材料"),
    (("天津新生儿医保要多少钱", "顺便问下天津哪家月子中心好"), "月子中心", "830"),
    (("天津新生儿医保卡办好了", "卡多久能拿到 能寄到家吗"), "不在来源页面里", "90天"),
    (("我们是天津户口 孩子在河北老家上幼儿园", "医保在天津能交吗 怎么交"), "可以：", ""),
    # Follow-ups about a news snippet stay on it; care elsewhere absorbs "咋办".
    (("天津医保在外地看门诊", "能直接结算的话 自己要掏多少比例"), "10%-20%", "830"),
    (("天津医保在外地看病 医院没开通直接结算咋办",), "先垫付费用", "五种参保方式"),
    (("天津医保在外地看病 医院没开通直接结算咋办", "回来在哪报 怎么报"), "人工或自助", "分中心"),
    # Another city's fee is not Suzhou's fee topic, nor Tianjin's 830 beside it.
    (("深圳少儿医保一年多少钱",), "不在我能回答的范围内", "830"),
    # The father's own insurance is an adult's, though a child is named.
    (("孩子爸爸在天津上班，他自己的职工医保怎么交",), "成年人", "五种"),
    (("积分入医资格拿到了", "去学校办手续要带什么"), "核定表", "户口簿"),
    (
        ("我孙子的积分入医申请六月份就交上去了到现在也没个信儿", "结果什么时候出来啊在哪里看"),
        "公示",
        "",
    ),
    # A grandmother doing an errand for the child is not a question about her insurance.
    (("出生一件事里人脸核验是谁刷", "孩子姥姥帮着刷可以吗"), "母亲人脸核验", "成年人"),
    # Pointing back at a thing the answer named; a topic word every answer says is not one.
    (
        ("外地户口娃天津医保网上怎么登记", "你说的那个第三方代办系统是啥东西"),
        "网上服务大厅",
        "法定监护人",
    ),
    (
        ("我有两个娃 老大老二都在苏州上学", "积分入医那个计生证明找哪开"),
        "计生",
        "工业园区和高新区。",
    ),
    # Another city named as the child's school in a Tianjin conversation: studying elsewhere.
    (("孩子天津户口，原来在天津上小学", "今年转去北京上学了，医保咋弄"), "通过家庭", "备案"),
    # A correction of a fact the Suzhou verdict turned on starts the check again with it.
    (
        ("我在苏州住了半年，孩子能积分入医吗", "哦记错了，我在苏州住了两年了，居住证也有"),
        "参加社会保险",
        "身份证、居住证本身",
    ),
    (("天津新生儿", "啥时起报"), "从出生之日起享受", "报销比例"),
    (
        ("我外孙女是天津户口的前几天刚生下来", "我闺女还在坐月子呢 用谁的身份登录"),
        "妈妈",
        "月子中心",
    ),
    # A figure the parent says is confirmed or corrected from the entry's per-child fee.
    (("天津孩子医保个人是交100吗",), "对：个人缴纳是每人100元", "不对"),
    (("天津新生儿医保", "一年交830对吧"), "不对：830元是筹资标准（总额）；个人缴纳是每人100元", ""),
    (("天津新生儿医保", "政府补730是吧"), "对：政府补助是每人730元", "不对"),
    (("天津新生儿医保", "政府交730是吧"), "对：政府补助是每人730元", "不对"),
    (("天津宝宝出生100天了还能办吗",), "可以参保", "不对："),
    # A way for another 户籍 than the one stated is said not to apply, then the right way.
    (("外地户口在天津生孩子 能用津心办出生一件事吗",), "不能走这个入口", "办理须知"),
    (("我们外地的，出生一件事能办吗",), "外地户籍新生儿按下面的办法", "办理须知"),
    (("天津户口宝宝出生一件事怎么办",), "办理须知", "不能走这个入口"),
    # Several children: the page's per-child fee multiplied, never one child's as the total.
    (("双胞胎在天津办医保", "个人一共要交多少"), "个人一共缴纳200元", "一共缴纳100元"),
    (
        ("天津俩孩子的学生医保 自己那部分一共交多少", "说错了 是仨孩子 都在天津念书"),
        "个人一共缴纳300元",
        "一共缴纳200元",
    ),
    (("我家俩娃都在天津上学，一共得自己掏多少",), "个人一共缴纳200元", "第一步"),
    # A family that said it lives in the countryside keeps that through a finished flow.
    (("我们是天津宝坻农村的", "孩子三岁还没上幼儿园 医保怎么参"), "行政村", "劳动保障"),
    # "去哪办" after the way for a child not in school is that way's place.
    (("孩子三岁还没入托", "我们住天津市区，医保去哪办"), "劳动保障服务中心", "津心办"),
    (
        ("宝宝出生一个半月了 天津户口 现在办医保能从出生那天开始报吗", "不对 是四个半月"),
        "来不及",
        "还来得及",
    ),
    # Pointing at a day the answer just gave, and at what comes after a thing named.
    (("苏州积分入医的名额是怎么定的", "教育部门那个数什么时候出"), "9月15日前", "申请期"),
    (("苏州积分入医的申请是交给学校吗", "那核定表拿到以后呢"), "通过其子女就读", ""),
    (("积分入医申请在街道受理以后会怎么样", "拍完照之后呢"), "受理回执", "五个环节"),
    # A farewell with a grown-up's word in it is a farewell, not the adults' scope guard.
    (("天津外地户口新生儿参保", "不用了，我自己去问社保吧"), "再见", "成年人"),
    # A covered city beside one the pages do not cover: said first, never compared.
    (("天津和广州哪个新生儿医保便宜",), "广州的情况来源页面没有写", ""),
    # A bare city after a question with none; a city typed after "which city?".
    (("90天以内办的话从哪天开始能报销", "天津的"), "从出生之日起", "记下了"),
    (("要带什么材料", "苏州"), "居住证原件", "常见问题"),
    # One of several children named again: that child's facts, not the other's.
    (
        ("我俩孩子 老大在天津上二年级 外地户口 老二刚在天津出生", "老大的医保怎么弄", "那老二呢"),
        "居住证",
        "随学校",
    ),
    (("我们外地的 在天津长期住 有居住证 孩子6岁没上学 能参加天津少儿医保吗",), "可以：", ""),
    (("孩子天津户口，16岁了，没上学在家呆着", "还能参加天津这个学生儿童医保吗"), "可以：", ""),
    # Suzhou's word asked of Tianjin, a snippet asked of Suzhou, a thing the page is silent on.
    (("天津外地户口宝宝上医保需要积分吗",), "天津的来源页面没有这一说", ""),
    (("苏州积分入医", "那孩子在外地看病怎么备案"), "苏州的来源页面没有写这件事", ""),
    (("外地户口宝宝天津参保凭什么", "那个回执去哪开"), "没有写它的办理地点", "街（镇）"),
    (("苏州积分入医 区 范围",), "姑苏区", "异议"),
    # Several children told apart in one message: each child's own case, never one flow.
    (
        (
            "我家老大外地户口在天津上小学，老二刚在天津出生，爸爸有天津居住证，两个孩子的医保分别怎么办",
        ),
        "老二：\n外地户籍新生儿",
        "宝宝是哪天出生的",
    ),
    (
        (
            "三个孩子：老大天津户口在上海读初中，老二外地户口在天津上幼儿园，老三天津农村户口还没上学，医保各自怎么参保",
        ),
        "老三：\n农村没有入学",
        "老大：\n外地户籍在天津",
    ),
    (
        ("老大在昆山上小学，老二在姑苏区上幼儿园，积分入医两个都能申请吗",),
        "老大：\n不符合：昆山",
        "",
    ),
    (("孩子在太仓上小学能申请积分入医吗",), "不符合：太仓不在这五个区", ""),
    # Another family's case ("第三家") closes the last one's flow and facts.
    (
        (
            "帮几户人家问。第一家：天津户口，宝宝出生20天，现在办从哪天享受？",
            "第二家：外地户口，爸爸有天津居住证，宝宝出生一个月，走什么路子？",
            "那第三家呢：天津户口，宝宝出生已经五个月了，还没参保，现在办从哪天开始享受？",
        ),
        "来不及了",
        "宝宝是哪天出生的",
    ),
    (
        (
            "第一家：住姑苏区，爸爸有居住证、在市区交社保，来苏州三年了，孩子在公办小学，能申请积分入医吗？",
            "那第三家呢：住工业园区，居住证和社保都有，但刚来苏州半年，孩子在园区民办幼儿园。",
        ),
        "✗ 在苏州市区连续合法居住一年以上",
        "",
    ),
    # Something neither page says, asked about something it does say: silent, not answered.
    (("天津办新生儿医保要哪些材料", "复印件要几份？"), "复印件要几份", "暂住证"),
    # An office the page does not send parents to is said not to be written, never confirmed;
    # one the page names under its long name ("社保中心") is not denied.
    (("苏州积分入医申请是不是要交到区人社局？",), "页面没有写到“区人社局”办理", "可以："),
    (("天津新生儿医保能去社保中心办吗",), "社会保险基金管理中心", "没有写到"),
    # A child not yet in a 托幼机构 or school does not meet Suzhou's condition, in or out of
    # the check ("明年才上幼儿园" is no 幼儿园 now).
    (
        ("我们在苏州相城区，外地户口", "孩子明年才上幼儿园，现在还在家", "现在能申请积分入医吗？"),
        "不符合（现在）",
        "",
    ),
    (
        ("我在工业园区 居住证一年半 社保也有", "要是孩子明年才上幼儿园 今年能先申请吗"),
        "不符合",
        "托幼机构（幼儿园）。",
    ),
    # "是这样吗" after something heard: that claim asked, with the page's verdict.
    (("邻居说津心办用爸爸的账号也能办新生儿出生一件事", "是这样吗"), "新生儿妈妈的身份信息", ""),
    (("邻居说苏州积分入医只要积分够60分就一定能入", "这个说法靠谱吗"), "积分高低", ""),
    # Facts said before a flow starts are not asked again.
    (("外地户口的孩子医保怎么办", "在天津，孩子刚出生"), "居住证吗", "宝宝是哪里的户籍"),
    # "它" for the thing just answered about, unless the message asks for someone new.
    (("外地户口宝宝在天津，能用津医保APP参保吗", "在它里面哪个栏目办"), "医保办事大厅", "分中心"),
    (("天津新生儿参保", "谁来给孩子办，以什么为单位"), "以居民家庭为单位", ""),
    # The day the fee was paid decides when benefits start: the next day after day 90.
    (("天津宝宝三个半月才办的医保，3月10号交的钱", "那从哪天起能报销"), "2026年3月11日", ""),
    (
        ("天津户口宝宝2026年5月1日出生", "8月20号交的钱，从哪天开始享受"),
        "从缴费次日起享受",
        "出生之日起享受：2",
    ),
    (
        ("天津户口宝宝2026年5月1日出生", "6月1号交的钱，从哪天开始享受"),
        "从出生之日起享受：",
        "次日即",
    ),
    (
        (
            "外孙出生已五月有余，天津户籍，家中于二〇二七年二月二十八日方为其缴费参保。",
            "敢问自哪一日起开始享受医保待遇？",
        ),
        "2027年3月1日",
        "2026年3月1日",
    ),
    # "除了证件还要提供啥信息": the rest of the materials list (address, phone, bank).
    (("天津办新生儿医保卡，证件准备好了", "除了证件还要提供啥信息"), "指定的服务银行名称", ""),
    # A duration claimed to be required is checked against the page's one rule on time.
    (("苏州外地户口孩子积分入医", "是不是要在苏州交满两年社保才行？"), "不是：", "对："),
    (("苏州积分入医是不是住满一年就行",), "对：页面写的是连续合法居住一年以上", ""),
    # A figure of a page's rule said back is confirmed or corrected first; a figure that is
    # the family's own plan or age, or said in no claim, is not checked.
    # "为什么X": X is answered (the rule the page states) under the page's silence on why;
    # a bare "为什么" after an answer asks of it; "那怎么办" after a why asks what now.
    (("天津宝宝医保一年交多少", "为什么才交100"), "没有写这样规定的原因", "（这样规定的原因），"),
    (("天津宝宝医保一年交多少", "为什么才交100"), "政府补助730元", "请咨询当地医保经办机构。"),
    (
        ("苏州积分入医核定表拿到了", "9到11月没去学校办手续会怎样", "为什么会这样"),
        "视为自动放弃",
        "请咨询当地医保经办机构。",
    ),
    (("天津外地户籍新生儿 线上能办吗", "为什么我在津心办找不到"), "不能走这个入口", ""),
    (("苏州积分入医现在还能申请吗", "为什么", "那怎么办"), "下一次申请期是", "这样规定的原因"),
    # Two children in two cities, in one run-on message: each child's own city and case.
    (
        ("俺大孙子在苏州上小学外地户口二孙子刚在天津生的天津户口这俩医保各自咋办",),
        "二孙子：\n本市户籍新生儿",
        "五种情况",
    ),
    (
        ("老大在苏州上小学外地户口，老二刚在天津生的天津户口，这俩医保各自咋办",),
        "老大：",
        "五种情况",
    ),
    # "找哪个部门提" after the objection: the office that answer names.
    (("积分入医公示名单里没有我们 有异议", "找哪个部门提"), "区流动人口积分管理办公室", "书面申请"),
    (("苏州积分入医去街道交申请", "到那要照相不"), "拍摄照片", ""),
    (("积分入医对孩子有什么要求", "我家孩子明年秋天才上幼儿园 现在能申请吗"), "暂不符合", ""),
    # A year said digit by digit is another year's; English mixed in is read; an office's
    # phone or street address is not on the page (said so, then where it does send them).
    (("天津小孩医保一年交多少钱", "那二零二七年呢"), "2027年度的标准页面没有写", ""),
    (("天津 newborn 医保 local hukou 能 online 办吗", "app 叫啥"), "津心办", "外地户籍"),
    (("non-local hukou 宝宝 天津 医保 居住证",), "受理回执", "津心办"),
    (("天津新生儿医保在哪办", "社保中心电话多少"), "没有写电话号码", ""),
    (("积分入医去哪申请", "街道办具体地址在哪"), "没有写具体地址", ""),
    # After a flow's "暂不符合": "为啥不行" is the conditions judged (facts of the whole
    # conversation), "那怎么办" the page's silence on other ways, then those conditions.
    (("苏州积分入医 我们住在张家港", "为啥不行"), "张家港不在这五个区", "这样规定的原因"),
    (
        ("苏州积分入医 我们住在张家港", "为啥不行", "那怎么办"),
        "没有写不符合积分入医条件时",
        "视为自动放弃",
    ),
    (
        (
            "苏州积分入医 孩子去年读幼儿园时已经办过学生医保",
            "现在上小学了能再申请积分入医吗",
            "为什么",
        ),
        "属首次申请",
        "这样规定的原因）",
    ),
    # Whether the application is made again every year: the page says only the first time.
    (("积分入医第二年还要重新申请吗",), "来源页面没有写以后每年是否还要重新申请", "6月1日至"),
    # "然后呢" after a question about one step: the step after it; "下一步" is nobody's
    # own word (no "这是苏州的说法" head over Tianjin's answer).
    (("津心办出生一件事里的人脸核验是谁来做", "然后呢"), "第3项", "办理材料"),
    (
        ("外地户口在天津生的孩子，上医保先做什么", "材料准备好了，下一步呢"),
        "天津",
        "苏州的来源页面",
    ),
    # How to enrol in another city is no news snippet's care there.
    (("深圳外地户口小孩少儿医保怎么参保",), "不在我能回答的范围", "可直接使用"),
    # "银行卡要吗" after the materials: the bank named among them, not how to pay.
    (("tj新生儿医保 要带啥材料", "银行卡要吗"), "指定的服务银行名称", "用什么方式缴费"),
    # After the last step said done, the page says nothing more (not the steps again).
    (
        ("津心办 新生儿出生 人脸核验做完了", "填完信息以后呢 还要干嘛"),
        "之后还要做什么，来源页面没有写",
        "1. 用新生儿妈妈",
    ),
    # Paying through the school is the way for a non-local pupil in Tianjin.
    (("天津 外地户口孩子在天津上小学", "学校说医保费交给学校 这正常吗"), "随学校", "各区分中心"),
    (
        ("孩子在苏州姑苏区一个私人早教托班 没有教育局批的", "能申请积分入医吗"),
        "暂不符合",
        "随学校",
    ),
    # "去哪开" after the answer on a certificate: who issues it, as that answer says.
    (("积分入医要计生证明", "我家两个孩子 去哪开"), "乡级以上", "提出书面申请"),
    # The mother who gave birth is no grown-up asked about: the baby's deadline is.
    (("我老婆前天在天津生了 天津户口", "医保最晚几号办完"), "最晚办理日期", "成年人"),
    (("天津新生儿出生后60天以内要参保，是这样吧",), "不对：页面写的是出生90天内", "，不是“90"),
    (("天津宝宝医保", "不是60天内办吗"), "不对：页面写的是出生90天内", ""),
    (("天津新生儿90天内办就行吧",), "", "不对"),
    (("天津新生儿是不是必须90天内参保",), "对：页面写的是出生90天内", "不对"),
    (("天津 我们不是本地户口，宝宝出生60天内能办吗",), "", "不对：页面"),
    (("苏州积分入医申请是7月到9月吧",), "不对：页面写的申请时间是每年6月1日至8月31日", ""),
    (("积分入医核定表11月30号前打印对吧",), "不对：页面写的是经公示无异议的，应于11月15日前", ""),
    (("积分入医公示3天吧",), "不对：页面写的是公示期不得少于5个工作日，不是“3天”", ""),
    (("积分入医公示5个工作日对吧",), "对：页面写的是公示期不得少于5个工作日", "不对"),
    # The claim the message names most specifically: the quota's day, not the window's.
    (("积分入医的入学指标数是8月31号前认定的吧",), "不对：页面写的是市教育行政主管部门", ""),
    # "两个地方" right after both cities were named: both again.
    (("天津和苏州两边都在考虑", "给孩子上医保，两个地方个人各交多少？"), "没有写缴费金额", ""),
    # A province's 户籍 is non-local in either city; Suzhou's word asked of Tianjin.
    (
        (
            "我们之前在苏州，孩子安徽户口，走的积分入医",
            "现在搬到天津了，孩子在天津上幼儿园",
            "在天津还要积分吗？",
        ),
        "外地户籍在天津市上学",
        "备案",
    ),
    # An aspect the city's page does not cover answers with what the page does say there.
    (("苏州积分入医要去现场吗", "能不能在网上提交"), "书面申请", "不再提供"),
    # Asked of the other city, an aspect its page does not cover is said so before its way.
    (("苏州积分入医有公示吗", "天津办新生儿医保也要公示吗"), "天津的来源页面没有写", "公示期"),
    (("天津学生儿童医保个人交多少", "苏州积分入医呢"), "苏州的来源页面没有写费用", "830"),
    # ...but a word that page says too ("回执" is Tianjin's as well) is answered by it.
    (("苏州积分入医受理后会给个回执", "天津那边说的回执跟这个是同一个吗"), "受理回执", "没有写"),
    # Grown-ups: who holds the permit is a fact, not a question about them; a grown-up
    # asking for themselves "像孩子一样", or the child's grandfather, is out of the pages.
    (("外地户口的宝宝在天津怎么上医保", "居住证？有，我老公有"), "受理回执", "成年人"),
    (("我自己没工作，也能像孩子一样参加天津居民医保吗，交多少",), "成年人", "830"),
    (("天津新生儿医保交多少", "那娃他爷爷退休了，想在天津参加居民医保交多少"), "退休人员", "830"),
    # A step said done, then "然后呢": the step after it.
    (("核定表最晚啥时候打印", "打印完然后呢"), "学校办理入医手续", ""),
    (("娃刚生 天津户口", "咋办医保", "手机能弄不"), "津心办", "办理对象有三类"),
    (("为什么积分入医要先纳入积分管理", "不纳入会怎样"), "暂不符合", "视为自动放弃"),
    (("积分入医除了那几样证件，还有别的可以交吗",), "加分", "审核录入"),
    (("积分入医的受理回执丢了怎么办",), "没有写（丢失后怎么补办）", "出具受理回执"),
    # "苏州也一样吗" after a Tianjin baby's 居住证: Suzhou's answer, for whom it is written.
    (("天津外地户口的宝宝办医保要居住证吗", "苏州也一样吗"), "居住证", "不在我能回答"),
    # The aspect being discussed stays first when the message says it too.
    (("积分入医公示有异议找区积分办对吧", "公示结束了才发现，还能提吗"), "公示期内", ""),
    # Who issues a document is where it is obtained; "这个能用吗" is the thing just named.
    (("苏州积分入医的计生证明", "我们俩娃，那个证明去哪开"), "乡级", "没有写它的"),
    (
        (
            "外地户口，我有天津居住证，孩子的居住证没办，只有流动人口居住登记凭证",
            "这个能用吗",
        ),
        "流动人口居住登记凭证",
        "支付宝",
    ),
    # Care in a city the pages do not cover, in a conversation about Tianjin: the news
    # snippets on 异地就医 (备案), not that city's insurance or a medical question.
    (
        ("孩子在天津参的学生医保", "暑假去北京姥姥家，要是在北京看病，要提前弄什么"),
        "备案",
        "成年人",
    ),
    (
        ("孩子户口在天津和平区，现在跟我们在杭州读小学", "那在杭州看病要先弄啥"),
        "备案",
        "医疗建议",
    ),
    # A correction naming the husband's permit is about the family's 户籍, not grown-ups.
    (
        ("我们天津户口，宝宝医保网上怎么办", "说错了，我们是河北户口，我老公有天津居住证"),
        "外地户籍",
        "成年人",
    ),
    # A district is the case's fact, not the subject; "X还是Y的街道" asks where.
    (("积分入医去哪申请", "我家住工业园区"), "居住地", "五个区"),
    (("积分入医申请交到哪", "是孩子学校那边的街道，还是我们住的地方的街道？"), "居住地", "核定表"),
    (
        ("苏州积分入医公示名单里没有我家孩子", "那怎么办，能补录吗？"),
        "没有写（补录或递补）",
        "自动放弃",
    ),
    # "它拿去哪里用": what follows the thing just named (the 核定表 → the school procedure).
    (("积分入医审核通过后要打印个什么表", "它拿去哪里用"), "学校办理入医手续", "提出书面申请"),
    # Whose ID logs in is the child's errand, not a grown-up's own insurance.
    (
        (
            "我们用津心办给宝宝办出生一件事",
            "我老公说用他的身份证登录也行，我说要用我的，到底用谁的？",
        ),
        "妈妈",
        "成年人",
    ),
    # "是不是已经办不了了" asks whether one may still enrol: yes, benefits from the day after.
    (("宝宝都四个月大了还没办医保，天津户口的，是不是已经办不了了？",), "缴费次日", ""),
    # Several children: the total of the financing too.
    (
        ("按天津2025年度的标准，我家三个孩子总共的筹资额是多少？其中政府补助一共多少？",),
        "3人共2490元",
        "",
    ),
    # "我老婆说…" reports a claim about the child's case; who said it is not asked about -
    # but a grown-up stated as the subject stays the subject of the follow-up.
    (("我老婆说积分入医申请9月10号截止，我说是8月31号", "到底谁说得对？"), "8月31日", "成年人"),
    (("我妈退休了 在天津", "医保一年交多少"), "退休人员", "830"),
    # Dates: "从出生算90天" and "离90天" are the rule's period, not the child's age.
    (
        ("我们是天津户口，宝宝6月20号在江苏老家医院出生的", "从出生算90天，最晚到哪天？"),
        "9月17日",
        "具体是哪天出生",
    ),
    # "在那之前呢": the step before the answer just given (the entry whose next it is).
    (("苏州积分入医怎么受理", "在那之前呢"), "居民身份证原件", "出具受理回执"),
    (("苏州积分入医怎么受理", "在那之前呢", "再往前呢"), "书面申请", "居民身份证原件"),
    # Silent details: which banks, the score that wins a place.
    (
        ("天津新生儿参保材料第四条说要写指定的服务银行名称", "具体是哪几家银行"),
        "没有写（具体是哪家银行）",
        "",
    ),
    (("积分入医要多少分才能拿到资格",), "没有写要多少分才能取得资格", "入医手续"),
    # Dates written for newborns, asked for pupils: the page is silent for them.
    (("天津在校学生的医保每年几月份缴费",), "您问的这类孩子的时间，页面没有写", "办理对象有三类"),
    # Cantonese: 冇返学嘅细路 is a child not in school, 点样 asks how.
    (("冇返学嘅细路喺天津市区点样买医保啊",), "劳动保障服务中心", "津心办"),
    # "还能办吗" names no errand: the one the parent described last (the school's procedure).
    (
        ("积分入医资格拿到了，核定表也打了，但还没去学校办入医手续", "现在还能办吗"),
        "视为自动放弃",
        "申请期",
    ),
    # A baby's birth day with no city: the only page with a birth rule judges, and says so.
    (
        ("她是今年10月15号生的，现在办还算90天里吗？截止到哪天？",),
        "只有天津写了新生儿出生90天的规则",
        "来不及",
    ),
    (("她是今年10月15号生的，现在办还算90天里吗？",), "最晚办理日期：2027年1月12日", ""),
    # A birth day alone is context, not a question about 计生证明; 下下个月 is two months on.
    (("宝宝上个月1号出生的",), "记下了：出生日期2026年11月1日", "计生"),
    (("宝宝上个月1号出生的", "我想下下个月中旬再去办，来得及吗？"), "来不及了", "苏州"),
    (("宝宝上个月1号出生的", "要是下个月中旬去办呢？"), "还来得及", "苏州"),
    (
        ("宝宝两个半月了，天津户口", "现在办医保，还能从出生那天开始算吗？"),
        "还来得及",
        "没有这一说",
    ),
    # The pages state rules, not their reasons (said first, then the rule); nor how the fee
    # is paid.
    (
        ("天津新生儿90天的规定是啥意思", "为什么是90天，不是半年？"),
        "来源页面没有写这样规定的原因，我不替它下结论。页面写到的相关规定",
        "因为",
    ),
    (
        ("外地户籍在天津办新生儿医保要带啥", "为啥非要暂住证原件？"),
        "来源页面没有写这样规定的原因，我不替它下结论。页面写到的相关规定",
        "因为",
    ),
    (("外地户口宝宝在天津参保要凭什么",), "居住证受理回执", "原因"),
    (("天津宝宝医保那100块能用微信付吗？",), "（用什么方式缴费）", "可以："),
    (
        ("天津办新生儿医保要填什么信息", "你说的那个指定服务银行是哪家？"),
        "（具体是哪家银行）",
        "通信地址",
    ),
    # The other city's process asked of this one: whose it is, and no verdict of this city.
    (("天津的宝宝能办积分入医吗？",), "这是苏州的来源页面里的说法", "可以："),
    # "我自己去" is the parent's errand, not a grown-up's own insurance.
    (("积分入医取得资格以后，入医手续是我自己去社保局办吗？",), "学校", "成年人"),
    # A province's 户口 corrects the Tianjin flow's 户籍 (and the way it decides).
    (
        (
            "我们是天津户口，宝宝刚出生，怎么上医保？",
            "不对，其实我们是山东户口，只是在天津办了居住证",
        ),
        "居住证受理回执",
        "母亲人脸核验",
    ),
    # 社保 paid in a county outside 市区 fails the insurance condition, not the school's.
    (
        ("我居住证在苏州姑苏区办的，住了两年", "但社保是在昆山的厂里交的"),
        "不符合：社保在昆山交",
        "昆山不在这五个区",
    ),
    # A duration restated in a correction is the residence answered before it.
    (
        ("积分入医", "有社保有居住证", "住了两年", "不对，我算错了，其实才十个月"),
        "✗ 在苏州市区连续合法居住一年以上",
        "异议",
    ),
    # An answer typed as a question hears which condition it meets.
    (
        ("我在苏州相城交社保，有居住证", "在这边住满整整一年了，居住年限够不够"),
        "符合这一条：在苏州市区连续合法居住一年以上（含一年）",
        "不符合",
    ),
    # Which year the enrolment is for; a fee figure said to be the parents' share.
    (("积分入医九到十一月办的入医手续", "是给今年参保还是下一年"), "下一年度", "怎样才算纳入"),
    (("天津学生儿童医保830元", "这830都得我们家长出吗"), "不对：830元是筹资标准（总额）", ""),
    # Births two months back and weeks ago, to the day.
    (("宝宝上上个月15号出生的",), "出生日期2026年10月15日", ""),
    (("宝宝12周前在天津出生的", "还赶得上从出生就报销吗？最晚哪天"), "2026年12月6日", "来不及"),
    # A word that only implies the 户籍 yields to the one the conversation said.
    (("外地户口宝宝在天津出生", "能用津心办的出生一件事吗"), "不能走这个入口", ""),
    (
        ("天津外地户口的宝宝可以参保了", "那我这个当妈的没工作，能跟着一起参加居民医保吗"),
        "成年人",
        "",
    ),
    # Care back home is 异地就医, whatever province the family is from.
    (
        ("孩子是天津医保，回河北老家看门诊", "那家医院没开通直接结算怎么办"),
        "垫付",
        "外地户籍新生儿",
    ),
    # A full-time pupil in Tianjin is in the first class of who may enrol.
    (
        ("孩子在天津上职高，全日制的，没工作", "能参加天津学生儿童医保吗"),
        "可以：在天津市各级各类学校",
        "",
    ),
    (("天津的出生一件事", "它一共包括哪几件事"), "落户", "不在我能回答"),
    # Where the child studies tells the Tianjin ways apart; moving away replaces it.
    (("天津户口孩子在天津上小学怎么交医保",), "五种参保方式", "天津户籍在外地上学怎么参保"),
    (("孩子天津户口，原来在天津上小学", "今年转去北京上学了，医保咋弄"), "通过家庭办理", ""),
    # A bare "what now" keeps the subject: the page's silence, or the objection's office.
    (("积分入医申请表交上去了，发现孩子名字填错了一个字", "咋办"), "（申请表填错了怎么更正）", ""),
    (
        ("苏州积分入医公示名单出来了", "里面没有我家孩子", "现在怎么办"),
        "区流动人口积分管理办公室",
        "",
    ),
    (("今年9月积分入医公示通过了", "是今年就能用苏州医保，还是明年"), "下一年度", ""),
    (("苏州积分入医为什么非要打印核定表",), "没有写这样规定的原因", "因为"),
    (("孩子的苏州积分入医办下来了", "我们当爸妈的能一起参加吗"), "成年人", ""),
    # Facts said of both cities hold for the one named next, the 户籍 read against it.
    (("我们天津户口，孩子在苏州读小学", "天津那边是什么参保方式"), "通过家庭办理", "随学校"),
    # An age no child has is a grown-up's; 我能参加 asks for them.
    (
        ("您好，我今年62岁，天津户口，一直没工作", "我能参加你们说的这个学生儿童医保吗？"),
        "成年人",
        "可以：",
    ),
    (
        ("宝宝两个月前在天津出生，姥姥问", "我这个当姥姥的能用我自己的身份证替她办吗？"),
        "妈妈",
        "可以：",
    ),
    # A pronoun asks of the thing just named; an aspect that answer lacks finds its own.
    (("津医保APP", "它能办异地就医备案吗"), "备案", "外地户籍新生儿线上参保登记"),
    # 它 after the app: where inside it stays on it; a strong aspect it lacks does not.
    (
        ("外地户口新生儿在天津能网上登记参保吗", "津医保APP是啥", "它里面在哪个地方办"),
        "医保办事大厅",
        "天津外地户籍新生儿线下在哪登记",
    ),
    # An entry written for the child stated beats a general one the words picked.
    (("我们住天津市区，孩子三岁还没上幼儿园", "医保去哪办"), "劳动保障服务中心", "各区分中心"),
    # The grown-up's own 职工医保; how a document itself is obtained (the page is silent).
    (("我自己的天津职工医保，生孩子能报多少",), "成年人", "90天"),
    (("外地户口孩子在天津上医保要父母有居住证", "那天津居住证本身怎么办下来"), "本身怎么办理", ""),
    # A foreign child living in Tianjin: the third class, with the passport the page asks.
    (
        ("我女儿在加拿大出生，加拿大籍，现在跟我们在天津长期住", "她能参加天津的居民医保吗"),
        "可以：办理对象包括",
        "不符合",
    ),
    # Whether two names are one thing is not on the page; whether one was chosen is 公示.
    (("天津材料里说的暂住证和居住证是一回事吗",), "（这两个叫法指的是否为同一证件）", "通信地址"),
    (("积分入医几号开始申请", "截止到哪天", "那什么时候知道有没有选上"), "9月份", "申请流程规定"),
    # A county outside the five districts is judged, whatever the question.
    (("张家港的外地孩子怎么上医保",), "不符合：张家港不在这五个区", ""),
    # A status said with no city is judged when the city comes.
    (("孩子上的是小区里的托育班，没经过教育局批准", "能积分入医吗？"), "不符合", "认可哪些学校"),
    # In the Suzhou check, a child at school back home is outside the five districts.
    (
        ("苏州积分入医，我有居住证，社保也交了，住了两年", "孩子在老家读书，没在苏州上学"),
        "暂不符合",
        "孩子在哪类学校",
    ),
    # A grown-up named as who does the errand, not who it is about.
    (("外地户口新生儿在天津参保由谁来办", "奶奶带孩子，奶奶能办吗"), "法定监护人", "成年人"),
    (("津心办里面办出生一件事", "到人脸那一步了 是谁刷脸啊 我老公刷行不行"), "母亲", "成年人"),
    # ...but a grown-up asking for themselves is still outside the pages.
    (("我妈退休了能办吗",), "不在页面里", "830"),
    # Money back is something the page never says.
    (("天津新生儿医保交了100", "如果后来孩子户口迁走了，钱能退吗"), "没有写", "830"),
    # 缴费期 is about time: the newborn's payment is not bound to it.
    (("天津居民医保不是每年有集中缴费期吗", "新生儿也要等缴费期吗"), "不受", "730"),
    # The part of a compound question the first entry covers only in passing.
    (
        ("问下苏州积分入医", "一是要带什么证明孩子在上学，二是我们家三个孩子要开什么证明"),
        "入园、入学的证明",
        "抱歉",
    ),
    # Where the form is printed: the answer says who prints it, so it is no silence.
    (("苏州积分入医公示完了，没人提异议", "那个核定表去哪打"), "社会事务中心", "没有写"),
    (("苏州积分入医的条件我想确认下", "居住证要满多久"), "一年以上", "6月1日至8月31日"),
    # "周末算不算" asks how the days of the answer just given are counted.
    (
        ("苏州积分入医公示几天", "就5天？周末算不算"),
        "5个工作日",
        "申请时间",
    ),  # Things the pages never say, asked in money or paper terms.
    (("天津小孩医保要钱吗", "那个730是给我们的吗", "补贴到谁账上？"), "补贴打到谁的账户", "830"),
    (("天津新生儿医保多少钱", "过了90天再交要多交钱吗", "有没有滞纳金"), "没有写", "830"),
    (("tj外地hukou宝宝办yb card要啥材料", "jzz算不算那个暂住证？"), "是否为同一证件", "暂住证原件"),
    # "能顺便把户口也落了吗" asks what 出生一件事 includes: the verdict first.
    (("天津出生一件事是什么", "能顺便把户口也落了吗"), "可以：出生、落户", ""),
    # Where the 社保 must be paid is the condition, not the place to apply.
    (("sz积分入医家长要交sb吗", "在哪交的sb才算"), "市区参加社会保险", "书面申请"),
    (
        ("孩子在吴江区上学能积分入医吗", "你就说，吴江区到底在不在积分入医的范围里"),
        "吴江不在这五个区",
        "原因",
    ),  # 外省 said of where a Tianjin-hukou child goes to 托班 is studying away, not the 户籍.
    (
        (
            "我家两个娃都是天津户口",
            "老大在外省上托班，老二刚出生",
            "老大那个医保是托班给办还是我们自己办",
        ),
        "通过家庭办理参保",
        "随学校、托幼机构参保",
    ),
    # "一是…二是…" about two children: each its own way.
    (("一是天津农村没上学的孩子怎么参保，二是天津户口在外地上学的怎么办",), "以行政村为单位", ""),
    # "从交钱第二天起算" is when the benefits start, not the fee.
    (
        ("天津新生儿医保我印象里要在出生60天以内办，过了60天就只能从交钱第二天起算了，是这样吧",),
        "90天内办理参保缴费手续的，从出生之日起享受",
        "830",
    ),
    # A day said of a thing with no dated note (the quota's 9月15日) is no day to apply.
    (("积分入医的入学指标是教育部门9月30号之前定下来的吧",), "9月15日前认定的入学指标数", "申请期"),
]


async def test_a_day_said_as_today_is_this_year_s(engine: Engine) -> None:
    """ "今天十一月三号，还剩几天" on 11月3日: today, not next year's 11月3日."""
    today = date(2026, 11, 3)
    reply = await _say(
        engine, 91, today, "积分入医的核定表是十一月十五号前打印对吧", "今天十一月三号，还剩几天"
    )
    assert "今天是2026年11月3日" in reply and "还有12天" in reply, reply


async def test_catching_the_window_is_a_deadline_question(engine: Engine) -> None:
    reply = await _say(engine, 92, date(2027, 7, 15), "苏州积分入医今年还赶得上申请吗")
    assert "正在申请期内" in reply and "2027年8月31日" in reply, reply


async def test_the_last_day_of_the_window_is_still_a_yes(engine: Engine) -> None:
    reply = await _say(engine, 90, date(2026, 8, 31), "今天还能交积分入医申请吗？")
    assert "还可以申请" in reply and "最后一天" in reply, reply


@pytest.mark.parametrize(("turns", "present", "absent"), STATE_CASES)
async def test_facts_stated_and_follow_ups_decide_the_answer(
    engine: Engine, turns: tuple[str, ...], present: str, absent: str
) -> None:
    """Permits, study mode, 户籍 said after the word, questions asked with facts, other
    cities' snippets: each conversation's last reply says and omits what it must."""
    reply = await _say(engine, 400 + STATE_CASES.index((turns, present, absent)), TODAY, *turns)
    assert present in reply, reply
    assert not absent or absent not in reply, reply


# The day the parent will go, said beside the birth day or before: the verdict is for that
# day, never today's (the worst kind of wrong: "还来得及" for a plan that is too late).
ERRAND_DAY_CASES: list[tuple[date, tuple[str, ...], tuple[str, ...]]] = [
    (
        date(2026, 6, 10),
        ("宝宝3月13号在天津出生的，今天去交医保，能从出生那天开始报吗？", "那后天去呢"),
        ("来不及", "2026年6月12日"),
    ),
    (
        date(2027, 9, 15),
        ("宝宝6月20号出生，天津户口，医保我打算下周再去办",),
        ("来不及", "第90天是2027年9月17日"),
    ),
    (
        date(2027, 9, 15),
        ("宝宝6月20号出生，天津户口，医保我打算下周再去办", "这样还能从出生那天起算吗"),
        ("来不及", "第90天是2027年9月17日"),
    ),
    (
        date(2027, 9, 15),
        ("宝宝6月20号出生，天津户口，医保我打算下周再去办", "那现在去还能从出生那天起算吗"),
        ("还来得及", "2027年9月17日"),
    ),
    (
        date(2026, 12, 25),
        ("她是11月2号出生的，天津户口，我想等2月10号出院后再去办，行吗",),
        ("来不及", "2027年2月10日"),
    ),
]


# Days as people say them around holidays, with the clock passed in: a break in progress is
# this year's (2028's calendar is not published: the statutory days off decide), 正月十五
# is a day of its own, 双十一 is 11月11日, a count the parent asks to check keeps the birth
# day said before, today's date said as context asks nothing of it, a day off in the
# window names the next working day, and a day after the window is "来不及".
DAY_PHRASE_CASES: list[tuple[date, tuple[str, ...], tuple[str, ...]]] = [
    (
        date(2028, 10, 3),
        (
            "今天中秋节，宝宝7月20号出生的，天津户口",
            "国庆人多，我想晚点去，最晚哪天办完还能从出生起享受",
        ),
        ("还来得及", "2028年10月17日"),
    ),
    (
        date(2028, 1, 30),
        ("宝宝是去年11月20号生的，天津户口", "年后正月十五再去办，还能从出生起享受吗"),
        ("还来得及", "2028年2月9日"),
    ),
    (
        date(2027, 1, 20),
        ("宝宝去年双十一出生的，天津户口，还没办医保", "我算今天是第60天，对吧？"),
        ("2026年11月11日出生", "第71天"),
    ),
    (
        date(2027, 5, 20),
        (
            "我家老二是今年大年初一生的，天津户口",
            "今天才第85天，还来得及从出生起享受吧？帮我核一下",
        ),
        ("2027年2月6日出生", "第104天", "来不及"),
    ),
    (
        date(2028, 10, 3),
        ("今天中秋，积分入医资格到手了", "核定表还有多少天截止"),
        ("还有43天",),
    ),
    (date(2026, 6, 19), ("今天端午，积分入医最早哪天能去交",), ("下一个工作日2026年6月22日",)),
    # "今天大年初一" holds "天大" (of "50天大"): no age, and the birth said before stays.
    (
        date(2028, 1, 26),
        (
            "孩子去年11月20号在天津出生，本地户口",
            "今天大年初一，等过了元宵节再去办，还能从出生起享受吗",
        ),
        ("2027年11月20日出生", "2028年2月17日"),
    ),
    # A birth on a holiday said during its break is the holiday itself, never today.
    (date(2026, 10, 3), ("宝宝国庆那天出生的，天津户口，医保还没办",), ("2026年10月1日出生",)),
    (date(2028, 8, 31), ("积分入医截止哪天", "那我明天去还行吗"), ("来不及", "2028年9月1日")),
    # "不是今年春节，是去年春节": a correction by its form, and the year said before a holiday.
    (
        date(2026, 3, 15),
        (
            "天津 宝宝春节那天生的 外地户口",
            "现在去办医保 能从出生那天开始享受吗",
            "哦不是今年春节 是去年春节",
        ),
        ("2025年1月29日出生", "从缴费次日起"),
    ),
]


@pytest.mark.parametrize(("today", "turns", "present"), ERRAND_DAY_CASES + DAY_PHRASE_CASES)
async def test_the_day_to_go_decides_the_verdict(
    engine: Engine, today: date, turns: tuple[str, ...], present: tuple[str, ...]
) -> None:
    chat = 900 + (ERRAND_DAY_CASES + DAY_PHRASE_CASES).index((today, turns, present))
    reply = await _say(engine, chat, today, *turns)
    assert all(p in reply for p in present), reply


async def test_a_bonus_obtained_after_august_31_is_not_scored_this_year(engine: Engine) -> None:
    """The day a 加分 certificate came, said as done ("9月2号刚拿到"), against the page's
    "8月31日以前的积分项目": the verdict first, for this year (not next year's 9月2日)."""
    today = date(2026, 9, 3)
    await _say(engine, 140, today, "苏州积分入医申请我已经交了")
    late = await _say(engine, 140, today, "我9月2号刚拿到一个可以加分的证书，这次能算上吗")
    assert late.startswith("积分入医的加分证明材料\n算不进2026年这次：2026年9月2日"), late
    early = await _say(engine, 141, today, "苏州积分入医的加分证书8月20号就已经拿到了，能算吗")
    assert "能算进2026年这次的核查评分：2026年8月20日" in early, early


async def test_the_tianjin_flow_says_the_deadline_again_when_asked(engine: Engine) -> None:
    """ "天津户口，90天的期限到哪天" at the 户籍 step, the deadline told when the flow began:
    the step is taken and the deadline said again, since it was asked."""
    today = date(2026, 10, 20)
    await _say(engine, 142, today, "我家宝宝国庆节那天在天津出生的")
    reply = await _say(engine, 142, today, "天津户口，90天的期限到哪天")
    assert "出生一件事" in reply and "最晚办理日期：2026年12月29日" in reply, reply
    plain = await _say(engine, 143, today, "我家宝宝国庆节那天在天津出生的")
    plain = await _say(engine, 143, today, "天津户口")
    assert "最晚办理日期" not in plain, plain


async def test_a_comparison_the_other_page_lacks_the_population_for(engine: Engine) -> None:
    """ "苏州也一样吗" after a Tianjin newborn's question: the Suzhou page says nothing of
    newborns (said first), then what it does say of the same aspect, for 积分入医."""
    await _say(engine, 144, TODAY, "天津新生儿医保什么时候都能办吗")
    reply = await _say(engine, 144, TODAY, "苏州也一样吗")
    assert reply.index("苏州新生儿怎么参保，页面没有写") < reply.index("苏州积分入医申请时间")
    assert "6月1日至8月31日" in reply
    grown = await _say(engine, 145, TODAY, "天津新生儿医保交多少钱", "我老婆也一样吗")
    assert "830" not in grown and "成年人" in grown and len(grown.split("\n")) == 2, grown


async def test_a_case_the_check_cannot_take_is_not_started_as_open(engine: Engine) -> None:
    """ "…但从没申请过积分管理，能积分入医吗": the Suzhou check does not ask about 积分管理,
    so the guard answers (apply for it first) instead of the check's next question."""
    reply = await _say(
        engine,
        146,
        TODAY,
        "我在苏州有居住证三年、社保也交，孩子在吴中上小学，但从没申请过积分管理，能积分入医吗",
    )
    assert reply.startswith("暂不符合：积分入医的申请人须是已纳入") and "批准设立" not in reply


async def test_going_on_a_holiday_in_the_window_hears_it_is_closed(engine: Engine) -> None:
    """ "能去街道办交积分入医申请吗" on 端午 (in the window): asked of going now, so the
    window's note for today says the day is off and the next working day."""
    reply = await _say(engine, 147, date(2026, 6, 19), "能去街道办交积分入医申请吗")
    assert reply.startswith("苏州积分入医申请时间\n那天不受理") and "2026年6月22日" in reply, reply


async def test_a_date_said_after_the_birth_is_the_birth(engine: Engine) -> None:
    """ "五一假期里宝宝出生了，5月2号": the date said on its own after the birth is the day
    (not 五一, and the holiday is no day to go either)."""
    today = date(2026, 5, 6)
    first = await _say(engine, 148, today, "五一假期里宝宝出生了，5月2号")
    assert "出生日期2026年5月2日" in first and "2027" not in first, first
    reply = await _say(engine, 148, today, "天津户口，医保啥时候前办好")
    assert "最晚办理日期：2026年7月30日" in reply, reply


@pytest.mark.parametrize("said", ["居住证没有", "居住证？还没有", "居住证 都没有", "居住證沒有"])
async def test_a_permit_said_first_then_denied_is_no_permit(engine: Engine, said: str) -> None:
    """The permit step takes "居住证没有" as the "没有" it is (not a question about how a
    居住证 is issued); "居住证没过期" is one held."""
    reply = await _say(engine, 900, TODAY, "/suzhou", said)
    assert "暂不符合" in reply and "已办理居住证" in reply
    held = await _say(engine, 901, TODAY, "/suzhou", "居住证没过期")
    assert "参加社会保险" in held and "暂不符合" not in held


def test_a_run_on_message_splits_before_each_child_word_never_inside_one() -> None:
    """ "老大的学校…" keeps 老大 (not "老 大的"); a run-on message splits before 二孙子."""
    clerk = build_engine("memory://").clerk
    assert clerk is not None
    kids, _ = clerk.splitter.children("老大的学校在天津上小学，老二刚出生", "tianjin")
    assert [k.word for k in kids] == ["老大", "老二"]
    kids, _ = clerk.splitter.children("大孙子在苏州上小学外地户口二孙子刚在天津生的", None)
    assert [(k.word, k.city) for k in kids] == [("大孙子", "suzhou"), ("二孙子", "tianjin")]
