"""What a turn takes over from the conversation: the aspects asked before, and who it is
about when the message only implies it.

Split from `dialogs.dialogue` (the dialogue state); pure over the frame, the saved context
and the vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import replace

from knowledge.frame import Frame, FrameReader
from knowledge.schema import Understanding

_BARE = re.compile(r"[\s，,。.？?！!~～…]+")  # what is left of "现在怎么办？" to compare


def asks_what_now(surface: str, what_now: Collection[str]) -> bool:
    """A bare "咋办", "现在怎么办？" after an answer: its subject still."""
    return _BARE.sub("", surface) in what_now


def inherited_aspects(
    frame: Frame,
    ctx: Mapping[str, object],
    leans: bool,
    named: str | None,
    what_now: bool = False,
) -> tuple[tuple[str, ...], bool]:
    """The frame's aspects; none of its own in a message that leans on the one before
    ("关系证明带原件就够了吧" after a question on materials) means the last ones, as does
    a bare "咋办" (its 办 says no aspect of its own)."""
    old = tuple(a for a in str(ctx.get("aspects") or "").split(",") if a)
    if what_now and old:
        return old, True
    if not frame.aspects and old and (leans or frame.populations or named):
        return old, True
    # "那现在还能用吗" about the app just described: a bare "能…吗" follow-up that states
    # nothing new asks about the same thing, not about eligibility in general.
    if frame.by_ability and frame.followup and old and not frame.populations and not named:
        return old, True
    if len(frame.aspects) > 1 and old and old[0] in frame.aspects[1:] and frame.yes_no:
        # "公示结束了才发现，还能提吗" after the objection: the aspect being discussed,
        # which the message also says, before the one its context clause says.
        kept = (old[0], *(a for a in frame.aspects if a != old[0]))
        return kept, False
    return frame.aspects, False


def with_note(reader: FrameReader, groups: Mapping[str, str], frame: Frame, note: str) -> Frame:
    """The frame with the populations a note says in place of those of their groups
    ("今年转去北京上学了": who studies away, whatever was said before)."""
    said = reader.read(note).populations
    replaced = {groups[p] for p in said}
    kept = {p for p in frame.populations if groups[p] not in replaced}
    return replace(frame, populations=frozenset(kept | said))


def only_implied(
    vocab: Understanding,
    groups: Mapping[str, str],
    pops: set[str],
    old: set[str],
    surface: str,
    relative: str | None,
) -> set[str]:
    """Who a word only implies ("出生一件事": a Tianjin-hukou baby) yields to who the
    conversation said ("外地户口宝宝在天津出生" → "能用出生一件事吗" is still 外地)."""
    compact = surface.replace(" ", "")
    implied = {n for w, n in vocab.implied_populations.items() if w in compact}
    return {
        p
        for p in pops & implied
        if p != relative
        and not any(w in compact for w in vocab.populations[p].words)
        and any(groups.get(o) == groups[p] and o != p for o in old)
    }
