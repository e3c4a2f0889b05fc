"""The `yibao` command line and its terminal, replay, eval and report edges."""

from bot.cli.main import main

__all__ = ["main"]
