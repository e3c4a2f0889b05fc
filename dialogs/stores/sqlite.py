"""SQLite store: the default for `chat` and `run`, one file that survives restarts.

stdlib `sqlite3`, driven from asyncio through one thread of its own (`worker.Worker`) that
owns the one turn connection, so calls are serialised without a lock and the event loop
never blocks on disk. A turn is two calls: the load, and the `commit` of session, record
and reply in one transaction (one WAL commit, no index that no query uses). WAL mode lets
a second connection copy the WAL back (checkpoint) on its own thread, so no turn pays for
an fsync; `synchronous=NORMAL` keeps every committed turn across a process kill (only an
OS crash can lose the last few). Expired data is purged on open and by `purge()`;
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
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from functools import partial
from pathlib import Path
from typing import TypeVar

from dialogs.session import Session
from dialogs.stores.base import ChatLocks, KeptReply, SessionStore, decode_session
from dialogs.stores.records import TurnRecord
from dialogs.stores.settings import StoreSettings
from dialogs.stores.sqlite_file import (
    CHECKPOINT_EVERY,
    SCHEMA_VERSION,
    Checkpointer,
    FileLock,
    StoreInUse,
    atomically,
    migrate,
    truncate_wal,
)
from dialogs.stores.sqlite_sql import (
    INSERT_RECORD,
    MARK_COMPACT,
    PAGE,
    REMEMBER,
    REPLY_SWEEP_EVERY,
    SWEEP_REPLIES,
    Statement,
    records_page,
    transaction,
    upsert,
)
from dialogs.stores.worker import GroupCommit, Worker
from dialogs.types import ChatId

__all__ = ["CHECKPOINT_EVERY", "SCHEMA_VERSION", "SqliteStore", "StoreInUse", "path_from_url"]

T = TypeVar("T")
Failures = list[BaseException | None]  # of the writes of one group, in their order
# What fails one write of a group, not the file: it alone is refused.
_OWN_FAILURES = (
    sqlite3.IntegrityError,
    sqlite3.DataError,
    sqlite3.ProgrammingError,
    sqlite3.InterfaceError,
)
log = logging.getLogger(__name__)

BACKSTOP_CHECKPOINT_PAGES = 10_000  # inline checkpoint only if the background one falls behind


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


class SqliteStore(SessionStore):
    def __init__(
        self, path: str | Path, settings: StoreSettings | None = None, exclusive: bool = False
    ) -> None:
        super().__init__(settings)
        self.path = str(path)
        self._lock_key = (
            FileLock.acquire(self.path, wait=self.settings.standby)
            if exclusive and self.path != ":memory:"
            else None
        )
        self._worker = Worker("yibao-sqlite")
        self._group: GroupCommit[Sequence[Statement], Failures] = GroupCommit()
        self._conn: sqlite3.Connection | None = None
        self._locks = ChatLocks()
        self._closed = False
        self._checkpointer = None if self.path == ":memory:" else Checkpointer(self.path)
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
            # Checkpoints run on their own thread (Checkpointer); this is only a backstop.
            conn.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_CHECKPOINT_PAGES}")
            migrate(conn)
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
        self._wrote()
        return changed

    async def _write(self, statements: Sequence[Statement]) -> None:
        """The statements in one transaction, shared with the other writes waiting for the
        store's thread (`GroupCommit`); raises what failed them."""
        done, index = self._group.join(statements, self._start_group)
        failures = await asyncio.shield(done)
        self._wrote()
        failure = failures[index]
        if failure is not None:
            raise failure

    def _start_group(self, group: list[Sequence[Statement]]) -> asyncio.Future[Failures]:
        return asyncio.ensure_future(self._run(partial(self._write_group, group)))

    def _write_group(self, group: list[Sequence[Statement]], c: sqlite3.Connection) -> Failures:
        """On the store's thread: the group in one transaction. When it fails for one write's
        own reason (a constraint, a value), each write is tried alone, so that only that one
        fails; a failure of the file (locked, full, read-only, corrupt) fails them all."""
        self._group.close(group)
        try:
            transaction(c, [s for statements in group for s in statements])
            return [None] * len(group)
        except _OWN_FAILURES as exc:
            if len(group) == 1:
                return [exc]
        failures: Failures = []
        broken: sqlite3.Error | None = None  # the file failed meanwhile: the rest with it
        for statements in group:
            if broken is None:
                try:
                    transaction(c, statements)
                    failures.append(None)
                    continue
                except _OWN_FAILURES as exc:
                    failures.append(exc)
                    continue
                except sqlite3.Error as exc:
                    broken = exc
                    self._disconnect()
            failures.append(broken)
        return failures

    def _wrote(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.note_write()

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise RuntimeError("store is closed")
        return await self._worker.run(partial(self._call, fn))

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` on the connection; after a database error (locked, read-only, corrupt,
        I/O) drop the connection, so the next call starts afresh once the cause is gone."""
        try:
            return fn(self._connect())
        except sqlite3.DatabaseError:
            self._disconnect()
            raise

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------------ sessions
    async def load(self, chat_id: ChatId) -> Session | None:
        def q(c: sqlite3.Connection) -> str | bytes | None:
            key = str(chat_id)
            row = c.execute("SELECT data FROM sessions WHERE chat_id = ?", (key,)).fetchone()
            return None if row is None else row[0]

        return decode_session(await self._run(q), chat_id)

    async def save(self, session: Session) -> None:
        await self._exec(*upsert(session))

    async def delete(self, chat_id: ChatId) -> bool:
        return await self._exec("DELETE FROM sessions WHERE chat_id = ?", (str(chat_id),)) > 0

    def lock(self, chat_id: ChatId) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(chat_id)

    async def purge_idle(self, older_than: float) -> int:
        return await self._exec("DELETE FROM sessions WHERE updated < ?", (older_than,))

    # ------------------------------------------------------------------ records
    async def record_turn(self, record: TurnRecord) -> None:
        await self._exec(*self._insert_record(record))

    def _insert_record(self, record: TurnRecord) -> Statement:
        start, end = self.settings.day_of(record.at)
        chat, cap = record.chat, self.settings.records_per_chat_day
        args: tuple[object, ...] = (record.at, chat, record.outcome, record.confidence, record.text)
        args += (chat, start, end, cap, record.outcome, chat, start, end, record.text)
        return INSERT_RECORD, args

    async def iter_records(self, since: float = 0.0) -> AsyncIterator[TurnRecord]:
        # Keyset pagination: the executor is never held while the consumer works.
        after: tuple[float, int] = (since, -1)
        while True:
            rows = await self._run(partial(records_page, since=since, after=after))
            for rowid, at, chat, outcome, confidence, text in rows:
                yield TurnRecord(at, chat, outcome, confidence, text)
                after = (at, rowid)
            if len(rows) < PAGE:
                return

    async def purge_records(self, older_than: float) -> int:
        return await self._exec("DELETE FROM records WHERE at < ?", (older_than,))

    # ------------------------------------------------------------------ reply cache
    async def remember_reply(self, chat_id: ChatId, key: str, reply: str, ttl: float) -> None:
        await self._write(self._remember(chat_id, KeptReply(key, reply, ttl)))

    def _remember(self, chat_id: ChatId, reply: KeptReply) -> list[Statement]:
        """The reply's upsert, and every REPLY_SWEEP_EVERY replies the sweep of expired ones."""
        now = time.time()
        args = (self.chat_hash(chat_id), reply.key, now + reply.ttl, reply.text)
        statements: list[Statement] = [(REMEMBER, args)]
        self._remembered += 1
        if self._remembered % REPLY_SWEEP_EVERY == 0:
            statements.append((SWEEP_REPLIES, (now,)))
        return statements

    async def recall_reply(self, chat_id: ChatId, key: str) -> str | None:
        args = (self.chat_hash(chat_id), key, time.time())

        def q(c: sqlite3.Connection) -> str | None:
            sql = "SELECT data FROM replies WHERE chat = ? AND key = ? AND expires >= ?"
            row = c.execute(sql, args).fetchone()
            return None if row is None else str(row[0])

        return await self._run(q)

    # ------------------------------------------------------------------ the end of a turn
    async def commit(
        self, session: Session, record: TurnRecord, reply: KeptReply | None = None
    ) -> None:
        """One transaction on the store's thread: one hand-off and one WAL commit a turn."""
        statements = [upsert(session), self._insert_record(record)]
        if reply is not None:
            statements.extend(self._remember(session.chat_id, reply))
        await self._write(statements)

    # ------------------------------------------------------------------ privacy
    async def forget(self, chat_id: ChatId) -> None:
        chat = self.chat_hash(chat_id)

        def erase(c: sqlite3.Connection) -> None:
            with atomically(c):
                gone = c.execute("DELETE FROM sessions WHERE chat_id = ?", (str(chat_id),)).rowcount
                gone += c.execute("DELETE FROM records WHERE chat = ?", (chat,)).rowcount
                gone += c.execute("DELETE FROM replies WHERE chat = ?", (chat,)).rowcount
                if gone:  # a chat with no rows costs three index lookups, nothing more
                    c.execute(MARK_COMPACT)

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
            truncate_wal(c)
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
        self._worker.shutdown()
        if self._checkpointer is not None:
            self._checkpointer.close()
        if self._lock_key is not None:
            FileLock.release(self._lock_key)
            self._lock_key = None
