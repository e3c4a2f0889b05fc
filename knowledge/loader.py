"""Load and validate the knowledge files, reporting every problem as `file:line: reason`.

All YAML under the data directory is merged by top-level section:
`entries`, `out_of_scope`, `keywords`, `ui`, `flow_text`, `sources`. A curator can split
or move entries between files freely; ids must stay unique across all of them.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from knowledge.errors import KnowledgeError, Problem
from knowledge.schema import Entry, KeywordRoute, Menu, OutOfScope, SourcePage, Understanding

DATA_DIR = Path(__file__).resolve().parent / "data"
# The source pages the entries are curated from, shipped with the package; an entry's
# `source.file` is a file name in this folder.
SOURCES_DIR = Path(__file__).resolve().parent / "sources"
SECTIONS = (
    "entries",
    "out_of_scope",
    "keywords",
    "menus",
    "ui",
    "flow_text",
    "sources",
    "understanding",
)

M = TypeVar("M", bound=BaseModel)


class LineDict(dict[str, Any]):
    """A YAML mapping that remembers where it and each of its keys stood."""

    line: int = 0
    key_lines: dict[str, int]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records line numbers and refuses duplicate keys."""

    problems: list[Problem]
    filename: str


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            loader.problems.append(
                Problem(loader.filename, key_node.start_mark.line + 1, f"duplicate key {key!r}")
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)

# libyaml's parser, when installed, parses about 7x faster and the KB is read at every
# start; a file it rejects is parsed again by pyyaml so the message is pyyaml's own.
_LOADERS: list[Any] = [_LineLoader]
if hasattr(yaml, "CSafeLoader"):

    class _FastLineLoader(yaml.CSafeLoader):
        problems: list[Problem]
        filename: str

    _FastLineLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
    )
    _LOADERS.insert(0, _FastLineLoader)


def source_path(file: str) -> Path:
    """Where the source page named by an entry's `source.file` lives (`SOURCES_DIR`)."""
    return SOURCES_DIR / file


def read_yaml(path: Path, display: str | None = None) -> tuple[Any, list[Problem]]:
    """Parse one YAML file; syntax errors become problems, never exceptions."""
    name = display or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(name, 1, f"not UTF-8 text ({exc.reason})")]
    error: yaml.YAMLError | None = None
    for loader_class in _LOADERS:
        loader = loader_class(text)
        loader.problems = []
        loader.filename = name
        try:
            return loader.get_single_data(), loader.problems
        except yaml.YAMLError as exc:
            error = exc
        finally:
            loader.dispose()
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        return None, [Problem(name, line, f"YAML syntax error: {error.problem or error.context}")]
    return None, [Problem(name, 1, f"YAML error: {error}")]


def line_of(item: Any, loc: tuple[int | str, ...] = ()) -> int:
    """Best line for a validation error at `loc` inside `item`."""
    line = getattr(item, "line", 1) or 1
    node = item
    for part in loc:
        if isinstance(node, LineDict) and isinstance(part, str) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            line = getattr(node, "line", line)
        else:
            break
    return line


def validate_items(
    model: type[M], items: Any, file: str, section: str
) -> tuple[list[M], list[Problem]]:
    """Validate a list section item by item, so one bad entry does not hide the others."""
    out: list[M] = []
    problems: list[Problem] = []
    if not isinstance(items, list):
        return out, [Problem(file, 1, f"section {section!r} must be a list")]
    for item in items:
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                where = ".".join(str(p) for p in loc) or section
                ident = item.get("id") if isinstance(item, dict) else None
                prefix = f"{section} {ident!r}" if ident else section
                problems.append(
                    Problem(file, line_of(item, loc), f"{prefix}: {where}: {err['msg']}")
                )
    return out, problems


@dataclass
class KnowledgeBase:
    """The validated knowledge, ready for the matcher and the engine. Immutable in use."""

    entries: dict[str, Entry]
    out_of_scope: dict[str, OutOfScope]
    keywords: list[KeywordRoute]
    menus: dict[str, Menu]
    ui: dict[str, str]
    flow_text: dict[str, Any]
    sources: dict[str, SourcePage]
    version: str
    origin: dict[str, tuple[str, int]] = field(default_factory=dict)
    understanding: Understanding | None = None
    # (file, line, where, action) of every keyword and menu action: actions on flows are
    # checked by whoever builds the flows (bot.ops.reloader.checked_flows), with these places.
    actions: list[tuple[str, int, str, str]] = field(default_factory=list)

    def command_words(self, command: str) -> frozenset[str]:
        """The words (lower case) that trigger `command:<command>` keyword routes."""
        return frozenset(
            w.lower() for r in self.keywords if r.action == f"command:{command}" for w in r.words
        )

    def text(self, key: str, **fmt: object) -> str:
        """A UI message by key; a missing key is a programming error caught by the tests."""
        template = self.ui[key]
        return template.format(**fmt) if fmt else template

    def for_channel(self, channel: str) -> KnowledgeBase:
        """This knowledge worded for one channel: a ui key `<channel>.<key>` replaces `key`,
        and `<channel>.flow_text.<path>` replaces that flow text (dots between the keys).

        So a channel without Telegram's buttons and commands (WeChat) says "回复“跳过”"
        where Telegram says "点“跳过”", while the engine, which knows no channel, reads the
        same keys. Keys of other channels are left as they are (nobody reads them)."""
        prefix = f"{channel}."
        ui = {k: v for k, v in self.ui.items()}
        flow_text = copy.deepcopy(self.flow_text)
        for key, value in self.ui.items():
            if not key.startswith(prefix):
                continue
            name = key[len(prefix) :]
            if name.startswith("flow_text."):
                *path, leaf = name.split(".")[1:]
                node = flow_text
                for part in path:
                    node = node[part]
                if leaf not in node:
                    raise KeyError(f"ui {key!r}: no flow text {name!r} to replace")
                node[leaf] = value
            else:
                if name not in ui:
                    raise KeyError(f"ui {key!r}: no ui text {name!r} to replace")
                ui[name] = value
        return dataclasses.replace(self, ui=ui, flow_text=flow_text)


def load_kb(data_dir: Path | None = None) -> KnowledgeBase:
    """Load every YAML file under `data_dir`; raise KnowledgeError listing all problems."""
    root = data_dir or DATA_DIR
    problems: list[Problem] = []
    merged: dict[str, list[tuple[str, Any]]] = {s: [] for s in SECTIONS}
    digest = hashlib.sha256()
    files = sorted(root.glob("*.yaml"))
    if not files:
        raise KnowledgeError([Problem(str(root), 0, "no knowledge files (*.yaml) found")])
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
        data, found = read_yaml(path)
        problems.extend(found)
        if data is None:
            if not found:
                problems.append(Problem(path.name, 1, "file is empty"))
            continue
        if not isinstance(data, dict):
            problems.append(Problem(path.name, 1, "top level must be a mapping of sections"))
            continue
        for key, value in data.items():
            if key not in SECTIONS:
                line = data.key_lines.get(key, 1) if isinstance(data, LineDict) else 1
                problems.append(
                    Problem(
                        path.name,
                        line,
                        f"unknown section {key!r} (expected one of {', '.join(SECTIONS)})",
                    )
                )
                continue
            merged[key].append((path.name, value))

    origin: dict[str, tuple[str, int]] = {}
    entries = _unique(Entry, merged["entries"], "entries", origin, problems)
    oos = _unique(OutOfScope, merged["out_of_scope"], "out_of_scope", origin, problems)
    menu_origin: dict[str, tuple[str, int]] = {}
    menus = _unique(Menu, merged["menus"], "menus", menu_origin, problems)
    sources = _unique(SourcePage, merged["sources"], "sources", {}, problems, key="file")
    keyword_items = _located(KeywordRoute, merged["keywords"], "keywords", problems)
    keywords = [route for route, _ in keyword_items]

    ui: dict[str, str] = {}
    flow_text: dict[str, Any] = {}
    for section, target in (("ui", ui), ("flow_text", flow_text)):
        for file, mapping in merged[section]:
            if not isinstance(mapping, dict):
                problems.append(Problem(file, 1, f"section {section!r} must be a mapping"))
                continue
            for key, value in mapping.items():
                line = mapping.key_lines.get(key, 1) if isinstance(mapping, LineDict) else 1
                if key in target:
                    problems.append(Problem(file, line, f"{section}: duplicate key {key!r}"))
                if section == "ui" and not isinstance(value, str):
                    problems.append(Problem(file, line, f"ui: {key!r} must be a string"))
                    continue
                target[key] = value

    understanding: Understanding | None = None
    for file, mapping in merged["understanding"]:
        if understanding is not None:
            problems.append(Problem(file, 1, "section 'understanding' is defined twice"))
            continue
        valid_u, found = validate_items(Understanding, [mapping], file, "understanding")
        problems.extend(found)
        understanding = valid_u[0] if valid_u else None
    if understanding is not None:
        problems.extend(_check_understanding(understanding, entries, origin, ui))

    # Cross-references: related ids, offers, keyword actions, source files.
    for entry in entries.values():
        file, line = origin[entry.id]
        for rel in entry.related:
            if rel not in entries:
                problems.append(
                    Problem(file, line, f"entry {entry.id!r}: related id {rel!r} does not exist")
                )
        if sources and entry.source.file not in sources:
            problems.append(
                Problem(
                    file, line, f"entry {entry.id!r}: unknown source file {entry.source.file!r}"
                )
            )
    for item in oos.values():
        for ref in item.offer:
            if ref not in entries:
                problems.append(
                    Problem("out_of_scope", 1, f"{item.id!r}: offer {ref!r} does not exist")
                )
    actions = [(place, f"keyword route {r.words[:1]}", r.action) for r, place in keyword_items]
    actions += [
        (menu_origin[m.id], f"menu {m.id!r}", b.action)
        for m in menus.values()
        for row in m.buttons
        for b in row
    ]
    places = [(file, line, where, action) for (file, line), where, action in actions]
    for (file, line), where, action in actions:
        kind, _, target_id = action.partition(":")
        if (kind == "entry" and target_id not in entries) or (
            kind == "menu" and target_id not in menus
        ):
            problems.append(Problem(file, line, f"{where}: action {action!r}: no such {kind}"))

    if problems:
        raise KnowledgeError(problems)
    return KnowledgeBase(
        entries=entries,
        out_of_scope=oos,
        keywords=keywords,
        menus=menus,
        ui=ui,
        flow_text=flow_text,
        sources=sources,
        version=digest.hexdigest()[:12],
        origin=origin,
        understanding=understanding,
        actions=places,
    )


def _check_understanding(
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


def _located(
    model: type[M], chunks: list[tuple[str, Any]], section: str, problems: list[Problem]
) -> list[tuple[M, tuple[str, int]]]:
    """Every valid item of a list section with its (file, line); invalid ones as problems."""
    out: list[tuple[M, tuple[str, int]]] = []
    for file, items in chunks:
        valid, found = validate_items(model, items, file, section)
        problems.extend(found)
        raws = [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
        good = iter(valid)
        for raw in raws:
            try:
                model.model_validate(raw)
            except ValidationError:
                continue
            out.append((next(good), (file, line_of(raw))))
    return out


def _unique(
    model: type[M],
    chunks: list[tuple[str, Any]],
    section: str,
    origin: dict[str, tuple[str, int]],
    problems: list[Problem],
    key: str = "id",
) -> dict[str, M]:
    """A list section keyed by `key`; a second item with a key already seen (in this section
    or, through `origin`, in another) is a problem at its own line naming the first."""
    out: dict[str, M] = {}
    for item, (file, line) in _located(model, chunks, section, problems):
        ident = str(getattr(item, key))
        if ident in origin or ident in out:
            first = origin.get(ident)
            at = f" (first at {first[0]}:{first[1]})" if first else ""
            problems.append(Problem(file, line, f"{section}: duplicate {key} {ident!r}{at}"))
            continue
        out[ident] = item
        origin[ident] = (file, line)
    return out
