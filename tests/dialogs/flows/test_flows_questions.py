"""An option's pattern may name one of the flow's word lists (`<<places_outside>>`): the
list is written once in the data, and a name with no list is refused at start-up."""

from __future__ import annotations

import pytest

from bot.wiring import build_engine
from dialogs.flows.machine import GuidedFlow
from dialogs.flows.questions import QuestionText, build_question
from dialogs.slots import spot

QUESTION = {
    "ask": "社保在哪交？",
    "options": [
        {"value": "no", "label": "不在市区", "patterns": ["社保在(?:<<places>>)交"]},
        {"value": "yes", "label": "在市区", "words": ["社保在市区交"]},
    ],
}


def test_a_pattern_reads_the_words_of_the_list_it_names() -> None:
    q = build_question(
        "insurance", QuestionText.model_validate(QUESTION), {"places": ["昆山", "太仓"]}
    )
    patterns = q.options[0].choice.patterns
    assert patterns[0].search("社保在太仓交的") is not None
    assert patterns[0].search("社保在姑苏交的") is None


def test_a_pattern_naming_no_list_is_refused() -> None:
    with pytest.raises(ValueError, match="no word list 'places'"):
        build_question("insurance", QuestionText.model_validate(QUESTION), {})


def test_the_suzhou_check_reads_a_county_from_its_own_list() -> None:
    flow = build_engine("memory://").flows["suzhou"]
    assert isinstance(flow, GuidedFlow)
    assert spot("社保是在常熟交的", flow.questions["insurance"].spec) == "no"
    assert spot("社保在相城交的", flow.questions["insurance"].spec) == "yes"
