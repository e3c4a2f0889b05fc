"""The button protocol: what a pressed button (or a WeChat menu click) tells the engine.

Telegram carries at most 64 bytes of callback data per button and gives them back verbatim,
so a button says what it does in a short packed form: `<kind>:<arg>[:<arg>…]`. Every edge,
flow and the engine build and read callbacks here, never by string formatting of their own:
one place checks the size limit, and renaming a kind cannot leave a reader behind.

Kinds:
- `m:<menu>` a menu, `e:<entry>` an entry, `f:<flow>` start a flow, `c:<city>` a city chosen;
- `s:<flow>:<state>:<value>` a flow step's answer (stale once the flow moved on);
- `k:cont` / `k:stop` continue or leave an interrupted flow;
- `x:back`, `x:restart`, `x:forget:yes|no` navigation and the erasure prompt;
- `n:<notice>` a notice without a typed text (WeChat: an image or voice message).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MAX_BYTES = 64  # Telegram's limit on callback_data
SEP = ":"


class Kind(StrEnum):
    MENU = "m"
    ENTRY = "e"
    FLOW = "f"
    STEP = "s"
    CITY = "c"
    FLOW_CONTROL = "k"
    ACTION = "x"
    NOTICE = "n"


# Buttons that move a conversation on: an edge retires their keyboard once pressed, so the
# same choice cannot be made twice. Menu and entry buttons never go stale.
RETIRED_ON_PRESS = frozenset({Kind.FLOW, Kind.STEP, Kind.FLOW_CONTROL, Kind.ACTION, Kind.CITY})


@dataclass(frozen=True, slots=True)
class Callback:
    kind: Kind
    args: tuple[str, ...] = ()

    @property
    def target(self) -> str:
        """The first argument (the menu, entry, flow, city …), or "" for none."""
        return self.args[0] if self.args else ""

    def pack(self) -> str:
        """The callback data; ValueError when it would exceed Telegram's 64 bytes or an
        argument holds the separator (it could not be read back)."""
        if any(SEP in a or not a for a in self.args):
            raise ValueError(f"callback argument empty or with {SEP!r}: {self.args}")
        data = SEP.join((self.kind.value, *self.args))
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data}")
        return data

    @classmethod
    def unpack(cls, data: str | None) -> Callback | None:
        """The callback a button sent; None for data no button of ours produces."""
        if not data or len(data.encode()) > MAX_BYTES:
            return None
        head, _, rest = data.partition(SEP)
        try:
            kind = Kind(head)
        except ValueError:
            return None
        return cls(kind, tuple(rest.split(SEP)) if rest else ())

    def is_(self, kind: Kind, *args: str) -> bool:
        """Of `kind`, its arguments starting with `args`: x:forget:yes is_(ACTION, "forget")."""
        return self.kind is kind and self.args[: len(args)] == args


def menu(menu_id: str) -> str:
    return Callback(Kind.MENU, (menu_id,)).pack()


def entry(entry_id: str) -> str:
    return Callback(Kind.ENTRY, (entry_id,)).pack()


def flow(name: str) -> str:
    return Callback(Kind.FLOW, (name,)).pack()


def city(city_id: str) -> str:
    return Callback(Kind.CITY, (city_id,)).pack()


def step(flow_name: str, state: str, value: str) -> str:
    return Callback(Kind.STEP, (flow_name, state, value)).pack()


def control(word: str) -> str:
    """`k:cont` or `k:stop`."""
    return Callback(Kind.FLOW_CONTROL, (word,)).pack()


def action(*args: str) -> str:
    """`x:back`, `x:restart`, `x:forget:yes` …"""
    return Callback(Kind.ACTION, args).pack()


def notice(key: str) -> str:
    return Callback(Kind.NOTICE, (key,)).pack()


def from_action(data_action: str) -> str:
    """A knowledge-file action (`entry:<id>`, `menu:<id>`, `flow:<name>`) as callback data."""
    kind, _, target = data_action.partition(":")
    maker = {"entry": entry, "menu": menu, "flow": flow}[kind]
    return maker(target)
