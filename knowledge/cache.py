"""Derived data kept between runs in the project's cache directory.

Start-up time is budgeted (`yibao ask` within 1.3x of jieba's own initialise), so work
that depends only on files (the analysed KB index, segmented synonyms) is done once and
reused. Entries are keyed by a content hash of their inputs plus a stamp of the code that
derives them, so an edit to the KB, the lexicon or these modules never serves stale data.
`marshal` holds plain data only (no code runs on load); a damaged or unreadable file is
simply rebuilt.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import Any

from knowledge import segment

STALE_SECONDS = 86_400
_SOURCES = (
    "analysis.py",
    "cache.py",
    "homophones.py",
    "index.py",
    "lexicon.py",
    "matcher.py",
    "normalize.py",
    "segment.py",
)


@cache
def code_stamp() -> str:
    """Hash of the modules that derive cached data, and of jieba's version."""
    import jieba

    digest = hashlib.sha256(str(getattr(jieba, "__version__", "")).encode())
    here = Path(__file__).resolve().parent
    for name in _SOURCES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


def _path(name: str, key: str) -> Path:
    return segment.cache_dir() / f"{name}-{key}.marshal"


def read(name: str, key: str) -> Any:
    """The value stored under (name, key), or None."""
    try:
        with _path(name, key).open("rb") as handle:
            return marshal.load(handle)
    except (OSError, EOFError, ValueError, TypeError):
        return None


def write(name: str, key: str, value: Any) -> None:
    """Store atomically and drop entries of the same name unused for a day; failures are
    ignored (an unwritable cache only costs the rebuild next time)."""
    target = _path(name, key)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            marshal.dump(value, handle)
        os.replace(tmp, target)
        stale = time.time() - STALE_SECONDS
        for old in target.parent.glob(f"{name}-*.marshal"):
            if old != target and old.stat().st_atime < stale:
                old.unlink(missing_ok=True)
    except (OSError, ValueError):
        return
