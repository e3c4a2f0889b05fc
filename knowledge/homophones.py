"""Which characters sound like the characters of our domain terms (pinyin, tones ignored).

pypinyin takes about 0.3 s to import, more than our whole start-up budget beyond jieba,
so the table is derived from it once and kept as JSON in the project's cache directory,
keyed by the terms it was built for. Only a cache miss imports pypinyin.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path

FORMAT = 3
_NASALS = (("ing", "in"), ("eng", "en"))  # folded: a typed slip between them is common
_CJK_FIRST, _CJK_LAST = 0x4E00, 0x9FFF

# char -> the toneless readings it shares with some character of a domain term
Table = dict[str, frozenset[str]]


def _toneless(reading: str) -> str:
    """The reading without tones, and with the back nasals many speakers do not tell from
    the front ones (jing as jin, zheng as zhen): "天经户口" is typed for 天津户口."""
    stripped = "".join(
        c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c)
    ).lower()
    for back, front in _NASALS:
        if stripped.endswith(back):
            return stripped[: -len(back)] + front
    return stripped


def build_table(terms: Iterable[str]) -> Table:
    """Every common CJK character whose usual reading is shared by a character of `terms`.

    A term's own characters keep all their readings (someone typing 积分 by sound may use
    any of them); any other character counts with its first, most common reading only, so
    a rare reading (客 can be read qià, like 卡) does not turn 医保客服 into 医保卡.
    """
    from pypinyin.pinyin_dict import pinyin_dict  # heavy import, cache misses only

    term_chars = {ch for term in terms for ch in term}
    readings: dict[str, frozenset[str]] = {}
    for code, value in pinyin_dict.items():
        if _CJK_FIRST <= code <= _CJK_LAST:
            ch = chr(code)
            listed = [_toneless(r) for r in value.split(",")]
            readings[ch] = frozenset(listed if ch in term_chars else listed[:1])
    wanted: set[str] = set()
    for ch in term_chars:
        wanted |= readings.get(ch, frozenset())
    table: Table = {}
    for ch, rs in readings.items():
        shared = rs & wanted
        if shared:
            table[ch] = frozenset(shared)
    return table


def _key(terms: Iterable[str]) -> str:
    chars = "".join(sorted({ch for term in terms for ch in term}))
    return hashlib.sha256(f"{FORMAT}:{chars}".encode()).hexdigest()[:16]


def load_table(terms: tuple[str, ...], directory: Path) -> Table:
    """The table for `terms`, from the cache when present, else built and cached."""
    path = directory / f"homophones-{_key(terms)}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {ch: frozenset(rs.split(",")) for ch, rs in raw.items()}
    except (OSError, ValueError, AttributeError):
        pass
    table = build_table(terms)
    payload = json.dumps({ch: ",".join(sorted(rs)) for ch, rs in table.items()}, ensure_ascii=False)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
        os.replace(tmp, path)  # atomic: a concurrent reader sees old or new, never half
    except OSError:
        pass  # an unwritable cache only costs the rebuild next time
    return table
