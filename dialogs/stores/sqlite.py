"""SQLite store: the default for `chat` and `run`, one file that survives restarts.

stdlib `sqlite3`, driven from asyncio through a single-thread executor that owns the one
turn connection, so calls are serialised without a lock and the event loop never blocks
on disk; each save is one INSERT ... ON CONFLICT statement, i.e. one transaction. WAL mode
lets a second connection copy the WAL back (checkpoint) on its own thread, so no turn pays
for an fsync; `synchronous=NORMAL` keeps every committed turn across a process kill (only
an OS crash can lose the last few). Expired data is purged on open and by `purge()`;
`forget` deletes the chat's rows (an index lookup; `secure_delete` zeroes them) and notes
in the file that a rebuild is due; `compact()`, run by the maintenance job on the
checkpoint thread with a bounded busy timeout, then rebuilds the file (VACUUM) and
truncates the WAL so that nothing of the chat survives anywhere in it — no turn waits for
either. Per-chat locks are in-process, so only one process may serve a file: a store opened
with `exclusive=True` (what `build_engine` does for `run`, `wechat`, `chat`, `replay`) takes
an exclusive `fcntl.flock` on `<file>.lock` and a second process is refused with
`StoreInUse` (one sentence; the commands exit 4), or with `standby` waits to take over.
Several instances share Redis instead. Readers such as `yibao report` open the file without
the lock."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from functools import partial
from pathlib import Path
from typing import ClassVar, TypeVar

from dialogs.session import Session
from dialogs.stores.base import ChatLocks, SessionStore, decode_session
from dialogs.stores.records import TurnRecord
from dialogs.stores.settings import StoreSettings
from dialogs.types import ChatId

T = TypeVar("T")
log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
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
}
_PAGE = 500  # rows per fetch when iterating records
CHECKPOINT_EVERY = 256  # write transactions between two background checkpoints (~1-4 MB WAL)
BACKSTOP_CHECKPOINT_PAGES = 10_000  # inline checkpoint only if the background one falls behind
TRUNCATE_ATTEMPTS = 50  # x 10 ms: a reader (a backup) holding the WAL defers the rebuild
COMPACT_BUSY_MS = 1000  # the rebuild waits at most this long for the write lock
_MARK_COMPACT = (
    "INSERT INTO pending (what, gen) VALUES ('compact', 1) "
    "ON CONFLICT(what) DO UPDATE SET gen = gen + 1"
)
_UPSERT = (
    "INSERT INTO sessions (chat_id, updated, data) VALUES (?, ?, ?) ON CONFLICT(chat_id) "
    "DO UPDATE SET updated = excluded.updated, data = excluded.data"
)
_REMEMBER = (
    "INSERT INTO replies (chat, key, expires, data) VALUES (?, ?, ?, ?) ON CONFLICT(chat, key) "
    "DO UPDATE SET expires = excluded.expires, data = excluded.data"
)
REPLY_SWEEP_EVERY = 256  # remembered replies written between two sweeps of expired ones
# Within the per-chat daily cap, and not an unanswered question the chat asked that day.
_INSERT_RECORD = (
    "INSERT INTO records (at, chat, outcome, confidence, text) SELECT ?, ?, ?, ?, ? "
    "WHERE (SELECT COUNT(*) FROM records WHERE chat = ? AND at >= ? AND at < ?) < ? "
    "AND NOT (? = 'unanswered' AND EXISTS (SELECT 1 FROM records WHERE chat = ? AND at >= ? "
    "AND at < ? AND outcome = 'unanswered' AND text IS ?))"
)
_RECORDS_PAGE = (
    "SELECT rowid, at, chat, outcome, confidence, text FROM records "
    "WHERE at >= ? AND (at > ? OR (at = ? AND rowid > ?)) ORDER BY at, rowid LIMIT ?"
)


def path_from_url(url: str) -> str:
    """`sqlite:///abs/path.db` (or `sqlite:////abs/path.db`) -> `/abs/path.db`.

    Relative paths: `sqlite://state.db`, `sqlite:///./state.db`; home: `sqlite:///~/x.db`;
    `sqlite:///:memory:` is an in-memory database (tests only).
    """
    if not url.startswith("sqlite://"):
        raise ValueError(f"not a sqlite URL: {url!r}")
    rest = url[len("sqlite://") :].split("?", 1)[0]
    if not rest:
        raise ValueError("sqlite URL without a path")
    if rest.startswith("/"):
        inner = rest[1:]
        if inner == ":memory:":
            return inner
        if inner.startswith((".", "~")):
            return str(Path(inner).expanduser())
        return "/" + rest.lstrip("/")
    return str(Path(rest).expanduser())


class StoreInUse(RuntimeError):
    """Another process holds the SQLite file's lock file: one sentence for the operator."""


class _FileLock:
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


class SqliteStore(SessionStore):
    def __init__(
        self, path: str | Path, settings: StoreSettings | None = None, exclusive: bool = False
    ) -> None:
        super().__init__(settings)
        self.path = str(path)
        self._lock_key = (
            _FileLock.acquire(self.path, wait=self.settings.standby)
            if exclusive and self.path != ":memory:"
            else None
        )
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yibao-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._locks = ChatLocks()
        self._closed = False
        self._checkpointer = None if self.path == ":memory:" else _Checkpointer(self.path)
        self._inode: int | None = None  # of the file the connection has open
        self._remembered = 0

    @classmethod
    def from_url(
        cls, url: str, settings: StoreSettings | None = None, exclusive: bool = False
    ) -> SqliteStore:
        return cls(path_from_url(url), settings, exclusive)

    # ------------------------------------------------------------------ plumbing
    def _connect(self) -> sqlite3.Connection:
        """Open (creating the directory and schema) on the executor thread, once; again if
        the file was deleted or replaced under the open connection (see `_follow_file`)."""
        if self._conn is not None and self._inode is not None:
            self._follow_file(self._conn)
        if self._conn is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            # Checkpoints run on their own thread (_Checkpointer); this is only a backstop.
            conn.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_CHECKPOINT_PAGES}")
            _migrate(conn)
            # Expiry holds even for a process that never runs the scheduled purge (`chat`).
            now, ttl, keep = time.time(), self.settings.session_ttl, self.settings.record_retention
            conn.execute("DELETE FROM sessions WHERE updated < ?", (now - ttl,))
            conn.execute("DELETE FROM records WHERE at < ?", (now - keep,))
            conn.execute("DELETE FROM replies WHERE expires < ?", (now,))
            self._conn = conn
            self._inode = None if self.path == ":memory:" else os.stat(self.path).st_ino
        return self._conn

    def _follow_file(self, conn: sqlite3.Connection) -> None:
        """Deleted while running: an open connection would go on writing into the unlinked
        file and lose everything at the next start, so its content is copied into a new file
        at the path. Replaced (an operator restored a backup): reopen on the new file."""
        try:
            inode: int | None = os.stat(self.path).st_ino
        except FileNotFoundError:
            inode = None
        if inode == self._inode:
            return
        if inode is None:
            log.warning("state file deleted while running: rewritten from the open copy")
            fresh = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.backup(fresh)
            fresh.close()
        else:
            log.warning("state file replaced while running: reopened")
        conn.close()
        self._conn = None
        if self._checkpointer is not None:
            self._checkpointer.reset()

    async def _exec(self, sql: str, args: tuple[object, ...]) -> int:
        """One statement in its own (autocommit) transaction; returns the rows changed."""
        changed = await self._run(lambda c: c.execute(sql, args).rowcount)
        if self._checkpointer is not None:
            self._checkpointer.note_write()
        return changed

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise RuntimeError("store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(self._call, fn))

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` on the connection; after a database error (locked, read-only, corrupt,
        I/O) drop the connection, so the next call starts afresh once the cause is gone."""
        try:
            return fn(self._connect())
        except sqlite3.DatabaseError:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            raise

    # ------------------------------------------------------------------ sessions
    async def load(self, chat_id: ChatId) -> Session | None:
        def q(c: sqlite3.Connection) -> str | bytes | None:
            key = str(chat_id)
            row = c.execute("SELECT data FROM sessions WHERE chat_id = ?", (key,)).fetchone()
            return None if row is None else row[0]

        return decode_session(await self._run(q), chat_id)

    async def save(self, session: Session) -> None:
        await self._exec(_UPSERT, (str(session.chat_id), session.updated, session.to_json()))

    async def delete(self, chat_id: ChatId) -> bool:
        return await self._exec("DELETE FROM sessions WHERE chat_id = ?", (str(chat_id),)) > 0

    def lock(self, chat_id: ChatId) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(chat_id)

    async def purge_idle(self, older_than: float) -> int:
        return await self._exec("DELETE FROM sessions WHERE updated < ?", (older_than,))

    # ------------------------------------------------------------------ records
    async def record_turn(self, record: TurnRecord) -> None:
        start, end = self.settings.day_of(record.at)
        chat, cap = record.chat, self.settings.records_per_chat_day
        args: tuple[object, ...] = (record.at, chat, record.outcome, record.confidence, record.text)
        args += (chat, start, end, cap, record.outcome, chat, start, end, record.text)
        await self._exec(_INSERT_RECORD, args)

    async def iter_records(self, since: float = 0.0) -> AsyncIterator[TurnRecord]:
        # Keyset pagination: the executor is never held while the consumer works.
        after: tuple[float, int] = (since, -1)
        while True:
            rows = await self._run(partial(_records_page, since=since, after=after))
            for rowid, at, chat, outcome, confidence, text in rows:
                yield TurnRecord(at, chat, outcome, confidence, text)
                after = (at, rowid)
            if len(rows) < _PAGE:
                return

    async def purge_records(self, older_than: float) -> int:
        return await self._exec("DELETE FROM records WHERE at < ?", (older_than,))

    # ------------------------------------------------------------------ reply cache
    async def remember_reply(self, chat_id: ChatId, key: str, reply: str, ttl: float) -> None:
        now = time.time()
        await self._exec(_REMEMBER, (self.chat_hash(chat_id), key, now + ttl, reply))
        self._remembered += 1
        if self._remembered % REPLY_SWEEP_EVERY == 0:
            await self._exec("DELETE FROM replies WHERE expires < ?", (now,))

    async def recall_reply(self, chat_id: ChatId, key: str) -> str | None:
        args = (self.chat_hash(chat_id), key, time.time())

        def q(c: sqlite3.Connection) -> str | None:
            sql = "SELECT data FROM replies WHERE chat = ? AND key = ? AND expires >= ?"
            row = c.execute(sql, args).fetchone()
            return None if row is None else str(row[0])

        return await self._run(q)

    # ------------------------------------------------------------------ privacy
    async def forget(self, chat_id: ChatId) -> None:
        chat = self.chat_hash(chat_id)

        def erase(c: sqlite3.Connection) -> None:
            c.execute("BEGIN IMMEDIATE")
            try:
                gone = c.execute("DELETE FROM sessions WHERE chat_id = ?", (str(chat_id),)).rowcount
                gone += c.execute("DELETE FROM records WHERE chat = ?", (chat,)).rowcount
                gone += c.execute("DELETE FROM replies WHERE chat = ?", (chat,)).rowcount
                if gone:  # a chat with no rows costs three index lookups, nothing more
                    c.execute(_MARK_COMPACT)
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")

        await self._run(erase)

    async def compact(self) -> bool:
        """The rebuild after erasures (maintenance, not a turn): secure_delete zeroed the
        rows, but b-tree interior pages may still hold the chat id or hash as a divider key
        and the WAL the old page images. VACUUM rebuilds the file from live rows only and a
        TRUNCATE checkpoint drops the WAL. Runs on the checkpoint thread with its own
        connection and a `COMPACT_BUSY_MS` busy timeout: a reader or a long write defers it
        to the next run (logged) instead of holding anything up. True when it rebuilt."""
        if self._checkpointer is None or self._closed or self._conn is None:
            return False  # nothing opened (and migrated) yet: nothing erased either
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._checkpointer.executor, self._checkpointer.compact)

    # ------------------------------------------------------------------ upkeep
    async def ping(self) -> bool:
        try:
            return bool(await self._run(lambda c: c.execute("SELECT 1").fetchone()))
        except (sqlite3.Error, RuntimeError):
            return False

    async def file_size(self) -> int:
        """Bytes on disk (main file + WAL) after a checkpoint: for benchmarks and ops."""

        def size(c: sqlite3.Connection) -> int:
            _truncate_wal(c)
            total = 0
            for suffix in ("", "-wal"):
                p = Path(self.path + suffix)
                total += p.stat().st_size if p.exists() else 0
            return total

        return await self._run(size)

    async def close(self) -> None:
        if self._closed:
            return

        def shut(_: sqlite3.Connection) -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        if self._conn is not None:
            await self._run(shut)
        self._closed = True
        self._executor.shutdown(wait=True)
        if self._checkpointer is not None:
            self._checkpointer.close()
        if self._lock_key is not None:
            _FileLock.release(self._lock_key)
            self._lock_key = None


class _Checkpointer:
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
            _truncate_wal(c)
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


def _truncate_wal(c: sqlite3.Connection) -> None:
    """Checkpoint everything and truncate the WAL to zero bytes, waiting out the background
    checkpointer if it is mid-way (a TRUNCATE checkpoint reports busy rather than waiting)."""
    for _ in range(TRUNCATE_ATTEMPTS):
        busy, _log, _done = c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return
        time.sleep(0.01)
    raise sqlite3.OperationalError("could not truncate the WAL: database kept busy")


_RecordRow = tuple[int, float, str, str, float | None, str | None]


def _records_page(
    c: sqlite3.Connection, since: float, after: tuple[float, int]
) -> list[_RecordRow]:
    # The range starts at the last row read, not at `since`: restarting every page at
    # `since` made SQLite walk all earlier rows again (quadratic over a long history).
    args = (max(since, after[0]), after[0], after[0], after[1], _PAGE)
    rows: list[_RecordRow] = c.execute(_RECORDS_PAGE, args).fetchall()
    return rows


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema to SCHEMA_VERSION (PRAGMA user_version), one step at a time."""
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"state database schema {version} is newer than this program ({SCHEMA_VERSION})"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _MIGRATIONS[target].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
