"""Turn records: what was asked and how it went, without saying who asked.

A record holds the time, a keyed hash of the chat (never the raw id), the outcome and,
for unanswered questions only, the question text with anything that looks like an ID
number, a phone number, a date or a long number masked. Everything here is pure: the
stores persist `TurnRecord` values, the engine builds them with `TurnRecord.new`.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Final

from dialogs.hygiene import scrub
from dialogs.outcomes import Outcome, outcome_of
from dialogs.types import Reply
from knowledge.normalize import fold

UNANSWERED: Final = "unanswered"
CLARIFIED: Final = "clarified"
OUT_OF_SCOPE: Final = "out_of_scope"
FLOW: Final = "flow"
MENU: Final = "menu"  # commands, menus, buttons that are neither an entry nor a flow step
ACT: Final = "act"  # conversation, not a question: 你好, 谢谢, 好的, a stray "1"
OUTCOMES: Final = frozenset({UNANSWERED, CLARIFIED, OUT_OF_SCOPE, FLOW, MENU, ACT})
"""Outcomes other than an entry id (any other outcome string is the answered entry's id).
An out-of-scope turn is recorded as `out_of_scope:<oos id>` (`split_outcome`)."""

# A message that is only a small number (ASCII, full-width or Chinese), or a masked long one.
_BARE_NUMBER = re.compile(r"^(?:[0-9]{1,5}|[零〇一二三四五六七八九十两百]{1,4}|\[NUM\])[.。、]?$")


def repeats(new: TurnRecord, existing: TurnRecord) -> bool:
    """`new` is an unanswered question `existing` already holds: a chat sending the same
    question again the same day adds nothing to the report."""
    return new.outcome == UNANSWERED == existing.outcome and new.text == existing.text


MAX_RECORD_TEXT = 200  # what a report needs to cluster a question; never the whole message

# Placeholders are ASCII markers, not prose: reports show them as they are.
ID_MARK: Final = "[ID]"
PHONE_MARK: Final = "[PHONE]"
DATE_MARK: Final = "[DATE]"
NUM_MARK: Final = "[NUM]"

EMAIL_MARK: Final = "[EMAIL]"

_ND = r"(?<![0-9])"  # not preceded by a digit
_NF = r"(?![0-9])"  # not followed by a digit
_MONTH = r"(?:1[0-2]|0?[1-9])"
_DAY = r"(?:3[01]|[12][0-9]|0?[1-9])"
# What people put between the digits of a number they type: spaces, dots, dashes of every
# width, middle dots, brackets (at most two in a row: "(138) 1234-5678").
_SEP_CHAR = r"[\s.\-\u2010-\u2015\u2212\u00b7\u30fb()\uff08\uff09\u3000]"
_SEP = _SEP_CHAR + "{0,2}"
# Not inside a longer separated number: no digit before (across up to two separators) and
# none after.
_NDS = r"(?<![0-9])(?<![0-9]" + _SEP_CHAR + r")(?<![0-9]" + _SEP_CHAR + _SEP_CHAR + ")"
_NFS = r"(?!" + _SEP + r"[0-9])"


def _digits(n: int) -> str:
    """`n` digits, any separators between them."""
    return r"[0-9](?:" + _SEP + r"[0-9]){" + str(n - 1) + "}"


_CN_DIGIT = "〇零一二三四五六七八九"
_CN_NUM = r"[〇零一二三四五六七八九十]"
# Order matters: the longest, most specific shapes first, the generic digit run last.
_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}"), EMAIL_MARK),
    # 二〇二三年五月六日 / 五月六日 (the numerals of a date in words)
    (
        re.compile(
            r"[〇零一二三四五六七八九]{2,4}\s*年\s*"
            + _CN_NUM
            + r"{1,3}\s*月(?:\s*"
            + _CN_NUM
            + r"{1,3}\s*[日号])?"
        ),
        DATE_MARK,
    ),
    (re.compile(_CN_NUM + r"{1,3}\s*月\s*" + _CN_NUM + r"{1,3}\s*[日号]"), DATE_MARK),
    # 18-character resident ID number (17 digits + digit or X), grouped in any way.
    (re.compile(_NDS + _digits(17) + _SEP + r"[0-9xX]" + r"(?![0-9a-zA-Z])"), ID_MARK),
    # Bank card: 16 to 19 digits, in groups of four or not.
    (re.compile(_NDS + _digits(16) + r"(?:" + _SEP + r"[0-9]){0,3}" + _NFS), NUM_MARK),
    # Mainland mobile number, 11 digits, written 3-4-4, 4-4-3 or any other way.
    (
        re.compile(
            _NDS + r"(?:\+?86" + _SEP + r")?\(?1" + _SEP + r"[3-9]" + _SEP + _digits(9) + _NF
        ),
        PHONE_MARK,
    ),
    # Landline with its area code: 022-2345-6789, (0512) 6523 1234.
    (
        re.compile(
            _NDS + r"\(?0[0-9]{2,3}\)?" + _SEP + _digits(7) + r"(?:" + _SEP + r"[0-9])?" + _NF
        ),
        PHONE_MARK,
    ),
    # 2026年2月10日 / 2026年2月10号 / 26年2月10日 / 2026年2月
    (
        re.compile(
            _ND + r"(?:[0-9]{4}|[0-9]{2})\s*年\s*" + _MONTH + r"\s*月(?:\s*" + _DAY + r"\s*[日号])?"
        ),
        DATE_MARK,
    ),
    # 2026-02-10 / 2026/2/10 / 2026.2.10
    (re.compile(_ND + r"[0-9]{4}[-/.]" + _MONTH + r"[-/.]" + _DAY + _NF), DATE_MARK),
    # 2月10日 / 2月10号 / 2月10
    (re.compile(_ND + _MONTH + r"\s*月\s*" + _DAY + r"(?:\s*[日号])?" + _NF), DATE_MARK),
    # 2.10 / 10/1 (month.day); not a decimal amount such as 1.5万 or 2.5元
    (re.compile(_ND + _MONTH + r"[./]" + _DAY + r"(?![0-9./%万元倍岁])"), DATE_MARK),
    # Any other run of 6+ digits (bank cards, social-security numbers, 20260210, ...), and
    # of 7+ digits with separators between them (a card or account number in groups).
    (re.compile(_ND + r"[0-9]{6,}" + _NF), NUM_MARK),
    (re.compile(_NDS + r"\(?" + _digits(7) + r"(?:" + _SEP + r"[0-9])*" + _NFS), NUM_MARK),
)
# Numerals spelled out (幺三八一二三四五六七八): a run of 7 or more is a number, not prose.
_CN_RUN = re.compile(r"[〇零一二三四五六七八九幺两洞]{7,}")
_CN_VALUE = {**{c: str(i) for i, c in enumerate(_CN_DIGIT)}, "幺": "1", "两": "2", "洞": "0"}


def normalise_text(text: str) -> str:
    """Format characters and lone surrogates dropped (`scrub`: a zero-width space inside a
    phone number must not hide it; a surrogate cannot be stored), NFKC (full-width digits
    become ASCII), every other script's digits (Arabic-Indic, Devanagari, …) and runs of
    spelled-out numerals as ASCII digits, lower case, single spaces, bounded length."""
    folded = fold(scrub(text))
    folded = "".join(
        str(unicodedata.digit(ch)) if not ch.isascii() and unicodedata.category(ch) == "Nd" else ch
        for ch in folded
    )
    folded = _CN_RUN.sub(lambda m: "".join(_CN_VALUE[c] for c in m.group()), folded)
    return " ".join(folded.split())[: MAX_RECORD_TEXT * 2]


def mask_text(text: str) -> str:
    """Replace ID numbers, phones, dates and long digit runs by placeholders.

    Pure and idempotent. Input is expected to be normalised (`normalise_text`) so that
    full-width digits are already ASCII; `redact` does both.
    """
    for pattern, mark in _MASKS:
        text = pattern.sub(mark, text)
    return text


def redact(text: str) -> str:
    """What a record keeps of an unanswered question."""
    return mask_text(normalise_text(text))[:MAX_RECORD_TEXT]


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """One turn. `outcome` is an entry id or one of `OUTCOMES`; `text` only if unanswered."""

    at: float
    chat: str
    outcome: str
    confidence: float | None = None
    text: str | None = None

    @classmethod
    def new(
        cls,
        chat: str,
        outcome: str,
        text: str | None = None,
        confidence: float | None = None,
        at: float | None = None,
    ) -> TurnRecord:
        """Build a record, keeping (masked) text for unanswered questions and nothing else."""
        kept = redact(text) if outcome == UNANSWERED and text else None
        return cls(
            at=time.time() if at is None else at,
            chat=chat,
            outcome=outcome,
            confidence=confidence,
            text=kept or None,
        )


def is_bare_number(text: str | None) -> bool:
    """True for a message that is only a number ("1", "１", "一"): a pick among choices
    that were no longer offered, not a question anyone could answer."""
    return bool(text) and bool(_BARE_NUMBER.match(normalise_text(text or "")))


def split_outcome(outcome: str) -> tuple[str, str | None]:
    """(outcome, out-of-scope topic): `out_of_scope:oos.car` → (OUT_OF_SCOPE, "oos.car");
    anything else → (outcome, None), records from before topics were kept included."""
    kind, sep, topic = outcome.partition(":")
    if sep and kind == OUT_OF_SCOPE:
        return OUT_OF_SCOPE, topic or None
    return outcome, None


def classify_turn(
    replies: Sequence[Reply],
    out_of_scope: Container[str],
    in_flow: bool,
    text: str | None = None,
) -> str:
    """The outcome of a turn, read from the replies the engine produced (and the user's
    `text`, to tell a stray number from a question).

    An unanswered reply wins (a digression nobody could answer is still unanswered) unless
    the message was a bare number, then the first entry shown (an out-of-scope one as
    `out_of_scope:<id>`), then a clarification, then a conversation act, then a flow step;
    anything else is MENU.
    """
    kinds = [outcome_of(r.state) for r in replies]
    if Outcome.UNANSWERED in kinds:
        return ACT if is_bare_number(text) else UNANSWERED
    for reply in replies:
        if reply.entry:
            return f"{OUT_OF_SCOPE}:{reply.entry}" if reply.entry in out_of_scope else reply.entry
    if Outcome.CLARIFY in kinds:
        return CLARIFIED
    if Outcome.ACT in kinds:
        return ACT
    if in_flow or any(k is not None and k is not Outcome.MENU for k in kinds):
        return FLOW
    return MENU
