"""The contract between the engine and a guided flow."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, runtime_checkable

from dialogs.session import Session
from dialogs.types import Incoming, Reply


@dataclass
class FlowResult:
    replies: list[Reply] = field(default_factory=list)


class Flow(Protocol):
    """A guided dialog. It reads and writes only `session.state` and `session.slots`.

    `step` returns None when the input is not an answer to the current question, so the
    engine can treat it as a digression (answer the FAQ, then offer to continue).
    """

    name: str

    def states(self) -> frozenset[str]: ...

    def start(self, session: Session, today: date, text: str | None = None) -> list[Reply]: ...

    def step(self, session: Session, incoming: Incoming, today: date) -> FlowResult | None: ...

    def resume(self, session: Session, today: date) -> list[Reply]: ...

    def back(self, session: Session, today: date) -> list[Reply]: ...


@runtime_checkable
class WantsText(Protocol):
    """Optional hook: a flow that recognises a free-text request for itself.

    `wants` is asked for a message outside any flow (or a digression from another flow);
    when it says yes the engine starts the flow with the text, so the facts the message
    states fill their slots and only the missing ones are asked.
    """

    def wants(self, text: str, session: Session, today: date) -> bool: ...


@runtime_checkable
class DatedNotes(Protocol):
    """Optional hook: notes that depend on today's date, named so FAQ entries can ask for them.

    An entry with `dated: <name>` gets the note appended, e.g. the Suzhou application window
    answered with "today is inside the window, N days left" — the same rule and wording the
    flow itself uses, so the FAQ and the flow never disagree.
    """

    def dated_notes(self) -> Mapping[str, Callable[[date, date | None], str]]:
        """name -> note(today, when): `when` is a day the parent asks about ("后天呢")."""
        ...


@runtime_checkable
class BirthDeadline(Protocol):
    """Optional hook: the verdict of a birth-date rule (Tianjin's 90 days) for free text,
    in the flow's own words: as of today, or as of `when` ("要是下周才去办呢")."""

    def deadline_text(self, birth: date, today: date, when: date | None) -> str: ...


@runtime_checkable
class Judges(Protocol):
    """Optional hook: the flow's verdict when the facts in `text` alone decide it (a failed
    condition), without starting the flow: one of several children's cases ("老大在昆山上
    小学" fails the district condition); None when they do not decide it."""

    def judge(self, text: str, session: Session, today: date) -> Reply | None: ...

    def met(self, text: str, said: Sequence[str], session: Session, today: date) -> Reply | None:
        """The conditions the last message's facts meet ("初三" after "对年级有要求吗"), and
        those still to check after everything `said` before it; None when it states none
        or one fails (that is `judge`'s)."""
        ...


@runtime_checkable
class Reopens(Protocol):
    """Optional hook: "返回" after the flow ended on a verdict one can step back from
    (`Session.ended`) reopens it one step back with the answers kept; None if not ours."""

    def reopen(self, session: Session, today: date) -> list[Reply] | None: ...


@runtime_checkable
class Amends(Protocol):
    """Optional hook: take facts a correction restates ("哦不对 是10月3日") while another
    question is open, replaying the flow from the step they decide."""

    def amend(
        self, session: Session, found: Mapping[str, str], today: date
    ) -> FlowResult | None: ...
