"""Pointing at one numbered item of the answer just given: "第二步是啥", "第三条呢", "最后一步",
and "然后呢" after an item ("津心办登录后第一步点哪" → step 1 … "然后呢" → step 2).

The items are the answer's own numbered lines (`numbered_items`); an item the answer does
not have is never made up (the turn goes on as any other). The item last asked about is kept
in `session.context["item"]` for one turn; so is the item a parent says they have done
("人脸核验做完了" names step 2 of the answer given, so "然后呢" is step 3).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from difflib import SequenceMatcher

from dialogs import outcomes
from dialogs.dialogue import Turn
from dialogs.outcomes import Outcome
from dialogs.rules.dates import cn_int
from dialogs.session import Session
from dialogs.types import Reply
from knowledge.loader import KnowledgeBase
from knowledge.schema import Entry, Understanding

ItemOf = Callable[[Session, str, int], Reply | None]
MAX_ITEMS = 20  # more numbered items than any answer has
MIN_SHARED = 3  # characters a done step must share with its item ("人脸核验", not "办理")
MIN_ASKED = 4  # ... and a step asked about ("人脸核验", not "津心办", which the whole names)
# The step goes on after the part said done ("阅览完办理须知后点击确认，先进行…").
_CLAUSE_AFTER = re.compile(r"^[^，,；;。]{0,2}(?:之后|以后|后)[，,]?[^，,；;。（(]{2,}")
_NUMBERED = re.compile(r"^\s*(\d{1,2})[.、．]\s*(.+)$", re.MULTILINE)


def numbered_items(answer: str) -> dict[int, str]:
    """An answer's numbered lines by number ("1. …" → {1: "…"})."""
    return {int(m.group(1)): m.group(2).strip() for m in _NUMBERED.finditer(answer)}


class ItemPointer:
    def __init__(self, vocab: Understanding) -> None:
        """The vocabulary's `ordinal_units` (the words after 第N: 步, 条, 项 …), `done_words`
        (a step said as done: "做完了") and `then_words` (what follows asked: "以后呢")."""
        self._done = tuple(vocab.done_words)
        self._then = tuple(vocab.then_words)
        alternation = "|".join(re.escape(u) for u in vocab.ordinal_units) or "(?!)"
        self._pattern = re.compile(f"第([0-9一二两三四五六七八九十]{{1,3}})(?:{alternation})")
        self._last = re.compile(f"最后(?:一|1)?(?:{alternation})")

    def ordinal(self, text: str) -> int | None:
        """N of "第N步/条/项" in `text`, else None."""
        found = self._pattern.search(text.replace(" ", ""))
        return cn_int(found.group(1)) if found else None

    def item(
        self, session: Session, turn: Turn, item_of: ItemOf, kb: KnowledgeBase
    ) -> Reply | None:
        """The item the turn points at, or None. A message that asks something else too
        ("第二步要带什么材料") is not pointing: it is answered as a question."""
        asked = session.context.pop("item", None)
        number = self.ordinal(turn.frame.text)
        if number is not None:
            session.context["item"] = number
        last = session.last_entry
        if last is None:
            return None
        if number is None and self._last.search(turn.frame.text.replace(" ", "")):
            return self._last_item(session, last, item_of)
        if number is None and turn.frame.next_step and isinstance(asked, int):
            number = asked + 1
        elif number is None and any(w in turn.frame.text for w in self._then):
            # "填完信息以后呢" after the steps: the page says nothing after its last step
            # (a shared "信息" is enough when no other step shares as much).
            entry = kb.entries.get(last)
            done = self._said_done(turn.frame.text, entry, 2) if entry else None
            if entry is None or done is None or done + 1 in numbered_items(entry.answer):
                return None
            return Reply(text=kb.text("next_none"), state=outcomes.state(Outcome.ABSTAIN))
        elif number is None or set(turn.frame.aspects) - {"steps"}:
            return None
        reply = item_of(session, last, number)
        if reply is not None:
            session.context["item"] = number
        return reply

    def done(self, session: Session, text: str, replies: list[Reply], kb: KnowledgeBase) -> None:
        """Keep the item of the answer just given that a message says is done, or asks about
        by its own words ("人脸核验是谁来做": "然后呢" is the step after it)."""
        entry = kb.entries.get(str(replies[-1].entry)) if replies else None
        if entry is None:
            return
        said_done = any(w in text for w in self._done)
        number = self._said_done(text, entry, MIN_SHARED if said_done else MIN_ASKED)
        if number is not None:
            session.context["item"] = number

    def _said_done(self, text: str, entry: Entry, least: int = MIN_SHARED) -> int | None:
        """The item of a steps answer a message says is done: the one sharing the longest
        stretch of words with it, when no other shares as much; one less when the message
        names only the first half of that step ("看完办理须知以后": the rest of step 2)."""
        for word in self._done:
            text = text.replace(word, "|")
        items = numbered_items(entry.answer)
        shared = {n: _shared(text, item) for n, item in items.items()}
        best = max((size for size, _, _ in shared.values()), default=0)
        ties = [n for n, (size, _, _) in shared.items() if size == best]
        if len(ties) > 1:  # "填完信息": 信息 in two steps, 填 and 信息 in one
            most = max(shared[n][2] for n in ties)
            ties = [n for n in ties if shared[n][2] == most]
        if best < least or len(ties) != 1:
            return None
        number = ties[0]
        rest = _CLAUSE_AFTER.match(items[number][shared[number][1] :])
        return number - 1 if rest else number

    def asks_last(self, turn: Turn) -> bool:
        return self._last.search(turn.frame.text.replace(" ", "")) is not None

    def _last_item(self, session: Session, last: str, item_of: ItemOf) -> Reply | None:
        """ "最后一步": the answer's last numbered item (if it has numbered items)."""
        for number in range(MAX_ITEMS, 0, -1):
            reply = item_of(session, last, number)
            if reply is not None:
                session.context["item"] = number
                return reply
        return None


def _shared(text: str, item: str) -> tuple[int, int, int]:
    """Characters of the longest stretch `text` and `item` have in common, where the latest
    of the stretches long enough to count ends in `item` ("办理须知看完了，人脸核验也弄好了":
    after 人脸核验), and all the characters they share in order."""
    match = SequenceMatcher(None, text, item, autojunk=False)
    found = match.find_longest_match(0, len(text), 0, len(item))
    blocks = match.get_matching_blocks()
    pieces = [text[b.a : b.a + b.size] for b in blocks if b.size >= MIN_SHARED]
    ends = [item.rfind(piece) + len(piece) for piece in pieces]
    return found.size, max(ends, default=found.b + found.size), sum(b.size for b in blocks)


def beside(kb: KnowledgeBase, entry_id: str, after: bool) -> str | None:
    """The step after an answer (its entry's `next`), or the one before it: the first entry,
    in the page's order, whose `next` it is ("在那之前呢")."""
    if after:
        return kb.entries[entry_id].next
    return next((e.id for e in kb.entries.values() if e.next == entry_id), None)


def last_step(kb: KnowledgeBase, entry_id: str) -> str:
    """ "最后一步是什么" after an answer with no numbered items: the end of the process it
    belongs to (its `next` chain), or the answer itself when it is the end."""
    seen = {entry_id}
    while (following := kb.entries[entry_id].next) is not None and following not in seen:
        seen.add(following)
        entry_id = following
    return entry_id
