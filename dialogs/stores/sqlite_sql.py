"""The SQLite store's statements: the SQL a turn, a record page or an erasure runs, and the
helpers that run a group of them as one transaction (`dialogs.stores.sqlite`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from dialogs.session import Session
from dialogs.stores.sqlite_file import atomically

Statement = tuple[str, tuple[object, ...]]
PAGE = 500  # rows per fetch when iterating records
MARK_COMPACT = (
    "INSERT INTO pending (what, gen) VALUES ('compact', 1) "
    "ON CONFLICT(what) DO UPDATE SET gen = gen + 1"
)
UPSERT = (
    "INSERT INTO sessions (chat_id, updated, data) VALUES (?, ?, ?) ON CONFLICT(chat_id) "
    "DO UPDATE SET updated = excluded.updated, data = excluded.data"
)
REMEMBER = (
    "INSERT INTO replies (chat, key, expires, data) VALUES (?, ?, ?, ?) ON CONFLICT(chat, key) "
    "DO UPDATE SET expires = excluded.expires, data = excluded.data"
)
REPLY_SWEEP_EVERY = 256  # remembered replies written between two sweeps of expired ones
SWEEP_REPLIES = "DELETE FROM replies WHERE expires < ?"
# Within the per-chat daily cap, and not an unanswered question the chat asked that day.
INSERT_RECORD = (
    "INSERT INTO records (at, chat, outcome, confidence, text) SELECT ?, ?, ?, ?, ? "
    "WHERE (SELECT COUNT(*) FROM records WHERE chat = ? AND at >= ? AND at < ?) < ? "
    "AND NOT (? = 'unanswered' AND EXISTS (SELECT 1 FROM records WHERE chat = ? AND at >= ? "
    "AND at < ? AND outcome = 'unanswered' AND text IS ?))"
)
RECORDS_PAGE = (
    "SELECT rowid, at, chat, outcome, confidence, text FROM records "
    "WHERE at >= ? AND (at > ? OR (at = ? AND rowid > ?)) ORDER BY at, rowid LIMIT ?"
)


RecordRow = tuple[int, float, str, str, float | None, str | None]


def transaction(c: sqlite3.Connection, statements: Sequence[Statement]) -> None:
    with atomically(c):
        for sql, args in statements:
            c.execute(sql, args)


def upsert(session: Session) -> Statement:
    return UPSERT, (str(session.chat_id), session.updated, session.to_json())


def records_page(c: sqlite3.Connection, since: float, after: tuple[float, int]) -> list[RecordRow]:
    # The range starts at the last row read, not at `since`: restarting every page at
    # `since` made SQLite walk all earlier rows again (quadratic over a long history).
    args = (max(since, after[0]), after[0], after[0], after[1], PAGE)
    rows: list[RecordRow] = c.execute(RECORDS_PAGE, args).fetchall()
    return rows
