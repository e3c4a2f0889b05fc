"""`yibao kb check` and `yibao kb dump`: prove the knowledge files are sound before serving.

The loader already rejects what does not fit the schema (with `file:line`). This module adds
the checks that need the whole knowledge base at once: keyword collisions, sample questions
shared by two entries, menu labels, source-section coverage (every fact-carrying heading of
both pages is cited by at least one entry) and the routing self-test (every sample question
reaches its own entry through the real matcher). Each check is a pure function returning
findings; `run_kb` is the only place that prints.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge import ui_keys
from knowledge.errors import KnowledgeError, Problem
from knowledge.lexicon import load_lexicon
from knowledge.loader import KnowledgeBase, load_kb, source_path
from knowledge.yamlfile import LineDict, LineList, read_yaml

MAX_LABEL = 20  # characters a menu button may show; longer ones wrap badly on phones


@dataclass
class Place:
    """Where an entry or out-of-scope item stands, and where each of its questions stands."""

    file: str
    line: int
    questions: dict[str, int] = field(default_factory=dict)


@dataclass
class Findings:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def locate(data_dir: Path) -> dict[str, Place]:
    """Map every entry / out-of-scope id to its file and line, and its questions to theirs
    (through the one line-aware reader, `knowledge.yamlfile`)."""
    places: dict[str, Place] = {}
    for path in sorted(data_dir.glob("*.yaml")):
        root, _ = read_yaml(path)  # the loader has already reported any problem
        if not isinstance(root, LineDict):
            continue
        for key in ("entries", "out_of_scope", "menus"):
            section = root.get(key)
            if not isinstance(section, list):
                continue
            prefix = "menu:" if key == "menus" else ""
            for item in section:
                if isinstance(item, LineDict):
                    _locate_item(item, path.name, places, prefix)
    return places


def _locate_item(item: LineDict, file: str, places: dict[str, Place], prefix: str) -> None:
    ident = item.get("id")
    if not isinstance(ident, str | int):
        return
    place = Place(file, item.line)
    questions = item.get("questions")
    if isinstance(questions, LineList):
        for question, line in zip(questions, questions.item_lines, strict=True):
            if isinstance(question, str):
                place.questions.setdefault(question.strip(), line)
    places.setdefault(prefix + str(ident), place)


def _where(places: dict[str, Place], ident: str) -> tuple[str, int]:
    place = places.get(ident)
    return (place.file, place.line) if place else ("?", 1)


def check_keywords(kb: KnowledgeBase, places: dict[str, Place]) -> Findings:
    """Same keyword in entries of different city/topic: a warning (the matcher must rely on
    the rest of the question). Two entries with exactly the same keyword set: an error, since
    nothing but the sample questions could tell them apart. An out-of-scope keyword that is also
    an entry's keyword: an error, it would turn covered questions into "not covered"."""
    found = Findings()
    owners: dict[str, list[str]] = defaultdict(list)
    by_set: dict[frozenset[str], str] = {}
    for entry in kb.entries.values():
        words = [k.strip().lower() for k in entry.keywords]
        file, line = _where(places, entry.id)
        for word in sorted({w for w in words if words.count(w) > 1}):
            msg = f"entry {entry.id!r}: keyword {word!r} listed twice"
            found.warnings.append(Problem(file, line, msg))
        for word in set(words):
            owners[word].append(entry.id)
        key = frozenset(words)
        if key in by_set:
            msg = f"entry {entry.id!r} has exactly the keywords of {by_set[key]!r}"
            found.errors.append(Problem(file, line, msg))
        else:
            by_set[key] = entry.id
    for item in kb.out_of_scope.values():
        for word in sorted({k.strip().lower() for k in item.keywords} & set(owners)):
            file, line = _where(places, item.id)
            msg = f"{item.id!r}: keyword {word!r} is also a keyword of {', '.join(owners[word])}"
            found.errors.append(Problem(file, line, msg))
    for word, ids in sorted(owners.items()):
        groups = {(kb.entries[i].city, kb.entries[i].topic) for i in ids}
        if len(groups) > 1:
            file, line = _where(places, ids[0])
            found.warnings.append(
                Problem(file, line, f"keyword {word!r} is shared by {', '.join(sorted(ids))}")
            )
    return found


def check_questions(kb: KnowledgeBase, places: dict[str, Place]) -> Findings:
    """A sample question may belong to one entry (or out-of-scope item) only."""
    found = Findings()
    first: dict[str, str] = {}
    items: list[tuple[str, list[str]]] = [(e.id, e.questions) for e in kb.entries.values()]
    items += [(o.id, o.questions) for o in kb.out_of_scope.values()]
    for ident, questions in items:
        for q in questions:
            key = q.strip()
            if key in first and first[key] != ident:
                file, line = _q_where(places, ident, key)
                msg = f"{ident!r}: sample question {key!r} also belongs to {first[key]!r}"
                found.errors.append(Problem(file, line, msg))
            first.setdefault(key, ident)
    return found


def _q_where(places: dict[str, Place], ident: str, question: str) -> tuple[str, int]:
    place = places.get(ident)
    if not place:
        return ("?", 1)
    return place.file, place.questions.get(question, place.line)


def check_references(kb: KnowledgeBase, places: dict[str, Place]) -> Findings:
    """Self-references and menu label length; the loader already checks that ids exist."""
    found = Findings()
    for entry in kb.entries.values():
        if entry.id in entry.related:
            file, line = _where(places, entry.id)
            found.errors.append(Problem(file, line, f"entry {entry.id!r} lists itself as related"))
    for menu in kb.menus.values():
        for row in menu.buttons:
            for button in row:
                if len(button.label) > MAX_LABEL:
                    file, line = _where(places, f"menu:{menu.id}")
                    msg = f"menu {menu.id!r}: label {button.label!r} exceeds {MAX_LABEL} characters"
                    found.errors.append(Problem(file, line, msg))
    return found


def check_routes(kb: KnowledgeBase) -> Findings:
    """A service-account word may trigger one action only (the engine takes the first)."""
    found = Findings()
    first: dict[str, str] = {}
    for route in kb.keywords:
        for word in route.words:
            key = word.strip().lower()
            if key in first and first[key] != route.action:
                msg = f"keyword route {word!r} goes to both {first[key]!r} and {route.action!r}"
                found.errors.append(Problem("keywords", 1, msg))
            first.setdefault(key, route.action)
    return found


def coverage(kb: KnowledgeBase) -> dict[str, dict[str, list[str]]]:
    """Source file -> section heading -> ids of the entries citing it (in page order)."""
    table: dict[str, dict[str, list[str]]] = {}
    for page in kb.sources.values():
        table[page.file] = {section: [] for section in page.sections}
    for entry in kb.entries.values():
        sections = table.setdefault(entry.source.file, {})
        sections.setdefault(entry.source.section, []).append(entry.id)
    return table


def check_coverage(kb: KnowledgeBase, places: dict[str, Place]) -> Findings:
    """Every listed section cited by an entry; every cited section listed for its page."""
    found = Findings()
    for page in kb.sources.values():
        if not page.sections:
            found.errors.append(Problem("sources", 1, f"source {page.file!r} lists no sections"))
        if not source_path(page.file).is_file():
            where = source_path(page.file).parent
            found.errors.append(Problem("sources", 1, f"source {page.file!r} is not in {where}"))
    listed = {(p.file, s) for p in kb.sources.values() for s in p.sections}
    for entry in kb.entries.values():
        if (entry.source.file, entry.source.section) not in listed:
            file, line = _where(places, entry.id)
            found.errors.append(
                Problem(
                    file,
                    line,
                    f"entry {entry.id!r}: section {entry.source.section!r} is not a section of "
                    f"{entry.source.file} listed in sources",
                )
            )
    for source_file, sections in coverage(kb).items():
        for section, ids in sections.items():
            if not ids:
                msg = f"{source_file}: section {section!r} is cited by no entry"
                found.errors.append(Problem("sources", 1, msg))
    return found


def self_test(kb: KnowledgeBase, places: dict[str, Place]) -> Findings:
    """Route every sample question, without context, through the real matcher."""
    from knowledge.matcher import MatchContext, Matcher  # jieba start-up only when asked

    found = Findings()
    matcher = Matcher(kb)
    cases: list[tuple[str, str, str]] = [
        (e.id, "answer", q) for e in kb.entries.values() for q in e.questions
    ]
    cases += [(o.id, "out_of_scope", q) for o in kb.out_of_scope.values() for q in o.questions]
    for ident, kind, question in cases:
        got = matcher.match(question, MatchContext())
        if got.kind != kind or got.entry_id != ident:
            file, line = _q_where(places, ident, question.strip())
            msg = f"self-test: {question!r} routes to {got.kind} {got.entry_id!r}, not {ident!r}"
            found.errors.append(Problem(file, line, msg))
    return found


def locate_ui(data_dir: Path) -> dict[str, tuple[str, int]]:
    """Each ui key's file and line (through the line-aware reader, like `locate`)."""
    found: dict[str, tuple[str, int]] = {}
    for path in sorted(data_dir.glob("*.yaml")):
        root, _ = read_yaml(path)
        section = root.get("ui") if isinstance(root, LineDict) else None
        if isinstance(section, LineDict):
            for key, line in section.key_lines.items():
                found.setdefault(key, (path.name, line))
    return found


def check_ui(kb: KnowledgeBase, data_dir: Path) -> Findings:
    """Every ui key the code reads is there, and every template names only the fields the
    code passes to it (`knowledge.ui_keys`): a typo is a load error, not a failing turn."""
    found = Findings()
    where = locate_ui(data_dir)
    for key, reason in ui_keys.problems(kb.ui):
        file, line = where.get(key, ("ui.yaml", 1))
        found.errors.append(Problem(file, line, f"ui {key!r}: {reason}"))
    return found


def run_checks(kb: KnowledgeBase, data_dir: Path, selftest: bool = True) -> Findings:
    places = locate(data_dir)
    parts: Iterable[Findings] = [
        check_ui(kb, data_dir),
        check_keywords(kb, places),
        check_questions(kb, places),
        check_references(kb, places),
        check_routes(kb),
        check_coverage(kb, places),
    ]
    if selftest:
        parts = [*parts, self_test(kb, places)]
    total = Findings()
    for part in parts:
        total.errors.extend(part.errors)
        total.warnings.extend(part.warnings)
    return total


def coverage_lines(kb: KnowledgeBase) -> list[str]:
    """The coverage table as text: one row per source section, then the parts left out."""
    lines: list[str] = []
    for source_file, sections in coverage(kb).items():
        page = kb.sources.get(source_file)
        lines.append(f"{source_file}  {page.title if page else ''}")
        for section, ids in sections.items():
            mark = "ok " if ids else "MISSING"
            lines.append(f"  [{mark}] {section}: {', '.join(ids) or '-'}")
        for part in page.not_facts if page else []:
            lines.append(f"  [n/a] {part}: not curated (answered as out of scope)")
    return lines


def dump(kb: KnowledgeBase) -> str:
    return json.dumps([e.model_dump() for e in kb.entries.values()], ensure_ascii=False, indent=1)


def load_all(
    data_dir: Path, lexicon_dir: Path | None
) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Load the knowledge files and the lexicon, collecting the problems of both at once
    (a curator fixing one file should see every other broken file in the same run)."""
    problems: list[Problem] = []
    kb: KnowledgeBase | None = None
    try:
        kb = load_kb(data_dir)
    except KnowledgeError as exc:
        problems.extend(exc.problems)
    try:
        lexicon = load_lexicon(lexicon_dir)
    except KnowledgeError as exc:
        problems.extend(exc.problems)
        return kb, problems
    if kb is not None:
        known = {*lexicon.city_names.values(), *lexicon.core_cities, "general"}
        for entry in kb.entries.values():
            if entry.city not in known:
                file, line = kb.origin[entry.id]
                problems.append(
                    Problem(
                        file, line, f"entry {entry.id!r}: city {entry.city!r} is not in cities.yaml"
                    )
                )
    return kb, problems
