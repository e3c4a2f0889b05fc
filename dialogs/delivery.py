"""Handing a turn's replies to the edge *before* the turn's state is saved.

An edge that delivers at least once (Telegram long polling: an update fetched but not yet
acknowledged is fetched again after a crash) needs two things from a turn: its replies are
sent before its new state is saved, so a crash in between repeats the turn from the old
state instead of skipping a reply; and the update is remembered with that state, so a
repeated delivery of an update already answered is not answered twice (`Engine.handle`
looks `Incoming.update_id` up in `Session.answered`).

The edge installs its sender for the duration of one call with `delivering(send)`; the
engine calls `deliver(replies)`, which reports whether someone took them. A context
variable rather than a parameter keeps `Engine.handle(chat_id, incoming)` unchanged for
the edges that simply send what it returns (terminal, replay, eval).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from dialogs.types import Reply

Deliver = Callable[[list[Reply]], Awaitable[None]]

_current: ContextVar[Deliver | None] = ContextVar("yibao_deliver", default=None)


@contextmanager
def delivering(send: Deliver) -> Iterator[None]:
    """Within this block (and tasks started in it), the engine hands replies to `send`."""
    token = _current.set(send)
    try:
        yield
    finally:
        _current.reset(token)


async def deliver(replies: list[Reply]) -> bool:
    """Send `replies` through the installed sender; False when there is none."""
    send = _current.get()
    if send is None:
        return False
    await send(replies)
    return True
