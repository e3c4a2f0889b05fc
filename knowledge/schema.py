"""Pydantic schemas of the knowledge files. A file that does not fit is rejected at load."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# A city id from knowledge/lexicon/cities.yaml (or "general"); `yibao kb check` verifies it
# against the lexicon, so a new city is data only.
City = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class SourceRef(_Strict):
    """Where a fact comes from: the page's file name and the section heading in it."""

    file: str = Field(min_length=1)
    section: str = Field(min_length=1)


class PerChild(_Strict):
    """The fee per child the page states, so that a question about several children gets the
    figures multiplied instead of one child's figure presented as the total."""

    personal: int = Field(ge=0)
    subsidy: int = Field(ge=0)
    total: int = Field(ge=0)

    @model_validator(mode="after")
    def _adds_up(self) -> PerChild:
        if self.personal + self.subsidy != self.total:
            raise ValueError("personal + subsidy must equal total")
        return self


class Entry(_Strict):
    """One curated answer. `questions` double as the matcher's self-test."""

    id: str = Field(pattern=r"^[a-z][a-z0-9]*(\.[a-z0-9][a-z0-9_-]*)+$")
    city: City
    topic: str = Field(min_length=1)
    title: str = Field(min_length=1)
    questions: list[str] = Field(min_length=3)
    keywords: list[str] = Field(min_length=1)
    answer: str = Field(min_length=1)
    source: SourceRef
    applies_to: str = Field(min_length=1)
    related: list[str] = Field(default_factory=list)
    group: Literal["core", "related"] = "core"
    # A note computed for today's date by a guided flow's rule (e.g. "suzhou_calendar"),
    # appended to the answer; `yibao kb check` verifies that a flow provides it.
    dated: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    # What the entry answers (understanding.yaml `aspects`) and for whom (`populations`
    # names, or "all"): routing goes from the question's frame to these, keyword overlap
    # only breaks ties. `next`: the entry answering "然后呢" (the next step of a process).
    aspects: list[str] = Field(min_length=1)
    population: list[str] = Field(min_length=1)
    next: str | None = None
    # `verdicts`: the verdict that opens the answer to a yes/no question about one of its aspects
    # ("能网上办吗" → "可以。"), written by the curator from the page, never made up by code.
    verdicts: dict[str, str] = {}
    per_child: PerChild | None = None

    @field_validator("questions", "keywords")
    @classmethod
    def _no_blank(cls, items: list[str]) -> list[str]:
        if any(not item.strip() for item in items):
            raise ValueError("must not contain empty strings")
        return items


class OutOfScope(_Strict):
    """A topic people ask about that the sources do not cover; answered honestly as such."""

    id: str = Field(pattern=r"^oos\.[a-z0-9_-]+$")
    keywords: list[str] = Field(min_length=1)
    questions: list[str] = Field(min_length=1)
    answer: str = Field(min_length=1)
    offer: list[str] = Field(default_factory=list)
    # The covered city the topic belongs to ("苏州学生医保多少钱" is about Suzhou): never the
    # reply to a question about another city, which gets the plain "not covered".
    about: City | None = None


class KeywordRoute(_Strict):
    """A service-account style keyword: the whole message equals one of `words`.

    `action` is `entry:<id>`, `menu:<name>`, `flow:<name>`, or
    `command:<cancel|back|quit|help|more>`
    (words that steer the conversation itself, recognised before anything else).
    """

    words: list[str] = Field(min_length=1)
    action: str = Field(
        pattern=r"^(entry|menu|flow):[a-z0-9._-]+$|^command:(cancel|back|quit|help|more)$"
    )


class SourcePage(_Strict):
    """A source page. `sections` are its headings that carry facts (each must be cited by an
    entry); `not_facts` are the parts deliberately not curated (ads, disclaimers)."""

    file: str
    title: str
    published: str
    note: str = ""
    sections: list[str] = Field(default_factory=list)
    not_facts: list[str] = Field(default_factory=list)


class MenuButton(_Strict):
    label: str = Field(min_length=1, max_length=40)
    action: str = Field(pattern=r"^(entry|menu|flow):[a-z0-9._-]+$")


class Menu(_Strict):
    """A menu as a city service account shows it: a line of text and rows of buttons."""

    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    text: str = Field(min_length=1)
    buttons: list[list[MenuButton]] = Field(min_length=1)


# ---------------------------------------------------------------- understanding
class AspectSpec(_Strict):
    """One thing a question can ask (cost, where ...): its name in replies, the words that
    say it, and a rank that decides between two aspects found in one clause."""

    name: str = Field(min_length=1)
    rank: int = Field(ge=0, le=99)
    words: list[str] = Field(min_length=1)
    # Aspects a message with this one asks as part of it, not as a second question: "在外地
    # 看病，医院没开通直接结算咋办" asks how care elsewhere works, not how to enrol.
    absorbs: list[str] = []
    # Neither page says anything of it ("复印件要几份"): asked, the reply says so, whatever
    # entry the question's other words would reach.
    silent: bool = False
    # The cities whose page says nothing of it while the other's does: "天津新生儿参保是
    # 哪个文件规定的" - the Tianjin page names no document (Suzhou's names two), so asked of
    # Tianjin it is silent there, with the answer just given (of Tianjin) as what it does say.
    silent_in: list[str] = []
    # A city whose page does not cover this aspect answers with its entry for `instead`,
    # which says what the page does say ("能网上提交吗" of Suzhou: the written application
    # at the 街道, whose answer says the page names no online way) - never a keyword pick
    # that shares a word ("提交") with the question.
    instead: str | None = None
    # A question of this aspect is answered by the entry's verdict even with no yes/no word:
    # "先办哪个" / "先公示还是先打核定表" ask for the order, which the verdict says first.
    verdict_any: bool = False
    # Asked right after an answer, a question about that answer ("有依据吗", "哪个文件说的"):
    # the answer again, whose source line names the page and section.
    of_answer: bool = False
    # "为什么才交100": why a rule is so, which no page says; asked of something the message
    # names, that thing is answered (the rule itself) under the silence; alone, it asks of
    # the answer just given. Never the conversation's aspect ("那怎么办" asks of the one
    # before it).
    explains: bool = False
    # A silent aspect's nearest entry per city, said after the page's silence: "要多少分才能
    # 过" is not on the page, but how the list is ranked (by points, within the quota) is.
    near: dict[str, str] = {}


class PopulationSpec(_Strict):
    """Who a question is about; `group` is the dimension (an age group, a 户籍, town or
    country ("area": the Tianjin page has one way for each))."""

    group: Literal["age", "area", "grownup", "hukou", "minor", "permit", "status", "study_place"]
    words: list[str] = Field(min_length=1)
    # Its words leave theirs to the other groups ("在天津上小学" says where and what level).
    shares_words: bool = False


class HolidaySpec(_Strict):
    kind: Literal["solar", "lunar", "lunar_eve", "term"]
    month: int = Field(default=0, ge=0, le=12)
    day: int = Field(default=0, ge=0, le=31)
    term: str = ""
    # Statutory days off from the holiday on (国庆 3, 春节 初一–初三): its break in a year
    # the official calendar package does not cover yet.
    days_off: int = Field(default=0, ge=0, le=7)


class Guard(_Strict):
    """A scope guard: when the frame matches, `reply` (a ui key) answers instead of the
    nearest in-scope entry."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    city: str | None = None
    any_population: list[str] = Field(default_factory=list)
    no_population: list[str] = Field(default_factory=list)
    # Words that say the question is about that population's own insurance even when a
    # child is named too ("孩子爸爸…他自己的职工医保怎么交"): `no_population` is ignored.
    own_words: list[str] = Field(default_factory=list)
    # Words that make that person the one doing an errand for the child ("孩子姥姥帮着刷可以
    # 吗"), not the one insured: the guard does not answer then.
    errand_words: list[str] = Field(default_factory=list)
    # The city's guided check does not ask this ("从没申请过积分管理"): a message that states
    # it gets the guard, never the check started as if the case were open.
    before_flows: bool = False
    reply: str


class DurationRule(_Strict):
    """The one rule on time lived or insured a page states, to check a duration a parent
    claims is required ("是不是要交满两年社保才行")."""

    months: int = Field(ge=1)
    words: list[str] = Field(min_length=1)  # what the duration must be said of
    claim_words: list[str] = Field(min_length=1)  # a requirement, not the family's own time


class FigureClaim(_Strict):
    """A figure of a page's rule a parent may misremember ("不是60天内吗", "申请是7月到9月吧"):
    what kind of figure it is, its value on the page, the words that say what it is of, and
    the page's own statement of it, quoted in the reply that confirms or corrects it."""

    city: str
    # days_within: "90天内" [90]; month_span: "6月到8月" [6, 8]; day_before: "11月15日前"
    # [11, 15]; count: "5个工作日" [5].
    kind: Literal["days_within", "month_span", "day_before", "count"]
    value: list[int] = Field(min_length=1, max_length=2)
    words: list[str] = []  # any must be said ("公示"); none: the figure's form is enough
    # Any must be said when the figure could be the family's plan ("30天内去办就行吧" is
    # within the rule, not a claim of it): a requirement ("要", "必须") or "不是".
    claim_words: list[str] = []
    fact: str = Field(min_length=1)


class Understanding(_Strict):
    """The vocabulary of question frames (knowledge/data/understanding.yaml)."""

    aspects: dict[str, AspectSpec]
    populations: dict[str, PopulationSpec]
    hukou_words: list[str]
    provinces: list[str]
    # "我今年62岁": an age in years at least `years` is a grown-up's (`population`).
    grownup_age: dict[Literal["years", "population"], int | str] = {}
    # "老家河南", "我们是河北的", "安徽人": a province said as where the family is from.
    origin_before: list[str] = []
    origin_after: list[str] = []
    yes_no: list[str]
    # A yes/no question naming no aspect but one of these ("能积分入医吗") asks whether
    # the case qualifies: the aspect `ability_aspect`.
    ability_words: list[str] = []
    # city -> the aspects its page covers: `kb check` requires an entry for each.
    coverage: dict[str, list[str]] = {}
    ability_aspect: str | None = None
    question_words: list[str]
    acts: dict[str, list[str]]
    followup: list[str]
    corrections: list[str]
    negations: list[str]
    next_step: list[str]
    # "在那之前呢", "上一步呢": the step before the answer just given (the entry whose `next`
    # it is).
    previous_step: list[str] = []
    # A bare "what now" ("咋办", "现在怎么办"): the same subject as the answer before it.
    what_now: list[str] = []
    # "它拿去哪里用": a message opening with one of these points at the thing just named.
    thing_words: list[str] = []
    # "核定表拿到以后呢": what comes after the thing the message names (its entry's `next`).
    after_words: list[str] = []
    widen: dict[str, list[str]] = {}
    # A word that says who the question is about when the message states nothing else of
    # that dimension ("出生一件事" is the Tianjin-hukou way: a question about it is local).
    implied_populations: dict[str, str] = {}
    # The ui text that opens the answer when the message says otherwise ("外地户口能用出生一件
    # 事吗": the way is for Tianjin 户籍, said before the non-local way).
    implied_notes: dict[str, str] = {}
    # "还能上医保吗" after the 90 days asks whether one can still enrol (yes), not whether
    # benefits start at birth (no): `enrol_words` without any of `benefit_words`.
    enrol_words: list[str] = []
    benefit_words: list[str] = []
    # "今年转去北京上学了": another city named as where the child goes to school, in a
    # conversation about a covered city, is that city's "studying elsewhere" case.
    study_words: list[str] = []
    away_study_note: str = ""
    # "要是在北京看病": the child treated in another city (care words after its name).
    care_words: list[str] = []
    away_care_note: str = ""
    away_care_aspect: str = "remote"
    # "你说的那个第三方代办系统是啥": words pointing back at something the last answer said.
    pointing: list[str] = []
    # "是100吗", "730是自己交的吧": which part of the fee a figure is said to be (personal,
    # subsidy, total), to confirm or correct it from the entry's `per_child`.
    fee_roles: dict[Literal["personal", "subsidy", "total"], list[str]] = {}
    # "双胞胎", "俩娃", "三个孩子": how many children a fee question is about.
    child_words: list[str] = []
    multiple_births: dict[str, int] = {}
    # Populations an entry is chosen for only when the conversation states them: the entry
    # for parents without a 居住证 does not answer a parent who said nothing about one.
    stated_only: list[str] = []
    # Words of going to do something ("今天办", "明天去交"): a day next to one is an errand's
    # day, not the birth day, even with a birth word nearby.
    errand_words: list[str] = []
    # "户口落天津", "落户在天津": words that put a 户籍 in the city named right after them.
    hukou_before_city: list[str] = []
    flow_aspects: list[str] = []
    # What a flow's questions ask (residence, district …): said inside a flow they are the
    # answer; any other aspect asked there is a question answered beside it.
    flow_asks: list[str] = []
    # "第二步是啥", "第三条呢": the numbered item of the answer just given.
    ordinal_units: list[str] = []
    compare: list[str]
    # "那老二呢": a word naming one of several children (its earlier clause says who it is).
    sibling_words: list[str] = []
    # "天津和广州哪个便宜": words that set two places side by side.
    versus_words: list[str] = []
    age_words: dict[str, int]
    birth_words: list[str]
    holidays: dict[str, HolidaySpec]
    guards: list[Guard]
    years: dict[str, list[int]]
    relative_years: dict[str, int] = {}
    # "第二家：…", "那第三户呢": another family's case; the last one's flow and facts end.
    new_case_words: list[str] = []
    # "是这样吗" alone after a claim ("邻居说…"): the claim asked as a yes/no question.
    confirm_words: list[str] = []
    # "3月10号交的钱": a date said with one of these is the day the fee was paid.
    pay_words: list[str] = []
    # "下周再去办" then "这样还能从出生那天起算吗": a follow-up asks of the day said before,
    # unless it says one of these ("那现在去呢" is today).
    now_words: list[str] = []
    # "我算今天是第60天，对吧": a day count asked to be checked keeps the birth day said before.
    check_words: list[str] = []
    # A step said as done: "打印完然后呢" asks the next step; "人脸核验做完了" names the item
    # of the answer given, so "然后呢" is the one after it.
    done_words: list[str] = []
    # "…里说的9月15日是什么日子": a phrase of the page asked back (dialogs.quoting).
    meaning_words: list[str] = []
    quote_markers: list[str] = []  # "…里说的9月15日": the phrase after one is quoted
    # "这样孩子就已经有医保了吧": a state asked as the consequence of the step just described,
    # not a fact stated (no flow judges it): a lead word and a question tail.
    consequence_leads: list[str] = []
    consequence_tails: list[str] = []
    pronouns: list[str] = []
    duration_rules: dict[str, DurationRule] = {}
    figure_claims: list[FigureClaim] = []
    claim_tags: list[str] = []  # "是这样吧", "没错吧": a figure said to be confirmed
    then_words: list[str] = []  # "填完信息以后呢": the step after one said done
    enrol_asks: list[str] = []  # "怎么参保": how to enrol, never a snippet's care elsewhere
    issue_asks: list[str] = []  # "去哪开": who issues the thing just answered
    plan_words: list[str] = []  # "就行吧", "来得及吗": the family's plan, not a rule's figure
    # "是不是要交到区人社局": offices a parent may name as where to go; one the answer on
    # where does not name is not where the page sends them.
    offices: dict[str, list[str]] = {}  # office -> how a page may name it
    # "两个地方各交多少" after a message naming both cities: the question is for both.
    both_words: list[str] = []
    # Where, when, how much of a thing pointed back at ("那个回执去哪开"): asked of a thing
    # no answer is about, the page is silent on it.
    pointed_aspects: list[str] = []
    # Documents a page names as needed but never explains ("流动人口居住登记凭证"): asked
    # where, when or what it costs, that page is silent - said so, never a nearby answer.
    mentioned_only: list[str] = []
    # A person said as who pays or does the errand, not who is insured ("830都是我自己掏",
    # "老人不会用手机"): masked when the frame reads who the question is about.
    acting_persons: list[str] = []
    # Who issues a document ("户籍地乡级以上计生部门证明"): a sentence naming the thing and one
    # of these says where it is obtained, though no answer is about "where" for it.
    issuers: list[str] = []
    # Districts and towns: where a family lives or a child studies is a fact of the case, not
    # the subject of a follow-up ("我家住工业园区" after where to apply asks where, again).
    place_words: list[str] = []
    # Aspects whose answers hold only for whom they are written ("天津在校学生几月份缴费": the
    # page's dates are the newborns'): asked for another child, the page is silent.
    population_bound: list[str] = []
