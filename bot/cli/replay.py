"""`yibao replay`: the machine interface. One JSON line in, exactly one JSON line out.

Input lines: {"chat_id": int, "text": str} or {"chat_id": int, "callback": str}.
Output lines: {"chat_id", "replies": [{"text", "buttons": [[{"text", "callback"}]]}],
"state", "entry"}; a malformed line yields {"error": "..."} and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import logging
from datetime import date
from typing import Any, TextIO

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from bot.settings import Settings
from bot.wiring import engine_for
from dialogs.engine import Engine
from dialogs.types import Incoming, Reply

log = logging.getLogger(__name__)


class ReplayLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chat_id: StrictInt = Field(ge=-(2**63), lt=2**63)  # what a store's integer key can hold
    text: StrictStr | None = None
    callback: StrictStr | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ReplayLine:
        if (self.text is None) == (self.callback is None):
            raise ValueError("give exactly one of 'text' or 'callback'")
        return self


def reply_json(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.plain(),
        "buttons": [
            [{"text": b.text, "callback": b.callback} for b in row] for row in reply.buttons
        ],
    }


def _error(message: str) -> str:
    return json.dumps({"error": message}, ensure_ascii=False)


async def replay_line(engine: Engine, line: str, today: date | None) -> str:
    """One line's answer; never raises (an unexpected failure is `{"error": "internal"}`,
    logged without the line, and the run goes on)."""
    try:
        return await _replay_line(engine, line, today)
    except Exception:
        log.exception("replay: a line failed")
        return _error("internal")


async def _replay_line(engine: Engine, line: str, today: date | None) -> str:
    try:
        raw = json.loads(line)
    except RecursionError:
        return _error("not JSON: nested too deeply")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return _error(f"not JSON: {exc.msg if isinstance(exc, json.JSONDecodeError) else exc}")
    try:
        msg = ReplayLine.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "line"
        return _error(f"{where}: {first['msg']}")
    incoming = Incoming(text=msg.text, callback=msg.callback, today=today)
    replies = await engine.handle(msg.chat_id, incoming)
    entry = next((r.entry for r in reversed(replies) if r.entry), None)
    state = await engine.describe_state(msg.chat_id)
    return json.dumps(
        {
            "chat_id": msg.chat_id,
            "replies": [reply_json(r) for r in replies],
            "state": state,
            "entry": entry,
        },
        ensure_ascii=False,
    )


async def run_replay(
    args: argparse.Namespace, settings: Settings, stdin: TextIO, stdout: TextIO
) -> int:
    today = date.fromisoformat(args.today) if args.today else None
    engine = engine_for(settings, args.store or settings.store_url(persistent=False))
    try:
        for line in stdin:
            if not line.strip():
                out = _error("empty line")
            else:
                out = await replay_line(engine, line, today)
            stdout.write(out + "\n")
            stdout.flush()
    finally:
        await engine.store.close()
    return 0
