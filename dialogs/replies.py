"""What the engine says, worded from the knowledge files: an entry with its footer, related
buttons and dated note, a menu, the prompts, and a keyword matcher's verdict rendered.

Rendering an entry also moves the conversation on (`session.city`, `topic`, `last_entry` and
the aspect answered), since what was just said is what a follow-up leans on.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date

from dialogs import callbacks as cb
from dialogs import outcomes
from dialogs.items import numbered_items
from dialogs.outcomes import Outcome
from dialogs.session import Session
from dialogs.stores.records import redact
from dialogs.types import Button, Reply
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Match
from knowledge.schema import Entry, Menu

# "1. 用新生儿妈妈的身份信息登录…": a numbered item of an answer, one per line.

MAX_RELATED_BUTTONS = 3
Note = Callable[[date, date | None], str]


class Replies:
    def __init__(
        self,
        kb: KnowledgeBase,
        notes: Mapping[str, Note],
        cities: tuple[str, ...],
        city_names: Mapping[str, str] | None = None,
    ) -> None:
        self.kb = kb
        self.notes = notes  # dated notes by name, from the flows (DatedNotes)
        self.cities = cities
        # city id -> the first name people use for it ("上海"), for "上海的不在页面里".
        self.city_name: dict[str, str] = {}
        for name, city in (city_names or {}).items():
            self.city_name.setdefault(city, name)
        self._menu_rows: dict[str, tuple[Menu, tuple[tuple[Button, ...], ...]]] = {}

    def match(self, session: Session, text: str, match: Match, today: date) -> list[Reply]:
        """Replies for a matcher verdict, each carrying its confidence for the turn records."""
        replies = self._verdict(session, text, match, today)
        return [replace(r, confidence=match.confidence) for r in replies]

    def _verdict(self, session: Session, text: str, match: Match, today: date) -> list[Reply]:
        if match.kind == "answer" and match.entry_id in self.kb.entries:
            return [self.entry(session, match.entry_id, today)]
        if match.kind == "clarify_city":
            if not session.flow:
                # Kept only until the city is chosen; ids, phones and dates masked meanwhile.
                session.slots["pending_q"] = redact(text[:200])
            rows = (tuple(Button(self.kb.text(f"city_{c}"), cb.city(c)) for c in self.cities),)
            return [
                Reply(
                    text=self._clarify_text(session),
                    buttons=rows,
                    state=outcomes.state(Outcome.CLARIFY),
                )
            ]
        if match.kind == "out_of_scope" and match.entry_id in self.kb.out_of_scope:
            oos = self.kb.out_of_scope[match.entry_id]
            offers = oos.offer or list(match.suggestions)
            return [Reply(text=oos.answer, buttons=self.entry_buttons(offers), entry=oos.id)]
        body = self.kb.text("not_covered")
        if match.suggestions:
            body += "\n" + self.kb.text("suggestions")
        buttons = (
            *self.entry_buttons(list(match.suggestions)[:3]),
            (Button(self.kb.text("main_menu"), cb.menu("main")),),
        )
        return [Reply(text=body, buttons=buttons, state=outcomes.state(Outcome.UNANSWERED))]

    def _clarify_text(self, session: Session) -> str:
        """Which city? - after "我们在上海", first that the pages do not cover 上海: the
        question that follows is as likely about the place just named as about either page."""
        away = self.city_name.get(str(session.context.get("away") or ""))
        ask = self.kb.text("clarify_city")
        return ask if away is None else f"{self.kb.text('clarify_city_away', city=away)}\n{ask}"

    def entry(
        self,
        session: Session,
        entry_id: str,
        today: date,
        when: date | None = None,
        note_first: bool = False,
    ) -> Reply:
        entry = self.kb.entries[entry_id]
        if entry.city in self.cities:
            session.city = entry.city
        session.topic = entry.topic
        session.last_entry = entry.id
        session.context["aspects"] = entry.aspects[0]
        footer = self._footer(entry)
        buttons = self.entry_buttons(entry.related[:MAX_RELATED_BUTTONS])
        note = self._dated_note(entry.dated, today, when) if entry.dated else None
        if note and note_first:
            body = f"{note}\n\n{entry.answer}"
        else:
            body = f"{entry.answer}\n\n{note}" if note else entry.answer
        return Reply(
            title=entry.title,
            text=f"{body}\n\n{footer}",
            buttons=buttons,
            entry=entry.id,
        )

    def _footer(self, entry: Entry) -> str:
        source = self.kb.sources.get(entry.source.file)
        title = source.title if source else entry.source.file
        section = entry.source.section
        return self.kb.text(
            # "来源：X（X）" says the title twice: a section that is the page is left out.
            "footer_page" if section.strip() in ("", title) else "footer",
            source_title=title,
            section=section,
            applies_to=entry.applies_to,
        )

    def entry_item(self, entry_id: str, number: int) -> Reply | None:
        """Item `number` of an entry's numbered list ("第二步是啥" after the steps), with the
        entry's footer; None when the answer has no such item."""
        entry = self.kb.entries[entry_id]
        items = numbered_items(entry.answer)
        if number not in items:
            return None
        text = self.kb.text("entry_item", title=entry.title, n=number, item=items[number])
        return Reply(title=entry.title, text=f"{text}\n\n{self._footer(entry)}", entry=entry.id)

    def _dated_note(self, name: str, today: date, when: date | None = None) -> str | None:
        """The note named `name` for today (or for the day asked about, `when`), from
        whichever flow provides it (None if none does)."""
        note = self.notes.get(name)
        return note(today, when) if note is not None else None

    def entry_buttons(self, ids: list[str]) -> tuple[tuple[Button, ...], ...]:
        return tuple(
            (Button(self.kb.entries[i].title, cb.entry(i)),) for i in ids if i in self.kb.entries
        )

    def menu(self, menu_id: str, prefix: str | None = None) -> Reply:
        menu = self.kb.menus[menu_id]
        text = f"{prefix}\n\n{menu.text}" if prefix else menu.text
        return Reply(
            text=text,
            buttons=self._rows(menu_id, menu),
            state=outcomes.state(Outcome.MENU, menu_id),
        )

    def _rows(self, menu_id: str, menu: Menu) -> tuple[tuple[Button, ...], ...]:
        """The menu's buttons, built once per menu of the knowledge (the main menu took 32 µs,
        on every turn that shows it); a reloaded knowledge's menu is a new one, built anew."""
        kept = self._menu_rows.get(menu_id)
        if kept is None or kept[0] is not menu:
            rows = tuple(
                tuple(Button(b.label, cb.from_action(b.action)) for b in row)
                for row in menu.buttons
            )
            kept = self._menu_rows[menu_id] = (menu, rows)
        return kept[1]

    def continue_prompt(self) -> Reply:
        return Reply(
            text=self.kb.text("continue_flow"),
            buttons=(
                (
                    Button(self.kb.text("continue_yes"), cb.control("cont")),
                    Button(self.kb.text("continue_no"), cb.control("stop")),
                ),
            ),
        )

    def forget_prompt(self, session: Session) -> Reply:
        """The confirmation, whose button carries a fresh one-time nonce kept in the session."""
        session.forget_nonce = secrets.token_urlsafe(6)
        return Reply(
            text=self.kb.text("forget_confirm"),
            buttons=(
                (
                    Button(
                        self.kb.text("forget_yes"),
                        cb.action("forget", "yes", session.forget_nonce),
                    ),
                    Button(self.kb.text("forget_no"), cb.action("forget", "no")),
                ),
            ),
        )

    def about(self) -> str:
        lines = "\n".join(
            self.kb.text("about_line", title=s.title, published=s.published)
            for s in self.kb.sources.values()
        )
        return self.kb.text("about", sources=lines)
