"""jieba, set up once per process: our cache directory, our user dictionary, no log noise.

jieba's own start-up (about a second) dominates `yibao ask`, so it happens once per
process, under a lock, with every user word added before the tokenizer is handed out:
`add_word` is not thread-safe, so nothing may segment while words are being added.
The prefix-dictionary cache lives in a directory the project owns (never the shared
`/tmp/jieba.cache`, which other users of the machine can replace): the edge passes the
configured one (YIBAO_CACHE_DIR, read by `bot.settings`) to `use_cache_dir` at start-up.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from knowledge.lexicon import DictWord

HMM_MIN_CHARS = 64  # HMM guesses unknown words: useful in long text, noise in short queries
# jieba's dictionary without its rarest words (frequency 2-3, 57% of the 349k entries):
# loads in a third of the time, and the words a parent types about insurance are either
# common or in our user dictionary. Questions and the KB are cut by the same tokenizer.
MIN_WORD_FREQ = 4

_lock = threading.Lock()
_tokenizers: dict[tuple[DictWord, ...], Any] = {}


_fallback: list[Path] = []
_configured: list[Path] = []  # the directory given to `use_cache_dir`, if any


def use_cache_dir(path: Path | None) -> None:
    """Put every cache under `path` (None: the user cache directory). Called once by the
    edge, before the first tokenizer or index is built."""
    _configured[:] = [path] if path is not None else []


def cache_dir() -> Path:
    """The configured directory (`use_cache_dir`), else the user cache directory for
    "yibao"; created if missing.

    If it cannot be created (read-only home), a private temporary directory is used for
    this process: slower starts, never a shared, replaceable cache file.
    """
    if _configured:
        path = _configured[0]
    else:
        import platformdirs  # only needed when no directory is configured

        path = Path(platformdirs.user_cache_dir("yibao"))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        if not _fallback:
            _fallback.append(Path(tempfile.mkdtemp(prefix="yibao-cache-")))
            atexit.register(shutil.rmtree, _fallback[0], True)
        return _fallback[0]
    return path


def tokenizer(words: tuple[DictWord, ...]) -> Any:
    """The shared jieba Tokenizer carrying `words`, initialised on first use.

    A dedicated `jieba.Tokenizer` (not the global `jieba.dt`) keeps our user words out of
    any other code that uses jieba in the same process.
    """
    found = _tokenizers.get(words)
    if found is not None:
        return found
    with _lock:
        found = _tokenizers.get(words)
        if found is not None:
            return found
        import jieba

        jieba.setLogLevel(logging.WARNING)  # "Building prefix dict ..." is not for users
        directory = cache_dir()
        tok = jieba.Tokenizer(str(_trimmed_dictionary(jieba, directory)))
        tok.tmp_dir = str(directory)  # its prefix-dictionary cache goes here too
        tok.initialize()
        for item in words:
            # Never below jieba's own frequency: a lower one would split the word.
            tok.add_word(item.word, max(item.freq, tok.FREQ.get(item.word, 0)), item.tag)
        _tokenizers[words] = tok
        return tok


def _trimmed_dictionary(jieba: Any, directory: Path) -> Path:
    """jieba's dictionary without words rarer than MIN_WORD_FREQ, written once."""
    source = Path(jieba.__file__).resolve().parent / "dict.txt"
    version = str(getattr(jieba, "__version__", "0"))
    target = directory / f"jieba-dict-{version}-min{MIN_WORD_FREQ}.txt"
    if target.is_file():
        return target
    kept = []
    with source.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) >= MIN_WORD_FREQ:
                kept.append(line if line.endswith("\n") else line + "\n")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.writelines(kept)
        os.replace(tmp, target)  # atomic: concurrent starts never read half a dictionary
    except OSError:
        return source  # unwritable cache: the full dictionary, slower but correct
    return target


def cut(tok: Any, text: str) -> list[str]:
    """Segment one run of text (no whitespace inside); HMM only for long runs."""
    return [t for t in tok.lcut(text, HMM=len(text) >= HMM_MIN_CHARS) if not t.isspace()]
