"""Input hygiene, applied once where a turn enters the engine (`Engine.handle`), before
anything of it is matched, kept in a session or written to a turn record.

Lone surrogates (a JSON `\\ud800`, bytes decoded with `surrogateescape`) cannot be encoded
as UTF-8, so SQLite and Redis refused the record and the turn was lost; format characters
(Cf: zero-width spaces and joiners, soft hyphens, direction marks) hide inside numbers and
words and defeat both the matcher and the masking of phone and ID numbers. Both go.
"""

from __future__ import annotations

import unicodedata

DROPPED = frozenset({"Cs", "Cf"})


def scrub(text: str) -> str:
    """`text` without lone surrogates and format (Cf) characters; everything else kept."""
    if text.isascii():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) not in DROPPED)


def scrub_optional(text: str | None) -> str | None:
    return None if text is None else scrub(text)


# Control (Cc), format (Cf), surrogate (Cs), private-use (Co) and unassigned (Cn) characters.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def clean_line(raw: str) -> str:
    """One line of typed text: invisible characters (NUL, zero-width, RTL marks, lone
    surrogates) dropped, tabs and newlines as spaces, runs of spaces as one."""
    out = [
        " " if ch in "\n\t" else ch
        for ch in raw
        if ch in "\n\t" or unicodedata.category(ch) not in _INVISIBLE
    ]
    return " ".join("".join(out).split())
