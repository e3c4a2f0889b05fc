"""Suzhou calendar by today's date, and eligibility naming the failing condition."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dialogs.rules.suzhou import (
    ORDER,
    Phase,
    Status,
    birth_proof,
    calendar,
    scored_in,
    scoring_year,
    verdict,
)

ALL_OK = {
    "permit": "yes",
    "insurance": "yes",
    "years": "yes",
    "district": "sip",
    "school": "primary",
    "approved": "yes",
    "firsttime": "yes",
}


@pytest.mark.parametrize(
    ("today", "phase"),
    [
        (date(2026, 1, 1), Phase.PREPARE),
        (date(2026, 5, 31), Phase.PREPARE),
        (date(2026, 6, 1), Phase.OPEN),
        (date(2026, 8, 31), Phase.OPEN),
        (date(2026, 9, 1), Phase.REVIEW),
        (date(2026, 11, 15), Phase.REVIEW),
        (date(2026, 11, 16), Phase.CLOSED),
        (date(2026, 12, 31), Phase.CLOSED),
        (date(2028, 2, 29), Phase.PREPARE),
    ],
)
def test_phase_boundaries(today: date, phase: Phase) -> None:
    assert calendar(today).phase is phase


def test_every_day_of_two_years_has_exactly_one_phase_in_order() -> None:
    day, seen = date(2027, 1, 1), list[Phase]()
    while day.year < 2029:
        phase = calendar(day).phase
        if not seen or seen[-1] != phase:
            seen.append(phase)
        day += timedelta(days=1)
    cycle = [Phase.PREPARE, Phase.OPEN, Phase.REVIEW, Phase.CLOSED]
    assert seen == cycle * 2


def test_window_counts() -> None:
    may31 = calendar(date(2026, 5, 31))
    assert may31.opens == date(2026, 6, 1) and may31.days_to_open == 1
    jun1 = calendar(date(2026, 6, 1))
    assert jun1.closes == date(2026, 8, 31) and jun1.days_left == 91
    assert calendar(date(2026, 8, 31)).days_left == 0
    sep1 = calendar(date(2026, 9, 1))
    assert sep1.opens == date(2027, 6, 1) and sep1.closes == date(2027, 8, 31)
    assert sep1.form_deadline == date(2026, 11, 15)


def test_2017_notice_window_only_until_sep_10_of_2017() -> None:
    assert calendar(date(2017, 9, 10)).within_2017_notice
    assert not calendar(date(2017, 9, 11)).within_2017_notice
    assert not calendar(date(2017, 8, 31)).within_2017_notice
    assert not calendar(date(2026, 9, 1)).within_2017_notice  # not every year
    assert not calendar(date(2026, 9, 10)).within_2017_notice


def test_all_conditions_met() -> None:
    v = verdict(ALL_OK)
    assert v.status is Status.ELIGIBLE and not v.failing and not v.missing


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("permit", "no"),
        ("insurance", "no"),
        ("years", "no"),
        ("district", "other"),
        ("school", "other"),
        ("approved", "no"),
        ("firsttime", "no"),
    ],
)
def test_each_failing_condition_is_named(name: str, bad: str) -> None:
    v = verdict({**ALL_OK, name: bad})
    assert v.status is Status.INELIGIBLE
    assert v.failing == (name,)


@pytest.mark.parametrize("district", ["wuzhong", "xiangcheng", "gusu", "sip", "snd"])
@pytest.mark.parametrize("school", ["kinder", "primary", "junior"])
def test_every_listed_district_and_school_level_passes(district: str, school: str) -> None:
    assert verdict({**ALL_OK, "district": district, "school": school}).status is Status.ELIGIBLE


def test_unsure_does_not_fail_but_is_listed() -> None:
    v = verdict({**ALL_OK, "approved": "unsure"})
    assert v.status is Status.UNSURE and v.unsure == ("approved",)


def test_missing_answers_are_incomplete_unless_something_fails() -> None:
    assert verdict({"permit": "yes"}).status is Status.INCOMPLETE
    assert verdict({"permit": "yes"}).missing == ORDER[1:]
    assert verdict({"permit": "no"}).status is Status.INELIGIBLE


@pytest.mark.parametrize(
    ("n", "proof"),
    [(None, "unknown"), (0, "unknown"), (1, "upto2"), (2, "upto2"), (3, "3plus"), (5, "3plus")],
)
def test_birth_proof(n: int | None, proof: str) -> None:
    assert birth_proof(n) == proof


@pytest.mark.parametrize(
    ("day", "scored"),
    [(date(2027, 8, 31), True), (date(2027, 9, 1), False), (date(2027, 1, 1), True)],
)
def test_items_are_scored_up_to_august_31(day: date, scored: bool) -> None:
    """ "对8月31日以前的积分项目进行核查评分": the last day counts, the next does not."""
    assert scored_in(day, 2027) is scored


@pytest.mark.parametrize(
    ("today", "year"),
    [(date(2026, 7, 1), 2026), (date(2026, 11, 15), 2026), (date(2026, 11, 16), 2027)],
)
def test_the_round_asked_about_is_next_years_once_this_one_is_over(today: date, year: int) -> None:
    """In July the round is this year's; after the 核定表 deadline it is next year's, so an
    item obtained last September counts for it."""
    assert scoring_year(today) == year
    assert scored_in(date(2026, 9, 2), year) is (year == 2027)
