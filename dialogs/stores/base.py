"""The session store contract every backend must honour (see tests/test_stores.py)."""

from __future__ import annotations

import abc
from contextlib import AbstractAsyncContextManager

from dialogs.session import Session


class SessionStore(abc.ABC):
    """Where sessions live between turns.

    `lock(chat_id)` serialises turns of one chat: the engine holds it from load to save so
    two updates of the same chat never interleave, in one process or (Redis) across many.
    """

    @abc.abstractmethod
    async def load(self, chat_id: int) -> Session | None: ...

    @abc.abstractmethod
    async def save(self, session: Session) -> None: ...

    @abc.abstractmethod
    async def delete(self, chat_id: int) -> bool:
        """Erase the chat's session; True if there was one."""

    @abc.abstractmethod
    def lock(self, chat_id: int) -> AbstractAsyncContextManager[None]: ...

    @abc.abstractmethod
    async def purge_idle(self, older_than: float) -> int:
        """Drop sessions last updated before `older_than` (Unix time); return how many."""

    async def ping(self) -> bool:
        """True when the backend is reachable."""
        return True

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and files."""
