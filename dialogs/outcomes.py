"""What a reply is, for the edges, the turn records and the evaluation: a typed outcome.

`Reply.state` carries it as text (`verdict:eligible`, `flow:tianjin:birth`, `abstain`) so it
serialises with the reply; it is built with `state()` and read with `outcome_of()` here, never
by formatting or prefix tests elsewhere.
"""

from __future__ import annotations

from enum import StrEnum

SEP = ":"


class Outcome(StrEnum):
    ANSWER = "answer"  # an entry (Reply.entry says which)
    VERDICT = "verdict"  # a rule's verdict (90 days, eligibility): detail = the verdict
    CALENDAR = "calendar"  # the Suzhou calendar: detail = the phase
    FLOW = "flow"  # a flow's question or result: detail = flow:state
    MENU = "menu"  # a menu: detail = its id
    UNANSWERED = "unanswered"  # nothing in the knowledge answers it
    CLARIFY = "clarify"  # which city?
    ABSTAIN = "abstain"  # the page does not say (for this aspect, city, step)
    GUARD = "guard"  # a population, city or year the pages do not cover
    ACT = "act"  # conversation: a greeting, thanks, a statement of context
    ASK = "ask"  # a question back (which day exactly?)
    STALE = "stale"  # a button of a step already passed


# Replies that state no fact: an honest "not covered", a question back, a menu.
NO_FACTS = frozenset(
    {
        Outcome.UNANSWERED,
        Outcome.CLARIFY,
        Outcome.ABSTAIN,
        Outcome.GUARD,
        Outcome.ACT,
        Outcome.ASK,
        Outcome.MENU,
        Outcome.STALE,
    }
)


def state(outcome: Outcome, *detail: str) -> str:
    """The `Reply.state` text of an outcome and its details."""
    return SEP.join((outcome.value, *detail))


def outcome_of(reply_state: str | None) -> Outcome | None:
    """The outcome a `Reply.state` names; None for no state (an entry's answer)."""
    if not reply_state:
        return None
    try:
        return Outcome(reply_state.partition(SEP)[0])
    except ValueError:
        return None


def detail_of(reply_state: str | None) -> str:
    """What follows the outcome (`flow:tianjin:birth` -> `tianjin:birth`)."""
    return (reply_state or "").partition(SEP)[2]
