"""WordScan finds exactly the words a substring test per word finds, in the same order."""

from hypothesis import given
from hypothesis import strategies as st

from knowledge.wordscan import WordScan

ALPHABET = "天津苏州户口居住证医保钱多少办"
words = st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=4), max_size=30)


@given(words, st.text(alphabet=ALPHABET + " ，", max_size=20))
def test_present_is_the_naive_scan(vocab: list[str], text: str) -> None:
    pairs = [(w, i) for i, w in enumerate(vocab)]
    assert WordScan(pairs).present(text) == [(w, i) for w, i in pairs if w in text]


def test_order_is_kept_and_empty_words_are_dropped() -> None:
    scan = WordScan([("居住证", "permit"), ("多少钱", "cost"), ("钱", "cost"), ("", "none")])
    assert scan.present("居住证办了 要多少钱") == [
        ("居住证", "permit"),
        ("多少钱", "cost"),
        ("钱", "cost"),
    ]
    assert scan.present("在哪办") == []
