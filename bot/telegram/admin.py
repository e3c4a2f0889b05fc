"""Admin commands in Telegram: `/reload` (knowledge hot reload) and `/stats` (usage summary).

Admins are the user ids in YIBAO_ADMIN_IDS, and only in a private chat with the bot (a
summary of what people asked is not for a group). For anyone else the commands are not
handled here at all: the update goes on to the normal handlers, which treat `/reload` like
any other unknown text. The handlers run in a group before the chat handlers and stop
further handling once they answered.
"""

from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop, CommandHandler, ContextTypes, filters

from bot.cli.report import short_stats
from bot.ops.reloader import ReloadBroadcast, Reloader, ReloadOutcome, reload_everywhere
from knowledge.loader import KnowledgeBase

log = logging.getLogger(__name__)

ADMIN_GROUP = -1  # before the chat handlers (group 0)
MAX_PROBLEMS_SHOWN = 12  # the first problem is the cause; the rest are often its echoes
MAX_PROBLEM_CHARS = 200


def reload_message(kb: KnowledgeBase, outcome: ReloadOutcome, follow_seconds: float | None) -> str:
    """What the admin reads after /reload (plain text; escape before sending as HTML)."""
    if not outcome.ok:
        shown = [p[:MAX_PROBLEM_CHARS] for p in outcome.problems[:MAX_PROBLEMS_SHOWN]]
        lines = [
            kb.text("admin_reload_failed", count=len(outcome.problems), version=outcome.version),
            *shown,
        ]
        hidden = len(outcome.problems) - len(shown)
        if hidden > 0:
            lines.append(kb.text("admin_reload_more", count=hidden))
        return "\n".join(lines)
    if outcome.changed:
        text = kb.text("admin_reload_done", version=outcome.version, entries=outcome.entries)
    else:
        text = kb.text("admin_reload_unchanged", version=outcome.version)
    if follow_seconds is not None:
        text += "\n" + kb.text("admin_reload_others", seconds=f"{follow_seconds:g}")
    return text


class AdminCommands:
    """The /reload and /stats callbacks, bound to one reloader (and its engine)."""

    def __init__(
        self,
        reloader: Reloader,
        broadcast: ReloadBroadcast | None,
        follow_seconds: float | None,
    ) -> None:
        self.reloader = reloader
        self.broadcast = broadcast
        self.follow_seconds = follow_seconds

    def handlers(
        self, admin_ids: tuple[int, ...]
    ) -> list[CommandHandler[ContextTypes.DEFAULT_TYPE, None]]:
        admins = filters.User(user_id=admin_ids) & filters.ChatType.PRIVATE
        return [
            CommandHandler("reload", self.on_reload, filters=admins),
            CommandHandler("stats", self.on_stats, filters=admins),
        ]

    async def on_reload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        log.info("admin %s asked for a knowledge reload", _user_id(update))
        outcome = await reload_everywhere(self.reloader, self.broadcast)
        follow = self.follow_seconds if self.broadcast is not None else None
        text = reload_message(self.reloader.engine.kb, outcome, follow)
        await context.bot.send_message(chat.id, html.escape(text, quote=False))
        raise ApplicationHandlerStop

    async def on_stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        engine = self.reloader.engine
        clock = context.bot_data.get("clock")  # the users' time zone (build_application)
        text = await short_stats(engine.store, engine.kb, clock=clock)
        await context.bot.send_message(chat.id, html.escape(text, quote=False))
        raise ApplicationHandlerStop


def _user_id(update: Update) -> int | None:
    return update.effective_user.id if update.effective_user is not None else None
