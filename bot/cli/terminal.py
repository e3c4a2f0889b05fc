"""`yibao chat` and `yibao ask`: the terminal edge over the same engine.

Buttons are shown numbered the way every text edge numbers them (`dialogs.choices`: replies
in order, rows top to bottom, buttons left to right, only replies whose choices a number may
pick), and the number goes to the engine as typed: it picks from `Session.offered`, so "2"
means the same here as on WeChat — and on a question answered by a number (the Suzhou years
of residence) it is that number, its choices shown by label only. Typing a shown label
exactly presses that button.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date

from bot.settings import Settings
from bot.wiring import engine_for
from dialogs.choices import numbered_buttons
from dialogs.engine import Engine
from dialogs.types import Button, Incoming, Reply

CHAT_ID = 1  # the terminal is one person's conversation


def render(replies: list[Reply]) -> tuple[str, list[Button]]:
    """Plain text with the buttons (numbered where a number picks them, as
    `numbered_buttons` orders them), and every button shown."""
    parts: list[str] = []
    shown: list[Button] = []
    number = 0
    for reply in replies:
        parts.append(reply.plain())
        for row in reply.buttons:
            labels = []
            for button in row:
                shown.append(button)
                if reply.numbered:
                    number += 1
                    labels.append(f"[{number}] {button.text}")
                else:
                    labels.append(f"[{button.text}]")
            parts.append("  ".join(labels))
        parts.append("")
    assert number == len(numbered_buttons(replies))
    return "\n".join(parts).rstrip() + "\n", shown


def to_incoming(line: str, shown: list[Button], today: date | None) -> Incoming:
    """An exact label presses a shown button; anything else, numbers included, is typed
    text (the engine picks a number from the choices it offered)."""
    text = line.strip()
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
