"""Whose 户籍 a message states, relative to the conversation's city: "天津户口" is local in
Tianjin and non-local in Suzhou; "不是天津户口" the reverse; "户口落天津了" too.

Split from `dialogs.dialogue` (the dialogue state); pure over the vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from knowledge.schema import Understanding


class RelativeHukou:
    def __init__(
        self, vocab: Understanding, cities: Sequence[str], names: Mapping[str, list[str]]
    ) -> None:
        self.vocab = vocab
        self.cities = cities  # the covered cities
        self._names = names  # city -> its names

    def read(self, surface: str, city: str | None) -> str | None:
        """ "天津户口" is local in Tianjin and non-local in Suzhou ("不是天津户口": the reverse)."""
        compact = surface.replace(" ", "")
        found = None
        if not any(h in compact for h in self.vocab.hukou_words) and not any(
            lead in compact for lead in self.vocab.hukou_before_city
        ):
            return None  # most messages name no 户籍 at all
        for c in self.cities:
            for name in (n for n in self._names.get(c, []) if len(n) >= 2):
                for h in self.vocab.hukou_words:
                    at = compact.find(name + h)
                    if at < 0:
                        continue
                    negated = any(compact.endswith(n, 0, at) for n in self.vocab.negations)
                    found = "local" if (city == c) != negated else "nonlocal"
                # "户口落天津了", "落户在天津": the 户籍 said before the city's name.
                for lead in self.vocab.hukou_before_city:
                    at = compact.find(lead + name)
                    if at >= 0:
                        negated = any(compact.endswith(n, 0, at) for n in self.vocab.negations)
                        found = "local" if (city == c) != negated else "nonlocal"
        return found
