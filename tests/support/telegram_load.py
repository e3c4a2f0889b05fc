"""Load scripts shared by the load tests and `bench/bench_telegram.py`.

Each chat sends the same ten text turns, rotated by its id so that chats are in different
states at any moment. What the bot must answer is computed by running the very same turns
through a reference engine (same knowledge, memory store): the bot's replies per chat must
equal it exactly — nothing lost, nothing duplicated, nothing out of order.
"""

from __future__ import annotations

from bot.telegram.render import render_all
from bot.wiring import build_engine
from dialogs.types import Incoming

TURNS = (
    "/start",
    "积分",
    "/help",
    "天津新生儿医保交多少钱",
    "/menu",
    "积分入医要带什么材料",
    "/about",
    "苏州",
    "外地户口孩子在苏州怎么上医保",
    "/cancel",
)


def script(chat_id: int, turns: int = len(TURNS)) -> list[str]:
    """The texts chat `chat_id` sends, in order."""
    start = chat_id % len(TURNS)
    return [TURNS[(start + i) % len(TURNS)] for i in range(turns)]


async def expected_replies(chat_ids: list[int], turns: int) -> dict[int, list[list[str]]]:
    """Per chat, per turn: the HTML texts the bot must send (via a reference engine)."""
    engine = build_engine("memory://")
    by_rotation: dict[int, list[list[str]]] = {}
    out: dict[int, list[list[str]]] = {}
    for chat_id in chat_ids:
        rotation = chat_id % len(TURNS)
        if rotation not in by_rotation:
            per_turn = []
            for text in script(chat_id, turns):
                replies = await engine.handle(-1 - rotation, Incoming(text=text))
                per_turn.append([m.html for m in render_all(replies)])
            by_rotation[rotation] = per_turn
        out[chat_id] = by_rotation[rotation]
    await engine.store.close()
    return out


def flatten(per_turn: list[list[str]]) -> list[str]:
    return [html for turn in per_turn for html in turn]
