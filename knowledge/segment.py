"""jieba, set up once per process: our cache directory, our user dictionary, no log noise.

jieba's own start-up (about a second) dominates `yibao ask`, so it happens once per
process, under a lock, with every user word added before the tokenizer is handed out:
`add_word` is not thread-safe, so nothing may segment while words are being added.
The prefix-dictionary cache lives in a directory the project owns (never the shared
`/tmp/jieba.cache`, which other users of the machine can replace).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from knowledge.lexicon import DictWord

ENV_CACHE_DIR = "YIBAO_CACHE_DIR"
HMM_MIN_CHARS = 64  # HMM guesses unknown words: useful in long text, noise in short queries

_lock = threading.Lock()
_tokenizers: dict[tuple[DictWord, ...], Any] = {}


def cache_dir() -> Path:
    """`$YIBAO_CACHE_DIR`, else the user cache directory for "yibao"; created if missing."""
    configured = os.environ.get(ENV_CACHE_DIR)
    if configured:
        path = Path(configured)
    else:
        import platformdirs  # only needed when no directory is configured

        path = Path(platformdirs.user_cache_dir("yibao"))
    path.mkdir(parents=True, exist_ok=True)
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
        tok = jieba.Tokenizer()
        tok.tmp_dir = str(cache_dir())
        tok.initialize()
        for item in words:
            # Never below jieba's own frequency: a lower one would split the word.
            tok.add_word(item.word, max(item.freq, tok.FREQ.get(item.word, 0)), item.tag)
        _tokenizers[words] = tok
        return tok


def cut(tok: Any, text: str) -> list[str]:
    """Segment one run of text (no whitespace inside); HMM only for long runs."""
    return [t for t in tok.lcut(text, HMM=len(text) >= HMM_MIN_CHARS) if not t.isspace()]
