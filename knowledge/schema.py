"""Pydantic schemas of the knowledge files. A file that does not fit is rejected at load."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

City = Literal["tianjin", "suzhou", "shenzhen", "beijing", "dalian", "general"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class SourceRef(_Strict):
    """Where a fact comes from: the page's file name and the section heading in it."""

    file: str = Field(min_length=1)
    section: str = Field(min_length=1)


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


class KeywordRoute(_Strict):
    """A service-account style keyword: the whole message equals one of `words`.

    `action` is `entry:<id>`, `menu:<name>`, `flow:<name>`, or `command:<cancel|back|quit|help>`
    (words that steer the conversation itself, recognised before anything else).
    """

    words: list[str] = Field(min_length=1)
    action: str = Field(
        pattern=r"^(entry|menu|flow):[a-z0-9._-]+$|^command:(cancel|back|quit|help)$"
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
