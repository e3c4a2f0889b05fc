"""Session stores: one interface, several backends, chosen by one URL setting."""

from __future__ import annotations

from dialogs.stores.base import SessionStore
from dialogs.stores.memory import MemoryStore

__all__ = ["MemoryStore", "SessionStore", "open_store"]


def open_store(url: str) -> SessionStore:
    """Open the store named by `url`: memory://, sqlite:///path, redis://host:port/db."""
    if url.startswith("memory://"):
        return MemoryStore()
    if url.startswith("sqlite://"):
        from dialogs.stores.sqlite import SqliteStore

        return SqliteStore.from_url(url)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dialogs.stores.redis import RedisStore

        return RedisStore.from_url(url)
    raise ValueError(f"unknown store URL scheme: {url.split(':', 1)[0]!r}")
