"""The matcher's language data, read from `knowledge/lexicon/` and validated.

The files are data so that a curator can add a word without touching code:
`userdict.txt` (jieba user dictionary), `synonyms.yaml`, `typos.yaml`, `cities.yaml`
and `stopwords.txt`. A bad line is reported as `file:line: reason` through
`KnowledgeError`, exactly like the knowledge files, and nothing half-loaded is served.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.errors import KnowledgeError, Problem
from knowledge.yamlfile import LineDict, LineList, read_yaml

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
FILES = ("userdict.txt", "synonyms.yaml", "typos.yaml", "cities.yaml", "stopwords.txt")

VARIANT_FREQ = 500  # enough to keep a variant whole; jieba's own frequency wins if higher
_TAG = re.compile(r"^[a-z]{1,4}$")
_CITY_ID = re.compile(r"^[a-z][a-z_]*$")
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")


@dataclass(frozen=True, slots=True)
class DictWord:
    """One jieba user-dictionary line. The frequency is explicit so start-up never runs
    jieba's `suggest_freq` (slow) and never silently lowers a built-in frequency."""

    word: str
    freq: int
    tag: str | None


@dataclass(frozen=True)
class Lexicon:
    """Everything the normaliser and matcher need besides the knowledge base."""

    words: tuple[DictWord, ...]
    synonyms: Mapping[str, tuple[str, ...]]  # variant -> canonical token(s)
    fixes: Mapping[str, str]  # exact misspelling -> correct spelling
    homophones: tuple[str, ...]  # terms a same-pinyin mistake is read as
    city_names: Mapping[str, str]  # name -> city id
    city_hints: Mapping[str, str]  # domain term -> city id
    core_cities: frozenset[str]
    cities: tuple[str, ...]  # the core cities in their declared order (menus, clarify buttons)
    stopwords: frozenset[str]
    digest: str  # content hash of all files: keys derived caches

    def dictionary(self) -> tuple[DictWord, ...]:
        """Words for jieba: the user dictionary plus every multi-character Chinese synonym
        variant, so that 多少钱 or 带什么 segment the same inside a sentence as alone.
        Variants naming a city are left out: 不是天津 must still yield the token 天津."""
        known = {w.word for w in self.words}
        extra = [
            DictWord(variant, VARIANT_FREQ, None)
            for variant in self.synonyms
            if len(variant) >= 2
            and _HAN.match(variant)
            and variant not in known
            and not any(name in variant for name in self.city_names if len(name) >= 2)
        ]
        return self.words + tuple(sorted(extra, key=lambda w: w.word))

    def city_of(self, token: str) -> str | None:
        """The city a token names or hints at, if any; a longer token counts when it
        contains a name (jieba's own dictionary has 苏州工业园区 as one word)."""
        found = self.city_names.get(token) or self.city_hints.get(token)
        if found is not None or len(token) <= 2:
            return found
        for size in range(len(token) - 1, 1, -1):
            for start in range(len(token) - size + 1):
                piece = token[start : start + size]
                found = self.city_names.get(piece) or self.city_hints.get(piece)
                if found is not None:
                    return found
        return None


# --------------------------------------------------------------------------- YAML values
def _read(path: Path, problems: list[Problem]) -> Any:
    """The file's data through the one line-aware reader (`knowledge.yamlfile`)."""
    if not path.is_file():
        problems.append(Problem(path.name, 0, "file is missing"))
        return None
    data, found = read_yaml(path)
    problems.extend(found)
    if data is None and not found:
        problems.append(Problem(path.name, 1, "file is empty"))
    return data


def _line(value: Any, default: int) -> int:
    return int(getattr(value, "line", 0) or default)


def _items(
    value: Any, line: int, file: str, what: str, problems: list[Problem]
) -> Iterator[tuple[str, int, Any]]:
    """(key, line, value) of a mapping; the reader has already reported duplicate keys."""
    if not isinstance(value, LineDict):
        problems.append(Problem(file, _line(value, line), f"{what} must be a mapping"))
        return
    for key, item in value.items():
        key_line = value.key_lines.get(key, value.line)
        if not key.strip():
            problems.append(Problem(file, key_line, f"{what}: empty or non-text key"))
            continue
        yield key.strip(), key_line, item


def _strings(
    value: Any, line: int, file: str, what: str, problems: list[Problem]
) -> Iterator[tuple[str, int]]:
    """(text, line) of a list of non-empty strings."""
    if not isinstance(value, LineList):
        problems.append(Problem(file, _line(value, line), f"{what} must be a list"))
        return
    for item, item_line in zip(value, value.item_lines, strict=True):
        text = item.strip() if isinstance(item, str) else ""
        if not text:
            problems.append(Problem(file, item_line, f"{what}: items must be non-empty text"))
            continue
        yield text, item_line


def _sections(
    data: Any, file: str, expected: tuple[str, ...], problems: list[Problem]
) -> dict[str, tuple[Any, int]]:
    """The top-level sections by name, with the line of each."""
    out: dict[str, tuple[Any, int]] = {}
    if data is None:
        return out
    for key, line, value in _items(data, 1, file, "top level", problems):
        if key not in expected:
            problems.append(
                Problem(file, line, f"unknown section {key!r} (expected {', '.join(expected)})")
            )
            continue
        out[key] = (value, line)
    return out


# --------------------------------------------------------------------------- files
def _lines(path: Path, problems: list[Problem]) -> Iterator[tuple[int, str]]:
    """Non-blank, non-comment lines of a text file with their numbers."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(Problem(path.name, 0, "file is missing"))
        return
    except UnicodeDecodeError as exc:
        problems.append(Problem(path.name, 1, f"not UTF-8 text ({exc.reason})"))
        return
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield number, line


def _read_userdict(path: Path, problems: list[Problem]) -> tuple[DictWord, ...]:
    words: dict[str, DictWord] = {}
    for number, line in _lines(path, problems):
        parts = line.split()
        if len(parts) not in (2, 3):
            problems.append(Problem(path.name, number, "expected 'word frequency [tag]'"))
            continue
        word, freq_text = parts[0], parts[1]
        tag = parts[2] if len(parts) == 3 else None
        if not freq_text.isdigit() or int(freq_text) <= 0:
            problems.append(
                Problem(path.name, number, f"frequency of {word!r} must be a positive integer")
            )
            continue
        if tag is not None and not _TAG.match(tag):
            problems.append(Problem(path.name, number, f"bad part-of-speech tag {tag!r}"))
            continue
        if word in words:
            problems.append(Problem(path.name, number, f"duplicate word {word!r}"))
            continue
        words[word] = DictWord(word, int(freq_text), tag)
    return tuple(words.values())


def _read_stopwords(path: Path, problems: list[Problem]) -> frozenset[str]:
    out: set[str] = set()
    for number, line in _lines(path, problems):
        if len(line.split()) != 1:
            problems.append(Problem(path.name, number, "one stop word per line"))
            continue
        out.add(line.lower())
    return frozenset(out)


def _read_synonyms(path: Path, problems: list[Problem]) -> dict[str, tuple[str, ...]]:
    file = path.name
    sections = _sections(_read(path, problems), file, ("synonyms",), problems)
    variants: dict[str, tuple[str, ...]] = {}
    where: dict[str, int] = {}
    canonicals: dict[str, int] = {}
    if "synonyms" not in sections:
        if not any(p.file == file for p in problems):
            problems.append(Problem(file, 1, "missing section 'synonyms'"))
        return variants
    for canonical, line, value in _items(*sections["synonyms"], file, "synonyms", problems):
        target = tuple(canonical.lower().split())
        canonicals[canonical.lower()] = line
        for variant, vline in _strings(value, line, file, f"synonyms {canonical!r}", problems):
            key = variant.lower()
            if key == canonical.lower():
                problems.append(Problem(file, vline, f"{variant!r} is its own canonical word"))
            elif key in variants:
                problems.append(
                    Problem(file, vline, f"{variant!r} already maps elsewhere (line {where[key]})")
                )
            else:
                variants[key] = target
                where[key] = vline
    for variant, vline in where.items():
        if variant in canonicals:
            problems.append(
                Problem(
                    file,
                    vline,
                    f"{variant!r} is also a canonical word (line {canonicals[variant]})",
                )
            )
    return variants


def _read_typos(path: Path, problems: list[Problem]) -> tuple[dict[str, str], tuple[str, ...]]:
    file = path.name
    sections = _sections(_read(path, problems), file, ("fixes", "homophones"), problems)
    fixes: dict[str, str] = {}
    if "fixes" in sections:
        for wrong, line, value in _items(*sections["fixes"], file, "fixes", problems):
            right = value.strip() if isinstance(value, str) else ""
            if not right:
                problems.append(Problem(file, line, f"fixes {wrong!r}: needs the correct spelling"))
            elif right == wrong:
                problems.append(Problem(file, line, f"fixes {wrong!r}: maps to itself"))
            else:
                fixes[wrong.lower()] = right
    homophones: list[str] = []
    if "homophones" in sections:
        for term, line in _strings(*sections["homophones"], file, "homophones", problems):
            if not _HAN.match(term) or len(term) < 2:
                problems.append(
                    Problem(
                        file,
                        line,
                        f"homophone term {term!r} must be two or more Chinese characters",
                    )
                )
            elif term in homophones:
                problems.append(Problem(file, line, f"duplicate homophone term {term!r}"))
            else:
                homophones.append(term)
    return fixes, tuple(homophones)


def _read_cities(
    path: Path, problems: list[Problem]
) -> tuple[dict[str, str], dict[str, str], tuple[str, ...]]:
    file = path.name
    sections = _sections(_read(path, problems), file, ("core", "cities"), problems)
    names: dict[str, str] = {}
    hints: dict[str, str] = {}
    seen_at: dict[str, int] = {}
    ids: set[str] = set()
    if "cities" not in sections:
        if not any(p.file == file for p in problems):
            problems.append(Problem(file, 1, "missing section 'cities'"))
    else:
        for city, line, value in _items(*sections["cities"], file, "cities", problems):
            if not _CITY_ID.match(city):
                problems.append(Problem(file, line, f"city id {city!r} must be lowercase letters"))
                continue
            ids.add(city)
            for kind, key_line, words in _items(value, line, file, f"cities {city!r}", problems):
                if kind not in ("names", "hints"):
                    problems.append(Problem(file, key_line, f"unknown key {kind!r} (names, hints)"))
                    continue
                target = names if kind == "names" else hints
                for word, wline in _strings(words, key_line, file, f"{city} {kind}", problems):
                    key = word.lower()
                    if key in seen_at:
                        problems.append(
                            Problem(
                                file,
                                wline,
                                f"{word!r} already belongs to a city (line {seen_at[key]})",
                            )
                        )
                        continue
                    seen_at[key] = wline
                    target[key] = city
    core: list[str] = []
    if "core" in sections:
        for city, line in _strings(*sections["core"], file, "core", problems):
            if ids and city not in ids:
                problems.append(
                    Problem(file, line, f"core city {city!r} is not listed under cities")
                )
            if city not in core:
                core.append(city)
    return names, hints, tuple(core)


def lexicon_digest(root: Path | None = None) -> str:
    """Content hash of the lexicon files: cheap, keys everything derived from them."""
    base = root or LEXICON_DIR
    digest = hashlib.sha256()
    for name in FILES:
        path = base / name
        digest.update(name.encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_lexicon(root: Path | None = None) -> Lexicon:
    """Read and validate every lexicon file; raise KnowledgeError listing all problems."""
    base = root or LEXICON_DIR
    problems: list[Problem] = []
    words = _read_userdict(base / "userdict.txt", problems)
    synonyms = _read_synonyms(base / "synonyms.yaml", problems)
    fixes, homophones = _read_typos(base / "typos.yaml", problems)
    names, hints, core = _read_cities(base / "cities.yaml", problems)
    stopwords = _read_stopwords(base / "stopwords.txt", problems)
    if problems:
        raise KnowledgeError(problems)
    return Lexicon(
        words=words,
        synonyms=synonyms,
        fixes=fixes,
        homophones=homophones,
        city_names=names,
        city_hints=hints,
        core_cities=frozenset(core),
        cities=core,
        stopwords=stopwords,
        digest=lexicon_digest(root),
    )
