"""Normalisation: script, width, case, punctuation, misspellings and synonyms."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.lexicon import load_lexicon
from knowledge.normalize import Normalizer, clean, normalizer_for, simplify


@pytest.fixture(scope="module")
def norm() -> Normalizer:
    return normalizer_for(load_lexicon())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("醫保積分", "医保积分"),  # traditional -> simplified
        ("臺灣", "台湾"),
        ("ＡＢＣ１２３", "abc123"),  # full-width -> half-width, lower case
        ("ＱＱ群", "qq群"),
        ("积分！！！", "积分"),  # punctuation
        ("积分👶🍼", "积分"),  # emoji
        ("天津，新生儿？", "天津 新生儿"),  # punctuation separates, never glues
        ("  多   空格 ", "多 空格"),
        ("", ""),
    ],
)
def test_clean(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_simplified_text_is_returned_unchanged() -> None:
    text = "天津新生儿医保怎么办理"
    assert simplify(text) is text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("積份", "积分"),  # traditional + homophone
        ("积份入医", "积分入医"),
        ("津新办", "津心办"),
        ("居往证", "居住证"),  # listed misspelling (not a homophone)
        ("合定表", "核定表"),
        ("医宝卡", "医保卡"),
        ("新生而", "新生儿"),
        ("宝宝", "孩子"),
        ("小宝宝", "孩子"),
        ("新生宝宝", "新生儿"),
        ("外省", "外地"),
        ("非本地", "外地"),
        ("多少钱", "费用"),
        ("交多少", "费用"),
        ("资料", "材料"),
        ("带什么", "材料"),
        ("户口本", "户口簿"),
        ("ＡＰＰ", "线上"),
    ],
)
def test_normalize(norm: Normalizer, raw: str, expected: str) -> None:
    assert norm.normalize(raw) == expected


def test_normalize_in_a_sentence(norm: Normalizer) -> None:
    assert norm.normalize("我家宝宝的資料要交到哪裡？") == "我家孩子的材料要地点申请"


@pytest.mark.parametrize(
    "word", ["公式", "计分", "可以保留", "积分", "居住证", "金医保", "医保客服"]
)
def test_real_words_are_not_corrected(norm: Normalizer, word: str) -> None:
    """Only unknown words or runs of single characters are read as typos."""
    assert norm.normalize(word) == word


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("天经户口", "天津户口"),  # jing typed for jin: back and front nasals sound alike
        ("医保怎么半", "医保怎么办"),
        ("积分入一", "积分入医"),
    ],
)
def test_sound_alike_slips_are_read_as_the_term(norm: Normalizer, typed: str, meant: str) -> None:
    assert norm.surface(typed) == meant


def test_tokens_before_and_after_synonyms(norm: Normalizer) -> None:
    raw, canonical = norm.tokens("天津宝宝多少钱")
    assert raw == ("天津", "宝宝", "多少钱")
    assert canonical == ("天津", "孩子", "费用")


def test_very_long_text_is_bounded(norm: Normalizer) -> None:
    tokens = norm.tokens("积分" * 5000)[1]
    assert 0 < len(tokens) <= 500


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_text_normalises_without_error(text: str) -> None:
    norm = normalizer_for(load_lexicon())
    out = norm.normalize(text)
    assert isinstance(out, str)
    assert not any(ch in out for ch in "，。！？!?,.")


@pytest.mark.parametrize(
    ("raw", "present", "absent"),
    [
        ("天津 baby 医保 fee多少", "费用", "fee"),
        ("apply window现在open了吗", "申请时间", "window"),
        ("hukou book没带", "户口簿", "book"),  # the longer phrase wins over "hukou"
        ("coffee多少钱", "coffee", "cof费用"),  # an English word is fixed only whole
        ("paypal能交吗", "paypal", "交pal"),
    ],
)
def test_english_words_are_fixed_whole(
    norm: Normalizer, raw: str, present: str, absent: str
) -> None:
    out = norm.normalize(raw)
    assert present in out and absent not in out, out
