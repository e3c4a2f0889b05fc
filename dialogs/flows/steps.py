"""A guided flow written entirely in the knowledge files: questions in a fixed order, then a
closing text. For a city whose process has no rule to compute (no dates, no verdict), so
adding it needs data only (see README "How to add a city").

`flow_text.<name>` holds, besides what every flow has (title, intro, context_words,
questions), `steps` (the question names in the order asked) and `text.closing` (said when
every step is answered). The ask texts may name earlier answers: `{<slot>}` is replaced by
the label of the option chosen.
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise

from dialogs import outcomes
from dialogs.flows.machine import GuidedFlow
from dialogs.flows.questions import CommonText, FlowText
from dialogs.flows.spec import MachineSpec
from dialogs.outcomes import Outcome
from dialogs.session import Session
from dialogs.types import Reply
from knowledge.loader import KnowledgeBase

DONE = "done"


def steps_spec(name: str, text: FlowText) -> MachineSpec:
    """One `next` from each question to the one after it, the last to DONE."""
    steps = tuple(str(s) for s in text.extra("steps"))
    if not steps or len(set(steps)) != len(steps) or DONE in steps:
        raise ValueError(f"flow {name}: steps must be distinct question names (not {DONE!r})")
    chain = [*steps, DONE]
    return MachineSpec(
        name=name,
        title=text.title,
        states=tuple(chain),
        initial=steps[0],
        transitions=tuple({"trigger": "next", "source": a, "dest": b} for a, b in pairwise(chain)),
        final=frozenset({DONE}),
    )


class StepsFlow(GuidedFlow):
    TEXT_KEYS = frozenset({"closing"})

    def __init__(self, name: str, kb: KnowledgeBase, text: FlowText, common: CommonText) -> None:
        self.spec = steps_spec(name, text)
        super().__init__(kb, text, common)

    def render_other(self, state: str, session: Session, today: date) -> list[Reply]:
        said = [
            d
            for q in self.questions.values()
            if (d := self.describe(q.slot, str(session.slots.get(q.slot, ""))))
        ]
        body = self.t("closing", answers=self.common.ack_sep.join(said))
        return [
            Reply(
                text=body,
                buttons=self.end_buttons(),
                state=outcomes.state(Outcome.FLOW, self.name, state),
            )
        ]
