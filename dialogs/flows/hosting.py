"""Putting a turn's model on a flow's shared machine, cheaply.

`Machine.add_model` binds a `trigger`, a `may_trigger`, one method per event and one
`is_<state>` per state to the model (partials that name it): ~30-50 µs a flow step, a few
per cent of a WeChat reply. The bindings depend only on the model's class, so the model
that received them is kept once its turn is over, with nothing of the turn left on it,
and the next turn's model of the same class lends it its attributes instead of being
bound afresh. While a turn runs, its model is on the machine (`Machine.models`) with every
binding, as `add_model` leaves it; between turns no model is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from transitions import Machine

from dialogs.flows.spec import Turn


class TurnHosts:
    """Models of one machine already bound by `add_model`, idle between turns, by class."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        # Per class: idle models, each with the attributes `add_model` bound to it (all it
        # keeps between turns).
        self._idle: dict[type[Turn], list[tuple[Turn, dict[str, Any]]]] = {}

    @contextmanager
    def on_machine(self, turn: Turn, state: str) -> Iterator[Turn]:
        """A model with `turn`'s attributes, on the machine at `state`; taken off afterwards
        (also after an error). The model yielded is `turn` itself or a kept one."""
        idle = self._idle.setdefault(type(turn), [])
        if idle:
            model, bound = idle.pop()
            vars(model).update(vars(turn))
            self.machine.set_state(state, model)
            self.machine.models.append(model)
        else:
            model, own = turn, set(vars(turn)) | {self.machine.model_attribute}
            self.machine.add_model(model, initial=state)
            bound = {k: v for k, v in vars(model).items() if k not in own}
        try:
            yield model
        finally:
            self.machine.remove_model(model)
            # Only the bindings stay (they name the model): the turn's session, slots and
            # replies are not kept alive by the machine.
            vars(model).clear()
            vars(model).update(bound)
            idle.append((model, bound))
