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

from pydantic import BaseModel, ValidationError

from knowledge.errors import KnowledgeError, Problem
from knowledge.schema import Entry, KeywordRoute, Menu, OutOfScope, SourcePage, Understanding
from knowledge.understanding_check import check_understanding
from knowledge.yamlfile import LineDict, line_of, read_yaml

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


def source_path(file: str) -> Path:
    """Where the source page named by an entry's `source.file` lives (`SOURCES_DIR`)."""
    return SOURCES_DIR / file


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
    # checked by whoever builds the flows (dialogs.kb_check.flows_of), with these places.
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
    merged, version = _read_sections(root, problems)
    origin: dict[str, tuple[str, int]] = {}
    entries = _unique(Entry, merged["entries"], "entries", origin, problems)
    oos = _unique(OutOfScope, merged["out_of_scope"], "out_of_scope", origin, problems)
    menu_origin: dict[str, tuple[str, int]] = {}
    menus = _unique(Menu, merged["menus"], "menus", menu_origin, problems)
    sources = _unique(SourcePage, merged["sources"], "sources", {}, problems, key="file")
    keyword_items = _located(KeywordRoute, merged["keywords"], "keywords", problems)
    ui = _mapping(merged["ui"], "ui", problems, strings=True)
    flow_text = _mapping(merged["flow_text"], "flow_text", problems, strings=False)
    understanding, places = _understanding(merged["understanding"], problems)
    if understanding is not None:
        problems.extend(check_understanding(understanding, entries, origin, ui, places))
    problems.extend(_references(entries, oos, origin, sources))
    actions = [(place, f"keyword route {r.words[:1]}", r.action) for r, place in keyword_items]
    actions += [
        (menu_origin[m.id], f"menu {m.id!r}", b.action)
        for m in menus.values()
        for row in m.buttons
        for b in row
    ]
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
        keywords=[route for route, _ in keyword_items],
        menus=menus,
        ui=ui,
        flow_text=flow_text,
        sources=sources,
        version=version,
        origin=origin,
        understanding=understanding,
        actions=[(file, line, where, action) for (file, line), where, action in actions],
    )


def _read_sections(
    root: Path, problems: list[Problem]
) -> tuple[dict[str, list[tuple[str, Any]]], str]:
    """Every file's sections, by section name in file order, and the content version."""
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
            if key in SECTIONS:
                merged[key].append((path.name, value))
                continue
            line = data.key_lines.get(key, 1) if isinstance(data, LineDict) else 1
            expected = ", ".join(SECTIONS)
            problems.append(
                Problem(path.name, line, f"unknown section {key!r} (expected one of {expected})")
            )
    return merged, digest.hexdigest()[:12]


def _mapping(
    chunks: list[tuple[str, Any]], section: str, problems: list[Problem], strings: bool
) -> dict[str, Any]:
    """A mapping section merged over the files; a key defined twice is a problem."""
    target: dict[str, Any] = {}
    for file, mapping in chunks:
        if not isinstance(mapping, dict):
            problems.append(Problem(file, 1, f"section {section!r} must be a mapping"))
            continue
        for key, value in mapping.items():
            line = mapping.key_lines.get(key, 1) if isinstance(mapping, LineDict) else 1
            if key in target:
                problems.append(Problem(file, line, f"{section}: duplicate key {key!r}"))
            if strings and not isinstance(value, str):
                problems.append(Problem(file, line, f"{section}: {key!r} must be a string"))
                continue
            target[key] = value
    return target


def _understanding(
    chunks: list[tuple[str, Any]], problems: list[Problem]
) -> tuple[Understanding | None, dict[str, tuple[str, int]]]:
    """The vocabulary, and the file and line of each of its keys (for later problems)."""
    understanding: Understanding | None = None
    places: dict[str, tuple[str, int]] = {}
    for file, mapping in chunks:
        if understanding is not None:
            problems.append(Problem(file, 1, "section 'understanding' is defined twice"))
            continue
        valid, found = validate_items(Understanding, [mapping], file, "understanding")
        problems.extend(found)
        understanding = valid[0] if valid else None
        if isinstance(mapping, LineDict):
            places = {key: (file, line) for key, line in mapping.key_lines.items()}
    return understanding, places


def _references(
    entries: dict[str, Entry],
    oos: dict[str, OutOfScope],
    origin: dict[str, tuple[str, int]],
    sources: dict[str, SourcePage],
) -> list[Problem]:
    """Related ids, out-of-scope offers and source files that must exist."""
    problems: list[Problem] = []
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
        file, line = origin[item.id]
        for ref in item.offer:
            if ref not in entries:
                problems.append(Problem(file, line, f"{item.id!r}: offer {ref!r} does not exist"))
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
