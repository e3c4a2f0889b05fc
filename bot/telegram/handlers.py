"""Thin Telegram handlers: Update → `Incoming` → `Engine.handle` → rendered messages.

Nothing here decides what to say; the engine does. This module only knows Telegram: who is
addressed in a group, which pressed keyboards to retire, when to show "typing…", how to
answer a callback query, and what to tell the user when something breaks.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
import traceback
from collections.abc import Awaitable, Set

from telegram import Message, ReplyParameters, Update
from telegram.constants import ChatAction, MessageEntityType
from telegram.error import BadRequest, Forbidden, TelegramError, TimedOut
from telegram.ext import ApplicationHandlerStop, ContextTypes, filters

from bot.telegram.render import render_all
from dialogs.callbacks import RETIRED_ON_PRESS, Callback
from dialogs.delivery import Deliver, delivering
from dialogs.engine import Engine
from dialogs.outcomes import Outcome, outcome_of
from dialogs.types import Incoming, Reply
from knowledge.ui_keys import apology

log = logging.getLogger(__name__)


class AddressedToBot(filters.MessageFilter):
    """A group text meant for this bot: a command (not for another bot), a mention, a reply.

    Telegram delivers commands, mentions and replies to bots in privacy mode anyway; this
    keeps the bot quiet in groups where privacy mode is off.
    """

    def filter(self, message: Message) -> bool:
        bot = message.get_bot()
        text = message.text or ""
        reply = message.reply_to_message
        if reply is not None and reply.from_user is not None and reply.from_user.id == bot.id:
            return True
        for entity in message.entities:
            if entity.offset != 0 or entity.type != MessageEntityType.BOT_COMMAND:
                continue
            command = text[: entity.length]
            _, at, target = command.partition("@")
            return not at or target.lower() == (bot.username or "").lower()
        return mentions(message, bot.username or "", bot.id)


def answered(update: Update) -> bool:
    """Whether the bot answers `update`: group texts only when addressed to it (the rest of
    a group's chatter is read and ignored, and must not count as that chat's backlog)."""
    message = update.message
    chat = update.effective_chat
    if message is None or chat is None or chat.type == "private":
        return True
    return bool(AddressedToBot().filter(message))


def mentions(message: Message, username: str, bot_id: int) -> bool:
    for entity in message.entities:
        if entity.type == MessageEntityType.TEXT_MENTION and entity.user is not None:
            if entity.user.id == bot_id:
                return True
        elif (
            entity.type == MessageEntityType.MENTION
            and message.parse_entity(entity).lower() == f"@{username}".lower()
        ):
            return True
    return False


def strip_mention(text: str, username: str) -> str:
    """The text without `@username` (any case), so the engine sees only the question."""
    if not username:
        return text.strip()
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


class ChatHandlers:
    """The handler callbacks, bound to one engine."""

    def __init__(
        self, engine: Engine, typing_after: float = 0.3, throttled: Set[int] = frozenset()
    ) -> None:
        self.engine = engine
        self.typing_after = typing_after
        self.throttled = throttled  # update ids to answer with "too fast" (UpdateLedger)

    async def on_too_fast(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Before every other handler: the first update of a chat over its queue cap gets
        one "您发得太快了" notice instead of an answer (the rest of its burst was dropped)."""
        if not isinstance(update, Update) or update.update_id not in self.throttled:
            return
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        if update.effective_chat is not None:
            text = html.escape(self.engine.kb.text("too_fast"), quote=False)
            await context.bot.send_message(update.effective_chat.id, text)
        raise ApplicationHandlerStop

    # ------------------------------------------------------------------ handlers
    async def on_private_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Private chats: every text, commands included, goes to the engine as typed."""
        message = update.message
        if message is None or message.text is None:
            return
        incoming = Incoming(text=message.text, update_id=update.update_id)
        await self._answer(context, message.chat_id, incoming)

    async def on_group_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Groups: only texts that passed `AddressedToBot`, without the @mention."""
        message = update.message
        if message is None or message.text is None:
            return
        text = strip_mention(message.text, context.bot.username or "")
        incoming = Incoming(text=text, update_id=update.update_id)
        # Threaded to the asker's message: in a group several people may be asking.
        await self._answer(context, message.chat_id, incoming, reply_to=message.message_id)

    async def on_non_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice, files, locations…: say we read text, show the menu."""
        message = update.message
        if message is None:
            return
        await self._send(context, message.chat_id, self.engine.notice("non_text"))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pressed inline button: answer the query, retire the keyboard, send the replies."""
        query = update.callback_query
        if query is None:
            return
        message = query.message
        if query.data is None or message is None or update.effective_chat is None:
            await query.answer()
            return
        chat_id = update.effective_chat.id
        data = query.data

        async def deliver(replies: list[Reply]) -> None:
            stale = self._is_stale(replies)
            try:
                await query.answer(text=self.engine.kb.text("stale_button") if stale else None)
            except BadRequest as exc:
                # Answered before a restart (the update came again) or too old: the reply
                # itself must still go out.
                log.debug("callback query not answered: %s", exc.message)
            pressed = Callback.unpack(data)
            if stale or (pressed is not None and pressed.kind in RETIRED_ON_PRESS):
                try:
                    await context.bot.edit_message_reply_markup(
                        chat_id=chat_id, message_id=message.message_id, reply_markup=None
                    )
                except BadRequest as exc:
                    # Already without keyboard, or too old to edit: nothing left to retire.
                    log.debug("keyboard not retired: %s", exc.message)
            if stale:
                # A double tap or an old button: the toast says it; the latest message
                # still has the live buttons, so nothing more is sent over it.
                return
            await self._send(context, chat_id, replies)

        incoming = Incoming(callback=data, update_id=update.update_id)
        if not await self._think(context, chat_id, incoming, deliver):
            # Nothing to say (a redelivered update): still stop the button's spinner.
            try:
                await query.answer()
            except BadRequest as exc:
                log.debug("callback query not answered: %s", exc.message)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure (update id, no text, no token) and apologise to the user."""
        update_id = update.update_id if isinstance(update, Update) else None
        error = context.error
        if isinstance(error, Forbidden) and isinstance(update, Update) and update.effective_chat:
            await self._close_blocked(update.effective_chat.id, update_id)
            return
        # Frames only: an exception's message may quote what the user wrote.
        frames = "".join(traceback.format_tb(error.__traceback__)) if error else ""
        log.error("update %s failed: %s\n%s", update_id, type(error).__name__, frames)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        try:
            await context.bot.send_message(
                update.effective_chat.id, html.escape(apology(self.engine.kb.ui), quote=False)
            )
        except TelegramError as exc:
            log.warning("could not tell update %s about the failure: %s", update_id, exc)

    async def _close_blocked(self, chat_id: int, update_id: int | None) -> None:
        """Telegram refuses for good (the user blocked the bot, left the group): retrying or
        apologising cannot reach them, so the chat's session is closed and the update done."""
        store = self.engine.store
        await store.delete(chat_id)
        log.info(
            "update %s: chat %s blocked the bot; session closed",
            update_id,
            store.chat_hash(chat_id),
        )

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _is_stale(replies: list[Reply]) -> bool:
        return any(outcome_of(r.state) is Outcome.STALE for r in replies)

    async def _answer(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        incoming: Incoming,
        reply_to: int | None = None,
    ) -> None:
        async def deliver(replies: list[Reply]) -> None:
            await self._send(context, chat_id, replies, reply_to)

        await self._think(context, chat_id, incoming, deliver)

    async def _think(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        incoming: Incoming,
        deliver: Deliver,
    ) -> bool:
        """Run the engine turn, which calls `deliver` before saving its state (so a crash
        in between repeats the turn rather than losing its reply); show "typing…" if the
        thinking takes longer than a blink. Replies of an engine that did not deliver them
        itself are delivered afterwards. False when `deliver` was never called (nothing to
        say, e.g. a redelivered update)."""
        delivered = asyncio.Event()

        async def send(replies: list[Reply]) -> None:
            delivered.set()
            await deliver(replies)

        with delivering(send):
            turn = asyncio.ensure_future(self.engine.handle(chat_id, incoming))
        sending = asyncio.ensure_future(delivered.wait())
        done, _ = await asyncio.wait(
            {turn, sending}, timeout=self.typing_after, return_when=asyncio.FIRST_COMPLETED
        )
        sending.cancel()
        if not done:
            await self._typing(context, chat_id)
        replies = await turn
        if delivered.is_set():
            return True
        if replies:
            await deliver(replies)
            return True
        return False

    @staticmethod
    async def _typing(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
        try:
            await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
        except TelegramError as exc:  # cosmetic: never fail a turn over it
            log.debug("typing action failed: %s", exc.message)

    @staticmethod
    async def _send(
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        replies: list[Reply],
        reply_to: int | None = None,
    ) -> None:
        """Send each message once, the first threaded to message `reply_to` if given (sent
        anyway if that message is gone). A timed-out send is counted as sent: Telegram has
        most likely handled it and only its answer was late, and a reply twice is worse than
        a reply lost (the rate limiter retries only errors that mean "not handled")."""
        for i, message in enumerate(render_all(replies)):
            thread = (
                ReplyParameters(reply_to, allow_sending_without_reply=True)
                if reply_to is not None and i == 0
                else None
            )
            sent: Awaitable[Message] = context.bot.send_message(
                chat_id, message.html, reply_markup=message.markup, reply_parameters=thread
            )
            try:
                await sent
            except TimedOut:
                log.warning("sendMessage timed out; counted as sent, not repeated")
