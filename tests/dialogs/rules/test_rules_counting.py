"""How many children a fee question is about (dialogs/rules/counting.py)."""

import pytest
from pydantic import ValidationError

from dialogs.rules.counting import children_count
from knowledge.schema import PerChild

WORDS = ["孩子", "小孩", "娃", "宝宝", "子女", "孩", "宝"]
BIRTHS = {"双胞胎": 2, "龙凤胎": 2, "三胞胎": 3}


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("我生了一对双胞胎", 2),
        ("龙凤胎在天津出生", 2),
        ("我家俩娃都在天津上学", 2),
        ("说错了是仨孩子", 3),
        ("两个孩子的医保一共交多少", 2),
        ("3个宝宝", 3),
        ("家里三胞胎", 3),
        ("第二个孩子刚出生", None),  # the second child, not two
        ("孩子多少钱", None),
        ("1个孩子", None),
        ("三十个孩子", 30),  # a class: the fee per child times them
        ("我们班30个孩子", 30),
        ("1000个孩子", None),  # no count of children
        ("2026年3个孩子", 3),  # a year's digits are not the count
    ],
)
def test_children_count(text: str, count: int | None) -> None:
    assert children_count(text, WORDS, BIRTHS) == count


def test_a_fee_per_child_must_add_up() -> None:
    assert PerChild(personal=100, subsidy=730, total=830).total == 830
    with pytest.raises(ValidationError):
        PerChild(personal=100, subsidy=730, total=800)
