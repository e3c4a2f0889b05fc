"""Checks of the understanding vocabulary against the entries and the ui texts: every name an
entry uses is declared, every reply the vocabulary names has a text, and every aspect a page
covers has an entry of its city. Part of loading: a broken file is refused as file:line."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from knowledge.errors import Problem
from knowledge.schema import Entry, Understanding


def check_understanding(
    u: Understanding,
    entries: dict[str, Entry],
    origin: dict[str, tuple[str, int]],
    ui: dict[str, str],
    places: Mapping[str, tuple[str, int]] | None = None,
) -> list[Problem]:
    """Entries name declared aspects and populations; guards and acts have their replies;
    every aspect a city's entries use is answered by at least one of them. `places`: the
    file and line of each key of the understanding section, where its problems are shown."""
    problems: list[Problem] = []
    for entry in entries.values():
        file, line = origin[entry.id]
        for aspect in entry.aspects:
            if aspect not in u.aspects:
                problems.append(
                    Problem(file, line, f"entry {entry.id!r}: unknown aspect {aspect!r}")
                )
        for pop in entry.population:
            if pop != "all" and pop not in u.populations:
                problems.append(
                    Problem(file, line, f"entry {entry.id!r}: unknown population {pop!r}")
                )
        for aspect in entry.verdicts:
            if aspect not in entry.aspects:
                problems.append(
                    Problem(file, line, f"entry {entry.id!r}: verdict {aspect!r} is not its aspect")
                )
        if entry.next is not None and entry.next not in entries:
            problems.append(
                Problem(file, line, f"entry {entry.id!r}: next {entry.next!r} does not exist")
            )
    known = places or {}

    def at(key: str) -> tuple[str, int]:
        return known.get(key, ("understanding", 1))

    return problems + _vocabulary_problems(u, entries, ui, at)


def _aspect_problems(
    u: Understanding, entries: dict[str, Entry], at: Callable[[str], tuple[str, int]]
) -> list[Problem]:
    """Aspects name declared aspects (absorbs, instead, care, ability); each is answered by
    some entry unless silent or asked of the answer before (`of_answer`), and a silent one
    by none - nor one of a city it is `silent_in`."""
    problems: list[Problem] = []
    for name, spec in u.aspects.items():
        for other in spec.absorbs:
            if other not in u.aspects:
                problems.append(Problem(*at("aspects"), f"{name}: absorbs unknown {other!r}"))
        if spec.instead is not None and spec.instead not in u.aspects:
            problems.append(Problem(*at("aspects"), f"{name}: instead unknown {spec.instead!r}"))
        for city, near in spec.near.items():
            if near not in entries or entries[near].city != city:
                problems.append(
                    Problem(*at("aspects"), f"{name}: near {near!r} is no {city} entry")
                )
    used = {a for e in entries.values() for a in e.aspects}
    for aspect, spec in u.aspects.items():
        if aspect not in used and not spec.silent and not spec.of_answer:
            problems.append(Problem(*at("aspects"), f"aspect {aspect!r}: no entry answers it"))
        if aspect in used and spec.silent:
            problems.append(Problem(*at("aspects"), f"aspect {aspect!r}: silent, yet answered"))
        for city in spec.silent_in:
            if any(e.city == city and aspect in e.aspects for e in entries.values()):
                problems.append(
                    Problem(*at("aspects"), f"aspect {aspect!r}: silent in {city}, yet answered")
                )
    for aspect in u.population_bound:
        if aspect not in u.aspects:
            problems.append(Problem(*at("population_bound"), f"unknown aspect {aspect!r}"))
    if u.care_words and u.away_care_aspect not in u.aspects:
        problems.append(
            Problem(*at("care_words"), f"away_care_aspect {u.away_care_aspect!r} is not an aspect")
        )
    if u.ability_aspect is not None and u.ability_aspect not in u.aspects:
        problems.append(
            Problem(*at("ability_aspect"), f"ability_aspect {u.ability_aspect!r} is not an aspect")
        )
    return problems


def _vocabulary_problems(
    u: Understanding,
    entries: dict[str, Entry],
    ui: dict[str, str],
    at: Callable[[str], tuple[str, int]],
) -> list[Problem]:
    """Coverage, widening, guards and acts name what is declared, and have their replies."""
    problems: list[Problem] = []
    for city, aspects in u.coverage.items():
        for aspect in aspects:
            if aspect not in u.aspects:
                problems.append(Problem(*at("coverage"), f"coverage: unknown aspect {aspect!r}"))
            elif not any(e.city == city and aspect in e.aspects for e in entries.values()):
                problems.append(
                    Problem(*at("coverage"), f"coverage: no {city} entry answers {aspect!r}")
                )
    for name, wider in u.widen.items():
        for pop in (name, *wider):
            if pop not in u.populations:
                problems.append(Problem(*at("widen"), f"widen: unknown population {pop!r}"))
    for word, pop in u.implied_populations.items():
        if pop not in u.populations:
            problems.append(
                Problem(*at("implied_populations"), f"{word}: unknown population {pop!r}")
            )
    problems += _aspect_problems(u, entries, at)
    for word, key in u.implied_notes.items():
        if word not in u.implied_populations:
            problems.append(Problem(*at("implied_notes"), f"{word}: implies no population"))
        if key not in ui:
            problems.append(Problem(*at("implied_notes"), f"{word}: no ui text {key!r}"))
    for pop in u.stated_only:
        if pop not in u.populations:
            problems.append(Problem(*at("stated_only"), f"stated_only: unknown population {pop!r}"))
    keys = [g.reply for g in u.guards] + [f"act_{a}" for a in u.acts]
    keys += [
        "abstain_aspect",
        "abstain_city_aspect",
        "compare_other",
        "compare_uncovered",
        "abstain_unfit",
        "ask_birth",
        "next_none",
        "previous_none",
    ]
    for key in keys:
        if key not in ui:
            problems.append(Problem(*at("guards"), f"reply {key!r} has no ui text"))
    for guard in u.guards:
        for pop in guard.any_population + guard.no_population:
            if pop not in u.populations:
                problems.append(
                    Problem(*at("guards"), f"guard {guard.id!r}: unknown population {pop!r}")
                )
    return problems
