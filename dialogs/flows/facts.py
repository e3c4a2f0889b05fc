"""Facts a guided flow reads from free text said over several messages, and which flow
ended on a verdict one can step back from: shared by the router's decisions."""

from __future__ import annotations

import json
from datetime import date

from dialogs.dialogue import SAID_SEP
from dialogs.flows.machine import GuidedFlow
from dialogs.session import Session


def facts_of(
    flow: GuidedFlow, text: str, session: Session, today: date
) -> tuple[dict[str, str], dict[str, str]]:
    """The facts of several messages (one per line, oldest first; a later one's fact
    replaces an earlier one's), and those of the last message alone."""
    facts: dict[str, str] = {}
    last: dict[str, str] = {}
    for line in text.split(SAID_SEP):
        last = flow.extract(line, session, today)
        facts.update(last)
    return facts, last


def ended_flow(session: Session) -> str | None:
    """The flow that last ended on a verdict one can step back from (`Session.ended`)."""
    try:
        kept = json.loads(session.ended) if session.ended else None
    except ValueError:
        return None
    name = kept.get("flow") if isinstance(kept, dict) else None
    return name if isinstance(name, str) else None
