"""A flow's models are bound by `add_model` once and reused: nothing of a turn stays on the
model, and turns running one inside another get models of their own."""

from __future__ import annotations

from datetime import date

from dialogs.engine import Engine
from dialogs.flows.machine import GuidedFlow
from dialogs.session import Session

TODAY = date(2026, 3, 1)


def _flow(engine: Engine) -> GuidedFlow:
    flow = engine.flows["tianjin"]
    assert isinstance(flow, GuidedFlow)
    return flow


def test_a_reused_model_carries_only_the_machines_bindings(engine: Engine) -> None:
    flow = _flow(engine)
    first = Session(chat_id="a", flow="tianjin", state="permit")
    with flow.attached(first, TODAY) as model:
        assert model.session is first and model.state == "permit"
        assert model.is_permit() and flow.machine.models == [model]  # type: ignore[attr-defined]
        kept = model
    assert flow.machine.models == []
    assert "session" not in vars(kept) and "out" not in vars(kept)  # the turn let go
    second = Session(chat_id="b", flow="tianjin")
    with flow.attached(second, TODAY) as model:
        assert model is kept  # bound once, reused
        assert model.session is second and model.out == [] and model.is_hukou()  # type: ignore[attr-defined]
    assert second.state == "hukou"


def test_nested_turns_get_models_bound_to_themselves(engine: Engine) -> None:
    flow = _flow(engine)
    outer_session = Session(chat_id="a", flow="tianjin", state="permit")
    inner_session = Session(chat_id="b", flow="tianjin", state="birth")
    with flow.attached(outer_session, TODAY) as outer:
        with flow.attached(inner_session, TODAY) as inner:
            assert inner is not outer and inner.is_birth() and outer.is_permit()  # type: ignore[attr-defined]
        assert outer.session is outer_session
    for session in (inner_session, outer_session):
        with flow.attached(session, TODAY) as model:
            assert getattr(model, f"is_{session.state}")()
            assert model.session is session
    assert flow.machine.models == []
