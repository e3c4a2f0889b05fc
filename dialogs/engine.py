"""The turn engine: one async function from (chat, what the user did) to replies.

Every edge (Telegram, WeChat, terminal chat, JSON-lines replay, eval) calls `Engine.handle`;
the engine cleans the input, takes the chat's lock, loads its session, lets the router
(`dialogs.routing`) decide, delivers the replies, saves the session and records the turn.
All wording comes from the knowledge files.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from dialogs.callbacks import Callback, Kind
from dialogs.choices import choose, keep_offer, next_offer, stamp
from dialogs.clock import users_today
from dialogs.delivery import deliver
from dialogs.flows.base import Flow
from dialogs.hygiene import scrub_optional
from dialogs.routing import MAX_CHARS, Router
from dialogs.session import Session
from dialogs.stores.base import ErasureNotConfirmedError, KeptReply, OutageNotices, SessionStore
from dialogs.stores.records import TurnRecord, classify_turn
from dialogs.types import ChatId, Incoming, Reply
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Matcher

__all__ = ["MAX_CHARS", "Engine", "Pager", "Remember", "confirms_forget", "is_redelivery"]

log = logging.getLogger(__name__)

Pager = Callable[[list[Reply]], tuple[list[Reply], str]]
"""An edge's size limit, applied inside the turn: the replies it can show, and the rest of
the text (empty: none), which the session keeps for "更多" (WeChat: 2048 bytes a message)."""


@dataclass(frozen=True, slots=True)
class Remember:
    """For a channel that resends a message it got no answer to (WeChat): keep the turn's
    reply, as `render` shows the replies, under `key` for `ttl` seconds — in the same store
    write as the session (`SessionStore.commit`), so a session that says the message was
    answered always comes with its reply."""

    key: str
    render: Callable[[list[Reply]], str]
    ttl: float


def _scrubbed(incoming: Incoming) -> Incoming:
    """The update with its text and callback cleaned before anything of it is kept; copied
    only when cleaning changed something (most turns: nothing to drop)."""
    text, callback = scrub_optional(incoming.text), scrub_optional(incoming.callback)
    if text == incoming.text and callback == incoming.callback:
        return incoming
    return replace(incoming, text=text, callback=callback)


class Engine(Router):
    """Stateless between turns: everything per chat lives in the store."""

    def __init__(
        self,
        kb: KnowledgeBase,
        matcher: Matcher,
        store: SessionStore,
        flows: Mapping[str, Flow] | None = None,
        clock: Callable[[], date] = users_today,
    ) -> None:
        super().__init__(kb, matcher, flows, clock)
        self.store = store
        # Told after every confirmed erasure (an edge's maintenance rebuilds the file soon).
        self.on_erased: Callable[[], None] | None = None
        # A store that can be degraded says once per chat that progress may not be kept.
        self._notices = store if isinstance(store, OutageNotices) else None

    async def handle(
        self,
        chat_id: ChatId,
        incoming: Incoming,
        pager: Pager | None = None,
        remember: Remember | None = None,
    ) -> list[Reply]:
        """One turn. An edge that installed a sender (`dialogs.delivery.delivering`) gets the
        replies before the state is saved, and an update it already got an answer for
        (same or older `update_id`, see `is_redelivery`) yields no reply at all.

        A bare number ("1", "１", "一") picks the button of that number among those the
        previous turn offered (`Session.offered`), or, with `incoming.offer` (a tapped
        link), among those of the offer it names (`dialogs.choices`). `pager`: an edge
        that must cut long answers; the session keeps the rest until the user asks for
        "更多". `remember`: the reply kept with the turn for the channel's resends. Two store
        calls a turn: the load, and the commit of session, record and reply."""
        today = incoming.today or self.clock()
        incoming = _scrubbed(incoming)  # the one place input is cleaned (dialogs.hygiene)
        async with self.store.lock(chat_id):
            session = await self.store.load(chat_id) or Session(chat_id=chat_id)
            if is_redelivery(session, incoming.update_id):
                return []
            chosen = choose(session, incoming)
            if chosen is not None:
                incoming = replace(incoming, text=None, callback=chosen)
            if confirms_forget(session, incoming.callback):
                erased = await self._erase(chat_id)
                await deliver(erased)
                return erased
            more = self._more(session, incoming)
            replies = more if more is not None else self.turn(session, incoming, today)
            if self._notices is not None and self._notices.take_notice(chat_id):
                replies = [Reply(text=self.kb.text("store_degraded")), *replies]
            now = time.time()
            offer = next_offer(session.offer, now)
            replies = stamp(replies, offer)
            shown, rest = pager(replies) if pager is not None else (replies, "")
            session.more = rest
            if more is None:  # "更多" leaves the choices offered before it in force
                keep_offer(session, offer, shown)
            await deliver(shown)
            session.touch(now)
            if incoming.update_id is not None:
                session.answered = [*session.answered[1 - KEEP_ANSWERED :], incoming.update_id]
            outcome = classify_turn(
                replies, self.kb.out_of_scope, session.flow is not None, incoming.text
            )
            confidence = next((r.confidence for r in replies if r.confidence is not None), None)
            record = TurnRecord.new(
                self.store.chat_hash(chat_id), outcome, incoming.text, confidence=confidence
            )
            kept = None
            if remember is not None:
                kept = KeptReply(remember.key, remember.render(shown), remember.ttl)
            await self.store.commit(session, record, kept)
            return shown

    async def forget(self, chat_id: ChatId) -> bool:
        """Erase the chat's session, records and remembered replies, without a reply (the
        user left the channel, e.g. unfollowed a WeChat account: nothing is kept). False
        when the backend could not confirm it (logged; erased as soon as it returns)."""
        async with self.store.lock(chat_id):
            try:
                await self.store.forget(chat_id)
            except ErasureNotConfirmedError:
                log.warning("erasure not confirmed by the store; pending until it returns")
                return False
        self._erased()
        return True

    def _erased(self) -> None:
        if self.on_erased is not None:
            self.on_erased()

    async def _erase(self, chat_id: ChatId) -> list[Reply]:
        """The confirmed "/forget": erased and said so only once the backend confirmed."""
        try:
            await self.store.forget(chat_id)
        except ErasureNotConfirmedError:
            log.warning("erasure not confirmed by the store; the user was told to retry")
            return [Reply(text=self.kb.text("forget_failed"))]
        self._erased()
        return [self.say.menu("main", prefix=self.kb.text("forgotten"))]

    def _more(self, session: Session, incoming: Incoming) -> list[Reply] | None:
        """The rest of the last long answer when the user asks for more; None otherwise."""
        text = (incoming.text or "").strip().lower()
        if incoming.callback is not None or text not in self._more_words:
            return None
        if session.more:
            rest, session.more = session.more, ""
            return [Reply(text=rest)]
        return [self.say.menu("main", prefix=self.kb.text("no_more"))]

    async def describe_state(self, chat_id: ChatId) -> str | None:
        """The chat's dialog state as `flow.state`, or None outside a flow (for replay)."""
        session = await self.store.load(chat_id)
        if session is None or not session.flow:
            return None
        return f"{session.flow}.{session.state}" if session.state else session.flow

    def notice(self, key: str) -> list[Reply]:
        """A UI notice plus the main menu, leaving every session alone (e.g. a sticker)."""
        return [self.say.menu("main", prefix=self.kb.text(key))]


KEEP_ANSWERED = 8  # update ids remembered per chat: more than a crash can leave unacknowledged


def confirms_forget(session: Session, callback: str | None) -> bool:
    """True for the confirm button of the chat's own, latest "/forget" prompt: the button
    carries the one-time nonce that prompt kept in the session (`x:forget:yes:<nonce>`)."""
    pressed = Callback.unpack(callback)
    if pressed is None or not pressed.is_(Kind.ACTION, "forget", "yes") or len(pressed.args) != 3:
        return False
    nonce = pressed.args[2]
    return bool(session.forget_nonce) and secrets.compare_digest(nonce, session.forget_nonce)


def is_redelivery(session: Session, update_id: int | None) -> bool:
    """True when `update_id` was already answered in this chat (delivered again after a crash).

    The exact ids, not a high-water mark: with several instances behind a webhook an older
    update of a chat may arrive after a newer one and must still be answered, and Telegram
    numbers updates at random after a week without any.
    """
    return update_id is not None and update_id in session.answered
