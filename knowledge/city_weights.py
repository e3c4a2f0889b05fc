"""How a candidate's city and the conversation weigh its keyword score.

A question that names a city gets that city's entries; one that names only another city
never gets the two pages' processes; words only one city's entries use imply that city; the
conversation's city, topic and last answer break what is left. 0.0 excludes a candidate.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

NAMED_CITY_BOOST = 1.3
OTHER_CORE_PENALTY = 0.2  # names Tianjin, entry is Suzhou's (or the reverse)
IMPLIED_OTHER_PENALTY = 0.5  # uses words only Tianjin's entries use, entry is Suzhou's
CONTEXT_CITY_BOOST = 1.4
CONTEXT_OTHER_PENALTY = 0.3
UNNAMED_CITY_PENALTY = 0.5  # a 深圳 snippet for a question that does not name 深圳
TOPIC_BOOST = 1.1
RELATED_BOOST = 1.15
RELATED_PENALTY = 0.8  # a core city's related snippet yields to its core entries
GENERAL_CITY = "general"


@dataclass(frozen=True, slots=True)
class MatchContext:
    """What the conversation already established; boosts entries of that city and topic."""

    city: str | None = None
    topic: str | None = None
    entry: str | None = None  # the last entry answered: its `related` ids are likelier next


@dataclass(frozen=True, slots=True)
class Doc:
    id: str
    city: str | None  # None for out-of-scope items
    topic: str | None
    oos: bool
    cities: frozenset[str]  # cities its text names, besides its own
    core: bool = True  # False for the "related" snippets (other cities, 异地就医)


def city_factor(
    doc: Doc,
    named: frozenset[str],
    implied: frozenset[str],
    ctx: MatchContext,
    core: frozenset[str],
    related: Mapping[str, Collection[str]],
) -> float:
    """City and topic adjustment for one candidate; 0.0 excludes it."""
    if doc.oos:
        if doc.cities & (named or implied):
            return NAMED_CITY_BOOST
        # An item about one core city ("苏州的缴费金额不在页面里") is not the answer to the
        # other core city's question ("天津2026年交多少"), named or the conversation's.
        about = doc.cities & core
        asked = (named or implied) & core
        if about and asked:
            return OTHER_CORE_PENALTY
        if about and not named and ctx.city in core and ctx.city not in about:
            return CONTEXT_OTHER_PENALTY
        # An item about other cities (上海, 杭州 ...) needs one of them named.
        return UNNAMED_CITY_PENALTY if doc.cities - core else 1.0
    core_named = named & core
    other_named = named - core
    city = doc.city or GENERAL_CITY
    factor = NAMED_CITY_BOOST if doc.cities & named else 1.0  # 广州 in a 深圳 snippet
    if not doc.core and city in core:
        factor *= RELATED_PENALTY  # 天津医保 alone is about enrolment, not 异地就医
    if other_named and not core_named:
        # Another city's question: never one of the core cities' processes.
        if city not in other_named and city != GENERAL_CITY:
            return 0.0
        if city in other_named:
            factor *= NAMED_CITY_BOOST
    elif named:
        if city in named:
            factor *= NAMED_CITY_BOOST
        elif city in core:
            factor *= OTHER_CORE_PENALTY
        elif city != GENERAL_CITY:
            factor *= UNNAMED_CITY_PENALTY
    elif city in core:
        if len(implied) == 1:
            factor *= NAMED_CITY_BOOST if city in implied else IMPLIED_OTHER_PENALTY
        elif ctx.city in core:
            factor *= CONTEXT_CITY_BOOST if city == ctx.city else CONTEXT_OTHER_PENALTY
    elif city != GENERAL_CITY:
        factor *= UNNAMED_CITY_PENALTY
    if ctx.topic is not None and doc.topic == ctx.topic:
        factor *= TOPIC_BOOST
    if doc.id in related.get(ctx.entry or "", ()):
        factor *= RELATED_BOOST
    return factor


def core_city(doc: Doc, core: frozenset[str]) -> str | None:
    """The one core city a document is about: its own, or for an out-of-scope item the only
    core city its text names (苏州学生医保多少钱 -> suzhou)."""
    if doc.oos:
        about = doc.cities & core
        return next(iter(about)) if len(about) == 1 else None
    return doc.city if doc.city in core else None


def close_fits(
    ranked: list[tuple[float, int]],
    docs: list[Doc],
    core: frozenset[str],
    ratio: float,
    min_score: float,
) -> tuple[str, ...] | None:
    """The best fit of each core city when the second is within `ratio` of the first (the
    entries behind them, out-of-scope ones left out); None when one city clearly fits."""
    top: dict[str, tuple[float, int]] = {}
    for score, index in ranked:
        city = core_city(docs[index], core)
        if city is not None and city not in top:
            top[city] = (score, index)
    if len(top) < 2:
        return None
    values = sorted(top.values(), reverse=True)
    if values[1][0] < ratio * values[0][0] or values[0][0] < min_score:
        return None
    return tuple(docs[i].id for _, i in values if not docs[i].oos)
