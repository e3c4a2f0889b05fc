"""The frame reader reads each distinct message once: a frame is a pure function of the
text, so the cached frame must equal a fresh reading, whatever was read in between."""

from pathlib import Path

from knowledge.frame import FrameReader
from knowledge.loader import load_kb

DATA = Path(__file__).resolve().parents[2] / "knowledge" / "data"


def test_a_cached_frame_is_the_frame_a_fresh_reader_gives() -> None:
    kb = load_kb(DATA)
    assert kb.understanding is not None
    reader = FrameReader(kb.understanding)
    texts = ["积分", "天津户口宝宝出生50天了还能办吗", "复印件要几份？", "积分"]
    first = [reader.read(t) for t in texts]
    fresh = FrameReader(kb.understanding)
    assert first == [fresh.read(t) for t in texts]
    assert reader.read("积分") is first[0]  # read once, not again
    assert first[1].yes_no and "newborn" in first[1].populations


def test_a_day_named_after_the_new_year_is_no_school_grade() -> None:
    """ "大年初一" holds 初一 (the first year of junior school): a day's name, not a grade;
    "孩子上初一" still is one."""
    kb = load_kb(DATA)
    assert kb.understanding is not None
    reader = FrameReader(kb.understanding)
    assert "junior" not in reader.read("今天大年初一，孩子医保怎么办").populations
    assert "junior" in reader.read("孩子上初一了，医保怎么办").populations
