"""Pure parts of the stores: masking, turn outcomes, settings and store URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.stores.records import (
    ACT,
    CLARIFIED,
    FLOW,
    MAX_RECORD_TEXT,
    MENU,
    OUT_OF_SCOPE,
    UNANSWERED,
    TurnRecord,
    classify_turn,
    mask_text,
    redact,
    split_outcome,
)
from dialogs.stores.settings import DAY, StoreSettings, default_store_url
from dialogs.stores.sqlite import path_from_url
from dialogs.types import Reply


# ---------------------------------------------------------------------- masking
@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("我电话13812345678", "我电话[PHONE]"),
        ("电话 138 1234 5678 谢谢", "电话 [PHONE] 谢谢"),
        ("138-1234-5678", "[PHONE]"),
        ("+8613812345678", "[PHONE]"),
        ("身份证12010120260210123X", "身份证[ID]"),
        ("身份证12010120260210123x办理", "身份证[ID]办理"),
        ("身份证120101202602101234", "身份证[ID]"),
        ("孩子2026年2月10日出生", "孩子[DATE]出生"),
        ("孩子2026年2月10号出生", "孩子[DATE]出生"),
        ("26年2月10日", "[DATE]"),
        ("2026年2月出生的", "[DATE]出生的"),
        ("2026-02-10出生", "[DATE]出生"),
        ("2026/2/10", "[DATE]"),
        ("2026.2.10", "[DATE]"),
        ("2月10日出生", "[DATE]出生"),
        ("10月1号", "[DATE]"),
        ("生日是2.10", "生日是[DATE]"),
        ("生日10/1", "生日[DATE]"),
        ("卡号6222021234567890123", "卡号[NUM]"),
        ("20260210", "[NUM]"),
        ("社保号123456", "社保号[NUM]"),
    ],
)
def test_mask_text_masks_personal_numbers(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "新生儿90天内参保",
        "个人缴费100元",
        "2025年的缴费标准",
        "6月可以申请吗",
        "两孩 三孩及以上",
        "补贴1.5万",
        "费用2.5元",
        "12345",  # five digits: not long enough to identify anyone
    ],
)
def test_mask_text_keeps_what_a_report_needs(text: str) -> None:
    # Known trade-off: a bare "3.5" reads as a date (March 5) and is masked.
    assert mask_text(text) == text


def test_redact_normalises_full_width_digits_and_spaces() -> None:
    assert redact("  电话１３８１２３４５６７８\n怎么  办 ") == "电话[PHONE] 怎么 办"


def test_redact_bounds_the_length() -> None:
    assert len(redact("问" * 5000)) == MAX_RECORD_TEXT


@given(st.text(alphabet="0123456789年月日号-/. 孩子电话xX", max_size=60))
def test_mask_text_is_idempotent_and_leaves_no_long_digit_run(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once
    run = 0
    for ch in once:
        run = run + 1 if ch.isdigit() else 0
        assert run < 6


# ---------------------------------------------------------------------- outcomes
def test_turn_record_keeps_text_only_for_unanswered() -> None:
    asked = "孩子2026年2月10日出生怎么办"
    assert TurnRecord.new("h", UNANSWERED, asked, at=1.0).text == "孩子[DATE]出生怎么办"
    assert TurnRecord.new("h", "tj_newborn", asked, at=1.0).text is None
    assert TurnRecord.new("h", UNANSWERED, None, at=1.0).text is None
    assert TurnRecord.new("h", UNANSWERED, "   ", at=1.0).text is None


@pytest.mark.parametrize(
    ("replies", "in_flow", "outcome"),
    [
        ([Reply(text="a", entry="tj_newborn")], False, "tj_newborn"),
        ([Reply(text="a", entry="oos_car")], False, f"{OUT_OF_SCOPE}:oos_car"),
        ([Reply(text="hi", state="act")], False, ACT),
        ([Reply(text="?", state="clarify")], False, CLARIFIED),
        ([Reply(text="x", state="unanswered")], False, UNANSWERED),
        ([Reply(text="e", entry="tj_a"), Reply(text="x", state="unanswered")], True, UNANSWERED),
        ([Reply(text="q", state="flow:tianjin:hukou")], False, FLOW),
        ([Reply(text="q")], True, FLOW),
        ([Reply(text="m", state="menu:main")], False, MENU),
        ([], False, MENU),
    ],
)
def test_classify_turn(replies: list[Reply], in_flow: bool, outcome: str) -> None:
    assert classify_turn(replies, {"oos_car"}, in_flow) == outcome


@pytest.mark.parametrize("text", ["1", "１", "一", " 3 ", "12", "2。"])
def test_a_bare_number_nobody_could_answer_is_an_act(text: str) -> None:
    unanswered = [Reply(text="x", state="unanswered")]
    assert classify_turn(unanswered, set(), False, text) == ACT
    assert classify_turn(unanswered, set(), False, "1岁孩子怎么交") == UNANSWERED


def test_out_of_scope_outcomes_name_their_topic() -> None:
    assert split_outcome("out_of_scope:oos.car") == (OUT_OF_SCOPE, "oos.car")
    assert split_outcome(OUT_OF_SCOPE) == (OUT_OF_SCOPE, None)
    assert split_outcome("tj.cost") == ("tj.cost", None)


# ---------------------------------------------------------------------- settings
def test_settings_from_env() -> None:
    s = StoreSettings.from_env(
        {
            "YIBAO_SESSION_TTL_DAYS": "7",
            "YIBAO_RECORD_RETENTION_DAYS": "0.5",
            "YIBAO_HASH_SALT": "pepper",
        }
    )
    assert (s.session_ttl, s.record_retention, s.hash_salt) == (7 * DAY, 0.5 * DAY, "pepper")
    default = StoreSettings.from_env({})
    assert (default.session_ttl, default.record_retention) == (30 * DAY, 90 * DAY)
    with pytest.raises(ValueError, match="YIBAO_SESSION_TTL_DAYS"):
        StoreSettings.from_env({"YIBAO_SESSION_TTL_DAYS": "-1"})


def test_default_store_url() -> None:
    assert default_store_url(environ={"YIBAO_STORE": "redis://h:1/0"}) == "redis://h:1/0"
    assert default_store_url(persistent=False, environ={}) == "memory://"
    url = default_store_url(environ={})
    assert url.startswith("sqlite:///") and url.endswith("/yibao/state.db")
    assert Path(path_from_url(url)).is_absolute()


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///abs/path.db", "/abs/path.db"),
        ("sqlite:////abs/path.db", "/abs/path.db"),
        ("sqlite://state.db", "state.db"),
        ("sqlite:///./state.db", "state.db"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_path_from_url(url: str, path: str) -> None:
    assert path_from_url(url) == path


def test_sqlite_url_without_path_is_rejected() -> None:
    with pytest.raises(ValueError):
        path_from_url("sqlite://")
