"""`yibao chat` and `yibao ask`: the terminal edge over the same engine.

Buttons are shown numbered; the user picks one by number or by typing its label.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date

from bot.settings import Settings
from bot.wiring import engine_for
from dialogs.engine import Engine
from dialogs.types import Button, Incoming, Reply

CHAT_ID = 1  # the terminal is one person's conversation


def render(replies: list[Reply]) -> tuple[str, list[Button]]:
    """Plain text with numbered buttons, and the buttons in the order shown."""
    parts: list[str] = []
    shown: list[Button] = []
    for reply in replies:
        parts.append(reply.plain())
        for row in reply.buttons:
            labels = []
            for button in row:
                shown.append(button)
                labels.append(f"[{len(shown)}] {button.text}")
            parts.append("  ".join(labels))
        parts.append("")
    return "\n".join(parts).rstrip() + "\n", shown


def to_incoming(line: str, shown: list[Button], today: date | None) -> Incoming:
    """A number or an exact label picks a shown button; anything else is typed text."""
    text = line.strip()
    if text.isdigit() and 1 <= int(text) <= len(shown):
        return Incoming(callback=shown[int(text) - 1].callback, today=today)
    for button in shown:
        if text == button.text:
            return Incoming(callback=button.callback, today=today)
    return Incoming(text=line, today=today)


async def _chat(engine: Engine, today: date | None) -> int:
    quit_words = engine.kb.command_words("quit")  # 退出 and friends, from keywords.yaml
    replies = await engine.handle(CHAT_ID, Incoming(text="/start", today=today))
    text, shown = render(replies)
    print(text, flush=True)
    while True:
        try:
            line = await asyncio.to_thread(input, "> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if line.strip().lower() in quit_words:
            return 0
        replies = await engine.handle(CHAT_ID, to_incoming(line, shown, today))
        text, shown = render(replies)
        print(text, flush=True)


def run_chat(args: argparse.Namespace, settings: Settings) -> int:
    """--store wins; else YIBAO_STORE; else the SQLite file under the user data directory."""
    today = date.fromisoformat(args.today) if args.today else None
    engine = engine_for(settings, args.store or settings.store_url())

    async def main() -> int:
        try:
            return await _chat(engine, today)
        finally:
            await engine.store.close()

    return asyncio.run(main())


def run_ask(args: argparse.Namespace, settings: Settings) -> int:
    today = date.fromisoformat(args.today) if args.today else None
    engine = engine_for(settings, "memory://")
    replies = asyncio.run(engine.handle(CHAT_ID, Incoming(text=args.question, today=today)))
    text, _ = render(replies)
    sys.stdout.write(text)
    return 0
