"""The button protocol (dialogs/callbacks.py): pack and unpack round-trip, the 64-byte limit,
and every button the engine shows reads back as a callback it understands."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs import callbacks as cb
from dialogs.callbacks import MAX_BYTES, Callback, Kind
from dialogs.outcomes import Outcome, outcome_of

ARG = st.text(
    alphabet=st.characters(blacklist_characters=":", blacklist_categories=["Cs"]), min_size=1
)


@given(kind=st.sampled_from(list(Kind)), args=st.lists(ARG, min_size=1, max_size=3))
def test_pack_and_unpack_round_trip_or_refuse(kind: Kind, args: list[str]) -> None:
    callback = Callback(kind, tuple(args))
    try:
        data = callback.pack()
    except ValueError:
        assert len(":".join((kind.value, *args)).encode()) > MAX_BYTES
        return
    assert len(data.encode()) <= MAX_BYTES
    assert Callback.unpack(data) == callback


@pytest.mark.parametrize("data", ["", "zz:1", "nothing", "e" * 80, None])
def test_data_no_button_of_ours_sends_is_none(data: str | None) -> None:
    assert Callback.unpack(data) is None


def test_the_builders_and_the_limit() -> None:
    assert cb.step("tianjin", "hukou", "local") == "s:tianjin:hukou:local"
    assert Callback.unpack(cb.action("forget", "yes")) == Callback(Kind.ACTION, ("forget", "yes"))
    assert cb.from_action("flow:suzhou") == "f:suzhou"
    with pytest.raises(ValueError, match="64 bytes"):
        cb.entry("长" * 30)
    with pytest.raises(ValueError, match="':'"):
        Callback(Kind.STEP, ("a:b", "c")).pack()


async def test_every_button_the_engine_shows_is_understood() -> None:
    """Walk every menu, entry and flow start the engine offers: each button unpacks to a
    known kind, and a menu, entry, flow or city button never gets the stale-button answer."""
    from bot.wiring import build_engine
    from dialogs.types import Incoming

    engine = build_engine("memory://")
    seen: set[str] = set()
    queue = [
        b.callback
        for r in await engine.handle(1, Incoming(text="/start"))
        for row in r.buttons
        for b in row
    ]
    chat = 10
    while queue and len(seen) < 300:
        data = queue.pop()
        if data in seen:
            continue
        seen.add(data)
        pressed = Callback.unpack(data)
        assert pressed is not None, data
        if pressed.kind not in (Kind.MENU, Kind.ENTRY, Kind.FLOW, Kind.CITY):
            continue  # a step or navigation button means something only in its own chat
        chat += 1
        replies = await engine.handle(chat, Incoming(callback=data))
        assert all(outcome_of(r.state) is not Outcome.STALE for r in replies), data
        queue += [b.callback for r in replies for row in r.buttons for b in row]
    assert len(seen) > 20
