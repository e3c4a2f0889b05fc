"""Which dated entry a question about a day asks: the application window, the 核定表, the
school's procedure — each city's entries with a dated note (`Entry.dated`) compute that
day's verdict.

Split from `dialogs.choosing` (which entries answer a turn); pure over the knowledge base.
"""

from __future__ import annotations

from dialogs.dialogue import Turn, said
from dialogs.session import Session
from knowledge.loader import KnowledgeBase
from knowledge.schema import Entry

# Aspects of a bare "现在还能办吗": they name no errand of their own.
GENERIC_ASPECTS = frozenset({"time", "deadline", "eligibility"})
LONG_KEYWORD = 3  # a keyword this long names its errand ("入医手续", "核定表")


class DatedEntries:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._by_city: dict[str | None, list[Entry]] = {}  # the KB is fixed: listed once
        for entry in kb.entries.values():
            if entry.dated:
                self._by_city.setdefault(entry.city, []).append(entry)

    def pick(self, turn: Turn, session: Session) -> str | None:
        """The dated entry a turn asks about: the errand described just before, else the
        one for the turn's aspect when a day is asked about."""
        if turn.city is None:
            return None
        if turn.when is not None or turn.frame.aspects:
            errand = self.errand_before(turn, session)
            if errand is not None:
                return errand
        return self.for_aspect(turn) if turn.when is not None else None

    def _dated(self, city: str | None) -> list[Entry]:
        return self._by_city.get(city, [])

    def errand_before(self, turn: Turn, session: Session) -> str | None:
        """ "现在还能办吗" after "核定表也打了，但还没去学校办入医手续": the errand the
        parent described last, when this message names none - the dated entry whose long
        keyword the message before says last."""
        if not turn.frame.yes_no and turn.when is None:
            return None
        dated = self._dated(turn.city)
        if set(turn.frame.aspects) - GENERIC_ASPECTS or any(
            _says(e, turn.frame.text) >= 0 for e in dated
        ):
            return None
        before = said(session)
        if not before:
            return None
        best = max(((_says(e, before[-1]), e.id) for e in dated), default=(-1, ""))
        return best[1] if best[0] >= 0 else None

    def for_aspect(self, turn: Turn) -> str | None:
        """The city's entry with a dated note for the turn's aspect (its main aspect first,
        then any of its aspects), else its "time" one."""
        dated = self._dated(turn.city)
        # "入学指标是9月30号之前定的吧": a day said of a thing with no dated note of its own
        # is not a day to apply; the window's note answers only time-like questions.
        fallback = () if set(turn.frame.aspects) - GENERIC_ASPECTS else ("time",)
        for aspect in (*turn.aspects, *fallback):
            for entry in dated:
                if entry.aspects[0] == aspect:
                    return entry.id
            if aspect != "time":  # "现在还能办吗" after "学校那边的入医手续没去办" (late)
                for entry in dated:
                    if aspect in entry.aspects:
                        return entry.id
        return None


def _says(entry: Entry, text: str) -> int:
    """Where the text last says one of the entry's long keywords (-1: nowhere)."""
    at = [text.rfind(k) + len(k) for k in entry.keywords if len(k) >= LONG_KEYWORD and k in text]
    return max(at, default=-1)
