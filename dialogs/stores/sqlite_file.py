"""The SQLite file itself, apart from the store's queries: its schema and migrations, the
one-process lock file, and the background checkpoints and rebuilds (WAL copied back on a
thread of its own, VACUUM after an erasure), so that no turn waits for an fsync."""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 256  # write transactions between two background checkpoints (~1-4 MB WAL)
TRUNCATE_ATTEMPTS = 50  # x 10 ms: a reader (a backup) holding the WAL defers the rebuild
COMPACT_BUSY_MS = 1000  # the rebuild waits at most this long for the write lock

SCHEMA_VERSION = 5
_MIGRATIONS: dict[int, str] = {
    # version reached -> script that reaches it from the previous version
    1: """
        CREATE TABLE IF NOT EXISTS sessions (
            chat_id INTEGER PRIMARY KEY,
            updated REAL NOT NULL,
            data    TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS sessions_updated ON sessions(updated);
        CREATE TABLE IF NOT EXISTS records (
            at         REAL NOT NULL,
            chat       TEXT NOT NULL,
            outcome    TEXT NOT NULL,
            confidence REAL,
            text       TEXT
        );
        CREATE INDEX IF NOT EXISTS records_at ON records(at);
        CREATE INDEX IF NOT EXISTS records_chat ON records(chat);
    """,
    # Chat ids become text (WeChat's OpenIDs are strings, namespaced `wx:<openid>`); a
    # Telegram chat's row keeps working under its decimal form, which is what the store
    # now looks up. Replies remembered per message id (a resent message gets the same one).
    2: """
        CREATE TABLE sessions_v2 (
            chat_id TEXT PRIMARY KEY,
            updated REAL NOT NULL,
            data    TEXT NOT NULL
        );
        INSERT INTO sessions_v2 (chat_id, updated, data)
            SELECT CAST(chat_id AS TEXT), updated, data FROM sessions;
        DROP TABLE sessions;
        ALTER TABLE sessions_v2 RENAME TO sessions;
        CREATE INDEX IF NOT EXISTS sessions_updated ON sessions(updated);
        CREATE TABLE IF NOT EXISTS replies (
            chat    TEXT NOT NULL,
            key     TEXT NOT NULL,
            expires REAL NOT NULL,
            data    TEXT NOT NULL,
            PRIMARY KEY (chat, key)
        );
        CREATE INDEX IF NOT EXISTS replies_expires ON replies(expires);
    """,
    # Erasures waiting for the file to be rebuilt (`compact`): a counter, so a forget that
    # lands while a rebuild runs is not marked done by it, and a restart does not lose it.
    3: """
        CREATE TABLE IF NOT EXISTS pending (
            what TEXT PRIMARY KEY,
            gen  INTEGER NOT NULL
        );
    """,
    # The per-chat daily cap counts a chat's records of one day: an index lookup.
    4: """
        CREATE INDEX IF NOT EXISTS records_chat_at ON records(chat, at);
    """,
    # records_chat_at serves every lookup by chat (its prefix): one index fewer to write
    # on every turn.
    5: """
        DROP INDEX IF EXISTS records_chat;
    """,
}


class StoreInUse(RuntimeError):
    """Another process holds the SQLite file's lock file: one sentence for the operator."""


class FileLock:
    """An exclusive `flock` on `<db>.lock`, shared by the stores of one process (a flock
    belongs to an open file description, so a second open in this process would refuse
    itself); released when the last store of the process closes, or when the process dies."""

    _held: ClassVar[dict[str, tuple[int, int]]] = {}  # real path -> (fd, stores using it)

    @classmethod
    def acquire(cls, db_path: str, wait: bool = False) -> str:
        key = os.path.realpath(db_path) + ".lock"
        fd, users = cls._held.get(key, (-1, 0))
        if users:
            cls._held[key] = (fd, users + 1)
            return key
        Path(key).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            by = f" (pid {holder})" if holder.isdigit() else ""
            if not wait:
                os.close(fd)
                raise StoreInUse(
                    f"{db_path} is in use by another process{by}; run one process per SQLite "
                    "file (or share a Redis store between instances)"
                ) from None
            log.warning("%s is in use by another process%s; standing by", db_path, by)
            fcntl.flock(fd, fcntl.LOCK_EX)  # until that process stops or dies
            log.warning("%s is free: taking over", db_path)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        cls._held[key] = (fd, 1)
        return key

    @classmethod
    def release(cls, key: str) -> None:
        fd, users = cls._held.get(key, (-1, 0))
        if users > 1:
            cls._held[key] = (fd, users - 1)
        elif users == 1:
            del cls._held[key]
            os.close(fd)  # closing the last descriptor releases the flock


class Checkpointer:
    """Copies the WAL back into the main file from its own connection and thread.

    A checkpoint ends with an fsync of the database file (milliseconds); run inline, it
    would land on whichever turn crossed the threshold. WAL mode lets a second connection
    checkpoint while the first keeps committing, so turns never wait for it.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yibao-sqlite-ckpt")
        self._conn: sqlite3.Connection | None = None
        self._pending: Future[None] | None = None
        self._writes = 0

    def note_write(self) -> None:
        self._writes += 1
        if self._writes >= CHECKPOINT_EVERY and (self._pending is None or self._pending.done()):
            self._writes = 0
            self._pending = self.executor.submit(self._checkpoint)
            self._pending.add_done_callback(_log_failure)

    def _checkpoint(self) -> None:
        self._connection().execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def compact(self) -> bool:
        """See `SqliteStore.compact`; on this thread, so never beside a checkpoint."""
        c = self._connection()
        c.execute(f"PRAGMA busy_timeout={COMPACT_BUSY_MS}")
        try:
            row = c.execute("SELECT gen FROM pending WHERE what = 'compact'").fetchone()
            if row is None:
                return False
            started = time.monotonic()
            c.execute("VACUUM")
            # Never wait inside SQLite's busy handler here: a TRUNCATE checkpoint waiting for
            # a reader would hold the write lock, and every turn's save with it.
            c.execute("PRAGMA busy_timeout=0")
            truncate_wal(c)
            c.execute(f"PRAGMA busy_timeout={COMPACT_BUSY_MS}")
            c.execute("DELETE FROM pending WHERE what = 'compact' AND gen <= ?", (row[0],))
        except sqlite3.OperationalError as exc:
            log.warning("file rebuild after an erasure deferred to the next run: %s", exc)
            return False
        finally:
            c.execute("PRAGMA busy_timeout=5000")
        log.info("file rebuilt after an erasure in %.2fs", time.monotonic() - started)
        return True

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA busy_timeout=5000")
            self._conn.execute("PRAGMA secure_delete=ON")
        return self._conn

    def reset(self) -> None:
        """Reconnect before the next checkpoint (the database file was replaced)."""
        self.executor.submit(self._close)

    def close(self) -> None:
        self.executor.submit(self._close)
        self.executor.shutdown(wait=True)


def _log_failure(future: Future[None]) -> None:
    exc = future.exception()
    if exc is not None:
        log.warning("background WAL checkpoint failed: %s", exc)


def truncate_wal(c: sqlite3.Connection) -> None:
    """Checkpoint everything and truncate the WAL to zero bytes, waiting out the background
    checkpointer if it is mid-way (a TRUNCATE checkpoint reports busy rather than waiting)."""
    for _ in range(TRUNCATE_ATTEMPTS):
        busy, _log, _done = c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return
        time.sleep(0.01)
    raise sqlite3.OperationalError("could not truncate the WAL: database kept busy")


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema to SCHEMA_VERSION (PRAGMA user_version), one step at a time."""
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"state database schema {version} is newer than this program ({SCHEMA_VERSION})"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        with atomically(conn):
            for statement in _MIGRATIONS[target].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")


@contextmanager
def atomically(conn: sqlite3.Connection) -> Iterator[None]:
    """The statements of the block in one transaction: all of them or none, also across a
    kill of the process (the journal is rolled back at the next open)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:  # an error may have rolled it back already
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
