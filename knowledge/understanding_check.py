"""Checks of the understanding vocabulary against the entries and the ui texts: every name an
entry uses is declared, every reply the vocabulary names has a text, and every aspect a page
covers has an entry of its city. Part of loading: a broken file is refused as file:line."""

from __future__ import annotations

from knowledge.errors import Problem
from knowledge.schema import Entry, Understanding


def check_understanding(
    u: Understanding,
    entries: dict[str, Entry],
    origin: dict[str, tuple[str, int]],
    ui: dict[str, str],
) -> list[Problem]:
    """Entries name declared aspects and populations; guards and acts have their replies;
    every aspect a city's entries use is answered by at least one of them."""
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
    for city, aspects in u.coverage.items():
        for aspect in aspects:
            if aspect not in u.aspects:
                problems.append(Problem("understanding", 1, f"coverage: unknown aspect {aspect!r}"))
            elif not any(e.city == city and aspect in e.aspects for e in entries.values()):
                problems.append(
                    Problem("understanding", 1, f"coverage: no {city} entry answers {aspect!r}")
                )
    for name, wider in u.widen.items():
        for pop in (name, *wider):
            if pop not in u.populations:
                problems.append(Problem("understanding", 1, f"widen: unknown population {pop!r}"))
    used = {a for e in entries.values() for a in e.aspects}
    for aspect in u.aspects:
        if aspect not in used:
            problems.append(Problem("understanding", 1, f"aspect {aspect!r}: no entry answers it"))
    if u.ability_aspect is not None and u.ability_aspect not in u.aspects:
        problems.append(
            Problem("understanding", 1, f"ability_aspect {u.ability_aspect!r} is not an aspect")
        )
    keys = [g.reply for g in u.guards] + [f"act_{a}" for a in u.acts]
    keys += ["abstain_aspect", "abstain_city_aspect", "compare_other", "ask_birth", "next_none"]
    for key in keys:
        if key not in ui:
            problems.append(Problem("understanding", 1, f"reply {key!r} has no ui text"))
    for guard in u.guards:
        for pop in guard.any_population + guard.no_population:
            if pop not in u.populations:
                problems.append(
                    Problem("understanding", 1, f"guard {guard.id!r}: unknown population {pop!r}")
                )
    return problems
