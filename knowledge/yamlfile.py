"""The one line-aware YAML reader: every knowledge, lexicon and conversation file is read here,
so a problem anywhere is reported the same way, as `file:line: reason`.

Mappings remember the line of each key (`LineDict`), sequences the line of each item
(`LineList`), duplicate keys are problems, a syntax
error is a problem at its line, and `line_of` finds the line of a validation error's location.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from knowledge.errors import Problem


class LineDict(dict[str, Any]):
    """A YAML mapping that remembers where it and each of its keys stood."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list[Any]):
    """A YAML sequence that remembers where it and each of its items stood."""

    line: int = 0
    item_lines: list[int]


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


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(item, deep=True) for item in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [item.start_mark.line + 1 for item in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)

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
    _FastLineLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence
    )
    _LOADERS.insert(0, _FastLineLoader)


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
            if isinstance(node, LineList):
                line = node.item_lines[part]
            node = node[part]
            line = getattr(node, "line", line)
        else:
            break
    return line
