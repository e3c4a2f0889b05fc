"""Turn what a parent types into canonical tokens, the same way for questions and the KB.

Steps, in order: Unicode NFKC (full-width to half-width), lower case, traditional to
simplified (OpenCC t2s, only when a traditional character is present), punctuation and
emoji to spaces, exact misspellings fixed, jieba segmentation with the domain user
dictionary, same-pinyin mistakes read as the domain term (积份 -> 积分), synonyms mapped
to one canonical word (宝宝 -> 孩子, 多少钱 -> 费用). Stop words and city detection are the
matcher's business; this module only rewrites text.

Everything that can be prepared is prepared in `Normalizer.__init__`; a call only does
dictionary look-ups, one regular-expression pass and one jieba cut.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

from knowledge import cache, segment
from knowledge.homophones import Table, load_table
from knowledge.lexicon import Lexicon

MAX_CHARS = 500  # longer input is cut: no question needs more, and it bounds the work
_NOT_WORD = re.compile(r"[\W_]+")  # punctuation, symbols, emoji, spaces -> one space
_HAN = re.compile(r"[\u4e00-\u9fff]+")


class _Simplifier:
    """OpenCC t2s, built lazily; plain simplified text (the usual case) skips it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cc: Any = None
        self._traditional = self._traditional_chars()

    @staticmethod
    def _traditional_chars() -> frozenset[str] | None:
        """Characters t2s would change, from OpenCC's own table; None means "unknown"."""
        try:
            import opencc
        except ImportError:  # pragma: no cover - a declared dependency
            return None
        path = Path(opencc.__file__).resolve().parent / "dictionary" / "TSCharacters.txt"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return None
        out: set[str] = set()
        for line in text.splitlines():
            trad, _, simp = line.partition("\t")
            if trad and trad not in simp.split():
                out.add(trad)
        return frozenset(out)

    def __call__(self, text: str) -> str:
        if self._traditional is not None and self._traditional.isdisjoint(text):
            return text
        if self._cc is None:
            with self._lock:
                if self._cc is None:
                    from opencc import OpenCC

                    self._cc = OpenCC("t2s")
        return str(self._cc.convert(text))


_simplifier: _Simplifier | None = None
_simplifier_lock = threading.Lock()


def simplify(text: str) -> str:
    """Traditional to simplified Chinese (process-wide converter, built once)."""
    global _simplifier
    if _simplifier is None:
        with _simplifier_lock:
            if _simplifier is None:
                _simplifier = _Simplifier()
    return _simplifier(text)


def fold(text: str) -> str:
    """The character level every reader of text shares: full width to half width (NFKC),
    lower case, traditional to simplified characters. Flow answers, button labels typed
    back, turn records and the matcher all start here, so they read the same input alike."""
    return simplify(unicodedata.normalize("NFKC", text).lower())


def clean(text: str) -> str:
    """`fold`, then punctuation and symbols as single spaces: the matcher's text level."""
    return " ".join(_NOT_WORD.sub(" ", fold(text[:MAX_CHARS])).split())


class Normalizer:
    """Canonical tokens for a text, given the lexicon and a ready jieba tokenizer."""

    def __init__(
        self,
        lexicon: Lexicon,
        tok: Any,
        homophone_table: Table,
        synonyms: dict[tuple[str, ...], tuple[str, ...]] | None = None,
    ) -> None:
        self.lexicon = lexicon
        self._tok = tok
        self._fix = (
            re.compile(
                "|".join(_fix_pattern(w) for w in sorted(lexicon.fixes, key=len, reverse=True))
            )
            if lexicon.fixes
            else None
        )
        self._table = homophone_table
        self._terms = frozenset(lexicon.homophones)
        # (length, a reading of the first character) -> candidate terms
        self._by_start: dict[tuple[int, str], list[str]] = {}
        for term in lexicon.homophones:
            for reading in homophone_table.get(term[0], frozenset()):
                self._by_start.setdefault((len(term), reading), []).append(term)
        self._max_term = max((len(t) for t in lexicon.homophones), default=0)
        self._synonyms = synonyms if synonyms is not None else self.segment_synonyms()
        self._syn_first = frozenset(key[0] for key in self._synonyms)
        self._syn_max = max((len(k) for k in self._synonyms), default=0)
        self.word_freq: dict[str, int] = tok.FREQ
        self.tokens = lru_cache(maxsize=8192)(self._tokens)

    def segment_synonyms(self) -> dict[tuple[str, ...], tuple[str, ...]]:
        """Each synonym variant as the token sequence jieba makes of it."""
        return {
            tuple(self._segment(clean(variant))): canonical
            for variant, canonical in self.lexicon.synonyms.items()
        }

    # ------------------------------------------------------------------ steps
    def _segment(self, text: str) -> list[str]:
        if self._fix is not None:
            text = self._fix.sub(lambda m: self.lexicon.fixes[m.group(0)], text)
        out: list[str] = []
        for run in text.split():
            out.extend(segment.cut(self._tok, run))
        return out

    def _sounds_like(self, text: str) -> str | None:
        """The domain term `text` is a same-pinyin misspelling of, if any."""
        table = self._table
        first = table.get(text[0])
        if not first:
            return None
        for reading in first:
            for term in self._by_start.get((len(text), reading), ()):
                if all(
                    a == b or not table.get(a, frozenset()).isdisjoint(table.get(b, frozenset()))
                    for a, b in zip(text, term, strict=True)
                ):
                    return term
        return None

    def _fix_homophones(self, tokens: list[str]) -> list[str]:
        """Replace runs of whole tokens that sound like a domain term.

        A single token that is a real dictionary word (公式, 计分) is left alone: only
        unknown words or runs of several tokens (积/份, 津/新办) are read as typos.
        """
        if not self._by_start:
            return tokens
        freq = self.word_freq
        out: list[str] = []
        i, n = 0, len(tokens)
        while i < n:
            # The longest run that sounds like a term wins: 积/份/入/医 -> 积分入医, not 积分.
            found: tuple[int, str] | None = None
            run = ""
            for j in range(i, n):
                run += tokens[j]
                if len(run) > self._max_term:
                    break
                if len(run) < 2 or run in self._terms or not _HAN.fullmatch(run):
                    continue
                if j == i and freq.get(run):
                    continue
                term = self._sounds_like(run)
                if term is not None:
                    found = (j, term)
            if found is None:
                out.append(tokens[i])
                i += 1
            else:
                out.append(found[1])
                i = found[0] + 1
        return out

    def _map_synonyms(self, tokens: list[str]) -> list[str]:
        out: list[str] = []
        i, n = 0, len(tokens)
        while i < n:
            if tokens[i] in self._syn_first:
                for size in range(min(self._syn_max, n - i), 0, -1):
                    canonical = self._synonyms.get(tuple(tokens[i : i + size]))
                    if canonical is not None:
                        out.extend(canonical)
                        i += size
                        break
                else:
                    out.append(tokens[i])
                    i += 1
            else:
                out.append(tokens[i])
                i += 1
        return out

    # ------------------------------------------------------------------ API
    def canonical(self, token: str) -> tuple[str, ...]:
        """The canonical word(s) for one token (itself when it has no synonym)."""
        return self._synonyms.get((token,), (token,))

    def _tokens(self, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(tokens before synonyms, canonical tokens): cities are read from the first."""
        raw = self._fix_homophones(self._segment(clean(text)))
        return tuple(raw), tuple(self._map_synonyms(raw))

    def surface(self, text: str) -> str:
        """The text as written, only repaired: width, case, traditional characters, known
        misspellings and same-pinyin slips of domain terms (居注证 -> 居住证), clauses kept
        apart by one space. Frames read their vocabulary on this; unlike `normalize` it maps
        no synonyms, so "多少钱" stays "多少钱"."""
        return " ".join("".join(self.tokens(run)[0]) for run in clean(text).split())

    def repair(self, text: str) -> str:
        """`surface` that keeps punctuation, digits and spacing as written, for readers of
        exact forms (a flow's "2026-01-10", "1.10", a button label typed back): only runs
        of Chinese characters are re-segmented and repaired (居注证 -> 居住证, 社宝 -> 社保)."""
        text = simplify(unicodedata.normalize("NFKC", text[:MAX_CHARS]))
        return _HAN.sub(lambda m: "".join(self.tokens(m.group())[0]), text)

    def normalize(self, text: str) -> str:
        """The canonical form of `text` as one string (tokens joined; ASCII words spaced)."""
        parts: list[str] = []
        for token in self.tokens(text)[1]:
            if (
                parts
                and parts[-1][-1:].isascii()
                and parts[-1][-1:].isalnum()
                and token[:1].isascii()
            ):
                parts.append(" ")
            parts.append(token)
        return "".join(parts)


_normalizers: dict[str, Normalizer] = {}
_normalizers_lock = threading.Lock()


def normalizer_for(lexicon: Lexicon) -> Normalizer:
    """One Normalizer per lexicon content per process (jieba and tables are shared)."""
    found = _normalizers.get(lexicon.digest)
    if found is not None:
        return found
    tok = segment.tokenizer(lexicon.dictionary())
    simplify("")  # build the traditional-character table now, not in the first turn
    table = load_table(lexicon.homophones, segment.cache_dir()) if lexicon.homophones else {}
    key = f"{lexicon.digest}-{cache.code_stamp()}"
    stored = cache.read("synonyms", key)
    synonyms = {tuple(k): tuple(v) for k, v in stored} if isinstance(stored, list) else None
    with _normalizers_lock:
        found = _normalizers.get(lexicon.digest)
        if found is None:
            found = Normalizer(lexicon, tok, table, synonyms)
            _normalizers[lexicon.digest] = found
            if synonyms is None:
                cache.write("synonyms", key, list(found._synonyms.items()))
        return found


def _fix_pattern(word: str) -> str:
    """An English word is fixed only whole ("fee" -> 费用, never inside "coffee"); Chinese
    and pinyin fixes anywhere ("居注证", "jzz")."""
    if word.isascii() and word.replace(" ", "").isalpha():
        return f"(?<![a-z]){re.escape(word)}(?![a-z])"
    return re.escape(word)
