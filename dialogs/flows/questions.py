"""A flow's texts (validated from `flow_text` in the knowledge files) and how a typed reply
is matched to one of a question's options: its label, a number, a phrasing, 是/否…"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dialogs.slots import Choice, SlotSpec, normalize, spot
from knowledge.loader import KnowledgeBase

GenericAnswer = Literal["yes", "no", "unsure", "next", "skip", "resume", "stop", "back", "again"]
GENERIC_ORDER: tuple[GenericAnswer, ...] = ("unsure", "skip", "next", "no", "yes")
_NUMBER = re.compile(r"^(?:第|选)?\s*([1-9])\s*(?:个|项|种|号)?$")


# ------------------------------------------------------------------ texts (validated)
class _Text(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OptionText(_Text):
    value: str = Field(pattern=r"^[a-z0-9]+$", max_length=20)
    label: str = Field(min_length=1, max_length=40)
    answers: list[GenericAnswer] = Field(default_factory=list)
    words: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    typed: list[str] = Field(default_factory=list)
    said: str | None = None  # how the acknowledgement names this answer (default: label)


class QuestionText(_Text):
    ask: str = Field(min_length=1)
    columns: int = Field(default=1, ge=1, le=4)
    options: list[OptionText] = Field(min_length=1)


class CommonText(_Text):
    words: dict[GenericAnswer, list[str]]
    ack: str
    ack_sep: str
    bad_date: str
    back_at_start: str
    again_label: str
    menu_label: str
    back_label: str
    not_an_answer: str


class FlowText(BaseModel):
    """One flow's section of `flow_text`; flow-specific extras are kept as they are."""

    model_config = ConfigDict(extra="allow", frozen=True)

    title: str
    intro: str
    context_words: list[str] = Field(min_length=1)
    # The city's own names: "那苏州这边呢" inside its check asks nothing new.
    city_words: list[str] = Field(default_factory=list)
    other_cities: list[str] = Field(default_factory=list)
    questions: dict[str, QuestionText]
    text: dict[str, str]

    def extra(self, key: str) -> Any:
        return (self.model_extra or {})[key]


# ------------------------------------------------------------------ questions
@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str
    said: str
    answers: frozenset[str]
    typed: frozenset[str]
    choice: Choice


@dataclass(frozen=True, slots=True)
class Question:
    state: str
    ask: str
    columns: int
    options: tuple[Option, ...]

    @property
    def slot(self) -> str:
        return self.state

    @property
    def spec(self) -> SlotSpec:
        return SlotSpec(self.state, tuple(o.choice for o in self.options))

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)


_LIST_REF = re.compile(r"<<(\w+)>>")


def build_question(
    state: str, text: QuestionText, lists: Mapping[str, list[str]] | None = None
) -> Question:
    """A question of the flow; `<<name>>` in an option's pattern stands for the flow's own
    word list `name` ("社保在<<places_outside>>交": the counties listed once, in the data)."""
    known = lists or {}

    def words(m: re.Match[str]) -> str:
        if m.group(1) not in known:
            raise ValueError(f"question {state}: pattern names no word list {m.group(1)!r}")
        return "|".join(map(re.escape, known[m.group(1)]))

    def compiled(pattern: str) -> re.Pattern[str]:
        return re.compile(_LIST_REF.sub(words, pattern))

    options = tuple(
        Option(
            value=o.value,
            label=o.label,
            said=o.said or o.label,
            answers=frozenset(o.answers),
            typed=frozenset(normalize(t) for t in o.typed),
            choice=Choice(o.value, tuple(o.words), tuple(compiled(p) for p in o.patterns)),
        )
        for o in text.options
    )
    return Question(state=state, ask=text.ask, columns=text.columns, options=options)


def generic_words(common: CommonText) -> dict[str, frozenset[str]]:
    """The generic replies (是、没有、跳过…) by kind, normalised once."""
    return {kind: frozenset(normalize(w) for w in words) for kind, words in common.words.items()}


def bare_reply(text: str, generic: Mapping[str, frozenset[str]], asked: bool = True) -> bool:
    """ "有" typed while a date is asked: a bare yes or no that steers nothing (not 好/继续),
    said to a question that does not take it - the question again, never an answer
    picked for it from the knowledge base."""
    norm = normalize(text)
    steering = ("next", "resume", "stop", "back", "again", "skip")
    if not asked or any(norm in generic.get(kind, frozenset()) for kind in steering):
        return False
    return any(norm in generic.get(kind, frozenset()) for kind in ("yes", "no"))


def names_only(text: str, words: list[str]) -> bool:
    """ "那苏州这边呢" inside the Suzhou check: nothing but the flow's own city (or word) -
    the question it is on is the answer, not a search of the knowledge base."""
    return _FILLERS.sub("", normalize(text)) in {normalize(w) for w in words}


# Said around a bare name ("那苏州这边呢", "苏州的呢"): asks nothing more.
_FILLERS = re.compile("那么|这边|那边|这里|那里|方面|的话|那|呢|的|吗|[?？]")


def pick(q: Question, text: str, generic: Mapping[str, frozenset[str]]) -> str | None:
    """Match a typed reply to one option: label, number, phrasing, 是/否…, part of a label."""
    norm = normalize(text)
    if not norm:
        return None
    for o in q.options:
        if norm == normalize(o.label) or norm in o.typed:
            return o.value
    number = _NUMBER.match(norm)
    if number:
        index = int(number.group(1)) - 1
        return q.options[index].value if index < len(q.options) else None
    value = spot(text, q.spec)
    if value is not None:
        return value
    for kind in GENERIC_ORDER:
        if norm in generic.get(kind, frozenset()):
            matches = [o.value for o in q.options if kind in o.answers]
            if len(matches) == 1:
                return matches[0]
    if len(norm) >= 2:
        partial = [o.value for o in q.options if norm in normalize(o.label)]
        if len(partial) == 1:
            return partial[0]
    return None


def flow_texts(kb: KnowledgeBase, name: str) -> tuple[FlowText, CommonText]:
    """Validate the `flow_text` sections a flow needs; a bad file fails at start-up."""
    return FlowText.model_validate(kb.flow_text[name]), CommonText.model_validate(
        kb.flow_text["common"]
    )
