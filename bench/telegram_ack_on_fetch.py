"""Bench-only diagnostic: `yibao run` with updates acknowledged when fetched.

The real bot acknowledges an update to Telegram only once it is handled (bot/acknowledge.py,
required for crash recovery). With long polling that means re-polling with a low offset
while updates are in progress, which costs latency under load. This entry point runs the
same bot with PTB's plain behaviour (acknowledge on fetch) so the bench can show that
cost; it is never used outside `bench/bench_telegram.py`.
"""

from __future__ import annotations

import sys
from typing import Any

import bot.telegram.acknowledge as acknowledge
from bot.cli.main import main


async def _plain_get_updates(
    self: acknowledge.AcknowledgingBot, offset: int | None = None, **kwargs: Any
) -> Any:
    return await self._bot.get_updates(offset=offset, **kwargs)


if __name__ == "__main__":
    acknowledge.AcknowledgingBot.get_updates = _plain_get_updates  # type: ignore[method-assign]
    sys.exit(main(["run"]))
