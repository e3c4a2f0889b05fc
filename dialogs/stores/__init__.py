"""Session stores: one interface, several backends, chosen by one URL setting."""

from __future__ import annotations

from dialogs.stores.base import PurgeResult, SessionStore
from dialogs.stores.memory import MemoryStore
from dialogs.stores.records import TurnRecord
from dialogs.stores.settings import StoreSettings, default_store_url

__all__ = [
    "MemoryStore",
    "PurgeResult",
    "SessionStore",
    "StoreSettings",
    "TurnRecord",
    "default_store_url",
    "open_store",
]


def open_store(
    url: str, settings: StoreSettings | None = None, exclusive: bool = False
) -> SessionStore:
    """Open the store named by `url`: memory://, sqlite:///path, redis://host:port/db.

    Without `settings`, the default lifetimes and the built-in salt (the edges pass the
    configured ones: `bot.settings.Settings.store_settings`). `exclusive`: a SQLite file is
    refused (`StoreInUse`) while another process serves it (a reader passes False).
    """
    settings = settings or StoreSettings()
    if url.startswith("memory://"):
        return MemoryStore(settings)
    if url.startswith("sqlite://"):
        from dialogs.stores.sqlite import SqliteStore

        return SqliteStore.from_url(url, settings, exclusive)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dialogs.stores.redis import RedisStore

        return RedisStore.from_url(url, settings)
    raise ValueError(f"unknown store URL scheme: {url.split(':', 1)[0]!r}")
